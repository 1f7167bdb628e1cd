//! "Is the ACL public?" — Amazon S3 User Guide, "The meaning of 'public'" (ACLs):
//!
//! > Amazon S3 considers a bucket or object ACL public if it grants any permissions to members of the
//! > predefined `AllUsers` or `AuthenticatedUsers` groups.
//!
//! Accepted shapes:
//! - a GetBucketAcl response: `{"Owner": {...}, "Grants": [{"Grantee": {"Type", "URI", "ID"}, "Permission"}]}`;
//! - CloudTrail `PutBucketAcl` request parameters (or an object holding `requestParameters`):
//!   `{"AccessControlPolicy": {"AccessControlList": {"Grant": <object or list>}, "Owner": ...}}` with grantees
//!   typed by `xsi:type`, or a canned ACL in `x-amz-acl` (string or list).
//!
//! Canned ACLs (S3 User Guide, "Canned ACL"): `public-read` and `public-read-write` grant to AllUsers,
//! `authenticated-read` to AuthenticatedUsers; the others (`private`, `aws-exec-read`, `bucket-owner-read`,
//! `bucket-owner-full-control`, `log-delivery-write`) do not.

use serde_json::{Map, Value};

use super::grammar::PolicyError;
use super::public::{PublicVerdict, Reason};

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
        Value::String(s) => format!("`{s}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
        other => format!("`{other}`"),
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
    if let Some(canned) = get_ci(obj, "x-amz-acl").or_else(|| get_ci(obj, "ACL")) {
        let name = match canned {
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
        };
        return Ok(AclShape::Canned(name));
    }
    Err(PolicyError::Missing {
        context: "acl".into(),
        field: "Grants".into(),
    })
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
            format!("canned ACL `{other}` is not recognised; assumed public (conservative)"),
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
