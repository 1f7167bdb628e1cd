//! Shared input/output helpers for subcommands.
//!
//! The input contract every command shares: a document (a file, or `-` for standard input) is at most
//! [`MAX_INPUT_BYTES`], the 6 MiB of Lambda's invocation payload limit that intake applies too. Larger input
//! is an error naming the input and the limit, found after reading at most one byte past the limit (a
//! regular file's size is checked before reading); nothing is ever truncated. Errors are one line on stderr,
//! with every value quoted through [`tripline_core::text::quote`].

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use tripline_core::text;

/// Largest input any command reads: Lambda's invocation payload limit, the same constant intake applies to
/// payloads ([`tripline_core::MAX_PAYLOAD_BYTES`]).
pub const MAX_INPUT_BYTES: usize = tripline_core::MAX_PAYLOAD_BYTES;

/// The most characters of an error line (its values are already quoted at 200 characters each).
const MAX_ERROR_CHARS: usize = 2000;

/// How errors name an input: `path` in backticks (quoted), or `standard input` for `-`.
pub fn input_name(path: &Path) -> String {
    if is_stdin(path) {
        "standard input".to_owned()
    } else {
        format!("`{}`", text::quote(&path.display().to_string()))
    }
}

/// Whether `path` means standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads `path`, or standard input when `path` is `-`, refusing anything over [`MAX_INPUT_BYTES`].
pub fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    let name = input_name(path);
    if is_stdin(path) {
        return read_limited(std::io::stdin().lock(), &name);
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    // A regular file says how large it is: refuse it before reading a byte.
    if let Ok(meta) = file.metadata() {
        if meta.is_file() && meta.len() > limit_u64() {
            return Err(too_large(&name));
        }
    }
    read_limited(file, &name)
}

/// Reads at most one byte past [`MAX_INPUT_BYTES`] from `reader`: enough to know the input is too large
/// without holding more of it.
pub fn read_limited(reader: impl Read, name: &str) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    reader
        .take(limit_u64().saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read {name}: {}", text::quote(&e.to_string())))?;
    if buf.len() > MAX_INPUT_BYTES {
        return Err(too_large(name));
    }
    Ok(buf)
}

fn limit_u64() -> u64 {
    u64::try_from(MAX_INPUT_BYTES).unwrap_or(u64::MAX)
}

fn too_large(name: &str) -> String {
    format!(
        "{name} exceeds the limit of {MAX_INPUT_BYTES} bytes (6 MiB, the Lambda invocation payload limit \
         every tripline input shares)"
    )
}

/// Exit code for bad input: prints one line on stderr. The message is bounded and its control characters
/// escaped here too, whatever built it.
pub fn bad_input(message: &str) -> ExitCode {
    eprintln!("tripline: error: {}", text::bounded(message, MAX_ERROR_CHARS));
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
