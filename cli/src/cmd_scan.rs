//! `tripline scan`: the `sweep` function's baseline from the command line, over whatever account the
//! standard AWS credential chain reaches (or `--endpoint-url`, e.g. a local emulator).
//!
//! The work is the sweep handler's own [`assess_account`] (same listing, bounded concurrency, the same
//! rules via `rules::assess_*`); this module only builds the SDK configuration, shows progress, and prints
//! the findings instead of publishing them. Settings come from the same `TRIPLINE_*` variables the
//! functions read (trusted accounts, organization, exemption tag, allow-list, concurrency).
//!
//! Exit codes: 0 nothing found; 1 at least one finding that is not suppressed; 2 error (bad settings, the
//! account could not be listed, or some resources could not be read and nothing was found: an incomplete
//! scan never claims a clean account).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::Value;
use tripline_aws::app::assess::{assess_account, AccountAssessment};
use tripline_aws::{
    env, AwsClients, AwsError, IamRead, ManagedPolicyInfo, PolicyVersionInfo, PrincipalRef, RoleInfo, S3Read,
};
use tripline_core::finding::Finding;
use tripline_core::rules::SweepContext;
use tripline_core::settings::RuleConfig;
use tripline_core::state::PublicAccessBlock;

use crate::io::bad_input;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    /// AWS Security Finding Format (the AWS SDK's Security Hub types): a JSON array; with `--store`, the
    /// findings this scan resolved too (RecordState ARCHIVED).
    Asff,
    /// OCSF 1.5.0 Detection Findings (class_uid 2004): a JSON array; with `--store`, lifecycle included.
    Ocsf,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Send every AWS request to this endpoint (same effect as `AWS_ENDPOINT_URL`), e.g. a local emulator.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Region (default: the SDK's region chain, then `us-east-1`).
    #[arg(long)]
    pub region: Option<String>,
    /// Account id of the findings (default: `sts:GetCallerIdentity`).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Resource reads in flight at once (default: `TRIPLINE_SWEEP_CONCURRENCY`, else 16).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: Option<u16>,
    /// Output format: a table for people, JSON (every finding in full) for pipelines.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Organization-wide: `--accounts` / `--organization` with `--member-role` (see `cmd_scan_org`).
    #[command(flatten)]
    pub org: crate::cmd_scan_org::OrgArgs,
    /// Keep findings in this DynamoDB table (see `tripline findings`): each finding gets its lifecycle
    /// (`lifecycle.transition`, `first_seen`, `last_seen`) and the findings this scan resolved are listed.
    #[arg(long, value_name = "NAME")]
    pub store: Option<String>,
    /// Import the findings into the scanned account's Security Hub (BatchImportFindings, ASFF), and with
    /// `--store` archive the ones this scan resolved.
    #[arg(long)]
    pub securityhub: bool,
}

/// The JSON output.
#[derive(Debug, Serialize)]
struct Report {
    account: String,
    region: String,
    time: String,
    /// `buckets` / `policies` / `roles` -> how many were judged.
    checked: BTreeMap<String, u64>,
    /// Every finding, suppressed ones included (marked in `suppressed`), highest severity first; with
    /// `--store`, each with its `lifecycle`.
    findings: Vec<Entry>,
    /// With `--store`: the findings this scan resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<Vec<crate::scan_store::ResolvedOut>>,
    /// The stored items this scan resolved (for ASFF's archived updates).
    #[serde(skip)]
    resolved_items: Vec<tripline_core::lifecycle::LifecycleItem>,
    /// Unsuppressed findings.
    open: usize,
    /// Resources that could not be read and rules that failed.
    errors: Vec<String>,
    duration_ms: u64,
}

impl Report {
    /// What the pipeline formats and the Security Hub import take.
    fn asff_input(&self) -> crate::scan_formats::Input<'_> {
        crate::scan_formats::Input {
            time: &self.time,
            findings: self
                .findings
                .iter()
                .map(|e| (&e.finding, e.lifecycle.as_ref()))
                .collect(),
            resolved: self.resolved_items.iter().collect(),
        }
    }
}

/// A finding and, with `--store`, its lifecycle.
#[derive(Debug, Serialize)]
pub(crate) struct Entry {
    #[serde(flatten)]
    pub(crate) finding: Finding,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lifecycle: Option<crate::scan_store::LifecycleOut>,
}

