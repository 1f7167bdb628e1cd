//! Rendering: golden email text and Slack blocks (`shared/core/tests/golden/`, regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p tripline --test rules_render`), SNS subjects and attributes, size limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::{json, Value};
use tripline_core::finding::{Finding, Severity};
use tripline_core::render::{email, slack, sns};
use tripline_core::rules;
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake, State};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn finding(file: &str, state: Option<Value>, rule: &str) -> Finding {
    let bytes = std::fs::read(root().join("../../events").join(file)).unwrap();
    let Intake::Change(c) = intake(&bytes).unwrap() else {
        panic!("{file}")
    };
    let state: Option<State> = state.map(|s| serde_json::from_value(s).unwrap());
    let eval = rules::evaluate(&c, state.as_ref(), &RuleConfig::default());
    eval.findings.into_iter().find(|f| f.rule == rule).unwrap()
}

fn pab(all: bool) -> Value {
    json!({"BlockPublicAcls": all, "IgnorePublicAcls": all, "BlockPublicPolicy": all, "RestrictPublicBuckets": all})
}

fn widening_state() -> Value {
    let v: Value = serde_json::from_slice(
        &std::fs::read(root().join("../../events/cloudtrail-iam-create-policy-version-widening.json"))
            .unwrap(),
    )
    .unwrap();
    let doc = &v["detail"]["requestParameters"]["policyDocument"];
    let mut doc: Value = match doc {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => other.clone(),
    };
    doc["Statement"].as_array_mut().unwrap().pop();
    json!({"previous_policy_document": doc})
}

/// The golden cases: (name, finding).
fn cases() -> Vec<(&'static str, Finding)> {
    vec![
        (
            "s3-bucket-policy-public",
            finding(
                "cloudtrail-s3-put-bucket-policy-public.json",
                None,
                "s3-bucket-policy-public",
            ),
        ),
        (
            "s3-bucket-policy-public-blocked",
            finding(
                "cloudtrail-s3-put-bucket-policy-public.json",
                Some(
                    json!({"bucket": {"tags": {"tripline:exempt": "s3-bucket-policy-public@2027-01-31"}},
                            "account_public_access_block": pab(true)}),
                ),
                "s3-bucket-policy-public",
            ),
        ),
        (
            "iam-policy-widened",
            finding(
                "cloudtrail-iam-create-policy-version-widening.json",
                Some(widening_state()),
                "iam-policy-widened",
            ),
        ),
        (
            "ec2-security-group-open-to-world",
            finding(
                "cloudtrail-ec2-authorize-security-group-ingress-world-ssh.json",
                None,
                "ec2-security-group-open-to-world",
            ),
        ),
    ]
}

fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display()));
    assert_eq!(
        actual, expected,
        "{name} differs from its golden file (UPDATE_GOLDEN=1 regenerates)"
    );
}

#[test]
fn golden_email_and_slack() {
    for (name, f) in cases() {
        golden(&format!("{name}.email.txt"), &email::text(&f));
        golden(
            &format!("{name}.slack.json"),
            &(serde_json::to_string_pretty(&slack::blocks(&f)).unwrap() + "\n"),
        );
    }
}

#[test]
fn email_reads_well() {
    for (name, f) in cases() {
        let text = email::text(&f);
        for section in [
            "WHAT CHANGED",
            "WHO",
            "WHEN AND FROM WHERE",
            "WHY IT MATTERS",
            "EVIDENCE",
            "REMEDIATION",
            "HOW TO EXEMPT",
        ] {
            assert!(text.contains(section), "{name}: no `{section}`");
        }
        assert!(
            text.contains(&f.actor.name) && text.contains(&f.event.time) && text.contains(&f.resource.arn)
        );
        if let Some(ip) = &f.actor.source_ip {
            assert!(text.contains(ip), "{name}: source ip missing");
        }
    }
}

