//! Structured, documented error kinds of the pure part.

use thiserror::Error;

use crate::text::quote;

/// Why a payload could not be turned into a [`crate::Change`]. Messages are lowercase, values in backticks,
/// and name what was wrong and where. Every field that can carry input is shown through
/// [`crate::text::quote`]: at most 200 characters, controls escaped, so a message is bounded and one line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IntakeError {
    /// The bytes are not JSON (or nest too deep, or are too large).
    #[error("malformed json at line {line} column {column}: {}", quote(.message))]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// The payload is larger than intake accepts.
    #[error("payload of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// A field the payload's kind requires is missing.
    #[error("missing field `{}` in {}", quote(.field), quote(.context))]
    MissingField { field: String, context: String },
    /// A field has the wrong JSON type.
    #[error(
        "field `{}` in {} should be {expected}, found {}",
        quote(.field),
        quote(.context),
        quote(.found)
    )]
    WrongType {
        field: String,
        context: String,
        expected: String,
        found: String,
    },
    /// A field has a value intake cannot use.
    #[error(
        "invalid value `{}` for field `{}` in {}: {}",
        quote(.value),
        quote(.field),
        quote(.context),
        quote(.reason)
    )]
    InvalidValue {
        field: String,
        context: String,
        value: String,
        reason: String,
    },
    /// A field that holds JSON as a string (Config's `invokingEvent`, `ruleParameters`) is not valid JSON.
    #[error(
        "field `{}` in {} is not valid json: {}",
        quote(.field),
        quote(.context),
        quote(.message)
    )]
    EmbeddedJson {
        field: String,
        context: String,
        message: String,
    },
    /// The payload is JSON but none of the kinds intake reads.
    #[error(
        "unrecognized payload: expected an eventbridge event, a config rule invocation, an sns message, \
         a config notification or a cloudtrail record (top-level keys: {})",
        quote(.keys)
    )]
    UnknownShape { keys: String },
}
