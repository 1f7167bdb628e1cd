//! `sweep-worker`: consumes the shard queue of the organization-wide sweep (issue 13) through a Lambda SQS
//! event source mapping with `ReportBatchItemFailures`: the answer lists the messages to deliver again
//! (`batchItemFailures`); the others are deleted by Lambda.
//!
//! Per shard message ([`crate::app::org::ShardMessage`]):
//! 1. a shard already reported (a redelivery) is acknowledged without work;
//! 2. clients for the account in the shard's region ([`MemberSessions`]: `<prefix>-member-read` assumed
//!    once per account, the home account with the function's own credentials);
//! 3. [`assess_shard`] with bounded concurrency, the findings published to the alert topic (home); with the
//!    findings store ([`FindingsTracking`], `TRIPLINE_FINDINGS_TABLE`), the shard goes through the same
//!    lifecycle as the single-account sweep ([`sweep_tracked`]): only transitions are published (new,
//!    reopened, resolved...), counted on the shard's outcome and in the run summary, and only the shard's
//!    part of the account is resolved as gone ([`GoneScope`]: the global shard's resources without a
//!    region, a regional shard's own region);
//! 4. the outcome recorded once ([`RunStore::report`]); the shard that completes the run claims and
//!    publishes the run summary.
//!
//! Failures: a permanent one (AccessDenied on the role or a listing, a bad request) is recorded `failed`
//! with its reason at once and acknowledged: retrying cannot help, and the summary and the `ShardsFailed`
//! metric say it. A transient one (throttled, timed out, 5xx) is returned in `batchItemFailures` so SQS
//! delivers it again after the visibility timeout; on the last receive the queue allows
//! (`TRIPLINE_SHARD_MAX_RECEIVES`, the redrive policy's `maxReceiveCount`) it is recorded `failed` too, and
//! SQS then moves it to the dead-letter queue. A message that is not a shard message is returned as a
//! failure as well (it ends in the dead-letter queue for a person to read). A run-store or publish error is
//! transient: the message is delivered again, and the shard (not yet reported) is redone.
//!
//! The deadline message of a run publishes the summary if no shard has: shards not reported by then are
//! `timed-out`.
//!
//! Every invocation prints `ShardsFailed` (EMF, dimension `Function`): how many shards this invocation
//! recorded as failed.

use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde::Serialize;

use crate::app::lifecycle::{sweep_tracked, GoneScope, Tracker};
use crate::app::org::{
    assess_shard, findings_of, summarize, summary_message, Reported, RunStore, Shard, ShardMessage,
    ShardOutcome, ShardStatus,
};
use crate::app::publish::publish_findings;
use crate::app::{DetectorConfig, HandlerError};
use crate::sdk::member::MemberSessions;
use crate::store::FindingsStore;
use crate::{AwsError, Publish};
use tripline_core::lifecycle::Policy;

/// The findings store of the worker: the table, its notification policy and whether findings are imported
/// into the owning account's Security Hub (through the member read role, which holds
/// `securityhub:BatchImportFindings` when the member stack's `EnableSecurityHubImport` is on).
#[derive(Debug)]
pub struct FindingsTracking<'a, F> {
    pub store: &'a F,
    pub policy: Policy,
    pub securityhub: bool,
}

/// Configuration of the worker.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerConfig {
    pub detector: DetectorConfig,
    /// Per-resource reads in flight at once within a shard.
    pub concurrency: usize,
    /// The queue's `maxReceiveCount`: the receive on which a transient failure is recorded as final.
    pub max_receives: u32,
}

/// What happened to one message (logged; the tests read it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageResult {
    pub message_id: String,
    /// `done`, `incomplete`, `failed`, `already-reported`, `retry`, `summary`, `bad-message`, `deferred`.
    pub result: String,
    pub findings: usize,
}

/// The Lambda answer plus what happened to each message.
#[derive(Debug, Clone, Default)]
pub struct WorkerOutcome {
    pub response: SqsBatchResponse,
    pub results: Vec<MessageResult>,
    /// Summaries published by this invocation (0 or more: one per run completed here).
    pub summaries: Vec<String>,
}

