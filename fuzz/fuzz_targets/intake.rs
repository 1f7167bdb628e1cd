//! `intake` on any payload (CloudTrail via EventBridge, Config item / rule invocation, SNS-wrapped), and
//! the oversized-item path on the same bytes; a change then goes through the rule triggers and needs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_core::{intake, intake_oversized_item, rules, Intake, OversizedContext};

fuzz_target!(|data: &[u8]| {
    match intake(data) {
        Ok(Intake::Change(c)) => {
            let _ = rules::triggered(&c);
            let _ = rules::needs(&c);
        }
        Ok(other) => {
            if let Some(ctx) = other.oversized_context() {
                let _ = intake_oversized_item(data, &ctx);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = intake_oversized_item(data, &OversizedContext::default());
});
