//! The resource-kind registry: one row per kind of AWS resource Tripline names in a finding, with every fact
//! about it in one place: its CloudFormation type, the service (CloudTrail `eventSource`) whose calls name
//! it, the request/response fields that name it (in precedence order), its ARN template and its console
//! page. Intake derives a call's resources from it, rules build ARNs with [`arn`], findings take their
//! console link from [`console_url`]; the partition and account helpers live here too.
//!
//! ARN formats follow the Service Authorization Reference ("Resource types defined by ..." for each
//! service, <https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html>).
//!
//! Adding a kind is one row in [`KINDS`]; `shared/core/tests/rules_meta.rs` fails when a rule raises a
//! finding on a kind without a row or without a console page.

/// Where a field naming a resource is read from: a path of object keys in `requestParameters` or
/// `responseElements`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Request(&'static [&'static str]),
    Response(&'static [&'static str]),
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// An ARN.
    Arn,
    /// The kind's identifier (or an ARN): a name goes into the kind's ARN template.
    Id,
    /// A name (or an ARN) from which no ARN can be built (a random suffix or an id the record lacks).
    NameOnly,
    /// An SQS queue URL `https://sqs.{region}.amazonaws.com/{account}/{name}`.
    QueueUrl,
}

/// A field of a CloudTrail call that names a resource of the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedBy {
    pub field: Field,
    pub holds: Holds,
}

/// One kind of resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The CloudFormation / AWS Config resource type, e.g. `AWS::S3::Bucket`.
    pub resource_type: &'static str,
    /// The CloudTrail `eventSource` of the calls that name it; `""` when no call names it by a field.
    pub service: &'static str,
    /// The fields that name it, in precedence order (across a service's kinds, [`KINDS`] order decides).
    pub named_by: &'static [NamedBy],
    /// The ARN template: `{p}` partition, `{r}` region, `{a}` account, `{v}` the identifier. `None` when
    /// AWS defines no ARN built from a name.
    pub arn: Option<&'static str>,
    /// The console page: `{r}` region, `{name}` the name percent-encoded, `{name_raw}` as is, `{arn}`,
    /// `{arn_enc}` the ARN percent-encoded, `{bucket}` / `{key}` (S3 objects, from the ARN), all encoded.
    /// `None` for kinds without a useful page.
    pub console: Option<&'static str>,
}

const fn req(path: &'static [&'static str], holds: Holds) -> NamedBy {
    NamedBy {
        field: Field::Request(path),
        holds,
    }
}

const fn resp(path: &'static [&'static str], holds: Holds) -> NamedBy {
    NamedBy {
        field: Field::Response(path),
        holds,
    }
}

const fn kind(
    resource_type: &'static str,
    service: &'static str,
    named_by: &'static [NamedBy],
    arn: Option<&'static str>,
    console: Option<&'static str>,
) -> Kind {
    Kind {
        resource_type,
        service,
        named_by,
        arn,
        console,
    }
}

use Holds::{Arn, Id, NameOnly, QueueUrl};

const S3: &str = "s3.amazonaws.com";
const IAM: &str = "iam.amazonaws.com";

