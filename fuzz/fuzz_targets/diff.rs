//! The "no new access" diff. Input: `old` NUL `new` (two JSON policies); without a NUL, the policy is
//! diffed against itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_core::policy::diff;

fuzz_target!(|data: &[u8]| {
    let (a, b) = tripline_fuzz::split(data);
    let Some(old) = tripline_fuzz::policy(a) else {
        return;
    };
    match b.and_then(tripline_fuzz::policy) {
        Some(new) => {
            let _ = diff(&old, &new);
        }
        None => {
            let _ = diff(&old, &old);
        }
    }
});
