//! Finding lifecycle: what the findings store keeps per exposure, and the ONE transition function every
//! entry point (event, Config, sweep, CLI scan, remediate) uses.
//!
//! An exposure is identified by its account, rule and resource ARN ([`LifecycleKey`]), never by the event
//! that revealed it, so every event, Config evaluation and sweep that sees the same exposure updates one
//! [`LifecycleItem`]. [`apply`] takes the stored item (if any) and one [`Observation`] and returns the
//! [`Decision`]: the transition, the item to write (its `version` one above the stored one: the store
//! writes it only if the stored version is still the one read, so N concurrent deliveries of one
//! exposure produce exactly one `new`), and whether to notify.
//!
//! # Transitions
//!
//! | stored state | observation | transition | notified |
//! |---|---|---|---|
//! | none | exposure | `new` | yes |
//! | none | exposure, suppressed (exemption) | `suppressed` | no |
//! | open | same severity and evidence | `unchanged` | only when the last notice is older than `renotify_after` |
//! | open | other severity or evidence digest | `changed` | when the severity is higher, or re-notify is due |
//! | open | exposure, now suppressed | `suppressed` | no |
//! | suppressed | exposure, no longer suppressed | `unsuppressed` | yes (the exemption expired or was removed: the exposure is actionable again, as if new) |
//! | suppressed | exposure, still suppressed | `unchanged` | no |
//! | resolved | exposure | `reopened` | yes (`suppressed` and not notified when exempted meanwhile) |
//! | open / suppressed | no exposure / resource gone / remediation verified | `resolved` | yes when it was open |
//! | none / resolved | no exposure | nothing recorded | no |
//! | any | a remediation outcome other than verified | nothing changes but the attempts and last outcome | no |
//!
//! Idempotence: an observation carrying the event id the item last recorded is a redelivery (SNS,
//! EventBridge, a Lambda retry): nothing is written and nothing notified, except that a notification the
//! first delivery claimed and did not confirm ([`LifecycleItem::notify_pending`]) is claimed again once
//! [`Policy::notify_lease_secs`] has passed, so a failed publish is retried exactly once per lease, never
//! by every concurrent duplicate. An observation older than the item's `last_seen` (an event delivered
//! late) changes nothing either.
//!
//! Times: `first_seen` / `last_seen` are the observations' own times (the event's time, the sweep's start),
//! RFC 3339 as the finding carries them; notification times, leases and the resolved items' expiry are
//! epoch seconds of the wall clock the shell passes in (`now`): this module reads no clock.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::finding::{Finding, Severity};

/// Default `TRIPLINE_RENOTIFY_AFTER`: an unchanged open finding is re-notified at most every 7 days.
pub const DEFAULT_RENOTIFY_AFTER_SECS: u64 = 7 * 24 * 3600;
/// How long a claimed, unconfirmed notification belongs to the delivery that claimed it (SNS publishes
/// are bounded at 6 s per call; Lambda retries an async event after at least a minute).
pub const DEFAULT_NOTIFY_LEASE_SECS: u64 = 60;

/// A finding's place in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LifecycleState {
    Open,
    Resolved,
    Suppressed,
}

impl LifecycleState {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleState::Open => "open",
            LifecycleState::Resolved => "resolved",
            LifecycleState::Suppressed => "suppressed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(LifecycleState::Open),
            "resolved" => Some(LifecycleState::Resolved),
            "suppressed" => Some(LifecycleState::Suppressed),
            _ => None,
        }
    }
}

/// What one observation did to a finding (the SNS `transition` message attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transition {
    New,
    Unchanged,
    Changed,
    Resolved,
    Reopened,
    Suppressed,
    Unsuppressed,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::New => "new",
            Transition::Unchanged => "unchanged",
            Transition::Changed => "changed",
            Transition::Resolved => "resolved",
            Transition::Reopened => "reopened",
            Transition::Suppressed => "suppressed",
            Transition::Unsuppressed => "unsuppressed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Transition::New,
            Transition::Unchanged,
            Transition::Changed,
            Transition::Resolved,
            Transition::Reopened,
            Transition::Suppressed,
            Transition::Unsuppressed,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a finding resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResolveReason {
    /// An event, Config evaluation or sweep judged the same resource and rule and found no exposure.
    NotExposed,
    /// The resource no longer exists.
    ResourceGone,
    /// A remediation was applied and verified.
    Remediated,
}

