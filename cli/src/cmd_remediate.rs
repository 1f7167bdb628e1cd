//! `tripline remediate FINDING.json|- [--enforce] [--member-role NAME] [--external-id ID] [--endpoint-url URL]
//! [--region R] [--format text|json]` (issue 12, E): the approval step. A person reviews a dry-run finding and
//! applies it by hand, through the very code path of the `remediate` function
//! ([`tripline_aws::app::remediate::remediate_finding`]): the registry's remediation for the rule, only in the
//! finding's own account, the plan from a fresh read and judgement, re-read before writing, verified after.
//!
//! Input: one finding (as `tripline assess --format json` or the alert topic prints it), `{"findings": [...]}`,
//! an SNS notification body (`{"Type": "Notification", "Message": "<finding JSON>"}`), or an SNS Lambda event
//! (`{"Records": [{"Sns": {"Message": ...}}]}`). Only the pointer of each finding counts (rule, ARN, account,
//! region, id); everything else is read fresh.
//!
//! Credentials: the standard chain (or `--endpoint-url`). A finding of the credentials' own account is acted on
//! with them; another account's through `--member-role` (with `--external-id`); without a member role it is
//! refused, and nothing is written anywhere. Default is dry-run; `--enforce` applies.
//!
//! Exit: 0 every finding remediated, dry-run, or nothing to do (stale: no longer exposed, or gone); 1 any
//! refused, skipped, partial or unverified; 2 bad input or an error (one line on stderr).

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;
use tripline_aws::app::remediate::{remediate_finding, RemediateConfig};
use tripline_aws::app::DetectorConfig;
use tripline_aws::{env, AccountRouter, CallerIdentity, MemberRole};
use tripline_core::finding::Finding;
use tripline_core::render::sns::{RemediationOutcome, RemediationStatus};
use tripline_core::settings::RemediationMode;

use crate::io::{self, bad_input};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The finding file, or `-` for standard input.
    pub file: PathBuf,
    /// Apply the remediation (default: dry-run, nothing is changed).
    #[arg(long)]
    pub enforce: bool,
    /// Role assumed in a finding's account when it is not the credentials' own (e.g. `tripline-member-remediate`).
    #[arg(long, value_name = "NAME")]
    pub member_role: Option<String>,
    /// External id for assuming `--member-role`.
    #[arg(long, value_name = "ID", requires = "member_role")]
    pub external_id: Option<String>,
    /// Send every AWS request to this endpoint (same effect as `AWS_ENDPOINT_URL`), e.g. a local emulator.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Region for the credentials' own calls (default: the SDK's region chain, then `us-east-1`); each finding
    /// is acted on in its own region.
    #[arg(long)]
    pub region: Option<String>,
    /// Output: one line per finding (`text`), or the outcomes as JSON.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// The findings of an input document (see the module docs for the shapes).
pub fn findings_of(doc: &Value) -> Result<Vec<Finding>, String> {
    let one = |v: &Value| -> Result<Finding, String> {
        let v = match v {
            // An SNS message is a string holding the finding's JSON.
            Value::String(s) => {
                serde_json::from_str::<Value>(s).map_err(|e| format!("a message is not JSON: {e}"))?
            }
            other => other.clone(),
        };
        serde_json::from_value::<Finding>(v).map_err(|e| format!("not a finding: {e}"))
    };
    if let Some(items) = doc.get("findings").and_then(Value::as_array) {
        return items.iter().map(one).collect();
    }
    if let Some(records) = doc.get("Records").and_then(Value::as_array) {
        return records
            .iter()
            .map(|r| {
                r.pointer("/Sns/Message")
                    .ok_or_else(|| "a record has no `Sns.Message`".to_owned())
                    .and_then(one)
            })
            .collect();
    }
    if let Some(message) = doc.get("Message").filter(|m| m.is_string()) {
        return Ok(vec![one(message)?]);
    }
    Ok(vec![one(doc)?])
}

/// The exit code of a set of outcomes (module docs).
pub fn exit_code(outcomes: &[RemediationOutcome]) -> u8 {
    let mut code = 0;
    for o in outcomes {
        let c = match o.status {
            RemediationStatus::Remediated | RemediationStatus::DryRun => 0,
            RemediationStatus::Skipped if o.detail.starts_with("stale finding") => 0,
            RemediationStatus::Skipped
            | RemediationStatus::Refused
            | RemediationStatus::Partial
            | RemediationStatus::Unverified => 1,
            RemediationStatus::Failed => 2,
        };
        code = code.max(c);
    }
    code
}