#[test]
fn sns_message_structure_and_attributes() {
    for (name, f) in cases() {
        let m = sns::message(&f);
        assert_eq!(m.message_structure, "json");
        assert!(sns::subject_is_valid(&m.subject), "{name}: {}", m.subject);
        let keys: Vec<&str> = m.attributes.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["account", "kind", "remediation", "rule", "severity"],
            "{name}"
        );
        assert_eq!(m.attributes["kind"], "finding");
        assert_eq!(m.attributes["severity"], f.severity.as_str());
        assert_eq!(m.attributes["rule"], f.rule);
        assert_eq!(m.attributes["account"], f.account);
        assert_eq!(m.attributes["remediation"], f.remediation_attribute());
        let body: Value = serde_json::from_str(&m.message).unwrap();
        for k in ["default", "sqs", "lambda", "https"] {
            let back: Finding = serde_json::from_str(body[k].as_str().unwrap()).unwrap();
            assert_eq!(back, f, "{name}: `{k}` is not the JSON finding");
        }
        assert_eq!(body["email"].as_str().unwrap(), email::text(&f));
    }
    // The example subject of issue 4.
    let f = &cases()[0].1;
    assert_eq!(
        sns::finding_subject(f),
        format!("[CRITICAL] {} in {}", f.summary, f.account)
    );
    // A suppressed finding says so and plans no remediation.
    let blocked = &cases()[1].1;
    assert!(blocked.suppressed.is_some());
    assert!(sns::finding_subject(blocked).starts_with("[MEDIUM suppressed]"));
    assert_eq!(sns::message(blocked).attributes["remediation"], "none");
}

#[test]
fn remediation_and_summary_messages() {
    let o = sns::RemediationOutcome {
        finding_id: "abc".into(),
        rule: "s3-bucket-policy-public".into(),
        severity: Severity::Critical,
        account: "111122223333".into(),
        region: "us-east-1".into(),
        resource_arn: "arn:aws:s3:::reports-prod".into(),
        remediation_id: "s3-remove-public-policy-statements".into(),
        status: sns::RemediationStatus::DryRun,
        actions: vec!["remove statement `PublicReadGetObject`".into()],
        detail: "dry-run: nothing changed".into(),
    };
    let m = sns::remediation_outcome(&o);
    assert_eq!(m.attributes["kind"], "remediation");
    assert_eq!(m.attributes["remediation"], "none");
    assert!(sns::subject_is_valid(&m.subject), "{}", m.subject);
    let s = sns::SweepSummary {
        account: "111122223333".into(),
        region: "us-east-1".into(),
        time: "2026-11-29T03:00:00Z".into(),
        checked: [("buckets".to_owned(), 1200)].into_iter().collect(),
        findings: [(Severity::High, 2), (Severity::Critical, 1)]
            .into_iter()
            .collect(),
        suppressed: 1,
        errors: vec![],
        duration_ms: 81234,
        incomplete: None,
        unread: vec![],
        transitions: Default::default(),
    };
    let m = sns::summary(&s);
    assert_eq!(m.attributes["kind"], "summary");
    assert_eq!(m.attributes["severity"], "critical");
    assert_eq!(m.attributes["remediation"], "none");
    assert!(m.subject.contains("3 findings"), "{}", m.subject);
}

/// A sweep that could not read thousands of resources (issue 19: a region's snapshots, each error a long SDK
/// message) still fits one SNS message; the document says how many there were.
#[test]
fn summary_of_thousands_of_errors_fits_one_message() {
    let s = sns::SweepSummary {
        account: "111122223333".into(),
        region: "us-east-1".into(),
        time: "2026-11-29T03:00:00Z".into(),
        errors: (0..5000)
            .map(|i| format!("EBS snapshot `snap-{i}`: {}", "e".repeat(1500)))
            .collect(),
        unread: (0..5000).map(|i| format!("bucket `b-{i}`")).collect(),
        incomplete: Some("unread".into()),
        ..Default::default()
    };
    let m = sns::summary(&s);
    assert!(m.message.len() <= sns::MAX_MESSAGE_BYTES, "{}", m.message.len());
    let outer: serde_json::Value = serde_json::from_str(&m.message).unwrap();
    let doc: serde_json::Value = serde_json::from_str(outer["sqs"].as_str().unwrap()).unwrap();
    assert_eq!(doc["errors_total"], 5000);
    assert_eq!(doc["unread_total"], 5000);
    assert_eq!(doc["errors"].as_array().unwrap().len(), sns::SUMMARY_LISTED);
    assert!(outer["email"]
        .as_str()
        .unwrap()
        .contains("Could not check (5000)"));
}