impl ResolveReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ResolveReason::NotExposed => "not-exposed",
            ResolveReason::ResourceGone => "resource-gone",
            ResolveReason::Remediated => "remediated",
        }
    }

    /// The sentence renderers show.
    pub fn sentence(self) -> &'static str {
        match self {
            ResolveReason::NotExposed => "judged again: no longer exposed",
            ResolveReason::ResourceGone => "the resource no longer exists",
            ResolveReason::Remediated => "remediated by Tripline and verified",
        }
    }
}

/// The stable identity of an exposure.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LifecycleKey {
    pub account: String,
    pub rule: String,
    pub resource_arn: String,
}

impl LifecycleKey {
    /// The key of a finding, or `None` when the finding names no resource (`arn` ""): such a finding has
    /// no stable identity and is published as without a store, every time.
    pub fn of(f: &Finding) -> Option<Self> {
        (!f.resource.arn.is_empty() && !f.account.is_empty()).then(|| Self {
            account: f.account.clone(),
            rule: f.rule.clone(),
            resource_arn: f.resource.arn.clone(),
        })
    }

    /// The lifecycle finding id: the first 32 hex digits of sha256(account "\n" rule "\n" resource arn).
    /// Stable across events (unlike [`Finding::id`], which includes the event id).
    pub fn id(&self) -> String {
        hex32(&[&self.account, &self.rule, &self.resource_arn])
    }

    /// The store's partition key: account and resource, so one query finds every rule's item for a
    /// resource (what resolution needs).
    pub fn partition(&self) -> String {
        partition_key(&self.account, &self.resource_arn)
    }
}

/// The store's partition key of a resource in an account.
pub fn partition_key(account: &str, resource_arn: &str) -> String {
    format!("{account}|{resource_arn}")
}

fn hex32(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b"\n");
        }
        h.update(p.as_bytes());
    }
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A digest of what makes the exposure what it is: the evidence's reasons, statements and new-access
/// witnesses (not the actor or the event, which differ between two sightings of the same exposure).
pub fn evidence_digest(f: &Finding) -> String {
    let reasons = Value::from(f.evidence.reasons.clone());
    let statements = Value::Array(f.evidence.statements.clone());
    let access = serde_json::to_value(&f.evidence.new_access).unwrap_or(Value::Null);
    hex32(&[&reasons.to_string(), &statements.to_string(), &access.to_string()])
}

/// A notification claimed by a delivery and not yet confirmed published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingNotice {
    pub transition: Transition,
    /// Epoch seconds when it was claimed.
    pub claimed_at: i64,
}

/// One exposure as the findings store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleItem {
    pub key: LifecycleKey,
    /// [`LifecycleKey::id`].
    pub id: String,
    pub state: LifecycleState,
    pub severity: Severity,
    pub title: String,
    pub resource_type: String,
    pub region: String,
    /// RFC 3339: the first observation's time.
    pub first_seen: String,
    /// RFC 3339: the latest observation's time.
    pub last_seen: String,
    pub last_event_id: String,
    /// The last transition recorded.
    pub last_transition: Transition,
    /// How many observations found the exposure.
    pub occurrences: u64,
    /// Epoch seconds of the last confirmed notification.
    pub last_notified_at: Option<i64>,
    pub last_notified_transition: Option<Transition>,
    pub notify_pending: Option<PendingNotice>,
    pub remediation_attempts: u64,
    pub last_remediation_outcome: Option<String>,
    pub evidence_digest: String,
    pub resolved_reason: Option<ResolveReason>,
    /// Epoch seconds after which the store may delete a resolved item (DynamoDB TTL); `None` otherwise.
    pub expires_at: Option<i64>,
    /// Optimistic-concurrency version: 1 for a new item, +1 on every write.
    pub version: u64,
}

