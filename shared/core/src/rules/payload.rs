//! Small readers over a change's payload, shared by the rules. Tolerant: a missing or oddly typed field
//! reads as absent.

use serde_json::Value;

use crate::change::{Change, Payload};
use crate::finding::{Evidence, FindingResource, Severity};

use super::CheckError;
use super::Hit;

static NULL: Value = Value::Null;

/// CloudTrail `requestParameters` (null for other payloads).
pub fn req(change: &Change) -> &Value {
    match &change.payload {
        Payload::CloudTrail {
            request_parameters, ..
        } => request_parameters,
        _ => &NULL,
    }
}

/// CloudTrail `responseElements` (null for other payloads).
pub fn resp(change: &Change) -> &Value {
    match &change.payload {
        Payload::CloudTrail {
            response_elements, ..
        } => response_elements,
        _ => &NULL,
    }
}

/// Config `configuration` (null for other payloads).
pub fn configuration(change: &Change) -> &Value {
    match &change.payload {
        Payload::Config { configuration, .. } => configuration,
        _ => &NULL,
    }
}

/// Config `supplementaryConfiguration` (null for other payloads).
pub fn supplementary(change: &Change) -> &Value {
    match &change.payload {
        Payload::Config { supplementary, .. } => supplementary,
        _ => &NULL,
    }
}

/// Follows a path of object keys.
pub fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    let mut cur = v;
    for k in path {
        cur = cur.get(k).unwrap_or(&NULL);
    }
    cur
}

/// A string at a path.
pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path).as_str()
}

/// A boolean at a path; accepts `true`/`false` and the strings `"true"`/`"false"`.
pub fn bool_at(v: &Value, path: &[&str]) -> Option<bool> {
    match at(v, path) {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A number at a path; accepts numbers and numeric strings.
pub fn i64_at(v: &Value, path: &[&str]) -> Option<i64> {
    match at(v, path) {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The items of a list that CloudTrail may log as `{"items": [...]}`, as a plain array, or as a single
/// object.
pub fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match o.get("items") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(_) => Vec::new(),
            None if o.is_empty() => Vec::new(),
            None => vec![v],
        },
        _ => Vec::new(),
    }
}

/// An embedded policy document: an object as decoded by intake, or (tolerantly) a JSON string.
pub fn document(v: &Value) -> Option<Value> {
    match v {
        Value::Object(_) => Some(v.clone()),
        Value::String(s) => {
            let t = s.trim_start();
            if t.starts_with('{') {
                serde_json::from_str::<Value>(s).ok().filter(Value::is_object)
            } else if t.starts_with('%') {
                let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
                serde_json::from_str::<Value>(&decoded)
                    .ok()
                    .filter(Value::is_object)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A field the API requires in the request (`path` under `requestParameters`): the error a rule reports
/// when the record lacks it, since an absent field is unknown and the rule cannot judge the call.
pub fn require<'a>(req: &'a Value, path: &[&str]) -> Result<&'a Value, CheckError> {
    let v = at(req, path);
    if v.is_null() {
        return Err(CheckError::lacks_request(path));
    }
    Ok(v)
}

/// A policy document the API requires in the request: parsed, or the error saying the record lacks it
/// (or holds something that is not a document).
pub fn required_document(req: &Value, path: &[&str]) -> Result<Value, CheckError> {
    let v = require(req, path)?;
    document(v).ok_or_else(|| CheckError::NotADocument {
        path: format!("requestParameters.{}", path.join(".")),
    })
}

/// The change's first resource of a CloudFormation type, as `(arn, name)`.
pub fn resource_of<'a>(
    change: &'a Change,
    resource_type: &str,
) -> Option<(Option<&'a str>, Option<&'a str>)> {
    change
        .resources
        .iter()
        .find(|r| r.resource_type == resource_type)
        .map(|r| (r.arn.as_deref(), r.name.as_deref()))
}

/// Builds a [`FindingResource`]: prefers the resource intake recorded for `resource_type`, else the given
/// name and the ARN built by `arn_of(name)`. Without a name or a recorded ARN the ARN is empty: the record
/// names no resource, and no placeholder ARN is made up (renderers show
/// [`crate::finding::UNKNOWN_RESOURCE`]).
pub fn resource(
    change: &Change,
    resource_type: &str,
    name: Option<&str>,
    arn_of: impl Fn(&str) -> String,
) -> FindingResource {
    let recorded = resource_of(change, resource_type);
    let name = name
        .map(str::to_owned)
        .or_else(|| recorded.and_then(|(_, n)| n).map(str::to_owned));
    let arn = recorded
        .and_then(|(a, _)| a)
        .map(str::to_owned)
        .or_else(|| name.as_deref().map(&arn_of))
        .unwrap_or_default();
    FindingResource {
        resource_type: resource_type.to_owned(),
        arn,
        name,
    }
}

/// The ARN of a resource of `resource_type` named `name` in the change's region and account, from the
/// resource-kind registry's template (a name that is already an ARN is kept); `""` when AWS builds no ARN
/// from a name.
pub fn arn_in(change: &Change, resource_type: &str, name: &str) -> String {
    arn_in_account(change, resource_type, &change.account, name)
}

/// [`arn_in`] for a resource of another account (an SQS queue URL's, an ECR `registryId`).
pub fn arn_in_account(change: &Change, resource_type: &str, account: &str, name: &str) -> String {
    if name.starts_with("arn:") {
        return name.to_owned();
    }
    crate::resource_kind::arn(resource_type, &change.region, account, name).unwrap_or_default()
}

/// [`resource`] with the ARN from the resource-kind registry ([`arn_in`]).
pub fn registered(change: &Change, resource_type: &str, name: Option<&str>) -> FindingResource {
    resource(change, resource_type, name, |n| arn_in(change, resource_type, n))
}

/// The sentence saying the record lacks a field (`path` as in the record, e.g.
/// `requestParameters.principal`): what rules say instead of assuming a value.
pub fn lacks(path: &str) -> String {
    format!("the record does not include `{path}`")
}

/// [`lacks`] for several paths, as one clause (`; `-separated).
pub fn lacks_each(paths: &[String]) -> String {
    paths.iter().map(|p| lacks(p)).collect::<Vec<_>>().join("; ")
}

/// The resource's name in backticks for a reason, or, when the record does not name it, the sentence
/// saying the record lacks `path`.
pub fn quoted_name(resource: &FindingResource, path: &str) -> String {
    match &resource.name {
        Some(n) => format!("`{n}`"),
        None => format!("a resource the record does not name ({})", lacks(path)),
    }
}

/// A hit judged from the payload alone (no state involved).
pub fn payload_hit(
    resource: FindingResource,
    severity: Severity,
    summary: String,
    evidence: Evidence,
) -> Hit {
    Hit {
        resource,
        severity,
        summary,
        evidence,
        state_confirmed: true,
    }
}

/// Evidence with reasons only.
pub fn reasons(reasons: Vec<String>) -> Evidence {
    Evidence {
        reasons,
        ..Evidence::default()
    }
}

/// The actor's short name, for summaries.
pub fn who(change: &Change) -> String {
    super::actor_name(&change.actor)
}
