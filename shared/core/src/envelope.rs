//! The envelope of one invocation, read once: the parsed payload and what every entry point needs to know
//! before judging it (the event id for logs, the account and region to route AWS calls to).
//!
//! Every Lambda handler and CLI command reads its input into an [`Envelope`] exactly once and passes it on:
//! intake dispatches on [`Envelope::value`], the router takes [`Envelope::account`] / [`Envelope::region`],
//! logs take [`Envelope::event_id`]. Nothing re-parses the bytes or turns the value back into bytes.
//!
//! Reading never fails: a payload that is too large or not JSON still has an envelope (event id `unknown`,
//! no account), and [`Envelope::intake`] reports the [`IntakeError`] where the handler decides what it means.

use serde_json::Value;

use crate::intake::IntakeError;
use crate::intake::{self, Intake};

/// One invocation's payload, parsed once.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    parsed: Result<Value, IntakeError>,
    /// Best-effort event id for logs: EventBridge `id`, CloudTrail `eventID`, SNS `MessageId`, a Config
    /// rule invocation's `resultToken` prefix; `unknown` otherwise. At most 128 characters.
    pub event_id: String,
    /// The account the event is about (CloudTrail `recipientAccountId`, EventBridge `account`, a Config
    /// invocation's `accountId`, or those of an SNS-wrapped message), when the payload says.
    pub account: Option<String>,
    /// The region of the event (CloudTrail `awsRegion`, EventBridge `region`, the Config rule's ARN).
    pub region: Option<String>,
}

impl Envelope {
    /// Reads raw bytes (size check, then JSON). Never fails; see [`Envelope::intake`].
    pub fn read(bytes: &[u8]) -> Self {
        match intake::parse(bytes) {
            Ok(value) => Self::from_value(value),
            Err(e) => Self {
                parsed: Err(e),
                event_id: "unknown".to_owned(),
                account: None,
                region: None,
            },
        }
    }

    /// An envelope around an already parsed payload (what the Lambda runtime hands a function).
    pub fn from_value(value: Value) -> Self {
        let event_id = event_id_of(&value);
        let (account, region) = match account_region_of(&value) {
            Some((a, r)) => (Some(a), r),
            None => (None, None),
        };
        Self {
            parsed: Ok(value),
            event_id,
            account,
            region,
        }
    }

    /// The parsed payload, or why there is none.
    pub fn value(&self) -> Result<&Value, &IntakeError> {
        self.parsed.as_ref()
    }

    /// Intake of the payload: what the event is (a change, ignored, an oversized item to fetch).
    pub fn intake(&self) -> Result<Intake, IntakeError> {
        match &self.parsed {
            Ok(v) => intake::intake_value(v),
            Err(e) => Err(e.clone()),
        }
    }

    /// The account to route AWS calls to, or `""` when the payload names none (the home account).
    pub fn account_or_home(&self) -> &str {
        self.account.as_deref().unwrap_or_default()
    }

    /// The region to route AWS calls to, or `""` when the payload names none (the function's region).
    pub fn region_or_default(&self) -> &str {
        self.region.as_deref().unwrap_or_default()
    }
}

fn event_id_of(v: &Value) -> String {
    let candidates = [
        v.get("id"),
        v.get("detail").and_then(|d| d.get("eventID")),
        v.get("eventID"),
        v.get("Records")
            .and_then(|r| r.get(0))
            .and_then(|r| r.get("Sns"))
            .and_then(|s| s.get("MessageId")),
        v.get("MessageId"),
    ];
    if let Some(id) = candidates.into_iter().flatten().find_map(Value::as_str) {
        return id.chars().take(128).collect();
    }
    if let Some(t) = v.get("resultToken").and_then(Value::as_str) {
        return format!("config-rule:{}", t.chars().take(16).collect::<String>());
    }
    "unknown".to_owned()
}

/// The (account, region) an event is about: EventBridge events (CloudTrail's `recipientAccountId` and
/// `awsRegion` first: a bucket's calls go to its region), Config rule invocations (`accountId`, region from
/// `configRuleArn`), SNS deliveries (the wrapped message's `account` / `region`).
fn account_region_of(v: &Value) -> Option<(String, Option<String>)> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if let (Some(a), Some(r)) = (s(v, "account"), s(v, "region")) {
        let region = v
            .pointer("/detail/awsRegion")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or(r);
        let account = v
            .pointer("/detail/recipientAccountId")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or(a);
        return Some((account, Some(region)));
    }
    if let Some(a) = s(v, "accountId") {
        let region = s(v, "configRuleArn").and_then(|arn| arn.split(':').nth(3).map(str::to_owned));
        return Some((a, region));
    }
    let message = v.pointer("/Records/0/Sns/Message").and_then(Value::as_str)?;
    let inner: Value = serde_json::from_str(message).ok()?;
    Some((s(&inner, "account")?, s(&inner, "region")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn event_ids() {
        let cases: &[(&str, &str)] = &[
            (r#"{"id": "eb-1", "detail": {"eventID": "ct-1"}}"#, "eb-1"),
            (r#"{"detail": {"eventID": "ct-1"}}"#, "ct-1"),
            (r#"{"Records": [{"Sns": {"MessageId": "sns-1"}}]}"#, "sns-1"),
            (
                r#"{"resultToken": "abcdefghijklmnopqrstuvwxyz"}"#,
                "config-rule:abcdefghijklmnop",
            ),
            (r#"{"id": 5}"#, "unknown"),
            ("not json", "unknown"),
            ("", "unknown"),
        ];
        for (input, want) in cases {
            assert_eq!(Envelope::read(input.as_bytes()).event_id, *want, "{input}");
        }
    }

    #[test]
    fn account_and_region() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            (
                r#"{"account": "111", "region": "us-east-1", "detail": {"recipientAccountId": "222", "awsRegion": "eu-west-1"}}"#,
                Some("222"),
                Some("eu-west-1"),
            ),
            (
                r#"{"account": "111", "region": "us-east-1"}"#,
                Some("111"),
                Some("us-east-1"),
            ),
            (
                r#"{"accountId": "333", "configRuleArn": "arn:aws:config:ap-south-1:333:config-rule/x"}"#,
                Some("333"),
                Some("ap-south-1"),
            ),
            (
                r#"{"Records": [{"Sns": {"Message": "{\"account\": \"444\", \"region\": \"us-west-2\"}"}}]}"#,
                Some("444"),
                Some("us-west-2"),
            ),
            (r#"{"detail": {}}"#, None, None),
            ("not json", None, None),
        ];
        for (input, account, region) in cases {
            let e = Envelope::read(input.as_bytes());
            assert_eq!(e.account.as_deref(), *account, "{input}");
            assert_eq!(e.region.as_deref(), *region, "{input}");
        }
    }

    #[test]
    fn bad_bytes_keep_their_error_for_intake() {
        let e = Envelope::read(b"{");
        assert!(e.value().is_err());
        assert!(matches!(e.intake(), Err(IntakeError::Json { .. })));
        let big = vec![b' '; crate::MAX_PAYLOAD_BYTES + 1];
        assert!(matches!(
            Envelope::read(&big).intake(),
            Err(IntakeError::TooLarge { .. })
        ));
    }
}
