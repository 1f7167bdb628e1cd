//! `sweep`: scheduled baseline of every bucket, customer-managed policy and role -> findings + summary.
//! With `TRIPLINE_SHARD_QUEUE_URL` set it is the planner of the organization-wide sweep instead (one
//! message per shard for `sweep-worker`). The logic lives in `tripline_aws::handlers::{sweep,
//! sweep_planner}`; this binary only wires it to the runtime.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tripline_aws::app::assess::SweepConfig;
use tripline_aws::app::lifecycle::Tracker;
use tripline_aws::app::{ConfigError, DetectorConfig};
use tripline_aws::env::{env_map, sweep_concurrency};
use tripline_aws::handlers::sweep::handle_sweep_tracked;
use tripline_aws::handlers::sweep_planner::{handle_plan, AccountSource, PlannerClients, PlannerConfig};
use tripline_aws::sdk::dynamodb::DynamoStore;
use tripline_aws::sdk::runs::DynamoRuns;
use tripline_aws::store::StoreConfig;
use tripline_aws::{load_sdk_config, AwsClients};
use tripline_core::Envelope;

fn config() -> Result<(SweepConfig, Option<StoreConfig>), ConfigError> {
    let vars = env_map();
    Ok((
        SweepConfig {
            detector: DetectorConfig::from_env_map(&vars)?,
            concurrency: sweep_concurrency(&vars)?,
        },
        StoreConfig::from_env_map(&vars)?,
    ))
}

/// The invocation's deadline (milliseconds since the epoch) on the monotonic clock; `None` when absent.
fn deadline_instant(deadline_ms: u64) -> Option<Instant> {
    if deadline_ms == 0 {
        return None;
    }
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_millis();
    let left = u128::from(deadline_ms).saturating_sub(now_ms);
    Some(Instant::now() + Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tripline_aws::runtime::init_json_logs();

    // Validated once at cold start; the error names the bad variable.
    let (cfg, store_cfg) = config().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let planner = PlannerConfig::from_env_map(&env_map())
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    if let Some(planner) = planner {
        return run_planner(planner).await;
    }
    let sdk = load_sdk_config().await;
    let aws = AwsClients::new(&sdk);
    // The findings store (optional, `TRIPLINE_FINDINGS_TABLE`): transitions only, one summary.
    let store = store_cfg.map(|s| (DynamoStore::new(&sdk, &s.table), s.policy, s.securityhub));
    let (aws, cfg, store) = (&aws, &cfg, &store);

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Lambda's deadline (epoch ms) as an `Instant`: the sweep stops starting reads before it and
        // publishes a partial summary instead of being killed with nothing published.
        let deadline = deadline_instant(event.context.deadline);
        let event = Envelope::from_value(event.payload);
        // One handler instantiation whatever is configured (without a store the tracker is `None`).
        let tracker = store
            .as_ref()
            .map(|(s, policy, hub)| Tracker::new(s, *policy).importing(hub.then_some(aws)));
        let result = Box::pin(handle_sweep_tracked(aws, cfg, &event, deadline, tracker.as_ref())).await;
        result.map_err(Diagnostic::from)
    }))
    .await
}

/// The organization-wide planner (see `tripline_aws::handlers::sweep_planner`).
async fn run_planner(cfg: PlannerConfig) -> Result<(), lambda_runtime::Error> {
    let sdk = load_sdk_config().await;
    let org_sdk = match &cfg.accounts {
        AccountSource::Organization { role_arn: Some(arn) } => {
            // ListAccounts is answered only in the management or delegated-administrator account.
            let provider = aws_config::sts::AssumeRoleProvider::builder(arn)
                .session_name("tripline-sweep-planner")
                .configure(&sdk)
                .build()
                .await;
            sdk.to_builder()
                .credentials_provider(aws_sdk_sqs::config::SharedCredentialsProvider::new(provider))
                .build()
        }
        _ => sdk.clone(),
    };
    let clients = PlannerClients {
        sqs: aws_sdk_sqs::Client::new(&sdk),
        organizations: aws_sdk_organizations::Client::new(&org_sdk),
    };
    let store = DynamoRuns::new(&sdk, cfg.runs_table.clone());
    let (clients, store, cfg) = (&clients, &store, &cfg);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let event = Envelope::from_value(event.payload);
        handle_plan(clients, store, cfg, &event)
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}