/// Time kept after the last shard starts: 10% of what is left at the start, at least 20 s.
fn read_cutoff(deadline: Instant, now: Instant) -> Instant {
    let remaining = deadline.saturating_duration_since(now);
    now + remaining.saturating_sub((remaining / 10).max(Duration::from_secs(20)))
}

fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(0))
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default()
}

fn receive_count(m: &SqsMessage) -> u32 {
    m.attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse().ok())
        .unwrap_or(1)
}

/// Handles one batch of the event source mapping. Never fails as a whole: every message is either done,
/// recorded, or listed in `batchItemFailures`.
pub async fn handle_shard_batch<S: RunStore, P: Publish>(
    sessions: &MemberSessions,
    home: &P,
    store: &S,
    cfg: &WorkerConfig,
    event: SqsEvent,
    deadline: Option<Instant>,
) -> WorkerOutcome {
    let none: Option<&FindingsTracking<'_, crate::store::NoStore>> = None;
    Box::pin(handle_shard_batch_tracked(
        sessions, home, store, cfg, event, deadline, none,
    ))
    .await
}

/// [`handle_shard_batch`] with the findings store when one is configured (see the module docs).
pub async fn handle_shard_batch_tracked<S: RunStore, P: Publish, F: FindingsStore>(
    sessions: &MemberSessions,
    home: &P,
    store: &S,
    cfg: &WorkerConfig,
    event: SqsEvent,
    deadline: Option<Instant>,
    tracking: Option<&FindingsTracking<'_, F>>,
) -> WorkerOutcome {
    let ctx = Ctx {
        sessions,
        home,
        store,
        cfg,
        tracking,
    };
    let started = Instant::now();
    let cutoff = deadline.map(|d| read_cutoff(d, started));
    let mut out = WorkerOutcome::default();
    let mut failed_here = 0u64;
    for m in event.records {
        let id = m.message_id.clone().unwrap_or_default();
        let result = |r: &str, findings: usize| MessageResult {
            message_id: id.clone(),
            result: r.to_owned(),
            findings,
        };
        let retry = |out: &mut WorkerOutcome| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id.clone();
            out.response.batch_item_failures.push(f);
        };
        if cutoff.is_some_and(|c| Instant::now() >= c) {
            // Not started: delivered again after the visibility timeout.
            retry(&mut out);
            out.results.push(result("deferred", 0));
            continue;
        }
        let msg: Option<ShardMessage> = m.body.as_deref().and_then(|b| serde_json::from_str(b).ok());
        let Some(msg) = msg else {
            tracing::error!(message_id = %id, "not a shard message");
            retry(&mut out);
            out.results.push(result("bad-message", 0));
            continue;
        };
        let last_receive = receive_count(&m) >= cfg.max_receives;
        match Box::pin(process(&ctx, &msg, cutoff, last_receive)).await {
            Ok(Step::Done {
                status,
                findings,
                summary,
            }) => {
                if status == ShardStatus::Failed {
                    failed_here += 1;
                }
                if let Some(s) = summary {
                    out.summaries.push(s);
                }
                out.results.push(result(status.as_str(), findings));
            }
            Ok(Step::Already) => out.results.push(result("already-reported", 0)),
            Ok(Step::FailedFinal { summary }) => {
                failed_here += 1;
                if let Some(s) = summary {
                    out.summaries.push(s);
                }
                retry(&mut out);
                out.results.push(result("failed", 0));
            }
            Ok(Step::Summary(s)) => {
                out.summaries.extend(s);
                out.results.push(result("summary", 0));
            }
            Err(e) => {
                tracing::warn!(message_id = %id, run = %msg.run(), error = %e, "shard will be retried");
                retry(&mut out);
                out.results.push(result("retry", 0));
            }
        }
    }
    crate::metrics::emit_shards_failed(failed_here);
    out
}

