//! Event intake: any payload a Tripline function receives -> [`Intake`]. Pure: no I/O.
//!
//! Recognized payloads (by their top-level shape, not by trust in any single field):
//! 1. EventBridge events (`detail-type`): "AWS API Call via CloudTrail" and the other CloudTrail-borne
//!    detail-types -> [`Intake::Change`]; "Config Configuration Item Change" -> a change or
//!    [`Intake::FetchOversized`]; any other detail-type -> [`Intake::Ignored`].
//! 2. AWS Config custom-rule invocations (`invokingEvent` is a JSON string).
//! 3. SNS deliveries, as a Lambda SNS event (`Records[].Sns`) or a bare SNS message, whose `Message` is a
//!    Config notification (or any payload above).
//! 4. A bare Config notification (`messageType`) or a bare CloudTrail record (`eventSource`,
//!    `eventName`), and a CloudTrail log file with exactly one record: what people paste into the CLI.
//!
//! Anything else is a typed [`IntakeError`]; intake never panics (see the property tests).
//!
//! Payloads are read as `serde_json::Value`, not through `aws_lambda_events`' typed structs: its CloudTrail
//! struct rejects real Root records (`sessionIssuer: {}`), and every kind here needs field-level tolerance
//! (both S3 record generations, `Grant` as list or object, documents as strings) plus error messages that
//! name the offending field's path.

mod access;
mod cloudtrail;
mod config;
mod decode;
mod error;
mod resources;
mod sns;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::change::Change;
pub use error::IntakeError;

use access::Obj;
use cloudtrail::EventFields;

/// The largest payload intake accepts: 6 MiB, Lambda's limit for a synchronous invocation payload
/// ("Invocation payload (request and response): 6 MB each for request and response (synchronous)",
/// <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>). EventBridge events (256 KB)
/// and SNS messages (256 KB) are far smaller; anything larger cannot be a real invocation.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// The outcome of intake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "intake", rename_all = "snake_case")]
pub enum Intake {
    Change(Box<Change>),
    /// Valid but irrelevant: acknowledge and log once.
    Ignored {
        reason: String,
    },
    /// An oversized Config item: the shell fetches `s3://bucket/key` (gzip-compressed JSON when the key
    /// ends in `.gz`) and calls [`intake_oversized_item`] with it and [`Intake::oversized_context`].
    FetchOversized {
        bucket: String,
        key: String,
        /// The rule invocation's `resultToken` (for `PutEvaluations`); `None` outside a rule invocation.
        result_token: Option<String>,
        #[serde(default)]
        config_rule_name: Option<String>,
        #[serde(default)]
        rule_parameters: Value,
    },
}

impl Intake {
    /// For [`Intake::FetchOversized`]: what [`intake_oversized_item`] needs to keep the invocation's
    /// identity (result token, rule name and parameters).
    pub fn oversized_context(&self) -> Option<OversizedContext> {
        match self {
            Intake::FetchOversized {
                result_token,
                config_rule_name,
                rule_parameters,
                ..
            } => Some(OversizedContext {
                result_token: result_token.clone(),
                config_rule_name: config_rule_name.clone(),
                rule_parameters: rule_parameters.clone(),
            }),
            _ => None,
        }
    }
}

/// The invocation an oversized item was announced in.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OversizedContext {
    pub result_token: Option<String>,
    pub config_rule_name: Option<String>,
    pub rule_parameters: Value,
}

/// Turns one payload into an [`Intake`].
pub fn intake(bytes: &[u8]) -> Result<Intake, IntakeError> {
    intake_value(&parse(bytes)?)
}

/// Turns one already parsed payload into an [`Intake`] (see [`crate::envelope::Envelope`]).
pub fn intake_value(value: &Value) -> Result<Intake, IntakeError> {
    dispatch(value, "", Nesting::TopLevel)
}

/// Turns a fetched oversized configuration item (the S3 object's JSON: a full configuration item change
/// notification, or a bare configuration item) into a [`Change`], keeping the original invocation's
/// identity from `ctx`.
pub fn intake_oversized_item(item: &[u8], ctx: &OversizedContext) -> Result<Intake, IntakeError> {
    let value = parse(item)?;
    config::fetched_item(&value, ctx).map(|c| Intake::Change(Box::new(c)))
}

/// Size check, then JSON. serde_json's recursion limit (128) turns deep nesting into an error, not a
/// stack overflow.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, IntakeError> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(IntakeError::TooLarge {
            size: bytes.len(),
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    serde_json::from_slice::<Value>(bytes).map_err(|e| IntakeError::Json {
        line: e.line(),
        column: e.column(),
        message: json_message(&e),
    })
}

/// serde_json's message without its trailing " at line L column C" (the error prints those itself),
/// lowercased like every intake message ("EOF while parsing" -> "eof while parsing"). Parsing into a
/// `Value` never quotes the input in its messages, so lowercasing loses nothing.
fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_lowercase()
}

