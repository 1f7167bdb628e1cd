//! "Is the ACL public?" — Amazon S3 User Guide, "The meaning of 'public'" (ACLs):
//!
//! > Amazon S3 considers a bucket or object ACL public if it grants any permissions to members of the
//! > predefined `AllUsers` or `AuthenticatedUsers` groups.
//!
//! Accepted shapes:
//! - a GetBucketAcl response: `{"Owner": {...}, "Grants": [{"Grantee": {"Type", "URI", "ID"}, "Permission"}]}`;
//! - CloudTrail `PutBucketAcl` request parameters (or an object holding `requestParameters`):
//!   `{"AccessControlPolicy": {"AccessControlList": {"Grant": <object or list>}, "Owner": ...}}` with grantees
//!   typed by `xsi:type`, or a canned ACL in `x-amz-acl` (string or list), or grants in the request headers
//!   `x-amz-grant-read`, `-write`, `-read-acp`, `-write-acp`, `-full-control` (API_PutBucketAcl.html,
//!   "Specify permissions using request headers": a comma-separated list of `id="..."`, `uri="..."` or
//!   `emailAddress="..."` grantees; string or list). Header names are case-insensitive. The `acl` key that
//!   CloudTrail records in every PutBucketAcl (`"acl": ""` or `[""]`) is the `?acl` subresource of the
//!   request URL, not an ACL: it is ignored. A document with no grants, no canned ACL and no grant
//!   header is invalid.
//!
//! Canned ACLs (S3 User Guide, "Canned ACL"): `public-read` and `public-read-write` grant to AllUsers,
//! `authenticated-read` to AuthenticatedUsers; the others (`private`, `aws-exec-read`, `bucket-owner-read`,
//! `bucket-owner-full-control`, `log-delivery-write`) do not.

use serde_json::{Map, Value};

use super::grammar::PolicyError;
use super::public::{PublicVerdict, Reason};
use crate::text::quote;

/// The group URIs that make an ACL public.
pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// Which public group a grantee URI names, if any (scheme and case ignored).
pub fn public_group(uri: &str) -> Option<&'static str> {
    let lower = uri.to_ascii_lowercase();
    if lower.ends_with("acs.amazonaws.com/groups/global/allusers") {
        Some("AllUsers")
    } else if lower.ends_with("acs.amazonaws.com/groups/global/authenticatedusers") {
        Some("AuthenticatedUsers")
    } else {
        None
    }
}

fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn found(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{}`", quote(s)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
        other => format!("`{}`", quote(&other.to_string())),
    }
}

/// Where the grants of an ACL document live.
pub(crate) enum AclShape<'a> {
    /// GetBucketAcl: the `Grants` list.
    Grants(&'a Vec<Value>),
    /// CloudTrail: `AccessControlPolicy.AccessControlList.Grant` (object or list).
    CloudTrail(&'a Value),
    /// A canned ACL name.
    Canned(String),
    /// Grants in `x-amz-grant-*` request headers (with the canned ACL, when one is also given: S3 rejects
    /// that combination, so both are judged and the more public answer wins).
    Headers {
        canned: Option<String>,
        grants: Vec<HeaderGrant>,
    },
}

/// One `x-amz-grant-*` header: the permission it grants and its grantees `(type, value)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderGrant {
    /// The header name as written (for edits).
    pub key: String,
    pub permission: &'static str,
    pub grantees: Vec<(String, String)>,
}

/// The grant headers of PutBucketAcl and the permission each grants.
const GRANT_HEADERS: [(&str, &str); 5] = [
    ("x-amz-grant-read", "READ"),
    ("x-amz-grant-write", "WRITE"),
    ("x-amz-grant-read-acp", "READ_ACP"),
    ("x-amz-grant-write-acp", "WRITE_ACP"),
    ("x-amz-grant-full-control", "FULL_CONTROL"),
];

/// Parses one grant header value: `type="value"` pairs separated by commas (quotes optional), `type` one of
/// `id`, `uri`, `emailAddress` (any case).
pub(crate) fn parse_grantees(header: &str, value: &str) -> Result<Vec<(String, String)>, PolicyError> {
    let invalid = || PolicyError::Invalid {
        context: "acl".into(),
        field: quote(header),
        expected: "a comma-separated list of id=\"...\", uri=\"...\" or emailAddress=\"...\"".into(),
        found: format!("`{}`", quote(value)),
    };
    let mut out = Vec::new();
    let mut rest = value.trim_start_matches([' ', ',', '\t']);
    while !rest.is_empty() {
        let eq = rest.find('=').ok_or_else(invalid)?;
        let kind = rest[..eq].trim();
        if !["id", "uri", "emailaddress"].contains(&kind.to_ascii_lowercase().as_str()) {
            return Err(invalid());
        }
        let after = rest[eq + 1..].trim_start();
        let (val, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').ok_or_else(invalid)?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        out.push((kind.to_string(), val.to_string()));
        let tail = tail.trim_start();
        if !(tail.is_empty() || tail.starts_with(',')) {
            return Err(invalid());
        }
        rest = tail.trim_start_matches([' ', ',', '\t']);
    }
    Ok(out)
}

/// The strings of a header value (a string, or a list of strings as CloudTrail records headers).
fn header_strings<'a>(key: &str, v: &'a Value) -> Result<Vec<&'a str>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str().ok_or_else(|| PolicyError::Invalid {
                    context: "acl".into(),
                    field: key.to_string(),
                    expected: "a string or a list of strings".into(),
                    found: found(i),
                })
            })
            .collect(),
        other => Err(PolicyError::Invalid {
            context: "acl".into(),
            field: key.to_string(),
            expected: "a string or a list of strings".into(),
            found: found(other),
        }),
    }
}

