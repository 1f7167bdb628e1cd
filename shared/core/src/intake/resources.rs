//! The resources a CloudTrail call touched, derived from its request/response by the resource-kind
//! registry ([`crate::resource_kind::KINDS`]: the fields that name each kind, its ARN template).
//!
//! CloudTrail's own `resources[]` array is optional and absent for most management events, so the primary
//! resource is derived from the parameter that names it (`bucketName`, `roleName`, `groupId`...). ARN
//! formats follow the Service Authorization Reference ("Resource types defined by ..." for each service,
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html>).

use serde_json::Value;

use crate::change::Resource;
use crate::resource_kind::{arn_name, partition, Field, Holds, Kind, KINDS};

use super::access::str_at;

/// Event names on `s3.amazonaws.com` that act on the account-level Block Public Access configuration
/// (Amazon S3 User Guide, "Amazon S3 CloudTrail events": account-level actions).
const S3_ACCOUNT_EVENTS: &[&str] = &[
    "PutAccountPublicAccessBlock",
    "GetAccountPublicAccessBlock",
    "DeleteAccountPublicAccessBlock",
];

/// EC2 calls that change a per-account, per-Region setting; AWS Config reports such settings on the
/// `AWS::::Account` resource type (e.g. the `ec2-ebs-encryption-by-default` managed rule).
const EC2_ACCOUNT_EVENTS: &[&str] = &[
    "EnableEbsEncryptionByDefault",
    "DisableEbsEncryptionByDefault",
    "ModifyEbsDefaultKmsKeyId",
    "ResetEbsDefaultKmsKeyId",
    "EnableSnapshotBlockPublicAccess",
    "DisableSnapshotBlockPublicAccess",
    "EnableImageBlockPublicAccess",
    "DisableImageBlockPublicAccess",
    "EnableSerialConsoleAccess",
];

/// IAM calls that act on the caller's own credentials when `userName` is absent ("If you do not specify
/// a user name, IAM determines the user name implicitly based on the Amazon Web Services access key ID
/// signing the request", IAM API Reference, CreateAccessKey).
const IAM_SELF_EVENTS: &[&str] = &[
    "CreateAccessKey",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "DeleteLoginProfile",
    "DeactivateMFADevice",
    "EnableMFADevice",
    "DeleteVirtualMFADevice",
    "ChangePassword",
];

/// Where the call happened and by whom: what ARN templates need.
pub(crate) struct Scope<'a> {
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    /// `userIdentity.type` and `userIdentity.arn` of the caller.
    pub identity_type: &'a str,
    pub actor_arn: Option<&'a str>,
}

/// Derives the resources of a CloudTrail call: the table's matches (primary first), then the record's own
/// `resources[]` entries not already listed.
pub(crate) fn cloudtrail_resources(
    scope: &Scope<'_>,
    request: &Value,
    response: &Value,
    record_resources: Option<&Vec<Value>>,
) -> Vec<Resource> {
    let mut out: Vec<Resource> = Vec::new();
    let p = partition(scope.region);

    if scope.event_source == "s3.amazonaws.com" && S3_ACCOUNT_EVENTS.contains(&scope.event_name) {
        push(
            &mut out,
            Resource {
                resource_type: "AWS::S3::AccountPublicAccessBlock".to_owned(),
                arn: None,
                name: Some(scope.account.to_owned()),
            },
        );
    }

    if scope.event_source == "ec2.amazonaws.com" && EC2_ACCOUNT_EVENTS.contains(&scope.event_name) {
        push(
            &mut out,
            Resource {
                resource_type: "AWS::::Account".to_owned(),
                arn: None,
                name: Some(scope.account.to_owned()),
            },
        );
    }

    if scope.event_source == "iam.amazonaws.com"
        && IAM_SELF_EVENTS.contains(&scope.event_name)
        && str_at(request, &["userName"]).is_none()
    {
        if let Some(me) = caller_as_user(scope, p) {
            push(&mut out, me);
        }
    }

    for kind in KINDS.iter().filter(|k| k.service == scope.event_source) {
        for named in kind.named_by {
            let (doc, keys) = match named.field {
                Field::Request(k) => (request, k),
                Field::Response(k) => (response, k),
            };
            let Some(value) = str_at(doc, keys) else {
                continue;
            };
            if let Some(r) = build(kind, named.holds, value, scope, p) {
                push(&mut out, r);
            }
        }
    }

    for entry in record_resources.into_iter().flatten() {
        let arn = str_at(entry, &["ARN"]).or_else(|| str_at(entry, &["arn"]));
        let resource_type = str_at(entry, &["type"]).unwrap_or("Unknown");
        if let Some(arn) = arn {
            push(
                &mut out,
                Resource {
                    resource_type: resource_type.to_owned(),
                    arn: Some(arn.to_owned()),
                    name: Some(arn_name(arn).to_owned()),
                },
            );
        }
    }
    out
}

