//! `tripline patterns [--config-resource-types | --sweep-read-actions]`: the EventBridge event patterns (or
//! AWS Config resource types, or the read permissions of the sweep's per-kind readers) derived from the rule
//! registry. Deterministic: the SAM template embeds exactly this output.

use std::process::ExitCode;

use crate::io;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the sorted AWS Config resource types the rules evaluate instead of the event patterns.
    #[arg(long)]
    pub config_resource_types: bool,
    /// Print the sorted IAM read permissions of the sweep's per-kind readers (snapshots, AMIs, resource
    /// policies) instead.
    #[arg(long, conflicts_with = "config_resource_types")]
    pub sweep_read_actions: bool,
}

pub fn run(args: &Args) -> ExitCode {
    if args.sweep_read_actions {
        io::print_json(&tripline_core::rules::external::swept_permissions())
    } else if args.config_resource_types {
        io::print_json(&tripline_core::rules::config_resource_types())
    } else {
        io::print_json(&tripline_core::rules::event_patterns())
    }
}
