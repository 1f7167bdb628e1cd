//! The IAM policy language, parsed into a typed model.
//!
//! Grammar: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>.
//! - `Version` is `2012-10-17`, `2008-10-17` or absent. Policy variables (`${...}`) are variables only under
//!   2012-10-17 (reference_policies_elements_version.html: without it "you cannot use features such as
//!   policy variables"); otherwise they are literal text.
//! - `Statement` is a single object or a list of objects.
//! - `Effect` is `Allow` or `Deny`, case-sensitive (reference_policies_elements_effect.html: "The Effect
//!   value is case sensitive").
//! - `Principal` / `NotPrincipal`: `"*"` or a map of `AWS` / `Service` / `Federated` / `CanonicalUser` to a
//!   string or a list of strings.
//! - `Action` / `NotAction`, `Resource` / `NotResource`: a string or a list of strings. Action names are
//!   case-insensitive (reference_policies_elements_action.html); resource ARNs are case-sensitive.
//! - `Condition`: operator -> key -> value or list. Keys are case-insensitive
//!   (reference_policies_elements_condition.html: "Context key names are not case-sensitive").
//!
//! Every invalid document yields a [`PolicyError`] naming the field; parsing never panics.

use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::text::quote;

/// Why a document is not a valid policy (or ACL). Messages are lowercase, values in backticks. Values from the
/// document are quoted with [`crate::text::quote`] where the error is built and again where it is
/// displayed: at most 200 characters, controls escaped, one line.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PolicyError {
    /// The text is not JSON.
    #[error("malformed json: {}", quote(.message))]
    Json { message: String },
    /// A required field is missing.
    #[error("{}: missing field `{}`", quote(.context), quote(.field))]
    Missing { context: String, field: String },
    /// A field has the wrong JSON type or an invalid value.
    #[error(
        "{}: field `{}` should be {expected}, found {}",
        quote(.context),
        quote(.field),
        quote(.found)
    )]
    Invalid {
        context: String,
        field: String,
        expected: String,
        found: String,
    },
    /// Two mutually exclusive fields are both present (e.g. `Action` and `NotAction`).
    #[error(
        "{}: fields `{}` and `{}` cannot both be present",
        quote(.context),
        quote(.first),
        quote(.second)
    )]
    Conflict {
        context: String,
        first: String,
        second: String,
    },
    /// A field the grammar does not know.
    #[error("{}: unknown field `{}`", quote(.context), quote(.field))]
    Unknown { context: String, field: String },
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Version {
    #[serde(rename = "2012-10-17")]
    V2012_10_17,
    #[serde(rename = "2008-10-17")]
    V2008_10_17,
    /// No `Version` element: behaves like 2008-10-17 (no policy variables).
    #[serde(rename = "absent")]
    Absent,
}

impl Version {
    /// Whether `${...}` is a policy variable (only under 2012-10-17).
    pub fn has_variables(self) -> bool {
        self == Version::V2012_10_17
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// The key of a principal map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum PrincipalType {
    #[serde(rename = "AWS")]
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

/// The value of `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Principals {
    /// `"*"`: everyone, including anonymous users.
    Any,
    /// A map of principal type to values (in document order, values as written).
    Map(Vec<(PrincipalType, Vec<String>)>),
}

/// `Principal` (negated = false) or `NotPrincipal` (negated = true).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrincipalBlock {
    pub negated: bool,
    pub principals: Principals,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: values as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameBlock {
    pub negated: bool,
    pub values: Vec<String>,
}

/// A condition operator (without `IfExists` and set prefixes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
    /// An operator the engine does not know; analyses treat it as "cannot prove".
    Unknown,
}