/// What was observed about one exposure.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation<'a> {
    /// A rule raised this finding (suppressed or not).
    Exposed(&'a Finding),
    /// The same resource and rule were judged and found not exposed, or the resource is gone, or a
    /// remediation was verified.
    Cleared {
        key: &'a LifecycleKey,
        reason: ResolveReason,
        /// RFC 3339 time of the judgement.
        at: &'a str,
        event_id: &'a str,
    },
    /// A remediation ran and did not (or not verifiably) remove the exposure: its status
    /// (`dry-run`, `skipped`, `failed`, `partial`, `unverified`).
    RemediationAttempt {
        key: &'a LifecycleKey,
        outcome: &'a str,
        event_id: &'a str,
    },
}

impl Observation<'_> {
    pub fn key(&self) -> Option<LifecycleKey> {
        match self {
            Observation::Exposed(f) => LifecycleKey::of(f),
            Observation::Cleared { key, .. } | Observation::RemediationAttempt { key, .. } => {
                Some((*key).clone())
            }
        }
    }

    fn event_id(&self) -> &str {
        match self {
            Observation::Exposed(f) => &f.event.id,
            Observation::Cleared { event_id, .. } | Observation::RemediationAttempt { event_id, .. } => {
                event_id
            }
        }
    }
}

/// The notification policy and retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `TRIPLINE_RENOTIFY_AFTER` in seconds.
    pub renotify_after_secs: u64,
    pub notify_lease_secs: u64,
    /// Days a resolved item is kept before DynamoDB's TTL may delete it; `None`: kept.
    pub resolved_ttl_days: Option<u64>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            renotify_after_secs: DEFAULT_RENOTIFY_AFTER_SECS,
            notify_lease_secs: DEFAULT_NOTIFY_LEASE_SECS,
            resolved_ttl_days: None,
        }
    }
}

/// Parses a duration such as `7d`, `12h`, `30m`, `90s` or a plain number of seconds
/// (`TRIPLINE_RENOTIFY_AFTER`). Zero is refused (it would notify every sighting).
pub fn parse_duration_secs(s: &str) -> Result<u64, LifecycleError> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'd')) => (&t[..i], 86_400),
        Some((i, 'h')) => (&t[..i], 3_600),
        Some((i, 'm')) => (&t[..i], 60),
        Some((i, 's')) => (&t[..i], 1),
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| LifecycleError::Duration(crate::text::quote(s)))
}

/// Bad input to [`apply`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LifecycleError {
    #[error("observation time `{0}` is not RFC 3339")]
    Time(String),
    #[error("duration `{0}` is not a positive number of seconds, or of minutes, hours or days (`30m`, `12h`, `7d`)")]
    Duration(String),
}

/// What [`apply`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `None`: nothing to record (no exposure and nothing stored, a stale observation).
    pub transition: Option<Transition>,
    /// What to write, conditioned on the stored version being `item.version - 1` (absent when 1);
    /// `None`: write nothing (a redelivery, nothing to record).
    pub item: Option<LifecycleItem>,
    /// Whether this delivery must publish the notification (it was claimed in `item.notify_pending`;
    /// confirm it with [`confirm_notified`] after publishing).
    pub notify: bool,
}

impl Decision {
    fn nothing(transition: Option<Transition>) -> Self {
        Self {
            transition,
            item: None,
            notify: false,
        }
    }
}

fn parse_time(s: &str) -> Result<OffsetDateTime, LifecycleError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|_| LifecycleError::Time(crate::text::quote(s)))
}

