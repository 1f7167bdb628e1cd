//! Use case: findings with a life. With a findings store ([`crate::store`]), every finding goes through the
//! one transition function ([`tripline_core::lifecycle::apply`]) before anything is published, and only
//! what the notification policy says is published (`new`, `reopened`, `unsuppressed`, `changed` to a
//! higher severity, `resolved`, and an unchanged open finding once per `TRIPLINE_RENOTIFY_AFTER`), each
//! with its `transition` message attribute.
//!
//! Resolution: an event or sweep that judged a resource with a rule the sweep also judges (a rule about
//! current state, [`tripline_core::lifecycle::swept_rules`]) and found nothing resolves that rule's finding
//! on the resource; a complete sweep resolves the findings of resources it no longer lists (gone); a
//! verified remediation resolves its finding ([`record_remediation`], for the remediate use case).
//!
//! Order: the transition is written (conditionally) first, then the notice published, then the notice
//! confirmed. A failed publish returns the retryable error; the retried delivery finds the claim and
//! publishes once its lease has passed (see the core module), never twice from concurrent duplicates.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::assess::AccountAssessment;
use super::publish::FindingRef;
use super::HandlerError;
use crate::sdk::securityhub::ImportFindings;
use crate::store::{confirm, record, record_read_from, FindingsStore, ListFilter};
use crate::{AwsError, Publish};
use tripline_core::finding::{Finding, Severity};
use tripline_core::lifecycle::{
    cleared_rules, swept_rules, Decision, LifecycleItem, LifecycleKey, LifecycleState, Observation, Policy,
    ResolveReason, Transition,
};
use tripline_core::render::lifecycle::{finding_message, resolved_message, LifecycleView};
use tripline_core::render::sns::SnsMessage;

/// The store, its policy, the invocation's wall clock (epoch seconds) and, when Security Hub import is
/// on, the owning account's Security Hub.
#[derive(Debug)]
pub struct Tracker<'a, S, H = NoHub> {
    pub store: &'a S,
    pub policy: Policy,
    pub now: i64,
    pub hub: Option<&'a H>,
}

impl<'a, S: FindingsStore> Tracker<'a, S> {
    /// A tracker reading the wall clock once.
    pub fn new(store: &'a S, policy: Policy) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Self {
            store,
            policy,
            now,
            hub: None,
        }
    }
}

