//! Use case: the organization-wide sweep (issue 13), split into shards that a queue and Lambda scaling run.
//!
//! - **Plan** ([`plan`]): one *global* shard per account (IAM, the S3 bucket list, account-level settings:
//!   everything [`crate::app::assess`] reads through account-wide listings) and one shard per (account,
//!   region) for regional kinds. The planner sends one message per shard ([`ShardMessage`]) and records the
//!   plan ([`RunStore::plan`]).
//! - **Shard** ([`assess_shard`]): the same per-account entry point as the single-account sweep,
//!   [`assess_account_until`], over a [`ShardView`] of the account's clients in the shard's region: a
//!   global shard sees every listing, a regional shard sees no account-wide listing (so no bucket, policy or
//!   role is judged twice). A listing trait added for a regional kind must be delegated by `ShardView` in
//!   regional shards and answered empty in the global one (see the impls below).
//! - **Outcome** ([`ShardOutcome`]): `done`, `incomplete` (some resources unreadable) or `failed` with a
//!   reason class ([`FailureReason`]: access denied, throttled, timed out, error), recorded once per shard.
//! - **Summary** ([`RunSummary`]): when the last shard reports, or at the run's deadline, exactly one
//!   summary is published (the store's conditional claim, [`RunStore::claim_summary`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::assess::{assess_account_until, AccountAssessment};
use crate::{
    AwsError, ErrorKind, IamRead, ManagedPolicyInfo, PolicyVersionInfo, PrincipalRef, RoleInfo, S3Read,
};
use tripline_core::finding::{Finding, Severity};
use tripline_core::render::sns::{sanitize_subject, SnsMessage};
use tripline_core::rules::SweepContext;
use tripline_core::settings::RuleConfig;
use tripline_core::state::PublicAccessBlock;

/// `global`: the shard of account-wide listings.
pub const GLOBAL: &str = "global";

/// What one shard covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Shard {
    pub account: String,
    /// [`GLOBAL`] or a region name.
    pub scope: String,
}

impl Shard {
    pub fn is_global(&self) -> bool {
        self.scope == GLOBAL
    }

    /// The store's key of the shard: `<account>#<scope>`.
    pub fn key(&self) -> String {
        format!("{}#{}", self.account, self.scope)
    }

    /// The region the shard's clients use: its own, or `home_region` for the global shard (IAM is global;
    /// each bucket's reads go to the bucket's region whatever the client's).
    pub fn region<'a>(&'a self, home_region: &'a str) -> &'a str {
        if self.is_global() {
            home_region
        } else {
            &self.scope
        }
    }
}

/// A message on the shard queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ShardMessage {
    /// Assess one shard of run `run`, planned at `time` (RFC 3339: the findings' time).
    Shard {
        run: String,
        time: String,
        account: String,
        scope: String,
    },
    /// The run's deadline: publish the summary if it has not been (shards not reported by then are
    /// "timed out").
    Deadline { run: String },
}

impl ShardMessage {
    pub fn run(&self) -> &str {
        match self {
            Self::Shard { run, .. } | Self::Deadline { run } => run,
        }
    }
}

/// What the planner decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPlan {
    pub run: String,
    /// RFC 3339.
    pub time: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub shards: Vec<Shard>,
    /// Seconds since the epoch after which the summary goes out whatever has reported.
    pub deadline_epoch: u64,
}