const OPERATORS: &[(&str, Operator)] = &[
    ("StringEquals", Operator::StringEquals),
    ("StringNotEquals", Operator::StringNotEquals),
    ("StringEqualsIgnoreCase", Operator::StringEqualsIgnoreCase),
    ("StringNotEqualsIgnoreCase", Operator::StringNotEqualsIgnoreCase),
    ("StringLike", Operator::StringLike),
    ("StringNotLike", Operator::StringNotLike),
    ("NumericEquals", Operator::NumericEquals),
    ("NumericNotEquals", Operator::NumericNotEquals),
    ("NumericLessThan", Operator::NumericLessThan),
    ("NumericLessThanEquals", Operator::NumericLessThanEquals),
    ("NumericGreaterThan", Operator::NumericGreaterThan),
    ("NumericGreaterThanEquals", Operator::NumericGreaterThanEquals),
    ("DateEquals", Operator::DateEquals),
    ("DateNotEquals", Operator::DateNotEquals),
    ("DateLessThan", Operator::DateLessThan),
    ("DateLessThanEquals", Operator::DateLessThanEquals),
    ("DateGreaterThan", Operator::DateGreaterThan),
    ("DateGreaterThanEquals", Operator::DateGreaterThanEquals),
    ("Bool", Operator::Bool),
    ("BinaryEquals", Operator::BinaryEquals),
    ("IpAddress", Operator::IpAddress),
    ("NotIpAddress", Operator::NotIpAddress),
    ("ArnEquals", Operator::ArnEquals),
    ("ArnLike", Operator::ArnLike),
    ("ArnNotEquals", Operator::ArnNotEquals),
    ("ArnNotLike", Operator::ArnNotLike),
    ("Null", Operator::Null),
];

/// `ForAnyValue:` / `ForAllValues:` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum SetOp {
    None,
    ForAnyValue,
    ForAllValues,
}

/// One `operator -> key -> values` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    /// The operator as written (e.g. `ForAnyValue:StringLikeIfExists`).
    pub operator: String,
    pub op: Operator,
    pub if_exists: bool,
    pub set: SetOp,
    /// The key, lowercased (keys are case-insensitive).
    pub key: String,
    /// The key as written.
    pub key_raw: String,
    /// The values, as strings (JSON numbers and booleans are converted to text, as IAM does).
    pub values: Vec<String>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// Position in the document (0-based).
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalBlock>,
    pub action: NameBlock,
    /// `None` when the statement has neither `Resource` nor `NotResource` (e.g. a trust policy).
    pub resource: Option<NameBlock>,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// How reasons name the statement: its `Sid`, or `#<index>` (0-based) when it has none.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) if !s.is_empty() => s.clone(),
            _ => format!("#{}", self.index),
        }
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub version: Version,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

fn type_name(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => format!("`{}`", quote(s)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn invalid(context: &str, field: &str, expected: &str, found: &Value) -> PolicyError {
    PolicyError::Invalid {
        context: context.into(),
        field: field.into(),
        expected: expected.into(),
        found: type_name(found),
    }
}

/// A string or a non-nested list of strings.
fn string_or_list(v: &Value, context: &str, field: &str) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => Err(invalid(context, field, "a string or a list of strings", other)),
            })
            .collect(),
        other => Err(invalid(context, field, "a string or a list of strings", other)),
    }
}

/// A condition value: string, number or boolean, or a list of them.
fn condition_values(v: &Value, context: &str, field: &str) -> Result<Vec<String>, PolicyError> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    let expected = "a string, number, boolean or a list of them";
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| scalar(i).ok_or_else(|| invalid(context, field, expected, i)))
            .collect(),
        other => scalar(other)
            .map(|s| vec![s])
            .ok_or_else(|| invalid(context, field, expected, other)),
    }
}