/// The one transition function. `prior` is the stored item for the observation's key (if any); `now` is
/// the wall clock in epoch seconds.
pub fn apply(
    prior: Option<&LifecycleItem>,
    obs: &Observation<'_>,
    now: i64,
    policy: &Policy,
) -> Result<Decision, LifecycleError> {
    // A redelivery of the observation the item last recorded.
    if let Some(p) = prior {
        if p.last_event_id == obs.event_id() {
            return Ok(redelivery(p, now, policy));
        }
    }
    match obs {
        Observation::Exposed(f) => exposed(prior, f, now, policy),
        Observation::Cleared {
            reason, at, event_id, ..
        } => cleared(prior, *reason, at, event_id, now, policy),
        Observation::RemediationAttempt {
            outcome, event_id, ..
        } => Ok(match prior {
            None => Decision::nothing(None),
            Some(p) => {
                let mut item = next_version(p);
                item.remediation_attempts = item.remediation_attempts.saturating_add(1);
                item.last_remediation_outcome = Some((*outcome).to_owned());
                item.last_event_id = (*event_id).to_owned();
                Decision {
                    transition: None,
                    item: Some(item),
                    notify: false,
                }
            }
        }),
    }
}

fn redelivery(p: &LifecycleItem, now: i64, policy: &Policy) -> Decision {
    match p.notify_pending {
        Some(pending) if now.saturating_sub(pending.claimed_at) >= lease(policy) => {
            let mut item = next_version(p);
            item.notify_pending = Some(PendingNotice {
                transition: pending.transition,
                claimed_at: now,
            });
            Decision {
                transition: Some(pending.transition),
                item: Some(item),
                notify: true,
            }
        }
        _ => Decision::nothing(Some(Transition::Unchanged)),
    }
}

fn lease(policy: &Policy) -> i64 {
    i64::try_from(policy.notify_lease_secs).unwrap_or(i64::MAX)
}

fn next_version(p: &LifecycleItem) -> LifecycleItem {
    let mut item = p.clone();
    item.version = p.version.saturating_add(1);
    item
}

fn stale(p: &LifecycleItem, at: &OffsetDateTime) -> bool {
    parse_time(&p.last_seen).is_ok_and(|last| *at < last)
}

fn renotify_due(p: &LifecycleItem, now: i64, policy: &Policy) -> bool {
    let after = i64::try_from(policy.renotify_after_secs).unwrap_or(i64::MAX);
    match p.last_notified_at {
        Some(t) => now.saturating_sub(t) >= after,
        None => true,
    }
}

fn exposed(
    prior: Option<&LifecycleItem>,
    f: &Finding,
    now: i64,
    policy: &Policy,
) -> Result<Decision, LifecycleError> {
    let Some(key) = LifecycleKey::of(f) else {
        return Ok(Decision::nothing(None));
    };
    let at = parse_time(&f.event.time)?;
    let digest = evidence_digest(f);
    let suppressed = f.suppressed.is_some();
    let Some(p) = prior else {
        let (state, transition) = if suppressed {
            (LifecycleState::Suppressed, Transition::Suppressed)
        } else {
            (LifecycleState::Open, Transition::New)
        };
        let item = LifecycleItem {
            id: key.id(),
            key,
            state,
            severity: f.severity,
            title: f.title.clone(),
            resource_type: f.resource.resource_type.clone(),
            region: f.region.clone(),
            first_seen: f.event.time.clone(),
            last_seen: f.event.time.clone(),
            last_event_id: f.event.id.clone(),
            last_transition: transition,
            occurrences: 1,
            last_notified_at: None,
            last_notified_transition: None,
            notify_pending: None,
            remediation_attempts: 0,
            last_remediation_outcome: None,
            evidence_digest: digest,
            resolved_reason: None,
            expires_at: None,
            version: 1,
        };
        return Ok(claim(item, transition, !suppressed, now));
    };
    if stale(p, &at) {
        return Ok(Decision::nothing(None));
    }
    let (state, transition, notify) = match (p.state, suppressed) {
        (LifecycleState::Resolved, true) => (LifecycleState::Suppressed, Transition::Suppressed, false),
        (LifecycleState::Resolved, false) => (LifecycleState::Open, Transition::Reopened, true),
        (LifecycleState::Open, true) => (LifecycleState::Suppressed, Transition::Suppressed, false),
        (LifecycleState::Suppressed, false) => (LifecycleState::Open, Transition::Unsuppressed, true),
        (LifecycleState::Suppressed, true) => (LifecycleState::Suppressed, Transition::Unchanged, false),
        (LifecycleState::Open, false) => {
            if f.severity != p.severity || digest != p.evidence_digest {
                let higher = f.severity > p.severity;
                (
                    LifecycleState::Open,
                    Transition::Changed,
                    higher || renotify_due(p, now, policy),
                )
            } else {
                (
                    LifecycleState::Open,
                    Transition::Unchanged,
                    renotify_due(p, now, policy),
                )
            }
        }
    };
    let mut item = next_version(p);
    item.state = state;
    item.severity = f.severity;
    item.title = f.title.clone();
    item.region = f.region.clone();
    item.last_seen = f.event.time.clone();
    item.last_event_id = f.event.id.clone();
    item.last_transition = transition;
    item.occurrences = p.occurrences.saturating_add(1);
    item.evidence_digest = digest;
    if p.state == LifecycleState::Resolved {
        item.resolved_reason = None;
        item.expires_at = None;
    }
    Ok(claim(item, transition, notify, now))
}