/// Every kind, one row each. Within a service the order is the precedence of the fields that name a call's
/// primary resource: for IAM the principal (role, user, group) before the managed policy attached to it.
#[rustfmt::skip]
pub const KINDS: &[Kind] = &[
    kind("AWS::S3::Bucket", S3, &[req(&["bucketName"], Id)], Some("arn:{p}:s3:::{v}"),
        Some("https://s3.console.aws.amazon.com/s3/buckets/{name}?region={r}&tab=permissions")),
    kind("AWS::S3::Object", "", &[], Some("arn:{p}:s3:::{v}"),
        Some("https://s3.console.aws.amazon.com/s3/object/{bucket}?region={r}&prefix={key}")),
    // Not an ARN AWS defines: the stable identity Tripline has always given the account-level setting.
    kind("AWS::S3::AccountPublicAccessBlock", "", &[], Some("arn:{p}:s3::{a}:account-public-access-block"),
        Some("https://s3.console.aws.amazon.com/s3/settings?region={r}")),
    kind("AWS::IAM::Role", IAM, &[resp(&["role", "arn"], Arn), req(&["roleName"], Id)], Some("arn:{p}:iam::{a}:role/{v}"),
        Some("https://console.aws.amazon.com/iam/home#/roles/details/{name}")),
    kind("AWS::IAM::User", IAM, &[resp(&["user", "arn"], Arn), req(&["userName"], Id)], Some("arn:{p}:iam::{a}:user/{v}"),
        Some("https://console.aws.amazon.com/iam/home#/users/details/{name}")),
    kind("AWS::IAM::Group", IAM, &[resp(&["group", "arn"], Arn), req(&["groupName"], Id)], Some("arn:{p}:iam::{a}:group/{v}"),
        Some("https://console.aws.amazon.com/iam/home#/groups/details/{name}")),
    kind("AWS::IAM::Policy", IAM, &[req(&["policyArn"], Arn), resp(&["policy", "arn"], Arn)], Some("arn:{p}:iam::{a}:policy/{v}"),
        Some("https://console.aws.amazon.com/iam/home#/policies/details/{arn_enc}")),
    kind("AWS::IAM::AccessKey", IAM, &[resp(&["accessKey", "accessKeyId"], NameOnly), req(&["accessKeyId"], NameOnly)], None,
        Some("https://console.aws.amazon.com/iam/home#/security_credentials")),
    kind("AWS::IAM::VirtualMFADevice", IAM, &[req(&["serialNumber"], NameOnly)], Some("arn:{p}:iam::{a}:mfa/{v}"),
        Some("https://console.aws.amazon.com/iam/home#/security_credentials")),
    kind("AWS::IAM::InstanceProfile", IAM, &[req(&["instanceProfileName"], Id)], Some("arn:{p}:iam::{a}:instance-profile/{v}"),
        Some("https://console.aws.amazon.com/iam/home#/roles")),
    kind("AWS::IAM::ManagedPolicy", "", &[], Some("arn:{p}:iam::{a}:policy/{v}"),
        Some("https://console.aws.amazon.com/iam/home#/policies/details/{arn_enc}")),
    kind("AWS::IAM::RootAccount", "", &[], Some("arn:{p}:iam::{a}:root"),
        Some("https://console.aws.amazon.com/iam/home#/security_credentials")),
    // Not an ARN AWS defines (the password policy is an account setting without one): the account's identity
    // for the setting, like the account-level Block Public Access row.
    kind("AWS::IAM::AccountPasswordPolicy", "", &[], Some("arn:{p}:iam::{a}:account-password-policy"),
        Some("https://console.aws.amazon.com/iam/home#/account_settings")),
    kind("AWS::CloudTrail::Trail", "cloudtrail.amazonaws.com", &[req(&["name"], Id), req(&["trailName"], Id)], Some("arn:{p}:cloudtrail:{r}:{a}:trail/{v}"),
        Some("https://{r}.console.aws.amazon.com/cloudtrail/home?region={r}#/trails")),
    kind("AWS::Config::ConfigurationRecorder", "config.amazonaws.com",
        &[req(&["configurationRecorderName"], NameOnly), req(&["configurationRecorder", "name"], NameOnly)],
        Some("arn:{p}:config:{r}:{a}:configuration-recorder/{v}"),
        Some("https://{r}.console.aws.amazon.com/config/home?region={r}#/dashboard")),
    kind("AWS::Config::DeliveryChannel", "config.amazonaws.com", &[req(&["deliveryChannelName"], NameOnly)],
        Some("arn:{p}:config:{r}:{a}:delivery-channel/{v}"),
        Some("https://{r}.console.aws.amazon.com/config/home?region={r}#/dashboard")),
    kind("AWS::Config::ConfigRule", "config.amazonaws.com", &[req(&["configRuleName"], NameOnly)], None,
        Some("https://{r}.console.aws.amazon.com/config/home?region={r}#/rules")),
    kind("AWS::EC2::SecurityGroup", "ec2.amazonaws.com",
        &[req(&["groupId"], Id), resp(&["groupId"], Id), req(&["groupName"], NameOnly)], Some("arn:{p}:ec2:{r}:{a}:security-group/{v}"),
        Some("https://{r}.console.aws.amazon.com/ec2/home?region={r}#SecurityGroup:groupId={name_raw}")),
    // Snapshot and image ARNs carry no account id.
    kind("AWS::EC2::Snapshot", "ec2.amazonaws.com", &[req(&["snapshotId"], Id)], Some("arn:{p}:ec2:{r}::snapshot/{v}"),
        Some("https://{r}.console.aws.amazon.com/ec2/home?region={r}#SnapshotDetails:snapshotId={name_raw}")),
    kind("AWS::EC2::Image", "ec2.amazonaws.com", &[req(&["imageId"], Id)], Some("arn:{p}:ec2:{r}::image/{v}"),
        Some("https://{r}.console.aws.amazon.com/ec2/home?region={r}#ImageDetails:imageId={name_raw}")),
    kind("AWS::EC2::Instance", "ec2.amazonaws.com", &[req(&["instanceId"], Id)], Some("arn:{p}:ec2:{r}:{a}:instance/{v}"),
        Some("https://{r}.console.aws.amazon.com/ec2/home?region={r}#InstanceDetails:instanceId={name_raw}")),
    kind("AWS::EC2::NetworkAcl", "ec2.amazonaws.com", &[req(&["networkAclId"], Id), resp(&["networkAcl", "networkAclId"], Id)],
        Some("arn:{p}:ec2:{r}:{a}:network-acl/{v}"),
        Some("https://{r}.console.aws.amazon.com/vpcconsole/home?region={r}#NetworkAclDetails:networkAclId={name_raw}")),
    // Not an ARN AWS defines: the stable identity Tripline has always given the per-region setting.
    kind("AWS::EC2::EBSDefaultEncryption", "", &[], Some("arn:{p}:ec2:{r}:{a}:ebs-default-encryption"),
        Some("https://{r}.console.aws.amazon.com/ec2/home?region={r}#Settings:tab=ebsEncryption")),
    kind("AWS::::Account", "", &[], None,
        Some("https://{r}.console.aws.amazon.com/ec2/home?region={r}#Settings:")),
    kind("AWS::Lambda::Function", "lambda.amazonaws.com", &[req(&["functionName"], Id)], Some("arn:{p}:lambda:{r}:{a}:function:{v}"),
        Some("https://{r}.console.aws.amazon.com/lambda/home?region={r}#/functions/{name}")),
    kind("AWS::Lambda::LayerVersion", "lambda.amazonaws.com", &[req(&["layerName"], Id)], Some("arn:{p}:lambda:{r}:{a}:layer:{v}"),
        Some("https://{r}.console.aws.amazon.com/lambda/home?region={r}#/layers/{name}")),
    kind("AWS::KMS::Key", "kms.amazonaws.com", &[resp(&["keyMetadata", "arn"], Arn), req(&["keyId"], Id)], Some("arn:{p}:kms:{r}:{a}:key/{v}"),
        Some("https://{r}.console.aws.amazon.com/kms/home?region={r}#/kms/keys/{name_raw}")),
    kind("AWS::SNS::Topic", "sns.amazonaws.com", &[req(&["topicArn"], Arn), resp(&["topicArn"], Arn)], Some("arn:{p}:sns:{r}:{a}:{v}"),
        Some("https://{r}.console.aws.amazon.com/sns/v3/home?region={r}#/topic/{arn}")),
    kind("AWS::SQS::Queue", "sqs.amazonaws.com", &[req(&["queueUrl"], QueueUrl), resp(&["queueUrl"], QueueUrl)], Some("arn:{p}:sqs:{r}:{a}:{v}"),
        Some("https://{r}.console.aws.amazon.com/sqs/v3/home?region={r}#/queues")),
    kind("AWS::ECR::Repository", "ecr.amazonaws.com", &[req(&["repositoryName"], Id)], Some("arn:{p}:ecr:{r}:{a}:repository/{v}"),
        Some("https://{r}.console.aws.amazon.com/ecr/repositories?region={r}")),
    // A secret's ARN ends in a random suffix: intake never builds one from a name (`NameOnly`).
    kind("AWS::SecretsManager::Secret", "secretsmanager.amazonaws.com", &[req(&["secretId"], NameOnly), resp(&["arn"], Arn)],
        Some("arn:{p}:secretsmanager:{r}:{a}:secret:{v}"),
        Some("https://{r}.console.aws.amazon.com/secretsmanager/secret?name={name}&region={r}")),
    // An instance or cluster: its identifier comes before a snapshot's (a restore names both; the instance is
    // what the call creates).
    kind("AWS::RDS::DBInstance", "rds.amazonaws.com", &[req(&["dBInstanceIdentifier"], Id), resp(&["dBInstanceIdentifier"], Id)],
        Some("arn:{p}:rds:{r}:{a}:db:{v}"),
        Some("https://{r}.console.aws.amazon.com/rds/home?region={r}#database:id={name};is-cluster=false")),
    kind("AWS::RDS::DBCluster", "rds.amazonaws.com", &[req(&["dBClusterIdentifier"], Id), resp(&["dBClusterIdentifier"], Id)],
        Some("arn:{p}:rds:{r}:{a}:cluster:{v}"),
        Some("https://{r}.console.aws.amazon.com/rds/home?region={r}#database:id={name};is-cluster=true")),
    kind("AWS::RDS::DBSnapshot", "rds.amazonaws.com", &[req(&["dBSnapshotIdentifier"], Id)], Some("arn:{p}:rds:{r}:{a}:snapshot:{v}"),
        Some("https://{r}.console.aws.amazon.com/rds/home?region={r}#db-snapshot:id={name}")),
    kind("AWS::RDS::DBClusterSnapshot", "rds.amazonaws.com", &[req(&["dBClusterSnapshotIdentifier"], Id)], Some("arn:{p}:rds:{r}:{a}:cluster-snapshot:{v}"),
        Some("https://{r}.console.aws.amazon.com/rds/home?region={r}#db-cluster-snapshot:id={name}")),
    // Config-only (no call names it): one item per managed node, its compliance with the patch baseline. AWS
    // defines no ARN for it; the finding names the managed node (an EC2 instance) when the item does.
    kind("AWS::SSM::PatchCompliance", "", &[], None,
        Some("https://{r}.console.aws.amazon.com/systems-manager/patch-manager/compliance-reporting?region={r}")),
    kind("AWS::GuardDuty::Detector", "guardduty.amazonaws.com", &[req(&["detectorId"], Id)], Some("arn:{p}:guardduty:{r}:{a}:detector/{v}"),
        Some("https://{r}.console.aws.amazon.com/guardduty/home?region={r}#/settings")),
    kind("AWS::AccessAnalyzer::Analyzer", "access-analyzer.amazonaws.com", &[req(&["analyzerName"], Id)], Some("arn:{p}:access-analyzer:{r}:{a}:analyzer/{v}"),
        Some("https://{r}.console.aws.amazon.com/access-analyzer/home?region={r}#/analyzers")),
    kind("AWS::Logs::LogGroup", "", &[], Some("arn:{p}:logs:{r}:{a}:log-group:{v}"),
        Some("https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#logsV2:log-groups")),
    kind("AWS::Events::Rule", "", &[], Some("arn:{p}:events:{r}:{a}:rule/{v}"),
        Some("https://{r}.console.aws.amazon.com/events/home?region={r}#/rules")),
    // S3 Control calls share the `s3` event source with bucket calls and name the access point by `name`:
    // the rules read it themselves (no intake field, so a bucket call's `name` is never taken for one).
    kind("AWS::S3::AccessPoint", "", &[], Some("arn:{p}:s3:{r}:{a}:accesspoint/{v}"),
        Some("https://s3.console.aws.amazon.com/s3/access-points?region={r}")),
    // A Multi-Region Access Point's ARN is built from its alias (`arn:aws:s3::{a}:accesspoint/{alias}`), not
    // its name: no template from a name.
    kind("AWS::S3::MultiRegionAccessPoint", "", &[], None,
        Some("https://s3.console.aws.amazon.com/s3/mraps?region={r}")),
    kind("AWS::EFS::FileSystem", "elasticfilesystem.amazonaws.com", &[req(&["fileSystemId"], Id)],
        Some("arn:{p}:elasticfilesystem:{r}:{a}:file-system/{v}"),
        Some("https://{r}.console.aws.amazon.com/efs/home?region={r}#/file-systems/{name}")),
    kind("AWS::DynamoDB::Table", "dynamodb.amazonaws.com", &[req(&["resourceArn"], Arn), req(&["tableName"], Id)],
        Some("arn:{p}:dynamodb:{r}:{a}:table/{v}"),
        Some("https://{r}.console.aws.amazon.com/dynamodbv2/home?region={r}#table?name={name}")),
    kind("AWS::OpenSearchService::Domain", "es.amazonaws.com", &[req(&["domainName"], Id)], Some("arn:{p}:es:{r}:{a}:domain/{v}"),
        Some("https://{r}.console.aws.amazon.com/aos/home?region={r}#opensearch/domains/{name}")),
    kind("AWS::Glacier::Vault", "glacier.amazonaws.com", &[req(&["vaultName"], Id)], Some("arn:{p}:glacier:{r}:{a}:vaults/{v}"),
        Some("https://{r}.console.aws.amazon.com/glacier/home?region={r}#/vaults")),
];