impl<'a, S: FindingsStore, H> Tracker<'a, S, H> {
    /// The same tracker importing into `hub` (Security Hub of the account that owns the findings).
    pub fn with_hub<H2: ImportFindings>(self, hub: &'a H2) -> Tracker<'a, S, H2> {
        self.importing(Some(hub))
    }

    /// The same tracker importing into `hub` when there is one. One tracker type whether the import is on
    /// or off, so a function instantiates its handler once (each instantiation is code in its zip).
    pub fn importing<H2: ImportFindings>(self, hub: Option<&'a H2>) -> Tracker<'a, S, H2> {
        Tracker {
            store: self.store,
            policy: self.policy,
            now: self.now,
            hub,
        }
    }
}

/// The type of "no Security Hub" (`Tracker::hub` is `None`); never called.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHub;

impl ImportFindings for NoHub {
    async fn batch_import(
        &self,
        _findings: Vec<aws_sdk_securityhub::types::AwsSecurityFinding>,
    ) -> Result<(usize, Vec<String>), AwsError> {
        Err(AwsError::new(
            "securityhub:BatchImportFindings",
            crate::ErrorKind::Client,
            "Security Hub import is not configured",
        ))
    }
}

/// `now` (unix seconds) as RFC 3339, or empty when out of range.
pub fn rfc3339(now: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Imports into Security Hub when the tracker has one: the findings Security Hub refused are logged
/// (and returned as an error, so the event is retried: imports are idempotent, same `Id`).
async fn import_asff<S, H: ImportFindings>(
    tr: &Tracker<'_, S, H>,
    event_id: &str,
    findings: Vec<aws_sdk_securityhub::types::AwsSecurityFinding>,
) -> Result<(), AwsError> {
    let (Some(hub), false) = (tr.hub, findings.is_empty()) else {
        return Ok(());
    };
    let n = findings.len();
    let report = crate::sdk::securityhub::import(hub, findings).await?;
    tracing::info!(
        event_id,
        imported = report.imported,
        of = n,
        calls = report.calls,
        "Security Hub import"
    );
    if report.failed.is_empty() {
        Ok(())
    } else {
        for f in &report.failed {
            tracing::error!(event_id, refused = %f, "Security Hub refused a finding");
        }
        Err(AwsError::new(
            "securityhub:BatchImportFindings",
            crate::ErrorKind::Client,
            format!(
                "{} finding(s) refused, first: {}",
                report.failed.len(),
                report.failed[0]
            ),
        ))
    }
}

/// What happened to one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tracked {
    /// The lifecycle id (stable; the finding id when the finding names no resource).
    pub id: String,
    pub rule: String,
    pub resource: String,
    pub severity: Severity,
    /// `None`: nothing recorded (a late event, nothing stored to resolve).
    pub transition: Option<Transition>,
    /// The stored item after this observation.
    pub state: Option<LifecycleState>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// The SNS message id when a notice was published.
    pub message_id: Option<String>,
}

impl Tracked {
    /// The handler's reference to a published notice.
    pub fn finding_ref(&self, suppressed: bool) -> Option<FindingRef> {
        self.message_id.as_ref().map(|m| FindingRef {
            id: self.id.clone(),
            rule: self.rule.clone(),
            severity: self.severity,
            resource: self.resource.clone(),
            suppressed,
            message_id: m.clone(),
        })
    }
}

/// Concurrent findings recorded at once.
const CONCURRENCY: usize = 8;

fn err(event_id: &str) -> impl Fn(AwsError) -> HandlerError + '_ {
    move |e| HandlerError::aws(event_id, e)
}

/// Records `decision`'s notice: publishes `msg` when it must notify, then confirms.
async fn notify<P: Publish, S: FindingsStore, H: ImportFindings>(
    aws: &P,
    tr: &Tracker<'_, S, H>,
    topic: &str,
    decision: &Decision,
    msg: impl FnOnce(&LifecycleItem, Transition) -> SnsMessage,
) -> Result<Option<String>, AwsError> {
    let (true, Some(item), Some(t)) = (decision.notify, &decision.item, decision.transition) else {
        return Ok(None);
    };
    let id = aws.publish(topic, &msg(item, t)).await?;
    confirm(tr.store, item, tr.now).await?;
    Ok(Some(id))
}

fn tracked_of(decision: &Decision, id: String, rule: &str, resource: &str, severity: Severity) -> Tracked {
    Tracked {
        id,
        rule: rule.to_owned(),
        resource: resource.to_owned(),
        severity,
        transition: decision.transition,
        state: decision.item.as_ref().map(|i| i.state),
        first_seen: decision.item.as_ref().map(|i| i.first_seen.clone()),
        last_seen: decision.item.as_ref().map(|i| i.last_seen.clone()),
        message_id: None,
    }
}

/// Records one finding and publishes its notice when the policy says so. A finding that names no resource
/// has no stable identity: it is published as without a store (transition `new`).
async fn track_one<P: Publish, S: FindingsStore, H: ImportFindings>(
    aws: &P,
    tr: &Tracker<'_, S, H>,
    topic: &str,
    f: &Finding,
    read: Option<Option<LifecycleItem>>,
) -> Result<Tracked, AwsError> {
    if LifecycleKey::of(f).is_none() {
        let id = aws
            .publish(topic, &tripline_core::render::sns::message(f))
            .await?;
        return Ok(Tracked {
            id: f.id.clone(),
            rule: f.rule.clone(),
            resource: f.resource.arn.clone(),
            severity: f.severity,
            transition: Some(Transition::New),
            state: None,
            first_seen: Some(f.event.time.clone()),
            last_seen: Some(f.event.time.clone()),
            message_id: Some(id),
        });
    }
    let (decision, prior) =
        record_read_from(tr.store, &Observation::Exposed(f), tr.now, &tr.policy, read).await?;
    let key_id = LifecycleKey::of(f).map(|k| k.id()).unwrap_or_default();
    let mut t = tracked_of(&decision, key_id, &f.rule, &f.resource.arn, f.severity);
    if t.first_seen.is_none() {
        // Nothing written (unchanged, a redelivery): report what is stored, as the decision read it (no
        // second read: it would add a round trip to every unchanged finding's chain).
        if let Some(stored) = prior {
            t.state = Some(stored.state);
            t.first_seen = Some(stored.first_seen);
            t.last_seen = Some(stored.last_seen);
        }
    }
    t.message_id = notify(aws, tr, topic, &decision, |item, tr| {
        finding_message(f, &LifecycleView::of(item, tr))
    })
    .await?;
    Ok(t)
}

/// What one resource's lane returns: each finding's index in `unique` with its result, and the resolutions
/// of the resource's cleared rules.
type LaneResult = (
    Vec<(usize, Result<Tracked, AwsError>)>,
    Result<Vec<Tracked>, AwsError>,
);

/// The findings of one resource and the resolutions of its cleared rules, recorded as one lane. One
/// strongly consistent `Query` of the resource's items (its partition) serves them all when there is more
/// than one thing to record or something to resolve (an event that raises three rules on one role, or
/// raises one rule and clears another on a bucket, makes one read), then everything is written at once;
/// the lanes of different resources run concurrently. A failed shared read is logged and each finding reads
/// its own item (it costs a read, never the finding); the resolutions then fail with it (retryable, as a
/// failed read of what to resolve always was).
#[allow(clippy::too_many_arguments)]
async fn track_resource<P: Publish, S: FindingsStore, H: ImportFindings>(
    aws: &P,
    tr: &Tracker<'_, S, H>,
    topic: &str,
    event_id: &str,
    unique: &[&Finding],
    lane: &Lane<'_>,
    at: &str,
) -> LaneResult {
    let idx = &lane.findings;
    let mut reads: Vec<Option<Option<LifecycleItem>>> = vec![None; idx.len()];
    let mut items: Result<Vec<LifecycleItem>, AwsError> = Ok(Vec::new());
    if let (true, Some((account, arn))) = (idx.len() > 1 || !lane.cleared.is_empty(), lane.resource.as_ref())
    {
        items = tr.store.resource_items(account, arn).await;
        match &items {
            Ok(items) => {
                for (read, &i) in reads.iter_mut().zip(idx) {
                    *read = Some(items.iter().find(|it| it.key.rule == unique[i].rule).cloned());
                }
            }
            Err(e) => {
                tracing::warn!(event_id, error = %e, "reading a resource's findings at once failed; each is read alone");
            }
        }
    }
    let records = futures::future::join_all(
        idx.iter()
            .zip(reads)
            .map(|(&i, read)| async move { (i, track_one(aws, tr, topic, unique[i], read).await) }),
    );
    let resolutions = async {
        let mut out = Vec::new();
        if lane.cleared.is_empty() {
            return Ok(out);
        }
        for item in items? {
            if item.state != LifecycleState::Resolved && lane.cleared.contains(&item.key.rule.as_str()) {
                let key = item.key.clone();
                let t = resolve_from(
                    aws,
                    tr,
                    topic,
                    &key,
                    ResolveReason::NotExposed,
                    at,
                    event_id,
                    Some(Some(item)),
                )
                .await?;
                if t.transition.is_some() {
                    out.push(t);
                }
            }
        }
        Ok(out)
    };
    futures::join!(records, resolutions)
}

/// One resource's lane: its findings (indexes in `unique`) and its cleared rules. `resource` is `None` for
/// a finding without a stable identity (a lane of its own).
struct Lane<'a> {
    resource: Option<(String, String)>,
    findings: Vec<usize>,
    cleared: Vec<&'a str>,
}

