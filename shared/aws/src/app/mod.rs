//! The application layer: Tripline's use cases, independent of how they are invoked (a Lambda function,
//! the CLI, a test). Each is generic over the narrow capability traits of [`crate`], so unit tests run it
//! on [`crate::fakes::FakeAws`] and the functions and the CLI on [`crate::AwsClients`].
//!
//! | use case | module |
//! |---|---|
//! | judge a change: fetch the state it needs, evaluate | [`detect`] (with [`state`]) |
//! | publish findings | [`publish`] |
//! | findings with a life (the findings store) | [`lifecycle`] |
//! | assess an account | [`assess`] (the customer-duty families: [`assess_duties`]) |
//! | organization-wide sweep: plan, shards, run summary | [`org`] |
//! | remediate a finding | [`remediate`] |
//!
//! The entry points (`crate::handlers`, the CLI) are thin adapters: they read their envelope once
//! ([`tripline_core::Envelope`]) and call these. A handler never imports another handler.
//!
//! Errors: [`HandlerError::is_retryable`] separates transient failures (the Lambda runtime reports an
//! error, the event source retries and finally dead-letters the event: nothing is lost) from bad input
//! (logged with its id; the error type `BadEvent` tells operators that a retry will not help).

pub mod assess;
pub mod assess_account_state;
pub mod assess_duties;
pub mod detect;
pub mod lifecycle;
pub mod org;
pub mod publish;
pub mod remediate;
pub mod state;

use std::collections::BTreeMap;

use thiserror::Error;

use crate::env::{self, EnvError};
use crate::{AwsError, WebhookError};
use tripline_core::settings::{RuleConfig, SettingsError};
use tripline_core::IntakeError;

/// Why an invocation failed.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// The payload cannot be understood; retrying will not help.
    #[error("bad event `{event_id}`: {source}")]
    BadEvent { event_id: String, source: IntakeError },
    /// An AWS call failed (retryable or not, see [`AwsError::is_retryable`]).
    #[error("event `{event_id}`: {source}")]
    Aws { event_id: String, source: AwsError },
    /// The Slack webhook failed.
    #[error("event `{event_id}`: {source}")]
    Webhook { event_id: String, source: WebhookError },
    /// The payload is valid JSON but not what this function handles.
    #[error("event `{event_id}`: {message}")]
    Unsupported { event_id: String, message: String },
}

impl HandlerError {
    pub fn aws(event_id: &str, source: AwsError) -> Self {
        Self::Aws {
            event_id: event_id.to_owned(),
            source,
        }
    }

    /// Whether the event source should deliver the event again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::BadEvent { .. } | Self::Unsupported { .. } => false,
            Self::Aws { source, .. } => source.is_retryable(),
            Self::Webhook { source, .. } => source.retryable,
        }
    }

    /// The Lambda `errorType`: `Retryable`, `BadEvent` or `Failed` (a permanent AWS failure, e.g. access
    /// denied: retries dead-letter the event for an operator).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::BadEvent { .. } | Self::Unsupported { .. } => "BadEvent",
            _ if self.is_retryable() => "Retryable",
            _ => "Failed",
        }
    }
}

/// Configuration of the detectors (on-cloudtrail, on-config, sweep) and remediate.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    pub alert_topic_arn: String,
    pub rules: RuleConfig,
}

/// A configuration error at cold start; names the variable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

impl DetectorConfig {
    pub fn from_env_map(vars: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        Ok(Self {
            alert_topic_arn: env::alert_topic_arn(vars)?,
            rules: tripline_core::rules::config_from_env(vars)?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn error_types() {
        let bad = HandlerError::BadEvent {
            event_id: "e".into(),
            source: IntakeError::TooLarge { size: 2, limit: 1 },
        };
        let throttled = HandlerError::aws("e", AwsError::new("sns:Publish", ErrorKind::Throttling, "x"));
        let denied = HandlerError::aws("e", AwsError::new("sns:Publish", ErrorKind::AccessDenied, "x"));
        let cases = [
            (bad, false, "BadEvent"),
            (throttled, true, "Retryable"),
            (denied, false, "Failed"),
        ];
        for (e, retryable, ty) in cases {
            assert_eq!(e.is_retryable(), retryable, "{e}");
            assert_eq!(e.error_type(), ty, "{e}");
        }
    }
}
