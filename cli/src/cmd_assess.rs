//! `tripline assess FILE|-`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::io;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The event file, or `-` for standard input.
    pub file: PathBuf,
}

pub fn run(args: &Args) -> ExitCode {
    let bytes = match io::read_input(&args.file) {
        Ok(b) => b,
        Err(e) => return io::bad_input(&e),
    };
    match tripline::intake(&bytes) {
        Ok(outcome) => io::print_json(&outcome),
        Err(e) => io::bad_input(&e.to_string()),
    }
}
