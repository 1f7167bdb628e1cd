//! remediate under IAM enforced by the emulator, across three accounts (issue 12, the tests that would have
//! caught its six defects).
//!
//! This binary's own `moto_server` is switched to enforcing IAM (`/moto-api/reset-auth`, the server-mode form of
//! `INITIAL_NO_AUTH_ACTION_COUNT`): exactly the calls that create an admin user and its access key in each
//! account go unauthenticated; from then on moto evaluates the caller's identity policies, assumed roles
//! included, and maps assumed-role credentials to the role's account. The central remediate role and the member
//! remediation role are created from `template.yaml` / `member-template.yaml`'s own policy documents (intrinsics
//! resolved for the parameters under test: organization set, `enforce` for two rules).
//!
//! moto's limits, and what covers the rest (ARCHITECTURE.md, emulator table):
//! - identity policies only (no resource policies, SCPs or permission boundaries);
//! - `Resource` is matched for S3 (the bucket ARN), IAM role actions and `sts:AssumeRole` only; other statements
//!   are given `Resource: "*"` here;
//! - `Condition` is not evaluated (an unknown key denies), so conditions are stripped from Allow statements and
//!   conditioned Deny statements are dropped; their presence in the templates is asserted below and linted by
//!   cfn-lint / checkov;
//! - trust policies are not checked across accounts, and assuming a role that does not exist succeeds: the
//!   "no member role" scenario therefore runs without one configured (the refusal comes from
//!   `sts:GetCallerIdentity`, as it would after a failed AssumeRole in AWS).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use aws_config::SdkConfig;
use aws_sdk_s3::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use serde_json::{json, Value};
use tripline_aws::app::remediate::{remediate_finding, AttemptWindow, RemediateConfig};
use tripline_aws::app::DetectorConfig;
use tripline_aws::{AccountRouter, AwsClients, MemberRole};
use tripline_core::finding::Finding;
use tripline_core::intake::{intake, Intake};
use tripline_core::render::sns::RemediationStatus;
use tripline_core::settings::{RemediationMode, RuleConfig};
use tripline_integration::{emulator, sdk_config_for};

const HOME: &str = "100000000001";
const MEMBER: &str = "200000000002";
const OTHER: &str = "300000000003";
const CENTRAL_ROLE: &str = "tripline-remediate-us-east-1";
const MEMBER_ROLE: &str = "tripline-member-remediate";
const EXTERNAL_ID: &str = "tripline-external-id-0123456789";
const ADMIN_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const ENFORCED: [&str; 2] = ["s3-bucket-policy-public", "iam-admin-access-granted"];

fn post_reset_auth(endpoint: &str, count: u32) {
    let addr = endpoint.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    let body = count.to_string();
    let req = format!(
        "POST /moto-api/reset-auth HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.") && out.contains(" 200 "), "{out}");
}

async fn sdk_with(creds: Credentials) -> SdkConfig {
    // The harness's configuration (us-east-1, retries off, its enabled regions), with these credentials.
    tripline_integration::sdk_config_for(&emulator().endpoint, None)
        .await
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build()
}

