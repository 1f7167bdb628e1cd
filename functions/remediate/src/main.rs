//! `remediate`: findings from the alert topic (filter `remediation: [planned]`) -> in the finding's own account
//! only (the member remediation role for a member account, refusal otherwise), re-read, re-judge, act per the
//! rule's mode, verify, publish every outcome. The logic lives in `tripline_aws::handlers::remediate` and
//! `tripline_aws::app::remediate`; this binary only wires it to the runtime.

// The handler's future (re-read, act, verify across per-region clients) nests deeper than rustc's default
// query depth when its layout is computed for the test harness build.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tripline_aws::app::lifecycle::Tracker;
use tripline_aws::app::remediate::RemediateConfig;
use tripline_aws::app::{ConfigError, DetectorConfig};
use tripline_aws::env::{env_map, member_role, remediation_attempts, remediation_role_arn};
use tripline_aws::handlers::remediate::handle_remediate_tracked;
use tripline_aws::sdk::dynamodb::DynamoStore;
use tripline_aws::store::StoreConfig;
use tripline_aws::{load_sdk_config, AccountRouter, MemberRole};
use tripline_core::resource_kind::arn_account;
use tripline_core::Envelope;

type Config = (RemediateConfig, Option<MemberRole>, Option<StoreConfig>);

fn config() -> Result<Config, ConfigError> {
    let vars = env_map();
    let member = member_role(&vars)?;
    Ok((
        RemediateConfig {
            detector: DetectorConfig::from_env_map(&vars)?,
            remediation_role_arn: remediation_role_arn(&vars)?,
            member_role_name: member.as_ref().map(|m| m.role_name.clone()),
            attempts: remediation_attempts(&vars)?,
        },
        member,
        StoreConfig::from_env_map(&vars)?,
    ))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tripline_aws::runtime::init_json_logs();

    // Validated once at cold start; the error names the bad variable.
    let (cfg, member, store_cfg) =
        config().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = load_sdk_config().await;
    // The findings store (optional, `TRIPLINE_FINDINGS_TABLE`): every outcome is recorded on the finding's
    // lifecycle, a verified remediation resolves it.
    let store = store_cfg.map(|s| (DynamoStore::new(&sdk, &s.table), s.policy));
    // A member account's finding is acted on through `<prefix>-member-remediate` in that account
    // (`TRIPLINE_MEMBER_ROLE_NAME`); without it, the use case refuses (the credentials' account, checked with
    // sts:GetCallerIdentity before anything is read, is not the finding's).
    let router = AccountRouter::new(sdk, arn_account(&cfg.detector.alert_topic_arn), member);
    let (router, cfg, store) = (&router, &cfg, &store);

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // The envelope is read once: account and region for routing, event id, parsed payload.
        let event = Envelope::from_value(event.payload);
        let aws = router
            .route(event.account_or_home(), event.region_or_default())
            .await;
        // One handler instantiation whatever is configured (without a store the tracker is `None`).
        let tracker = store.as_ref().map(|(s, policy)| Tracker::new(s, *policy));
        let result = Box::pin(handle_remediate_tracked(&aws, cfg, &event, tracker.as_ref())).await;
        result.map_err(Diagnostic::from)
    }))
    .await
}
