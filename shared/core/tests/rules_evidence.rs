//! Meta-test of the rule registry: no invented evidence (issue 15). An absent field is unknown, never the
//! worst case: evidence never states a value the input lacks.
//!
//! For every rule, every sample that fires it (its declared `fires` and any other `events/` file that
//! fires it, Config items and rule invocations included), and every evidence-bearing field of the record
//! (each object and leaf under `detail.requestParameters` / `detail.responseElements`, descending into
//! embedded JSON documents such as IAM policies; each key under a Config item's `configuration` and
//! `supplementaryConfiguration`), the field is removed, alone and (CloudTrail) together with the whole
//! `responseElements` (often `null` in real records), and the record is evaluated with no state, with an
//! empty state and with a fetched state. Every finding of the evaluation must pass the criterion below.
//!
//! # Criterion
//!
//! The values a finding *asserts* are:
//! - every text between backticks in its summary and its reasons;
//! - every string and number leaf of `evidence.details`, `evidence.statements` and `evidence.new_access`;
//! - `resource.name` and `resource.arn`.
//!
//! Each asserted value must be *supported*:
//! 1. it occurs in the mutated input: equal to a key, a string leaf or a number leaf of the payload (embedded
//!    documents decoded), of the fetched state or of the rule configuration (IAM action names compared
//!    ignoring case, as IAM does); or, for values of 4+ characters, a part of such a string delimited by
//!    non-word characters (an ARN's or URL's segment, a name inside an ARN);
//! 2. or it is *verdict vocabulary*: the same rule on the intact sample asserts it although the intact input
//!    does not hold it either (a statement label `#0`, an escalation combo id, the four settings of a
//!    deleted Block Public Access configuration, `public`): derived by the rule, not read from a field;
//! 3. or it is policy grammar (`Principal`, `Allow`...: element names and effects of the IAM policy
//!    language) or a position label (`#0`, `grant #1`: the engine's name for a statement without `Sid`);
//! 4. or it is said to be missing: a reason containing "the record does not include" (its backticks name
//!    paths, not values), and the `record_lacks` entry of `details` (the paths the record lacks).
//!
//! An ARN is supported when its service field is a service name, not a host (`iam.amazonaws.com`), and its
//! resource name (after the last `:` or `/`) is supported: ARNs are built from the record's names with
//! the service's documented template.
//!
//! An empty `resource.arn` is allowed (no ARN can be derived: renderers say "unknown resource"); a
//! placeholder such as `arn:aws:iam.amazonaws.com::...:unknown` is not.
//!
//! Limits: values stated in plain words (outside backticks and structured evidence) are not extracted;
//! the targeted tests below cover the known ones (Block Public Access settings stated without state, a
//! field the call requires missing). A value the rule also derives on the intact sample (criterion 2) is
//! accepted whatever field is removed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use tripline_core::finding::Finding;
use tripline_core::rules::{self, Rule, REGISTRY};
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake, State};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn read_json(file: &str) -> Value {
    let bytes = std::fs::read(events_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The marker of a reason that says what the record lacks.
const ABSENCE: &str = "the record does not include";

/// A JSON string holding an embedded document (IAM JSON string, URL-encoded Config document, Config rule
/// `invokingEvent`): its parsed form.
fn embedded(s: &str) -> Option<Value> {
    let t = s.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        return serde_json::from_str::<Value>(s)
            .ok()
            .filter(|v| v.is_object() || v.is_array());
    }
    if t.starts_with('%') {
        let d = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
        return serde_json::from_str::<Value>(&d).ok().filter(Value::is_object);
    }
    None
}

/// Every key, string leaf and number leaf of `v` (embedded documents decoded).
fn corpus(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.clone());
            if let Some(inner) = embedded(s) {
                corpus(&inner, out);
            }
        }
        Value::Number(n) => {
            out.insert(n.to_string());
        }
        Value::Bool(b) => {
            out.insert(b.to_string());
        }
        Value::Array(a) => a.iter().for_each(|x| corpus(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.insert(k.clone());
                corpus(x, out);
            }
        }
        Value::Null => {}
    }
}

