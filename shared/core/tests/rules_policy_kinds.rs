//! The policy kinds of issue 16 (S3 access points and Multi-Region Access Points, EFS file systems, DynamoDB
//! tables and streams, OpenSearch Service domains, S3 Glacier vaults): each service's "public" definition,
//! case by case, then the samples of their public and cross-account rules (issue 19's zone of trust).
//!
//! Sources, quoted per case below:
//! - [S3] Amazon S3 User Guide, "The meaning of 'public'"
//!   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status),
//!   and S3 Control API reference, `PolicyStatus` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PolicyStatus.html):
//!   "Indicates whether this access point policy is public. For more information about how Amazon S3
//!   evaluates policies to determine whether they are public, see The Meaning of 'Public'".
//! - [EFS] Amazon EFS User Guide, "Blocking public access", "The meaning of 'public'"
//!   (https://docs.aws.amazon.com/efs/latest/ug/access-control-block-public-access.html): "To be considered
//!   non-public, a file system policy must grant access only to fixed values (values that don't contain a
//!   wild card) of one or more of the following: A set of [CIDRs], using aws:SourceIp ... An AWS principal,
//!   user, role, or service principal (for example, aws:PrincipalOrgID), aws:SourceArn, aws:SourceVpc,
//!   aws:SourceVpce, aws:SourceOwner, aws:SourceAccount, elasticfilesystem:AccessedViaMountTarget,
//!   aws:userid, outside the pattern "AROLEID:*"".
//! - [DDB] Amazon DynamoDB Developer Guide, "Blocking public access with resource-based policies"
//!   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-bpa-rbp.html): "the following
//!   trusted condition keys are used to complete the evaluation of a resource-based policy for non-public
//!   access: aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalOrgID, aws:PrincipalOrgPaths,
//!   aws:SourceAccount, aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:UserId, aws:PrincipalServiceName,
//!   aws:PrincipalServiceNamesList, aws:PrincipalIsAWSService, aws:Ec2InstanceSourceVpc, aws:SourceOrgID,
//!   aws:SourceOrgPaths" ... "If your resource-based policy uses the aws:PrincipalIsAWSService key, you
//!   must make sure that you've set the key value to true."
//! - [AOS] Amazon OpenSearch Service Developer Guide, "Identity and Access Management", "IP-based policies"
//!   (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/ac.html#ac-types-ip): IP-based
//!   policies restrict access to a domain to IP addresses or CIDR blocks; they are resource-based policies
//!   that specify an anonymous principal and an `aws:SourceIp` condition. No published "public" definition:
//!   the generic one (S3's list plus the principal keys), with S3's CIDR-breadth rule.
//! - [GLACIER] Amazon S3 Glacier Developer Guide, "Vault access policies"
//!   (https://docs.aws.amazon.com/amazonglacier/latest/dev/vault-access-policy.html): a vault access policy is a
//!   resource-based policy; no published "public" definition: the generic one. Glacier's own keys
//!   (`glacier:ArchiveAgeInDays`, `glacier:ResourceTag/...`) say nothing about who calls.
//! - [AA] IAM User Guide, "IAM Access Analyzer" external access findings
//!   (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-resources.html): a resource policy
//!   granting a principal outside the zone of trust is external access.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use tripline_core::finding::{Finding, Severity};
use tripline_core::policy::{self, Policy, ResourceKind};
use tripline_core::rules;
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake};

const OUT: &str = "444455556666";
const ORG: &str = "o-a1b2c3d4e5";

