//! `tripline scan --accounts ID[,ID...] | --organization --member-role NAME [--external-id ID]
//! [--regions R[,R...]] [--include-self]`: the organization-wide sweep in-process (issue 13).
//!
//! The same shard code as the `sweep-worker` function ([`tripline_aws::app::org`]): one global shard per
//! account and one per (account, region), each assessed with the account's clients from assuming
//! `--member-role` there once per account ([`MemberSessions`]); the caller's own account is read with the
//! caller's credentials, and only when listed in `--accounts` or with `--include-self`. Shards run
//! [`SHARD_PARALLELISM`] at a time, each with `--concurrency` reads in flight.
//!
//! Output: every finding carries its `account`; the table groups findings by account and ends with one
//! line per account (findings, shards done, failures with their reason). Exit codes as `tripline scan`: 0
//! nothing found, 1 findings (not suppressed), 2 error, including shards that could not be scanned when
//! nothing was found.
//!
//! `--store NAME` keeps the lifecycle as the `sweep-worker` function does: each shard is recorded in the
//! findings table (the caller's, as the functions keep theirs in the security account) with
//! [`tripline_aws::app::lifecycle::sweep_tracked`], and only the shard's part of the account is resolved as
//! gone ([`GoneScope`]). `--securityhub` imports each account's findings into that account's Security Hub
//! through its member role (the import must come from the account that owns the finding), and `--format
//! asff|ocsf` prints them as `tripline scan` does.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use tripline_aws::app::lifecycle::GoneScope;
use tripline_aws::app::org::{assess_shard, findings_of, plan, FailureReason, ShardOutcome, ShardStatus};
use tripline_aws::sdk::member::{MemberReadRole, MemberSessions};
use tripline_core::finding::Finding;
use tripline_core::settings::RuleConfig;

use crate::cmd_scan::{Entry, Format};
use crate::io::bad_input;
use crate::scan_store::{ResolvedOut, StoreOutcome};

/// Shards assessed at once (each with its own `--concurrency` reads in flight).
pub const SHARD_PARALLELISM: usize = 8;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct OrgArgs {
    /// Scan these accounts (through `--member-role`), comma-separated.
    #[arg(
        long,
        value_name = "ID[,ID...]",
        value_delimiter = ',',
        conflicts_with = "organization"
    )]
    pub accounts: Vec<String>,
    /// Scan every ACTIVE account of the organization (`organizations:ListAccounts`; run it in the
    /// management or delegated-administrator account).
    #[arg(long)]
    pub organization: bool,
    /// The role assumed in each account (e.g. `tripline-member-read`).
    #[arg(long, value_name = "NAME")]
    pub member_role: Option<String>,
    /// `sts:ExternalId` for the member role.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Regions of the regional shards, comma-separated (default: none, the global shard only).
    #[arg(long, value_name = "R[,R...]", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Also scan the caller's own account (with the caller's credentials).
    #[arg(long)]
    pub include_self: bool,
}

impl OrgArgs {
    /// Whether any organization-wide flag was given.
    pub fn requested(&self) -> bool {
        !self.accounts.is_empty()
            || self.organization
            || self.member_role.is_some()
            || self.external_id.is_some()
            || !self.regions.is_empty()
            || self.include_self
    }
}

/// One shard in the report.
#[derive(Debug, Serialize)]
struct ShardReport {
    scope: String,
    status: ShardStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<FailureReason>,
    #[serde(skip_serializing_if = "String::is_empty")]
    detail: String,
    checked: u64,
}

/// One account in the report.
#[derive(Debug, Serialize)]
struct AccountReport {
    account: String,
    /// Unsuppressed findings.
    open: usize,
    suppressed: usize,
    shards: Vec<ShardReport>,
}

/// A finding this scan resolved, in an organization scan.
#[derive(Debug, Serialize)]
struct OrgResolved {
    account: String,
    #[serde(flatten)]
    resolved: ResolvedOut,
}

/// The JSON output.
#[derive(Debug, Serialize)]
struct OrgReport {
    time: String,
    caller: String,
    regions: Vec<String>,
    accounts: Vec<AccountReport>,
    /// Every finding (each with its `account`), grouped by account, highest severity first; with
    /// `--store`, each with its `lifecycle`.
    findings: Vec<Entry>,
    /// With `--store`: the findings this scan resolved, each with its `account`.
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<Vec<OrgResolved>>,
    /// The stored items this scan resolved (for ASFF's archived updates and OCSF's Close events).
    #[serde(skip)]
    resolved_items: Vec<tripline_core::lifecycle::LifecycleItem>,
    open: usize,
    /// Shards that failed or were incomplete: `<account> <scope>: <reason> (<detail>)`.
    errors: Vec<String>,
    assume_role_calls: u64,
    duration_ms: u64,
}

