//! External access as IAM Access Analyzer defines it (issue 19): one zone of trust for every cross-account
//! rule, data-driven, each case with the AWS documentation it follows.
//!
//! Sources quoted below:
//! - [AA] IAM User Guide, "IAM Access Analyzer findings"
//!   (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-findings.html): "a finding for each
//!   instance of a resource-based policy that grants access to a resource within your zone of trust to a
//!   principal that is not within your zone of trust ... Any principal in the organization or account that
//!   you choose for the analyzer is considered trusted".
//! - [KEYS] IAM User Guide, "AWS global condition context keys"
//!   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
//!   aws:PrincipalOrgID "compare the identifier of the organization ... to which the requesting principal
//!   belongs"; aws:PrincipalOrgPaths "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/..."; aws:SourceAccount "only
//!   available when the call to your resource is being made directly by an AWS service principal", the
//!   account of the resource the service acts for; aws:SourceArn likewise, its ARN.
//! - [LP] EC2 API Reference, LaunchPermission
//!   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LaunchPermission.html): `Group` (`all`),
//!   `OrganizationArn`, `OrganizationalUnitArn`, `UserId` ("The AWS account ID").
//! - [CVP] EC2 API Reference, CreateVolumePermission
//!   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolumePermission.html): `Group`
//!   (`all`) or `UserId`; ModifySnapshotAttribute "You may add or remove specified AWS account IDs from a
//!   snapshot's list of create volume permissions".
//! - [RDS] RDS API Reference, ModifyDBSnapshotAttribute
//!   (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html):
//!   "specify restore as the AttributeName and use the ValuesToAdd parameter to add a list of IDs of the AWS
//!   accounts that are authorized to restore ... Use the value all to make the manual DB snapshot public";
//!   `ValuesToRemove` "A list of DB snapshot attributes to remove". ModifyDBClusterSnapshotAttribute: same.
//! - [ORG] Organizations ARNs (Service Authorization Reference, AWS Organizations resource types):
//!   `arn:aws:organizations::<account>:organization/o-<id>`, `arn:aws:organizations::<account>:ou/o-<id>/ou-<id>`.
//! - [LAMBDA] Lambda Developer Guide, "Granting function access to other accounts"
//!   (https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-cross-account.html): `add-permission
//!   --principal <account-id>` writes `"Principal":{"AWS":"arn:aws:iam::<account-id>:root"}`; function URLs
//!   (`lambda:InvokeFunctionUrl`, `FunctionUrlAuthType`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{json, Value};
use tripline_core::finding::Finding;
use tripline_core::policy::{self, Policy, ShareTarget, Trusted};
use tripline_core::rules;
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake};

const OWN: &str = "111122223333";
const OUT: &str = "444455556666";
const ORG: &str = "o-a1b2c3d4e5";

fn zone(org: Option<&str>, members: Option<&[&str]>, extra: &[&str]) -> Trusted {
    let mut accounts: BTreeSet<String> = extra.iter().map(|a| (*a).to_owned()).collect();
    accounts.insert(OWN.to_owned());
    Trusted {
        accounts,
        organization_id: org.map(str::to_owned),
        organization_accounts: members.map(|m| m.iter().map(|a| (*a).to_owned()).collect()),
    }
}

fn stmt(principal: Value, cond: Value) -> Policy {
    let mut s =
        json!({"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage", "Resource": "*"});
    if !cond.is_null() {
        s["Condition"] = cond;
    }
    Policy::parse(&json!({"Version": "2012-10-17", "Statement": [s]})).unwrap()
}