/// Records every finding (one per exposure: the most severe when an evaluation raised the same rule on the
/// same resource twice) and publishes the notices due. Every finding is attempted; the first error (in
/// finding order) is returned after all have finished.
pub async fn publish_tracked<P: Publish, S: FindingsStore, H: ImportFindings>(
    aws: &P,
    tr: &Tracker<'_, S, H>,
    topic: &str,
    event_id: &str,
    findings: &[Finding],
) -> Result<Vec<Tracked>, HandlerError> {
    let none = BTreeMap::new();
    Box::pin(publish_tracked_clearing(
        aws, tr, topic, event_id, findings, &none, "",
    ))
    .await
    .map(|(tracked, _)| tracked)
}

/// [`publish_tracked`], also resolving the open (or suppressed) findings of the rules `cleared` names per
/// resource (account, ARN): the rules that judged the resource with fetched state and raised nothing, as
/// of `at`. A resource's findings and resolutions share one read of its items (see [`track_resource`]).
/// Returns the findings' records and the resolutions made (transitions only).
pub async fn publish_tracked_clearing<P: Publish, S: FindingsStore, H: ImportFindings>(
    aws: &P,
    tr: &Tracker<'_, S, H>,
    topic: &str,
    event_id: &str,
    findings: &[Finding],
    cleared: &BTreeMap<(String, String), Vec<&str>>,
    at: &str,
) -> Result<(Vec<Tracked>, Vec<Tracked>), HandlerError> {
    let mut seen: BTreeMap<LifecycleKey, usize> = BTreeMap::new();
    let mut unique: Vec<&Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        match LifecycleKey::of(f).and_then(|k| seen.get(&k).copied().map(|i| (k, i))) {
            Some((_, i)) => {
                if f.severity > unique[i].severity {
                    unique[i] = f;
                }
            }
            None => {
                if let Some(k) = LifecycleKey::of(f) {
                    seen.insert(k, unique.len());
                }
                unique.push(f);
            }
        }
    }
    // One lane per resource (findings without a stable identity: one lane each), in finding order, then
    // the resources with cleared rules and no finding.
    let mut lanes: Vec<Lane<'_>> = Vec::new();
    let mut lane_of: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, f) in unique.iter().enumerate() {
        match LifecycleKey::of(f) {
            Some(k) => {
                let resource = (k.account, k.resource_arn);
                match lane_of.get(&resource) {
                    Some(&l) => lanes[l].findings.push(i),
                    None => {
                        lane_of.insert(resource.clone(), lanes.len());
                        lanes.push(Lane {
                            resource: Some(resource),
                            findings: vec![i],
                            cleared: Vec::new(),
                        });
                    }
                }
            }
            None => lanes.push(Lane {
                resource: None,
                findings: vec![i],
                cleared: Vec::new(),
            }),
        }
    }
    for (resource, rules) in cleared
        .iter()
        .filter(|((_, arn), r)| !arn.is_empty() && !r.is_empty())
    {
        match lane_of.get(resource) {
            Some(&l) => lanes[l].cleared.extend(rules.iter().copied()),
            None => {
                lane_of.insert(resource.clone(), lanes.len());
                lanes.push(Lane {
                    resource: Some(resource.clone()),
                    findings: Vec::new(),
                    cleared: rules.clone(),
                });
            }
        }
    }
    let done: Vec<LaneResult> = stream::iter(lanes.iter())
        .map(|lane| Box::pin(track_resource(aws, tr, topic, event_id, &unique, lane, at)))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut indexed: Vec<(usize, Result<Tracked, AwsError>)> = Vec::new();
    let mut resolved: Vec<Tracked> = Vec::new();
    let mut resolve_error = None;
    for (records, resolutions) in done {
        indexed.extend(records);
        match resolutions {
            Ok(r) => resolved.extend(r),
            Err(e) => {
                tracing::error!(event_id, retryable = e.is_retryable(), error = %e, "resolving a cleared finding failed");
                resolve_error.get_or_insert(e);
            }
        }
    }
    indexed.sort_by_key(|(i, _)| *i);
    let results: Vec<Result<Tracked, AwsError>> = indexed.into_iter().map(|(_, r)| r).collect();
    let mut out = Vec::with_capacity(results.len());
    let mut first = None;
    for r in results {
        match r {
            Ok(t) => {
                tracing::info!(event_id, finding_id = %t.id, rule = %t.rule, resource = %t.resource,
                    transition = t.transition.map_or("none", Transition::as_str),
                    notified = t.message_id.is_some(), "finding recorded");
                out.push(t);
            }
            Err(e) => {
                tracing::error!(event_id, retryable = e.is_retryable(), error = %e, "recording a finding failed");
                first.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first.or(resolve_error) {
        return Err(err(event_id)(e));
    }
    if tr.hub.is_some() {
        // Every finding of the delivery (redeliveries too: an import is idempotent, same `Id`).
        let now = rfc3339(tr.now);
        let asff = unique
            .iter()
            .zip(&out)
            .map(|(f, t)| {
                let view = match (t.first_seen.clone(), t.last_seen.clone()) {
                    (Some(first_seen), Some(last_seen)) => Some(LifecycleView {
                        id: t.id.clone(),
                        transition: t.transition.unwrap_or(Transition::Unchanged),
                        state: t.state.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                        first_seen,
                        last_seen,
                        occurrences: 0,
                        resolved_reason: None,
                    }),
                    _ => None,
                };
                crate::asff::finding(f, view.as_ref(), &now)
            })
            .collect();
        import_asff(tr, event_id, asff).await.map_err(err(event_id))?;
    }
    Ok((out, resolved))
}

/// Resolves one exposure (no exposure judged, resource gone, remediation verified) and publishes the
/// resolved notice when it was open.
pub async fn resolve<P: Publish, S: FindingsStore, H: ImportFindings>(
    aws: &P,
    tr: &Tracker<'_, S, H>,
    topic: &str,
    key: &LifecycleKey,
    reason: ResolveReason,
    at: &str,
    event_id: &str,
) -> Result<Tracked, AwsError> {
    resolve_from(aws, tr, topic, key, reason, at, event_id, None).await
}

/// [`resolve`] deciding first from `read` when given (the item as a strongly consistent read found it),
/// as [`record_read_from`] does.
#[allow(clippy::too_many_arguments)]
async fn resolve_from<P: Publish, S: FindingsStore, H: ImportFindings>(
    aws: &P,
    tr: &Tracker<'_, S, H>,
    topic: &str,
    key: &LifecycleKey,
    reason: ResolveReason,
    at: &str,
    event_id: &str,
    read: Option<Option<LifecycleItem>>,
) -> Result<Tracked, AwsError> {
    let obs = Observation::Cleared {
        key,
        reason,
        at,
        event_id,
    };
    let (decision, _) = record_read_from(tr.store, &obs, tr.now, &tr.policy, read).await?;
    let severity = decision.item.as_ref().map_or(Severity::Low, |i| i.severity);
    let mut t = tracked_of(&decision, key.id(), &key.rule, &key.resource_arn, severity);
    t.message_id = notify(aws, tr, topic, &decision, |item, _| resolved_message(item)).await?;
    if let Some(item) = decision
        .item
        .as_ref()
        .filter(|i| i.state == LifecycleState::Resolved)
    {
        import_asff(tr, event_id, vec![crate::asff::resolved(item, &rfc3339(tr.now))]).await?;
    }
    Ok(t)
}

/// For the remediate use case: records a remediation of `f`. A verified remediation (`remediated`)
/// resolves the finding (and publishes the resolved notice); any other status counts an attempt and keeps
/// its outcome. `event_id` is the remediation's own id (e.g. the SNS message id), `at` its time (RFC 3339).
pub async fn record_remediation<P: Publish, S: FindingsStore, H: ImportFindings>(
    aws: &P,
    tr: &Tracker<'_, S, H>,
    topic: &str,
    f: &Finding,
    status: tripline_core::render::sns::RemediationStatus,
    at: &str,
    event_id: &str,
) -> Result<Option<Tracked>, AwsError> {
    use tripline_core::render::sns::RemediationStatus;
    let Some(key) = LifecycleKey::of(f) else {
        return Ok(None);
    };
    let attempt = Observation::RemediationAttempt {
        key: &key,
        outcome: status.as_str(),
        event_id,
    };
    let decision = record(tr.store, &attempt, tr.now, &tr.policy).await?;
    if status != RemediationStatus::Remediated {
        return Ok(Some(tracked_of(
            &decision,
            key.id(),
            &f.rule,
            &f.resource.arn,
            f.severity,
        )));
    }
    // A distinct id for the resolution, so the attempt just recorded is not taken for its redelivery.
    let resolution_id = format!("{event_id}#resolved");
    resolve(
        aws,
        tr,
        topic,
        &key,
        ResolveReason::Remediated,
        at,
        &resolution_id,
    )
    .await
    .map(Some)
}

/// What a tracked sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepLifecycle {
    /// Every finding and resolution recorded.
    pub tracked: Vec<Tracked>,
    /// Transition -> how many (the summary's `transitions`).
    pub counts: BTreeMap<String, u64>,
}

/// Which stored findings a sweep may resolve as gone when its (complete) listing no longer has their
/// resource: a whole-account sweep lists everything the sweep judges; a shard of the organization sweep
/// lists only its part of the account (`app::org::ShardView`), and must not resolve the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoneScope<'a> {
    /// Every resource of the account (the `sweep` function, `tripline scan`).
    Account,
    /// Resources whose ARN names no region (buckets, IAM, account settings): the global shard.
    Global,
    /// Resources whose ARN names this region: a regional shard.
    Region(&'a str),
}

impl GoneScope<'_> {
    /// Whether a listing of this scope would have listed the resource of `arn`.
    pub fn covers(&self, arn: &str) -> bool {
        let region = arn.split(':').nth(3).unwrap_or("");
        match self {
            GoneScope::Account => true,
            GoneScope::Global => region.is_empty(),
            GoneScope::Region(r) => region == *r,
        }
    }
}