fn star(condition: Value) -> Value {
    let mut s = json!({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"});
    if !condition.is_null() {
        s["Condition"] = condition;
    }
    json!({"Version": "2012-10-17", "Statement": [s]})
}

fn public(doc: &Value, kind: ResourceKind) -> bool {
    policy::resource_policy_public(&Policy::parse(doc).unwrap(), kind).public
}

#[test]
#[rustfmt::skip]
fn each_service_s_definition_of_public() {
    use ResourceKind::{DynamoDbTable as Ddb, EfsFileSystem as Efs, GlacierVault as Glacier, OpenSearchDomain as Aos, S3AccessPoint as Ap};
    let cases: Vec<(&str, ResourceKind, Value, bool)> = vec![
        // [S3] applies to access points: "*" without a condition is public.
        ("ap star", Ap, star(Value::Null), true),
        // [S3] aws:SourceVpce fixed: non-public.
        ("ap vpce", Ap, star(json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})), false),
        // [S3] the list has no aws:PrincipalAccount: it does not make an access point policy non-public.
        ("ap principal account", Ap, star(json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}})), true),
        // [S3] s3:DataAccessPointAccount fixed: non-public.
        ("ap data access point account", Ap, star(json!({"StringEquals": {"s3:DataAccessPointAccount": "111122223333"}})), false),
        // [EFS] "elasticfilesystem:AccessedViaMountTarget" (as Bool true) qualifies as non-public.
        ("efs mount target", Efs, star(json!({"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}})), false),
        // [EFS] the key set to false admits clients that do not come through a mount target: not limited.
        ("efs mount target false", Efs, star(json!({"Bool": {"elasticfilesystem:AccessedViaMountTarget": "false"}})), true),
        // [EFS] aws:SecureTransport is not on the list.
        ("efs secure transport", Efs, star(json!({"Bool": {"aws:SecureTransport": "true"}})), true),
        // [EFS] aws:userid "outside the pattern AROLEID:*": the pattern itself is a wildcard.
        ("efs userid role pattern", Efs, star(json!({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}})), true),
        // [EFS] a fixed aws:userid limits.
        ("efs userid fixed", Efs, star(json!({"StringEquals": {"aws:userid": "AROAEXAMPLEID:app"}})), false),
        // [EFS] a set of CIDRs with aws:SourceIp limits.
        ("efs source ip", Efs, star(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/16"}})), false),
        // [EFS] aws:PrincipalOrgID is its example of a principal key.
        ("efs org", Efs, star(json!({"StringEquals": {"aws:PrincipalOrgID": ORG}})), false),
        // [EFS] S3's access point keys are not on EFS's list.
        ("efs s3 key", Efs, star(json!({"StringEquals": {"s3:DataAccessPointAccount": "111122223333"}})), true),
        // [DDB] aws:SourceIp is not a trusted key: an IP-limited "*" is public for DynamoDB.
        ("ddb source ip", Ddb, star(json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})), true),
        // [DDB] aws:SourceOwner is not on the list either.
        ("ddb source owner", Ddb, star(json!({"StringEquals": {"aws:SourceOwner": "111122223333"}})), true),
        // [DDB] aws:SourceVpce is.
        ("ddb vpce", Ddb, star(json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})), false),
        // [DDB] aws:PrincipalIsAWSService set to true limits.
        ("ddb is aws service", Ddb, star(json!({"Bool": {"aws:PrincipalIsAWSService": "true"}})), false),
        // [DDB] ... and only set to true.
        ("ddb is aws service false", Ddb, star(json!({"Bool": {"aws:PrincipalIsAWSService": "false"}})), true),
        // [DDB] aws:SourceOrgID is on the list.
        ("ddb source org", Ddb, star(json!({"StringEquals": {"aws:SourceOrgID": ORG}})), false),
        // [DDB] "the values for ARN and string keys cannot contain wildcards or variables".
        ("ddb wildcard arn", Ddb, star(json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}})), true),
        // [AOS] an IP-based policy with narrow ranges: not public.
        ("aos ip based", Aos, star(json!({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.7"]}})), false),
        // [AOS] + [S3] breadth rule: 0.0.0.0/0 is public.
        ("aos ip everywhere", Aos, star(json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})), true),
        // [AOS] an anonymous principal without a condition ("open access"): public.
        ("aos open", Aos, star(Value::Null), true),
        // [AOS] generic list: aws:PrincipalAccount limits.
        ("aos principal account", Aos, star(json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}})), false),
        // [GLACIER] glacier:ArchiveAgeInDays says nothing about the caller.
        ("glacier archive age", Glacier, star(json!({"NumericLessThan": {"glacier:ArchiveAgeInDays": "365"}})), true),
        // [GLACIER] generic list: aws:PrincipalOrgID limits.
        ("glacier org", Glacier, star(json!({"StringEquals": {"aws:PrincipalOrgID": ORG}})), false),
    ];
    for (name, kind, doc, want) in cases {
        assert_eq!(public(&doc, kind), want, "{name}");
    }
}

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn change_of(file: &str) -> tripline_core::Change {
    let bytes = std::fs::read(events_dir().join(file)).unwrap();
    match intake(&bytes).unwrap() {
        Intake::Change(c) => *c,
        other => panic!("{file}: {other:?}"),
    }
}

