//! The `tripline` command: the same engine the Lambda functions run, for people and CI pipelines.
//!
//! This file is glue only: argument parsing and dispatch. Each subcommand lives in its own module and
//! returns an exit code; the work is done by the `tripline` library.

mod cmd_assess;
mod cmd_patterns;
mod cmd_policy;
mod cmd_rules;
#[cfg(feature = "aws")]
mod cmd_scan;
mod io;

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
    /// Exit 0 nothing found, 1 findings (not suppressed), 2 error (incl. an incomplete scan that found nothing).
    #[cfg(feature = "aws")]
    Scan(cmd_scan::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Assess(args) => cmd_assess::run(&args),
        Command::Rules(args) => cmd_rules::run(&args),
        Command::Patterns(args) => cmd_patterns::run(&args),
        Command::Policy(args) => cmd_policy::run(&args),
        #[cfg(feature = "aws")]
        Command::Scan(args) => cmd_scan::run(&args),
    }
}
