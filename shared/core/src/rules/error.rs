//! Why a rule could not judge a change. A rule's error is reported as an `errors` entry of the
//! [`super::Evaluation`] (its `Display` is the entry's message), never as a finding, and never hides another
//! rule's findings.

use thiserror::Error;

use crate::policy::PolicyError;

/// Why a rule could not judge a change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckError {
    /// The record lacks what the call requires: an absent field is unknown, so the rule cannot judge.
    /// `missing` are record paths (`requestParameters.policyDocument`); `nor` names the alternatives the
    /// record lacks too.
    #[error("cannot judge {subject}: {}{}", lacks_all(missing), nor_text(*nor))]
    Lacks {
        subject: &'static str,
        missing: Vec<String>,
        nor: Option<&'static str>,
    },
    /// A field that must hold a policy document holds something else.
    #[error("cannot judge the call: `{path}` is not a policy document")]
    NotADocument { path: String },
    /// A statement of an identity policy has neither `Resource` nor `NotResource`.
    #[error(
        "cannot judge {subject}: statement `{statement}` has neither `Resource` nor `NotResource` \
         (the record does not include them; IAM requires one in identity policies)"
    )]
    NoResource { subject: String, statement: String },
    /// A document does not parse (policy grammar or ACL).
    #[error("invalid {what}: {source}")]
    Invalid {
        what: String,
        #[source]
        source: PolicyError,
    },
    /// The sweep's answer leaves the judged state unknown (a field absent, a read of part of it failed):
    /// never taken for the worst case (issue 16, account-level state).
    #[error("cannot judge: {0}")]
    Unknown(String),
}

impl CheckError {
    /// The record lacks one field the call requires (`path` under `requestParameters`).
    pub fn lacks_request(path: &[&str]) -> Self {
        Self::Lacks {
            subject: "the call",
            missing: vec![format!("requestParameters.{}", path.join("."))],
            nor: None,
        }
    }
}

fn lacks_all(missing: &[String]) -> String {
    missing
        .iter()
        .map(|p| super::payload::lacks(p))
        .collect::<Vec<_>>()
        .join(", ")
}

fn nor_text(nor: Option<&str>) -> String {
    nor.map(|n| format!(" (nor {n})")).unwrap_or_default()
}