/// Errors of planning: bad account ids or region names in the configuration.
pub fn plan(
    run: &str,
    time: &str,
    accounts: &[String],
    regions: &[String],
    deadline_epoch: u64,
) -> Result<RunPlan, String> {
    let mut accounts: Vec<String> = accounts.iter().map(|a| a.trim().to_owned()).collect();
    accounts.retain(|a| !a.is_empty());
    accounts.sort();
    accounts.dedup();
    if let Some(bad) = accounts
        .iter()
        .find(|a| !tripline_core::resource_kind::is_account_id(a))
    {
        return Err(format!(
            "account `{}` is not a 12-digit account id",
            tripline_core::text::quote(bad)
        ));
    }
    let mut regions: Vec<String> = regions.iter().map(|r| r.trim().to_owned()).collect();
    regions.retain(|r| !r.is_empty());
    regions.sort();
    regions.dedup();
    if let Some(bad) = regions.iter().find(|r| !is_region_name(r)) {
        return Err(format!(
            "region `{}` is not a region name",
            tripline_core::text::quote(bad)
        ));
    }
    let mut shards = Vec::with_capacity(accounts.len() * (regions.len() + 1));
    for a in &accounts {
        shards.push(Shard {
            account: a.clone(),
            scope: GLOBAL.to_owned(),
        });
        for r in &regions {
            shards.push(Shard {
                account: a.clone(),
                scope: r.clone(),
            });
        }
    }
    Ok(RunPlan {
        run: run.to_owned(),
        time: time.to_owned(),
        accounts,
        regions,
        shards,
        deadline_epoch,
    })
}

/// `xx-name-N` (lowercase letters, digits and dashes, at most 32 characters, not `global`).
pub fn is_region_name(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 32
        && r != GLOBAL
        && r.contains('-')
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Why a shard failed (the summary groups by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureReason {
    /// The member role could not be assumed, or a listing was refused.
    AccessDenied,
    Throttled,
    /// The shard's invocation reached its deadline, or never reported before the run's deadline.
    TimedOut,
    Error,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessDenied => "access-denied",
            Self::Throttled => "throttled",
            Self::TimedOut => "timed-out",
            Self::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "access-denied" => Self::AccessDenied,
            "throttled" => Self::Throttled,
            "timed-out" => Self::TimedOut,
            _ => Self::Error,
        }
    }

    pub fn of(e: &AwsError) -> Self {
        match e.kind {
            ErrorKind::AccessDenied => Self::AccessDenied,
            ErrorKind::Throttling => Self::Throttled,
            ErrorKind::Timeout => Self::TimedOut,
            _ => Self::Error,
        }
    }
}

/// A shard's status in the run record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardStatus {
    Planned,
    Done,
    /// Assessed, but some resources could not be read.
    Incomplete,
    Failed,
}

impl ShardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Done => "done",
            Self::Incomplete => "incomplete",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "planned" => Self::Planned,
            "done" => Self::Done,
            "incomplete" => Self::Incomplete,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// What one shard recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardOutcome {
    pub shard: Shard,
    pub status: ShardStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
    /// The error or what was left unread, one line.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Unsuppressed findings by severity.
    pub findings: BTreeMap<Severity, u64>,
    pub suppressed: u64,
    /// Resources judged.
    pub checked: u64,
    /// Resources that could not be read (and rule errors).
    pub errors: u64,
    /// With the findings store: lifecycle transition -> how many this shard recorded (`new`, `resolved`...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub transitions: BTreeMap<String, u64>,
}

impl ShardOutcome {
    pub fn failed(shard: &Shard, e: &AwsError) -> Self {
        Self::failed_with(shard, FailureReason::of(e), e.to_string())
    }

    pub fn failed_with(shard: &Shard, reason: FailureReason, detail: String) -> Self {
        Self {
            shard: shard.clone(),
            status: ShardStatus::Failed,
            reason: Some(reason),
            detail: tripline_core::text::quote(&detail),
            findings: BTreeMap::new(),
            suppressed: 0,
            checked: 0,
            errors: 0,
            transitions: BTreeMap::new(),
        }
    }

    /// The outcome of an assessment: `done`, `incomplete` (read errors), or `failed` / `timed-out` when
    /// the deadline left resources unread.
    pub fn of_assessment(shard: &Shard, a: &AccountAssessment) -> Self {
        let mut findings: BTreeMap<Severity, u64> = BTreeMap::new();
        let mut suppressed = 0;
        let mut rule_errors = 0u64;
        for r in &a.assessed {
            rule_errors += r.evaluation.errors.len() as u64;
            for f in &r.evaluation.findings {
                match f.suppressed {
                    Some(_) => suppressed += 1,
                    None => *findings.entry(f.severity).or_default() += 1,
                }
            }
        }
        let errors = a.errors.len() as u64 + rule_errors;
        let (status, reason, detail) = if a.deadline_hit() {
            (
                ShardStatus::Failed,
                Some(FailureReason::TimedOut),
                format!("{} resource(s) not read before the deadline", a.unread.len()),
            )
        } else if errors > 0 {
            let first = a
                .errors
                .first()
                .cloned()
                .unwrap_or_else(|| "rule errors".to_owned());
            (
                ShardStatus::Incomplete,
                None,
                format!("{errors} error(s), first: {first}"),
            )
        } else {
            (ShardStatus::Done, None, String::new())
        };
        Self {
            shard: shard.clone(),
            status,
            reason,
            detail: tripline_core::text::quote(&detail),
            findings,
            suppressed,
            checked: a.checked.values().sum(),
            errors,
            transitions: BTreeMap::new(),
        }
    }
}