/// The calling IAM user or root, as the resource an implicit-user IAM call acts on.
fn caller_as_user(scope: &Scope<'_>, p: &str) -> Option<Resource> {
    match scope.identity_type {
        "Root" => Some(Resource {
            resource_type: "AWS::IAM::User".to_owned(),
            arn: Some(format!("arn:{p}:iam::{}:root", scope.account)),
            name: Some("root".to_owned()),
        }),
        "IAMUser" => scope.actor_arn.map(|arn| Resource {
            resource_type: "AWS::IAM::User".to_owned(),
            arn: Some(arn.to_owned()),
            name: Some(arn_name(arn).to_owned()),
        }),
        _ => None,
    }
}

fn build(kind: &Kind, holds: Holds, value: &str, scope: &Scope<'_>, p: &str) -> Option<Resource> {
    let is_arn = value.starts_with("arn:");
    let (arn, name) = match holds {
        Holds::Arn => (Some(value.to_owned()), arn_name(value).to_owned()),
        Holds::NameOnly | Holds::Id if is_arn => (Some(value.to_owned()), arn_name(value).to_owned()),
        Holds::NameOnly => (None, value.to_owned()),
        Holds::Id => (kind.arn_of(scope.region, scope.account, value), value.to_owned()),
        Holds::QueueUrl => {
            let mut parts = value.trim_end_matches('/').rsplit('/');
            let name = parts.next()?.to_owned();
            let account = parts.next().unwrap_or(scope.account);
            (
                Some(format!("arn:{p}:sqs:{}:{account}:{name}", scope.region)),
                name,
            )
        }
    };
    Some(Resource {
        resource_type: kind.resource_type.to_owned(),
        arn,
        name: Some(name),
    })
}

