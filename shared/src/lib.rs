//! Tripline: a continuous monitor for the customer's side of the AWS shared-responsibility model.
//!
//! The crate has two parts (see `ARCHITECTURE.md`):
//! - the **pure part** (every module except [`aws`]): event intake, the policy engine, the rule catalog,
//!   findings and rendering. It performs no I/O, uses no AWS SDK and no async runtime, and is deterministic.
//! - the **AWS part** ([`aws`], behind the `aws` feature): narrow capability traits (read state, publish,
//!   remediate, record) and their AWS SDK implementations.

pub mod change;
pub mod error;
pub mod exempt;
pub mod finding;
pub mod intake;
pub mod policy;
pub mod render;
pub mod rules;
pub mod settings;
pub mod state;

#[cfg(feature = "aws")]
pub mod aws;

pub use change::{Actor, Change, ChangeSource, IdentityType, Outcome, Payload, Resource};
pub use error::IntakeError;
pub use intake::{intake, intake_oversized_item, Intake, OversizedContext, MAX_PAYLOAD_BYTES};
pub use state::{PublicAccessBlock, State, StateNeed};
