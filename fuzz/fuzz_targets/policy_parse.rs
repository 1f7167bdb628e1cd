//! The IAM policy grammar: `Policy::parse` on any JSON value, `Policy::from_json_str` on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_core::policy::Policy;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(p) = Policy::from_json_str(text) {
            for s in &p.statements {
                let _ = s.label();
            }
        }
    }
    if let Some(v) = tripline_fuzz::json(data) {
        if let Err(e) = Policy::parse(&v) {
            let _ = e.to_string();
        }
    }
});