fn parse_operator(raw: &str) -> (SetOp, Operator, bool) {
    let (set, rest) = if let Some(r) = strip_prefix_ci(raw, "ForAnyValue:") {
        (SetOp::ForAnyValue, r)
    } else if let Some(r) = strip_prefix_ci(raw, "ForAllValues:") {
        (SetOp::ForAllValues, r)
    } else {
        (SetOp::None, raw)
    };
    let (base, if_exists) = match strip_suffix_ci(rest, "IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let op = OPERATORS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(base))
        .map(|(_, op)| *op)
        .unwrap_or(Operator::Unknown);
    // `NullIfExists` is not an operator.
    let op = if op == Operator::Null && if_exists {
        Operator::Unknown
    } else {
        op
    };
    (set, op, if_exists)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

fn parse_principal(v: &Value, context: &str, field: &str) -> Result<Principals, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(Principals::Any),
        Value::Object(map) => {
            let mut out = Vec::new();
            for (k, val) in map {
                let t = match k.as_str() {
                    "AWS" => PrincipalType::Aws,
                    "Service" => PrincipalType::Service,
                    "Federated" => PrincipalType::Federated,
                    "CanonicalUser" => PrincipalType::CanonicalUser,
                    _ => {
                        return Err(PolicyError::Unknown {
                            context: context.into(),
                            field: format!("{field}.{}", quote(k)),
                        })
                    }
                };
                out.push((t, string_or_list(val, context, &format!("{field}.{k}"))?));
            }
            if out.is_empty() {
                return Err(invalid(context, field, "`*` or a non-empty principal map", v));
            }
            Ok(Principals::Map(out))
        }
        other => Err(invalid(
            context,
            field,
            "`*` or a map of principal type to values",
            other,
        )),
    }
}

fn parse_conditions(v: &Value, context: &str) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = v else {
        return Err(invalid(context, "Condition", "an object", v));
    };
    let mut out = Vec::new();
    for (operator, keys) in ops {
        let Value::Object(keys) = keys else {
            return Err(invalid(
                context,
                &format!("Condition.{}", quote(operator)),
                "an object",
                keys,
            ));
        };
        let (set, op, if_exists) = parse_operator(operator);
        for (key, values) in keys {
            let field = format!("Condition.{}.{}", quote(operator), quote(key));
            out.push(Condition {
                operator: operator.clone(),
                op,
                if_exists,
                set,
                key: key.to_ascii_lowercase(),
                key_raw: key.clone(),
                values: condition_values(values, context, &field)?,
            });
        }
    }
    Ok(out)
}

fn pair<'a>(
    obj: &'a Map<String, Value>,
    context: &str,
    positive: &str,
    negative: &str,
) -> Result<Option<(bool, &'a Value)>, PolicyError> {
    match (obj.get(positive), obj.get(negative)) {
        (Some(_), Some(_)) => Err(PolicyError::Conflict {
            context: context.into(),
            first: positive.into(),
            second: negative.into(),
        }),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

const STATEMENT_FIELDS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn parse_statement(index: usize, v: &Value) -> Result<Statement, PolicyError> {
    let context = format!("statement #{index}");
    let Value::Object(obj) = v else {
        return Err(invalid("policy", &format!("Statement[{index}]"), "an object", v));
    };
    if let Some(k) = obj.keys().find(|k| !STATEMENT_FIELDS.contains(&k.as_str())) {
        return Err(PolicyError::Unknown {
            context,
            field: quote(k),
        });
    }
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(invalid(&context, "Sid", "a string", other)),
    };
    let effect = match obj.get("Effect") {
        None => {
            return Err(PolicyError::Missing {
                context,
                field: "Effect".into(),
            })
        }
        // Case-sensitive: reference_policies_elements_effect.html.
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(other) => return Err(invalid(&context, "Effect", "`Allow` or `Deny`", other)),
    };
    let principal = match pair(obj, &context, "Principal", "NotPrincipal")? {
        None => None,
        Some((negated, v)) => Some(PrincipalBlock {
            negated,
            principals: parse_principal(v, &context, if negated { "NotPrincipal" } else { "Principal" })?,
        }),
    };
    let action = match pair(obj, &context, "Action", "NotAction")? {
        None => {
            return Err(PolicyError::Missing {
                context,
                field: "Action".into(),
            })
        }
        Some((negated, v)) => NameBlock {
            negated,
            values: string_or_list(v, &context, if negated { "NotAction" } else { "Action" })?,
        },
    };
    let resource = match pair(obj, &context, "Resource", "NotResource")? {
        None => None,
        Some((negated, v)) => Some(NameBlock {
            negated,
            values: string_or_list(v, &context, if negated { "NotResource" } else { "Resource" })?,
        }),
    };
    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, &context)?,
    };
    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

