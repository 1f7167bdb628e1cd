//! `sweep-worker`: one shard of the organization-wide sweep per SQS message (assume the member read role,
//! assess, publish, record; the last shard publishes the run summary). The logic lives in
//! `tripline_aws::handlers::sweep_worker`; this binary only wires it to the runtime.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};
use tripline_aws::env::{env_map, member_role, EnvError, MEMBER_ROLE_NAME};
use tripline_aws::handlers::sweep_planner::RUNS_TABLE;
use tripline_aws::handlers::sweep_worker::{handle_shard_batch_tracked, FindingsTracking, WorkerConfig};
use tripline_aws::org_members::OrgMembers;
use tripline_aws::sdk::dynamodb::DynamoStore;
use tripline_aws::sdk::member::{MemberReadRole, MemberSessions};
use tripline_aws::sdk::runs::DynamoRuns;
use tripline_aws::store::StoreConfig;
use tripline_aws::{load_sdk_config, AwsClients};
use tripline_core::resource_kind::arn_account;

/// The invocation's deadline (milliseconds since the epoch) on the monotonic clock; `None` when absent.
fn deadline_instant(deadline_ms: u64) -> Option<Instant> {
    if deadline_ms == 0 {
        return None;
    }
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_millis();
    let left = u128::from(deadline_ms).saturating_sub(now_ms);
    Some(Instant::now() + Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX)))
}

type Config = (WorkerConfig, MemberReadRole, String, Option<StoreConfig>);

fn config() -> Result<Config, Box<dyn std::error::Error + Send + Sync>> {
    let vars = env_map();
    let cfg = WorkerConfig::from_env_map(&vars)?;
    let role = member_role(&vars)?.ok_or_else(|| EnvError::new(MEMBER_ROLE_NAME, "is required"))?;
    let table = vars
        .get(RUNS_TABLE)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| EnvError::new(RUNS_TABLE, "is required"))?;
    Ok((
        cfg,
        MemberReadRole {
            name: role.role_name,
            external_id: role.external_id,
            session_name: "tripline-sweep".to_owned(),
        },
        table,
        StoreConfig::from_env_map(&vars)?,
    ))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tripline_aws::runtime::init_json_logs();

    // Validated once at cold start; the error names the bad variable.
    let (cfg, role, table, store_cfg) =
        config().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = load_sdk_config().await;
    let home = AwsClients::new(&sdk);
    // The organization's members for the zone of trust (optional, `TRIPLINE_ORGANIZATION_MEMBERS`).
    let members = OrgMembers::from_env_map(&env_map(), &sdk, "tripline-sweep-worker")
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let store = DynamoRuns::new(&sdk, table);
    // The findings store (optional, `TRIPLINE_FINDINGS_TABLE`) lives in the home account.
    let findings = store_cfg.map(|s| (DynamoStore::new(&sdk, &s.table), s.policy, s.securityhub));
    // Member sessions live as long as the execution environment: one AssumeRole per account per hour.
    let sessions = MemberSessions::new(sdk, arn_account(&cfg.detector.alert_topic_arn), true, role);
    let (home, store, sessions, base, findings, members) =
        (&home, &store, &sessions, &cfg, &findings, &members);

    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let deadline = deadline_instant(event.context.deadline);
        // Borrowed as configured; a copy only when the organization's members are listed.
        let current: std::borrow::Cow<'_, WorkerConfig> = match members {
            Some(m) => std::borrow::Cow::Owned(WorkerConfig {
                detector: m.config(&base.detector).await,
                ..base.clone()
            }),
            None => std::borrow::Cow::Borrowed(base),
        };
        let cfg = &*current;
        // One handler instantiation whatever is configured (without a store the tracking is `None`).
        let tracking = findings
            .as_ref()
            .map(|(table, policy, securityhub)| FindingsTracking {
                store: table,
                policy: *policy,
                securityhub: *securityhub,
            });
        let batch = handle_shard_batch_tracked(
            sessions,
            home,
            store,
            cfg,
            event.payload,
            deadline,
            tracking.as_ref(),
        );
        let out = Box::pin(batch).await;
        tracing::info!(results = ?out.results, summaries = out.summaries.len(), "batch done");
        Ok::<SqsBatchResponse, lambda_runtime::Error>(out.response)
    }))
    .await
}
