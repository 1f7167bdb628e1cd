//! ACL verdicts: GetBucketAcl responses, CloudTrail PutBucketAcl / PutObjectAcl parameters, canned ACLs
//! (bare JSON strings and raw text), removing the public grants, and exposure under Block Public Access.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_core::policy::{acl_public, bucket_exposure, canned_acl_public, narrow};
use tripline_core::PublicAccessBlock;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if text.len() <= 256 {
            let _ = canned_acl_public(text);
        }
    }
    let Some(doc) = tripline_fuzz::json(data) else {
        return;
    };
    if let Ok(verdict) = acl_public(&doc) {
        let _ = bucket_exposure(None, Some(&verdict), None, None);
        let _ = bucket_exposure(None, Some(&verdict), Some(&PublicAccessBlock::ALL_ON), None);
    }
    if let Ok(narrowed) = narrow::remove_public_grants(&doc) {
        let _ = acl_public(&narrowed);
    }
});