impl Policy {
    /// Parses a policy document.
    pub fn parse(doc: &Value) -> Result<Policy, PolicyError> {
        let Value::Object(obj) = doc else {
            return Err(invalid("policy", "document", "a JSON object", doc));
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement"))
        {
            return Err(PolicyError::Unknown {
                context: "policy".into(),
                field: quote(k),
            });
        }
        let version = match obj.get("Version") {
            None => Version::Absent,
            Some(Value::String(s)) if s == "2012-10-17" => Version::V2012_10_17,
            Some(Value::String(s)) if s == "2008-10-17" => Version::V2008_10_17,
            Some(other) => {
                return Err(invalid(
                    "policy",
                    "Version",
                    "`2012-10-17` or `2008-10-17`",
                    other,
                ))
            }
        };
        let id = match obj.get("Id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => return Err(invalid("policy", "Id", "a string", other)),
        };
        let statements = match obj.get("Statement") {
            None => {
                return Err(PolicyError::Missing {
                    context: "policy".into(),
                    field: "Statement".into(),
                })
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, s)| parse_statement(i, s))
                .collect::<Result<Vec<_>, _>>()?,
            Some(obj @ Value::Object(_)) => vec![parse_statement(0, obj)?],
            Some(other) => {
                return Err(invalid(
                    "policy",
                    "Statement",
                    "an object or a list of objects",
                    other,
                ))
            }
        };
        Ok(Policy {
            version,
            id,
            statements,
        })
    }

    /// Parses a policy document from JSON text.
    pub fn from_json_str(text: &str) -> Result<Policy, PolicyError> {
        let v: Value = serde_json::from_str(text).map_err(|e| PolicyError::Json {
            message: e.to_string(),
        })?;
        Policy::parse(&v)
    }
}

/// Whether `value` contains a policy variable (`${...}`), which is one only under 2012-10-17.
pub fn has_variable(value: &str, version: Version) -> bool {
    version.has_variables() && value.contains("${")
}

/// Whether `value` contains a wildcard (`*` or `?`). Under 2012-10-17 the escapes `${*}` and `${?}` are
/// literal characters, but S3 treats any wildcard character as non-fixed; we do the same (conservative).
pub fn has_wildcard(value: &str) -> bool {
    value.contains('*') || value.contains('?')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statement_object_or_list_and_operator_prefixes() {
        let p = Policy::parse(&json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject",
            "Condition": {"ForAnyValue:StringLikeIfExists": {"AWS:SourceVpc": ["vpc-1", 2, true]}}}}))
        .unwrap();
        assert_eq!(p.version, Version::Absent);
        let c = &p.statements[0].conditions[0];
        assert_eq!(
            (c.set, c.op, c.if_exists),
            (SetOp::ForAnyValue, Operator::StringLike, true)
        );
        assert_eq!(c.key, "aws:sourcevpc");
        assert_eq!(c.values, vec!["vpc-1", "2", "true"]);
    }

    #[test]
    fn invalid_documents_name_the_field() {
        let cases = [
            (
                json!({"Statement": [{"Effect": "allow", "Action": "*"}]}),
                "`Effect`",
            ),
            (json!({"Statement": [{"Action": "*"}]}), "`Effect`"),
            (json!({"Statement": [{"Effect": "Allow"}]}), "`Action`"),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*"}]}),
                "`NotAction`",
            ),
            (json!({"Version": "2013-01-01", "Statement": []}), "`Version`"),
            (json!({"Version": "2012-10-17"}), "`Statement`"),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": 3}]}),
                "`Action`",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"Aws": "1"}}]}),
                "Aws",
            ),
        ];
        for (doc, needle) in cases {
            let e = Policy::parse(&doc).unwrap_err().to_string();
            assert!(e.contains(needle), "{e} should mention {needle}");
        }
    }
}
