//! Tolerant, path-aware accessors over `serde_json::Value`.
//!
//! Intake reads payloads as untyped JSON so that real-world shape variations (empty objects, `null`s, both
//! generations of S3 records) never reject an event, while a field that is present with the wrong type still
//! gets a typed error naming the field's path and the payload kind.

use serde_json::{Map, Value};

use crate::intake::IntakeError;

/// The JSON type name of `v`, as used in error messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A JSON object together with its path (`detail.userIdentity`) and the payload kind (`cloudtrail record`).
#[derive(Debug, Clone)]
pub(crate) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    path: String,
    pub context: &'static str,
}

/// Joins a parent path and a key into a dotted JSON path.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Obj<'a> {
    /// Views `v` (found at `path`) as an object, or a [`IntakeError::WrongType`].
    pub fn new(v: &'a Value, path: &str, context: &'static str) -> Result<Self, IntakeError> {
        match v {
            Value::Object(map) => Ok(Self {
                map,
                path: path.to_owned(),
                context,
            }),
            other => Err(wrong_type(path, context, "an object", other)),
        }
    }

    /// An optional object field.
    pub fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, IntakeError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => Obj::new(v, &join(&self.path, key), self.context).map(Some),
        }
    }

    /// A required object field.
    pub fn req_obj(&self, key: &str) -> Result<Obj<'a>, IntakeError> {
        self.opt_obj(key)?.ok_or_else(|| self.missing(key))
    }

    /// The field's value, treating `null` as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// An optional string field (absent, `null` and `""` are `None`); any other type is an error.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, IntakeError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(
                &join(&self.path, key),
                self.context,
                "a string",
                other,
            )),
        }
    }

    /// A required, non-empty string field.
    pub fn req_str(&self, key: &str) -> Result<&'a str, IntakeError> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    /// An optional scalar rendered as a string (Config's `configurationStateId` is a number).
    pub fn opt_scalar(&self, key: &str) -> Result<Option<String>, IntakeError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(wrong_type(
                &join(&self.path, key),
                self.context,
                "a string or a number",
                other,
            )),
        }
    }

    /// An optional boolean field; the strings `"true"`/`"false"` are accepted (CloudTrail uses both).
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, IntakeError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(other) => Err(wrong_type(
                &join(&self.path, key),
                self.context,
                "a boolean",
                other,
            )),
        }
    }

    /// The path of a child field, for building nested [`Obj`]s.
    pub fn child_path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// An optional array field.
    pub fn opt_array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, IntakeError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(wrong_type(
                &join(&self.path, key),
                self.context,
                "an array",
                other,
            )),
        }
    }

    pub fn missing(&self, key: &str) -> IntakeError {
        IntakeError::MissingField {
            field: join(&self.path, key),
            context: self.context.to_owned(),
        }
    }
}

pub(crate) fn wrong_type(path: &str, context: &str, expected: &str, found: &Value) -> IntakeError {
    IntakeError::WrongType {
        field: if path.is_empty() {
            "$".to_owned()
        } else {
            path.to_owned()
        },
        context: context.to_owned(),
        expected: expected.to_owned(),
        found: type_name(found).to_owned(),
    }
}

/// A string lookup along a path of keys, ignoring anything that is not there or not a string.
pub(crate) fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for k in keys {
        cur = cur.get(k)?;
    }
    cur.as_str().filter(|s| !s.is_empty())
}
