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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records batch sizes; throttles the first `throttle` calls; refuses ids ending in `!`.
    #[derive(Default)]
    struct Hub {
        batches: Mutex<Vec<usize>>,
        throttle: Mutex<u32>,
    }

    impl ImportFindings for Hub {
        async fn batch_import(
            &self,
            findings: Vec<AwsSecurityFinding>,
        ) -> Result<(usize, Vec<String>), AwsError> {
            self.batches.lock().unwrap().push(findings.len());
            {
                let mut t = self.throttle.lock().unwrap();
                if *t > 0 {
                    *t -= 1;
                    return Err(AwsError::new(
                        "securityhub:BatchImportFindings",
                        ErrorKind::Throttling,
                        "slow down",
                    ));
                }
            }
            let refused: Vec<String> = findings
                .iter()
                .filter_map(|f| {
                    f.id()
                        .filter(|id| id.ends_with('!'))
                        .map(|id| format!("{id}: InvalidInput x"))
                })
                .collect();
            Ok((findings.len() - refused.len(), refused))
        }
    }

    fn findings(n: usize) -> Vec<AwsSecurityFinding> {
        (0..n)
            .map(|i| {
                AwsSecurityFinding::builder()
                    .id(if i == 7 { "f7!".to_owned() } else { format!("f{i}") })
                    .build()
            })
            .collect()
    }

    #[test]
    fn batches_of_at_most_100_throttling_retried_refusals_reported() {
        let hub = Hub {
            throttle: Mutex::new(2),
            ..Hub::default()
        };
        let report = crate::block_on(import(&hub, findings(250))).unwrap();
        // Two throttled attempts of the first batch, then 100 + 100 + 50.
        assert_eq!(*hub.batches.lock().unwrap(), vec![100, 100, 100, 100, 50]);
        assert_eq!(report.calls, 5);
        assert_eq!(report.imported, 249);
        assert_eq!(report.failed, vec!["f7!: InvalidInput x".to_owned()]);
        // Throttled past the attempts: the error is returned, retryable.
        let hub = Hub {
            throttle: Mutex::new(10),
            ..Hub::default()
        };
        let e = crate::block_on(import(&hub, findings(3))).unwrap_err();
        assert!(e.is_retryable(), "{e}");
        assert_eq!(hub.batches.lock().unwrap().len(), THROTTLED_ATTEMPTS as usize);
        // Nothing to import: no call.
        let hub = Hub::default();
        assert_eq!(
            crate::block_on(import(&hub, Vec::new())).unwrap(),
            ImportReport::default()
        );
        assert!(hub.batches.lock().unwrap().is_empty());
    }
}