fn config(env: &[(&str, &str)]) -> RuleConfig {
    let env: BTreeMap<String, String> = env.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    rules::config_from_env(&env).unwrap()
}

fn findings(change: &tripline_core::Change, cfg: &RuleConfig) -> Vec<Finding> {
    let eval = rules::evaluate(change, None, cfg);
    assert!(eval.errors.is_empty(), "{:?}", eval.errors);
    eval.findings
}

fn cross(change: &tripline_core::Change, cfg: &RuleConfig) -> Vec<Finding> {
    findings(change, cfg)
        .into_iter()
        .filter(|f| f.rule.ends_with("-cross-account-access"))
        .collect()
}

/// Every account sample: fires its cross-account rule only, lists the outside account, names the resource,
/// and is silenced exactly by trusting that account or listing it as a member of the organization ([AA]).
#[test]
#[rustfmt::skip]
fn cross_account_samples_against_the_zone() {
    let samples: &[(&str, &str, &str, &str)] = &[
        ("cloudtrail-s3-put-access-point-policy-account.json", "s3-access-point-cross-account-access",
            "arn:aws:s3:us-east-1:111122223333:accesspoint/reports-ap", "reports-ap"),
        ("cloudtrail-efs-put-file-system-policy-account.json", "efs-file-system-cross-account-access",
            "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-0f1e2d3c4b5a69788", "fs-0f1e2d3c4b5a69788"),
        // A stream ARN: the finding names the table's stream ([DDB] resource-based policies for streams).
        ("cloudtrail-dynamodb-put-resource-policy-account.json", "dynamodb-table-cross-account-access",
            "arn:aws:dynamodb:us-east-1:111122223333:table/Orders/stream/2026-11-30T08:12:45.117", "Orders/stream/2026-11-30T08:12:45.117"),
        ("cloudtrail-opensearch-update-domain-config-account.json", "opensearch-domain-cross-account-access",
            "arn:aws:es:us-east-1:111122223333:domain/search-logs", "search-logs"),
        // `accountId: "-"` is the caller's account (Glacier API reference, common parameters).
        ("cloudtrail-glacier-set-vault-access-policy-account.json", "glacier-vault-cross-account-access",
            "arn:aws:glacier:us-east-1:111122223333:vaults/finance-archive", "finance-archive"),
    ];
    let trusted = config(&[("TRIPLINE_TRUSTED_ACCOUNT_IDS", OUT)]);
    let other = config(&[("TRIPLINE_TRUSTED_ACCOUNT_IDS", "777788889999")]);
    let member = config(&[("TRIPLINE_ORGANIZATION_ID", ORG), ("TRIPLINE_ORGANIZATION_ACCOUNT_IDS", OUT)]);
    let unknown = config(&[("TRIPLINE_ORGANIZATION_ID", ORG)]);
    for (file, rule, arn, name) in samples {
        let c = change_of(file);
        let all = findings(&c, &RuleConfig::default());
        assert_eq!(all.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(), vec![*rule], "{file}");
        assert_eq!(all[0].severity, Severity::High, "{file}");
        assert_eq!(all[0].evidence.details["external_accounts"], json!([OUT]), "{file}");
        assert_eq!(all[0].resource.arn, *arn, "{file}");
        assert_eq!(all[0].resource.name.as_deref(), Some(*name), "{file}");
        assert!(cross(&c, &trusted).is_empty(), "{file}: trusted account silences it");
        assert_eq!(cross(&c, &other).len(), 1, "{file}: another trusted account does not");
        assert!(cross(&c, &member).is_empty(), "{file}: a known member silences it");
        let u = cross(&c, &unknown);
        assert_eq!(u.len(), 1, "{file}: membership unknown still reports");
        assert_eq!(u[0].evidence.details["organization_membership"], json!({"known": false, "accounts": [OUT]}), "{file}");
    }
}

