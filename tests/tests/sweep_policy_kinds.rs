//! The sweep finds pre-existing exposure of the policy kinds issue 16 adds, through the production readers
//! (`shared/aws/src/sdk/policy_kinds.rs`): S3 access points and Multi-Region Access Points (S3 Control), EFS
//! file systems, DynamoDB tables and OpenSearch domains against the emulator; S3 Glacier vaults against a
//! fake Glacier behind the real SDK (moto 5.2.5 has no vault access policies; ARCHITECTURE.md, emulator
//! table). Each kind: a public policy (the public rule only), a grant to an outside account (the
//! cross-account rule), a grant to a trusted account and one to the own account (nothing), no policy
//! (nothing). The "public" definitions are quoted in `shared/core/tests/rules_policy_kinds.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use tripline_aws::app::assess::assess_account;
use tripline_aws::AwsClients;
use tripline_core::rules::SweepContext;
use tripline_core::settings::RuleConfig;
use tripline_integration::{emulator, new_account, unique, Recorded, Recorder, Reply};

const OUT: &str = "444455556666";
const TRUSTED: &str = "777788889999";

fn grant(principal: Value, action: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal,
        "Action": action, "Resource": "*"}]})
    .to_string()
}

fn account_grant(account: &str, action: &str) -> String {
    grant(json!({"AWS": format!("arn:aws:iam::{account}:root")}), action)
}

/// A fake S3 Glacier (REST-JSON, `/{accountId}/vaults...`): `ListVaults`, `GetVaultAccessPolicy` (404
/// `ResourceNotFoundException` for a vault without one, as the Glacier API reference says) and
/// `ListTagsForVault`.
fn glacier_answer(vaults: &BTreeMap<String, Option<String>>, account: &str, r: &Recorded) -> Reply {
    // The vaults are in us-east-1 (the region of the request's signature); the other regions the sweep
    // reads hold none.
    let auth = r.headers.get("authorization").cloned().unwrap_or_default();
    let empty = BTreeMap::new();
    let vaults = if auth.contains("/us-east-1/glacier/") {
        vaults
    } else {
        &empty
    };
    let path = r.path.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let json_reply = |v: Value| Reply::new(200, &v.to_string()).header("content-type", "application/json");
    match parts.as_slice() {
        [_, "vaults"] => json_reply(json!({"VaultList": vaults.keys().map(|n| json!({
            "VaultARN": format!("arn:aws:glacier:us-east-1:{account}:vaults/{n}"), "VaultName": n,
            "CreationDate": "2026-12-01T00:00:00.000Z", "NumberOfArchives": 0, "SizeInBytes": 0}))
            .collect::<Vec<_>>()})),
        [_, "vaults", name, "access-policy"] => match vaults.get(*name) {
            Some(Some(p)) => json_reply(json!({"Policy": p})),
            _ => Reply::new(
                404,
                &json!({"code": "ResourceNotFoundException", "message": "No vault policy", "type": "Client"})
                    .to_string(),
            )
            .header("content-type", "application/json")
            .header("x-amzn-ErrorType", "ResourceNotFoundException"),
        },
        [_, "vaults", _, "tags"] => json_reply(json!({"Tags": {}})),
        _ => Reply::new(400, "{}").header("x-amzn-ErrorType", "InvalidParameterValueException"),
    }
}

async fn access_point(aws: &AwsClients, account: &str, bucket: &str, policy: Option<String>) -> String {
    let name = unique("ap");
    aws.s3control
        .create_access_point()
        .account_id(account)
        .name(&name)
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    if let Some(p) = policy {
        aws.s3control
            .put_access_point_policy()
            .account_id(account)
            .name(&name)
            .policy(p)
            .send()
            .await
            .unwrap();
    }
    name
}

async fn file_system(aws: &AwsClients, policy: Option<String>) -> String {
    let id = aws
        .efs
        .create_file_system()
        .creation_token(unique("fs"))
        .send()
        .await
        .unwrap()
        .file_system_id()
        .to_owned();
    if let Some(p) = policy {
        aws.efs
            .put_file_system_policy()
            .file_system_id(&id)
            .policy(p)
            .send()
            .await
            .unwrap();
    }
    id
}

async fn table(aws: &AwsClients, policy: Option<String>) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let name = unique("t");
    let out = aws
        .dynamodb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let arn = out.table_description().unwrap().table_arn().unwrap().to_owned();
    if let Some(p) = policy {
        aws.dynamodb
            .put_resource_policy()
            .resource_arn(&arn)
            .policy(p)
            .send()
            .await
            .unwrap();
    }
    name
}

async fn domain(aws: &AwsClients, policy: Option<String>) -> String {
    // `[a-z][a-z0-9-]{2,27}` (OpenSearch API reference, CreateDomain `DomainName`).
    let name = unique("d");
    let mut req = aws.opensearch.create_domain().domain_name(&name);
    if let Some(p) = policy {
        req = req.access_policies(p);
    }
    req.send().await.unwrap();
    name
}