/// Policy grants against the zone: (case, source, policy, zone, expected (account, membership unknown)).
#[test]
#[rustfmt::skip]
fn policy_grants_against_the_zone() {
    let none = zone(None, None, &[]);
    let org_unknown = zone(Some(ORG), None, &[]);
    let org_known = zone(Some(ORG), Some(&[OUT]), &[]);
    let trusted = zone(None, None, &[OUT]);
    let cases: Vec<(&str, &str, Policy, &Trusted, Vec<(Option<&str>, bool)>)> = vec![
        ("own account", "[AA] the account is the zone", stmt(json!({"AWS": format!("arn:aws:iam::{OWN}:root")}), Value::Null), &none, vec![]),
        ("outside account", "[AA] a principal not in the zone", stmt(json!({"AWS": OUT}), Value::Null), &none, vec![(Some(OUT), false)]),
        ("configured trusted account", "[AA] TRIPLINE_TRUSTED_ACCOUNT_IDS widen the zone", stmt(json!({"AWS": OUT}), Value::Null), &trusted, vec![]),
        ("org configured, membership unknown", "[AA] members are trusted; unknown membership is said", stmt(json!({"AWS": OUT}), Value::Null), &org_unknown, vec![(Some(OUT), true)]),
        ("known member", "[AA] member accounts of the organization are in the zone", stmt(json!({"AWS": OUT}), Value::Null), &org_known, vec![]),
        ("PrincipalOrgID pinned to the organization", "[KEYS] aws:PrincipalOrgID", stmt(json!("*"), json!({"StringEquals": {"aws:PrincipalOrgID": ORG}})), &org_unknown, vec![]),
        ("PrincipalOrgPaths inside the organization", "[KEYS] aws:PrincipalOrgPaths o-.../r-.../ou-...", stmt(json!("*"), json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [format!("{ORG}/r-ab12/ou-ab12-11111111/*")]}})), &org_unknown, vec![]),
        ("PrincipalOrgPaths of another organization", "[KEYS] the path names its organization first", stmt(json!("*"), json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-z9y8x7w6v5/*"]}})), &org_unknown, vec![(None, false)]),
        ("PrincipalOrgPaths prefix trick", "[KEYS] `o-a1b2c3d4e5x/` is another organization", stmt(json!("*"), json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [format!("{ORG}x/*")]}})), &org_unknown, vec![(None, false)]),
        ("PrincipalOrgID without a configured organization", "[AA] an organization outside the zone", stmt(json!("*"), json!({"StringEquals": {"aws:PrincipalOrgID": ORG}})), &none, vec![(None, false)]),
        ("service pinned to the own account", "[KEYS] aws:SourceAccount: the service acts for that account", stmt(json!({"Service": "s3.amazonaws.com"}), json!({"StringEquals": {"aws:SourceAccount": OWN}})), &none, vec![]),
        ("service pinned to an outside account", "[KEYS] aws:SourceAccount", stmt(json!({"Service": "s3.amazonaws.com"}), json!({"StringEquals": {"aws:SourceAccount": OUT}})), &none, vec![(Some(OUT), false)]),
        ("service pinned by SourceArn to an outside account", "[KEYS] aws:SourceArn names the account", stmt(json!({"Service": "events.amazonaws.com"}), json!({"ArnLike": {"aws:SourceArn": format!("arn:aws:events:us-east-1:{OUT}:rule/r")}})), &none, vec![(Some(OUT), false)]),
        ("service pinned by SourceArn to the own account", "[KEYS] aws:SourceArn", stmt(json!({"Service": "events.amazonaws.com"}), json!({"ArnLike": {"aws:SourceArn": format!("arn:aws:events:us-east-1:{OWN}:rule/r")}})), &none, vec![]),
        ("SNS default policy: * pinned by aws:SourceOwner to the own account", "[KEYS] aws:SourceOwner (SNS's default topic policy)", stmt(json!({"AWS": "*"}), json!({"StringEquals": {"AWS:SourceOwner": OWN}})), &none, vec![]),
        ("* pinned by aws:SourceAccount to an outside account", "[KEYS] aws:SourceAccount", stmt(json!("*"), json!({"StringEquals": {"aws:SourceAccount": OUT}})), &none, vec![(Some(OUT), false)]),
        ("AWS * pinned by aws:PrincipalAccount to an outside account", "[KEYS] aws:PrincipalAccount", stmt(json!({"AWS": "*"}), json!({"StringEquals": {"aws:PrincipalAccount": OUT}})), &none, vec![(Some(OUT), false)]),
        ("* pinned by aws:PrincipalArn to the own account", "[KEYS] aws:PrincipalArn carries the account", stmt(json!("*"), json!({"ArnLike": {"aws:PrincipalArn": format!("arn:aws:iam::{OWN}:role/r")}})), &none, vec![]),
        ("unpinned service", "left to the public rule (not an account)", stmt(json!({"Service": "s3.amazonaws.com"}), Value::Null), &none, vec![]),
        ("service pinned by an S3 ARN (no account field)", "[KEYS] an S3 ARN names no account: unpinned", stmt(json!({"Service": "s3.amazonaws.com"}), json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::reports"}})), &none, vec![]),
    ];
    for (name, source, p, z, expected) in cases {
        let got: Vec<(Option<String>, bool)> =
            policy::cross_account(&p, z).into_iter().map(|g| (g.account, g.membership_unknown)).collect();
        let expected: Vec<(Option<String>, bool)> =
            expected.into_iter().map(|(a, u)| (a.map(str::to_owned), u)).collect();
        assert_eq!(got, expected, "{name} ({source})");
    }
}

/// Shares against the zone: (case, source, targets, zone, expected targets reported).
#[test]
#[rustfmt::skip]
fn shares_against_the_zone() {
    let none = zone(None, None, &[]);
    let org = zone(Some(ORG), None, &[]);
    let trusted = zone(None, None, &[OUT]);
    let org_arn = format!("arn:aws:organizations::{OWN}:organization/{ORG}");
    let ou_arn = format!("arn:aws:organizations::{OWN}:ou/{ORG}/ou-ab12-11111111");
    let other_org = "arn:aws:organizations::444455556666:organization/o-z9y8x7w6v5".to_owned();
    let other_ou = "arn:aws:organizations::444455556666:ou/o-z9y8x7w6v5/ou-zz99-99999999".to_owned();
    let cases: Vec<(&str, &str, Vec<ShareTarget>, &Trusted, Vec<&str>)> = vec![
        ("own account", "[CVP] UserId", vec![ShareTarget::Account(OWN.into())], &none, vec![]),
        ("outside account", "[CVP] UserId", vec![ShareTarget::Account(OUT.into())], &none, vec![OUT]),
        ("trusted account", "[AA]", vec![ShareTarget::Account(OUT.into())], &trusted, vec![]),
        ("group all is the public rule's", "[CVP] Group all", vec![ShareTarget::Group("all".into())], &none, vec![]),
        ("trusted organization", "[LP] OrganizationArn, [ORG]", vec![ShareTarget::Organization(org_arn.clone())], &org, vec![]),
        ("trusted OU", "[LP] OrganizationalUnitArn, [ORG]", vec![ShareTarget::OrganizationalUnit(ou_arn.clone())], &org, vec![]),
        ("organization without a configured one", "[AA]", vec![ShareTarget::Organization(org_arn.clone())], &none, vec![org_arn.as_str()]),
        ("other organization", "[LP], [ORG]", vec![ShareTarget::Organization(other_org.clone())], &org, vec![other_org.as_str()]),
        ("OU of another organization", "[LP], [ORG]", vec![ShareTarget::OrganizationalUnit(other_ou.clone())], &org, vec![other_ou.as_str()]),
        ("RDS restore value that is no account id", "[RDS] account ids or all", vec![ShareTarget::Account("not-an-account".into())], &none, vec!["not-an-account"]),
    ];
    for (name, source, targets, z, expected) in cases {
        let got: Vec<String> = policy::shares_outside(&targets, z).into_iter().map(|s| s.target).collect();
        assert_eq!(got, expected, "{name} ({source})");
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

fn cross_findings(change: &tripline_core::Change, cfg: &RuleConfig) -> Vec<Finding> {
    let eval = rules::evaluate(change, None, cfg);
    assert!(eval.errors.is_empty(), "{:?}", eval.errors);
    eval.findings
        .into_iter()
        .filter(|f| {
            f.rule.ends_with("-cross-account-access") || f.rule == "iam-trust-policy-external-account"
        })
        .collect()
}

/// Every firing sample of every external-access rule (the new ones and the existing S3 and trust-policy
/// rules): fires by default, lists the outside account in its evidence, and is silenced exactly by
/// trusting that account ([AA]) or by listing it as a member of the configured organization.
#[test]
#[rustfmt::skip]
fn settings_silence_exactly_the_trusted_grants() {
    let samples: &[(&str, &str, &str)] = &[
        ("cloudtrail-ec2-modify-snapshot-attribute-account.json", "ec2-snapshot-cross-account-access", "[CVP] add userId"),
        ("cloudtrail-ec2-modify-image-attribute-account.json", "ec2-image-cross-account-access", "[LP] add userId"),
        ("cloudtrail-rds-modify-db-snapshot-attribute-account.json", "rds-snapshot-cross-account-access", "[RDS] valuesToAdd"),
        ("cloudtrail-rds-modify-db-cluster-snapshot-attribute-account.json", "rds-snapshot-cross-account-access", "[RDS] cluster snapshot valuesToAdd"),
        ("cloudtrail-kms-put-key-policy-account.json", "kms-key-cross-account-access", "[AA] key policy"),
        ("cloudtrail-sqs-set-queue-attributes-policy-account.json", "sqs-queue-cross-account-access", "[AA] queue policy"),
        ("cloudtrail-sns-set-topic-attributes-policy-account.json", "sns-topic-cross-account-access", "[AA] topic policy"),
        ("cloudtrail-secretsmanager-put-resource-policy-account.json", "secretsmanager-secret-cross-account-access", "[AA] secret policy"),
        ("cloudtrail-ecr-set-repository-policy-account.json", "ecr-repository-cross-account-access", "[AA] repository policy"),
        ("cloudtrail-lambda-add-permission-account.json", "lambda-function-cross-account-access", "[LAMBDA] --principal <account>"),
        ("cloudtrail-s3-put-bucket-policy-other-account.json", "s3-bucket-cross-account-access", "[AA] bucket policy"),
        ("cloudtrail-iam-update-assume-role-policy-external.json", "iam-trust-policy-external-account", "[AA] trust policy"),
    ];
    let default = RuleConfig::default();
    let trusted = config(&[("TRIPLINE_TRUSTED_ACCOUNT_IDS", OUT)]);
    let other_trusted = config(&[("TRIPLINE_TRUSTED_ACCOUNT_IDS", "777788889999")]);
    let org_unknown = config(&[("TRIPLINE_ORGANIZATION_ID", ORG)]);
    let member = config(&[("TRIPLINE_ORGANIZATION_ID", ORG), ("TRIPLINE_ORGANIZATION_ACCOUNT_IDS", OUT)]);
    let not_member = config(&[("TRIPLINE_ORGANIZATION_ID", ORG), ("TRIPLINE_ORGANIZATION_ACCOUNT_IDS", "777788889999")]);
    for (file, rule, source) in samples {
        let c = change_of(file);
        let f = cross_findings(&c, &default);
        assert_eq!(f.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(), vec![*rule], "{file} ({source})");
        assert_eq!(f[0].evidence.details["external_accounts"], json!([OUT]), "{file}: evidence lists the outside account");
        assert!(!f[0].evidence.details.contains_key("organization_membership"), "{file}: no organization configured");
        assert!(cross_findings(&c, &trusted).is_empty(), "{file}: trusted account silences it");
        assert_eq!(cross_findings(&c, &other_trusted).len(), 1, "{file}: another trusted account does not");
        assert!(cross_findings(&c, &member).is_empty(), "{file}: a known member silences it");
        assert_eq!(cross_findings(&c, &not_member).len(), 1, "{file}: not a member");
        let unknown = cross_findings(&c, &org_unknown);
        assert_eq!(unknown.len(), 1, "{file}: membership unknown still reports");
        assert_eq!(
            unknown[0].evidence.details["organization_membership"],
            json!({"known": false, "accounts": [OUT]}),
            "{file}: the finding says membership is unknown"
        );
        assert!(unknown[0].evidence.reasons.iter().any(|r| r.contains("organization membership is unknown")), "{file}");
    }
}

/// Quiet twins: own account, removals, organization-pinned (with the organization configured), and public
/// grants (the public rule's, not reported twice).
#[test]
#[rustfmt::skip]
fn quiet_twins() {
    let org = config(&[("TRIPLINE_ORGANIZATION_ID", ORG)]);
    let cases: &[(&str, &RuleConfig, &str)] = &[
        ("cloudtrail-ec2-modify-snapshot-attribute-own-account.json", &RuleConfig::default(), "[AA] own account"),
        ("cloudtrail-ec2-modify-snapshot-attribute-remove.json", &RuleConfig::default(), "[CVP] remove narrows"),
        ("cloudtrail-ec2-modify-image-attribute-remove.json", &RuleConfig::default(), "[LP] remove narrows"),
        ("cloudtrail-rds-modify-db-snapshot-attribute-remove.json", &RuleConfig::default(), "[RDS] ValuesToRemove narrows"),
        ("cloudtrail-kms-put-key-policy-org-pinned.json", &org, "[KEYS] aws:PrincipalOrgID = the organization"),
        ("cloudtrail-kms-put-key-policy-private.json", &RuleConfig::default(), "[AA] own account"),
        ("cloudtrail-lambda-add-permission-service-pinned.json", &RuleConfig::default(), "[KEYS] SourceAccount = own account"),
        ("cloudtrail-ec2-modify-snapshot-attribute-all.json", &RuleConfig::default(), "public: ec2-snapshot-public only"),
        ("cloudtrail-ec2-modify-image-attribute-public.json", &RuleConfig::default(), "public: ec2-image-public only"),
        ("cloudtrail-rds-modify-db-snapshot-attribute-public.json", &RuleConfig::default(), "public: rds-snapshot-public only"),
        ("cloudtrail-rds-modify-db-cluster-snapshot-attribute-public.json", &RuleConfig::default(), "public: rds-cluster-snapshot-public only"),
        ("cloudtrail-kms-put-key-policy-public.json", &RuleConfig::default(), "public: kms-key-policy-public only"),
        ("cloudtrail-sqs-set-queue-attributes-policy-public.json", &RuleConfig::default(), "public: sqs-queue-policy-public only"),
        ("cloudtrail-sns-set-topic-attributes-policy-public.json", &RuleConfig::default(), "public"),
        ("cloudtrail-secretsmanager-put-resource-policy-public.json", &RuleConfig::default(), "public"),
        ("cloudtrail-ecr-set-repository-policy-public.json", &RuleConfig::default(), "public"),
        ("cloudtrail-lambda-add-permission-public.json", &RuleConfig::default(), "public"),
    ];
    for (file, cfg, source) in cases {
        let f = cross_findings(&change_of(file), cfg);
        assert!(f.is_empty(), "{file} ({source}): {:?}", f.iter().map(|f| &f.rule).collect::<Vec<_>>());
    }
}

/// The AMI shared with another organization ([LP] organizationArn) fires; with that organization configured
/// it is quiet; the evidence names the organization ARN.
#[test]
fn ami_shared_with_an_organization() {
    let c = change_of("cloudtrail-ec2-modify-image-attribute-organization.json");
    let arn = "arn:aws:organizations::444455556666:organization/o-z9y8x7w6v5";
    let f = cross_findings(&c, &config(&[("TRIPLINE_ORGANIZATION_ID", ORG)]));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence.details["external_targets"], json!([arn]));
    assert!(
        f[0].evidence.reasons[0].contains("o-z9y8x7w6v5"),
        "{:?}",
        f[0].evidence.reasons
    );
    let f = cross_findings(&c, &config(&[("TRIPLINE_ORGANIZATION_ID", "o-z9y8x7w6v5")]));
    assert!(f.is_empty());
}

/// Lambda shapes ([LAMBDA]): an account principal from the request alone (no response statement), a
/// function URL permission for an outside account, and a service pinned to an outside account.
#[test]
#[rustfmt::skip]
fn lambda_permission_shapes() {
    let base = change_of("cloudtrail-lambda-add-permission-account.json");
    let cases: &[(&str, Value, bool)] = &[
        ("account principal, request only", json!({"functionName": "report-export", "statementId": "p", "action": "lambda:InvokeFunction", "principal": OUT}), true),
        ("function URL for an outside account", json!({"functionName": "report-export", "statementId": "u", "action": "lambda:InvokeFunctionUrl", "principal": OUT, "functionUrlAuthType": "AWS_IAM"}), true),
        ("function URL for the own account", json!({"functionName": "report-export", "statementId": "u", "action": "lambda:InvokeFunctionUrl", "principal": OWN, "functionUrlAuthType": "AWS_IAM"}), false),
        ("service for an outside account", json!({"functionName": "report-export", "statementId": "s", "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com", "sourceAccount": OUT, "sourceArn": "arn:aws:s3:::partner-bucket"}), true),
        ("organization-pinned account principal", json!({"functionName": "report-export", "statementId": "o", "action": "lambda:InvokeFunction", "principal": "*", "principalOrgID": ORG}), false),
    ];
    let org = config(&[("TRIPLINE_ORGANIZATION_ID", ORG)]);
    for (name, req, fires) in cases {
        let mut c = base.clone();
        if let tripline_core::change::Payload::CloudTrail { request_parameters: request, response_elements: response, .. } = &mut c.payload {
            *request = req.clone();
            *response = Value::Null;
        } else {
            panic!("not a CloudTrail payload");
        }
        let f = cross_findings(&c, &org);
        assert_eq!(!f.is_empty(), *fires, "{name}: {f:?}");
    }
}

/// The sweep's judgement of what exists now ([CVP], [LP], [RDS] for shares; [AA] for policies): both the
/// kind's public rule and its cross-account rule run on one read; the same zone and exemptions.
#[test]
#[rustfmt::skip]
fn sweep_judges_current_shares_and_policies() {
    use tripline_core::rules::external::{assess_swept, Exposure, SweptKindId, SweptResource, SWEPT_KINDS};
    use tripline_core::rules::SweepContext;
    let ctx = SweepContext { account: OWN, region: "us-east-1", time: "2026-12-06T03:00:00Z" };
    let kind = |id: SweptKindId| SWEPT_KINDS.iter().find(|k| k.id == id).unwrap();
    let res = |exposure: Exposure, tags: Option<BTreeMap<String, String>>| SweptResource {
        id: "r-1".into(), arn: format!("arn:aws:sqs:us-east-1:{OWN}:r-1"), name: "r-1".into(), exposure, tags,
    };
    let shares = |t: &[ShareTarget]| Exposure::Shares(t.to_vec());
    let policy = |principal: Value| Exposure::Policy(Some(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage", "Resource": "*"}]})));
    let trusted = config(&[("TRIPLINE_TRUSTED_ACCOUNT_IDS", "777788889999")]);
    let exempt_tag: BTreeMap<String, String> =
        [("tripline:exempt".to_owned(), "sqs-queue-cross-account-access".to_owned())].into_iter().collect();
    let cases: Vec<(&str, SweptKindId, Exposure, Option<BTreeMap<String, String>>, Vec<(&str, bool)>)> = vec![
        ("snapshot shared outside", SweptKindId::Ec2Snapshot, shares(&[ShareTarget::Account(OUT.into())]), None, vec![("ec2-snapshot-cross-account-access", false)]),
        ("snapshot shared with a trusted account", SweptKindId::Ec2Snapshot, shares(&[ShareTarget::Account("777788889999".into())]), None, vec![]),
        ("snapshot public: the public rule only", SweptKindId::Ec2Snapshot, shares(&[ShareTarget::Group("all".into())]), None, vec![("ec2-snapshot-public", false)]),
        ("snapshot public and outside: one each", SweptKindId::Ec2Snapshot, shares(&[ShareTarget::Group("all".into()), ShareTarget::Account(OUT.into())]), None, vec![("ec2-snapshot-public", false), ("ec2-snapshot-cross-account-access", false)]),
        ("AMI for another organization", SweptKindId::Ec2Image, shares(&[ShareTarget::Organization("arn:aws:organizations::444455556666:organization/o-z9y8x7w6v5".into())]), None, vec![("ec2-image-cross-account-access", false)]),
        ("RDS cluster snapshot restore outside", SweptKindId::RdsClusterSnapshot, shares(&[ShareTarget::Account(OUT.into())]), None, vec![("rds-snapshot-cross-account-access", false)]),
        ("RDS snapshot not shared", SweptKindId::RdsDbSnapshot, shares(&[]), None, vec![]),
        // issue 16: cluster snapshots have their own public rule; DB snapshots keep `rds-snapshot-public`.
        ("RDS cluster snapshot public: rds-cluster-snapshot-public", SweptKindId::RdsClusterSnapshot, shares(&[ShareTarget::Group("all".into())]), None, vec![("rds-cluster-snapshot-public", false)]),
        ("RDS DB snapshot public: rds-snapshot-public", SweptKindId::RdsDbSnapshot, shares(&[ShareTarget::Group("all".into())]), None, vec![("rds-snapshot-public", false)]),
        ("queue policy outside", SweptKindId::SqsQueue, policy(json!({"AWS": OUT})), None, vec![("sqs-queue-cross-account-access", false)]),
        ("queue policy outside, exempt by tag", SweptKindId::SqsQueue, policy(json!({"AWS": OUT})), Some(exempt_tag.clone()), vec![("sqs-queue-cross-account-access", true)]),
        ("queue policy public: the public rule only", SweptKindId::SqsQueue, policy(json!("*")), None, vec![("sqs-queue-policy-public", false)]),
        ("queue without policy", SweptKindId::SqsQueue, Exposure::Policy(None), None, vec![]),
        ("topic policy own account", SweptKindId::SnsTopic, policy(json!({"AWS": format!("arn:aws:iam::{OWN}:root")})), None, vec![]),
        ("secret policy outside", SweptKindId::SecretsManagerSecret, policy(json!({"AWS": OUT})), None, vec![("secretsmanager-secret-cross-account-access", false)]),
    ];
    for (name, id, exposure, tags, expected) in cases {
        let eval = assess_swept(&ctx, kind(id), &res(exposure, tags), &trusted);
        assert!(eval.errors.is_empty(), "{name}: {:?}", eval.errors);
        let got: Vec<(&str, bool)> = eval.findings.iter().map(|f| (f.rule.as_str(), f.suppressed.is_some())).collect();
        assert_eq!(got, expected, "{name}");
        for f in eval.findings.iter().filter(|f| f.rule.ends_with("-cross-account-access")) {
            assert!(f.evidence.details.contains_key("external_accounts") || f.evidence.details.contains_key("external_targets"), "{name}");
        }
    }
    let eval = assess_swept(&ctx, kind(SweptKindId::SqsQueue), &res(Exposure::Policy(Some(json!("not a policy"))), None), &trusted);
    assert!(eval.findings.is_empty() && eval.errors.len() == 2, "an invalid policy is an error for both rules: {eval:?}");
}