/// The name of a resource for "still listed" checks: the last segment of its ARN (role and policy ARNs
/// from events may lack the path that listings include).
fn arn_tail(arn: &str) -> &str {
    arn.rsplit([':', '/']).next().unwrap_or(arn)
}

/// The sweep's lifecycle: records every finding of the assessment, resolves the findings of swept rules
/// that each assessed resource no longer raises, and, when `complete` (every resource listed was read),
/// resolves the swept rules' findings on resources of the account no longer listed (gone). Publishes
/// transitions only; the caller publishes one summary with [`SweepLifecycle::counts`]. `scope` bounds the
/// resolution of gone resources to what the listing covered.
#[allow(clippy::too_many_arguments)]
pub async fn sweep_tracked<P: Publish, S: FindingsStore, H: ImportFindings>(
    aws: &P,
    tr: &Tracker<'_, S, H>,
    topic: &str,
    event_id: &str,
    account: &str,
    at: &str,
    assessment: &AccountAssessment,
    complete: bool,
    scope: GoneScope<'_>,
) -> Result<SweepLifecycle, HandlerError> {
    let mut out = SweepLifecycle::default();
    let findings: Vec<Finding> = assessment
        .assessed
        .iter()
        .flat_map(|a| a.evaluation.findings.iter().cloned())
        .collect();
    out.tracked = Box::pin(publish_tracked(aws, tr, topic, event_id, &findings)).await?;
    let stored = tr
        .store
        .list(&ListFilter {
            account: Some(account.to_owned()),
            ..ListFilter::default()
        })
        .await
        .map_err(err(event_id))?;
    let listed: BTreeSet<(&str, &str)> = assessment
        .assessed
        .iter()
        .map(|a| (a.resource_type, arn_tail(&a.arn)))
        .collect();
    let by_arn: BTreeMap<&str, &super::assess::Assessed> =
        assessment.assessed.iter().map(|a| (a.arn.as_str(), a)).collect();
    for item in stored.iter().filter(|i| i.state != LifecycleState::Resolved) {
        let swept = swept_rules(&item.resource_type);
        if !swept.contains(&item.key.rule.as_str()) {
            continue;
        }
        let reason = match by_arn.get(item.key.resource_arn.as_str()) {
            Some(a) => {
                let cleared = cleared_rules(swept, &a.arn, &a.evaluation);
                if !cleared.contains(&item.key.rule.as_str()) {
                    continue;
                }
                ResolveReason::NotExposed
            }
            None if complete
                && scope.covers(&item.key.resource_arn)
                && !listed.contains(&(item.resource_type.as_str(), arn_tail(&item.key.resource_arn))) =>
            {
                ResolveReason::ResourceGone
            }
            None => continue,
        };
        let t = Box::pin(resolve(aws, tr, topic, &item.key, reason, at, event_id))
            .await
            .map_err(err(event_id))?;
        if t.transition.is_some() {
            out.tracked.push(t);
        }
    }
    for t in &out.tracked {
        if let Some(tr) = t.transition {
            *out.counts.entry(tr.as_str().to_owned()).or_default() += 1;
        }
    }
    Ok(out)
}