/// The registry row of a CloudFormation type.
pub fn by_type(resource_type: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.resource_type == resource_type)
}

/// The AWS partition of a region (`aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, else `aws`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Whether `s` is a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account field of an ARN (`arn:partition:service:region:account:resource`); `""` when it has none.
pub fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// A resource's name from its ARN (`arn:partition:service:region:account:resource`): IAM names are the
/// last path segment (`role/path/name` -> `name`); Secrets Manager keeps the full secret name
/// (`secret:prod/db-AbCdEf` -> `prod/db-AbCdEf`); S3 keeps `bucket` or `bucket/key`; other services drop
/// the resource-type prefix (`security-group/sg-1` -> `sg-1`, `function:f` -> `f`,
/// `repository/team/app` -> `team/app`).
pub fn arn_name(arn: &str) -> &str {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(_region), Some(_account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return arn;
    };
    match service {
        "iam" | "sts" => resource.rsplit('/').next().unwrap_or(resource),
        "s3" => resource,
        _ => match resource.find(['/', ':']) {
            Some(i) => &resource[i + 1..],
            None => resource,
        },
    }
}

/// The ARN of a resource of `resource_type` named `id` in `region` and `account`, from the kind's
/// template. `None` when the type is not registered or AWS builds no ARN from a name.
pub fn arn(resource_type: &str, region: &str, account: &str, id: &str) -> Option<String> {
    by_type(resource_type)?.arn_of(region, account, id)
}

