//! `lambda-layer-public` and `lambda-layer-cross-account-access` (issues 16 and 19), and the sweep's
//! judgement of the kinds added with them (KMS keys, ECR repositories, Lambda functions, Lambda layer
//! versions), each case with the AWS documentation it follows.
//!
//! Sources quoted below:
//! - [ALVP] Lambda API Reference, AddLayerVersionPermission
//!   (https://docs.aws.amazon.com/lambda/latest/api/API_AddLayerVersionPermission.html): "You can grant
//!   permission to a single account, all accounts in an organization, or all AWS accounts"; `Principal`:
//!   "An account ID, or * to grant layer usage permission to all accounts in an organization, or all AWS
//!   accounts (if organizationId is not specified). For the last case, make sure that you really do want
//!   all AWS accounts to have usage permission to this layer"; `OrganizationId`: "With the principal set to
//!   *, grant permission to all accounts in the specified organization"; the response's `Statement` is the
//!   permission statement (an account as `{"AWS":"arn:aws:iam::<account>:root"}`).
//! - [LAYERS] Lambda Developer Guide, "Granting layer access to other accounts"
//!   (https://docs.aws.amazon.com/lambda/latest/dg/permissions-layer-cross-account.html): grant to one
//!   account, to every account of an organization (`--principal '*' --organization-id o-...`), or to all
//!   accounts (`--principal '*'`); the layer version policy is read with `get-layer-version-policy`.
//! - [AA] IAM User Guide, "IAM Access Analyzer findings"
//!   (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-findings.html): a principal outside
//!   the zone of trust (the account, the organization) is external access; Access Analyzer lists Lambda
//!   layer versions among its supported resource types ("Lambda functions and layers").
//! - [KMS] AWS KMS Developer Guide, "Key policies" / API Reference GetKeyPolicy: every key has exactly one
//!   key policy, named `default`; "AWS managed keys" have a policy AWS sets (the sweep reads customer keys).
//! - [ECR] Amazon ECR User Guide, "Private repository policies": a repository policy granting another
//!   account's principals pull (`ecr:BatchGetImage`).
//! - [LAMBDA] Lambda Developer Guide, "Granting function access to other accounts": `add-permission
//!   --principal <account>` writes `{"AWS": "arn:aws:iam::<account>:root"}`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use tripline_core::rules;
use tripline_core::rules::external::{assess_swept, Exposure, SweptKindId, SweptResource, SWEPT_KINDS};
use tripline_core::rules::SweepContext;
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake};

const OWN: &str = "111122223333";
const OUT: &str = "444455556666";
const ORG: &str = "o-a1b2c3d4e5";
const SAMPLE: &str = "cloudtrail-lambda-add-layer-version-permission-";

fn change_of(file: &str) -> tripline_core::Change {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(file);
    match intake(&std::fs::read(path).unwrap()).unwrap() {
        Intake::Change(c) => *c,
        other => panic!("{file}: expected a change, got {other:?}"),
    }
}

fn config(env: &[(&str, &str)]) -> RuleConfig {
    let env: BTreeMap<String, String> = env.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    rules::config_from_env(&env).unwrap()
}

/// `(rule, severity)` of the layer rules' findings on a change.
fn layer_findings(c: &tripline_core::Change, cfg: &RuleConfig) -> Vec<(String, String)> {
    let eval = rules::evaluate(c, None, cfg);
    assert!(eval.errors.is_empty(), "{:?}", eval.errors);
    eval.findings
        .iter()
        .filter(|f| f.rule.starts_with("lambda-layer-"))
        .map(|f| (f.rule.clone(), format!("{:?}", f.severity)))
        .collect()
}

