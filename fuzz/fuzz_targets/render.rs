//! The whole pure pipeline: intake -> evaluate (every triggered rule) -> render each finding as an SNS
//! message, email text and Slack blocks. Input: `payload` NUL `state` (optional JSON `State`, as the shell
//! would fetch it); the payload is judged without state and, when given, with it. Beyond "never panics",
//! the rendered messages must be accepted by SNS and Slack: a valid subject (`sns::subject_is_valid`), a
//! message within SNS's 256 KiB, and Block Kit's limits (blocks, fields, text lengths).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tripline_core::render::{email, slack, sns};
use tripline_core::rules;
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake, State};

/// SNS's limit on one publish request (subject, message and attributes).
const SNS_MAX_BYTES: usize = 256 * 1024;

fn check_slack(payload: &Value) {
    let blocks = payload["blocks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    assert!(
        !blocks.is_empty() && blocks.len() <= slack::MAX_BLOCKS,
        "{} blocks",
        blocks.len()
    );
    for b in blocks {
        let text = b["text"]["text"].as_str().unwrap_or_default();
        let max = if b["type"] == "header" {
            slack::MAX_HEADER_CHARS
        } else {
            slack::MAX_SECTION_CHARS
        };
        assert!(
            text.chars().count() <= max,
            "{} block text of {} chars",
            b["type"],
            text.chars().count()
        );
        let fields = b["fields"].as_array().map(Vec::as_slice).unwrap_or_default();
        assert!(fields.len() <= slack::MAX_FIELDS, "{} fields", fields.len());
        for f in fields {
            let n = f["text"].as_str().unwrap_or_default().chars().count();
            assert!(n <= slack::MAX_FIELD_CHARS, "field of {n} chars");
        }
        for e in b["elements"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let n = e["text"].as_str().unwrap_or_default().chars().count();
            assert!(n <= slack::MAX_SECTION_CHARS, "context element of {n} chars");
            let n = e["text"]["text"].as_str().unwrap_or_default().chars().count();
            assert!(n <= slack::MAX_BUTTON_TEXT_CHARS, "button text of {n} chars");
            let n = e["url"].as_str().unwrap_or_default().chars().count();
            assert!(n <= slack::MAX_URL_CHARS, "button url of {n} chars");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (payload, state) = tripline_fuzz::split(data);
    let Ok(Intake::Change(change)) = intake(payload) else {
        return;
    };
    let state: Option<State> = state.and_then(|s| serde_json::from_slice(s).ok());
    let config = RuleConfig::default();
    let mut evals = vec![rules::evaluate(&change, None, &config)];
    if let Some(s) = &state {
        evals.push(rules::evaluate(&change, Some(s), &config));
    }
    for eval in evals {
        for f in &eval.findings {
            let m = sns::message(f);
            assert!(
                sns::subject_is_valid(&m.subject),
                "invalid SNS subject {:?}",
                m.subject
            );
            let size = m.subject.len()
                + m.message.len()
                + m.attributes.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
            assert!(size <= SNS_MAX_BYTES, "SNS publish of {size} bytes");
            let _ = email::text(f);
            check_slack(&slack::blocks(f));
        }
    }
});