fn config_corpus(config: &RuleConfig) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = config.trusted_account_ids.iter().cloned().collect();
    out.insert(config.name_prefix.clone());
    out.extend(config.organization_id.clone());
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// The IAM policy language's element names and effects: grammar, not values.
const POLICY_GRAMMAR: &[&str] = &[
    "Version",
    "Id",
    "Statement",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "AWS",
    "Service",
    "Federated",
    "CanonicalUser",
    "Allow",
    "Deny",
];

/// An IAM action name: `service:Action` (wildcards allowed).
fn is_action(value: &str) -> bool {
    value.split_once(':').is_some_and(|(svc, act)| {
        !svc.is_empty()
            && !act.is_empty()
            && svc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && act
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?')
    })
}

/// A statement or grant label the engine derives from a position: `#0`, `grant #1`.
fn is_position_label(value: &str) -> bool {
    let n = value.strip_prefix("grant ").unwrap_or(value);
    n.strip_prefix('#')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Criteria 1 and 3: the value occurs in the input, or is policy grammar or a position label. An ARN is
/// supported when its service is a service name (not a host such as `iam.amazonaws.com`) and its
/// resource name (after the last `:` or `/`) is supported: ARNs are built from templates.
fn supported(value: &str, input: &BTreeSet<String>) -> bool {
    if value.is_empty() || input.contains(value) {
        return true;
    }
    if POLICY_GRAMMAR.contains(&value) || is_position_label(value) {
        return true;
    }
    // IAM action names are case-insensitive (`lambda:updatefunctioncode` is `lambda:UpdateFunctionCode`).
    if is_action(value) && input.iter().any(|s| s.eq_ignore_ascii_case(value)) {
        return true;
    }
    if let Some(rest) = value.strip_prefix("arn:") {
        let service = rest.split(':').nth(1).unwrap_or("");
        let tail = value.rsplit([':', '/']).next().unwrap_or("");
        return !service.is_empty() && !service.contains('.') && !tail.is_empty() && supported(tail, input);
    }
    if value.chars().count() < 4 {
        return false;
    }
    input.iter().any(|s| {
        s.match_indices(value).any(|(i, _)| {
            let before = s[..i].chars().next_back();
            let after = s[i + value.len()..].chars().next();
            before.is_none_or(|c| !is_word(c)) && after.is_none_or(|c| !is_word(c))
        })
    })
}

fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_owned())
        .collect()
}

fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
        Value::Object(o) => o.values().for_each(|x| leaves(x, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

/// The values a finding asserts, each with where it was asserted.
fn asserted(f: &Finding) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for v in backticked(&f.summary) {
        out.push(("summary".into(), v));
    }
    for r in f.evidence.reasons.iter().filter(|r| !r.contains(ABSENCE)) {
        for v in backticked(r) {
            out.push((format!("reason {r:?}"), v));
        }
    }
    for (k, d) in f.evidence.details.iter().filter(|(k, _)| *k != "record_lacks") {
        let mut l = Vec::new();
        leaves(d, &mut l);
        out.extend(l.into_iter().map(|v| (format!("details.{k}"), v)));
    }
    for s in &f.evidence.statements {
        let mut l = Vec::new();
        leaves(s, &mut l);
        out.extend(l.into_iter().map(|v| ("statements".to_owned(), v)));
    }
    for w in &f.evidence.new_access {
        out.push(("new_access".into(), w.action.clone()));
        out.push(("new_access".into(), w.resource.clone()));
        out.extend(w.principal.clone().map(|p| ("new_access".to_owned(), p)));
    }
    if let Some(n) = &f.resource.name {
        out.push(("resource.name".into(), n.clone()));
    }
    if !f.resource.arn.is_empty() {
        out.push(("resource.arn".into(), f.resource.arn.clone()));
    }
    out
}

/// A path into a JSON value: object keys, array indexes, and `Embedded` to step into a JSON string.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    Embedded,
}