#[tokio::test]
async fn sweep_reports_the_policy_kinds_public_and_outside_the_zone() {
    let account = new_account();
    let mut aws = emulator().clients(&account).await;

    // S3 access points on one bucket: public, outside, trusted, no policy.
    let bucket = unique("b");
    aws.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let ap_public = access_point(&aws, &account, &bucket, Some(grant(json!("*"), "s3:GetObject"))).await;
    let ap_out = access_point(&aws, &account, &bucket, Some(account_grant(OUT, "s3:GetObject"))).await;
    let _ap_trusted = access_point(
        &aws,
        &account,
        &bucket,
        Some(account_grant(TRUSTED, "s3:GetObject")),
    )
    .await;
    let _ap_none = access_point(&aws, &account, &bucket, None).await;

    // EFS: public (`*` without a condition), outside, own account, none (the default policy).
    let fs_public = file_system(
        &aws,
        Some(grant(json!({"AWS": "*"}), "elasticfilesystem:ClientMount")),
    )
    .await;
    let fs_out = file_system(&aws, Some(account_grant(OUT, "elasticfilesystem:ClientMount"))).await;
    let _fs_own = file_system(
        &aws,
        Some(account_grant(&account, "elasticfilesystem:ClientMount")),
    )
    .await;
    let _fs_none = file_system(&aws, None).await;

    // DynamoDB tables: public, outside, trusted, none.
    let t_public = table(&aws, Some(grant(json!({"AWS": "*"}), "dynamodb:GetItem"))).await;
    let t_out = table(&aws, Some(account_grant(OUT, "dynamodb:GetItem"))).await;
    let _t_trusted = table(&aws, Some(account_grant(TRUSTED, "dynamodb:GetItem"))).await;
    let _t_none = table(&aws, None).await;

    // OpenSearch domains: public, outside, own account.
    let d_public = domain(&aws, Some(grant(json!({"AWS": "*"}), "es:ESHttpGet"))).await;
    let d_out = domain(&aws, Some(account_grant(OUT, "es:ESHttpGet"))).await;
    let _d_own = domain(&aws, Some(account_grant(&account, "es:ESHttpGet"))).await;

    // Glacier behind the real SDK: public, outside, none.
    let vaults: BTreeMap<String, Option<String>> = [
        ("v-public", Some(grant(json!("*"), "glacier:InitiateJob"))),
        ("v-out", Some(account_grant(OUT, "glacier:InitiateJob"))),
        ("v-none", None),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let acct = account.clone();
    let fake = Recorder::routed(move |r| glacier_answer(&vaults, &acct, r)).await;
    aws.glacier =
        aws_sdk_glacier::Client::from_conf(aws.glacier.config().to_builder().endpoint_url(&fake.url).build());

    let env: BTreeMap<String, String> =
        [("TRIPLINE_TRUSTED_ACCOUNT_IDS".to_owned(), TRUSTED.to_owned())].into();
    let cfg: RuleConfig = tripline_core::rules::config_from_env(&env).unwrap();
    let ctx = SweepContext {
        account: &account,
        region: "us-east-1",
        time: "2026-12-06T03:00:00Z",
    };
    let out = assess_account(&aws, &cfg, &ctx, 8).await.unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);

    let new_kinds = [
        "AWS::S3::AccessPoint",
        "AWS::S3::MultiRegionAccessPoint",
        "AWS::EFS::FileSystem",
        "AWS::DynamoDB::Table",
        "AWS::OpenSearchService::Domain",
        "AWS::Glacier::Vault",
    ];
    let found: BTreeSet<(String, String)> = out
        .assessed
        .iter()
        .flat_map(|a| a.evaluation.findings.iter())
        .filter(|f| new_kinds.contains(&f.resource.resource_type.as_str()))
        .map(|f| (f.rule.clone(), f.resource.name.clone().unwrap_or_default()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("s3-access-point-policy-public", ap_public.as_str()),
        ("s3-access-point-cross-account-access", ap_out.as_str()),
        ("efs-file-system-policy-public", fs_public.as_str()),
        ("efs-file-system-cross-account-access", fs_out.as_str()),
        ("dynamodb-table-policy-public", t_public.as_str()),
        ("dynamodb-table-cross-account-access", t_out.as_str()),
        ("opensearch-domain-policy-public", d_public.as_str()),
        ("opensearch-domain-cross-account-access", d_out.as_str()),
        ("glacier-vault-policy-public", "v-public"),
        ("glacier-vault-cross-account-access", "v-out"),
    ]
    .into_iter()
    .map(|(r, n)| (r.to_owned(), n.to_owned()))
    .collect();
    assert_eq!(found, expected);

    for f in out
        .assessed
        .iter()
        .flat_map(|a| a.evaluation.findings.iter())
        .filter(|f| new_kinds.contains(&f.resource.resource_type.as_str()))
    {
        assert!(
            f.resource.arn.contains(&account),
            "{}: the ARN names the account: {}",
            f.rule,
            f.resource.arn
        );
        if f.rule.ends_with("-cross-account-access") {
            assert_eq!(
                f.evidence.details["external_accounts"],
                json!([OUT]),
                "{}",
                f.rule
            );
        }
    }
    // Every new kind was listed and its resources read.
    assert_eq!(out.checked["AWS::S3::AccessPoint"], 4, "{:?}", out.checked);
    assert_eq!(out.checked["AWS::EFS::FileSystem"], 4, "{:?}", out.checked);
    assert!(out.checked["AWS::DynamoDB::Table"] >= 4, "{:?}", out.checked);
    assert_eq!(
        out.checked["AWS::OpenSearchService::Domain"], 3,
        "{:?}",
        out.checked
    );
    assert_eq!(out.checked["AWS::Glacier::Vault"], 3, "{:?}", out.checked);
    assert!(
        out.checked.contains_key("AWS::S3::MultiRegionAccessPoint"),
        "{:?}",
        out.checked
    );
    // The fake Glacier was asked for each vault's policy through the real SDK.
    let policy_reads = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/access-policy"))
        .count();
    assert_eq!(policy_reads, 3);
}
