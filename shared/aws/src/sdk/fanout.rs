//! The organization-wide sweep's fan-out (issue 13): the organization's accounts (`organizations:ListAccounts`)
//! and the shard queue (`sqs:SendMessageBatch`).

use aws_sdk_organizations::types::AccountStatus;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::{AwsError, ErrorKind};

/// Every ACTIVE account of the organization (paginated). Suspended and pending-closure accounts cannot
/// be assumed into and are left out.
pub async fn active_accounts(org: &aws_sdk_organizations::Client) -> Result<Vec<String>, AwsError> {
    list_accounts(org, true).await
}

/// Every account the organization lists, whatever its state: the members of the zone of trust (a
/// suspended account is still in the organization until it is closed and removed).
pub async fn member_accounts(org: &aws_sdk_organizations::Client) -> Result<Vec<String>, AwsError> {
    list_accounts(org, false).await
}

async fn list_accounts(
    org: &aws_sdk_organizations::Client,
    active_only: bool,
) -> Result<Vec<String>, AwsError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    // 20 accounts per page (the API's maximum); 10,000 pages bound a runaway paginator.
    for _ in 0..10_000 {
        let page = org
            .list_accounts()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("organizations:ListAccounts", e))?;
        for a in page.accounts() {
            // `Status` is deprecated in favour of `State`, which moto and older APIs may not return:
            // ACTIVE when either says so, and when neither is present nothing says it is not.
            let active = match (a.state(), a.status()) {
                (Some(s), _) => s.as_str() == "ACTIVE",
                (None, Some(st)) => *st == AccountStatus::Active,
                (None, None) => true,
            };
            if let (true, Some(id)) = (active || !active_only, a.id()) {
                out.push(id.to_owned());
            }
        }
        match page.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(out),
        }
    }
    Err(AwsError::new(
        "organizations:ListAccounts",
        ErrorKind::Client,
        "more than 10,000 pages",
    ))
}

/// Sends `bodies` to the queue, ten per `SendMessageBatch`; `delay_seconds` (0-900) applies to each.
/// An entry SQS refuses fails the whole call (retryable when SQS says it was its fault).
pub async fn send_all(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    bodies: &[String],
    delay_seconds: i32,
) -> Result<(), AwsError> {
    for (c, chunk) in bodies.chunks(10).enumerate() {
        let mut req = sqs.send_message_batch().queue_url(queue_url);
        for (i, body) in chunk.iter().enumerate() {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(format!("m{c}-{i}"))
                .message_body(body)
                .delay_seconds(delay_seconds.clamp(0, 900))
                .build()
                .map_err(|e| AwsError::new("sqs:SendMessageBatch", ErrorKind::Client, e.to_string()))?;
            req = req.entries(entry);
        }
        let out = req
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sqs:SendMessageBatch", e))?;
        if let Some(f) = out.failed().first() {
            let kind = if f.sender_fault {
                ErrorKind::Client
            } else {
                ErrorKind::ServerError
            };
            return Err(AwsError {
                operation: "sqs:SendMessageBatch",
                kind,
                code: Some(f.code.clone()),
                message: f.message.clone().unwrap_or_default(),
            });
        }
    }
    Ok(())
}
