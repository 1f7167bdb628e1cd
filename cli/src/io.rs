//! Shared input/output helpers for subcommands.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

/// Largest input the CLI reads (intake has its own, lower, limit for payloads).
const MAX_INPUT: u64 = 64 * 1024 * 1024;

/// Reads `path`, or standard input when `path` is `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let res = if path.as_os_str() == "-" {
        std::io::stdin().take(MAX_INPUT).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_INPUT).read_to_end(&mut buf))
    };
    res.map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(buf)
}

/// Exit code for bad input: prints one line on stderr.
pub fn bad_input(message: &str) -> ExitCode {
    eprintln!("tripline: error: {message}");
    ExitCode::from(2)
}

/// Writes `text` to stdout. A closed pipe (`tripline ... | head`) is not an error: the reader has what it
/// wanted, so the command stops quietly with success. Any other write failure is reported, never a panic.
pub fn print_text(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => bad_input(&format!("cannot write output: {e}")),
    }
}

/// Prints `value` as pretty JSON on stdout (see [`print_text`] for write failures).
pub fn print_json<T: serde::Serialize>(value: &T) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(mut s) => {
            s.push('\n');
            print_text(&s)
        }
        Err(e) => bad_input(&format!("cannot render output: {e}")),
    }
}