pub fn run(args: &crate::cmd_scan::Args, rules_cfg: &RuleConfig, concurrency: usize) -> ExitCode {
    let org = &args.org;
    if org.accounts.is_empty() && !org.organization {
        return bad_input("`--member-role`, `--external-id`, `--regions` and `--include-self` need `--accounts` or `--organization`");
    }
    let Some(role) = org.member_role.clone() else {
        return bad_input("`--accounts` and `--organization` need `--member-role NAME`");
    };
    let role_ok = (1..=64).contains(&role.len())
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !role_ok {
        return bad_input(&format!(
            "`--member-role` should be an IAM role name, found `{}`",
            tripline_core::text::quote(&role)
        ));
    }
    if args.store.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return bad_input("`--store` needs a DynamoDB table name");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return bad_input(&format!("cannot start the async runtime: {e}")),
    };
    let report = match runtime.block_on(scan(args, role, rules_cfg, concurrency)) {
        Ok(r) => r,
        Err(e) => return bad_input(&e),
    };
    let printed = match args.format {
        Format::Json => crate::io::print_json(&report),
        Format::Asff => crate::io::print_json(&crate::scan_formats::asff(&report.asff_input(None))),
        Format::Ocsf => crate::io::print_json(&crate::scan_formats::ocsf(&report.asff_input(None))),
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

async fn scan(
    args: &crate::cmd_scan::Args,
    role: String,
    rules_cfg: &RuleConfig,
    concurrency: usize,
) -> Result<OrgReport, String> {
    let started = Instant::now();
    let org = &args.org;
    let sdk = crate::cmd_scan::sdk_config(args).await;
    let region = sdk.region().map(ToString::to_string).unwrap_or_default();
    let caller = crate::cmd_scan::caller_account(args, &sdk).await?;
    let time = crate::cmd_scan::now_rfc3339()?;
    let mut accounts: Vec<String> = if org.organization {
        let client = aws_sdk_organizations::Client::new(&sdk);
        tripline_aws::sdk::fanout::active_accounts(&client)
            .await
            .map_err(|e| format!("cannot list the organization's accounts: {e}"))?
    } else {
        org.accounts.clone()
    };
    // The caller's own account only when listed explicitly or with --include-self.
    if !org.include_self && org.organization {
        accounts.retain(|a| *a != caller);
    }
    if org.include_self && !accounts.contains(&caller) {
        accounts.push(caller.clone());
    }
    let p = plan("cli", &time, &accounts, &org.regions, 0)?;
    // The caller's configuration: the findings table's (`--store`).
    let home = sdk.clone();
    let sessions = Arc::new(MemberSessions::new(
        sdk,
        caller.clone(),
        true,
        MemberReadRole {
            name: role,
            external_id: org.external_id.clone(),
            session_name: "tripline-scan".to_owned(),
        },
    ));
    let results: Vec<Result<ShardResult, String>> = stream::iter(p.shards.clone())
        .map(|shard| {
            let sessions = sessions.clone();
            let region = region.clone();
            let time = time.clone();
            let home = &home;
            async move {
                let r = shard.region(&region).to_owned();
                let assessed = match sessions.clients(&shard.account, &r).await {
                    Ok(c) => assess_shard(c.as_ref(), &shard, &r, &time, rules_cfg, concurrency, None).await,
                    Err(e) => Err(e),
                };
                let a = match assessed {
                    Ok(a) => a,
                    Err(e) => return Ok((ShardOutcome::failed(&shard, &e), Vec::new(), None)),
                };
                let outcome = ShardOutcome::of_assessment(&shard, &a);
                // The findings table is the caller's (the functions keep theirs in the security account);
                // a shard resolves as gone only what its listing covered.
                let lifecycle = match &args.store {
                    Some(table) => {
                        let scope = if shard.is_global() {
                            GoneScope::Global
                        } else {
                            GoneScope::Region(&r)
                        };
                        Some(crate::scan_store::track(home, table, &shard.account, &time, &a, scope).await?)
                    }
                    None => None,
                };
                Ok((outcome, findings_of(&a), lifecycle))
            }
        })
        .buffer_unordered(SHARD_PARALLELISM)
        .collect()
        .await;
    let results = results.into_iter().collect::<Result<Vec<_>, String>>()?;
    let mut r = report(
        &p.accounts,
        p.regions.clone(),
        results,
        caller,
        time,
        sessions.assume_calls(),
        started,
    );
    if args.securityhub {
        import_by_account(&sessions, &region, &mut r).await;
    }
    Ok(r)
}

/// A shard's outcome, its findings and (with `--store`) their lifecycle.
type ShardResult = (ShardOutcome, Vec<Finding>, Option<StoreOutcome>);

/// `--securityhub`: each account's findings (and the findings this scan resolved there) into that
/// account's Security Hub in the caller's region, through the account's member role (the caller's own
/// credentials for the caller's account). A failed account is one error; the others go on.
async fn import_by_account(sessions: &MemberSessions, region: &str, r: &mut OrgReport) {
    let accounts: Vec<String> = r.accounts.iter().map(|a| a.account.clone()).collect();
    for account in accounts {
        let findings = crate::scan_formats::asff_findings(&r.asff_input(Some(&account)));
        if findings.is_empty() {
            continue;
        }
        let n = findings.len();
        let imported = match sessions.clients(&account, region).await {
            Ok(hub) => tripline_aws::sdk::securityhub::import(hub.as_ref(), findings).await,
            Err(e) => Err(e),
        };
        match imported {
            Ok(rep) => {
                eprintln!(
                    "tripline: Security Hub of {account}: {} of {n} finding(s) imported in {} call(s)",
                    rep.imported, rep.calls
                );
                r.errors.extend(
                    rep.failed
                        .iter()
                        .map(|f| format!("{account}: Security Hub refused {f}")),
                );
            }
            Err(e) => r.errors.push(format!("{account}: Security Hub import: {e}")),
        }
    }
}

impl OrgReport {
    /// What the pipeline formats and the Security Hub import take: every account's, or one account's.
    fn asff_input(&self, account: Option<&str>) -> crate::scan_formats::Input<'_> {
        let mine = |a: &str| account.is_none_or(|x| x == a);
        crate::scan_formats::Input {
            time: &self.time,
            findings: self
                .findings
                .iter()
                .filter(|e| mine(&e.finding.account))
                .map(|e| (&e.finding, e.lifecycle.as_ref()))
                .collect(),
            resolved: self
                .resolved_items
                .iter()
                .filter(|i| mine(&i.key.account))
                .collect(),
        }
    }
}