/// Public samples: the public rule only (a public grant is not reported twice), critical, naming the
/// resource; private samples: nothing.
#[test]
#[rustfmt::skip]
fn public_samples_and_private_twins() {
    let public_samples: &[(&str, &str, &str, &str)] = &[
        ("cloudtrail-s3-put-access-point-policy-public.json", "s3-access-point-policy-public", "AWS::S3::AccessPoint",
            "arn:aws:s3:us-east-1:111122223333:accesspoint/reports-ap"),
        // A Multi-Region Access Point's ARN is built from its alias, which the call does not carry: the ARN is
        // left empty, the name is the one the record gives.
        ("cloudtrail-s3-put-multi-region-access-point-policy-public.json", "s3-access-point-policy-public",
            "AWS::S3::MultiRegionAccessPoint", ""),
        ("cloudtrail-efs-put-file-system-policy-public.json", "efs-file-system-policy-public", "AWS::EFS::FileSystem",
            "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-0f1e2d3c4b5a69788"),
        ("cloudtrail-dynamodb-put-resource-policy-public.json", "dynamodb-table-policy-public", "AWS::DynamoDB::Table",
            "arn:aws:dynamodb:us-east-1:111122223333:table/Orders"),
        // [DDB] aws:SourceIp does not make a DynamoDB policy non-public.
        ("cloudtrail-dynamodb-put-resource-policy-source-ip.json", "dynamodb-table-policy-public", "AWS::DynamoDB::Table",
            "arn:aws:dynamodb:us-east-1:111122223333:table/Orders"),
        ("cloudtrail-opensearch-update-domain-config-public.json", "opensearch-domain-policy-public",
            "AWS::OpenSearchService::Domain", "arn:aws:es:us-east-1:111122223333:domain/search-logs"),
        // The legacy Elasticsearch API, same event source (`es.amazonaws.com`, EventBridge source `aws.es`).
        ("cloudtrail-es-update-elasticsearch-domain-config-public.json", "opensearch-domain-policy-public",
            "AWS::OpenSearchService::Domain", "arn:aws:es:us-east-1:111122223333:domain/search-logs"),
        ("cloudtrail-glacier-set-vault-access-policy-public.json", "glacier-vault-policy-public", "AWS::Glacier::Vault",
            "arn:aws:glacier:us-east-1:111122223333:vaults/finance-archive"),
    ];
    for (file, rule, rtype, arn) in public_samples {
        let f = findings(&change_of(file), &RuleConfig::default());
        assert_eq!(f.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(), vec![*rule], "{file}");
        assert_eq!(f[0].severity, Severity::Critical, "{file}");
        assert_eq!(f[0].resource.resource_type, *rtype, "{file}");
        assert_eq!(f[0].resource.arn, *arn, "{file}");
        assert!(f[0].resource.name.is_some(), "{file}: the record names the resource");
        let reasons = &f[0].evidence.reasons;
        assert!(reasons.iter().any(|r| r.contains("`Principal` is `*`") || r.contains("principal `AWS: *`")), "{file}: {reasons:?}");
        if file.contains("source-ip") {
            assert!(reasons.iter().any(|r| r.contains("aws:SourceIp") && r.contains("not one that can make a grant non-public")), "{file}: {reasons:?}");
        }
    }
    for file in [
        "cloudtrail-s3-put-access-point-policy-private.json",
        "cloudtrail-efs-put-file-system-policy-private.json",
        "cloudtrail-dynamodb-put-resource-policy-private.json",
        "cloudtrail-opensearch-update-domain-config-private.json",
        "cloudtrail-glacier-set-vault-access-policy-private.json",
    ] {
        assert!(findings(&change_of(file), &RuleConfig::default()).is_empty(), "{file}: own-account principal");
    }
}

