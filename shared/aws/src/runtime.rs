//! What every Lambda binary shares with the runtime: structured JSON logs, and how a handler error is
//! reported (`errorType` = [`HandlerError::error_type`], so retryable failures are visible as such).

use lambda_runtime::Diagnostic;
use tracing_subscriber::filter::Targets;

use crate::app::HandlerError;

/// Structured JSON logs on stdout (CloudWatch Logs), one object per event with its fields flattened; the
/// levels come from `RUST_LOG` (`level` and `target=level` directives, comma-separated, e.g.
/// `info,tripline::aws::calls=debug`), `info` by default or when it does not parse. The filter is
/// `Targets`, not `EnvFilter`: the same directives without a regular-expression engine in every binary.
pub fn init_json_logs() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_target(false),
        )
        .with(filter)
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
