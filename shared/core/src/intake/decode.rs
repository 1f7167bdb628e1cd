//! Decoding of embedded policy documents, so later code only ever sees parsed JSON.
//!
//! - CloudTrail logs IAM documents as JSON *strings* (`policyDocument`, `assumeRolePolicyDocument`...), and
//!   several other services do the same for resource policies (SQS/SNS `Policy` attributes, KMS `policy`,
//!   ECR `policyText`, Secrets Manager `resourcePolicy`, Lambda's `statement` in AddPermission responses).
//! - AWS Config stores IAM documents URL-encoded (RFC 3986 percent-encoding, as the IAM API returns them:
//!   "the policy document returned in this structure is URL-encoded compliant with RFC 3986",
//!   <https://docs.aws.amazon.com/IAM/latest/APIReference/API_PolicyVersion.html>), and some supplementary
//!   configuration values (an S3 bucket's `AccessControlList`) as JSON strings.
//!
//! A string is replaced in place by its parsed value only when it decodes to a JSON object or array;
//! anything else is left untouched, so decoding never fails and never loses data.

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// Keys whose string values hold a JSON (or URL-encoded JSON) document.
const DOCUMENT_KEYS: &[&str] = &[
    "policyDocument",
    "PolicyDocument",
    "assumeRolePolicyDocument",
    "AssumeRolePolicyDocument",
    "document",
    "policy",
    "Policy",
    "policyText",
    "bucketPolicy",
    "resourcePolicy",
    "keyPolicy",
    "statement",
    "attributeValue",
    "AccessControlList",
    "trustPolicy",
    "permissionsBoundaryPolicyDocument",
];

/// Decodes one string as an embedded document: JSON text, or percent-encoded JSON text.
pub(crate) fn decode_document_str(s: &str) -> Option<Value> {
    let trimmed = s.trim_start();
    let parsed = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str::<Value>(s).ok()
    } else if trimmed.starts_with('%') {
        let decoded = percent_decode_str(s).decode_utf8().ok()?;
        serde_json::from_str::<Value>(&decoded).ok()
    } else {
        None
    };
    parsed.filter(|v| v.is_object() || v.is_array())
}

/// Whether `s` is percent-encoded JSON (starts with `%7B`, i.e. `{`, or `%5B`, i.e. `[`).
fn looks_url_encoded_json(s: &str) -> bool {
    let head = s.get(..3).unwrap_or("");
    head.eq_ignore_ascii_case("%7B") || head.eq_ignore_ascii_case("%5B")
}

/// Walks `value` and decodes, in place, every string under a [`DOCUMENT_KEYS`] key and every
/// percent-encoded JSON string. Decoded documents are not walked again.
pub(crate) fn decode_documents(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if let Value::String(s) = v {
                    if DOCUMENT_KEYS.contains(&key.as_str()) || looks_url_encoded_json(s) {
                        if let Some(doc) = decode_document_str(s) {
                            *v = doc;
                        }
                    }
                } else {
                    decode_documents(v);
                }
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                if let Value::String(s) = v {
                    if looks_url_encoded_json(s) {
                        if let Some(doc) = decode_document_str(s) {
                            *v = doc;
                        }
                    }
                } else {
                    decode_documents(v);
                }
            }
        }
        _ => {}
    }
}

/// Decodes a value that may itself be a document string (Config diff `previousValue`/`updatedValue`),
/// then the documents inside it.
pub(crate) fn decode_value(value: &mut Value) {
    if let Value::String(s) = value {
        if let Some(doc) = decode_document_str(s) {
            *value = doc;
        }
        return;
    }
    decode_documents(value);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_documents_by_key_and_encoding() {
        // (input, expected after decoding)
        let cases = [
            // CloudTrail IAM call: JSON string under policyDocument.
            (
                json!({"policyDocument": "{\"Version\":\"2012-10-17\"}"}),
                json!({"policyDocument": {"Version": "2012-10-17"}}),
            ),
            // Config IAM role: URL-encoded document (RFC 3986).
            (
                json!({"assumeRolePolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%7D"}),
                json!({"assumeRolePolicyDocument": {"Version": "2012-10-17"}}),
            ),
            // URL-encoded JSON under any key, inside arrays.
            (
                json!({"list": [{"x": "%7B%22a%22%3A1%7D"}]}),
                json!({"list": [{"x": {"a": 1}}]}),
            ),
            // Not a document: left untouched.
            (json!({"policy": ""}), json!({"policy": ""})),
            (json!({"policy": "{not json"}), json!({"policy": "{not json"})),
            (
                json!({"statement": "\"a string\""}),
                json!({"statement": "\"a string\""}),
            ),
            (json!({"name": "{\"a\":1}"}), json!({"name": "{\"a\":1}"})),
            (json!({"x": "%zz"}), json!({"x": "%zz"})),
        ];
        for (mut input, expected) in cases {
            decode_documents(&mut input);
            assert_eq!(input, expected);
        }
    }

    #[test]
    fn decodes_a_bare_document_value() {
        let mut v = json!("%7B%22Statement%22%3A%5B%5D%7D");
        decode_value(&mut v);
        assert_eq!(v, json!({"Statement": []}));
        let mut plain = json!("Enabled");
        decode_value(&mut plain);
        assert_eq!(plain, json!("Enabled"));
    }
}
