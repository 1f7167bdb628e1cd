//! Remediation planning (pure): the narrowest change that removes public access.
//!
//! - [`remove_public_statements`] drops every `Allow` statement the S3 definition finds public from a
//!   bucket policy, keeping the other statements byte-for-byte (as JSON values). Removing `Allow`
//!   statements can only remove access, so the result is never wider than the original; and since every
//!   remaining `Allow` is limited, it is not public.
//! - [`remove_public_grants`] drops every grant to the AllUsers / AuthenticatedUsers groups from an ACL,
//!   keeping its shape (a public canned ACL becomes `private`).

use serde::Serialize;
use serde_json::Value;

use super::acl::{self, AclShape};
use super::grammar::{Effect, Policy, PolicyError};
use super::public::{analyse_statement, Reason, ResourceKind};

/// The planned bucket policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Narrowed {
    /// The policy to put, or `None` when no statement is left (delete the bucket policy).
    pub policy: Option<Value>,
    /// Why each removed statement was public.
    pub removed: Vec<Reason>,
}

/// Drops the public `Allow` statements of a bucket policy.
pub fn remove_public_statements(bucket_policy: &Value) -> Result<Narrowed, PolicyError> {
    remove_public_statements_of(bucket_policy, ResourceKind::S3Bucket)
}

/// Drops the `Allow` statements of a resource policy (or role trust policy) that the public definition of
/// `kind` finds public, keeping every other statement (every `Deny` included) byte-for-byte. `policy: None`
/// in the result means no statement is left.
pub fn remove_public_statements_of(
    bucket_policy: &Value,
    kind: ResourceKind,
) -> Result<Narrowed, PolicyError> {
    let parsed = Policy::parse(bucket_policy)?;
    let mut removed = Vec::new();
    let mut keep = Vec::with_capacity(parsed.statements.len());
    for stmt in &parsed.statements {
        let public = stmt.effect == Effect::Allow && {
            let (public, reasons) = analyse_statement(stmt, parsed.version, kind);
            if public {
                removed.extend(reasons);
            }
            public
        };
        keep.push(!public);
    }
    let raw: Vec<Value> = match bucket_policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(obj) => vec![obj.clone()],
        None => Vec::new(),
    };
    let remaining: Vec<Value> = raw
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(s, _)| s)
        .collect();
    if remaining.is_empty() {
        return Ok(Narrowed {
            policy: None,
            removed,
        });
    }
    let mut out = bucket_policy.clone();
    if let Value::Object(o) = &mut out {
        o.insert("Statement".into(), Value::Array(remaining));
    }
    Ok(Narrowed {
        policy: Some(out),
        removed,
    })
}

fn is_public_grant(index: usize, g: &Value) -> Result<bool, PolicyError> {
    Ok(acl::grant_public(index, g)?.is_some())
}

/// Drops the grants to public groups from an ACL document (same shapes as [`acl::acl_public`]).
pub fn remove_public_grants(acl_doc: &Value) -> Result<Value, PolicyError> {
    let mut out = acl_doc.clone();
    // Work on the parameters when the document is a (possibly EventBridge-wrapped) CloudTrail record.
    let mut path = Vec::new();
    let mut cur: &Value = &out;
    while let Some(k) = ["detail", "requestParameters"]
        .into_iter()
        .find(|k| cur.get(*k).is_some_and(Value::is_object))
    {
        path.push(k);
        cur = match cur.get(k) {
            Some(inner) => inner,
            None => break,
        };
    }
    let mut target: &mut Value = &mut out;
    for k in path {
        target = match target.get_mut(k) {
            Some(inner) => inner,
            None => {
                return Err(PolicyError::Missing {
                    context: "acl".into(),
                    field: k.into(),
                })
            }
        };
    }
    match acl::locate(&target.clone())? {
        AclShape::Canned(name) => {
            if acl::canned_acl_public(&name).public {
                let key = target
                    .as_object()
                    .and_then(|o| o.keys().find(|k| k.eq_ignore_ascii_case("x-amz-acl")).cloned());
                if let Some(key) = key {
                    if let Some(v) = target.get_mut(&key) {
                        *v = match v {
                            Value::Array(_) => Value::Array(vec![Value::String("private".into())]),
                            _ => Value::String("private".into()),
                        };
                    }
                }
            }
        }
        AclShape::Headers { canned, grants } => {
            let Some(o) = target.as_object_mut() else {
                return Ok(out);
            };
            if canned.is_some_and(|n| acl::canned_acl_public(&n).public) {
                if let Some(key) = o.keys().find(|k| k.eq_ignore_ascii_case("x-amz-acl")).cloned() {
                    o.remove(&key);
                }
            }
            for g in grants {
                let kept: Vec<String> = g
                    .grantees
                    .iter()
                    .filter(|(kind, value)| {
                        !(kind.eq_ignore_ascii_case("uri") && acl::public_group(value).is_some())
                    })
                    .map(|(kind, value)| format!("{kind}=\"{value}\""))
                    .collect();
                if kept.is_empty() {
                    o.remove(&g.key);
                } else {
                    o.insert(g.key.clone(), Value::String(kept.join(", ")));
                }
            }
            // Every grant removed: what remains is the owner's full control, i.e. the `private` canned ACL.
            let has_acl = o.keys().any(|k| {
                let k = k.to_ascii_lowercase();
                k == "x-amz-acl" || k.starts_with("x-amz-grant-")
            });
            if !has_acl {
                o.insert("x-amz-acl".into(), Value::String("private".into()));
            }
        }
        AclShape::Grants(items) => {
            let mut kept = Vec::new();
            for (i, g) in items.iter().enumerate() {
                if !is_public_grant(i, g)? {
                    kept.push(g.clone());
                }
            }
            if let Some(o) = target.as_object_mut() {
                let key = o
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case("Grants"))
                    .cloned()
                    .unwrap_or_default();
                o.insert(key, Value::Array(kept));
            }
        }
        AclShape::CloudTrail(grant) => {
            let grants = acl::cloudtrail_grants(grant)?;
            let mut kept = Vec::new();
            for (i, g) in grants.iter().enumerate() {
                if !is_public_grant(i, g)? {
                    kept.push((*g).clone());
                }
            }
            let list = target
                .get_mut("AccessControlPolicy")
                .and_then(|a| a.get_mut("AccessControlList"))
                .and_then(Value::as_object_mut);
            if let Some(list) = list {
                list.insert("Grant".into(), Value::Array(kept));
            }
        }
    }
    Ok(out)
}