/// The template (YAML) as JSON.
fn template(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/../{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// Resolves the intrinsics of a policy document for the parameters under test (module docs), and adapts it to
/// what moto evaluates.
fn resolve(v: &Value, account: &str, enforced: &[&str]) -> Option<Value> {
    let sub = |s: &str| {
        s.replace("${AWS::Partition}", "aws")
            .replace("${AWS::AccountId}", account)
            .replace("${AWS::Region}", "us-east-1")
            .replace("${NamePrefix}", "tripline")
            .replace("${CentralAccountId}", HOME)
            .replace("${CentralRegion}", "us-east-1")
    };
    match v {
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::Sub") => {
            Some(json!(sub(o["Fn::Sub"].as_str()?)))
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("Ref") => match o["Ref"].as_str()? {
            "AWS::NoValue" => None,
            "AWS::AccountId" => Some(json!(account)),
            "OrganizationId" => Some(json!("o-exampleorg1")),
            other => Some(json!(format!("arn:aws:tripline:us-east-1:{account}:{other}"))),
        },
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::GetAtt") => {
            let name = o["Fn::GetAtt"][0].as_str()?;
            Some(json!(format!("arn:aws:tripline:us-east-1:{account}:{name}")))
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::If") => {
            let cond = o["Fn::If"][0].as_str()?;
            let holds =
                cond == "HasOrganization" || enforced.iter().any(|r| cond == format!("Enforce{}", pascal(r)));
            resolve(&o["Fn::If"][if holds { 1 } else { 2 }], account, enforced)
        }
        Value::Object(o) => Some(Value::Object(
            o.iter()
                .filter_map(|(k, v)| resolve(v, account, enforced).map(|v| (k.clone(), v)))
                .collect(),
        )),
        Value::Array(a) => Some(Value::Array(
            a.iter().filter_map(|v| resolve(v, account, enforced)).collect(),
        )),
        other => Some(other.clone()),
    }
}

fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// moto's view of a resolved document (module docs): conditions stripped from Allow statements, conditioned
/// Deny statements dropped, non-S3 / non-role resources widened to `*`.
fn for_moto(doc: &Value) -> Value {
    let mut out = Vec::new();
    for s in doc["Statement"].as_array().unwrap() {
        let mut s = s.clone();
        let deny = s["Effect"] == "Deny";
        // moto evaluates `Resource` only: a NotResource Deny is dropped (asserted present above).
        if deny && s.get("NotResource").is_some() {
            continue;
        }
        if s.get("Condition").is_some() {
            if deny {
                continue;
            }
            s.as_object_mut().unwrap().remove("Condition");
        }
        let actions: Vec<String> = match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
            _ => vec![],
        };
        let matched_by_moto = actions
            .iter()
            .all(|a| a.starts_with("s3:") || a == "sts:AssumeRole");
        if !deny && !matched_by_moto {
            s["Resource"] = json!("*");
        }
        // moto 5.2.5 authorizes the Block Public Access calls under other names than IAM's: the account-level
        // ones (S3 Control) as `s3:GetPublicAccessBlock` / `s3:PutPublicAccessBlock`, and the bucket-level ones
        // under its fallback for the bucket resource (its action map's key `public_access_block` never matches
        // the `publicAccessBlock` query string): `s3:ListBucket` / `s3:CreateBucket`. moto's names are added
        // beside IAM's, for exactly the statements that hold the IAM action.
        let mut actions = actions;
        for (iam, moto) in [
            ("s3:GetBucketPublicAccessBlock", "s3:ListBucket"),
            ("s3:GetAccountPublicAccessBlock", "s3:GetPublicAccessBlock"),
            ("s3:PutBucketPublicAccessBlock", "s3:CreateBucket"),
            ("s3:PutAccountPublicAccessBlock", "s3:PutPublicAccessBlock"),
        ] {
            if actions.iter().any(|a| a == iam) && !actions.iter().any(|a| a == moto) {
                actions.push(moto.to_owned());
            }
        }
        if !actions.is_empty() {
            s["Action"] = json!(actions);
        }
        out.push(s);
    }
    json!({"Version": "2012-10-17", "Statement": out})
}

/// Creates role `name` in the admin's account with `docs` (moto's view of them, [`for_moto`]) as its inline
/// policies. It trusts any principal: moto checks no trust policy across accounts, and the templates' trust
/// policies are asserted by `cli/tests/template.rs`.
async fn create_role(admin: &AwsClients, name: &str, docs: &[&Value]) {
    let trust_anyone = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]});
    admin
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust_anyone.to_string())
        .send()
        .await
        .unwrap();
    for (n, doc) in docs.iter().enumerate() {
        admin
            .iam
            .put_role_policy()
            .role_name(name)
            .policy_name(format!("p{n}"))
            .policy_document(for_moto(doc).to_string())
            .send()
            .await
            .unwrap();
    }
}

/// The credentials of a session of `role_arn`, assumed with `creds`.
async fn assume(creds: Credentials, role_arn: &str, session: &str) -> Credentials {
    aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name(session)
        .configure(&sdk_with(creds).await)
        .build()
        .await
        .provide_credentials()
        .await
        .unwrap()
}