/// Every finding of an assessment, in order.
pub fn findings_of(a: &AccountAssessment) -> Vec<Finding> {
    a.assessed
        .iter()
        .flat_map(|r| r.evaluation.findings.iter().cloned())
        .collect()
}

/// The account's clients as one shard sees them: see the module docs.
#[derive(Debug)]
pub struct ShardView<'a, D> {
    pub inner: &'a D,
    pub global: bool,
}

impl<D: S3Read> S3Read for ShardView<'_, D> {
    async fn list_buckets(&self) -> Result<Vec<String>, AwsError> {
        if self.global {
            self.inner.list_buckets().await
        } else {
            Ok(Vec::new())
        }
    }
    async fn bucket_policy(&self, bucket: &str) -> Result<Option<Value>, AwsError> {
        self.inner.bucket_policy(bucket).await
    }
    async fn bucket_acl(&self, bucket: &str) -> Result<Value, AwsError> {
        self.inner.bucket_acl(bucket).await
    }
    async fn bucket_public_access_block(&self, bucket: &str) -> Result<Option<PublicAccessBlock>, AwsError> {
        self.inner.bucket_public_access_block(bucket).await
    }
    async fn bucket_tags(&self, bucket: &str) -> Result<BTreeMap<String, String>, AwsError> {
        self.inner.bucket_tags(bucket).await
    }
    async fn account_public_access_block(
        &self,
        account_id: &str,
    ) -> Result<Option<PublicAccessBlock>, AwsError> {
        // An account-level setting: read by the global shard only.
        if self.global {
            self.inner.account_public_access_block(account_id).await
        } else {
            Ok(None)
        }
    }
    fn note_bucket_region(&self, bucket: &str, region: &str) {
        self.inner.note_bucket_region(bucket, region);
    }
}

impl<D: IamRead> IamRead for ShardView<'_, D> {
    async fn list_policy_versions(&self, policy_arn: &str) -> Result<Vec<PolicyVersionInfo>, AwsError> {
        self.inner.list_policy_versions(policy_arn).await
    }
    async fn policy_version_document(&self, policy_arn: &str, version_id: &str) -> Result<Value, AwsError> {
        self.inner.policy_version_document(policy_arn, version_id).await
    }
    async fn policy_tags(&self, policy_arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        self.inner.policy_tags(policy_arn).await
    }
    async fn role_trust_policy(&self, role_name: &str) -> Result<Value, AwsError> {
        self.inner.role_trust_policy(role_name).await
    }
    async fn role_tags(&self, role_name: &str) -> Result<BTreeMap<String, String>, AwsError> {
        self.inner.role_tags(role_name).await
    }
    async fn list_local_policies(&self) -> Result<Vec<ManagedPolicyInfo>, AwsError> {
        if self.global {
            self.inner.list_local_policies().await
        } else {
            Ok(Vec::new())
        }
    }
    async fn list_roles(&self) -> Result<Vec<RoleInfo>, AwsError> {
        if self.global {
            self.inner.list_roles().await
        } else {
            Ok(Vec::new())
        }
    }
    async fn attached_policies(&self, principal: &PrincipalRef) -> Result<Vec<String>, AwsError> {
        self.inner.attached_policies(principal).await
    }
}