/// The `x-amz-grant-*` headers of request parameters.
pub(crate) fn header_grants(obj: &Map<String, Value>) -> Result<Vec<HeaderGrant>, PolicyError> {
    let mut out = Vec::new();
    for (key, v) in obj {
        let lower = key.to_ascii_lowercase();
        let Some((_, permission)) = GRANT_HEADERS.iter().find(|(h, _)| *h == lower) else {
            continue;
        };
        let mut grantees = Vec::new();
        for s in header_strings(key, v)? {
            grantees.extend(parse_grantees(key, s)?);
        }
        out.push(HeaderGrant {
            key: key.clone(),
            permission,
            grantees,
        });
    }
    Ok(out)
}

pub(crate) fn locate(doc: &Value) -> Result<AclShape<'_>, PolicyError> {
    let Value::Object(obj) = doc else {
        return Err(PolicyError::Invalid {
            context: "acl".into(),
            field: "document".into(),
            expected: "a JSON object".into(),
            found: found(doc),
        });
    };
    // A CloudTrail record, or one wrapped by EventBridge (`detail`).
    for wrapper in ["detail", "requestParameters"] {
        if let Some(inner @ Value::Object(_)) = obj.get(wrapper) {
            return locate(inner);
        }
    }
    if let Some(g) = get_ci(obj, "Grants") {
        return match g {
            Value::Array(items) => Ok(AclShape::Grants(items)),
            other => Err(PolicyError::Invalid {
                context: "acl".into(),
                field: "Grants".into(),
                expected: "a list".into(),
                found: found(other),
            }),
        };
    }
    if let Some(acp) = get_ci(obj, "AccessControlPolicy") {
        let list = acp
            .as_object()
            .and_then(|o| get_ci(o, "AccessControlList"))
            .ok_or_else(|| PolicyError::Missing {
                context: "acl".into(),
                field: "AccessControlPolicy.AccessControlList".into(),
            })?;
        let grant = match list {
            Value::Object(o) => get_ci(o, "Grant").unwrap_or(&Value::Null),
            // An empty `AccessControlList` may be rendered as an empty string.
            Value::String(s) if s.is_empty() => &Value::Null,
            other => {
                return Err(PolicyError::Invalid {
                    context: "acl".into(),
                    field: "AccessControlPolicy.AccessControlList".into(),
                    expected: "an object".into(),
                    found: found(other),
                })
            }
        };
        return Ok(AclShape::CloudTrail(grant));
    }
    // Only the `x-amz-acl` header names a canned ACL; CloudTrail's `acl` key is the `?acl` subresource.
    let canned = match get_ci(obj, "x-amz-acl") {
        Some(canned) => Some(match canned {
            Value::String(s) => s.clone(),
            Value::Array(items) if items.len() == 1 && items[0].is_string() => {
                items[0].as_str().unwrap_or_default().to_string()
            }
            other => {
                return Err(PolicyError::Invalid {
                    context: "acl".into(),
                    field: "x-amz-acl".into(),
                    expected: "a canned ACL name".into(),
                    found: found(other),
                })
            }
        }),
        None => None,
    };
    let grants = header_grants(obj)?;
    match (canned, grants.is_empty()) {
        (canned, false) => Ok(AclShape::Headers { canned, grants }),
        (Some(name), true) => Ok(AclShape::Canned(name)),
        (None, true) => Err(PolicyError::Missing {
            context: "acl".into(),
            field: "Grants (or AccessControlPolicy, x-amz-acl, x-amz-grant-*)".into(),
        }),
    }
}

/// The grants of a CloudTrail `Grant` value (object, list, or null for none).
pub(crate) fn cloudtrail_grants(grant: &Value) -> Result<Vec<&Value>, PolicyError> {
    match grant {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => Ok(items.iter().collect()),
        o @ Value::Object(_) => Ok(vec![o]),
        other => Err(PolicyError::Invalid {
            context: "acl".into(),
            field: "AccessControlPolicy.AccessControlList.Grant".into(),
            expected: "an object or a list".into(),
            found: found(other),
        }),
    }
}

