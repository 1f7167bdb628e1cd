//! Use case: judge one change. Fetch exactly the state the triggered rules need (concurrently), evaluate,
//! publish the findings.
//!
//! State that cannot be read for a permanent reason (access denied) does not withhold the alert: the change
//! is judged from its payload and the findings say "state not confirmed". A transient failure is returned
//! (retryable) so the event is delivered again.

use std::collections::{BTreeMap, BTreeSet};

use super::lifecycle::{publish_tracked_clearing, Tracked, Tracker};
use super::publish::{publish_findings, FindingRef};
use super::state::fetch_state;
use super::{DetectorConfig, HandlerError};
use crate::sdk::securityhub::ImportFindings;
use crate::store::FindingsStore;
use crate::{IamRead, Publish, S3Read};
use tripline_core::change::Change;
use tripline_core::lifecycle::{cleared_rules, swept_rules};
use tripline_core::rules::{self, Evaluation};
use tripline_core::state::{State, StateNeed};

/// Evaluates one change with freshly fetched state and publishes its findings.
pub async fn detect<D: S3Read + IamRead + Publish + crate::DutiesRead>(
    aws: &D,
    cfg: &DetectorConfig,
    change: &Change,
) -> Result<(Evaluation, BTreeSet<StateNeed>, Vec<FindingRef>), HandlerError> {
    let (evaluation, needs, _) = judge(aws, cfg, change).await?;
    let refs = publish_findings(aws, &cfg.alert_topic_arn, &change.event_id, &evaluation.findings).await?;
    Ok((evaluation, needs, refs))
}

/// [`detect`] with the findings store: findings go through the lifecycle (notices only on transitions the
/// policy notifies), and the current-state rules that judged a resource of the change with its fetched
/// state and found nothing resolve their findings on it ([`super::lifecycle`]).
pub async fn detect_tracked<
    D: S3Read + IamRead + Publish + crate::DutiesRead,
    S: FindingsStore,
    H: ImportFindings,
>(
    aws: &D,
    cfg: &DetectorConfig,
    tracker: &Tracker<'_, S, H>,
    change: &Change,
) -> Result<(Evaluation, BTreeSet<StateNeed>, Vec<Tracked>), HandlerError> {
    let event_id = change.event_id.as_str();
    let (evaluation, needs, state_read) = judge(aws, cfg, change).await?;
    let topic = cfg.alert_topic_arn.as_str();
    // The current-state rules that judged a resource of the change with its fetched state and raised
    // nothing on it: their findings there resolve. Recorded with the raised rules' findings, one lane per
    // resource sharing one read of its items, so the store adds one sequence to the chain.
    let mut cleared: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    if state_read {
        let triggered: Vec<&str> = rules::triggered(change).iter().map(|r| r.id).collect();
        for res in &change.resources {
            let Some(arn) = res.arn.as_deref().filter(|a| !a.is_empty()) else {
                continue;
            };
            let judged: Vec<&str> = swept_rules(&res.resource_type)
                .iter()
                .copied()
                .filter(|r| triggered.contains(r))
                .collect();
            let rules = cleared_rules(&judged, arn, &evaluation);
            if !rules.is_empty() {
                cleared
                    .entry((change.account.clone(), arn.to_owned()))
                    .or_default()
                    .extend(rules);
            }
        }
    }
    let (mut tracked, resolved) = Box::pin(publish_tracked_clearing(
        aws,
        tracker,
        topic,
        event_id,
        &evaluation.findings,
        &cleared,
        &change.time,
    ))
    .await?;
    tracked.extend(resolved);
    Ok((evaluation, needs, tracked))
}

/// Fetches the state the triggered rules need and evaluates; the flag says whether the state was read (a
/// permanent read failure judges from the payload alone).
async fn judge<D: S3Read + IamRead + crate::DutiesRead>(
    aws: &D,
    cfg: &DetectorConfig,
    change: &Change,
) -> Result<(Evaluation, BTreeSet<StateNeed>, bool), HandlerError> {
    let event_id = change.event_id.as_str();
    let mut state_read = true;
    let needs = rules::needs(change);
    let state = if needs.is_empty() {
        State::default()
    } else {
        // Boxed: the nested concurrent fetches make a deep future type; one allocation keeps every
        // caller's future small and its layout within the compiler's depth limit.
        match Box::pin(fetch_state(aws, change, &needs)).await {
            Ok(state) => state,
            // Transient: fail the invocation so the event is delivered again.
            Err(e) if e.is_retryable() => {
                tracing::error!(event_id, event_name = %change.event_name, retryable = true, error = %e, "fetching state failed");
                return Err(HandlerError::aws(event_id, e));
            }
            // Permanent (access denied, validation): retrying cannot help, and withholding the alert would
            // hide the change. Judge from the payload; the findings say "state not confirmed".
            Err(e) => {
                tracing::error!(event_id, event_name = %change.event_name, retryable = false, error = %e, "state unreadable, judging from the payload");
                state_read = false;
                State::default()
            }
        }
    };
    let evaluation = rules::evaluate(change, Some(&state), &cfg.rules);
    for e in &evaluation.errors {
        tracing::error!(event_id, rule = %e.rule, error = %e.message, "rule failed on this event");
    }
    let judged_with_state = state_read && !needs.is_empty();
    Ok((evaluation, needs, judged_with_state))
}