/// The customer-duty reads as one shard sees them: the account password policy in the global shard, the
/// regional families (network ACLs, RDS, patch compliance) in each regional shard for its own region only.
impl<D: crate::DutiesRead> crate::DutiesRead for ShardView<'_, D> {
    async fn account_password_policy(&self) -> Result<Option<Value>, AwsError> {
        self.inner.account_password_policy().await
    }
    async fn enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        // A regional shard reads its own region: the assessment's context region (no listing).
        Ok(Vec::new())
    }
    async fn network_acls(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.inner.network_acls(region).await
    }
    async fn db_instances(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.inner.db_instances(region).await
    }
    async fn db_instance(&self, region: &str, identifier: &str) -> Result<Option<Value>, AwsError> {
        self.inner.db_instance(region, identifier).await
    }
    async fn db_clusters(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.inner.db_clusters(region).await
    }
    async fn patch_compliance_items(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.inner.patch_compliance_items(region).await
    }
    fn reads_account_settings(&self) -> bool {
        self.global
    }
    fn reads_regional(&self) -> bool {
        !self.global
    }
}

/// The account-level state (issue 16) is regional: each regional shard reads its own region (the
/// assessment passes it only when `reads_regional`); account Block Public Access follows
/// `reads_account_settings`.
impl<D: crate::AccountStateRead> crate::AccountStateRead for ShardView<'_, D> {
    async fn trails(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.inner.trails(region).await
    }
    async fn configuration_recorders(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.inner.configuration_recorders(region).await
    }
    async fn guardduty_detectors(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.inner.guardduty_detectors(region).await
    }
    async fn ebs_encryption_by_default(&self, region: &str) -> Result<Option<bool>, AwsError> {
        self.inner.ebs_encryption_by_default(region).await
    }
    async fn security_groups(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.inner.security_groups(region).await
    }
}

/// The swept kinds (snapshots, AMIs, resource policies) are regional: read by each regional shard with the
/// account's clients in its region, never by the global shard.
impl<D: crate::ExposureRead> crate::ExposureRead for ShardView<'_, D> {
    async fn list_swept(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
        region: &str,
    ) -> Result<Vec<crate::Listed>, AwsError> {
        if self.global {
            Ok(Vec::new())
        } else {
            self.inner.list_swept(kind, region).await
        }
    }
    async fn read_exposure(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
        region: &str,
        id: &str,
    ) -> Result<tripline_core::rules::external::Exposure, AwsError> {
        self.inner.read_exposure(kind, region, id).await
    }
    async fn swept_tags(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
        region: &str,
        id: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        self.inner.swept_tags(kind, region, id).await
    }
}

/// Assesses one shard with the account's clients (already in the shard's region): the findings carry the
/// shard's account. `Err` only when a listing failed (the shard then failed, [`FailureReason::of`]).
pub async fn assess_shard<D: S3Read + IamRead + crate::DutiesRead + crate::ExposureRead>(
    aws: &D,
    shard: &Shard,
    region: &str,
    time: &str,
    rules_cfg: &RuleConfig,
    concurrency: usize,
    cutoff: Option<Instant>,
) -> Result<AccountAssessment, AwsError> {
    let view = ShardView {
        inner: aws,
        global: shard.is_global(),
    };
    let ctx = SweepContext {
        account: &shard.account,
        region,
        time,
    };
    assess_account_until(&view, rules_cfg, &ctx, concurrency, cutoff).await
}

/// What the store knows of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunRecord {
    pub run: String,
    pub time: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub planned: u64,
    pub reported: u64,
    pub deadline_epoch: u64,
    /// When the summary was claimed (RFC 3339), if it was.
    pub summary_at: Option<String>,
    /// Every shard, reported or not.
    pub shards: Vec<ShardOutcome>,
}

/// Whether a shard's report was the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    First,
    /// The shard had already reported (a redelivered message): nothing changed.
    Already,
}