fn report(
    accounts: &[String],
    regions: Vec<String>,
    mut results: Vec<ShardResult>,
    caller: String,
    time: String,
    assume_role_calls: u64,
    started: Instant,
) -> OrgReport {
    results.sort_by(|a, b| a.0.shard.cmp(&b.0.shard));
    let mut by_account: BTreeMap<&str, AccountReport> = accounts
        .iter()
        .map(|a| {
            (
                a.as_str(),
                AccountReport {
                    account: a.clone(),
                    open: 0,
                    suppressed: 0,
                    shards: Vec::new(),
                },
            )
        })
        .collect();
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let tracked = results.iter().any(|r| r.2.is_some());
    let mut lifecycles = BTreeMap::new();
    let mut resolved = Vec::new();
    let mut resolved_items = Vec::new();
    for (o, _, lc) in &mut results {
        if let Some(lc) = lc.take() {
            for ((rule, arn), l) in lc.by_finding {
                lifecycles.insert((o.shard.account.clone(), rule, arn), l);
            }
            resolved.extend(lc.resolved.into_iter().map(|r| OrgResolved {
                account: o.shard.account.clone(),
                resolved: r,
            }));
            resolved_items.extend(lc.resolved_items);
        }
    }
    for (o, f, _) in &results {
        if let Some(acc) = by_account.get_mut(o.shard.account.as_str()) {
            acc.open += f.iter().filter(|x| x.suppressed.is_none()).count();
            acc.suppressed += f.iter().filter(|x| x.suppressed.is_some()).count();
            acc.shards.push(ShardReport {
                scope: o.shard.scope.clone(),
                status: o.status,
                reason: o.reason,
                detail: o.detail.clone(),
                checked: o.checked,
            });
        }
        match o.status {
            ShardStatus::Failed => errors.push(format!(
                "{} {}: {} ({})",
                o.shard.account,
                o.shard.scope,
                o.reason.unwrap_or(FailureReason::Error).as_str(),
                o.detail
            )),
            ShardStatus::Incomplete => errors.push(format!(
                "{} {}: incomplete ({})",
                o.shard.account, o.shard.scope, o.detail
            )),
            _ => {}
        }
        findings.extend(f.iter().cloned());
    }
    findings.sort_by(|x, y| {
        (&x.account, y.severity, &x.rule, &x.resource.arn).cmp(&(
            &y.account,
            x.severity,
            &y.rule,
            &x.resource.arn,
        ))
    });
    OrgReport {
        open: findings.iter().filter(|f| f.suppressed.is_none()).count(),
        time,
        caller,
        regions,
        accounts: by_account.into_values().collect(),
        findings: findings
            .into_iter()
            .map(|finding| Entry {
                lifecycle: lifecycles.remove(&(
                    finding.account.clone(),
                    finding.rule.clone(),
                    finding.resource.arn.clone(),
                )),
                finding,
            })
            .collect(),
        resolved: tracked.then_some(resolved),
        resolved_items,
        errors,
        assume_role_calls,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

fn table(r: &OrgReport) -> String {
    let mut out = String::new();
    for acc in &r.accounts {
        let rows: Vec<[String; 4]> = r
            .findings
            .iter()
            .map(|e| &e.finding)
            .filter(|f| f.account == acc.account)
            .map(|f| {
                let sev = match &f.suppressed {
                    None => f.severity.as_str().to_owned(),
                    Some(_) => format!("{} (suppressed)", f.severity.as_str()),
                };
                [sev, f.rule.clone(), f.resource.arn.clone(), f.summary.clone()]
            })
            .collect();
        out.push_str(&format!("Account {}\n", acc.account));
        if rows.is_empty() {
            out.push_str("  No findings.\n");
        } else {
            let widths: Vec<usize> = (0..3)
                .map(|i| rows.iter().map(|row| row[i].chars().count()).max().unwrap_or(0))
                .collect();
            for row in &rows {
                out.push_str("  ");
                for (i, w) in widths.iter().enumerate() {
                    out.push_str(&format!("{:<w$}  ", row[i], w = w));
                }
                out.push_str(&row[3]);
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out.push_str("ACCOUNT       FINDINGS  SUPPRESSED  SHARDS  FAILURES\n");
    for acc in &r.accounts {
        let done = acc
            .shards
            .iter()
            .filter(|s| s.status == ShardStatus::Done)
            .count();
        let failures: Vec<String> = acc
            .shards
            .iter()
            .filter(|s| s.status != ShardStatus::Done)
            .map(|s| match s.reason {
                Some(reason) => format!("{} {}", s.scope, reason.as_str()),
                None => format!("{} {}", s.scope, s.status.as_str()),
            })
            .collect();
        out.push_str(&format!(
            "{:<12}  {:>8}  {:>10}  {:>6}  {}\n",
            acc.account,
            acc.open,
            acc.suppressed,
            format!("{done}/{}", acc.shards.len()),
            if failures.is_empty() {
                "-".to_owned()
            } else {
                failures.join(", ")
            }
        ));
    }
    out.push_str(&format!(
        "\n{} account(s), regions: {}; {} finding(s), {} failure(s) in {} ms.\n",
        r.accounts.len(),
        if r.regions.is_empty() {
            "global only".to_owned()
        } else {
            r.regions.join(",")
        },
        r.open,
        r.errors.len(),
        r.duration_ms
    ));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use tripline_aws::app::org::Shard;

    #[test]
    fn table_groups_by_account_and_ends_with_counts_and_failures() {
        let shard = |a: &str, s: &str| Shard {
            account: a.into(),
            scope: s.into(),
        };
        let ok = ShardOutcome::of_assessment(&shard("111111111111", "global"), &Default::default());
        let denied = ShardOutcome::failed(
            &shard("222222222222", "global"),
            &tripline_aws::AwsError::new("sts:AssumeRole", tripline_aws::ErrorKind::AccessDenied, "no"),
        );
        let r = report(
            &["111111111111".to_owned(), "222222222222".to_owned()],
            vec![],
            vec![(denied, vec![], None), (ok, vec![], None)],
            "999999999999".into(),
            "t".into(),
            2,
            Instant::now(),
        );
        assert_eq!(r.errors.len(), 1);
        assert!(
            r.errors[0].starts_with("222222222222 global: access-denied"),
            "{:?}",
            r.errors
        );
        let t = table(&r);
        assert!(
            t.starts_with("Account 111111111111\n  No findings.\n\nAccount 222222222222\n"),
            "{t}"
        );
        assert!(
            t.contains("111111111111         0           0     1/1  -\n"),
            "{t}"
        );
        assert!(
            t.contains("222222222222         0           0     0/1  global access-denied\n"),
            "{t}"
        );
    }
}
