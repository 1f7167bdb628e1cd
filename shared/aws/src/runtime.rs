//! What every Lambda binary shares with the runtime: structured JSON logs, and how a handler error is
//! reported (`errorType` = [`HandlerError::error_type`], so retryable failures are visible as such).

use lambda_runtime::Diagnostic;
use tracing_subscriber::EnvFilter;

use crate::app::HandlerError;

/// Structured JSON logs on stdout (CloudWatch Logs), one object per event with its fields flattened; the
/// level comes from `RUST_LOG`, `info` by default. Call once, first thing in `main`.
pub fn init_json_logs() {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Diagnostic {
        Diagnostic {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}
