//! The findings store: where each exposure's [`LifecycleItem`] lives (DynamoDB in the functions,
//! [`crate::sdk::dynamodb::DynamoStore`]; in memory in tests, [`crate::fakes::FakeStore`]).
//!
//! Every write is conditional on the version read ([`FindingsStore::put`]): a new item only if none
//! exists, an update only if the stored version is the one the transition was computed from. [`record`]
//! reads, applies the one transition function ([`tripline_core::lifecycle::apply`]) and writes, reading
//! again on a lost race, so N concurrent deliveries of one exposure produce exactly one `new`.
//!
//! Configuration (environment, validated at cold start): `TRIPLINE_FINDINGS_TABLE` (no table: no store,
//! behaviour as without one), `TRIPLINE_RENOTIFY_AFTER` (`7d` by default; `30m`, `12h`, `7d` or seconds),
//! `TRIPLINE_RESOLVED_TTL_DAYS` (days a resolved item is kept before DynamoDB's TTL deletes it; unset:
//! kept), `TRIPLINE_SECURITYHUB_IMPORT` (`true`: import findings into Security Hub as ASFF; needs the
//! store).

use std::collections::BTreeMap;
use std::future::Future;

use crate::env::EnvError;
use crate::AwsError;
use tripline_core::lifecycle::{
    apply, confirm_notified, parse_duration_secs, Decision, LifecycleItem, LifecycleKey, LifecycleState,
    Observation, Policy,
};

/// Result of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Written,
    /// The stored version was not the one expected (another delivery wrote first).
    Conflict,
}

/// A filter for [`FindingsStore::list`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// `None`: every state.
    pub state: Option<LifecycleState>,
    pub account: Option<String>,
    pub rule: Option<String>,
}

impl ListFilter {
    pub fn matches(&self, item: &LifecycleItem) -> bool {
        self.state.is_none_or(|s| item.state == s)
            && self.account.as_ref().is_none_or(|a| *a == item.key.account)
            && self.rule.as_ref().is_none_or(|r| *r == item.key.rule)
    }
}

/// Where lifecycle items are kept.
pub trait FindingsStore: Send + Sync {
    /// The item of one exposure (a strongly consistent read).
    fn get(&self, key: &LifecycleKey)
        -> impl Future<Output = Result<Option<LifecycleItem>, AwsError>> + Send;
    /// Writes `item` if the stored version is `item.version - 1` (no item when `item.version` is 1).
    fn put(&self, item: &LifecycleItem) -> impl Future<Output = Result<PutOutcome, AwsError>> + Send;
    /// Every rule's item for one resource of one account.
    fn resource_items(
        &self,
        account: &str,
        resource_arn: &str,
    ) -> impl Future<Output = Result<Vec<LifecycleItem>, AwsError>> + Send;
    /// Every item matching `filter` (the CLI; a full read of the table).
    fn list(&self, filter: &ListFilter) -> impl Future<Output = Result<Vec<LifecycleItem>, AwsError>> + Send;
}

/// The store's settings from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    pub table: String,
    pub policy: Policy,
    /// `TRIPLINE_SECURITYHUB_IMPORT` = `true`: findings are imported into the owning account's Security
    /// Hub as ASFF (and archived when they resolve).
    pub securityhub: bool,
}

impl StoreConfig {
    /// `None` when `TRIPLINE_FINDINGS_TABLE` is unset or empty.
    pub fn from_env_map(vars: &BTreeMap<String, String>) -> Result<Option<Self>, EnvError> {
        let Some(table) = vars
            .get("TRIPLINE_FINDINGS_TABLE")
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        let mut policy = Policy::default();
        if let Some(v) = vars
            .get("TRIPLINE_RENOTIFY_AFTER")
            .filter(|v| !v.trim().is_empty())
        {
            policy.renotify_after_secs = parse_duration_secs(v)
                .map_err(|e| EnvError::new("TRIPLINE_RENOTIFY_AFTER", e.to_string()))?;
        }
        if let Some(v) = vars
            .get("TRIPLINE_RESOLVED_TTL_DAYS")
            .filter(|v| !v.trim().is_empty())
        {
            let days = v.trim().parse::<u64>().ok().filter(|d| (1..=36_500).contains(d));
            policy.resolved_ttl_days = Some(days.ok_or_else(|| {
                EnvError::new(
                    "TRIPLINE_RESOLVED_TTL_DAYS",
                    format!(
                        "`{}` is not a number of days from 1 to 36500",
                        tripline_core::text::quote(v)
                    ),
                )
            })?);
        }
        let securityhub = match vars.get("TRIPLINE_SECURITYHUB_IMPORT").map(|v| v.trim()) {
            None | Some("" | "false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(EnvError::new(
                    "TRIPLINE_SECURITYHUB_IMPORT",
                    format!(
                        "should be `true` or `false`, found `{}`",
                        tripline_core::text::quote(other)
                    ),
                ))
            }
        };
        Ok(Some(Self {
            table: table.to_owned(),
            policy,
            securityhub,
        }))
    }
}

