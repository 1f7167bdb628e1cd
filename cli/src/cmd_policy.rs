//! `tripline policy public|acl|diff|escalation`: the policy engine on documents.
//!
//! Output shapes (stable contract; extra fields may be added):
//! - `public [FILE|-]` -> `{"public": bool, "reasons": [...], "kind": ...}`
//! - `acl [FILE|-]` -> `{"public": bool, "reasons": [...]}`
//! - `diff OLD NEW` -> `{"widened": bool, "new_access": [{"action", "resource", ...}], "reasons": [...], "new_combos": [...]}`
//! - `escalation [FILE|-]` -> `{"combos": [{"id", "actions", "source", ...}], "full_admin": bool}`
//!
//! Exit 0 for any verdict, 2 for an invalid document (one line on stderr). Every input is at most 6 MiB (see
//! [`crate::io`]).
//!
//! Besides a bare policy document, the commands accept the document as a JSON string, or wrapped as AWS
//! APIs return it: `{"Policy": "<json>"}` (GetBucketPolicy), `{"PolicyDocument": ...}`,
//! `{"AssumeRolePolicyDocument": ...}`, `{"PolicyVersion": {"Document": ...}}`, or inside a CloudTrail
//! record's `requestParameters` (`bucketPolicy`, `policyDocument`, ...), also under EventBridge `detail`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;
use serde_json::Value;
use tripline_core::policy::{self, Access, Combo, Policy, Reason, ResourceKind};
use tripline_core::text::quote;

use crate::io;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// `iam-role-trust` when the document is shaped like a trust policy (no `Resource`, only `sts:`
    /// actions), `s3-bucket` otherwise.
    Auto,
    S3Bucket,
    SnsTopic,
    SqsQueue,
    KmsKey,
    EcrRepository,
    SecretsManagerSecret,
    LambdaFunction,
    IamRoleTrust,
}

impl Kind {
    fn resolve(self, p: &Policy) -> ResourceKind {
        match self {
            Kind::Auto => {
                let trust = !p.statements.is_empty()
                    && p.statements.iter().all(|s| {
                        s.resource.is_none()
                            && !s.action.negated
                            && s.action
                                .values
                                .iter()
                                .all(|a| a.to_ascii_lowercase().starts_with("sts:"))
                    });
                if trust {
                    ResourceKind::IamRoleTrust
                } else {
                    ResourceKind::S3Bucket
                }
            }
            other => ResourceKind::from(other),
        }
    }
}

