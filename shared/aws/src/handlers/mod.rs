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
//! | sweep | [`sweep::handle_sweep`] |
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