pub fn run(args: &Args) -> ExitCode {
    let vars = env::env_map();
    let rules_cfg = match tripline_core::rules::config_from_env(&vars) {
        Ok(c) => c,
        Err(e) => return bad_input(&e.to_string()),
    };
    let concurrency = match args.concurrency {
        Some(n) => usize::from(n),
        None => match env::sweep_concurrency(&vars) {
            Ok(n) => n,
            Err(e) => return bad_input(&e.to_string()),
        },
    };
    if args.org.requested() {
        return crate::cmd_scan_org::run(args, &rules_cfg, concurrency);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return bad_input(&format!("cannot start the async runtime: {e}")),
    };
    let report = match runtime.block_on(scan(args, &rules_cfg, concurrency)) {
        Ok(r) => r,
        Err(e) => return bad_input(&e),
    };
    let printed = match args.format {
        Format::Json => crate::io::print_json(&report),
        Format::Asff => crate::io::print_json(&crate::scan_formats::asff(&report.asff_input())),
        Format::Ocsf => crate::io::print_json(&crate::scan_formats::ocsf(&report.asff_input())),
        Format::Table => {
            print!("{}", table(&report));
            ExitCode::SUCCESS
        }
    };
    if printed != ExitCode::SUCCESS {
        return printed;
    }
    for e in &report.errors {
        eprintln!("tripline: warning: {e}");
    }
    match (report.open, report.errors.is_empty()) {
        (n, _) if n > 0 => ExitCode::from(1),
        (_, true) => ExitCode::SUCCESS,
        (_, false) => ExitCode::from(2),
    }
}

/// The SDK configuration of a scan: `--endpoint-url`, `--region` (else the SDK's chain, then `us-east-1`).
pub(crate) async fn sdk_config(args: &Args) -> aws_config::SdkConfig {
    sdk_config_with(args.endpoint_url.as_deref(), args.region.as_deref()).await
}

/// The SDK configuration of a command with `--endpoint-url` and `--region` (else the SDK's chain, then
/// `us-east-1`): `scan` and `remediate`.
pub(crate) async fn sdk_config_with(
    endpoint_url: Option<&str>,
    region: Option<&str>,
) -> aws_config::SdkConfig {
    let mut loader = tripline_aws::sdk_config_loader();
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_owned()));
    }
    let mut sdk = loader.load().await;
    if sdk.region().is_none() {
        sdk = sdk
            .into_builder()
            .region(aws_config::Region::from_static("us-east-1"))
            .build();
    }
    sdk
}

/// `--account`, else `sts:GetCallerIdentity`.
pub(crate) async fn caller_account(args: &Args, sdk: &aws_config::SdkConfig) -> Result<String, String> {
    Ok(match &args.account {
        Some(a) if tripline_core::resource_kind::is_account_id(a) => a.clone(),
        Some(a) => {
            return Err(format!(
                "`--account` should be a 12-digit account id, found `{a}`"
            ))
        }
        None => aws_sdk_sts::Client::new(sdk)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot identify the account (sts:GetCallerIdentity): {}",
                    describe(&e)
                )
            })?
            .account
            .ok_or("sts:GetCallerIdentity returned no account")?,
    })
}

/// Now, RFC 3339 to the second.
pub(crate) fn now_rfc3339() -> Result<String, String> {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .ok_or_else(|| "cannot format the current time".to_owned())
}

async fn scan(args: &Args, rules_cfg: &RuleConfig, concurrency: usize) -> Result<Report, String> {
    let started = Instant::now();
    if let Some(t) = &args.store {
        if t.trim().is_empty() {
            return Err("`--store` needs a DynamoDB table name".to_owned());
        }
    }
    let sdk = sdk_config(args).await;
    let region = sdk.region().map(ToString::to_string).unwrap_or_default();
    let account = caller_account(args, &sdk).await?;
    let time = now_rfc3339()?;

    let aws = Progress::new(AwsClients::new(&sdk));
    let ctx = SweepContext {
        account: &account,
        region: &region,
        time: &time,
    };
    let assessment = assess_account(&aws, rules_cfg, &ctx, concurrency).await;
    aws.bar.finish_and_clear();
    let assessment = assessment.map_err(|e| format!("cannot list the account: {e}"))?;
    let lifecycle = match &args.store {
        Some(table) => Some(
            crate::scan_store::track(
                &sdk,
                table,
                &account,
                &time,
                &assessment,
                tripline_aws::app::lifecycle::GoneScope::Account,
            )
            .await?,
        ),
        None => None,
    };
    let mut r = report(assessment, account, region, time, started.elapsed());
    if let Some(mut lc) = lifecycle {
        for e in &mut r.findings {
            e.lifecycle = lc
                .by_finding
                .remove(&(e.finding.rule.clone(), e.finding.resource.arn.clone()));
        }
        r.resolved = Some(lc.resolved);
        r.resolved_items = lc.resolved_items;
    }
    if args.securityhub {
        let hub = AwsClients::new(&sdk);
        let findings = crate::scan_formats::asff_findings(&r.asff_input());
        let n = findings.len();
        let rep = tripline_aws::sdk::securityhub::import(&hub, findings)
            .await
            .map_err(|e| format!("Security Hub import: {e}"))?;
        eprintln!(
            "tripline: Security Hub: {} of {n} finding(s) imported in {} call(s)",
            rep.imported, rep.calls
        );
        r.errors
            .extend(rep.failed.iter().map(|f| format!("Security Hub refused {f}")));
    }
    Ok(r)
}

