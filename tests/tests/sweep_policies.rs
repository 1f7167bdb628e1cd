//! The sweep judges KMS key policies, ECR repository policies and Lambda function policies (issues 16 and
//! 19) against the emulator, through the production readers (`shared/aws/src/sdk/service_policies.rs`):
//! each kind by its public rule and its cross-account rule; a grant to the own account, a trusted account
//! or the trusted organization is quiet; a resource without a policy is read and quiet; an exemption tag
//! read with the kind's tag call silences the finding (it is listed as suppressed); Lambda layer versions
//! by `lambda-layer-public`. Resources in a second region are listed and judged there (every enabled
//! region of the partition is swept).
//!
//! Shapes: KMS `PutKeyPolicy` (policy name `default`), ECR `SetRepositoryPolicy`, Lambda `AddPermission`
//! (`Principal` an account's root ARN: the emulator writes a bare account id as given, where Lambda writes
//! `{"AWS": "arn:aws:iam::<account>:root"}`; Lambda Developer Guide, "Viewing resource-based IAM policies in
//! Lambda").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde_json::{json, Value};
use tripline_aws::app::assess::assess_account;
use tripline_aws::sdk::service_policies;
use tripline_aws::AwsClients;
use tripline_core::rules::SweepContext;
use tripline_core::settings::RuleConfig;
use tripline_integration::{emulator, new_account, unique};

const OUT: &str = "444455556666";
const TRUSTED: &str = "777788889999";
const ORG: &str = "o-a1b2c3d4e5";

fn root(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

fn doc(principal: Value, action: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Grant", "Effect": "Allow",
        "Principal": principal, "Action": action, "Resource": "*"}]})
    .to_string()
}

/// A customer-managed key whose `default` policy grants `principal` (besides the own account's root).
async fn key(kms: &aws_sdk_kms::Client, account: &str, principal: Value) -> String {
    let k = kms.create_key().send().await.unwrap();
    let meta = k.key_metadata().unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": root(account)}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Use", "Effect": "Allow", "Principal": principal, "Action": "kms:Decrypt", "Resource": "*"}]});
    kms.put_key_policy()
        .key_id(meta.key_id())
        .policy_name("default")
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    meta.key_id().to_owned()
}

async fn repository(ecr: &aws_sdk_ecr::Client, principal: Option<Value>, exempt: Option<&str>) -> String {
    let name = format!("team/{}", unique("repo"));
    let mut create = ecr.create_repository().repository_name(&name);
    if let Some(rule) = exempt {
        create = create.tags(
            aws_sdk_ecr::types::Tag::builder()
                .key("tripline:exempt")
                .value(rule)
                .build()
                .unwrap(),
        );
    }
    create.send().await.unwrap();
    if let Some(p) = principal {
        ecr.set_repository_policy()
            .repository_name(&name)
            .policy_text(doc(p, "ecr:BatchGetImage"))
            .send()
            .await
            .unwrap();
    }
    name
}