/// Adds `r` unless a resource of the same type with the same ARN (or, without ARNs, the same name) exists.
/// An ARN-less entry is upgraded when a later mapping finds the ARN.
fn push(out: &mut Vec<Resource>, r: Resource) {
    for existing in out.iter_mut() {
        if existing.resource_type != r.resource_type {
            continue;
        }
        if existing.arn.is_some() && existing.arn == r.arn {
            return;
        }
        if existing.name == r.name {
            if existing.arn.is_none() {
                existing.arn = r.arn;
            }
            return;
        }
    }
    out.push(r);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn scope<'a>(event_source: &'a str, event_name: &'a str, region: &'a str) -> Scope<'a> {
        Scope {
            event_source,
            event_name,
            region,
            account: "111122223333",
            identity_type: "AssumedRole",
            actor_arn: None,
        }
    }

    #[test]
    #[rustfmt::skip]
    fn primary_resource_per_service() {
        // (eventSource, eventName, region, requestParameters, responseElements, type, arn, name)
        let cases = [
            ("s3.amazonaws.com", "PutBucketPolicy", "us-east-1", json!({"bucketName": "reports-prod"}), json!(null), "AWS::S3::Bucket", Some("arn:aws:s3:::reports-prod"), "reports-prod"),
            ("s3.amazonaws.com", "PutBucketPolicy", "cn-north-1", json!({"bucketName": "b"}), json!(null), "AWS::S3::Bucket", Some("arn:aws-cn:s3:::b"), "b"),
            ("s3.amazonaws.com", "PutAccountPublicAccessBlock", "us-east-1", json!({}), json!(null), "AWS::S3::AccountPublicAccessBlock", None, "111122223333"),
            ("iam.amazonaws.com", "AttachRolePolicy", "us-east-1", json!({"roleName": "ci", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}), json!(null), "AWS::IAM::Role", Some("arn:aws:iam::111122223333:role/ci"), "ci"),
            ("iam.amazonaws.com", "CreatePolicyVersion", "us-east-1", json!({"policyArn": "arn:aws:iam::111122223333:policy/app"}), json!(null), "AWS::IAM::Policy", Some("arn:aws:iam::111122223333:policy/app"), "app"),
            ("iam.amazonaws.com", "CreateRole", "us-east-1", json!({"roleName": "r"}), json!({"role": {"arn": "arn:aws:iam::111122223333:role/svc/r"}}), "AWS::IAM::Role", Some("arn:aws:iam::111122223333:role/svc/r"), "r"),
            ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "eu-west-1", json!({"groupId": "sg-0123"}), json!(null), "AWS::EC2::SecurityGroup", Some("arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0123"), "sg-0123"),
            ("ec2.amazonaws.com", "ModifySnapshotAttribute", "us-east-1", json!({"snapshotId": "snap-1"}), json!(null), "AWS::EC2::Snapshot", Some("arn:aws:ec2:us-east-1::snapshot/snap-1"), "snap-1"),
            ("lambda.amazonaws.com", "AddPermission20150331v2", "us-east-1", json!({"functionName": "arn:aws:lambda:us-east-1:111122223333:function:f"}), json!(null), "AWS::Lambda::Function", Some("arn:aws:lambda:us-east-1:111122223333:function:f"), "f"),
            ("lambda.amazonaws.com", "AddPermission20150331v2", "us-east-1", json!({"functionName": "f"}), json!(null), "AWS::Lambda::Function", Some("arn:aws:lambda:us-east-1:111122223333:function:f"), "f"),
            ("sqs.amazonaws.com", "SetQueueAttributes", "us-east-1", json!({"queueUrl": "https://sqs.us-east-1.amazonaws.com/444455556666/q"}), json!(null), "AWS::SQS::Queue", Some("arn:aws:sqs:us-east-1:444455556666:q"), "q"),
            ("secretsmanager.amazonaws.com", "PutResourcePolicy", "us-east-1", json!({"secretId": "db"}), json!(null), "AWS::SecretsManager::Secret", None, "db"),
            ("cloudtrail.amazonaws.com", "StopLogging", "us-east-1", json!({"name": "arn:aws:cloudtrail:us-east-1:111122223333:trail/org"}), json!(null), "AWS::CloudTrail::Trail", Some("arn:aws:cloudtrail:us-east-1:111122223333:trail/org"), "org"),
            ("config.amazonaws.com", "StopConfigurationRecorder", "us-east-1", json!({"configurationRecorderName": "default"}), json!(null), "AWS::Config::ConfigurationRecorder", None, "default"),
        ];
        for (src, name, region, req, resp, ty, arn, rname) in cases {
            let got = cloudtrail_resources(&scope(src, name, region), &req, &resp, None);
            let first = got.first().unwrap_or_else(|| panic!("no resource for {src} {name}"));
            assert_eq!(first.resource_type, ty, "{src} {name}");
            assert_eq!(first.arn.as_deref(), arn, "{src} {name}");
            assert_eq!(first.name.as_deref(), Some(rname), "{src} {name}");
        }
    }

    #[test]
    fn attach_lists_principal_then_policy_and_dedups_record_resources() {
        let req = json!({"roleName": "ci", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"});
        let record = vec![
            json!({"ARN": "arn:aws:iam::aws:policy/AdministratorAccess", "accountId": "111122223333", "type": "AWS::IAM::Policy"}),
        ];
        let got = cloudtrail_resources(
            &scope("iam.amazonaws.com", "AttachRolePolicy", "us-east-1"),
            &req,
            &json!(null),
            Some(&record),
        );
        let types: Vec<_> = got.iter().map(|r| r.resource_type.as_str()).collect();
        assert_eq!(types, ["AWS::IAM::Role", "AWS::IAM::Policy"]);
    }

    #[test]
    fn names_from_arns() {
        let cases = [
            ("arn:aws:iam::111122223333:role/service-role/app", "app"),
            ("arn:aws:iam::111122223333:root", "root"),
            (
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db-AbCdEf",
                "prod/orders/db-AbCdEf",
            ),
            (
                "arn:aws:s3:::reports-prod/q3/deck.pdf",
                "reports-prod/q3/deck.pdf",
            ),
            (
                "arn:aws:ecr:us-east-1:111122223333:repository/team/app",
                "team/app",
            ),
            ("arn:aws:lambda:us-east-1:111122223333:function:f", "f"),
            ("arn:aws:sns:us-east-1:111122223333:topic", "topic"),
            ("arn:aws:rds:us-east-1:111122223333:snapshot:db-1", "db-1"),
            ("not-an-arn", "not-an-arn"),
        ];
        for (arn, name) in cases {
            assert_eq!(arn_name(arn), name, "{arn}");
        }
    }

    #[test]
    fn root_create_access_key_targets_root() {
        let mut s = scope("iam.amazonaws.com", "CreateAccessKey", "us-east-1");
        s.identity_type = "Root";
        let resp = json!({"accessKey": {"accessKeyId": "AKIAIOSFODNN7EXAMPLE"}});
        let got = cloudtrail_resources(&s, &json!({}), &resp, None);
        assert_eq!(got[0].arn.as_deref(), Some("arn:aws:iam::111122223333:root"));
        assert_eq!(got[1].resource_type, "AWS::IAM::AccessKey");
        assert_eq!(got[1].name.as_deref(), Some("AKIAIOSFODNN7EXAMPLE"));
    }
}