/// Attempts of [`record`] before giving up on a contended item (each lost race means another delivery
/// wrote; the error returned then is retryable).
pub const MAX_RECORD_ATTEMPTS: usize = 8;

/// Reads the item of `obs`, applies the transition function and writes the result conditionally, reading
/// again after a lost race. Returns the decision that was written (or needed no write).
pub async fn record<S: FindingsStore>(
    store: &S,
    obs: &Observation<'_>,
    now: i64,
    policy: &Policy,
) -> Result<Decision, AwsError> {
    record_read_from(store, obs, now, policy, None)
        .await
        .map(|(d, _)| d)
}

/// [`record`], also returning the stored item the decision was made from (`None`: nothing stored). When
/// the decision writes nothing (an unchanged finding, a redelivery) that item is the finding's current
/// record, so the caller need not read it again. The first attempt decides from `read` when given (the
/// item as a strongly consistent read of the resource's items found it, `None` inside: nothing stored)
/// instead of reading it again; a lost race reads the item itself, as always.
pub async fn record_read_from<S: FindingsStore>(
    store: &S,
    obs: &Observation<'_>,
    now: i64,
    policy: &Policy,
    mut read: Option<Option<LifecycleItem>>,
) -> Result<(Decision, Option<LifecycleItem>), AwsError> {
    let Some(key) = obs.key() else {
        return Ok((
            Decision {
                transition: None,
                item: None,
                notify: false,
            },
            None,
        ));
    };
    for _ in 0..MAX_RECORD_ATTEMPTS {
        let prior = match read.take() {
            Some(prior) => prior,
            None => store.get(&key).await?,
        };
        let decision = apply(prior.as_ref(), obs, now, policy)
            .map_err(|e| AwsError::new("tripline:lifecycle", crate::ErrorKind::Client, e.to_string()))?;
        let Some(item) = &decision.item else {
            return Ok((decision, prior));
        };
        match store.put(item).await? {
            PutOutcome::Written => return Ok((decision, prior)),
            PutOutcome::Conflict => continue,
        }
    }
    Err(AwsError::new(
        "dynamodb:PutItem",
        crate::ErrorKind::Throttling,
        format!(
            "finding `{}` kept changing under {MAX_RECORD_ATTEMPTS} attempts",
            key.id()
        ),
    ))
}

/// After a claimed notification was published: records it (a lost race is left alone: the notice went
/// out, and the newer writer owns the item).
pub async fn confirm<S: FindingsStore>(store: &S, item: &LifecycleItem, now: i64) -> Result<(), AwsError> {
    let next = confirm_notified(item, now);
    store.put(&next).await.map(|_| ())
}

/// The type of "no store" for the handlers' untracked paths (`Option::<&Tracker<NoStore>>::None`): it holds
/// nothing and every read finds nothing. Never given to a [`crate::app::lifecycle::Tracker`] by the
/// functions; a store is configured with `TRIPLINE_FINDINGS_TABLE`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStore;

impl FindingsStore for NoStore {
    async fn get(&self, _key: &LifecycleKey) -> Result<Option<LifecycleItem>, AwsError> {
        Ok(None)
    }
    async fn put(&self, _item: &LifecycleItem) -> Result<PutOutcome, AwsError> {
        Err(AwsError::new(
            "dynamodb:PutItem",
            crate::ErrorKind::Client,
            "no findings table is configured",
        ))
    }
    async fn resource_items(
        &self,
        _account: &str,
        _resource_arn: &str,
    ) -> Result<Vec<LifecycleItem>, AwsError> {
        Ok(Vec::new())
    }
    async fn list(&self, _filter: &ListFilter) -> Result<Vec<LifecycleItem>, AwsError> {
        Ok(Vec::new())
    }
}
