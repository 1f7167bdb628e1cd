//! SNS deliveries: a Lambda SNS event (`Records[0].Sns`) or a bare SNS message (`Type`, `Message`...).
//!
//! The AWS Config delivery channel publishes its notifications to SNS with the notification JSON as the
//! `Message` string (AWS Config Developer Guide, "Notifications that AWS Config Sends to an Amazon SNS
//! topic"). SNS invokes Lambda with exactly one record per invocation (Amazon SNS Developer Guide,
//! "Invoking Lambda functions using Amazon SNS notifications").

use serde_json::Value;

use crate::intake::IntakeError;

use crate::text::quote;

use super::access::Obj;
use super::Intake;

pub(crate) const CONTEXT: &str = "sns message";

/// A Lambda SNS event: `{"Records": [{"EventSource": "aws:sns", "Sns": {...}}]}`.
pub(crate) fn lambda_event(root: &Obj<'_>, records: &[Value]) -> Result<Intake, IntakeError> {
    let [record] = records else {
        return Err(IntakeError::InvalidValue {
            field: root.child_path("Records"),
            context: CONTEXT.to_owned(),
            value: format!("{} records", records.len()),
            reason: "an sns lambda event carries exactly one record".to_owned(),
        });
    };
    let record = Obj::new(record, "Records[0]", CONTEXT)?;
    let sns = record.req_obj("Sns")?;
    message(&sns)
}

/// An SNS message object (`Type`, `TopicArn`, `Message`): unwraps `Message` and runs intake on it.
pub(crate) fn message(sns: &Obj<'_>) -> Result<Intake, IntakeError> {
    let kind = sns.opt_str("Type")?.unwrap_or("Notification");
    let topic = sns.opt_str("TopicArn")?.unwrap_or("unknown topic");
    if kind != "Notification" {
        return Ok(Intake::Ignored {
            reason: format!("sns `{}` message from `{}`", quote(kind), quote(topic)),
        });
    }
    let path = sns.child_path("Message");
    let body = match sns.get("Message") {
        None => return Err(sns.missing("Message")),
        // Config publishes the notification as a JSON string; tolerate an already-parsed object.
        Some(v @ Value::Object(_)) => v.clone(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => v,
            // Text that claims to be a JSON object but is not: a broken notification, not someone else's.
            Err(e) if s.trim_start().starts_with('{') => {
                return Err(IntakeError::EmbeddedJson {
                    field: path,
                    context: CONTEXT.to_owned(),
                    message: e.to_string(),
                })
            }
            _ => {
                return Ok(Intake::Ignored {
                    reason: format!(
                        "sns message from `{}` is not a json object: `{}`",
                        quote(topic),
                        quote(s)
                    ),
                })
            }
        },
        Some(other) => return Err(super::access::wrong_type(&path, CONTEXT, "a string", other)),
    };
    match super::dispatch(&body, &path, super::Nesting::InsideSns) {
        Err(IntakeError::UnknownShape { .. }) => Ok(Intake::Ignored {
            reason: format!(
                "sns message from `{}` is not a config notification or an aws event",
                quote(topic)
            ),
        }),
        other => other,
    }
}