/// The public group a grant gives permission to, with the permission, or `None`.
pub(crate) fn grant_public(
    index: usize,
    grant: &Value,
) -> Result<Option<(&'static str, String)>, PolicyError> {
    let context = format!("grant #{index}");
    let Value::Object(g) = grant else {
        return Err(PolicyError::Invalid {
            context,
            field: "Grant".into(),
            expected: "an object".into(),
            found: found(grant),
        });
    };
    let grantee = match get_ci(g, "Grantee") {
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(PolicyError::Invalid {
                context,
                field: "Grantee".into(),
                expected: "an object".into(),
                found: found(other),
            })
        }
        None => {
            return Err(PolicyError::Missing {
                context,
                field: "Grantee".into(),
            })
        }
    };
    let permission = match get_ci(g, "Permission") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(PolicyError::Invalid {
                context,
                field: "Permission".into(),
                expected: "a string".into(),
                found: found(other),
            })
        }
        None => {
            return Err(PolicyError::Missing {
                context,
                field: "Permission".into(),
            })
        }
    };
    let uri = match get_ci(grantee, "URI") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(PolicyError::Invalid {
                context,
                field: "Grantee.URI".into(),
                expected: "a string".into(),
                found: found(other),
            })
        }
    };
    Ok(public_group(uri).map(|group| (group, permission)))
}

/// The verdict for a canned ACL name.
pub fn canned_acl_public(name: &str) -> PublicVerdict {
    let label = "canned-acl";
    let (public, cause) = match name {
        "public-read" => (
            true,
            "canned ACL `public-read` grants READ to the AllUsers group".to_string(),
        ),
        "public-read-write" => (
            true,
            "canned ACL `public-read-write` grants READ and WRITE to the AllUsers group".to_string(),
        ),
        "authenticated-read" => (
            true,
            "canned ACL `authenticated-read` grants READ to the AuthenticatedUsers group".to_string(),
        ),
        "private"
        | "aws-exec-read"
        | "bucket-owner-read"
        | "bucket-owner-full-control"
        | "log-delivery-write" => (
            false,
            format!("canned ACL `{name}` grants nothing to AllUsers or AuthenticatedUsers"),
        ),
        other => (
            true,
            format!(
                "canned ACL `{}` is not recognised; assumed public (conservative)",
                quote(other)
            ),
        ),
    };
    let code = if public {
        "public-canned-acl"
    } else {
        "private-canned-acl"
    };
    PublicVerdict {
        public,
        reasons: vec![Reason::new(label, code, cause)],
    }
}

/// The verdict for an ACL document (GetBucketAcl response, CloudTrail PutBucketAcl parameters, or a canned
/// ACL: `x-amz-acl` in the parameters, or a bare JSON string such as `"public-read"`).
pub fn acl_public(doc: &Value) -> Result<PublicVerdict, PolicyError> {
    if let Value::String(name) = doc {
        return Ok(canned_acl_public(name));
    }
    let grants: Vec<&Value> = match locate(doc)? {
        AclShape::Canned(name) => return Ok(canned_acl_public(&name)),
        AclShape::Headers { canned, grants } => return Ok(headers_public(canned.as_deref(), &grants)),
        AclShape::Grants(items) => items.iter().collect(),
        AclShape::CloudTrail(g) => cloudtrail_grants(g)?,
    };
    let mut reasons = Vec::new();
    for (i, g) in grants.iter().enumerate() {
        if let Some((group, permission)) = grant_public(i, g)? {
            let code = if group == "AllUsers" {
                "all-users-grant"
            } else {
                "authenticated-users-grant"
            };
            let who = if group == "AllUsers" {
                "everyone"
            } else {
                "any AWS account holder"
            };
            reasons.push(Reason::new(
                format!("grant #{i}"),
                code,
                format!("grants `{permission}` to the {group} group ({who})"),
            ));
        }
    }
    if reasons.is_empty() {
        return Ok(PublicVerdict {
            public: false,
            reasons: vec![Reason::new(
                "acl",
                "no-public-grant",
                "no grant to the AllUsers or AuthenticatedUsers groups",
            )],
        });
    }
    Ok(PublicVerdict {
        public: true,
        reasons,
    })
}

fn group_reason(label: String, group: &str, permission: &str) -> Reason {
    let (code, who) = if group == "AllUsers" {
        ("all-users-grant", "everyone")
    } else {
        ("authenticated-users-grant", "any AWS account holder")
    };
    Reason::new(
        label,
        code,
        format!("grants `{permission}` to the {group} group ({who})"),
    )
}

/// The verdict for `x-amz-grant-*` headers (and a canned ACL given with them).
fn headers_public(canned: Option<&str>, grants: &[HeaderGrant]) -> PublicVerdict {
    let mut reasons = Vec::new();
    if let Some(name) = canned {
        let v = canned_acl_public(name);
        if v.public {
            reasons.extend(v.reasons);
        }
    }
    for g in grants {
        for (kind, value) in &g.grantees {
            if !kind.eq_ignore_ascii_case("uri") {
                continue;
            }
            if let Some(group) = public_group(value) {
                reasons.push(group_reason(format!("header {}", g.key), group, g.permission));
            }
        }
    }
    if reasons.is_empty() {
        return PublicVerdict {
            public: false,
            reasons: vec![Reason::new(
                "acl",
                "no-public-grant",
                "no grant header gives a permission to the AllUsers or AuthenticatedUsers groups",
            )],
        };
    }
    PublicVerdict {
        public: true,
        reasons,
    }
}