fn finding_of(sample: &str, rule: &str) -> Finding {
    let bytes = std::fs::read(format!("{}/../events/{sample}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let Intake::Change(c) = intake(&bytes).unwrap() else {
        panic!("{sample}")
    };
    let cfg = RuleConfig {
        remediation_mode: RemediationMode::Enforce,
        remediation_rules: ENFORCED.iter().map(|s| s.to_string()).collect(),
        ..RuleConfig::default()
    };
    tripline_core::rules::evaluate(&c, None, &cfg)
        .findings
        .into_iter()
        .find(|f| f.rule == rule)
        .unwrap()
}

fn bucket_finding(account: &str, bucket: &str) -> Finding {
    let mut f = finding_of(
        "cloudtrail-s3-put-bucket-policy-public.json",
        "s3-bucket-policy-public",
    );
    f.account = account.into();
    f.resource.arn = format!("arn:aws:s3:::{bucket}");
    f.resource.name = Some(bucket.into());
    f
}

fn admin_finding(account: &str, role: &str) -> Finding {
    let mut f = finding_of(
        "cloudtrail-iam-attach-role-policy-admin.json",
        "iam-admin-access-granted",
    );
    f.account = account.into();
    f.resource.arn = format!("arn:aws:iam::{account}:role/{role}");
    f.resource.name = Some(role.into());
    f
}

fn public_policy(bucket: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Private", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::100000000001:root"},
         "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")},
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": format!("arn:aws:s3:::{bucket}/*")}]})
}

async fn bucket_policy(c: &AwsClients, bucket: &str) -> Value {
    let p = c.s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    serde_json::from_str(p.policy().unwrap()).unwrap()
}

async fn attached(c: &AwsClients, role: &str) -> Vec<String> {
    let mut v: Vec<String> = c
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect();
    v.sort();
    v
}

fn cfg(mode: RemediationMode, member: bool) -> RemediateConfig {
    RemediateConfig {
        detector: DetectorConfig {
            alert_topic_arn: format!("arn:aws:sns:us-east-1:{HOME}:tripline-alerts"),
            rules: RuleConfig {
                remediation_mode: mode,
                remediation_rules: ENFORCED.iter().map(|s| s.to_string()).collect(),
                ..RuleConfig::default()
            },
        },
        remediation_role_arn: Some(format!("arn:aws:iam::{HOME}:role/{CENTRAL_ROLE}")),
        member_role_name: member.then(|| MEMBER_ROLE.to_owned()),
        attempts: Some(AttemptWindow {
            table: "tripline-remediation-attempts".into(),
            cooldown_secs: 3600,
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_acts_only_in_the_findings_account_with_the_templates_own_permissions() {
    let endpoint = emulator().endpoint.clone();

    // 1. Admins: the only unauthenticated calls (3 per account).
    post_reset_auth(&endpoint, 9);
    let mut admins = std::collections::BTreeMap::new();
    let mut admin_keys = std::collections::BTreeMap::new();
    for account in [HOME, MEMBER, OTHER] {
        let iam = aws_sdk_iam::Client::new(&sdk_config_for(&endpoint, Some(account)).await);
        iam.create_user().user_name("admin").send().await.unwrap();
        iam.put_user_policy()
            .user_name("admin")
            .policy_name("all")
            .policy_document(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}).to_string())
            .send()
            .await
            .unwrap();
        let key = iam.create_access_key().user_name("admin").send().await.unwrap();
        let key = key.access_key().unwrap();
        let creds = Credentials::new(key.access_key_id(), key.secret_access_key(), None, None, "admin");
        admin_keys.insert(account, creds.clone());
        admins.insert(account, AwsClients::new(&sdk_with(creds).await));
    }
    // IAM is enforced from here on: the test's unauthenticated credentials are refused.
    let anonymous = aws_sdk_iam::Client::new(&sdk_config_for(&endpoint, Some(HOME)).await);
    assert!(
        anonymous.list_users().send().await.is_err(),
        "IAM is not enforced"
    );

    // 2. The roles, from the templates' own documents.
    let central_template = template("template.yaml");
    let member_template = template("member-template.yaml");
    let remediate_doc = resolve(
        &central_template["Resources"]["RemediateRole"]["Properties"]["Policies"][0]["PolicyDocument"],
        HOME,
        &ENFORCED,
    )
    .unwrap();
    let state_read_doc = resolve(
        &central_template["Resources"]["StateReadPolicy"]["Properties"]["PolicyDocument"],
        HOME,
        &ENFORCED,
    )
    .unwrap();
    let member_doc = resolve(
        &member_template["Resources"]["MemberRemediateRole"]["Properties"]["Policies"][0]["PolicyDocument"],
        MEMBER,
        &ENFORCED,
    )
    .unwrap();
    // What moto cannot evaluate is still in the templates: S3 writes only on the own account's buckets, the
    // detach only for the admin policies, member roles only in the organization.
    let text = remediate_doc.to_string() + &member_doc.to_string();
    for needle in [
        "s3:ResourceAccount",
        "iam:PolicyARN",
        "aws:ResourceOrgID",
        "AssumeNoOtherRole",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from the remediation policies"
        );
    }
    let home_admin = &admins[HOME];
    create_role(home_admin, CENTRAL_ROLE, &[&remediate_doc, &state_read_doc]).await;
    create_role(&admins[MEMBER], MEMBER_ROLE, &[&member_doc]).await;
    // The attempts table (home).
    home_admin
        .dynamodb
        .create_table()
        .table_name("tripline-remediation-attempts")
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // 3. The same world in every account: a public bucket, and a role `app-runtime` with AdministratorAccess
    // and a policy of its own.
    for (account, admin) in &admins {
        let bucket = format!("reports-{account}");
        admin.s3.create_bucket().bucket(&bucket).send().await.unwrap();
        admin
            .s3
            .put_bucket_policy()
            .bucket(&bucket)
            .policy(public_policy(&bucket).to_string())
            .send()
            .await
            .unwrap();
        create_role(admin, "app-runtime", &[]).await;
        let own = admin
            .iam
            .create_policy()
            .policy_name("app-needed")
            .policy_document(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}).to_string())
            .send()
            .await
            .unwrap();
        for arn in [ADMIN_ARN, own.policy().unwrap().arn().unwrap()] {
            admin
                .iam
                .attach_role_policy()
                .role_name("app-runtime")
                .policy_arn(arn)
                .send()
                .await
                .unwrap();
        }
    }

    // 4. The central function's credentials: its role, assumed.
    let central_creds = assume(
        admin_keys[HOME].clone(),
        &format!("arn:aws:iam::{HOME}:role/{CENTRAL_ROLE}"),
        "remediate",
    )
    .await;
    let central_sdk = sdk_with(central_creds.clone()).await;
    let member = Some(MemberRole {
        role_name: MEMBER_ROLE.into(),
        external_id: Some(EXTERNAL_ID.into()),
    });
    let router = AccountRouter::new(central_sdk.clone(), HOME, member);
    let no_member = AccountRouter::new(central_sdk.clone(), HOME, None);
    let run = |f: Finding, mode: RemediationMode, with_member: bool| {
        let router = if with_member { &router } else { &no_member };
        async move {
            let aws = router.route(&f.account, &f.region).await;
            remediate_finding(&aws, &cfg(mode, with_member), &f)
                .await
                .unwrap()
                .1
        }
    };

    // Defect 3: dry-run can read what it checks (the template grants the reads in every mode).
    let v = run(
        bucket_finding(HOME, &format!("reports-{HOME}")),
        RemediationMode::DryRun,
        true,
    )
    .await;
    assert_eq!(v.status, RemediationStatus::DryRun, "{}", v.detail);
    let v = run(
        admin_finding(MEMBER, "app-runtime"),
        RemediationMode::DryRun,
        true,
    )
    .await;
    assert_eq!(v.status, RemediationStatus::DryRun, "{}", v.detail);

    // Defect 1: a member finding changes only that member's resource, through the member role.
    let mb = format!("reports-{MEMBER}");
    let v = run(bucket_finding(MEMBER, &mb), RemediationMode::Enforce, true).await;
    assert_eq!(v.status, RemediationStatus::Remediated, "{}", v.detail);
    assert_eq!(
        bucket_policy(&admins[MEMBER], &mb).await["Statement"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for account in [HOME, OTHER] {
        let b = format!("reports-{account}");
        assert_eq!(
            bucket_policy(&admins[account], &b).await,
            public_policy(&b),
            "{account} was touched"
        );
    }
    // Same-named role: the member's AdministratorAccess is detached; the home account's stays.
    let mut forged = admin_finding(MEMBER, "app-runtime");
    // Defect 2: the message's policy ARN is not what is detached.
    forged.evidence.details.insert(
        "policy_arn".into(),
        json!(format!("arn:aws:iam::{MEMBER}:policy/app-needed")),
    );
    let v = run(forged, RemediationMode::Enforce, true).await;
    assert_eq!(v.status, RemediationStatus::Remediated, "{}", v.detail);
    assert_eq!(
        attached(&admins[MEMBER], "app-runtime").await,
        vec![format!("arn:aws:iam::{MEMBER}:policy/app-needed")]
    );
    assert!(attached(&admins[HOME], "app-runtime")
        .await
        .contains(&ADMIN_ARN.to_owned()));
    assert!(attached(&admins[OTHER], "app-runtime")
        .await
        .contains(&ADMIN_ARN.to_owned()));

    // Without a member role, nothing changes anywhere: refused.
    let v = run(
        bucket_finding(OTHER, &format!("reports-{OTHER}")),
        RemediationMode::Enforce,
        false,
    )
    .await;
    assert_eq!(v.status, RemediationStatus::Refused, "{}", v.detail);
    assert!(
        v.detail.contains(&format!("cannot act in account {OTHER}")),
        "{}",
        v.detail
    );
    let b = format!("reports-{OTHER}");
    assert_eq!(bucket_policy(&admins[OTHER], &b).await, public_policy(&b));
    // A finding whose ARN names another account than it claims: refused, nothing detached.
    let mut split = admin_finding(MEMBER, "app-runtime");
    split.resource.arn = format!("arn:aws:iam::{HOME}:role/app-runtime");
    let v = run(split, RemediationMode::Enforce, true).await;
    assert_eq!(v.status, RemediationStatus::Refused, "{}", v.detail);
    assert!(attached(&admins[HOME], "app-runtime")
        .await
        .contains(&ADMIN_ARN.to_owned()));

    // Home enforced: works with the central role's own permissions (reads and the enforced rule's writes).
    let hb = format!("reports-{HOME}");
    let v = run(bucket_finding(HOME, &hb), RemediationMode::Enforce, true).await;
    assert_eq!(v.status, RemediationStatus::Remediated, "{}", v.detail);
    assert_eq!(
        bucket_policy(&admins[HOME], &hb).await["Statement"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for account in [OTHER] {
        let b = format!("reports-{account}");
        assert_eq!(
            bucket_policy(&admins[account], &b).await,
            public_policy(&b),
            "{account} was touched"
        );
    }

    // Defect 6 / D: one enforced attempt per resource and rule within the cool-down: made public again, the
    // next delivery is skipped, not attempted (no loop).
    home_admin
        .s3
        .put_bucket_policy()
        .bucket(&hb)
        .policy(public_policy(&hb).to_string())
        .send()
        .await
        .unwrap();
    let v = run(bucket_finding(HOME, &hb), RemediationMode::Enforce, true).await;
    assert_eq!(v.status, RemediationStatus::Skipped, "{}", v.detail);
    assert!(v.detail.contains("cool-down"), "{}", v.detail);
    assert_eq!(bucket_policy(&admins[HOME], &hb).await, public_policy(&hb));

    // What the central role must not do: writes of rules that are not enforced (here the ACL remediation).
    let central = AwsClients::new(&central_sdk);
    let acl = central
        .s3
        .put_bucket_acl()
        .bucket(format!("reports-{HOME}"))
        .acl(aws_sdk_s3::types::BucketCannedAcl::Private)
        .send()
        .await;
    assert!(
        acl.is_err(),
        "the central role may write an ACL although that rule is not enforced"
    );

    // `tripline remediate` (issue 12, E): the same path from the command line, with the central role's
    // credentials and the member role; dry-run by default, then enforced.
    let b = format!("reports-{OTHER}");
    let finding_file = std::env::temp_dir().join(format!("tripline-remediate-{}.json", std::process::id()));
    std::fs::write(
        &finding_file,
        serde_json::to_vec(&bucket_finding(OTHER, &b)).unwrap(),
    )
    .unwrap();
    let cli = |extra: &[&str]| {
        let mut cmd = Command::new(cli_binary());
        cmd.arg("remediate")
            .arg(&finding_file)
            .args([
                "--endpoint-url",
                &endpoint,
                "--region",
                "us-east-1",
                "--format",
                "json",
            ])
            .args(extra)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ACCESS_KEY_ID", central_creds.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", central_creds.secret_access_key())
            .env(
                "AWS_SESSION_TOKEN",
                central_creds.session_token().unwrap_or_default(),
            );
        let out = cmd.output().unwrap();
        let outcomes: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), outcomes)
    };
    // No member role for OTHER: refused, exit 1.
    let (code, out) = cli(&["--enforce"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(out[0]["status"], "refused", "{out}");
    assert_eq!(bucket_policy(&admins[OTHER], &b).await, public_policy(&b));
    // OTHER gets the member role too; dry-run (exit 0) changes nothing, --enforce applies.
    let other_doc = resolve(
        &member_template["Resources"]["MemberRemediateRole"]["Properties"]["Policies"][0]["PolicyDocument"],
        OTHER,
        &ENFORCED,
    )
    .unwrap();
    create_role(&admins[OTHER], MEMBER_ROLE, &[&other_doc]).await;
    let member_args = ["--member-role", MEMBER_ROLE, "--external-id", EXTERNAL_ID];
    let (code, out) = cli(&member_args);
    assert_eq!(
        (code, out[0]["status"].as_str()),
        (Some(0), Some("dry-run")),
        "{out}"
    );
    assert_eq!(bucket_policy(&admins[OTHER], &b).await, public_policy(&b));
    let mut enforce_args = member_args.to_vec();
    enforce_args.push("--enforce");
    let (code, out) = cli(&enforce_args);
    assert_eq!(
        (code, out[0]["status"].as_str()),
        (Some(0), Some("remediated")),
        "{out}"
    );
    assert_eq!(
        bucket_policy(&admins[OTHER], &b).await["Statement"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let _ = std::fs::remove_file(&finding_file);

    // The detectors, each with its own role from the template (the brief: every function with a role built
    // from the template's own policies). The home bucket is public again (cool-down scenario above).
    let topic = home_admin
        .sns
        .create_topic()
        .name("tripline-alerts")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let detector = DetectorConfig {
        alert_topic_arn: topic,
        rules: RuleConfig::default(),
    };
    let role_clients = |resource: &'static str, managed: &'static [&'static str]| {
        let (central_template, home_admin, admin_key) =
            (&central_template, home_admin, admin_keys[HOME].clone());
        async move {
            let props = &central_template["Resources"][resource]["Properties"];
            let name = resolve(&props["RoleName"], HOME, &ENFORCED).unwrap();
            let name = name.as_str().unwrap();
            let mut docs = vec![resolve(&props["Policies"][0]["PolicyDocument"], HOME, &ENFORCED).unwrap()];
            for m in managed {
                docs.push(
                    resolve(
                        &central_template["Resources"][*m]["Properties"]["PolicyDocument"],
                        HOME,
                        &ENFORCED,
                    )
                    .unwrap(),
                );
            }
            create_role(home_admin, name, &docs.iter().collect::<Vec<_>>()).await;
            let creds = assume(admin_key, &format!("arn:aws:iam::{HOME}:role/{name}"), "function").await;
            AwsClients::new(&sdk_with(creds).await)
        }
    };
    // on-cloudtrail: reads what its rules need to confirm the change, publishes the finding.
    let on_cloudtrail = role_clients("OnCloudTrailRole", &["StateReadPolicy"]).await;
    // moto 5.2.5 recomputes SigV4 over a form body differently from AWS when it holds a space or a non-ASCII
    // character (Publish of `subject = "a b"` fails with 403 under enforcement, `"a-b"` passes): the role's
    // sns:Publish is checked with a plain message, and the handler's findings go to a loopback SNS recorder
    // (its `home` clients), while every read is made with the role's credentials in the emulator.
    on_cloudtrail
        .sns
        .publish()
        .topic_arn(&detector.alert_topic_arn)
        .message("permission-check")
        .send()
        .await
        .unwrap();
    let sns_recorder = tripline_integration::Recorder::start(vec![tripline_integration::Reply::new(
        200,
        "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>",
    )])
    .await;
    let routed = tripline_aws::Routed {
        target: std::sync::Arc::new(on_cloudtrail.clone()),
        home: std::sync::Arc::new(AwsClients::new(&sdk_config_for(&sns_recorder.url, None).await)),
    };
    let event = tripline_integration::rewrite(
        &tripline_integration::sample("cloudtrail-s3-put-bucket-policy-public.json"),
        &[("reports-prod", &hb), ("111122223333", HOME)],
    );
    let out = tripline_aws::handlers::cloudtrail::handle_cloudtrail(
        &routed,
        &detector,
        &tripline_core::Envelope::from_value(event),
    )
    .await
    .unwrap();
    let tripline_aws::handlers::cloudtrail::Outcome::Evaluated {
        findings,
        rule_errors,
        fetched,
        ..
    } = out
    else {
        panic!("not evaluated")
    };
    assert!(rule_errors.is_empty(), "{rule_errors:?}");
    assert!(
        !fetched.is_empty(),
        "the state was read with the role's permissions"
    );
    assert!(
        findings.iter().any(|f| f.rule == "s3-bucket-policy-public"),
        "{findings:?}"
    );
    // sweep: lists and judges the whole account with its role.
    let sweep = role_clients("SweepRole", &["AccountReadPolicy"]).await;

    let ctx = tripline_core::rules::SweepContext {
        account: HOME,
        region: "us-east-1",
        time: "2026-12-06T00:00:00Z",
    };
    let assessment = tripline_aws::app::assess::assess_account(&sweep, &RuleConfig::default(), &ctx, 4)
        .await
        .unwrap();
    // moto's SigV4 check in enforcing mode recomputes the signature of Lambda's ListFunctions / ListLayers,
    // GuardDuty's ListDetectors, EFS's DescribeFileSystems, OpenSearch's ListDomainNames and Glacier's
    // ListVaults (restJson GETs) differently and answers 403 SignatureDoesNotMatch, whatever the role may do
    // (ARCHITECTURE.md, emulator table); any other error fails.
    let moto_sigv4 = |e: &String| {
        e.contains("SignatureDoesNotMatch")
            && [
                "lambda:ListFunctions",
                "lambda:ListLayers",
                "guardduty:ListDetectors",
                "elasticfilesystem:DescribeFileSystems",
                "es:ListDomainNames",
                "glacier:ListVaults",
            ]
            .iter()
            .any(|op| e.contains(op))
    };
    let errors: Vec<&String> = assessment.errors.iter().filter(|e| !moto_sigv4(e)).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        assessment
            .assessed
            .iter()
            .any(|a| a.arn == format!("arn:aws:s3:::{hb}")
                && a.evaluation
                    .findings
                    .iter()
                    .any(|f| f.rule == "s3-bucket-policy-public")),
        "the sweep did not find the public home bucket"
    );
    // And neither detector may write: the sweep role cannot change a bucket policy.
    assert!(sweep.s3.delete_bucket_policy().bucket(&hb).send().await.is_err());
}

/// Builds the `tripline` command once (debug) and returns its path.
fn cli_binary() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "tripline-cli"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .unwrap();
        assert!(status.success(), "building the tripline command failed");
    });
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("debug").join("tripline")
}
