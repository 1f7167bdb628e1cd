//! `tripline-demo email`: shows Tripline alerts as an email subscriber of the alert topic reads them.
//!
//! `make demo` (driver: `demo/demo.py`) reads what lands on the alert topic through an SQS subscription.
//! SNS delivers the `sqs` part of Tripline's structured message there and the `email` part to email
//! subscribers; this helper turns the received document back into the publish with Tripline's own renderer
//! (`tripline_core::render::sns`) and prints the subject and the `email` part. It also checks that the re-rendered
//! `sqs` part equals what arrived, so the email shown is exactly the one SNS would have sent.
//!
//! Input (stdin): a JSON array of SNS envelopes as SQS receives them (`Subject`, `Message`,
//! `MessageAttributes.kind.Value`). Output (stdout): a JSON array of `{"subject", "body", "exact"}`.
//! Exit 0, or 2 with a one-line error on stderr for bad input.

use std::io::Read;
use std::process::ExitCode;

use serde_json::{json, Value};
use tripline_core::finding::Finding;
use tripline_core::render::sns::{self, RemediationOutcome, SnsMessage, SweepSummary};

fn parse<T: serde::de::DeserializeOwned>(doc: &str, what: &str) -> Result<T, String> {
    serde_json::from_str(doc).map_err(|e| format!("message is not a {what}: {e}"))
}

/// The subject, the `email` part, and whether the re-rendered `sqs` part equals `doc`.
fn email_view(kind: &str, doc: &str) -> Result<(String, String, bool), String> {
    let published: SnsMessage = match kind {
        "finding" => sns::message(&parse::<Finding>(doc, "finding")?),
        "remediation" => sns::remediation_outcome(&parse::<RemediationOutcome>(doc, "remediation outcome")?),
        "summary" => sns::summary(&parse::<SweepSummary>(doc, "sweep summary")?),
        other => return Err(format!("unknown message kind `{other}`")),
    };
    let parts: Value =
        serde_json::from_str(&published.message).map_err(|e| format!("rendered message is not json: {e}"))?;
    let part = |k: &str| {
        parts
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let same =
        |a: &str, b: &str| serde_json::from_str::<Value>(a).ok() == serde_json::from_str::<Value>(b).ok();
    let exact = same(&part("sqs"), doc);
    Ok((published.subject, part("email"), exact))
}

fn run(input: &str) -> Result<Value, String> {
    let envelopes: Vec<Value> =
        serde_json::from_str(input).map_err(|e| format!("input is not a json array: {e}"))?;
    let mut out = Vec::with_capacity(envelopes.len());
    for (i, env) in envelopes.iter().enumerate() {
        let kind = env
            .pointer("/MessageAttributes/kind/Value")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("envelope {i}: no `kind` message attribute"))?;
        let doc = env
            .get("Message")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("envelope {i}: no `Message`"))?;
        let (subject, body, exact) = email_view(kind, doc).map_err(|e| format!("envelope {i}: {e}"))?;
        out.push(json!({"subject": subject, "body": body, "exact": exact}));
    }
    Ok(Value::Array(out))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some("email") || args.next().is_some() {
        eprintln!("tripline-demo: usage: tripline-demo email < envelopes.json");
        return ExitCode::from(2);
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("tripline-demo: error: cannot read stdin: {e}");
        return ExitCode::from(2);
    }
    match run(&input) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tripline-demo: error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use tripline_core::render::sns::RemediationStatus;
    use tripline_core::settings::RuleConfig;
    use tripline_core::Intake;

    /// The SNS envelope an SQS subscriber receives for `published` (the `sqs` part of the message).
    fn envelope(published: &SnsMessage) -> Value {
        let parts: Value = serde_json::from_str(&published.message).unwrap();
        let attrs: serde_json::Map<String, Value> = published
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), json!({"Type": "String", "Value": v})))
            .collect();
        json!({"Type": "Notification", "Subject": published.subject, "Message": parts["sqs"],
               "MessageAttributes": attrs})
    }

    fn finding(sample: &str) -> Finding {
        let bytes = std::fs::read(format!("{}/../events/{sample}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let Intake::Change(change) = tripline_core::intake(&bytes).unwrap() else {
            panic!("{sample}: not a change")
        };
        let eval = tripline_core::rules::evaluate(&change, None, &RuleConfig::default());
        eval.findings
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{sample}: no finding"))
    }

    #[test]
    fn email_view_shows_exactly_what_sns_sends_to_email_subscribers() {
        let f = finding("cloudtrail-s3-put-bucket-policy-public.json");
        let outcome = RemediationOutcome::of(
            &f,
            "s3-remove-public-policy-statements".into(),
            RemediationStatus::Remediated,
            vec!["removed statement `PublicReadGetObject`".into()],
            "verified: the bucket is no longer public".into(),
        );
        let mut tampered = envelope(&sns::message(&f));
        let mut doc: Value = serde_json::from_str(tampered["Message"].as_str().unwrap()).unwrap();
        // A field this build does not know (a newer producer): re-rendering cannot reproduce the document.
        doc["added_by_a_newer_version"] = json!(1);
        tampered["Message"] = json!(doc.to_string());
        // (envelope, exact) — the subject and email part must be the publish's own.
        let cases = [
            (sns::message(&f), None, true),
            (sns::remediation_outcome(&outcome), None, true),
            (sns::message(&f), Some(tampered), false),
        ];
        for (published, env, exact) in cases {
            let env = env.unwrap_or_else(|| envelope(&published));
            let out = run(&Value::Array(vec![env]).to_string()).unwrap();
            let parts: Value = serde_json::from_str(&published.message).unwrap();
            if exact {
                assert_eq!(out[0]["subject"], json!(published.subject));
                assert_eq!(out[0]["body"], parts["email"]);
            }
            assert_eq!(out[0]["exact"], json!(exact), "{}", published.subject);
        }
    }

    #[test]
    fn bad_input_is_an_error_naming_the_envelope() {
        let cases: &[(&str, &str)] = &[
            ("{}", "input is not a json array"),
            (
                r#"[{"Message": "{}"}]"#,
                "envelope 0: no `kind` message attribute",
            ),
            (
                r#"[{"MessageAttributes": {"kind": {"Value": "finding"}}}]"#,
                "envelope 0: no `Message`",
            ),
            (
                r#"[{"MessageAttributes": {"kind": {"Value": "gossip"}}, "Message": "{}"}]"#,
                "unknown message kind `gossip`",
            ),
            (
                r#"[{"MessageAttributes": {"kind": {"Value": "finding"}}, "Message": "{}"}]"#,
                "message is not a finding",
            ),
        ];
        for (input, want) in cases {
            let e = run(input).unwrap_err();
            assert!(e.contains(want), "{input}: {e}");
        }
    }
}