/// The run records (DynamoDB in `crate::sdk::runs`; in memory in the tests).
pub trait RunStore: Send + Sync {
    /// Records the plan: the run and every shard as `planned`. Idempotent (a retried planner
    /// invocation with the same run id changes nothing).
    fn plan(&self, plan: &RunPlan) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The shard's status, if the run knows it.
    fn shard_status(
        &self,
        run: &str,
        shard: &Shard,
    ) -> impl Future<Output = Result<Option<ShardStatus>, AwsError>> + Send;
    /// Records a shard's outcome once (only over `planned`) and counts it on the run.
    fn report(
        &self,
        run: &str,
        outcome: &ShardOutcome,
    ) -> impl Future<Output = Result<Reported, AwsError>> + Send;
    /// The run and its shards (strongly consistent).
    fn run(&self, run: &str) -> impl Future<Output = Result<Option<RunRecord>, AwsError>> + Send;
    /// Claims the run's summary: `true` for exactly one caller.
    fn claim_summary(&self, run: &str, at: &str) -> impl Future<Output = Result<bool, AwsError>> + Send;
    /// Gives a claim back (its summary could not be published), only if it is still `at`'s.
    fn release_summary(&self, run: &str, at: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// One failed shard in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedShard {
    pub account: String,
    pub scope: String,
    pub reason: FailureReason,
    pub detail: String,
}

/// The one summary of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run: String,
    pub time: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub shards_planned: u64,
    pub shards_done: u64,
    pub shards_incomplete: u64,
    /// Accounts whose every shard is done (nothing failed or incomplete).
    pub accounts_complete: Vec<String>,
    pub failed: Vec<FailedShard>,
    /// Shards assessed with read errors: `<account>/<scope>: detail`.
    pub incomplete: Vec<String>,
    pub findings: BTreeMap<Severity, u64>,
    pub suppressed: u64,
    pub checked: u64,
    /// With the findings store: lifecycle transitions of the run (`new`, `reopened`, `resolved`...), the
    /// only findings the shards published.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub transitions: BTreeMap<String, u64>,
    /// `true` when the summary went out at the deadline with shards unreported (those are in `failed`
    /// as `timed-out`).
    pub deadline: bool,
}

/// The summary of what the store holds; shards still `planned` count as timed out (the deadline).
pub fn summarize(r: &RunRecord) -> RunSummary {
    let mut s = RunSummary {
        run: r.run.clone(),
        time: r.time.clone(),
        accounts: r.accounts.clone(),
        regions: r.regions.clone(),
        shards_planned: r.planned,
        shards_done: 0,
        shards_incomplete: 0,
        accounts_complete: Vec::new(),
        failed: Vec::new(),
        incomplete: Vec::new(),
        findings: BTreeMap::new(),
        suppressed: 0,
        checked: 0,
        transitions: BTreeMap::new(),
        deadline: false,
    };
    let mut bad_accounts = std::collections::BTreeSet::new();
    for o in &r.shards {
        for (sev, n) in &o.findings {
            *s.findings.entry(*sev).or_default() += n;
        }
        s.suppressed += o.suppressed;
        s.checked += o.checked;
        for (t, n) in &o.transitions {
            *s.transitions.entry(t.clone()).or_default() += n;
        }
        match o.status {
            ShardStatus::Done => s.shards_done += 1,
            ShardStatus::Incomplete => {
                s.shards_incomplete += 1;
                bad_accounts.insert(o.shard.account.clone());
                s.incomplete
                    .push(format!("{}/{}: {}", o.shard.account, o.shard.scope, o.detail));
            }
            ShardStatus::Failed => {
                bad_accounts.insert(o.shard.account.clone());
                s.failed.push(FailedShard {
                    account: o.shard.account.clone(),
                    scope: o.shard.scope.clone(),
                    reason: o.reason.unwrap_or(FailureReason::Error),
                    detail: o.detail.clone(),
                });
            }
            ShardStatus::Planned => {
                s.deadline = true;
                bad_accounts.insert(o.shard.account.clone());
                s.failed.push(FailedShard {
                    account: o.shard.account.clone(),
                    scope: o.shard.scope.clone(),
                    reason: FailureReason::TimedOut,
                    detail: "no report before the run's deadline".to_owned(),
                });
            }
        }
    }
    s.accounts_complete = r
        .accounts
        .iter()
        .filter(|a| !bad_accounts.contains(*a))
        .cloned()
        .collect();
    s
}

