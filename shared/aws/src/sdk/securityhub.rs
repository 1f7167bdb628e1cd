//! Security Hub: `BatchImportFindings` of ASFF findings ([`crate::asff`]).
//!
//! At most 100 findings per call (the API's limit: "The maximum number of findings ... is 100",
//! <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html>); each call is
//! retried by the SDK's standard retry on throttling and 5xx (the shared `CallBudget`), and a batch still
//! throttled after that is retried here with backoff. Findings Security Hub refused (`FailedFindings`) are
//! reported, never dropped silently. The call must come from the account that owns the findings
//! (`AwsAccountId`): [`crate::Routed`] imports through its target, i.e. the member role in an
//! organization-wide deployment.

use std::future::Future;
use std::time::Duration;

use aws_sdk_securityhub::types::AwsSecurityFinding;

use crate::{AwsClients, AwsError, ErrorKind, Routed};

/// Findings per `BatchImportFindings` call.
pub const BATCH: usize = 100;
/// Attempts of one batch that keeps being throttled (after the SDK's own retries).
const THROTTLED_ATTEMPTS: u32 = 4;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: usize,
    pub calls: usize,
    /// `<finding id>: <code> <message>` for each finding Security Hub refused.
    pub failed: Vec<String>,
}

/// Imports ASFF findings into the owning account's Security Hub.
pub trait ImportFindings: Send + Sync {
    /// One `BatchImportFindings` call (at most [`BATCH`] findings): (imported, failures).
    fn batch_import(
        &self,
        findings: Vec<AwsSecurityFinding>,
    ) -> impl Future<Output = Result<(usize, Vec<String>), AwsError>> + Send;
}

async fn batch_import_with(
    client: &aws_sdk_securityhub::Client,
    findings: Vec<AwsSecurityFinding>,
) -> Result<(usize, Vec<String>), AwsError> {
    const OP: &str = "securityhub:BatchImportFindings";
    let out = client
        .batch_import_findings()
        .set_findings(Some(findings))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(OP, e))?;
    let failed = out
        .failed_findings()
        .iter()
        .map(|f| {
            format!(
                "{}: {} {}",
                f.id().unwrap_or_default(),
                f.error_code().unwrap_or_default(),
                tripline_core::text::quote(f.error_message().unwrap_or_default())
            )
        })
        .collect();
    Ok((
        usize::try_from(out.success_count().unwrap_or(0)).unwrap_or(0),
        failed,
    ))
}

impl ImportFindings for AwsClients {
    async fn batch_import(
        &self,
        findings: Vec<AwsSecurityFinding>,
    ) -> Result<(usize, Vec<String>), AwsError> {
        batch_import_with(&self.securityhub, findings).await
    }
}

impl ImportFindings for Routed {
    async fn batch_import(
        &self,
        findings: Vec<AwsSecurityFinding>,
    ) -> Result<(usize, Vec<String>), AwsError> {
        // The owning account's Security Hub (the member role's credentials in an organization).
        self.target.batch_import(findings).await
    }
}

/// Imports `findings` in batches of [`BATCH`], retrying a throttled batch with backoff (200 ms, 400 ms,
/// 800 ms). The first non-throttling error is returned (retryable or not, as classified).
pub async fn import<I: ImportFindings>(
    hub: &I,
    findings: Vec<AwsSecurityFinding>,
) -> Result<ImportReport, AwsError> {
    let mut report = ImportReport::default();
    let mut rest = findings;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(BATCH));
        let batch = std::mem::replace(&mut rest, tail);
        let mut attempt = 0;
        loop {
            attempt += 1;
            report.calls += 1;
            match hub.batch_import(batch.clone()).await {
                Ok((n, failed)) => {
                    report.imported += n;
                    report.failed.extend(failed);
                    break;
                }
                Err(e) if e.kind == ErrorKind::Throttling && attempt < THROTTLED_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(report)
}
