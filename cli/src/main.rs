//! The `tripline` command: the same engine the Lambda functions run, for people and CI pipelines.
//!
//! This file is glue only: argument parsing and dispatch. Each subcommand lives in its own module and
//! returns an exit code; the work is done by the `tripline` library.

mod cmd_assess;
#[cfg(feature = "aws")]
mod cmd_findings;
mod cmd_patterns;
mod cmd_policy;
#[cfg(feature = "aws")]
mod cmd_remediate;
mod cmd_rules;
#[cfg(feature = "aws")]
mod cmd_scan;
#[cfg(feature = "aws")]
mod cmd_scan_org;
mod io;
#[cfg(feature = "aws")]
mod scan_formats;
#[cfg(feature = "aws")]
mod scan_store;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tripline: exact, fast checks of AWS changes that expose something (public buckets, widened IAM
/// policies, open trust policies, audit logging switched off).
#[derive(Debug, Parser)]
#[command(name = "tripline", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read one event (CloudTrail via EventBridge, Config item change, Config rule invocation, or SNS-wrapped
    /// Config notification) and print the normalized change as JSON.
    ///
    /// Exit 0 for a change or an ignored event, 2 for bad input (one-line error on stderr).
    Assess(cmd_assess::Args),
    /// List the rule catalog: id, severity, remediation, title (`--json` adds triggers, permissions, doc).
    Rules(cmd_rules::Args),
    /// Print the EventBridge event patterns derived from the rule registry, keyed by service
    /// (`--config-resource-types`: the AWS Config resource types instead). Deterministic.
    Patterns(cmd_patterns::Args),
    /// The policy engine: `public`, `acl`, `diff OLD NEW`, `escalation` on documents (JSON out; exit 0 for
    /// any verdict, 2 for an invalid document).
    Policy(cmd_policy::Args),
    /// Sweep an account now, as the scheduled `sweep` function does: every bucket, customer-managed policy
    /// and role trust policy, judged with the same rules. Uses the standard AWS credential chain
    /// (`--endpoint-url` for an emulator). Progress on a terminal only.
    ///
    /// Organization-wide: `--accounts ID[,ID...]` or `--organization`, with `--member-role NAME`
    /// [`--external-id ID`] [`--regions R[,R...]`] [`--include-self`]: one global shard per account and
    /// one per region, findings grouped by account.
    ///
    /// Exit 0 nothing found, 1 findings (not suppressed), 2 error (incl. an incomplete scan that found nothing).
    #[cfg(feature = "aws")]
    Scan(cmd_scan::Args),
    /// Apply (or, by default, dry-run) the remediation of a finding by hand, through the same code as the
    /// `remediate` function: only in the finding's own account (`--member-role` for another account, refused
    /// otherwise), planned from a fresh read, verified after.
    ///
    /// Exit 0 remediated, dry-run or nothing to do; 1 refused, skipped, partial or unverified; 2 bad input or
    /// error.
    #[cfg(feature = "aws")]
    Remediate(cmd_remediate::Args),
    /// The findings store (the DynamoDB table of finding lifecycles): `init`, `list`, `show`.
    #[cfg(feature = "aws")]
    Findings(cmd_findings::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match cli.command {
        Command::Assess(args) => cmd_assess::run(&args),
        Command::Rules(args) => cmd_rules::run(&args),
        Command::Patterns(args) => cmd_patterns::run(&args),
        Command::Policy(args) => cmd_policy::run(&args),
        #[cfg(feature = "aws")]
        Command::Scan(args) => cmd_scan::run(&args),
        #[cfg(feature = "aws")]
        Command::Remediate(args) => cmd_remediate::run(&args),
        #[cfg(feature = "aws")]
        Command::Findings(args) => cmd_findings::run(&args),
    }
}

/// Help and version print as clap prints them. A usage error is one bounded line like every other error:
/// clap's message with its lines joined and the `--help` hint left out; when a value it would repeat from
/// the command line is long or holds control characters (which clap prints raw, or strips), the line names
/// the kind of error and that value quoted instead (at most 200 characters, controls escaped). Exit 2, as
/// clap's own.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::{ContextValue, ErrorKind};
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        // Printing help or the version can only fail on a closed stdout; exit as clap would.
        let _ = e.print();
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    let unsafe_values: Vec<String> = e
        .context()
        .flat_map(|(_, value)| match value {
            ContextValue::String(v) => vec![v.as_str()],
            ContextValue::Strings(vs) => vs.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        })
        .filter(|v| tripline_core::text::quote(v) != *v)
        .map(|v| format!("`{}`", tripline_core::text::quote(v)))
        .collect();
    if !unsafe_values.is_empty() {
        let kind = e.kind().as_str().unwrap_or("invalid arguments");
        return io::bad_input(&format!(
            "{kind}: {} (see `tripline --help`)",
            unsafe_values.join(", ")
        ));
    }
    let text = e.render().to_string();
    let line = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect::<Vec<_>>()
        .join(" ");
    io::bad_input(line.strip_prefix("error: ").unwrap_or(&line))
}