fn huge(mut f: Finding) -> Finding {
    // 200 statements with multi-byte text, and a long summary with non-ASCII and control characters.
    f.evidence.statements = (0..200)
        .map(|i| {
            json!({"Sid": format!("S{i}"), "Effect": "Allow", "Principal": "*", "Action": "s3:*",
                        "Resource": format!("arn:aws:s3:::bücket-ü-{i}/<&>*")})
        })
        .collect();
    f.summary = format!("S3 bucket {} made public by ünïcødé\nuser\t", "x".repeat(300));
    f.title = "T".repeat(400);
    f
}

#[test]
fn slack_payload_stays_under_limits() {
    for (name, f) in cases().into_iter().map(|(n, f)| (n, huge(f))) {
        let v = slack::blocks(&f);
        let blocks = v["blocks"].as_array().unwrap();
        assert!(blocks.len() <= slack::MAX_BLOCKS);
        let mut truncated = false;
        for b in blocks {
            match b["type"].as_str().unwrap() {
                "header" => {
                    assert!(b["text"]["text"].as_str().unwrap().chars().count() <= slack::MAX_HEADER_CHARS)
                }
                "section" => {
                    if let Some(t) = b["text"]["text"].as_str() {
                        assert!(t.chars().count() <= slack::MAX_SECTION_CHARS, "{name}");
                        truncated |= t.contains("truncated");
                        if t.starts_with("*Evidence*") {
                            assert!(t.ends_with("```"), "{name}: code block not closed");
                        }
                    }
                    if let Some(fields) = b["fields"].as_array() {
                        assert!(fields.len() <= slack::MAX_FIELDS);
                        for fl in fields {
                            assert!(fl["text"].as_str().unwrap().chars().count() <= slack::MAX_FIELD_CHARS);
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(truncated, "{name}: the huge evidence was not marked truncated");
        // No raw `<` or `>` from the data in mrkdwn (escaped as entities).
        let text = v.to_string();
        assert!(!text.contains("/<&>"), "{name}: unescaped mrkdwn");
    }
}

#[test]
fn sns_message_stays_under_the_size_limit() {
    for (_, f) in cases() {
        let mut f = huge(f);
        f.evidence.statements = (0..3000)
            .map(|i| {
                json!({"Sid": format!("S{i}"), "Effect": "Allow", "Principal": "*", "Action": "s3:*",
                            "Resource": format!("arn:aws:s3:::bucket-{i}/*")})
            })
            .collect();
        let m = sns::message(&f);
        assert!(m.message.len() <= sns::MAX_MESSAGE_BYTES, "{}", m.message.len());
        assert!(sns::subject_is_valid(&m.subject), "{}", m.subject);
    }
}

/// SNS Publish `Subject`: ASCII, begins with a letter, number or punctuation, no line breaks or control
/// characters, fewer than 100 characters (SNS API Reference, `Publish`).
#[test]
fn subject_validity_table() {
    #[rustfmt::skip]
    let cases: &[(&str, bool)] = &[
        ("[HIGH] S3 bucket reports made public by alice in 111122223333", true),
        ("", false),
        (" leading space", false),
        ("line\nbreak", false),
        ("tab\there", false),
        ("ünicode", false),
        (&"x".repeat(99), true),
        (&"x".repeat(100), false),
    ];
    for (s, valid) in cases {
        assert_eq!(sns::subject_is_valid(s), *valid, "{s:?}");
    }
}

proptest! {
    #[test]
    fn any_text_sanitizes_to_a_valid_subject(s in ".{0,300}") {
        let out = sns::sanitize_subject(&s);
        prop_assert!(sns::subject_is_valid(&out), "{:?} -> {:?}", s, out);
    }

    #[test]
    fn finding_subjects_are_valid_and_keep_the_account(summary in ".{0,300}", sev in 0usize..4) {
        let mut f = cases().swap_remove(0).1;
        f.summary = summary;
        f.severity = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical][sev];
        let subject = sns::finding_subject(&f);
        prop_assert!(sns::subject_is_valid(&subject), "{:?}", subject);
        prop_assert!(subject.ends_with(&format!(" in {}", f.account)), "{:?}", subject);
        let tag = format!("[{}]", f.severity.label());
        prop_assert!(subject.starts_with(&tag), "{:?}", subject);
    }

    #[test]
    fn slack_truncation_is_clean(s in "[a-z<>&ü ]{0,400}", max in 10usize..200) {
        let escaped = slack::escape(&s);
        let out = slack::truncate_escaped(&escaped, max, "...");
        prop_assert!(out.chars().count() <= max.max(3));
        // Never a partial entity before the marker.
        let body = out.strip_suffix("...").unwrap_or(&out);
        if let Some(amp) = body.rfind('&') {
            prop_assert!(body[amp..].contains(';'), "{:?}", out);
        }
    }
}

#[test]
fn finding_json_schema_is_stable() {
    let f = &cases()[2].1;
    let v = serde_json::to_value(f).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "schema_version",
        "id",
        "rule",
        "severity",
        "title",
        "summary",
        "resource",
        "account",
        "region",
        "actor",
        "event",
        "why",
        "evidence",
        "state_confirmed",
        "remediation",
        "links",
        "suppressed",
        "notes",
    ];
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(f.id.len(), 32);
    assert!(!f.evidence.new_access.is_empty());
    let again = tripline_core::finding::finding_id(&f.rule, &f.resource.arn, &f.event.id);
    assert_eq!(f.id, again);
    let map: BTreeMap<String, Value> = serde_json::from_value(v["links"].clone()).unwrap();
    assert!(map["cloudtrail"]
        .as_str()
        .unwrap()
        .ends_with(&format!("#/events/{}", f.event.id)));
}

/// Console links per resource type (AWS console URL layouts) and the CloudTrail event history link
/// (`https://<region>.console.aws.amazon.com/cloudtrail/home?region=<region>#/events/<eventId>`).
#[test]
fn console_links() {
    use tripline_core::finding::cloudtrail_event_url;
    use tripline_core::resource_kind::console_url;
    #[rustfmt::skip]
    let cases: &[(&str, &str, Option<&str>, Option<&str>)] = &[
        ("AWS::S3::Bucket", "arn:aws:s3:::reports-prod", Some("reports-prod"),
         Some("https://s3.console.aws.amazon.com/s3/buckets/reports-prod?region=eu-west-1&tab=permissions")),
        ("AWS::IAM::Role", "arn:aws:iam::111122223333:role/app", Some("app"),
         Some("https://console.aws.amazon.com/iam/home#/roles/details/app")),
        ("AWS::IAM::Policy", "arn:aws:iam::111122223333:policy/p", Some("p"),
         Some("https://console.aws.amazon.com/iam/home#/policies/details/arn%3Aaws%3Aiam%3A%3A111122223333%3Apolicy%2Fp")),
        ("AWS::EC2::SecurityGroup", "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1", Some("sg-1"),
         Some("https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-1")),
        ("AWS::Lambda::Function", "arn:aws:lambda:eu-west-1:111122223333:function:f", None,
         Some("https://eu-west-1.console.aws.amazon.com/lambda/home?region=eu-west-1#/functions/f")),
        ("AWS::Unknown::Thing", "arn:aws:x:eu-west-1:111122223333:thing/t", None, None),
    ];
    for (rtype, arn, name, want) in cases {
        assert_eq!(
            console_url(rtype, arn, *name, "eu-west-1").as_deref(),
            *want,
            "{rtype}"
        );
    }
    assert_eq!(
        cloudtrail_event_url("eu-west-1", "abc-123"),
        "https://eu-west-1.console.aws.amazon.com/cloudtrail/home?region=eu-west-1#/events/abc-123"
    );
}

/// Slack shows a finding's transition (the findings store, issue 14): the header names it (REOPENED, NEW,
/// REMINDER...) and the context line says since when and how often it was seen; a finding without a store
/// keeps the plain header; the sweep summary lists its transitions.
#[test]
fn slack_shows_the_transition() {
    use tripline_core::lifecycle::Transition;
    use tripline_core::render::lifecycle::{finding_message, LifecycleView};
    let (_, f) = cases().into_iter().next().unwrap();
    let slack_of = |m: &sns::SnsMessage| {
        let outer: Value = serde_json::from_str(&m.message).unwrap();
        slack::payload_for(
            Some("finding"),
            None,
            outer["default"].as_str().unwrap(),
            Severity::Low,
        )
        .unwrap()
    };
    for (t, tag) in [
        (Transition::New, "NEW "),
        (Transition::Reopened, "REOPENED "),
        (Transition::Changed, "CHANGED "),
        (Transition::Unchanged, "REMINDER "),
    ] {
        let view = LifecycleView {
            id: "0123abcd".into(),
            transition: t,
            state: "open".into(),
            first_seen: "2026-11-01T00:00:00Z".into(),
            last_seen: "2026-12-01T00:00:00Z".into(),
            occurrences: 7,
            resolved_reason: None,
        };
        let p = slack_of(&finding_message(&f, &view));
        let header = p["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            header.starts_with(&format!("{tag}{}", f.severity.label())),
            "{t}: {header}"
        );
        let context = p["blocks"].as_array().unwrap().last().unwrap()["elements"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            context.contains("first seen 2026-11-01T00:00:00Z, seen 7 time(s)")
                && context.contains("0123abcd"),
            "{context}"
        );
    }
    let plain = slack_of(&sns::message(&f));
    let header = plain["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(header.starts_with(f.severity.label()), "{header}");
    assert_eq!(plain, slack::blocks(&f));

    let summary = sns::SweepSummary {
        account: "111122223333".into(),
        region: "us-east-1".into(),
        transitions: [("new".to_owned(), 2u64), ("resolved".to_owned(), 1)]
            .into_iter()
            .collect(),
        ..sns::SweepSummary::default()
    };
    let m = sns::summary(&summary);
    let outer: Value = serde_json::from_str(&m.message).unwrap();
    let p = slack::payload_for(
        Some("summary"),
        None,
        outer["default"].as_str().unwrap(),
        Severity::Low,
    )
    .unwrap();
    assert!(
        p["text"]
            .as_str()
            .unwrap()
            .contains("Changes since the last sweep: new 2, resolved 1"),
        "{p}"
    );
}

/// The organization sweep's run summary (`sweep-worker`, a different document than a single sweep's) reaches
/// Slack as text, with its transitions, instead of failing to parse.
#[test]
fn slack_shows_an_organization_run_summary() {
    let doc = json!({"run": "run-1", "time": "2026-12-06T00:00:00Z", "accounts": ["1", "2"],
        "regions": ["us-east-1"], "shards_planned": 4, "shards_done": 3, "shards_incomplete": 0,
        "accounts_complete": ["1"], "failed": [{"account": "2", "scope": "us-east-1",
        "reason": "access-denied", "detail": "x"}], "incomplete": [], "findings": {"high": 2, "low": 1},
        "suppressed": 1, "checked": 10, "transitions": {"new": 3}, "deadline": false});
    let p = slack::payload_for(Some("summary"), None, &doc.to_string(), Severity::Low).unwrap();
    let text = p["text"].as_str().unwrap();
    assert!(
        text.contains(
            "`run-1`: 2 account(s), 1 complete; 3 of 4 shard(s) done, 1 failed; 3 finding(s), 1 suppressed"
        ),
        "{text}"
    );
    assert!(text.contains("Changes since the last run: new 3"), "{text}");
}