/// The limited-but-anonymous twins: not public by the service's definition, yet the grant is to every
/// account (only the network path is limited), which the cross-account rule reports as `*` ([AA]).
#[test]
fn network_limited_grants_are_not_public_but_open_to_every_account() {
    for (file, rule) in [
        // [EFS] AccessedViaMountTarget qualifies as non-public; it limits how the client connects, not who.
        (
            "cloudtrail-efs-put-file-system-policy-mount-target.json",
            "efs-file-system-cross-account-access",
        ),
        // [AOS] an IP-based policy: narrow ranges, anonymous principal.
        (
            "cloudtrail-opensearch-update-domain-config-ip.json",
            "opensearch-domain-cross-account-access",
        ),
    ] {
        let f = findings(&change_of(file), &RuleConfig::default());
        assert_eq!(
            f.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
            vec![rule],
            "{file}"
        );
        assert_eq!(f[0].evidence.details["external_accounts"], json!(["*"]), "{file}");
        // Trusting accounts does not silence a grant to every account.
        let trusted = config(&[("TRIPLINE_TRUSTED_ACCOUNT_IDS", OUT)]);
        assert_eq!(cross(&change_of(file), &trusted).len(), 1, "{file}");
    }
}

fn with_request(file: &str, edit: impl FnOnce(&mut Value)) -> tripline_core::Change {
    let mut v: Value = serde_json::from_slice(&std::fs::read(events_dir().join(file)).unwrap()).unwrap();
    edit(&mut v["detail"]["requestParameters"]);
    match intake(&serde_json::to_vec(&v).unwrap()).unwrap() {
        Intake::Change(c) => *c,
        other => panic!("{file}: {other:?}"),
    }
}

