//! `tripline patterns [--config-resource-types]`: the EventBridge event patterns (or AWS Config resource
//! types) derived from the rule registry. Deterministic: the SAM template embeds exactly this output.

use std::process::ExitCode;

use crate::io;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the sorted AWS Config resource types the rules evaluate instead of the event patterns.
    #[arg(long)]
    pub config_resource_types: bool,
}

pub fn run(args: &Args) -> ExitCode {
    if args.config_resource_types {
        io::print_json(&tripline_core::rules::config_resource_types())
    } else {
        io::print_json(&tripline_core::rules::event_patterns())
    }
}
