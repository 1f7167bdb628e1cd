//! The policy engine (pure): IAM policy grammar, AWS's "public" definition for S3 bucket policies, ACLs and
//! other resource policies, Block Public Access exposure, cross-account grants, the "no new access" diff,
//! privilege-escalation combos and remediation planning.

pub mod acl;
pub mod actions;
pub mod adversarial;
pub mod cross_account;
pub mod diff;
pub mod escalation;
pub mod exposure;
pub mod glob;
pub mod grammar;
pub mod narrow;
pub mod public;
pub mod tls;
pub mod zone;

pub use acl::{acl_public, canned_acl_public};
pub use cross_account::{cross_account, ExternalGrant, Trusted};
pub use diff::{diff, Access, Diff};
pub use escalation::{escalation_combos, grants_full_admin, most_specific, newly_enabled_combos, Combo};
pub use exposure::{bucket_exposure, Exposure, ExposureStatus};
pub use grammar::{
    Condition, Effect, NameBlock, Operator, Policy, PolicyError, PrincipalBlock, PrincipalType, Principals,
    SetOp, Statement, Version,
};
pub use public::{bucket_policy_public, resource_policy_public, PublicVerdict, Reason, ResourceKind};
pub use zone::{shares_outside, ExternalShare, ShareTarget};