impl Kind {
    /// The ARN of the resource named `id`, from this kind's template.
    pub fn arn_of(&self, region: &str, account: &str, id: &str) -> Option<String> {
        self.arn.map(|t| {
            t.replace("{p}", partition(region))
                .replace("{r}", region)
                .replace("{a}", account)
                .replace("{v}", id)
        })
    }
}

/// Characters escaped in URL components: everything but RFC 3986 unreserved characters.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// The console URL of a resource, by CloudFormation type. `None` for types without a registered page.
pub fn console_url(resource_type: &str, arn: &str, name: Option<&str>, region: &str) -> Option<String> {
    let template = by_type(resource_type)?.console?;
    let name = name
        .map(str::to_owned)
        .unwrap_or_else(|| arn.rsplit([':', '/']).next().unwrap_or(arn).to_owned());
    let (bucket, key) = arn
        .split_once(":s3:::")
        .and_then(|(_, rest)| rest.split_once('/'))
        .unwrap_or((name.as_str(), ""));
    Some(
        template
            .replace("{r}", region)
            .replace("{name_raw}", &name)
            .replace("{name}", &enc(&name))
            .replace("{arn_enc}", &enc(arn))
            .replace("{arn}", arn)
            .replace("{bucket}", &enc(bucket))
            .replace("{key}", &enc(key)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_unique_and_rows_are_consistent() {
        let types: std::collections::BTreeSet<_> = KINDS.iter().map(|k| k.resource_type).collect();
        assert_eq!(types.len(), KINDS.len(), "duplicate resource type");
        for k in KINDS {
            assert!(k.resource_type.starts_with("AWS::"), "{}", k.resource_type);
            assert_eq!(k.named_by.is_empty(), k.service.is_empty(), "{}", k.resource_type);
            if k.named_by.iter().any(|n| n.holds == Holds::Id) {
                assert!(
                    k.arn.is_some(),
                    "{}: a field holds an id but no ARN template",
                    k.resource_type
                );
            }
            if let Some(t) = k.arn {
                assert!(t.starts_with("arn:{p}:"), "{}: {t}", k.resource_type);
            }
            if let Some(c) = k.console {
                assert!(c.starts_with("https://"), "{}: {c}", k.resource_type);
            }
        }
    }

    #[test]
    fn arns_and_console_pages() {
        assert_eq!(
            arn("AWS::IAM::Role", "cn-north-1", "111122223333", "app").as_deref(),
            Some("arn:aws-cn:iam::111122223333:role/app")
        );
        assert_eq!(
            arn("AWS::EC2::Snapshot", "us-gov-west-1", "111122223333", "snap-1").as_deref(),
            Some("arn:aws-us-gov:ec2:us-gov-west-1::snapshot/snap-1")
        );
        assert_eq!(arn("AWS::IAM::AccessKey", "us-east-1", "1", "AKIA1"), None);
        assert_eq!(
            console_url("AWS::S3::Object", "arn:aws-cn:s3:::b/k 1", None, "cn-north-1").as_deref(),
            Some("https://s3.console.aws.amazon.com/s3/object/b?region=cn-north-1&prefix=k%201")
        );
        assert_eq!(
            console_url("AWS::IAM::Policy", "arn:aws:iam::1:policy/p", None, "us-east-1").as_deref(),
            Some("https://console.aws.amazon.com/iam/home#/policies/details/arn%3Aaws%3Aiam%3A%3A1%3Apolicy%2Fp")
        );
        assert_eq!(console_url("AWS::Nope::Nope", "x", None, "us-east-1"), None);
        assert!(is_account_id("111122223333") && !is_account_id("11112222333a") && !is_account_id("1"));
        assert_eq!(arn_account("arn:aws:iam::111122223333:role/x"), "111122223333");
        assert_eq!(arn_name("arn:aws:iam::1:role/path/x"), "x");
    }
}