/// The SNS publish of a run summary: `kind` summary, `rule` sweep, `remediation` none, `severity` the
/// highest found (else low), `account` the home account.
pub fn summary_message(s: &RunSummary, home_account: &str) -> SnsMessage {
    let total: u64 = s.findings.values().sum();
    let highest = s
        .findings
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(sev, _)| *sev)
        .max()
        .unwrap_or(Severity::Low);
    let failed_accounts: std::collections::BTreeSet<&str> =
        s.failed.iter().map(|f| f.account.as_str()).collect();
    let mut text = format!(
        "Tripline organization sweep {} at {}\n\nAccounts: {} planned, {} complete, {} with failed shards\nRegions: {}\nShards: {} planned, {} done, {} incomplete, {} failed\nResources checked: {}\n\nFindings: {total} (suppressed: {})\n",
        s.run,
        s.time,
        s.accounts.len(),
        s.accounts_complete.len(),
        failed_accounts.len(),
        if s.regions.is_empty() { "(global only)".to_owned() } else { s.regions.join(", ") },
        s.shards_planned,
        s.shards_done,
        s.shards_incomplete,
        s.failed.len(),
        s.checked,
        s.suppressed,
    );
    for sev in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        if let Some(n) = s.findings.get(&sev) {
            text.push_str(&format!("  {}: {n}\n", sev.as_str()));
        }
    }
    if !s.transitions.is_empty() {
        let list: Vec<String> = s.transitions.iter().map(|(t, n)| format!("{t} {n}")).collect();
        text.push_str(&format!("Changes since the last run: {}\n", list.join(", ")));
    }
    if s.deadline {
        text.push_str("\nINCOMPLETE: the run's deadline came before every shard reported.\n");
    }
    if !s.failed.is_empty() {
        text.push_str(&format!("\nFailed shards ({}):\n", s.failed.len()));
        for f in s.failed.iter().take(200) {
            text.push_str(&format!(
                "  - {} {}: {} ({})\n",
                f.account,
                f.scope,
                f.reason.as_str(),
                f.detail
            ));
        }
    }
    if !s.incomplete.is_empty() {
        text.push_str(&format!("\nIncomplete shards ({}):\n", s.incomplete.len()));
        for i in s.incomplete.iter().take(200) {
            text.push_str(&format!("  - {i}\n"));
        }
    }
    let mut doc = serde_json::to_value(s).unwrap_or(Value::Null);
    // SNS accepts 256 KiB: a summary of thousands of failed shards keeps the counts and the first ones.
    if doc.to_string().len() > 200 * 1024 {
        if let Some(list) = doc.get_mut("failed").and_then(Value::as_array_mut) {
            list.truncate(500);
        }
        if let Some(list) = doc.get_mut("incomplete").and_then(Value::as_array_mut) {
            list.truncate(500);
        }
    }
    let body = doc.to_string();
    let attrs: BTreeMap<String, String> = [
        ("kind", "summary"),
        ("severity", highest.as_str()),
        ("rule", "sweep"),
        ("account", home_account),
        ("remediation", "none"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    SnsMessage {
        subject: sanitize_subject(&format!(
            "[{}] Tripline organization sweep: {total} findings in {} accounts{}",
            highest.label(),
            s.accounts.len(),
            if s.failed.is_empty() {
                String::new()
            } else {
                format!(", {} shards failed", s.failed.len())
            }
        )),
        message: json!({"default": body, "email": text, "sqs": body, "lambda": body, "https": body})
            .to_string(),
        message_structure: "json".to_owned(),
        attributes: attrs,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn plan_has_one_global_shard_per_account_and_one_per_account_and_region() {
        let p = plan(
            "r1",
            "2026-12-06T00:00:00Z",
            &s(&["222222222222", "111111111111", "111111111111", " "]),
            &s(&["us-east-1", "eu-west-1"]),
            100,
        )
        .unwrap();
        assert_eq!(p.accounts, s(&["111111111111", "222222222222"]));
        assert_eq!(p.shards.len(), 2 * 3);
        let keys: Vec<String> = p.shards.iter().map(Shard::key).collect();
        assert_eq!(
            keys,
            [
                "111111111111#global",
                "111111111111#eu-west-1",
                "111111111111#us-east-1",
                "222222222222#global",
                "222222222222#eu-west-1",
                "222222222222#us-east-1"
            ]
        );
        assert!(plan("r", "t", &s(&["12345"]), &[], 0)
            .unwrap_err()
            .contains("12345"));
        assert!(plan("r", "t", &s(&["111111111111"]), &s(&["Global"]), 0).is_err());
        assert!(plan("r", "t", &s(&["111111111111"]), &s(&["global"]), 0).is_err());
    }

    #[test]
    fn messages_round_trip_in_their_documented_shape() {
        let m = ShardMessage::Shard {
            run: "r".into(),
            time: "t".into(),
            account: "111111111111".into(),
            scope: "global".into(),
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v,
            json!({"kind": "shard", "run": "r", "time": "t", "account": "111111111111", "scope": "global"})
        );
        assert_eq!(serde_json::from_value::<ShardMessage>(v).unwrap(), m);
        let d: ShardMessage = serde_json::from_str(r#"{"kind":"deadline","run":"r"}"#).unwrap();
        assert_eq!(d.run(), "r");
        assert!(serde_json::from_str::<ShardMessage>(r#"{"kind":"other"}"#).is_err());
    }

    #[test]
    fn failure_reasons_come_from_the_error_kind() {
        let cases = [
            (ErrorKind::AccessDenied, FailureReason::AccessDenied),
            (ErrorKind::Throttling, FailureReason::Throttled),
            (ErrorKind::Timeout, FailureReason::TimedOut),
            (ErrorKind::ServerError, FailureReason::Error),
        ];
        for (kind, reason) in cases {
            let e = AwsError::new("sts:AssumeRole", kind, "x");
            assert_eq!(FailureReason::of(&e), reason);
            assert_eq!(FailureReason::parse(reason.as_str()), reason);
        }
    }

    #[test]
    fn summary_counts_failed_and_unreported_shards_and_findings_by_severity() {
        let shard = |a: &str, sc: &str| Shard {
            account: a.into(),
            scope: sc.into(),
        };
        let mut done =
            ShardOutcome::of_assessment(&shard("111111111111", "global"), &AccountAssessment::default());
        done.findings.insert(Severity::Critical, 2);
        done.checked = 5;
        let denied = ShardOutcome::failed(
            &shard("222222222222", "global"),
            &AwsError::new("sts:AssumeRole", ErrorKind::AccessDenied, "not authorized"),
        );
        let mut planned = ShardOutcome::failed_with(
            &shard("333333333333", "us-east-1"),
            FailureReason::Error,
            String::new(),
        );
        planned.status = ShardStatus::Planned;
        planned.reason = None;
        let r = RunRecord {
            run: "r".into(),
            time: "t".into(),
            accounts: s(&["111111111111", "222222222222", "333333333333"]),
            regions: s(&["us-east-1"]),
            planned: 3,
            reported: 2,
            shards: vec![done, denied, planned],
            ..RunRecord::default()
        };
        let sum = summarize(&r);
        assert_eq!(sum.accounts_complete, s(&["111111111111"]));
        assert_eq!(sum.failed.len(), 2);
        assert_eq!(sum.failed[0].reason, FailureReason::AccessDenied);
        assert!(sum.failed[0].detail.contains("not authorized"));
        assert_eq!(sum.failed[1].reason, FailureReason::TimedOut);
        assert!(sum.deadline);
        assert_eq!(sum.findings.get(&Severity::Critical), Some(&2));
        let msg = summary_message(&sum, "999999999999");
        assert_eq!(msg.attributes["kind"], "summary");
        assert_eq!(msg.attributes["severity"], "critical");
        assert!(
            tripline_core::render::sns::subject_is_valid(&msg.subject),
            "{}",
            msg.subject
        );
        assert!(msg.subject.contains("2 shards failed"), "{}", msg.subject);
        let v: Value = serde_json::from_str(&msg.message).unwrap();
        assert!(v["email"]
            .as_str()
            .unwrap()
            .contains("222222222222 global: access-denied"));
    }
}