enum Step {
    Done {
        status: ShardStatus,
        findings: usize,
        summary: Option<String>,
    },
    Already,
    /// Recorded failed on the last receive: the message goes to the dead-letter queue.
    FailedFinal {
        summary: Option<String>,
    },
    Summary(Option<String>),
}

/// What every message of a batch is processed with.
struct Ctx<'a, S, P, F> {
    sessions: &'a MemberSessions,
    home: &'a P,
    store: &'a S,
    cfg: &'a WorkerConfig,
    tracking: Option<&'a FindingsTracking<'a, F>>,
}

/// A handler error of the publish or lifecycle step as the AWS error that decides the retry.
fn aws_error(e: HandlerError) -> AwsError {
    match e {
        HandlerError::Aws { source, .. } => source,
        other => AwsError::new("sns:Publish", crate::ErrorKind::ServerError, other.to_string()),
    }
}

async fn process<S: RunStore, P: Publish, F: FindingsStore>(
    ctx: &Ctx<'_, S, P, F>,
    msg: &ShardMessage,
    cutoff: Option<Instant>,
    last_receive: bool,
) -> Result<Step, AwsError> {
    let Ctx {
        sessions,
        home,
        store,
        cfg,
        tracking,
    } = *ctx;
    let (run, time, shard) = match msg {
        ShardMessage::Deadline { run } => {
            return Ok(Step::Summary(
                summarize_if_unclaimed(store, home, cfg, sessions.home_account(), run, true).await?,
            ));
        }
        ShardMessage::Shard {
            run,
            time,
            account,
            scope,
        } => (
            run,
            time,
            Shard {
                account: account.clone(),
                scope: scope.clone(),
            },
        ),
    };
    match store.shard_status(run, &shard).await? {
        Some(ShardStatus::Planned) => {}
        Some(_) => return Ok(Step::Already),
        None => {
            // A shard the run does not know (a forged or stale message): nothing to record.
            tracing::error!(run = %run, shard = %shard.key(), "shard not in the run's plan; ignored");
            return Ok(Step::Already);
        }
    }
    let home_region = sessions.home_region();
    let region = shard.region(&home_region).to_owned();
    let mut clients = None;
    let assessed = match sessions.clients(&shard.account, &region).await {
        Ok(c) => {
            let a = assess_shard(
                c.as_ref(),
                &shard,
                &region,
                time,
                &cfg.detector.rules,
                cfg.concurrency,
                cutoff,
            )
            .await;
            clients = Some(c);
            a
        }
        Err(e) => Err(e),
    };
    let assessment = match assessed {
        Ok(a) => a,
        Err(e) if e.is_retryable() && !last_receive => return Err(e),
        Err(e) => {
            tracing::error!(run = %run, shard = %shard.key(), error = %e, "shard failed");
            let outcome = ShardOutcome::failed(&shard, &e);
            let summary = record(store, home, cfg, sessions.home_account(), run, &outcome).await?;
            return Ok(if e.is_retryable() {
                Step::FailedFinal { summary }
            } else {
                Step::Done {
                    status: ShardStatus::Failed,
                    findings: 0,
                    summary,
                }
            });
        }
    };
    let rule_errors: Vec<&str> = assessment
        .assessed
        .iter()
        .flat_map(|a| a.evaluation.errors.iter().map(|e| e.rule.as_str()))
        .collect();
    crate::metrics::emit_rule_errors(rule_errors);
    let findings = findings_of(&assessment);
    let event_id = format!("{run}/{}", shard.key());
    let mut outcome = ShardOutcome::of_assessment(&shard, &assessment);
    match (tracking, clients) {
        (Some(t), Some(clients)) => {
            let scope = if shard.is_global() {
                GoneScope::Global
            } else {
                GoneScope::Region(&region)
            };
            let complete = outcome.status == ShardStatus::Done;
            let topic = &cfg.detector.alert_topic_arn;
            // One tracker type whether Security Hub import is on or off (one instantiation).
            let tracker =
                Tracker::new(t.store, t.policy).importing(t.securityhub.then_some(clients.as_ref()));
            let lc = Box::pin(sweep_tracked(
                home,
                &tracker,
                topic,
                &event_id,
                &shard.account,
                time,
                &assessment,
                complete,
                scope,
            ))
            .await
            .map_err(aws_error)?;
            outcome.transitions = lc.counts;
        }
        _ => {
            publish_findings(home, &cfg.detector.alert_topic_arn, &event_id, &findings)
                .await
                .map_err(aws_error)?;
        }
    }
    tracing::info!(run = %run, shard = %shard.key(), status = outcome.status.as_str(),
        findings = findings.len(), checked = outcome.checked, "shard assessed");
    let summary = record(store, home, cfg, sessions.home_account(), run, &outcome).await?;
    Ok(Step::Done {
        status: outcome.status,
        findings: findings.len(),
        summary,
    })
}