fn zip() -> Vec<u8> {
    // A zip with one stored `bootstrap` entry, written by hand (no zip crate in the test's dependencies):
    // the emulator stores the code without running it.
    let mut out = Vec::new();
    let data = b"#!/bin/sh\n";
    let crc = crc32(data);
    let name = b"bootstrap";
    let mut local = Vec::new();
    local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    local.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    local.extend_from_slice(&crc.to_le_bytes());
    local.extend_from_slice(&(data.len() as u32).to_le_bytes());
    local.extend_from_slice(&(data.len() as u32).to_le_bytes());
    local.extend_from_slice(&(name.len() as u16).to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes());
    local.extend_from_slice(name);
    local.extend_from_slice(data);
    let mut central = Vec::new();
    central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    central.extend_from_slice(&crc.to_le_bytes());
    central.extend_from_slice(&(data.len() as u32).to_le_bytes());
    central.extend_from_slice(&(data.len() as u32).to_le_bytes());
    central.extend_from_slice(&(name.len() as u16).to_le_bytes());
    central.extend_from_slice(&[0; 12]);
    central.extend_from_slice(&0u32.to_le_bytes());
    central.extend_from_slice(name);
    out.write_all(&local).unwrap();
    let offset = out.len() as u32;
    out.write_all(&central).unwrap();
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

async fn function_role(aws: &AwsClients) -> String {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    aws.iam
        .create_role()
        .role_name(unique("fn-role"))
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_owned()
}

/// A function with one permission: `principal` (+ `org`: `PrincipalOrgID`), or none.
async fn function(
    lambda: &aws_sdk_lambda::Client,
    role: &str,
    principal: Option<&str>,
    org: Option<&str>,
) -> String {
    let name = unique("fn");
    lambda
        .create_function()
        .function_name(&name)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role(role)
        .handler("bootstrap")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    if let Some(p) = principal {
        lambda
            .add_permission()
            .function_name(&name)
            .statement_id("grant")
            .action("lambda:InvokeFunction")
            .principal(p)
            .set_principal_org_id(org.map(str::to_owned))
            .send()
            .await
            .unwrap();
    }
    name
}

/// A layer version, shared with every account (`principal` `*`, no organization) or not shared. The
/// emulator writes account and organization grants in shapes IAM does not (ARCHITECTURE.md, emulator
/// table): those are judged in `shared/core/tests/rules_lambda_layer.rs`.
async fn layer(lambda: &aws_sdk_lambda::Client, public: bool) -> (String, String) {
    let name = unique("layer");
    let v = lambda
        .publish_layer_version()
        .layer_name(&name)
        .content(
            aws_sdk_lambda::types::LayerVersionContentInput::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    if public {
        lambda
            .add_layer_version_permission()
            .layer_name(&name)
            .version_number(v.version())
            .statement_id("public")
            .action("lambda:GetLayerVersion")
            .principal("*")
            .send()
            .await
            .unwrap();
    }
    (name, v.layer_version_arn().unwrap().to_owned())
}

fn config() -> RuleConfig {
    let env: BTreeMap<String, String> = [
        ("TRIPLINE_TRUSTED_ACCOUNT_IDS", TRUSTED),
        ("TRIPLINE_ORGANIZATION_ID", ORG),
        ("TRIPLINE_ORGANIZATION_ACCOUNT_IDS", "111100001111"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    tripline_core::rules::config_from_env(&env).unwrap()
}

const KINDS: &[&str] = &[
    "AWS::KMS::Key",
    "AWS::ECR::Repository",
    "AWS::Lambda::Function",
    "AWS::Lambda::LayerVersion",
];

/// `(rule, resource name, suppressed)` of the findings on this file's kinds.
fn found(out: &tripline_aws::app::assess::AccountAssessment) -> BTreeSet<(String, String, bool)> {
    out.assessed
        .iter()
        .filter(|a| KINDS.contains(&a.resource_type))
        .flat_map(|a| a.evaluation.findings.iter())
        .map(|f| {
            (
                f.rule.clone(),
                f.resource.name.clone().unwrap_or_default(),
                f.suppressed.is_some(),
            )
        })
        .collect()
}

#[tokio::test]
async fn sweep_judges_key_repository_and_function_policies() {
    let account = new_account();
    let aws = emulator().clients(&account).await;

    // KMS: outside account, everyone, trusted account, own account only.
    let k_out = key(&aws.kms, &account, json!({"AWS": root(OUT)})).await;
    let k_public = key(&aws.kms, &account, json!("*")).await;
    let _k_trusted = key(&aws.kms, &account, json!({"AWS": root(TRUSTED)})).await;
    let _k_own = key(&aws.kms, &account, json!({"AWS": root(&account)})).await;

    // ECR: outside, everyone, outside but exempt by tag, no policy.
    let r_out = repository(&aws.ecr, Some(json!({"AWS": root(OUT)})), None).await;
    let r_public = repository(&aws.ecr, Some(json!("*")), None).await;
    let r_exempt = repository(
        &aws.ecr,
        Some(json!({"AWS": root(OUT)})),
        Some("ecr-repository-cross-account-access"),
    )
    .await;
    let _r_none = repository(&aws.ecr, None, None).await;

    // Lambda: outside account, everyone, everyone in the trusted organization, no policy.
    let role = function_role(&aws).await;
    let f_out = function(&aws.lambda, &role, Some(root(OUT).as_str()), None).await;
    let f_public = function(&aws.lambda, &role, Some("*"), None).await;
    let _f_org = function(&aws.lambda, &role, Some("*"), Some(ORG)).await;
    let _f_none = function(&aws.lambda, &role, None, None).await;

    // Lambda layers: a version shared with every account, a version not shared.
    let (l_public, l_public_arn) = layer(&aws.lambda, true).await;
    let _l_none = layer(&aws.lambda, false).await;

    // Another region: a public repository and a key granted to an outside account, judged there.
    let eu = "eu-west-1";
    let r_eu = repository(&service_policies::ecr_in(&aws.ecr, eu), Some(json!("*")), None).await;
    let k_eu = key(
        &service_policies::kms_in(&aws.kms, eu),
        &account,
        json!({"AWS": root(OUT)}),
    )
    .await;

    let ctx = SweepContext {
        account: &account,
        region: "us-east-1",
        time: "2026-12-06T03:00:00Z",
    };
    let out = assess_account(&aws, &config(), &ctx, 8).await.unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);

    let key_arn = |id: &str| format!("arn:aws:kms:us-east-1:{account}:key/{id}");
    let expected: BTreeSet<(String, String, bool)> = [
        ("kms-key-cross-account-access", k_out.clone(), false),
        ("kms-key-policy-public", k_public.clone(), false),
        ("ecr-repository-cross-account-access", r_out.clone(), false),
        ("ecr-repository-policy-public", r_public.clone(), false),
        ("ecr-repository-cross-account-access", r_exempt.clone(), true),
        ("lambda-function-cross-account-access", f_out.clone(), false),
        ("lambda-function-public", f_public.clone(), false),
        ("lambda-layer-public", l_public.clone(), false),
        ("ecr-repository-policy-public", r_eu.clone(), false),
        ("kms-key-cross-account-access", k_eu.clone(), false),
    ]
    .into_iter()
    .map(|(r, n, s)| (r.to_owned(), n, s))
    .collect();
    assert_eq!(found(&out), expected);

    // The findings name the resources by their ARNs; the outside account is the evidence.
    let arns: BTreeSet<&str> = out
        .assessed
        .iter()
        .filter(|a| !a.evaluation.findings.is_empty() && KINDS.contains(&a.resource_type))
        .map(|a| a.arn.as_str())
        .collect();
    assert!(arns.contains(key_arn(&k_out).as_str()), "{arns:?}");
    assert!(arns.contains(l_public_arn.as_str()), "{arns:?}");
    // Each finding is in its resource's region.
    for a in out.assessed.iter().filter(|a| KINDS.contains(&a.resource_type)) {
        for f in &a.evaluation.findings {
            let region = a.arn.split(':').nth(3).unwrap();
            assert_eq!(f.region, region, "{}", a.arn);
        }
    }
    let eu_arns: BTreeSet<&str> = arns
        .iter()
        .copied()
        .filter(|a| a.contains(":eu-west-1:"))
        .collect();
    assert_eq!(
        eu_arns,
        [
            format!("arn:aws:ecr:eu-west-1:{account}:repository/{r_eu}"),
            format!("arn:aws:kms:eu-west-1:{account}:key/{k_eu}"),
        ]
        .iter()
        .map(String::as_str)
        .collect::<BTreeSet<&str>>(),
    );
    assert!(arns.contains(format!("arn:aws:lambda:us-east-1:{account}:function:{f_out}").as_str()));
    for f in out
        .assessed
        .iter()
        .filter(|a| KINDS.contains(&a.resource_type))
        .flat_map(|a| a.evaluation.findings.iter())
        .filter(|f| f.rule.ends_with("-cross-account-access"))
    {
        assert_eq!(
            f.evidence.details["external_accounts"],
            json!([OUT]),
            "{}",
            f.rule
        );
    }
    // Every key, repository, function and layer version was read in both regions (none without a policy
    // is skipped).
    assert_eq!(out.checked["AWS::KMS::Key"], 5, "{:?}", out.checked);
    assert_eq!(out.checked["AWS::ECR::Repository"], 5, "{:?}", out.checked);
    assert_eq!(out.checked["AWS::Lambda::Function"], 4, "{:?}", out.checked);
    assert_eq!(out.checked["AWS::Lambda::LayerVersion"], 2, "{:?}", out.checked);
}
