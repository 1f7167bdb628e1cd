//! `on-config`: AWS Config custom-rule invocations -> evaluate -> `PutEvaluations` (+ findings on SNS).
//! The logic lives in `tripline_aws::handlers::config`; this binary only wires it to the runtime.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tripline_aws::app::assess::SweepConfig;
use tripline_aws::app::{ConfigError, DetectorConfig};
use tripline_aws::env::{env_map, member_role, sweep_concurrency};
use tripline_aws::handlers::config::handle_config;
use tripline_aws::{load_sdk_config, AccountRouter, MemberRole};
use tripline_core::resource_kind::arn_account;
use tripline_core::Envelope;

fn config() -> Result<(SweepConfig, Option<MemberRole>), ConfigError> {
    let vars = env_map();
    let cfg = SweepConfig {
        detector: DetectorConfig::from_env_map(&vars)?,
        concurrency: sweep_concurrency(&vars)?,
    };
    Ok((cfg, member_role(&vars)?))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tripline_aws::runtime::init_json_logs();

    // Validated once at cold start; the error names the bad variable.
    let (cfg, member) = config().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    // Clients built once; per member account (organization-wide) on first use, then cached.
    let router = AccountRouter::new(
        load_sdk_config().await,
        arn_account(&cfg.detector.alert_topic_arn),
        member,
    );
    let (router, cfg) = (&router, &cfg);

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // The envelope is read once: account and region for routing, event id, parsed payload.
        let event = Envelope::from_value(event.payload);
        let aws = router
            .route(event.account_or_home(), event.region_or_default())
            .await;
        handle_config(&aws, cfg, &event).await.map_err(Diagnostic::from)
    }))
    .await
}
