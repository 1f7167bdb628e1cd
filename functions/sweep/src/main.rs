//! `sweep`: scheduled baseline of every bucket, customer-managed policy and role -> findings + summary.
//! The logic lives in `tripline_aws::handlers::sweep`; this binary only wires it to the runtime.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tripline_aws::app::assess::SweepConfig;
use tripline_aws::app::{ConfigError, DetectorConfig};
use tripline_aws::env::{env_map, sweep_concurrency};
use tripline_aws::handlers::sweep::handle_sweep;
use tripline_aws::AwsClients;
use tripline_core::Envelope;

fn config() -> Result<SweepConfig, ConfigError> {
    let vars = env_map();
    Ok(SweepConfig {
        detector: DetectorConfig::from_env_map(&vars)?,
        concurrency: sweep_concurrency(&vars)?,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tripline_aws::runtime::init_json_logs();

    // Validated once at cold start; the error names the bad variable.
    let cfg = config().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let aws = AwsClients::load().await;
    let (aws, cfg) = (&aws, &cfg);

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let event = Envelope::from_value(event.payload);
        handle_sweep(aws, cfg, &event).await.map_err(Diagnostic::from)
    }))
    .await
}