/// Absent fields are unknown: a call the API requires a policy for, without one in the record, is a rule
/// error saying what it lacks (never a finding); an OpenSearch update without `accessPolicies` leaves the
/// policy as it was (nothing to judge); `CreateTable` without `resourcePolicy` sets none.
#[test]
fn absent_documents_are_unknown_not_worst_case() {
    let lacking = [
        (
            "cloudtrail-efs-put-file-system-policy-public.json",
            "policy",
            "requestParameters.policy",
        ),
        (
            "cloudtrail-dynamodb-put-resource-policy-public.json",
            "policy",
            "requestParameters.policy",
        ),
        (
            "cloudtrail-glacier-set-vault-access-policy-public.json",
            "policy",
            "requestParameters.policy.policy",
        ),
        (
            "cloudtrail-s3-put-access-point-policy-public.json",
            "PutAccessPointPolicyRequest",
            "requestParameters.PutAccessPointPolicyRequest.Policy",
        ),
    ];
    for (file, key, path) in lacking {
        let c = with_request(file, |r| {
            r.as_object_mut().unwrap().remove(key);
        });
        let eval = rules::evaluate(&c, None, &RuleConfig::default());
        assert!(eval.findings.is_empty(), "{file}");
        assert_eq!(eval.errors.len(), 2, "{file}: both rules of the kind say so");
        for e in &eval.errors {
            assert!(e.message.contains(path), "{file}: {}", e.message);
        }
    }
    let c = with_request("cloudtrail-opensearch-update-domain-config-public.json", |r| {
        r.as_object_mut().unwrap().remove("accessPolicies");
    });
    let eval = rules::evaluate(&c, None, &RuleConfig::default());
    assert!(
        eval.findings.is_empty() && eval.errors.is_empty(),
        "{:?}",
        eval.errors
    );
    let c = {
        let mut v: Value = serde_json::from_slice(
            &std::fs::read(events_dir().join("cloudtrail-dynamodb-put-resource-policy-public.json")).unwrap(),
        )
        .unwrap();
        v["detail"]["eventName"] = json!("CreateTable");
        let policy = v["detail"]["requestParameters"]["policy"].clone();
        v["detail"]["requestParameters"] = json!({"tableName": "Orders", "billingMode": "PAY_PER_REQUEST"});
        let quiet = match intake(&serde_json::to_vec(&v).unwrap()).unwrap() {
            Intake::Change(c) => *c,
            other => panic!("{other:?}"),
        };
        let eval = rules::evaluate(&quiet, None, &RuleConfig::default());
        assert!(
            eval.findings.is_empty() && eval.errors.is_empty(),
            "CreateTable without resourcePolicy"
        );
        // CreateTable with a public `resourcePolicy` (DynamoDB API reference, CreateTable `ResourcePolicy`).
        v["detail"]["requestParameters"]["resourcePolicy"] = policy;
        match intake(&serde_json::to_vec(&v).unwrap()).unwrap() {
            Intake::Change(c) => *c,
            other => panic!("{other:?}"),
        }
    };
    let f = findings(&c, &RuleConfig::default());
    assert_eq!(
        f.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
        vec!["dynamodb-table-policy-public"]
    );
    assert_eq!(
        f[0].resource.arn,
        "arn:aws:dynamodb:us-east-1:111122223333:table/Orders"
    );
}

