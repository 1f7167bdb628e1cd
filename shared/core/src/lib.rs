//! Tripline's core: a continuous monitor for the customer's side of the AWS shared-responsibility model.
//!
//! This crate is the **pure part** (see `ARCHITECTURE.md`): event intake, the policy engine, the rule
//! catalog, findings and rendering. It performs no I/O, uses no AWS SDK and no async runtime, and is
//! deterministic. The compiler keeps it so: none of those crates is among its dependencies. The AWS side
//! (capability traits, SDK adapters, fakes, the application layer) is the `tripline-aws` crate.

pub mod change;
pub mod envelope;
pub mod exempt;
pub mod finding;
pub mod intake;
pub mod lifecycle;
pub mod policy;
pub mod remediation;
pub mod render;
pub mod resource_kind;
pub mod rules;
pub mod settings;
pub mod state;
pub mod text;

pub use change::{Actor, Change, ChangeSource, IdentityType, Outcome, Payload, Resource};
pub use envelope::Envelope;
pub use intake::IntakeError;
pub use intake::{intake, intake_oversized_item, Intake, OversizedContext, MAX_PAYLOAD_BYTES};
pub use state::{PublicAccessBlock, State, StateNeed};