impl From<Kind> for ResourceKind {
    fn from(k: Kind) -> ResourceKind {
        match k {
            Kind::Auto | Kind::S3Bucket => ResourceKind::S3Bucket,
            Kind::SnsTopic => ResourceKind::SnsTopic,
            Kind::SqsQueue => ResourceKind::SqsQueue,
            Kind::KmsKey => ResourceKind::KmsKey,
            Kind::EcrRepository => ResourceKind::EcrRepository,
            Kind::SecretsManagerSecret => ResourceKind::SecretsManagerSecret,
            Kind::LambdaFunction => ResourceKind::LambdaFunction,
            Kind::IamRoleTrust => ResourceKind::IamRoleTrust,
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Is a bucket policy public, exactly as the Amazon S3 User Guide defines it ("The meaning of
    /// 'public'")? `--kind` applies the same analysis to other resource policies.
    Public {
        /// The policy document, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// The kind of resource the policy is attached to.
        #[arg(long, value_enum, default_value = "auto")]
        kind: Kind,
    },
    /// Is an ACL public (any permission to AllUsers or AuthenticatedUsers)? Accepts a GetBucketAcl
    /// response, CloudTrail PutBucketAcl request parameters (grant body, `x-amz-grant-*` headers), or a
    /// canned ACL in `x-amz-acl`.
    Acl {
        /// The ACL document, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Does NEW allow any request OLD does not? Prints witnesses of new access.
    Diff {
        /// The policy before the change.
        old: PathBuf,
        /// The policy after the change.
        new: PathBuf,
    },
    /// Which privilege-escalation combos does a policy enable?
    Escalation {
        /// The policy document, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
}

#[derive(Serialize)]
struct PublicOut {
    public: bool,
    reasons: Vec<Reason>,
    kind: ResourceKind,
}

#[derive(Serialize)]
struct DiffOut {
    widened: bool,
    new_access: Vec<Access>,
    reasons: Vec<Reason>,
    /// Escalation combos the new policy enables and the old one does not.
    new_combos: Vec<String>,
}

#[derive(Serialize)]
struct EscalationOut {
    combos: Vec<Combo>,
    full_admin: bool,
}

fn read_json(path: &Path) -> Result<Value, String> {
    let bytes = io::read_input(path)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{}: malformed json: {}",
            io::input_name(path),
            quote(&e.to_string())
        )
    })
}

/// The policy document inside `v` (see the module documentation for the accepted wrappings).
fn unwrap_document(v: Value) -> Result<Value, String> {
    match v {
        Value::String(s) => serde_json::from_str(&s)
            .map_err(|e| format!("malformed json in the policy string: {}", quote(&e.to_string()))),
        Value::Object(ref o) if !o.contains_key("Statement") => {
            // API outputs, and CloudTrail records (EventBridge `detail`, `requestParameters`) whose
            // parameters carry the document (`bucketPolicy`, `policyDocument`, `policy`, ...).
            for key in [
                "Policy",
                "PolicyDocument",
                "AssumeRolePolicyDocument",
                "detail",
                "requestParameters",
                "bucketPolicy",
                "policyDocument",
                "assumeRolePolicyDocument",
                "policy",
            ] {
                if let Some(inner) = o.get(key) {
                    return unwrap_document(inner.clone());
                }
            }
            if let Some(doc) = o.get("PolicyVersion").and_then(|p| p.get("Document")) {
                return unwrap_document(doc.clone());
            }
            Ok(v)
        }
        other => Ok(other),
    }
}

fn load_policy(path: &Path) -> Result<Policy, String> {
    let doc = unwrap_document(read_json(path)?).map_err(|e| format!("{}: {e}", io::input_name(path)))?;
    Policy::parse(&doc).map_err(|e| format!("{}: {e}", io::input_name(path)))
}

pub fn run(args: &Args) -> ExitCode {
    match &args.command {
        PolicyCommand::Public { file, kind } => match load_policy(file) {
            Ok(p) => {
                let kind = kind.resolve(&p);
                let v = policy::resource_policy_public(&p, kind);
                io::print_json(&PublicOut {
                    public: v.public,
                    reasons: v.reasons,
                    kind,
                })
            }
            Err(e) => io::bad_input(&e),
        },
        PolicyCommand::Acl { file } => {
            let doc = match read_json(file) {
                Ok(d) => d,
                Err(e) => return io::bad_input(&e),
            };
            match policy::acl_public(&doc) {
                Ok(v) => io::print_json(&v),
                Err(e) => io::bad_input(&format!("{}: {e}", io::input_name(file))),
            }
        }
        PolicyCommand::Diff { old, new } => {
            if io::is_stdin(old) && io::is_stdin(new) {
                return io::bad_input("`diff` reads at most one of OLD and NEW from standard input");
            }
            let (old, new) = match (load_policy(old), load_policy(new)) {
                (Ok(o), Ok(n)) => (o, n),
                (Err(e), _) | (_, Err(e)) => return io::bad_input(&e),
            };
            let d = policy::diff(&old, &new);
            let new_combos = policy::newly_enabled_combos(&old, &new)
                .into_iter()
                .map(|c| c.id)
                .collect();
            io::print_json(&DiffOut {
                widened: d.widened,
                new_access: d.new_access,
                reasons: d.reasons,
                new_combos,
            })
        }
        PolicyCommand::Escalation { file } => match load_policy(file) {
            Ok(p) => io::print_json(&EscalationOut {
                combos: policy::escalation_combos(&p),
                full_admin: policy::grants_full_admin(&p),
            }),
            Err(e) => io::bad_input(&e),
        },
    }
}
