//! Event intake: any payload a Tripline function receives -> [`Intake`]. Pure: no I/O.

use serde::{Deserialize, Serialize};

use crate::change::Change;
use crate::error::IntakeError;

/// The outcome of intake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "intake", rename_all = "snake_case")]
pub enum Intake {
    Change(Box<Change>),
    /// Valid but irrelevant: acknowledge and log once.
    Ignored {
        reason: String,
    },
    /// An oversized Config item: the shell fetches `s3://bucket/key` and calls intake again with the
    /// item (see `intake_oversized`), keeping the invocation's result token.
    FetchOversized {
        bucket: String,
        key: String,
        result_token: Option<String>,
    },
}

/// Turns one payload into an [`Intake`].
pub fn intake(_bytes: &[u8]) -> Result<Intake, IntakeError> {
    Ok(Intake::Ignored {
        reason: "intake not implemented yet".to_owned(),
    })
}
