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
}

/// The JSON output.
#[derive(Debug, Serialize)]
struct Report {
    account: String,
    region: String,
    time: String,
    /// `buckets` / `policies` / `roles` -> how many were judged.
    checked: BTreeMap<String, u64>,
    /// Every finding, suppressed ones included (marked in `suppressed`), highest severity first.
    findings: Vec<Finding>,
    /// Unsuppressed findings.
    open: usize,
    /// Resources that could not be read and rules that failed.
    errors: Vec<String>,
    duration_ms: u64,
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

async fn scan(args: &Args, rules_cfg: &RuleConfig, concurrency: usize) -> Result<Report, String> {
    let started = Instant::now();
    let mut loader = tripline_aws::sdk_config_loader();
    if let Some(url) = &args.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(r) = &args.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    let mut sdk = loader.load().await;
    if sdk.region().is_none() {
        sdk = sdk
            .into_builder()
            .region(aws_config::Region::from_static("us-east-1"))
            .build();
    }
    let region = sdk.region().map(ToString::to_string).unwrap_or_default();
    let account = match &args.account {
        Some(a) if tripline_core::resource_kind::is_account_id(a) => a.clone(),
        Some(a) => {
            return Err(format!(
                "`--account` should be a 12-digit account id, found `{a}`"
            ))
        }
        None => aws_sdk_sts::Client::new(&sdk)
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
    };
    let time = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .ok_or("cannot format the current time")?;

    let aws = Progress::new(AwsClients::new(&sdk));
    let ctx = SweepContext {
        account: &account,
        region: &region,
        time: &time,
    };
    let assessment = assess_account(&aws, rules_cfg, &ctx, concurrency).await;
    aws.bar.finish_and_clear();
    let assessment = assessment.map_err(|e| format!("cannot list the account: {e}"))?;
    Ok(report(assessment, account, region, time, started.elapsed()))
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
        findings,
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
    for f in &r.findings {
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

impl tripline_aws::ExposureRead for Progress {
    async fn list_swept(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
    ) -> Result<Vec<tripline_aws::Listed>, AwsError> {
        let r = self.inner.list_swept(kind).await;
        if let Ok(l) = &r {
            self.listed("shared resources", l.len(), 1);
        }
        r
    }
    async fn read_exposure(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
        id: &str,
    ) -> Result<tripline_core::rules::external::Exposure, AwsError> {
        self.step(self.inner.read_exposure(kind, id).await)
    }
    async fn swept_tags(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
        id: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        self.inner.swept_tags(kind, id).await
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
