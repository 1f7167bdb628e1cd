//! `sweep` as the planner of the organization-wide sweep (issue 13): on its schedule it lists the accounts
//! (`TRIPLINE_ACCOUNTS`, else `organizations:ListAccounts`, ACTIVE only, called with the function's own
//! credentials or through `TRIPLINE_ORGANIZATION_ROLE_ARN` in the management or delegated-administrator
//! account), plans one global shard per account and one per (account, region of `TRIPLINE_REGIONS`),
//! records the plan in the run table (`TRIPLINE_RUNS_TABLE`) and sends one message per shard to the shard
//! queue (`TRIPLINE_SHARD_QUEUE_URL`), plus the run's deadline message, delayed by
//! `TRIPLINE_RUN_DEADLINE_SECONDS` (60-900, default 900: SQS's longest delay), after which the summary goes
//! out whatever has reported.
//!
//! The run id is the scheduled event's id: a retried invocation plans the same run (the plan is written
//! once; the messages are sent again and the workers skip shards already reported).
//!
//! Without `TRIPLINE_SHARD_QUEUE_URL` the function is the single-account sweep of `handlers::sweep`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

use crate::app::org::{plan, RunStore, ShardMessage};
use crate::app::HandlerError;
use crate::env::EnvError;
use crate::sdk::fanout;
use crate::AwsError;
use tripline_core::{Envelope, IntakeError};

pub const SHARD_QUEUE_URL: &str = "TRIPLINE_SHARD_QUEUE_URL";
pub const RUNS_TABLE: &str = "TRIPLINE_RUNS_TABLE";
pub const ACCOUNTS: &str = "TRIPLINE_ACCOUNTS";
pub const REGIONS: &str = "TRIPLINE_REGIONS";
pub const ORGANIZATION_ROLE_ARN: &str = "TRIPLINE_ORGANIZATION_ROLE_ARN";
pub const RUN_DEADLINE_SECONDS: &str = "TRIPLINE_RUN_DEADLINE_SECONDS";

/// Where the accounts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSource {
    List(Vec<String>),
    /// `organizations:ListAccounts`, through this role when given.
    Organization {
        role_arn: Option<String>,
    },
}

/// Configuration of the planner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannerConfig {
    pub queue_url: String,
    pub runs_table: String,
    pub accounts: AccountSource,
    pub regions: Vec<String>,
    pub deadline_seconds: u64,
}

fn get<'a>(env: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

impl PlannerConfig {
    /// `None` when `TRIPLINE_SHARD_QUEUE_URL` is unset (single-account sweep).
    pub fn from_env_map(env: &BTreeMap<String, String>) -> Result<Option<Self>, EnvError> {
        let Some(queue_url) = get(env, SHARD_QUEUE_URL) else {
            return Ok(None);
        };
        if !queue_url.starts_with("https://") && !queue_url.starts_with("http://") {
            return Err(EnvError::new(SHARD_QUEUE_URL, "should be an SQS queue URL"));
        }
        let runs_table = get(env, RUNS_TABLE)
            .ok_or_else(|| EnvError::new(RUNS_TABLE, "is required with TRIPLINE_SHARD_QUEUE_URL"))?;
        let accounts = match get(env, ACCOUNTS) {
            Some(v) => {
                let l = list(v);
                if let Some(bad) = l.iter().find(|a| !tripline_core::resource_kind::is_account_id(a)) {
                    return Err(EnvError::new(
                        ACCOUNTS,
                        format!(
                            "should list 12-digit account ids, found `{}`",
                            tripline_core::text::quote(bad)
                        ),
                    ));
                }
                AccountSource::List(l)
            }
            None => AccountSource::Organization {
                role_arn: get(env, ORGANIZATION_ROLE_ARN).map(str::to_owned),
            },
        };
        let regions = get(env, REGIONS).map(list).unwrap_or_default();
        if let Some(bad) = regions.iter().find(|r| !crate::app::org::is_region_name(r)) {
            return Err(EnvError::new(
                REGIONS,
                format!(
                    "should list region names, found `{}`",
                    tripline_core::text::quote(bad)
                ),
            ));
        }
        let deadline_seconds = match get(env, RUN_DEADLINE_SECONDS) {
            None => 900,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (60..=900).contains(&n) => n,
                _ => {
                    return Err(EnvError::new(
                        RUN_DEADLINE_SECONDS,
                        format!(
                            "should be an integer from 60 to 900, found `{}`",
                            tripline_core::text::quote(v)
                        ),
                    ))
                }
            },
        };
        Ok(Some(Self {
            queue_url: queue_url.to_owned(),
            runs_table: runs_table.to_owned(),
            accounts,
            regions,
            deadline_seconds,
        }))
    }
}

/// What the planner did (the Lambda response; also logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanOutcome {
    pub run: String,
    pub accounts: usize,
    pub regions: Vec<String>,
    pub shards: usize,
}

