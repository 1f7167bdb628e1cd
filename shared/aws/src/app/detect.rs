//! Use case: judge one change. Fetch exactly the state the triggered rules need (concurrently), evaluate,
//! publish the findings.
//!
//! State that cannot be read for a permanent reason (access denied) does not withhold the alert: the change
//! is judged from its payload and the findings say "state not confirmed". A transient failure is returned
//! (retryable) so the event is delivered again.

use std::collections::BTreeSet;

use super::publish::{publish_findings, FindingRef};
use super::state::fetch_state;
use super::{DetectorConfig, HandlerError};
use crate::{IamRead, Publish, S3Read};
use tripline_core::change::Change;
use tripline_core::rules::{self, Evaluation};
use tripline_core::state::{State, StateNeed};

/// Evaluates one change with freshly fetched state and publishes its findings.
pub async fn detect<D: S3Read + IamRead + Publish + crate::DutiesRead>(
    aws: &D,
    cfg: &DetectorConfig,
    change: &Change,
) -> Result<(Evaluation, BTreeSet<StateNeed>, Vec<FindingRef>), HandlerError> {
    let event_id = change.event_id.as_str();
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
                State::default()
            }
        }
    };
    let evaluation = rules::evaluate(change, Some(&state), &cfg.rules);
    for e in &evaluation.errors {
        tracing::error!(event_id, rule = %e.rule, error = %e.message, "rule failed on this event");
    }
    let refs = publish_findings(aws, &cfg.alert_topic_arn, event_id, &evaluation.findings).await?;
    Ok((evaluation, needs, refs))
}