/// The innermost message of an SDK error chain (the SDK's own `Display` says only "service error").
fn describe(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    msg
}

fn report(a: AccountAssessment, account: String, region: String, time: String, took: Duration) -> Report {
    let mut errors = a.errors;
    let mut findings = Vec::new();
    for r in a.assessed {
        errors.extend(
            r.evaluation
                .errors
                .iter()
                .map(|e| format!("rule `{}` on `{}`: {}", e.rule, r.arn, e.message)),
        );
        findings.extend(r.evaluation.findings);
    }
    findings
        .sort_by(|x, y| (y.severity, &x.rule, &x.resource.arn).cmp(&(x.severity, &y.rule, &y.resource.arn)));
    Report {
        open: findings.iter().filter(|f| f.suppressed.is_none()).count(),
        account,
        region,
        time,
        checked: a.checked,
        findings: findings
            .into_iter()
            .map(|finding| Entry {
                finding,
                lifecycle: None,
            })
            .collect(),
        resolved: None,
        resolved_items: Vec::new(),
        errors,
        duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
    }
}

fn table(r: &Report) -> String {
    let mut rows: Vec<[String; 4]> = vec![[
        "SEVERITY".into(),
        "RULE".into(),
        "RESOURCE".into(),
        "SUMMARY".into(),
    ]];
    for f in r.findings.iter().map(|e| &e.finding) {
        let sev = match &f.suppressed {
            None => f.severity.as_str().to_owned(),
            Some(_) => format!("{} (suppressed)", f.severity.as_str()),
        };
        rows.push([sev, f.rule.clone(), f.resource.arn.clone(), f.summary.clone()]);
    }
    let checked = ["buckets", "policies", "roles"]
        .iter()
        .map(|k| format!("{} {k}", r.checked.get(*k).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = String::new();
    if r.findings.is_empty() {
        out.push_str("No findings.\n");
    } else {
        let widths: Vec<usize> = (0..3)
            .map(|i| rows.iter().map(|row| row[i].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            for (i, w) in widths.iter().enumerate() {
                out.push_str(&format!("{:<w$}  ", row[i], w = w));
            }
            out.push_str(&row[3]);
            out.push('\n');
        }
        out.push('\n');
    }
    let suppressed = r.findings.len() - r.open;
    out.push_str(&format!(
        "Account {} in {}: checked {checked}; {} finding(s){}{} in {} ms.\n",
        r.account,
        r.region,
        r.open,
        if suppressed > 0 {
            format!(" and {suppressed} suppressed")
        } else {
            String::new()
        },
        if r.errors.is_empty() {
            String::new()
        } else {
            format!(", {} error(s)", r.errors.len())
        },
        r.duration_ms
    ));
    out
}

/// The SDK clients plus a progress bar: listings grow the bar's length, each per-resource read advances it.
/// Hidden unless stderr is a terminal, so pipelines and `--format json` consumers see only the output.
struct Progress {
    inner: AwsClients,
    bar: ProgressBar,
}

/// Reads per bucket in the sweep: policy, ACL, Block Public Access, tags.
const BUCKET_READS: u64 = 4;

impl Progress {
    fn new(inner: AwsClients) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} scanning [{bar:30}] {pos}/{len} reads {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { inner, bar }
    }

    fn listed(&self, what: &str, n: usize, reads_each: u64) {
        let n = n as u64;
        self.bar.inc_length(n * reads_each);
        self.bar.set_message(format!("{n} {what} listed"));
    }

    fn step<T>(&self, r: Result<T, AwsError>) -> Result<T, AwsError> {
        self.bar.inc(1);
        r
    }
}

impl S3Read for Progress {
    async fn list_buckets(&self) -> Result<Vec<String>, AwsError> {
        let r = self.inner.list_buckets().await;
        if let Ok(b) = &r {
            self.listed("buckets", b.len(), BUCKET_READS);
        }
        r
    }
    async fn bucket_policy(&self, bucket: &str) -> Result<Option<Value>, AwsError> {
        self.step(self.inner.bucket_policy(bucket).await)
    }
    async fn bucket_acl(&self, bucket: &str) -> Result<Value, AwsError> {
        self.step(self.inner.bucket_acl(bucket).await)
    }
    async fn bucket_public_access_block(&self, bucket: &str) -> Result<Option<PublicAccessBlock>, AwsError> {
        self.step(self.inner.bucket_public_access_block(bucket).await)
    }
    async fn bucket_tags(&self, bucket: &str) -> Result<BTreeMap<String, String>, AwsError> {
        self.step(self.inner.bucket_tags(bucket).await)
    }
    async fn account_public_access_block(
        &self,
        account_id: &str,
    ) -> Result<Option<PublicAccessBlock>, AwsError> {
        self.inner.account_public_access_block(account_id).await
    }
}

impl IamRead for Progress {
    async fn list_policy_versions(&self, policy_arn: &str) -> Result<Vec<PolicyVersionInfo>, AwsError> {
        self.inner.list_policy_versions(policy_arn).await
    }
    async fn policy_version_document(&self, policy_arn: &str, version_id: &str) -> Result<Value, AwsError> {
        self.step(self.inner.policy_version_document(policy_arn, version_id).await)
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
        let r = self.inner.list_local_policies().await;
        if let Ok(p) = &r {
            self.listed("policies", p.len(), 1);
        }
        r
    }
    async fn list_roles(&self) -> Result<Vec<RoleInfo>, AwsError> {
        // Trust policies come with the listing: nothing more to read per role.
        self.inner.list_roles().await
    }
    async fn attached_policies(&self, principal: &PrincipalRef) -> Result<Vec<String>, AwsError> {
        self.inner.attached_policies(principal).await
    }
}

/// The customer-duty reads (issue 18): regions listed grow the bar by their four reads each.
impl tripline_aws::DutiesRead for Progress {
    async fn account_password_policy(&self) -> Result<Option<Value>, AwsError> {
        self.inner.account_password_policy().await
    }
    async fn enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        let r = self.inner.enabled_regions().await;
        if let Ok(regions) = &r {
            // Four duty reads and the five account-state reads per region.
            self.listed("regions", regions.len(), 4 + 5);
        }
        r
    }
    async fn network_acls(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.step(self.inner.network_acls(region).await)
    }
    async fn db_instances(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.step(self.inner.db_instances(region).await)
    }
    async fn db_instance(&self, region: &str, identifier: &str) -> Result<Option<Value>, AwsError> {
        self.inner.db_instance(region, identifier).await
    }
    async fn db_clusters(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.step(self.inner.db_clusters(region).await)
    }
    async fn patch_compliance_items(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.step(self.inner.patch_compliance_items(region).await)
    }
}

/// The account-level state (issue 16): one step per read, counted with the regions.
impl tripline_aws::AccountStateRead for Progress {
    async fn trails(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.step(self.inner.trails(region).await)
    }
    async fn configuration_recorders(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.step(self.inner.configuration_recorders(region).await)
    }
    async fn guardduty_detectors(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.step(self.inner.guardduty_detectors(region).await)
    }
    async fn ebs_encryption_by_default(&self, region: &str) -> Result<Option<bool>, AwsError> {
        self.step(self.inner.ebs_encryption_by_default(region).await)
    }
    async fn security_groups(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.step(self.inner.security_groups(region).await)
    }
}

impl tripline_aws::ExposureRead for Progress {
    async fn list_swept(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
        region: &str,
    ) -> Result<Vec<tripline_aws::Listed>, AwsError> {
        let r = self.inner.list_swept(kind, region).await;
        if let Ok(l) = &r {
            self.listed("shared resources", l.len(), 1);
        }
        r
    }
    async fn read_exposure(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
        region: &str,
        id: &str,
    ) -> Result<tripline_core::rules::external::Exposure, AwsError> {
        self.step(self.inner.read_exposure(kind, region, id).await)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn table_of_nothing_says_so_and_counts_what_was_checked() {
        let r = Report {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            time: "2026-11-29T00:00:00Z".into(),
            checked: [("buckets".to_owned(), 3), ("roles".to_owned(), 2)]
                .into_iter()
                .collect(),
            findings: vec![],
            resolved: None,
            resolved_items: vec![],
            open: 0,
            errors: vec![],
            duration_ms: 12,
        };
        assert_eq!(
            table(&r),
            "No findings.\nAccount 111122223333 in us-east-1: checked 3 buckets, 0 policies, 2 roles; 0 finding(s) in 12 ms.\n"
        );
    }
}