/// Claims the notification in the item written (confirmed by [`confirm_notified`]).
fn claim(mut item: LifecycleItem, transition: Transition, notify: bool, now: i64) -> Decision {
    item.notify_pending = notify.then_some(PendingNotice {
        transition,
        claimed_at: now,
    });
    Decision {
        transition: Some(transition),
        item: Some(item),
        notify,
    }
}

fn cleared(
    prior: Option<&LifecycleItem>,
    reason: ResolveReason,
    at: &str,
    event_id: &str,
    now: i64,
    policy: &Policy,
) -> Result<Decision, LifecycleError> {
    let at_t = parse_time(at)?;
    let Some(p) = prior else {
        return Ok(Decision::nothing(None));
    };
    if p.state == LifecycleState::Resolved || stale(p, &at_t) {
        return Ok(Decision::nothing(None));
    }
    let mut item = next_version(p);
    item.state = LifecycleState::Resolved;
    item.last_seen = at.to_owned();
    item.last_event_id = event_id.to_owned();
    item.last_transition = Transition::Resolved;
    item.resolved_reason = Some(reason);
    item.expires_at = policy
        .resolved_ttl_days
        .map(|d| now.saturating_add(i64::try_from(d.saturating_mul(86_400)).unwrap_or(i64::MAX)));
    let notify = p.state == LifecycleState::Open;
    Ok(claim(item, Transition::Resolved, notify, now))
}

/// The item after its claimed notification was published: the pending claim becomes the last
/// notification (written conditioned on the version, like every write).
pub fn confirm_notified(item: &LifecycleItem, now: i64) -> LifecycleItem {
    let mut next = next_version(item);
    if let Some(p) = next.notify_pending.take() {
        next.last_notified_at = Some(now);
        next.last_notified_transition = Some(p.transition);
    }
    next
}

/// The rules a sweep judges on a resource of `resource_type` (the same ones `rules::assess_*` run): a
/// resource swept without a finding of one of these rules (and without its error) is judged clear of it.
pub fn swept_rules(resource_type: &str) -> &'static [&'static str] {
    crate::rules::assessed_rule_ids(resource_type)
}

/// Which of `judged` rules found nothing on `resource_arn`: no finding of the rule on that resource and no
/// error of the rule (a failed judgement clears nothing).
pub fn cleared_rules<'r>(
    judged: &[&'r str],
    resource_arn: &str,
    evaluation: &crate::rules::Evaluation,
) -> Vec<&'r str> {
    judged
        .iter()
        .copied()
        .filter(|rule| {
            !evaluation
                .findings
                .iter()
                .any(|f| f.rule == *rule && f.resource.arn == resource_arn)
                && !evaluation.errors.iter().any(|e| e.rule == *rule)
        })
        .collect()
}
