//! Whether a bucket policy requires TLS: AWS Security Hub control S3.5 ("S3 general purpose buckets should
//! require requests to use SSL"), whose check is a statement that denies requests when `aws:SecureTransport`
//! is `false`. Read over the document as JSON (keys of the policy language case-insensitively): a statement
//! counts when its `Effect` is `Deny`, its `Principal` is everyone (`"*"` or `{"AWS": "*"}`), its `Action`
//! covers every S3 action (`s3:*` or `*`), its `Resource` covers the bucket and its objects (`arn:...:bucket`
//! and `arn:...:bucket/*`, or a pattern covering both such as `arn:...:bucket*` or `*`), and its
//! `Condition` holds `Bool` (or `BoolIfExists`) `aws:SecureTransport` = `false`.

use serde_json::Value;

/// The value of an object key, case-insensitively.
fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, x)| x)
}

/// A string or a list of strings.
fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether a `*`/`?` pattern matches a value (ARNs case-sensitive).
fn matches(pattern: &str, value: &str) -> bool {
    wildmatch::WildMatch::new(pattern).matches(value)
}

fn everyone(principal: Option<&Value>) -> bool {
    match principal {
        Some(Value::String(s)) => s == "*",
        Some(p @ Value::Object(_)) => strings(get(p, "AWS")).contains(&"*"),
        _ => false,
    }
}

fn insecure_transport_condition(condition: Option<&Value>) -> bool {
    let Some(c) = condition else {
        return false;
    };
    ["Bool", "BoolIfExists"].iter().any(|op| {
        get(c, op)
            .and_then(|block| get(block, "aws:SecureTransport"))
            .is_some_and(|v| match v {
                Value::Bool(b) => !b,
                Value::String(s) => s.eq_ignore_ascii_case("false"),
                Value::Array(a) => a.iter().any(|x| {
                    x.as_str().is_some_and(|s| s.eq_ignore_ascii_case("false")) || x == &Value::Bool(false)
                }),
                _ => false,
            })
    })
}

/// The statements of a document (one object or a list).
fn statements(doc: &Value) -> Vec<&Value> {
    match get(doc, "Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

/// The statement (its `Sid`, or `#index`) that denies insecure transport to `bucket_arn` and its objects
/// for everyone, if any.
pub fn tls_required(doc: &Value, bucket_arn: &str) -> Option<String> {
    let objects = format!("{bucket_arn}/*");
    statements(doc).into_iter().enumerate().find_map(|(i, st)| {
        let deny = get(st, "Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case("Deny"));
        let actions = strings(get(st, "Action"));
        let all_s3 = actions
            .iter()
            .any(|a| *a == "*" || a.eq_ignore_ascii_case("s3:*"));
        let resources = strings(get(st, "Resource"));
        let covers = |arn: &str| resources.iter().any(|r| matches(r, arn));
        let ok = deny
            && everyone(get(st, "Principal"))
            && all_s3
            && covers(bucket_arn)
            && covers(&objects)
            && insecure_transport_condition(get(st, "Condition"));
        ok.then(|| {
            get(st, "Sid")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map_or_else(|| format!("#{i}"), str::to_owned)
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_s3_5_statement_and_its_near_misses() {
        let arn = "arn:aws:s3:::b";
        let st = |v: Value| json!({"Version": "2012-10-17", "Statement": [v]});
        let good = json!({"Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
        assert_eq!(tls_required(&st(good.clone()), arn).as_deref(), Some("TLS"));
        let mut wide = good.clone();
        wide["Resource"] = json!("arn:aws:s3:::b*");
        wide["Principal"] = json!({"AWS": "*"});
        assert!(tls_required(&st(wide), arn).is_some());
        // Objects only, an Allow, a single action, the wrong value: not S3.5's statement.
        let mut objects_only = good.clone();
        objects_only["Resource"] = json!("arn:aws:s3:::b/*");
        let mut allow = good.clone();
        allow["Effect"] = json!("Allow");
        let mut one_action = good.clone();
        one_action["Action"] = json!("s3:GetObject");
        let mut truthy = good;
        truthy["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}});
        for bad in [objects_only, allow, one_action, truthy] {
            assert_eq!(tls_required(&st(bad), arn), None);
        }
    }
}