/// Whether a payload is the `Message` of an SNS delivery (SNS inside SNS is not a real delivery).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nesting {
    TopLevel,
    InsideSns,
}

/// EventBridge detail-types whose `detail` is a CloudTrail record (Amazon EventBridge User Guide, "Events
/// from AWS services": "AWS API Call via CloudTrail" and the CloudTrail-delivered event types).
const CLOUDTRAIL_DETAIL_TYPES: &[&str] = &[
    "AWS API Call via CloudTrail",
    "AWS Service Event via CloudTrail",
    "AWS Console Sign In via CloudTrail",
    "AWS Console Action via CloudTrail",
];

const CONFIG_ITEM_DETAIL_TYPE: &str = "Config Configuration Item Change";

/// Recognizes the payload's kind by its top-level shape and hands it to the right reader.
pub(crate) fn dispatch(value: &Value, path: &str, nesting: Nesting) -> Result<Intake, IntakeError> {
    let root = Obj::new(value, path, "payload")?;
    if root.map.contains_key("detail-type") {
        return eventbridge(value, path);
    }
    if root.map.contains_key("invokingEvent") {
        let inv = Obj::new(value, path, config::RULE_CONTEXT)?;
        return config::rule_invocation(&inv);
    }
    if let Some(records) = root.opt_array("Records")? {
        let first = records.first();
        let is_sns = first.is_some_and(|r| r.get("Sns").is_some() || r.get("EventSource").is_some());
        let is_trail = first.is_some_and(|r| r.get("eventSource").is_some());
        if is_sns && nesting == Nesting::TopLevel {
            return sns::lambda_event(&root, records);
        }
        if is_trail {
            return cloudtrail_log_file(&root, records);
        }
    }
    if root.has("Message") && (root.has("TopicArn") || root.has("Type")) && nesting == Nesting::TopLevel {
        let msg = Obj::new(value, path, sns::CONTEXT)?;
        return sns::message(&msg);
    }
    if root.has("messageType") {
        return config::notification(
            value,
            path,
            "config notification",
            &config::Origin::Item,
            &EventFields::default(),
        );
    }
    if root.has("eventSource") && root.has("eventName") {
        return cloudtrail::from_record(value, path, &EventFields::default())
            .map(|c| Intake::Change(Box::new(c)));
    }
    let mut keys: Vec<String> = root
        .map
        .keys()
        .take(8)
        .map(|k| format!("`{}`", crate::text::quote(k)))
        .collect();
    if root.map.len() > keys.len() {
        keys.push("...".to_owned());
    }
    Err(IntakeError::UnknownShape {
        keys: if keys.is_empty() {
            "none".to_owned()
        } else {
            keys.join(", ")
        },
    })
}

/// An EventBridge event: dispatch on `detail-type`.
fn eventbridge(value: &Value, path: &str) -> Result<Intake, IntakeError> {
    let ev = Obj::new(value, path, "eventbridge event")?;
    let detail_type = ev.req_str("detail-type")?;
    let source = ev.opt_str("source")?.unwrap_or("unknown");
    let env = EventFields {
        id: ev.opt_str("id")?,
        time: ev.opt_str("time")?,
        region: ev.opt_str("region")?,
        account: ev.opt_str("account")?,
    };
    let detail_path = ev.child_path("detail");
    if CLOUDTRAIL_DETAIL_TYPES.contains(&detail_type) {
        let detail = ev.get("detail").ok_or_else(|| ev.missing("detail"))?;
        return cloudtrail::from_record(detail, &detail_path, &env).map(|c| Intake::Change(Box::new(c)));
    }
    if detail_type == CONFIG_ITEM_DETAIL_TYPE {
        let detail = ev.get("detail").ok_or_else(|| ev.missing("detail"))?;
        return config::notification(
            detail,
            &detail_path,
            "eventbridge config event",
            &config::Origin::Item,
            &env,
        );
    }
    Ok(Intake::Ignored {
        reason: format!(
            "eventbridge detail-type `{}` from `{}` is not a change Tripline judges",
            crate::text::quote(detail_type),
            crate::text::quote(source)
        ),
    })
}

/// A CloudTrail log file (`{"Records": [...]}`) holding exactly one record.
fn cloudtrail_log_file(root: &Obj<'_>, records: &[Value]) -> Result<Intake, IntakeError> {
    match records {
        [one] => cloudtrail::from_record(one, &root.child_path("Records[0]"), &EventFields::default())
            .map(|c| Intake::Change(Box::new(c))),
        many => Err(IntakeError::InvalidValue {
            field: root.child_path("Records"),
            context: "cloudtrail log file".to_owned(),
            value: format!("{} records", many.len()),
            reason: "intake takes one event; pass a single record".to_owned(),
        }),
    }
}
