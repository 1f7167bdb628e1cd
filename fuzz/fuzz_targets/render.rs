//! The whole pure pipeline: intake -> evaluate (every triggered rule) -> render each finding as an SNS
//! message, email text and Slack blocks. Input: `payload` NUL `state` (optional JSON `State`, as the shell
//! would fetch it); the payload is judged without state and, when given, with it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_core::render::{email, slack, sns};
use tripline_core::rules;
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake, State};

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
            let _ = sns::subject_is_valid(&m.subject);
            let _ = email::text(f);
            let _ = slack::blocks(f);
        }
    }
});
