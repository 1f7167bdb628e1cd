//! Helpers shared by the fuzz targets: inputs are raw bytes; a policy is JSON text; two documents in one
//! input are split on the first NUL byte (JSON text never contains a raw NUL, so the seeds stay readable).

use serde_json::Value;
use tripline_core::policy::Policy;

/// The separator between two documents in one input.
pub const SEP: u8 = 0;

/// The input cut at the first [`SEP`]: `(first, Some(rest))`, or `(whole, None)`.
pub fn split(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|b| *b == SEP) {
        Some(i) => (&data[..i], data.get(i + 1..)),
        None => (data, None),
    }
}

/// JSON, or `None`.
pub fn json(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice(bytes).ok()
}

/// A parsed policy, or `None` (invalid JSON or not a policy).
pub fn policy(bytes: &[u8]) -> Option<Policy> {
    Policy::parse(&json(bytes)?).ok()
}
