//! The entry points: one thin adapter per Lambda function over the application layer ([`crate::app`]).
//!
//! Each `functions/<name>/src/main.rs` only sets up logging, reads and validates its configuration at cold
//! start, builds the clients once, wraps each invocation's payload in a [`tripline_core::Envelope`] (read
//! once: account, region, event id, parsed payload) and calls one handler:
//!
//! | function | handler |
//! |---|---|
//! | on-cloudtrail | [`cloudtrail::handle_cloudtrail`] |
//! | on-config | [`config::handle_config`] |
//! | sweep | [`sweep::handle_sweep`]; organization-wide: [`sweep_planner::handle_plan`] |
//! | sweep-worker | [`sweep_worker::handle_shard_batch`] |
//! | remediate | [`remediate::handle_remediate`] |
//! | notify-slack | [`notify_slack::handle_slack`] |
//!
//! A handler reads its event's shape and calls use cases; it never imports another handler
//! (`cli/tests/template.rs` checks the module graph).

pub mod cloudtrail;
pub mod config;
pub mod notify_slack;
pub mod remediate;
pub mod sweep;
pub mod sweep_planner;
pub mod sweep_worker;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    /// The source without comment lines (docs may name other modules).
    fn code(text: &str) -> String {
        text.lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The house plan, checked on the source: a handler never imports another handler (shared logic is a
    /// use case in `crate::app`), and the application layer never imports an entry point.
    #[test]
    fn no_handler_imports_another_and_the_application_layer_imports_none() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let handlers: Vec<String> = std::fs::read_dir(src.join("handlers"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().is_some_and(|n| n != "mod.rs"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(handlers.len() >= 5, "{handlers:?}");
        for h in &handlers {
            let text = code(&std::fs::read_to_string(src.join("handlers").join(format!("{h}.rs"))).unwrap());
            for other in handlers.iter().filter(|o| *o != h) {
                for path in [format!("handlers::{other}"), format!("super::{other}")] {
                    assert!(
                        !text.contains(&path),
                        "handler `{h}` imports handler `{other}` (`{path}`)"
                    );
                }
            }
        }
        let mut app_files = Vec::new();
        let mut dirs = vec![src.join("app")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    app_files.push(p);
                }
            }
        }
        for f in app_files {
            let text = code(&std::fs::read_to_string(&f).unwrap());
            assert!(
                !text.contains("crate::handlers"),
                "{} imports an entry point",
                f.display()
            );
        }
    }
}