/// The SDK clients the planner uses.
#[derive(Debug, Clone)]
pub struct PlannerClients {
    pub sqs: aws_sdk_sqs::Client,
    /// Organizations (already with the management-account role's credentials when configured).
    pub organizations: aws_sdk_organizations::Client,
}

fn run_id(event_id: &str, time: &str) -> String {
    let clean: String = event_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    if clean.is_empty() {
        format!("run-{}", time.replace([':', '.'], "-"))
    } else {
        clean
    }
}

/// Plans a run for the scheduled event.
pub async fn handle_plan<S: RunStore>(
    clients: &PlannerClients,
    store: &S,
    cfg: &PlannerConfig,
    event: &Envelope,
) -> Result<PlanOutcome, HandlerError> {
    let event_id = event.event_id.clone();
    let v: &Value = event.value().map_err(|e| HandlerError::BadEvent {
        event_id: event_id.clone(),
        source: e.clone(),
    })?;
    let Some(time) = v.get("time").and_then(Value::as_str) else {
        return Err(HandlerError::BadEvent {
            event_id,
            source: IntakeError::MissingField {
                field: "time".to_owned(),
                context: "the scheduled event".to_owned(),
            },
        });
    };
    let aws_err = |e: AwsError| {
        tracing::error!(event_id = %event_id, error = %e, "planning failed");
        HandlerError::aws(&event_id, e)
    };
    let accounts = match &cfg.accounts {
        AccountSource::List(l) => l.clone(),
        AccountSource::Organization { .. } => fanout::active_accounts(&clients.organizations)
            .await
            .map_err(aws_err)?,
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let run = run_id(&event_id, time);
    let p = plan(&run, time, &accounts, &cfg.regions, now + cfg.deadline_seconds).map_err(|m| {
        HandlerError::Unsupported {
            event_id: event_id.clone(),
            message: m,
        }
    })?;
    store.plan(&p).await.map_err(aws_err)?;
    let bodies: Vec<String> = p
        .shards
        .iter()
        .filter_map(|s| {
            serde_json::to_string(&ShardMessage::Shard {
                run: run.clone(),
                time: time.to_owned(),
                account: s.account.clone(),
                scope: s.scope.clone(),
            })
            .ok()
        })
        .collect();
    fanout::send_all(&clients.sqs, &cfg.queue_url, &bodies, 0)
        .await
        .map_err(aws_err)?;
    let deadline = serde_json::to_string(&ShardMessage::Deadline { run: run.clone() }).unwrap_or_default();
    fanout::send_all(
        &clients.sqs,
        &cfg.queue_url,
        &[deadline],
        i32::try_from(cfg.deadline_seconds).unwrap_or(900),
    )
    .await
    .map_err(aws_err)?;
    tracing::info!(run = %run, accounts = p.accounts.len(), shards = p.shards.len(), "run planned");
    Ok(PlanOutcome {
        run,
        accounts: p.accounts.len(),
        regions: p.regions,
        shards: p.shards.len(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn planner_configuration() {
        assert_eq!(PlannerConfig::from_env_map(&env(&[])).unwrap(), None);
        let q = (
            SHARD_QUEUE_URL,
            "https://sqs.us-east-1.amazonaws.com/111122223333/tripline-shards",
        );
        let c = PlannerConfig::from_env_map(&env(&[
            q,
            (RUNS_TABLE, "tripline-runs"),
            (ACCOUNTS, "111111111111, 222222222222"),
            (REGIONS, "us-east-1,eu-west-1"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            c.accounts,
            AccountSource::List(vec!["111111111111".into(), "222222222222".into()])
        );
        assert_eq!(c.regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(c.deadline_seconds, 900);
        let c = PlannerConfig::from_env_map(&env(&[q, (RUNS_TABLE, "t")]))
            .unwrap()
            .unwrap();
        assert_eq!(c.accounts, AccountSource::Organization { role_arn: None });
        for (k, v) in [
            (ACCOUNTS, "12345"),
            (REGIONS, "us east"),
            (RUN_DEADLINE_SECONDS, "901"),
            (RUN_DEADLINE_SECONDS, "x"),
        ] {
            let e = PlannerConfig::from_env_map(&env(&[q, (RUNS_TABLE, "t"), (k, v)])).unwrap_err();
            assert_eq!(e.variable, k, "{e}");
        }
        let e = PlannerConfig::from_env_map(&env(&[q])).unwrap_err();
        assert_eq!(e.variable, RUNS_TABLE);
    }

    #[test]
    fn run_ids_are_safe_key_parts() {
        assert_eq!(
            run_id("53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "t"),
            "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"
        );
        assert_eq!(run_id("a#b\n", "t"), "ab");
        assert_eq!(run_id("##", "2026-12-06T00:00:00Z"), "run-2026-12-06T00-00-00Z");
    }
}