/// The sweep's judgement of what each new kind's reader finds (issue 16): both rules of the kind on one
/// read, the kind's own definition of public, a resource without a policy (EFS's default policy, a vault
/// without one) quiet, exemption tags honoured.
#[test]
#[rustfmt::skip]
fn sweep_judges_the_policy_kinds() {
    use tripline_core::rules::external::{assess_swept, Exposure, SweptKindId, SweptResource, SWEPT_KINDS};
    use tripline_core::rules::SweepContext;
    const OWN: &str = "111122223333";
    let ctx = SweepContext { account: OWN, region: "us-east-1", time: "2026-12-06T03:00:00Z" };
    let kind = |id: SweptKindId| SWEPT_KINDS.iter().find(|k| k.id == id).unwrap();
    let policy = |principal: Value, cond: Value| {
        let mut s = json!({"Effect": "Allow", "Principal": principal, "Action": "*", "Resource": "*"});
        if !cond.is_null() { s["Condition"] = cond; }
        Exposure::Policy(Some(json!({"Version": "2012-10-17", "Statement": [s]})))
    };
    let out = json!({"AWS": format!("arn:aws:iam::{OUT}:root")});
    let exempt: BTreeMap<String, String> =
        [("tripline:exempt".to_owned(), "dynamodb-table-cross-account-access".to_owned())].into_iter().collect();
    let cases: Vec<(&str, SweptKindId, &str, Exposure, Option<BTreeMap<String, String>>, Vec<(&str, bool)>)> = vec![
        ("access point public [S3]", SweptKindId::S3AccessPoint, "arn:aws:s3:us-east-1:111122223333:accesspoint/ap", policy(json!("*"), Value::Null), None, vec![("s3-access-point-policy-public", false)]),
        ("access point outside", SweptKindId::S3AccessPoint, "arn:aws:s3:us-east-1:111122223333:accesspoint/ap", policy(out.clone(), Value::Null), None, vec![("s3-access-point-cross-account-access", false)]),
        ("MRAP public [S3]", SweptKindId::S3MultiRegionAccessPoint, "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap", policy(json!("*"), Value::Null), None, vec![("s3-access-point-policy-public", false)]),
        ("EFS default policy (none set) [EFS]", SweptKindId::EfsFileSystem, "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-1", Exposure::Policy(None), None, vec![]),
        ("EFS mount target only [EFS]: every account, not public", SweptKindId::EfsFileSystem, "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-1",
            policy(json!({"AWS": "*"}), json!({"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}})), None, vec![("efs-file-system-cross-account-access", false)]),
        ("DynamoDB stream outside", SweptKindId::DynamoDbTable, "arn:aws:dynamodb:us-east-1:111122223333:table/T/stream/2026-11-30T08:12:45.117", policy(out.clone(), Value::Null), None, vec![("dynamodb-table-cross-account-access", false)]),
        ("DynamoDB stream outside, exempt by tag", SweptKindId::DynamoDbTable, "arn:aws:dynamodb:us-east-1:111122223333:table/T/stream/2026-11-30T08:12:45.117", policy(out.clone(), Value::Null), Some(exempt), vec![("dynamodb-table-cross-account-access", true)]),
        ("DynamoDB IP-limited [DDB]: public", SweptKindId::DynamoDbTable, "arn:aws:dynamodb:us-east-1:111122223333:table/T",
            policy(json!("*"), json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})), None, vec![("dynamodb-table-policy-public", false)]),
        ("OpenSearch IP-based [AOS]: not public, every account", SweptKindId::OpenSearchDomain, "arn:aws:es:us-east-1:111122223333:domain/d",
            policy(json!({"AWS": "*"}), json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})), None, vec![("opensearch-domain-cross-account-access", false)]),
        ("Glacier vault without policy", SweptKindId::GlacierVault, "arn:aws:glacier:us-east-1:111122223333:vaults/v", Exposure::Policy(None), None, vec![]),
        ("Glacier vault public [GLACIER]", SweptKindId::GlacierVault, "arn:aws:glacier:us-east-1:111122223333:vaults/v", policy(json!("*"), Value::Null), None, vec![("glacier-vault-policy-public", false)]),
        ("Glacier vault own account", SweptKindId::GlacierVault, "arn:aws:glacier:us-east-1:111122223333:vaults/v", policy(json!({"AWS": OWN}), Value::Null), None, vec![]),
    ];
    for (name, id, arn, exposure, tags, expected) in cases {
        let res = SweptResource { id: arn.into(), arn: arn.into(), name: "r".into(), exposure, tags };
        let eval = assess_swept(&ctx, kind(id), &res, &RuleConfig::default());
        assert!(eval.errors.is_empty(), "{name}: {:?}", eval.errors);
        let got: Vec<(&str, bool)> = eval.findings.iter().map(|f| (f.rule.as_str(), f.suppressed.is_some())).collect();
        assert_eq!(got, expected, "{name}");
        for f in &eval.findings {
            assert_eq!(f.resource.resource_type, kind(id).resource_type, "{name}");
        }
    }
    // Every new kind's read permissions start with its listing and its policy read (the fakes and the
    // template's generated block rely on that order).
    for id in [SweptKindId::S3AccessPoint, SweptKindId::S3MultiRegionAccessPoint, SweptKindId::EfsFileSystem,
               SweptKindId::DynamoDbTable, SweptKindId::OpenSearchDomain, SweptKindId::GlacierVault] {
        let k = kind(id);
        assert!(k.permissions.len() >= 2, "{id:?}");
        assert!(tripline_core::resource_kind::by_type(k.resource_type).is_some(), "{id:?}: a KINDS row");
    }
}