/// Records the outcome; when it was the last shard, claims and publishes the summary.
async fn record<S: RunStore, P: Publish>(
    store: &S,
    home: &P,
    cfg: &WorkerConfig,
    home_account: &str,
    run: &str,
    outcome: &ShardOutcome,
) -> Result<Option<String>, AwsError> {
    if store.report(run, outcome).await? == Reported::Already {
        return Ok(None);
    }
    summarize_if_unclaimed(store, home, cfg, home_account, run, false).await
}

/// Publishes the run's summary if every shard reported (or `at_deadline`) and nobody has claimed it;
/// returns the SNS message id.
async fn summarize_if_unclaimed<S: RunStore, P: Publish>(
    store: &S,
    home: &P,
    cfg: &WorkerConfig,
    home_account: &str,
    run: &str,
    at_deadline: bool,
) -> Result<Option<String>, AwsError> {
    let Some(record) = store.run(run).await? else {
        tracing::error!(run = %run, "unknown run");
        return Ok(None);
    };
    if record.summary_at.is_some() || (!at_deadline && record.reported < record.planned) {
        return Ok(None);
    }
    let at = rfc3339_now();
    if !store.claim_summary(run, &at).await? {
        return Ok(None);
    }
    let summary = summarize(&record);
    let msg = summary_message(&summary, home_account);
    // The claim is made: a publish failure is retried here first.
    let mut last = None;
    for attempt in 0..3u32 {
        match home.publish(&cfg.detector.alert_topic_arn, &msg).await {
            Ok(id) => {
                tracing::info!(run = %run, failed = summary.failed.len(), deadline = summary.deadline,
                    "run summary published");
                return Ok(Some(id));
            }
            Err(e) => {
                tracing::warn!(run = %run, attempt, error = %e, "run summary publish failed");
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
    // Out of attempts: the claim is given back and the message fails; the run's deadline message (or, for a
    // deadline message, its next delivery) claims and publishes again.
    let e = last.unwrap_or_else(|| AwsError::new("sns:Publish", crate::ErrorKind::ServerError, "unknown"));
    tracing::error!(run = %run, error = %e, "run summary not published; claim released");
    if let Err(r) = store.release_summary(run, &at).await {
        tracing::error!(run = %run, error = %r, "run summary claim not released");
    }
    Err(e)
}

/// `TRIPLINE_SHARD_MAX_RECEIVES`: the shard queue's `maxReceiveCount` (1-10, default 3).
pub const SHARD_MAX_RECEIVES: &str = "TRIPLINE_SHARD_MAX_RECEIVES";

impl WorkerConfig {
    pub fn from_env_map(
        vars: &std::collections::BTreeMap<String, String>,
    ) -> Result<Self, crate::app::ConfigError> {
        let max_receives = match vars
            .get(SHARD_MAX_RECEIVES)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            None => 3,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=10).contains(&n) => n,
                _ => {
                    return Err(crate::env::EnvError::new(
                        SHARD_MAX_RECEIVES,
                        format!(
                            "should be an integer from 1 to 10, found `{}`",
                            tripline_core::text::quote(v)
                        ),
                    )
                    .into())
                }
            },
        };
        Ok(Self {
            detector: DetectorConfig::from_env_map(vars)?,
            concurrency: crate::env::sweep_concurrency(vars)?,
            max_receives,
        })
    }
}
