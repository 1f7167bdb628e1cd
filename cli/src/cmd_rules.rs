//! `tripline rules [--json]`: the rule catalog.

use std::process::ExitCode;

use tripline_core::rules::REGISTRY;

use crate::io;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON (id, title, severity, triggers, permissions, remediation, doc) instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args) -> ExitCode {
    if args.json {
        let rules: Vec<serde_json::Value> = REGISTRY.iter().map(|r| r.to_json()).collect();
        return io::print_json(&rules);
    }
    let id_w = REGISTRY.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    println!("{:<id_w$}  {:<8}  {:<11}  TITLE", "ID", "SEVERITY", "REMEDIATION");
    for r in REGISTRY {
        println!(
            "{:<id_w$}  {:<8}  {:<11}  {}",
            r.id,
            r.severity.as_str(),
            if r.remediation.is_some() { "yes" } else { "-" },
            r.title
        );
    }
    ExitCode::SUCCESS
}