fn show(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
            Step::Embedded => s.push_str("(json)"),
        }
    }
    s
}

/// Every removable field under `v` (objects and leaves; array elements; inside embedded documents).
fn removable(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                prefix.push(Step::Key(k.clone()));
                out.push(prefix.clone());
                removable(x, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                prefix.push(Step::Index(i));
                out.push(prefix.clone());
                removable(x, prefix, out);
                prefix.pop();
            }
        }
        Value::String(s) => {
            if let Some(inner) = embedded(s).filter(|_| !s.trim_start().starts_with('%')) {
                prefix.push(Step::Embedded);
                removable(&inner, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// `v` without the field at `path`.
fn remove(v: &mut Value, path: &[Step]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match (first, v) {
        (Step::Key(k), Value::Object(o)) => {
            if rest.is_empty() {
                o.remove(k);
            } else if let Some(x) = o.get_mut(k) {
                remove(x, rest);
            }
        }
        (Step::Index(i), Value::Array(a)) => {
            if rest.is_empty() {
                if *i < a.len() {
                    a.remove(*i);
                }
            } else if let Some(x) = a.get_mut(*i) {
                remove(x, rest);
            }
        }
        (Step::Embedded, v @ Value::String(_)) => {
            let Some(mut inner) = v.as_str().and_then(embedded) else {
                return;
            };
            remove(&mut inner, rest);
            *v = Value::String(inner.to_string());
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(v);
    };
    match (first, v) {
        (Step::Key(k), Value::Object(o)) => get_mut(o.get_mut(k)?, rest),
        (Step::Index(i), Value::Array(a)) => get_mut(a.get_mut(*i)?, rest),
        _ => None,
    }
}

fn key(k: &str) -> Step {
    Step::Key(k.to_owned())
}

/// One mutated record: what was removed, and the payload.
struct Mutation {
    what: String,
    payload: Value,
}

/// The record mutations of a sample.
fn mutations(sample: &Value) -> Vec<Mutation> {
    let mut out = Vec::new();
    // CloudTrail via EventBridge.
    if sample.pointer("/detail/eventSource").is_some() {
        let resp_present = !sample
            .pointer("/detail/responseElements")
            .is_none_or(Value::is_null);
        for part in ["requestParameters", "responseElements"] {
            let base = vec![key("detail"), key(part)];
            let mut paths = Vec::new();
            if let Some(v) = sample.pointer(&format!("/detail/{part}")) {
                removable(v, &mut base.clone(), &mut paths);
            }
            for p in paths {
                let mut m = sample.clone();
                remove(&mut m, &p);
                out.push(Mutation {
                    what: format!("without {}", show(&p[1..])),
                    payload: m.clone(),
                });
                if part == "requestParameters" && resp_present {
                    if let Some(r) = get_mut(&mut m, &[key("detail"), key("responseElements")]) {
                        *r = Value::Null;
                    }
                    out.push(Mutation {
                        what: format!("without {} and responseElements", show(&p[1..])),
                        payload: m,
                    });
                }
            }
        }
        return out;
    }
    // Config item via EventBridge (`detail.configurationItem`), or a Config rule invocation
    // (`invokingEvent`, a JSON string).
    let (item_path, invoking): (Vec<Step>, bool) = if sample.pointer("/detail/configurationItem").is_some() {
        (vec![key("detail"), key("configurationItem")], false)
    } else if sample.get("invokingEvent").is_some() {
        (vec![key("configurationItem")], true)
    } else {
        return out;
    };
    let event: Value = if invoking {
        serde_json::from_str(sample["invokingEvent"].as_str().unwrap()).unwrap()
    } else {
        sample.clone()
    };
    for part in ["configuration", "supplementaryConfiguration"] {
        let mut base = item_path.clone();
        base.push(key(part));
        let mut paths = Vec::new();
        let mut e = event.clone();
        if let Some(v) = get_mut(&mut e, &base) {
            removable(v, &mut base.clone(), &mut paths);
        }
        for p in paths {
            let mut e = event.clone();
            remove(&mut e, &p);
            let payload = if invoking {
                let mut s = sample.clone();
                s["invokingEvent"] = Value::String(e.to_string());
                s
            } else {
                e
            };
            out.push(Mutation {
                what: format!("without {}", show(&p[item_path.len() - 1..])),
                payload,
            });
        }
    }
    out
}

/// The input corpus: the payload itself (embedded documents decoded), the fetched state and the
/// configuration.
fn input_of(payload: &Value, state: Option<&State>, config: &RuleConfig) -> BTreeSet<String> {
    let mut c = config_corpus(config);
    corpus(payload, &mut c);
    if let Some(st) = state {
        corpus(&serde_json::to_value(st).unwrap(), &mut c);
    }
    c
}

fn evaluate(payload: &Value, state: Option<&State>, config: &RuleConfig) -> Option<rules::Evaluation> {
    match intake(&serde_json::to_vec(payload).unwrap()) {
        Ok(Intake::Change(c)) => Some(rules::evaluate(&c, state, config)),
        _ => None,
    }
}

/// The rule's verdict vocabulary on the intact sample: what it asserts that the input does not hold.
fn vocabulary(rule: &Rule, sample: &Value, state: Option<&State>, config: &RuleConfig) -> BTreeSet<String> {
    let input = input_of(sample, state, config);
    let eval = evaluate(sample, state, config).unwrap();
    eval.findings
        .iter()
        .filter(|f| f.rule == rule.id)
        .flat_map(asserted)
        .map(|(_, v)| v)
        .filter(|v| !supported(v, &input))
        .collect()
}

/// Every `(rule, sample)` where the sample fires the rule: the rule's declared `fires` samples, and any
/// other `events/` file that fires it (Config items and rule invocations, samples of neighbouring rules).
fn firing_samples(config: &RuleConfig) -> Vec<(&'static Rule, String)> {
    let mut files: Vec<String> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    let mut out: Vec<(&'static Rule, String)> = Vec::new();
    for rule in REGISTRY {
        for file in rule.fires {
            out.push((rule, (*file).to_owned()));
        }
    }
    for file in &files {
        let Some(eval) = evaluate(&read_json(file), None, config) else {
            continue;
        };
        for rule in REGISTRY {
            let fired = eval.findings.iter().any(|f| f.rule == rule.id);
            if fired && !out.iter().any(|(r, f)| r.id == rule.id && f == file) {
                out.push((rule, file.clone()));
            }
        }
    }
    out
}

/// Runs the criterion; returns the violations and the number of evaluations.
fn violations() -> (Vec<String>, usize) {
    let config = RuleConfig::default();
    let empty = State::default();
    let fetched = fetched_state();
    let states: [(&str, Option<&State>); 3] = [
        ("no state", None),
        ("empty state", Some(&empty)),
        ("fetched state", Some(&fetched)),
    ];
    let mut out = Vec::new();
    let mut runs = 0;
    for (rule, file) in firing_samples(&config) {
        {
            let file = file.as_str();
            let sample = read_json(file);
            for (state_name, state) in states {
                let vocab = vocabulary(rule, &sample, state, &config);
                for m in mutations(&sample) {
                    let Some(eval) = evaluate(&m.payload, state, &config) else {
                        continue;
                    };
                    runs += 1;
                    let input = input_of(&m.payload, state, &config);
                    for f in eval.findings.iter().filter(|f| f.rule == rule.id) {
                        for (place, v) in asserted(f) {
                            if !supported(&v, &input) && !vocab.contains(&v) {
                                out.push(format!(
                                    "{}: {file} {} ({state_name}): {place} asserts `{v}`",
                                    rule.id, m.what
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    (out, runs)
}

/// A state as the shell fetches it: the bucket without Block Public Access, the account's all off.
fn fetched_state() -> State {
    serde_json::from_value(serde_json::json!({
        "bucket": {"public_access_block": null},
        "account_public_access_block": {"BlockPublicAcls": false, "IgnorePublicAcls": false,
            "BlockPublicPolicy": false, "RestrictPublicBuckets": false},
    }))
    .unwrap()
}

#[test]
fn removing_a_field_never_yields_evidence_the_input_lacks() {
    let (found, runs) = violations();
    eprintln!("rules_evidence: {runs} evaluations of field-removed samples");
    assert!(
        runs >= 500,
        "only {runs} evaluations: the walk found too few fields"
    );
    assert!(
        found.is_empty(),
        "{} invented values in {runs} evaluations:\n{}",
        found.len(),
        found.join("\n")
    );
}

const BPA_SETTINGS: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

/// Block Public Access settings are state, not record: judged without state, a rule's reason names a
/// setting only when the record holds it, or says that its value is unknown. (Verdict vocabulary does not
/// apply here: before issue 15 the public-policy sample said "RestrictPublicBuckets is off" without state.)
/// Records of the settings themselves (`Put`/`Delete…PublicAccessBlock`) are judged by the main test: a
/// deleted configuration has all four settings off by definition.
#[test]
fn without_state_no_reason_states_a_block_public_access_setting() {
    let config = RuleConfig::default();
    let mut checked = 0;
    for rule in REGISTRY {
        for file in rule.fires.iter().filter(|f| !f.contains("public-access-block")) {
            let sample = read_json(file);
            let input = input_of(&sample, None, &config);
            let eval = evaluate(&sample, None, &config).unwrap();
            for f in eval.findings.iter().filter(|f| f.rule == rule.id) {
                for r in &f.evidence.reasons {
                    checked += 1;
                    let unknown = r.contains("unknown") || r.contains(ABSENCE);
                    for setting in BPA_SETTINGS {
                        assert!(
                            !r.contains(setting) || input.contains(setting) || unknown,
                            "{}: {file} without state: {r:?} states `{setting}`",
                            rule.id
                        );
                    }
                }
            }
        }
    }
    assert!(checked > 0);
}

/// The criterion itself: a value is supported by a key, a leaf, or a delimited part of a leaf.
#[test]
fn criterion_matches_leaves_and_delimited_parts_only() {
    let mut input = BTreeSet::new();
    corpus(
        &serde_json::json!({"functionName": "arn:aws:lambda:us-east-1:111122223333:function:report-export",
            "doc": "{\"Principal\":\"*\"}", "n": 22}),
        &mut input,
    );
    for ok in [
        "*",
        "Principal",
        "Allow",
        "#3",
        "grant #0",
        "22",
        "report-export",
        "111122223333",
        "lambda",
        "arn:aws:lambda:us-east-1:111122223333:function:report-export",
        "arn:aws:iam::111122223333:role/report-export",
    ] {
        assert!(supported(ok, &input), "{ok}");
    }
    for bad in [
        "all",
        "-1",
        "report",
        "unknown",
        "export",
        "23",
        "#x",
        "arn:aws:iam.amazonaws.com::111122223333:unknown",
        "arn:aws:lambda.amazonaws.com::111122223333:report-export",
    ] {
        assert!(!supported(bad, &input), "{bad}");
    }
    assert_eq!(backticked("a `x` b `y` c"), ["x", "y"]);
    let mut v = serde_json::json!({"a": {"b": "{\"c\": 1, \"d\": 2}"}, "l": [1, 2]});
    remove(&mut v, &[key("a"), key("b"), Step::Embedded, key("c")]);
    remove(&mut v, &[key("l"), Step::Index(0)]);
    assert_eq!(v, serde_json::json!({"a": {"b": "{\"d\":2}"}, "l": [2]}));
}

fn change_of(v: &Value) -> tripline_core::Change {
    match intake(&serde_json::to_vec(v).unwrap()).unwrap() {
        Intake::Change(c) => *c,
        other => panic!("expected a change, got {other:?}"),
    }
}

/// The cases issue 15 names, as readable contracts.
#[test]
fn issue_15_examples() {
    let config = RuleConfig::default();

    // AddPermission without a principal (and no logged statement): an error saying what the record lacks,
    // never "`Principal` is `*`".
    let mut v = read_json("cloudtrail-lambda-add-permission-public.json");
    v["detail"]["requestParameters"]
        .as_object_mut()
        .unwrap()
        .remove("principal");
    v["detail"]["responseElements"] = Value::Null;
    let eval = rules::evaluate(&change_of(&v), None, &config);
    assert!(eval.findings.iter().all(|f| f.rule != "lambda-function-public"));
    let err = &eval.errors[0];
    assert_eq!(err.rule, "lambda-function-public");
    assert!(
        err.message
            .contains("the record does not include `requestParameters.principal`"),
        "{}",
        err.message
    );

    // PutBucketPublicAccessBlock without a configuration: unknown, not "all four off".
    let mut v = read_json("cloudtrail-s3-put-bucket-public-access-block-disabled.json");
    v["detail"]["requestParameters"]
        .as_object_mut()
        .unwrap()
        .remove("PublicAccessBlockConfiguration");
    let c = change_of(&v);
    let eval = rules::evaluate(&c, None, &config);
    let f = &eval.findings[0];
    assert!(!f.state_confirmed);
    assert_eq!(f.evidence.details["settings_off"], serde_json::json!([]));
    assert_eq!(
        f.evidence.details["record_lacks"],
        serde_json::json!(["requestParameters.PublicAccessBlockConfiguration"])
    );
    assert!(
        f.evidence.reasons.iter().all(|r| !r.contains("now has")),
        "{:?}",
        f.evidence.reasons
    );
    // With the bucket's current settings fetched, they decide: all on -> nothing weakened.
    let all_on = serde_json::json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
        "BlockPublicPolicy": true, "RestrictPublicBuckets": true});
    let st: State = serde_json::from_value(serde_json::json!({
        "bucket": {"public_access_block": all_on}, "account_public_access_block": all_on}))
    .unwrap();
    assert!(rules::evaluate(&c, Some(&st), &config).findings.is_empty());
    // Not configured (all off) -> weakened, confirmed, the state named as the source.
    let st: State = serde_json::from_value(serde_json::json!({
        "bucket": {"public_access_block": null}, "account_public_access_block": all_on}))
    .unwrap();
    let f = &rules::evaluate(&c, Some(&st), &config).findings[0];
    assert!(f.state_confirmed);
    assert!(
        f.evidence
            .reasons
            .iter()
            .any(|r| r.contains("the bucket's current settings (read after the change) decide")),
        "{:?}",
        f.evidence.reasons
    );

    // A record naming no role: no placeholder ARN, and renderers say so.
    let mut v = read_json("cloudtrail-iam-attach-role-policy-admin.json");
    v["detail"]["requestParameters"]
        .as_object_mut()
        .unwrap()
        .remove("roleName");
    let eval = rules::evaluate(&change_of(&v), None, &config);
    let f = eval
        .findings
        .iter()
        .find(|f| f.rule == "iam-admin-access-granted")
        .unwrap();
    assert_eq!(f.resource.arn, "");
    assert_eq!(f.resource.name, None);
    assert_eq!(f.resource.resource_type, "AWS::IAM::Role");
    assert!(
        f.evidence.reasons[0].contains("the record does not include `requestParameters.roleName`"),
        "{:?}",
        f.evidence.reasons
    );
    assert_eq!(f.id.len(), 32);
    let text = tripline_core::render::email::text(f);
    assert!(
        text.contains("Resource: unknown resource (the record names none)"),
        "{text}"
    );
    assert!(!text.contains("amazonaws.com::"), "{text}");
}

/// A field the API requires, missing from the record: the rule cannot judge the call and says so in an
/// `errors` entry (never a quiet "nothing to report", never a finding built on a guess).
#[test]
fn a_required_field_missing_is_an_error_naming_it() {
    let config = RuleConfig::default();
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str)] = &[
        ("s3-bucket-policy-public", "cloudtrail-s3-put-bucket-policy-public.json", "bucketPolicy"),
        ("s3-bucket-cross-account-access", "cloudtrail-s3-put-bucket-policy-other-account.json", "bucketPolicy"),
        ("kms-key-policy-public", "cloudtrail-kms-put-key-policy-public.json", "policy"),
        ("ecr-repository-policy-public", "cloudtrail-ecr-set-repository-policy-public.json", "policyText"),
        ("secretsmanager-secret-policy-public", "cloudtrail-secretsmanager-put-resource-policy-public.json", "resourcePolicy"),
        ("sns-topic-policy-public", "cloudtrail-sns-set-topic-attributes-policy-public.json", "attributeName"),
        ("sns-topic-policy-public", "cloudtrail-sns-set-topic-attributes-policy-public.json", "attributeValue"),
        ("sqs-queue-policy-public", "cloudtrail-sqs-set-queue-attributes-policy-public.json", "attributes"),
        ("iam-policy-widened", "cloudtrail-iam-create-policy-version-widening.json", "policyDocument"),
        ("iam-privilege-escalation", "cloudtrail-iam-create-policy-version-widening.json", "policyDocument"),
        ("iam-policy-widened", "cloudtrail-iam-put-role-policy.json", "policyDocument"),
        ("iam-admin-access-granted", "cloudtrail-iam-put-role-policy.json", "policyDocument"),
        ("iam-admin-access-granted", "cloudtrail-iam-attach-role-policy-admin.json", "policyArn"),
        ("iam-trust-policy-public", "cloudtrail-iam-update-assume-role-policy-public.json", "policyDocument"),
        ("iam-trust-policy-external-account", "cloudtrail-iam-update-assume-role-policy-external.json", "policyDocument"),
        ("s3-bucket-acl-public", "cloudtrail-s3-put-bucket-acl-public-read.json", "x-amz-acl"),
        ("s3-object-acl-public", "cloudtrail-s3-put-object-acl-public-read.json", "x-amz-acl"),
        ("rds-snapshot-public", "cloudtrail-rds-modify-db-snapshot-attribute-public.json", "attributeName"),
        ("cloudtrail-logging-disabled", "cloudtrail-cloudtrail-put-event-selectors-no-management.json", "eventSelectors"),
    ];
    for (rule, file, field) in cases {
        let mut v = read_json(file);
        v["detail"]["requestParameters"]
            .as_object_mut()
            .unwrap()
            .remove(*field);
        v["detail"]["responseElements"] = Value::Null;
        let eval = rules::evaluate(&change_of(&v), None, &config);
        assert!(
            eval.findings.iter().all(|f| f.rule != *rule),
            "{rule}: {file} without {field} still raises a finding"
        );
        let err = eval
            .errors
            .iter()
            .find(|e| e.rule == *rule)
            .unwrap_or_else(|| panic!("{rule}: {file} without {field}: no error, {eval:?}"));
        // The ACL rules name the ACL body (the canned header is one of three ways to set it).
        let named = if field.starts_with("x-amz") {
            "requestParameters.AccessControlPolicy".to_owned()
        } else {
            format!("requestParameters.{field}")
        };
        assert!(
            err.message.contains(&format!("{ABSENCE} `{named}`")),
            "{rule}: {}",
            err.message
        );
    }
}