pub fn run(args: &Args) -> ExitCode {
    let bytes = match io::read_input(&args.file) {
        Ok(b) => b,
        Err(e) => return bad_input(&e),
    };
    let doc: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return bad_input(&format!(
                "{} is not JSON: {}",
                io::input_name(&args.file),
                tripline_core::text::quote(&e.to_string())
            ))
        }
    };
    let findings = match findings_of(&doc) {
        Ok(f) if f.is_empty() => return bad_input("the input holds no finding"),
        Ok(f) => f,
        Err(e) => {
            return bad_input(&format!(
                "{}: {}",
                io::input_name(&args.file),
                tripline_core::text::quote(&e)
            ))
        }
    };
    let vars = env::env_map();
    let mut rules = match tripline_core::rules::config_from_env(&vars) {
        Ok(c) => c,
        Err(e) => return bad_input(&e.to_string()),
    };
    // The person decides the mode here, for the findings given: every rule with a remediation.
    rules.remediation_mode = if args.enforce {
        RemediationMode::Enforce
    } else {
        RemediationMode::DryRun
    };
    rules.remediation_rules = tripline_core::rules::REGISTRY
        .iter()
        .filter(|r| r.remediation.is_some())
        .map(|r| r.id.to_owned())
        .collect();
    let member = match &args.member_role {
        None => None,
        Some(name) => {
            let mut m = std::collections::BTreeMap::new();
            m.insert(env::MEMBER_ROLE_NAME.to_owned(), name.clone());
            if let Some(id) = &args.external_id {
                m.insert(env::MEMBER_EXTERNAL_ID.to_owned(), id.clone());
            }
            match env::member_role(&m) {
                Ok(r) => r,
                Err(e) => {
                    return bad_input(
                        &e.to_string()
                            .replace(
                                "environment variable `TRIPLINE_MEMBER_ROLE_NAME`",
                                "`--member-role`",
                            )
                            .replace(
                                "environment variable `TRIPLINE_MEMBER_EXTERNAL_ID`",
                                "`--external-id`",
                            ),
                    )
                }
            }
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return bad_input(&format!("cannot start the async runtime: {e}")),
    };
    let outcomes = match runtime.block_on(remediate_all(args, rules, member, &findings)) {
        Ok(o) => o,
        Err(e) => return bad_input(&e),
    };
    let printed = match args.format {
        Format::Json => io::print_json(&outcomes),
        Format::Text => {
            for o in &outcomes {
                println!(
                    "{} {} {} (account {}, {}): {}",
                    o.status.as_str(),
                    o.rule,
                    o.resource_arn,
                    o.account,
                    o.region,
                    o.detail
                );
                for a in &o.actions {
                    println!("  - {a}");
                }
            }
            ExitCode::SUCCESS
        }
    };
    if printed != ExitCode::SUCCESS {
        return printed;
    }
    ExitCode::from(exit_code(&outcomes))
}

async fn remediate_all(
    args: &Args,
    rules: tripline_core::settings::RuleConfig,
    member: Option<MemberRole>,
    findings: &[Finding],
) -> Result<Vec<RemediationOutcome>, String> {
    let sdk = crate::cmd_scan::sdk_config_with(args.endpoint_url.as_deref(), args.region.as_deref()).await;
    let home = tripline_aws::AwsClients::new(&sdk)
        .caller_account()
        .await
        .map_err(|e| format!("cannot identify the credentials' account: {e}"))?;
    let cfg = RemediateConfig {
        detector: DetectorConfig {
            alert_topic_arn: String::new(),
            rules,
        },
        remediation_role_arn: None,
        member_role_name: member.as_ref().map(|m| m.role_name.clone()),
        attempts: None,
    };
    let router = AccountRouter::new(sdk, home, member);
    let mut outcomes = Vec::with_capacity(findings.len());
    for f in findings {
        let aws = router.route(&f.account, &f.region).await;
        let (id, verdict) = remediate_finding(&aws, &cfg, f)
            .await
            .map_err(|e| format!("finding `{}` ({}): {e}", f.id, f.resource.arn))?;
        outcomes.push(RemediationOutcome::of(
            f,
            id,
            verdict.status,
            verdict.actions,
            verdict.detail,
        ));
    }
    Ok(outcomes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(status: RemediationStatus, detail: &str) -> RemediationOutcome {
        RemediationOutcome {
            finding_id: "f".into(),
            rule: "r".into(),
            severity: tripline_core::finding::Severity::High,
            account: "111122223333".into(),
            region: "us-east-1".into(),
            resource_arn: "arn:aws:s3:::b".into(),
            remediation_id: "x".into(),
            status,
            actions: vec![],
            detail: detail.into(),
        }
    }

    #[test]
    fn exit_codes_follow_the_interface() {
        use RemediationStatus::*;
        let cases: &[(&[(RemediationStatus, &str)], u8)] = &[
            (&[(Remediated, "verified")], 0),
            (&[(DryRun, "dry-run")], 0),
            (&[(Skipped, "stale finding: the bucket has no policy now")], 0),
            (&[(Skipped, "exempt: tag")], 1),
            (&[(Refused, "refused: cannot act in account 1")], 1),
            (&[(Partial, "p")], 1),
            (&[(Unverified, "u")], 1),
            (&[(Remediated, "v"), (Failed, "f")], 2),
            (&[(DryRun, "d"), (Refused, "r")], 1),
        ];
        for (outs, want) in cases {
            let o: Vec<_> = outs.iter().map(|(s, d)| outcome(*s, d)).collect();
            assert_eq!(exit_code(&o), *want, "{outs:?}");
        }
    }

    #[test]
    fn reads_every_input_shape() {
        let bytes = std::fs::read(format!(
            "{}/../events/cloudtrail-s3-put-bucket-policy-public.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let tripline_core::Intake::Change(c) = tripline_core::intake::intake(&bytes).unwrap() else {
            panic!("not a change")
        };
        let f = tripline_core::rules::evaluate(&c, None, &Default::default())
            .findings
            .remove(0);
        let v = serde_json::to_value(&f).unwrap();
        let text = v.to_string();
        let shapes = [
            v.clone(),
            json!({"findings": [v.clone()], "errors": []}),
            json!({"Type": "Notification", "Message": text}),
            json!({"Records": [{"Sns": {"Message": text}}]}),
        ];
        for s in &shapes {
            let got = findings_of(s).unwrap();
            assert_eq!(got.len(), 1, "{s}");
            assert_eq!(got[0].id, f.id);
        }
        assert!(findings_of(&json!({"rule": 5})).is_err());
        assert!(findings_of(&json!({"Records": [{"Sns": {}}]})).is_err());
    }
}