/// The samples, judged with the zone of trust as configured.
#[test]
#[rustfmt::skip]
fn samples_against_the_zone_of_trust() {
    let default = RuleConfig::default();
    let org = config(&[("TRIPLINE_ORGANIZATION_ID", ORG)]);
    let other_org = config(&[("TRIPLINE_ORGANIZATION_ID", "o-z9y8x7w6v5")]);
    let trusted = config(&[("TRIPLINE_TRUSTED_ACCOUNT_IDS", OUT)]);
    let public = vec![("lambda-layer-public".to_owned(), "High".to_owned())];
    let cross = vec![("lambda-layer-cross-account-access".to_owned(), "Medium".to_owned())];
    let cases: Vec<(&str, &RuleConfig, Vec<(String, String)>, &str)> = vec![
        ("public.json", &default, public.clone(), "[ALVP] * without organizationId: all AWS accounts"),
        ("public.json", &org, public.clone(), "[ALVP] an organization configured does not narrow `*` without organizationId"),
        ("public.json", &trusted, public.clone(), "[ALVP] trusted accounts do not narrow `*`"),
        ("organization.json", &default, cross.clone(), "[ALVP]+[AA] * with organizationId: that organization, outside when none is configured"),
        ("organization.json", &org, vec![], "[AA] the organization of the zone of trust"),
        ("organization.json", &other_org, cross.clone(), "[AA] another organization"),
        ("account.json", &default, cross.clone(), "[ALVP] an account id, outside the zone"),
        ("account.json", &trusted, vec![], "[AA] a trusted account"),
        ("account.json", &org, cross.clone(), "[AA] an organization configured, membership unknown: still reported"),
        ("own-account.json", &default, vec![], "[AA] the own account"),
    ];
    for (file, cfg, expected, source) in cases {
        let got = layer_findings(&change_of(&format!("{SAMPLE}{file}")), cfg);
        assert_eq!(got, expected, "{file} ({source})");
    }
    // The evidence names the outside account, or the organization a `*` is limited to; the finding names
    // the layer version.
    let eval = rules::evaluate(&change_of(&format!("{SAMPLE}account.json")), None, &default);
    let f = eval.findings.iter().find(|f| f.rule == "lambda-layer-cross-account-access").unwrap();
    assert_eq!(f.evidence.details["external_accounts"], json!([OUT]));
    assert_eq!(f.resource.resource_type, "AWS::Lambda::LayerVersion");
    assert_eq!(f.resource.arn, format!("arn:aws:lambda:us-east-1:{OWN}:layer:shared-utils:3"));
    assert_eq!(f.resource.name.as_deref(), Some("shared-utils"));
    assert!(f.summary.contains("shared-utils version 3"), "{}", f.summary);
    let eval = rules::evaluate(&change_of(&format!("{SAMPLE}organization.json")), None, &default);
    let f = eval.findings.iter().find(|f| f.rule == "lambda-layer-cross-account-access").unwrap();
    assert!(f.evidence.reasons.iter().any(|r| r.contains(ORG)), "{:?}", f.evidence.reasons);
}

/// A record without the response's statement is judged from its request ([ALVP] request fields); one
/// without `principal` cannot be judged and says so.
#[test]
#[rustfmt::skip]
fn request_only_records() {
    let base = change_of(&format!("{SAMPLE}public.json"));
    let org = config(&[("TRIPLINE_ORGANIZATION_ID", ORG)]);
    let with = |req: Value| {
        let mut c = base.clone();
        if let tripline_core::change::Payload::CloudTrail { request_parameters, response_elements, .. } = &mut c.payload {
            *request_parameters = req;
            *response_elements = Value::Null;
        } else {
            panic!("not a CloudTrail payload");
        }
        c
    };
    let req = |principal: &str, org_id: Option<&str>| {
        let mut r = json!({"layerName": "shared-utils", "versionNumber": 3, "statementId": "s", "action": "lambda:GetLayerVersion", "principal": principal});
        if let Some(o) = org_id {
            r["organizationId"] = json!(o);
        }
        r
    };
    let cases: &[(&str, Value, &[&str])] = &[
        ("* without organizationId", req("*", None), &["lambda-layer-public"]),
        ("* with the configured organization", req("*", Some(ORG)), &[]),
        ("* with another organization", req("*", Some("o-z9y8x7w6v5")), &["lambda-layer-cross-account-access"]),
        ("an outside account", req(OUT, None), &["lambda-layer-cross-account-access"]),
        ("the own account", req(OWN, None), &[]),
        ("an outside account's root ARN", req(&format!("arn:aws:iam::{OUT}:root"), None), &["lambda-layer-cross-account-access"]),
        ("a layer ARN as layerName", json!({"layerName": format!("arn:aws:lambda:us-east-1:{OWN}:layer:shared-utils"), "versionNumber": 3, "action": "lambda:GetLayerVersion", "principal": "*"}), &["lambda-layer-public"]),
    ];
    for (name, r, expected) in cases {
        let got: Vec<String> = layer_findings(&with(r.clone()), &org).into_iter().map(|(r, _)| r).collect();
        assert_eq!(got, expected.to_vec(), "{name}");
    }
    let eval = rules::evaluate(&with(json!({"layerName": "shared-utils", "versionNumber": 3, "action": "lambda:GetLayerVersion"})), None, &org);
    assert_eq!(eval.errors.len(), 2, "both rules say what the record lacks: {:?}", eval.errors);
    assert!(eval.errors.iter().all(|e| format!("{e:?}").contains("requestParameters.principal")), "{:?}", eval.errors);
    assert!(eval.findings.iter().all(|f| !f.rule.starts_with("lambda-layer-")));
}

