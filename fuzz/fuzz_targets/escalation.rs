//! Privilege-escalation combos and full admin on one policy; with `old` NUL `new`, the newly enabled
//! combos.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_core::policy::{escalation_combos, grants_full_admin, newly_enabled_combos};

fuzz_target!(|data: &[u8]| {
    let (a, b) = tripline_fuzz::split(data);
    let Some(old) = tripline_fuzz::policy(a) else {
        return;
    };
    let _ = escalation_combos(&old);
    let _ = grants_full_admin(&old);
    if let Some(new) = b.and_then(tripline_fuzz::policy) {
        let _ = newly_enabled_combos(&old, &new);
    }
});
