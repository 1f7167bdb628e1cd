//! Intake over the real-format samples in `events/` and over malformed input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tripline_core::{
    intake, intake_oversized_item, ChangeSource, IdentityType, Intake, IntakeError, Outcome,
    OversizedContext, Payload,
};

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn load(file: &str) -> Vec<u8> {
    std::fs::read(events_dir().join(file)).unwrap_or_else(|e| panic!("cannot read events/{file}: {e}"))
}

fn change_of(file: &str) -> tripline_core::Change {
    match intake(&load(file)) {
        Ok(Intake::Change(c)) => *c,
        other => panic!("{file}: expected a change, got {other:?}"),
    }
}

/// Where a change came from, for the table.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Src {
    Trail,
    Item,
    Rule,
}

const OK: Option<&str> = None;

/// (file, source, service, event name, identity type, error code, primary resource type, primary ARN or name)
type Row = (
    &'static str,
    Src,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
);

/// One line per events/ file this issue ships:
/// (file, source, service, event name, identity type, error code (None = success), primary resource type,
/// primary resource ARN (or name when the resource has no ARN)).
#[rustfmt::skip]
const EXPECTED: &[Row] = &[
    // S3 bucket policy: current-generation records (`Host`, `policy: ""`), `bucketPolicy` as an object.
    ("cloudtrail-s3-put-bucket-policy-public.json", Src::Trail, "s3.amazonaws.com", "PutBucketPolicy", "AssumedRole", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    ("cloudtrail-s3-put-bucket-policy-private.json", Src::Trail, "s3.amazonaws.com", "PutBucketPolicy", "AssumedRole", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    // Older generation (`host: [..]`, `policy: [""]`).
    ("cloudtrail-s3-put-bucket-policy-other-account.json", Src::Trail, "s3.amazonaws.com", "PutBucketPolicy", "IAMUser", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    // Block Public Access rejects a public policy with AccessDenied (Amazon S3 User Guide, "Blocking public
    // access to your Amazon S3 storage"): the call changed nothing.
    ("cloudtrail-s3-put-bucket-policy-access-denied.json", Src::Trail, "s3.amazonaws.com", "PutBucketPolicy", "AssumedRole", Some("AccessDenied"), "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    ("cloudtrail-s3-delete-bucket-policy.json", Src::Trail, "s3.amazonaws.com", "DeleteBucketPolicy", "AssumedRole", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    ("cloudtrail-s3-put-bucket-acl-public-read.json", Src::Trail, "s3.amazonaws.com", "PutBucketAcl", "IAMUser", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    ("cloudtrail-s3-put-bucket-acl-grants-allusers.json", Src::Trail, "s3.amazonaws.com", "PutBucketAcl", "AssumedRole", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    ("cloudtrail-s3-put-bucket-public-access-block-disabled.json", Src::Trail, "s3.amazonaws.com", "PutBucketPublicAccessBlock", "AssumedRole", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    ("cloudtrail-s3-put-bucket-public-access-block-enabled.json", Src::Trail, "s3.amazonaws.com", "PutBucketPublicAccessBlock", "AssumedRole", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    ("cloudtrail-s3-delete-bucket-public-access-block.json", Src::Trail, "s3.amazonaws.com", "DeleteBucketPublicAccessBlock", "AssumedRole", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    // Account-level Block Public Access is logged by s3.amazonaws.com (Amazon S3 User Guide, "Amazon S3
    // CloudTrail events", account-level actions).
    ("cloudtrail-s3-put-account-public-access-block-disabled.json", Src::Trail, "s3.amazonaws.com", "PutAccountPublicAccessBlock", "Root", OK, "AWS::S3::AccountPublicAccessBlock", "111122223333"),
    ("cloudtrail-s3-put-account-public-access-block-enabled.json", Src::Trail, "s3.amazonaws.com", "PutAccountPublicAccessBlock", "Root", OK, "AWS::S3::AccountPublicAccessBlock", "111122223333"),
    ("cloudtrail-s3-delete-account-public-access-block.json", Src::Trail, "s3.amazonaws.com", "DeleteAccountPublicAccessBlock", "IAMUser", OK, "AWS::S3::AccountPublicAccessBlock", "111122223333"),
    ("cloudtrail-s3-get-bucket-policy-read-only.json", Src::Trail, "s3.amazonaws.com", "GetBucketPolicy", "IAMUser", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    // IAM is global: its events are delivered in us-east-1.
    ("cloudtrail-iam-create-policy-version-widening.json", Src::Trail, "iam.amazonaws.com", "CreatePolicyVersion", "AssumedRole", OK, "AWS::IAM::Policy", "arn:aws:iam::111122223333:policy/app-deployer"),
    ("cloudtrail-iam-create-policy-version-reordered.json", Src::Trail, "iam.amazonaws.com", "CreatePolicyVersion", "AssumedRole", OK, "AWS::IAM::Policy", "arn:aws:iam::111122223333:policy/app-deployer"),
    ("cloudtrail-iam-set-default-policy-version.json", Src::Trail, "iam.amazonaws.com", "SetDefaultPolicyVersion", "AssumedRole", OK, "AWS::IAM::Policy", "arn:aws:iam::111122223333:policy/app-deployer"),
    ("cloudtrail-iam-put-role-policy.json", Src::Trail, "iam.amazonaws.com", "PutRolePolicy", "AssumedRole", OK, "AWS::IAM::Role", "arn:aws:iam::111122223333:role/app-runtime"),
    ("cloudtrail-iam-put-user-policy.json", Src::Trail, "iam.amazonaws.com", "PutUserPolicy", "IAMUser", OK, "AWS::IAM::User", "arn:aws:iam::111122223333:user/build-bot"),
    ("cloudtrail-iam-put-group-policy.json", Src::Trail, "iam.amazonaws.com", "PutGroupPolicy", "AssumedRole", OK, "AWS::IAM::Group", "arn:aws:iam::111122223333:group/developers"),
    ("cloudtrail-iam-attach-role-policy-admin.json", Src::Trail, "iam.amazonaws.com", "AttachRolePolicy", "AssumedRole", OK, "AWS::IAM::Role", "arn:aws:iam::111122223333:role/app-runtime"),
    ("cloudtrail-iam-attach-user-policy-admin.json", Src::Trail, "iam.amazonaws.com", "AttachUserPolicy", "IAMUser", OK, "AWS::IAM::User", "arn:aws:iam::111122223333:user/carol"),
    ("cloudtrail-iam-attach-group-policy-admin.json", Src::Trail, "iam.amazonaws.com", "AttachGroupPolicy", "AssumedRole", OK, "AWS::IAM::Group", "arn:aws:iam::111122223333:group/developers"),
    ("cloudtrail-iam-update-assume-role-policy-public.json", Src::Trail, "iam.amazonaws.com", "UpdateAssumeRolePolicy", "AssumedRole", OK, "AWS::IAM::Role", "arn:aws:iam::111122223333:role/partner-access"),
    // Without `userName`, IAM acts on the caller (IAM API Reference, CreateAccessKey): here the root user.
    ("cloudtrail-iam-create-access-key-root.json", Src::Trail, "iam.amazonaws.com", "CreateAccessKey", "Root", OK, "AWS::IAM::User", "arn:aws:iam::111122223333:root"),
    ("cloudtrail-iam-create-login-profile.json", Src::Trail, "iam.amazonaws.com", "CreateLoginProfile", "IAMUser", OK, "AWS::IAM::User", "arn:aws:iam::111122223333:user/build-bot"),
    ("cloudtrail-iam-deactivate-mfa-device.json", Src::Trail, "iam.amazonaws.com", "DeactivateMFADevice", "AssumedRole", OK, "AWS::IAM::User", "arn:aws:iam::111122223333:user/carol"),
    ("cloudtrail-cloudtrail-stop-logging.json", Src::Trail, "cloudtrail.amazonaws.com", "StopLogging", "IAMUser", OK, "AWS::CloudTrail::Trail", "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit"),
    ("cloudtrail-cloudtrail-delete-trail.json", Src::Trail, "cloudtrail.amazonaws.com", "DeleteTrail", "AssumedRole", OK, "AWS::CloudTrail::Trail", "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit"),
    ("cloudtrail-config-stop-configuration-recorder.json", Src::Trail, "config.amazonaws.com", "StopConfigurationRecorder", "IAMUser", OK, "AWS::Config::ConfigurationRecorder", "default"),
    ("cloudtrail-ec2-authorize-security-group-ingress-world-ssh.json", Src::Trail, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "IAMUser", OK, "AWS::EC2::SecurityGroup", "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0a1b2c3d4e5f60718"),
    ("cloudtrail-ec2-authorize-security-group-ingress-private-range.json", Src::Trail, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "AssumedRole", OK, "AWS::EC2::SecurityGroup", "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0a1b2c3d4e5f60718"),
    // Snapshot ARNs have an empty account field (Service Authorization Reference, Amazon EC2 resource types).
    ("cloudtrail-ec2-modify-snapshot-attribute-all.json", Src::Trail, "ec2.amazonaws.com", "ModifySnapshotAttribute", "AssumedRole", OK, "AWS::EC2::Snapshot", "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0"),
    ("cloudtrail-lambda-add-permission-public.json", Src::Trail, "lambda.amazonaws.com", "AddPermission20150331v2", "IAMUser", OK, "AWS::Lambda::Function", "arn:aws:lambda:us-east-1:111122223333:function:report-export"),
    // AWS Config via EventBridge: the item and a diff (Config has no actor; IAM items are in region `global`).
    ("config-s3-bucket-item-change.json", Src::Item, "AWS::S3::Bucket", "UPDATE", "Unknown", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    ("config-iam-role-item-change.json", Src::Item, "AWS::IAM::Role", "UPDATE", "Unknown", OK, "AWS::IAM::Role", "arn:aws:iam::111122223333:role/partner-access"),
    // Custom-rule invocations (AWS Config Developer Guide, "Example Events for AWS Config Rules").
    ("configrule-s3-bucket-invocation.json", Src::Rule, "AWS::S3::Bucket", "UPDATE", "Unknown", OK, "AWS::S3::Bucket", "arn:aws:s3:::reports-prod"),
    ("configrule-iam-role-invocation.json", Src::Rule, "AWS::IAM::Role", "UPDATE", "Unknown", OK, "AWS::IAM::Role", "arn:aws:iam::111122223333:role/partner-access"),
    ("configrule-scheduled-notification.json", Src::Rule, "AWS::Config::ConfigRule", "Scheduled", "Unknown", OK, "AWS::Config::ConfigRule", "arn:aws:config:us-east-1:111122223333:config-rule/config-rule-7xk2qp"),
    // Config delivery channel -> SNS -> Lambda: the notification is the SNS `Message` string.
    ("sns-config-item-change.json", Src::Item, "AWS::IAM::Policy", "UPDATE", "Unknown", OK, "AWS::IAM::Policy", "arn:aws:iam::111122223333:policy/app-deployer"),
];

#[test]
fn every_events_file_is_accepted() {
    // Other issues add files to events/: each must be accepted (a change, an ignored event, or an
    // oversized-item fetch), whoever wrote it.
    let mut count = 0;
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        if let Err(e) = intake(&bytes) {
            panic!("{}: {e}", path.display());
        }
        count += 1;
    }
    assert!(count >= 30, "issue 2 asks for at least 30 samples, found {count}");
}

#[test]
fn events_files_normalize_as_expected() {
    for &(file, src, service, event_name, identity, error_code, rtype, rid) in EXPECTED {
        let change = change_of(file);
        let got_src = match &change.source {
            ChangeSource::CloudTrail => Src::Trail,
            ChangeSource::ConfigItem { .. } => Src::Item,
            ChangeSource::ConfigRule { .. } => Src::Rule,
        };
        assert_eq!(got_src, src, "{file}: source");
        assert_eq!(change.service, service, "{file}: service");
        assert_eq!(change.event_name, event_name, "{file}: event name");
        assert_eq!(
            change.actor.identity_type,
            IdentityType::parse(identity),
            "{file}: identity type"
        );
        match (&change.outcome, error_code) {
            (Outcome::Success, None) => {}
            (Outcome::Failed { error_code: got, .. }, Some(want)) => assert_eq!(got, want, "{file}"),
            (got, want) => panic!("{file}: outcome {got:?}, expected error code {want:?}"),
        }
        let primary = change
            .resources
            .first()
            .unwrap_or_else(|| panic!("{file}: no resource"));
        assert_eq!(primary.resource_type, rtype, "{file}: resource type");
        let id = primary.arn.as_deref().or(primary.name.as_deref());
        assert_eq!(id, Some(rid), "{file}: primary resource");
        assert_eq!(change.account, "111122223333", "{file}: account");
        assert!(
            !change.event_id.is_empty() && !change.time.is_empty(),
            "{file}: id and time"
        );
    }
}

/// Payload details later code relies on, as JSON pointers into the serialized intake.
#[rustfmt::skip]
const PAYLOAD_CHECKS: &[(&str, &str, &str)] = &[
    // IAM documents arrive as JSON strings and are decoded in place.
    ("cloudtrail-iam-create-policy-version-widening.json", "/payload/request_parameters/policyDocument/Statement/2/Action", r#"["lambda:CreateFunction","iam:PassRole"]"#),
    ("cloudtrail-iam-create-policy-version-reordered.json", "/payload/request_parameters/policyDocument/Statement/0/Sid", r#""UpdateFunctionCode""#),
    ("cloudtrail-iam-put-role-policy.json", "/payload/request_parameters/policyDocument/Statement/0/Action", r#""*""#),
    ("cloudtrail-iam-update-assume-role-policy-public.json", "/payload/request_parameters/policyDocument/Statement/0/Principal", r#"{"AWS":"*"}"#),
    // Lambda's AddPermission response carries the statement as a JSON string.
    ("cloudtrail-lambda-add-permission-public.json", "/payload/response_elements/statement/Principal", r#""*""#),
    // S3 policies are objects already; ACL grants stay as logged (a single object here).
    ("cloudtrail-s3-put-bucket-policy-public.json", "/payload/request_parameters/bucketPolicy/Statement/0/Principal", r#""*""#),
    ("cloudtrail-s3-put-bucket-acl-grants-allusers.json", "/payload/request_parameters/AccessControlPolicy/AccessControlList/Grant/Grantee/URI", r#""http://acs.amazonaws.com/groups/global/AllUsers""#),
    ("cloudtrail-s3-put-bucket-acl-public-read.json", "/payload/request_parameters/x-amz-acl", r#"["public-read"]"#),
    ("cloudtrail-s3-put-bucket-public-access-block-disabled.json", "/payload/request_parameters/PublicAccessBlockConfiguration/BlockPublicPolicy", "false"),
    // Short CLI form of AuthorizeSecurityGroupIngress: top-level cidrIp and an empty ipPermissions.
    ("cloudtrail-ec2-authorize-security-group-ingress-world-ssh.json", "/payload/request_parameters/cidrIp", r#""0.0.0.0/0""#),
    ("cloudtrail-ec2-authorize-security-group-ingress-private-range.json", "/payload/request_parameters/ipPermissions/items/0/ipRanges/items/0/cidrIp", r#""10.20.0.0/16""#),
    ("cloudtrail-ec2-modify-snapshot-attribute-all.json", "/payload/request_parameters/createVolumePermission/add/items/0/group", r#""all""#),
    // Record fields that are not normalized stay available in `extra`.
    ("cloudtrail-s3-get-bucket-policy-read-only.json", "/payload/extra/readOnly", "true"),
    ("cloudtrail-s3-get-bucket-policy-read-only.json", "/source/kind", r#""cloudtrail""#),
    ("cloudtrail-s3-put-bucket-policy-public.json", "/payload/extra/readOnly", "false"),
    ("cloudtrail-s3-put-bucket-policy-public.json", "/actor/session_issuer", r#""arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_3c1e9a8f2b7d4e60""#),
    // Root's `sessionIssuer: {}` yields no issuer.
    ("cloudtrail-iam-create-access-key-root.json", "/actor/session_issuer", "null"),
    ("cloudtrail-iam-create-access-key-root.json", "/resources/1/name", r#""AKIA4EXAMPLER8T2QW6N""#),
    ("cloudtrail-iam-attach-role-policy-admin.json", "/resources/1/arn", r#""arn:aws:iam::aws:policy/AdministratorAccess""#),
    // Config: URL-encoded IAM documents decoded in the configuration and in the diff.
    ("config-iam-role-item-change.json", "/payload/configuration/assumeRolePolicyDocument/Statement/0/Principal", r#"{"AWS":"*"}"#),
    ("config-iam-role-item-change.json", "/payload/configuration/rolePolicyList/0/policyDocument/Statement/0/Action", r#"["s3:GetObject"]"#),
    ("config-iam-role-item-change.json", "/payload/diff/changedProperties/Configuration.AssumeRolePolicyDocument/previousValue/Statement/0/Principal", r#"{"AWS":"arn:aws:iam::444455556666:root"}"#),
    ("config-iam-role-item-change.json", "/payload/diff/changedProperties/Configuration.AssumeRolePolicyDocument/updatedValue/Statement/0/Principal", r#"{"AWS":"*"}"#),
    ("config-iam-role-item-change.json", "/region", r#""global""#),
    // S3 items: JSON-string supplementary values (ACL, policy text) decoded; Block Public Access as logged.
    ("config-s3-bucket-item-change.json", "/payload/supplementary/BucketPolicy/policyText/Statement/0/Principal", r#""*""#),
    ("config-s3-bucket-item-change.json", "/payload/supplementary/AccessControlList/grantList/0/permission", r#""FullControl""#),
    ("config-s3-bucket-item-change.json", "/payload/supplementary/PublicAccessBlockConfiguration/blockPublicPolicy", "false"),
    ("config-s3-bucket-item-change.json", "/payload/diff/changedProperties/SupplementaryConfiguration.BucketPolicy/previousValue/policyText/Statement/0/Sid", r#""DenyInsecureTransport""#),
    ("config-s3-bucket-item-change.json", "/payload/diff/changedProperties/SupplementaryConfiguration.PublicAccessBlockConfiguration/previousValue/blockPublicAcls", "true"),
    ("config-s3-bucket-item-change.json", "/payload/tags/env", r#""prod""#),
    ("config-s3-bucket-item-change.json", "/payload/status", r#""OK""#),
    // EventBridge Config events keep the envelope id as the event id.
    ("config-s3-bucket-item-change.json", "/event_id", r#""09b53bd8-0bd9-538a-bde7-75d5b550fc5a""#),
    // Rule invocations carry what PutEvaluations needs; ruleParameters parsed from its JSON string.
    ("configrule-s3-bucket-invocation.json", "/source/config_rule_name", r#""tripline-on-config""#),
    ("configrule-s3-bucket-invocation.json", "/source/event_left_scope", "false"),
    ("configrule-s3-bucket-invocation.json", "/source/rule_parameters/TrustedAccountIds", r#""444455556666""#),
    ("configrule-iam-role-invocation.json", "/payload/diff", "null"),
    ("configrule-scheduled-notification.json", "/payload/kind", r#""scheduled""#),
    ("configrule-scheduled-notification.json", "/source/message_type", r#""ScheduledNotification""#),
    ("sns-config-item-change.json", "/payload/configuration/policyVersionList/1/document/Statement/2/Action", r#"["lambda:CreateFunction","iam:PassRole"]"#),
    ("sns-config-item-change.json", "/payload/diff/changedProperties/Configuration.PolicyVersionList.1/updatedValue/document/Statement/2/Sid", r#""CreateFunctions""#),
    ("sns-config-item-change.json", "/payload/diff/changedProperties/Configuration.DefaultVersionId/updatedValue", r#""v3""#),
];

#[test]
fn payloads_keep_what_rules_need() {
    for &(file, pointer, expected) in PAYLOAD_CHECKS {
        let value = serde_json::to_value(intake(&load(file)).unwrap()).unwrap();
        let got = value
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{file}: nothing at {pointer}"));
        let want: Value = serde_json::from_str(expected).unwrap();
        assert_eq!(got, &want, "{file} at {pointer}");
    }
}

#[test]
fn cloudtrail_payload_is_the_record() {
    let change = change_of("cloudtrail-s3-put-bucket-policy-public.json");
    let Payload::CloudTrail {
        request_parameters,
        extra,
        ..
    } = &change.payload
    else {
        panic!("expected a cloudtrail payload");
    };
    assert_eq!(request_parameters["bucketName"], json!("reports-prod"));
    for normalized in ["userIdentity", "eventName", "requestParameters", "eventID"] {
        assert!(
            extra.get(normalized).is_none(),
            "{normalized} is normalized, not extra"
        );
    }
}

fn variant(e: &IntakeError) -> &'static str {
    match e {
        IntakeError::Json { .. } => "Json",
        IntakeError::TooLarge { .. } => "TooLarge",
        IntakeError::MissingField { .. } => "MissingField",
        IntakeError::WrongType { .. } => "WrongType",
        IntakeError::InvalidValue { .. } => "InvalidValue",
        IntakeError::EmbeddedJson { .. } => "EmbeddedJson",
        IntakeError::UnknownShape { .. } => "UnknownShape",
    }
}

/// An EventBridge CloudTrail event around `detail`.
fn eventbridge(detail: Value) -> Vec<u8> {
    json!({
        "version": "0", "id": "5d2f1e4c-0b7a-4c7e-9a51-0e8f6f3b2a10", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.s3", "account": "111122223333", "time": "2026-11-28T14:03:27Z", "region": "us-east-1",
        "resources": [], "detail": detail
    })
    .to_string()
    .into_bytes()
}

/// A minimal valid CloudTrail record with `field` replaced by `value` (`null` removes it).
fn record_with(field: &str, value: Value) -> Value {
    let mut rec = json!({
        "eventVersion": "1.10",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob", "accountId": "111122223333"},
        "eventTime": "2026-11-28T14:03:27Z", "eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy",
        "awsRegion": "us-east-1", "requestParameters": {"bucketName": "reports-prod"}, "responseElements": null,
        "eventID": "0f6c1a52-7a1e-4a53-8d0e-6b1c9d2e3f40", "recipientAccountId": "111122223333"
    });
    set_pointer(&mut rec, field, value);
    rec
}

fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = root.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    if value.is_null() {
        parent.remove(key);
    } else {
        parent.insert(key.to_owned(), value);
    }
}

/// A Config custom-rule invocation with the given `invokingEvent` string and overrides.
fn rule_invocation(invoking_event: &str, overrides: Value) -> Vec<u8> {
    let mut inv = json!({
        "version": "1.0", "invokingEvent": invoking_event, "ruleParameters": "{}", "resultToken": "token-1",
        "eventLeftScope": false, "executionRoleArn": "arn:aws:iam::111122223333:role/config-role",
        "configRuleArn": "arn:aws:config:us-east-1:111122223333:config-rule/config-rule-abc123",
        "configRuleName": "tripline", "configRuleId": "config-rule-abc123", "accountId": "111122223333"
    });
    for (k, v) in overrides.as_object().unwrap() {
        set_pointer(&mut inv, &format!("/{k}"), v.clone());
    }
    inv.to_string().into_bytes()
}

fn sns_event(message: Value) -> Vec<u8> {
    json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": {
        "Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "TopicArn": "arn:aws:sns:us-east-1:111122223333:config-topic", "Message": message}}]})
    .to_string()
    .into_bytes()
}

fn deep(open: &str, close: &str, depth: usize) -> Vec<u8> {
    format!("{}{}", open.repeat(depth), close.repeat(depth)).into_bytes()
}

#[test]
fn malformed_input_gets_a_typed_error() {
    let item_change = |item: Value| {
        json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": item}).to_string()
    };
    let ten_mb = {
        let mut v = br#"{"pad":""#.to_vec();
        v.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
        v.extend(br#""}"#);
        v
    };
    // (case, payload, expected variant, fragment of the message)
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("empty input", vec![], "Json", "malformed json at line 1 column 0: eof while parsing a value"),
        ("not json", b"hello".to_vec(), "Json", "malformed json at line 1 column 1: expected value"),
        ("trailing data", b"{} {}".to_vec(), "Json", "trailing characters"),
        ("invalid utf-8", b"{\"a\":\"\xff\"}".to_vec(), "Json", "invalid unicode"),
        ("truncated", b"{\"detail-type\": \"AWS API".to_vec(), "Json", "eof while parsing a string"),
        // serde_json's recursion limit (128) stops deep nesting before the stack does.
        ("arrays nested 10,000 deep", deep("[", "]", 10_000), "Json", "recursion limit exceeded"),
        ("objects nested 10,000 deep", deep("{\"a\":", "}", 10_000), "Json", "recursion limit exceeded"),
        ("10 mb payload", ten_mb, "TooLarge", "payload of 10485770 bytes exceeds the limit of 6291456 bytes"),
        ("top-level array", b"[]".to_vec(), "WrongType", "field `$` in payload should be an object, found array"),
        ("top-level string", b"\"event\"".to_vec(), "WrongType", "should be an object, found string"),
        ("empty object", b"{}".to_vec(), "UnknownShape", "top-level keys: none"),
        ("unknown object", br#"{"foo": 1, "bar": 2}"#.to_vec(), "UnknownShape", "top-level keys: `bar`, `foo`"),
        ("missing detail", br#"{"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3"}"#.to_vec(), "MissingField", "missing field `detail` in eventbridge event"),
        ("null detail", br#"{"detail-type": "AWS API Call via CloudTrail", "detail": null}"#.to_vec(), "MissingField", "missing field `detail`"),
        ("detail is a string", br#"{"detail-type": "AWS API Call via CloudTrail", "detail": "x"}"#.to_vec(), "WrongType", "field `detail` in cloudtrail record should be an object, found string"),
        ("detail-type is a number", br#"{"detail-type": 7, "detail": {}}"#.to_vec(), "WrongType", "field `detail-type` in eventbridge event should be a string, found number"),
        ("missing eventName", eventbridge(record_with("/eventName", Value::Null)), "MissingField", "missing field `detail.eventName` in cloudtrail record"),
        ("eventSource is a number", eventbridge(record_with("/eventSource", json!(3))), "WrongType", "field `detail.eventSource` in cloudtrail record should be a string, found number"),
        ("userIdentity is a string", eventbridge(record_with("/userIdentity", json!("root"))), "WrongType", "field `detail.userIdentity` in cloudtrail record should be an object"),
        ("userIdentity.type is an array", eventbridge(record_with("/userIdentity/type", json!([]))), "WrongType", "field `detail.userIdentity.type`"),
        ("sessionIssuer is an array", eventbridge(record_with("/userIdentity/sessionContext", json!({"sessionIssuer": []}))), "WrongType", "field `detail.userIdentity.sessionContext.sessionIssuer`"),
        ("errorCode is an object", eventbridge(record_with("/errorCode", json!({}))), "WrongType", "field `detail.errorCode`"),
        ("resources is an object", eventbridge(record_with("/resources", json!({}))), "WrongType", "field `detail.resources` in cloudtrail record should be an array"),
        ("bare record without eventTime", record_with("/eventTime", Value::Null).to_string().into_bytes(), "MissingField", "missing field `eventTime` in cloudtrail record"),
        ("log file with two records", json!({"Records": [record_with("/eventID", json!("a")), record_with("/eventID", json!("b"))]}).to_string().into_bytes(), "InvalidValue", "invalid value `2 records` for field `Records`"),
        ("invokingEvent is not json", rule_invocation("{\"messageType\":", json!({})), "EmbeddedJson", "field `invokingEvent` in config rule invocation is not valid json"),
        ("invokingEvent nested 10,000 deep", rule_invocation(&"[".repeat(10_000), json!({})), "EmbeddedJson", "recursion limit exceeded"),
        ("invokingEvent is a number", rule_invocation("{}", json!({"invokingEvent": 5})), "WrongType", "field `invokingEvent` in config rule invocation should be a json string"),
        ("ruleParameters is not json", rule_invocation(r#"{"messageType":"ScheduledNotification","notificationCreationTime":"2026-11-28T00:00:00Z"}"#, json!({"ruleParameters": "{x"})), "EmbeddedJson", "field `ruleParameters`"),
        ("eventLeftScope is a number", rule_invocation(r#"{"messageType":"ScheduledNotification"}"#, json!({"eventLeftScope": 1})), "WrongType", "field `eventLeftScope` in config rule invocation should be a boolean, found number"),
        ("missing resultToken", rule_invocation(r#"{"messageType":"ScheduledNotification"}"#, json!({"resultToken": null})), "MissingField", "missing field `resultToken` in config rule invocation"),
        ("missing messageType", rule_invocation("{}", json!({})), "MissingField", "missing field `invokingEvent.messageType` in config rule invocation"),
        ("item change without item", rule_invocation(r#"{"messageType":"ConfigurationItemChangeNotification"}"#, json!({})), "MissingField", "missing field `invokingEvent.configurationItem`"),
        ("item without resourceType", rule_invocation(&item_change(json!({"awsAccountId": "111122223333", "awsRegion": "us-east-1"})), json!({})), "MissingField", "missing field `invokingEvent.configurationItem.resourceType`"),
        ("diff is a string", rule_invocation(&json!({"messageType": "ConfigurationItemChangeNotification", "configurationItemDiff": "x", "configurationItem": {"resourceType": "AWS::S3::Bucket", "awsAccountId": "111122223333", "awsRegion": "us-east-1", "configurationItemCaptureTime": "2026-11-28T00:00:00Z"}}).to_string(), json!({})), "WrongType", "field `invokingEvent.configurationItemDiff`"),
        ("oversized without bucket/key", rule_invocation(r#"{"messageType":"OversizedConfigurationItemChangeNotification","s3DeliverySummary":{"s3BucketLocation":"only-a-bucket"}}"#, json!({})), "InvalidValue", "invalid value `only-a-bucket` for field `invokingEvent.s3DeliverySummary.s3BucketLocation`"),
        ("oversized without delivery summary", rule_invocation(r#"{"messageType":"OversizedConfigurationItemChangeNotification"}"#, json!({})), "MissingField", "missing field `invokingEvent.s3DeliverySummary`"),
        ("sns event without records", br#"{"Records": [{"EventSource": "aws:sns"}, {"EventSource": "aws:sns"}]}"#.to_vec(), "InvalidValue", "an sns lambda event carries exactly one record"),
        ("sns record without Sns", br#"{"Records": [{"EventSource": "aws:sns"}]}"#.to_vec(), "MissingField", "missing field `Records[0].Sns` in sns message"),
        ("sns message is broken json", sns_event(json!("{\"messageType\": ")), "EmbeddedJson", "field `Records[0].Sns.Message` in sns message is not valid json"),
        ("sns message is a number", sns_event(json!(42)), "WrongType", "field `Records[0].Sns.Message` in sns message should be a string"),
        ("sns config item without resourceType", sns_event(json!(item_change(json!({})))), "MissingField", "missing field `Records[0].Sns.Message.configurationItem.resourceType` in config notification"),
    ];
    for (case, payload, want_variant, fragment) in cases {
        let err = match intake(&payload) {
            Err(e) => e,
            Ok(ok) => panic!("{case}: expected an error, got {ok:?}"),
        };
        let message = err.to_string();
        assert_eq!(variant(&err), want_variant, "{case}: {message}");
        assert!(
            message.contains(fragment),
            "{case}: `{message}` lacks `{fragment}`"
        );
        assert!(!message.contains('\n'), "{case}: one line");
        assert!(
            message.starts_with(|c: char| c.is_ascii_lowercase()),
            "{case}: lowercase: {message}"
        );
    }
}

#[test]
fn irrelevant_payloads_are_ignored_with_a_reason() {
    let sns_bare = |kind: &str, message: &str| {
        json!({"Type": kind, "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
               "TopicArn": "arn:aws:sns:us-east-1:111122223333:config-topic", "Message": message})
        .to_string()
        .into_bytes()
    };
    let eb = |detail_type: &str, source: &str| {
        json!({"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": detail_type,
               "source": source, "account": "111122223333", "time": "2026-11-28T00:00:00Z",
               "region": "us-east-1", "resources": [], "detail": {}})
        .to_string()
        .into_bytes()
    };
    // (case, payload, fragment of the reason)
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "scheduled eventbridge event",
            eb("Scheduled Event", "aws.events"),
            "detail-type `Scheduled Event` from `aws.events`",
        ),
        (
            "health event",
            eb("AWS Health Event", "aws.health"),
            "`AWS Health Event`",
        ),
        (
            "config compliance change",
            eb("Config Rules Compliance Change", "aws.config"),
            "`Config Rules Compliance Change`",
        ),
        (
            "cloudtrail insight",
            eb("AWS Insight via CloudTrail", "aws.cloudtrail"),
            "`AWS Insight via CloudTrail`",
        ),
        // The sample `aws_lambda_events` ships (a periodic rule fired by a snapshot delivery).
        (
            "config snapshot delivered",
            rule_invocation(
                r#"{"configSnapshotId":"00000000-0000-0000-0000-000000000000","s3ObjectKey":"AWSLogs/111122223333/Config/us-east-1/2026/11/28/ConfigSnapshot/x.json.gz","s3Bucket":"config-bucket","notificationCreationTime":"2026-11-28T18:23:20.328Z","messageType":"ConfigurationSnapshotDeliveryCompleted","recordVersion":"1.1"}"#,
                json!({}),
            ),
            "config message type `ConfigurationSnapshotDeliveryCompleted`",
        ),
        (
            "oversized item not delivered",
            rule_invocation(
                r#"{"messageType":"OversizedConfigurationItemChangeNotification","s3DeliverySummary":{"s3BucketLocation":null,"errorCode":"AccessDenied","errorMessage":"Access Denied"}}"#,
                json!({}),
            ),
            "not delivered to s3: `AccessDenied`",
        ),
        (
            "sns subscription confirmation",
            sns_bare("SubscriptionConfirmation", "You have chosen to subscribe"),
            "sns `SubscriptionConfirmation` message",
        ),
        (
            "sns plain text",
            sns_bare("Notification", "Hello\r\nworld!"),
            "is not a json object",
        ),
        (
            "sns unrelated json",
            sns_event(json!("{\"alarm\": \"cpu\"}")),
            "is not a config notification or an aws event",
        ),
        (
            "config scheduled outside a rule",
            sns_event(json!("{\"messageType\":\"ScheduledNotification\"}")),
            "outside a rule invocation",
        ),
    ];
    for (case, payload, fragment) in cases {
        match intake(&payload) {
            Ok(Intake::Ignored { reason }) => {
                assert!(reason.contains(fragment), "{case}: `{reason}` lacks `{fragment}`")
            }
            other => panic!("{case}: expected ignored, got {other:?}"),
        }
    }
}

#[test]
fn oversized_notification_asks_for_the_item_then_takes_it() {
    // AWS Config Developer Guide, "Example Events for AWS Config Rules": oversized items are announced with
    // `s3DeliverySummary.s3BucketLocation` = `bucket/key`.
    let announced = intake(&load("configrule-oversized-notification.json")).unwrap();
    let Intake::FetchOversized {
        bucket,
        key,
        result_token,
        config_rule_name,
        ..
    } = &announced
    else {
        panic!("expected a fetch, got {announced:?}");
    };
    assert_eq!(bucket, "config-bucket-111122223333");
    assert!(
        key.starts_with("AWSLogs/111122223333/Config/global/") && key.ends_with(".json.gz"),
        "{key}"
    );
    assert!(result_token.as_deref().is_some_and(|t| !t.is_empty()));
    assert_eq!(config_rule_name.as_deref(), Some("tripline-on-config"));
    let ctx = announced.oversized_context().unwrap();

    // The S3 object is the full notification; here, the one the SNS sample carries.
    let sns: Value = serde_json::from_slice(&load("sns-config-item-change.json")).unwrap();
    let full = sns["Records"][0]["Sns"]["Message"]
        .as_str()
        .unwrap()
        .as_bytes()
        .to_vec();
    let bare_item =
        serde_json::to_vec(&serde_json::from_slice::<Value>(&full).unwrap()["configurationItem"]).unwrap();
    // (case, fetched bytes, context, expected diff is null)
    let cases = [
        ("full notification", full.clone(), ctx.clone(), false),
        ("bare configuration item", bare_item, ctx.clone(), true),
        (
            "outside a rule invocation",
            full,
            OversizedContext::default(),
            false,
        ),
    ];
    for (case, bytes, ctx, diff_is_null) in cases {
        let Ok(Intake::Change(change)) = intake_oversized_item(&bytes, &ctx) else {
            panic!("{case}: expected a change");
        };
        assert_eq!(change.service, "AWS::IAM::Policy", "{case}");
        assert_eq!(
            change.resources[0].arn.as_deref(),
            Some("arn:aws:iam::111122223333:policy/app-deployer"),
            "{case}"
        );
        match (&change.source, &ctx.result_token) {
            (
                ChangeSource::ConfigRule {
                    result_token,
                    message_type,
                    ..
                },
                Some(token),
            ) => {
                assert_eq!(result_token, token, "{case}");
                assert_eq!(
                    message_type, "OversizedConfigurationItemChangeNotification",
                    "{case}"
                );
            }
            (ChangeSource::ConfigItem { message_type }, None) => {
                assert_eq!(
                    message_type, "OversizedConfigurationItemChangeNotification",
                    "{case}"
                )
            }
            (source, token) => panic!("{case}: source {source:?} with token {token:?}"),
        }
        let Payload::Config {
            configuration, diff, ..
        } = &change.payload
        else {
            panic!("{case}: expected a config payload");
        };
        assert_eq!(
            configuration["policyVersionList"][1]["document"]["Statement"][2]["Sid"],
            json!("CreateFunctions"),
            "{case}"
        );
        assert_eq!(diff.is_null(), diff_is_null, "{case}");
    }
    let bad = intake_oversized_item(b"[1]", &ctx).unwrap_err();
    assert_eq!(
        bad.to_string(),
        "field `$` in oversized configuration item should be an object, found array"
    );
}

#[test]
fn sns_message_is_read_with_or_without_the_lambda_envelope() {
    let event: Value = serde_json::from_slice(&load("sns-config-item-change.json")).unwrap();
    let bare = serde_json::to_vec(&event["Records"][0]["Sns"]).unwrap();
    let via_lambda = intake(&load("sns-config-item-change.json")).unwrap();
    assert_eq!(intake(&bare).unwrap(), via_lambda);
    // The notification body alone (as Config writes it to S3 or a user pastes it) reads the same.
    let body = event["Records"][0]["Sns"]["Message"].as_str().unwrap();
    assert_eq!(intake(body.as_bytes()).unwrap(), via_lambda);
    // So does an EventBridge event delivered through an SNS topic.
    let eb = String::from_utf8(load("cloudtrail-s3-put-bucket-policy-public.json")).unwrap();
    let wrapped =
        json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Type": "Notification", "Message": eb}}]});
    assert_eq!(
        intake(wrapped.to_string().as_bytes()).unwrap(),
        intake(&load("cloudtrail-s3-put-bucket-policy-public.json")).unwrap()
    );
}

#[test]
fn cloudtrail_record_is_read_bare_or_in_a_log_file() {
    let event: Value = serde_json::from_slice(&load("cloudtrail-iam-create-access-key-root.json")).unwrap();
    let via_eventbridge = intake(&load("cloudtrail-iam-create-access-key-root.json")).unwrap();
    let bare = serde_json::to_vec(&event["detail"]).unwrap();
    let log_file = serde_json::to_vec(&json!({"Records": [event["detail"].clone()]})).unwrap();
    assert_eq!(intake(&bare).unwrap(), via_eventbridge);
    assert_eq!(intake(&log_file).unwrap(), via_eventbridge);
}

#[test]
fn account_and_fallbacks_follow_the_documented_order() {
    // account = recipientAccountId, else userIdentity.accountId, else the EventBridge `account`.
    let rec = |recipient: Option<&str>, identity: Option<&str>| {
        let mut r = record_with("/recipientAccountId", recipient.map_or(Value::Null, |a| json!(a)));
        set_pointer(
            &mut r,
            "/userIdentity/accountId",
            identity.map_or(Value::Null, |a| json!(a)),
        );
        r
    };
    let cases = [
        (rec(Some("111111111111"), Some("222222222222")), "111111111111"),
        (rec(None, Some("222222222222")), "222222222222"),
        (rec(None, None), "111122223333"),
    ];
    for (detail, want) in cases {
        let Ok(Intake::Change(c)) = intake(&eventbridge(detail)) else {
            panic!("expected a change")
        };
        assert_eq!(c.account, want);
    }
}

#[test]
fn rule_invocation_reports_a_resource_that_left_scope() {
    let mut inv: Value = serde_json::from_slice(&load("configrule-iam-role-invocation.json")).unwrap();
    inv["eventLeftScope"] = json!(true);
    let Ok(Intake::Change(change)) = intake(&serde_json::to_vec(&inv).unwrap()) else {
        panic!("expected a change");
    };
    let ChangeSource::ConfigRule { event_left_scope, .. } = change.source else {
        panic!("expected a rule invocation");
    };
    assert!(event_left_scope);
}

#[test]
fn cloudtrail_borne_detail_types_are_changes() {
    // Amazon EventBridge delivers CloudTrail records under several detail-types (EventBridge User Guide,
    // "Events from AWS services"); all carry a CloudTrail record in `detail`.
    let envelope = |detail_type: &str, detail: Value| {
        json!({"version": "0", "id": "2b8f4f9e-5d55-4b6e-a0c1-55f2f3a1c9d0", "detail-type": detail_type,
               "source": "aws.signin", "account": "111122223333", "time": "2026-11-28T07:55:31Z",
               "region": "us-east-1", "resources": [], "detail": detail})
        .to_string()
        .into_bytes()
    };
    let console_login = json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root",
                         "accountId": "111122223333", "accessKeyId": ""},
        "eventTime": "2026-11-28T07:55:30Z", "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.8", "userAgent": "Mozilla/5.0",
        "requestParameters": null, "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"},
        "eventID": "7c2b3f0e-2d4a-4f0f-9a51-3c1d2e4f5a60", "readOnly": false, "eventType": "AwsConsoleSignIn",
        "managementEvent": true, "recipientAccountId": "111122223333", "eventCategory": "Management"
    });
    let service_event = json!({
        "eventVersion": "1.08",
        "userIdentity": {"accountId": "111122223333", "invokedBy": "config.amazonaws.com"},
        "eventTime": "2026-11-28T09:00:00Z", "eventSource": "config.amazonaws.com", "eventName": "ConfigurationItemsRecorded",
        "awsRegion": "us-east-1", "sourceIPAddress": "config.amazonaws.com", "userAgent": "config.amazonaws.com",
        "requestParameters": null, "responseElements": null, "eventID": "0a6c9d3b-8e2f-4b1a-9c7d-5e4f3a2b1c0d",
        "readOnly": false, "eventType": "AwsServiceEvent", "managementEvent": true,
        "recipientAccountId": "111122223333", "eventCategory": "Management"
    });
    // (detail-type, detail, event name, identity type, invoked by)
    let cases = [
        (
            "AWS Console Sign In via CloudTrail",
            console_login,
            "ConsoleLogin",
            IdentityType::Root,
            None,
        ),
        (
            "AWS Service Event via CloudTrail",
            service_event,
            "ConfigurationItemsRecorded",
            IdentityType::Unknown,
            Some("config.amazonaws.com"),
        ),
    ];
    for (detail_type, detail, event_name, identity, invoked_by) in cases {
        let Ok(Intake::Change(c)) = intake(&envelope(detail_type, detail)) else {
            panic!("{detail_type}: expected a change");
        };
        assert_eq!(c.source, ChangeSource::CloudTrail, "{detail_type}");
        assert_eq!(c.event_name, event_name, "{detail_type}");
        assert_eq!(c.actor.identity_type, identity, "{detail_type}");
        assert_eq!(c.actor.invoked_by.as_deref(), invoked_by, "{detail_type}");
        assert!(c.outcome.is_success(), "{detail_type}");
    }
}
