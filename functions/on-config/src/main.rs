//! `on-config`: AWS Config custom-rule invocations -> evaluate -> `PutEvaluations` (+ findings on SNS).
//! The logic lives in `tripline_aws::handlers::config`; this binary only wires it to the runtime.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tripline_aws::app::assess::SweepConfig;
use tripline_aws::app::lifecycle::Tracker;
use tripline_aws::app::{ConfigError, DetectorConfig};
use tripline_aws::env::{env_map, member_role, sweep_concurrency};
use tripline_aws::handlers::config::handle_config_tracked;
use tripline_aws::org_members::{current_config, OrgMembers};
use tripline_aws::sdk::dynamodb::DynamoStore;
use tripline_aws::store::StoreConfig;
use tripline_aws::{load_sdk_config, AccountRouter, MemberRole};
use tripline_core::resource_kind::arn_account;
use tripline_core::Envelope;

type Config = (SweepConfig, Option<MemberRole>, Option<StoreConfig>);

fn config() -> Result<Config, ConfigError> {
    let vars = env_map();
    let cfg = SweepConfig {
        detector: DetectorConfig::from_env_map(&vars)?,
        concurrency: sweep_concurrency(&vars)?,
    };
    Ok((cfg, member_role(&vars)?, StoreConfig::from_env_map(&vars)?))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tripline_aws::runtime::init_json_logs();

    // Validated once at cold start; the error names the bad variable.
    let (cfg, member, store_cfg) =
        config().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = load_sdk_config().await;
    // The organization's members for the zone of trust (optional, `TRIPLINE_ORGANIZATION_MEMBERS`).
    let members = OrgMembers::from_env_map(&env_map(), &sdk, "tripline-on-config")
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    // The findings store (optional, `TRIPLINE_FINDINGS_TABLE`): a change's findings get their lifecycle.
    let store = store_cfg.map(|s| (DynamoStore::new(&sdk, &s.table), s.policy, s.securityhub));
    // Clients built once; per member account (organization-wide) on first use, then cached.
    let router = AccountRouter::new(sdk, arn_account(&cfg.detector.alert_topic_arn), member);
    let (router, cfg, store, members) = (&router, &cfg, &store, &members);

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // The envelope is read once: account and region for routing, event id, parsed payload.
        let event = Envelope::from_value(event.payload);
        let detector = current_config(members.as_ref(), &cfg.detector).await;
        let cfg = &SweepConfig {
            detector: detector.into_owned(),
            concurrency: cfg.concurrency,
        };
        let aws = router
            .route(event.account_or_home(), event.region_or_default())
            .await;
        // One handler instantiation whatever is configured (without a store the tracker is `None`).
        let tracker = store
            .as_ref()
            .map(|(s, policy, hub)| Tracker::new(s, *policy).importing(hub.then_some(&aws)));
        let result = Box::pin(handle_config_tracked(&aws, cfg, &event, tracker.as_ref())).await;
        result.map_err(Diagnostic::from)
    }))
    .await
}