/// The sweep's judgement of the policies read for the kinds of this wave: both rules of the kind on one
/// read, the same zone of trust.
#[test]
#[rustfmt::skip]
fn sweep_judges_keys_repositories_functions_and_layers() {
    let ctx = SweepContext { account: OWN, region: "us-east-1", time: "2026-12-06T03:00:00Z" };
    let kind = |id: SweptKindId| SWEPT_KINDS.iter().find(|k| k.id == id).unwrap();
    let res = |arn: &str, exposure: Exposure| SweptResource {
        id: arn.into(), arn: arn.into(), name: "r".into(), exposure, tags: Some(BTreeMap::new()),
    };
    let doc = |stmt: Value| Exposure::Policy(Some(json!({"Version": "2012-10-17", "Statement": [stmt]})));
    let key = format!("arn:aws:kms:us-east-1:{OWN}:key/0b5c7f2e-1d3a-4c8b-9e6f-7a8b9c0d1e2f");
    let repo = format!("arn:aws:ecr:us-east-1:{OWN}:repository/team/app");
    let function = format!("arn:aws:lambda:us-east-1:{OWN}:function:report-export");
    let layer = format!("arn:aws:lambda:us-east-1:{OWN}:layer:shared-utils:3");
    let org = config(&[("TRIPLINE_ORGANIZATION_ID", ORG)]);
    let cases: Vec<(&str, SweptKindId, &str, Exposure, Vec<&str>)> = vec![
        ("[KMS] key policy for an outside account", SweptKindId::KmsKey, key.as_str(), doc(json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OUT}:root")}, "Action": "kms:Decrypt", "Resource": "*"})), vec!["kms-key-cross-account-access"]),
        ("[KMS] key policy for everyone", SweptKindId::KmsKey, key.as_str(), doc(json!({"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"})), vec!["kms-key-policy-public"]),
        ("[KMS] key policy for the own account's root", SweptKindId::KmsKey, key.as_str(), doc(json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OWN}:root")}, "Action": "kms:*", "Resource": "*"})), vec![]),
        ("[ECR] pull for an outside account", SweptKindId::EcrRepository, repo.as_str(), doc(json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OUT}:root")}, "Action": "ecr:BatchGetImage"})), vec!["ecr-repository-cross-account-access"]),
        ("[ECR] pull for everyone", SweptKindId::EcrRepository, repo.as_str(), doc(json!({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"})), vec!["ecr-repository-policy-public"]),
        ("[ECR] repository without a policy", SweptKindId::EcrRepository, repo.as_str(), Exposure::Policy(None), vec![]),
        ("[LAMBDA] invoke for an outside account", SweptKindId::LambdaFunction, function.as_str(), doc(json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OUT}:root")}, "Action": "lambda:InvokeFunction", "Resource": function})), vec!["lambda-function-cross-account-access"]),
        ("[LAMBDA] invoke for everyone", SweptKindId::LambdaFunction, function.as_str(), doc(json!({"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": function})), vec!["lambda-function-public"]),
        ("[LAYERS] layer version for all accounts", SweptKindId::LambdaLayerVersion, layer.as_str(), doc(json!({"Sid": "public", "Effect": "Allow", "Principal": "*", "Action": "lambda:GetLayerVersion", "Resource": layer})), vec!["lambda-layer-public"]),
        ("[LAYERS] layer version for the configured organization", SweptKindId::LambdaLayerVersion, layer.as_str(), doc(json!({"Effect": "Allow", "Principal": "*", "Action": "lambda:GetLayerVersion", "Resource": layer, "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}})), vec![]),
        ("[LAYERS] layer version for another organization", SweptKindId::LambdaLayerVersion, layer.as_str(), doc(json!({"Effect": "Allow", "Principal": "*", "Action": "lambda:GetLayerVersion", "Resource": layer, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-z9y8x7w6v5"}}})), vec!["lambda-layer-cross-account-access"]),
        ("[LAYERS] layer version for an outside account", SweptKindId::LambdaLayerVersion, layer.as_str(), doc(json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OUT}:root")}, "Action": "lambda:GetLayerVersion", "Resource": layer})), vec!["lambda-layer-cross-account-access"]),
        ("[LAYERS] layer version without a policy", SweptKindId::LambdaLayerVersion, layer.as_str(), Exposure::Policy(None), vec![]),
    ];
    for (name, id, arn, exposure, expected) in cases {
        let eval = assess_swept(&ctx, kind(id), &res(arn, exposure), &org);
        assert!(eval.errors.is_empty(), "{name}: {:?}", eval.errors);
        let got: Vec<&str> = eval.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(got, expected, "{name}");
        for f in &eval.findings {
            assert_eq!(f.resource.arn, arn, "{name}");
            assert_eq!(f.resource.resource_type, kind(id).resource_type, "{name}");
        }
    }
}
