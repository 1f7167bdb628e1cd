//! Slack incoming-webhook poster ([`PostWebhook`]) over the SDK's own HTTP stack (hyper + rustls).
//!
//! The webhook URL is a secret: it is never logged, never part of an error message and redacted from
//! `Debug`. HTTP 429 and 5xx answers and connection failures are retried with exponential backoff,
//! honouring `Retry-After` (seconds) when present; once the attempts are spent the error is retryable, so
//! the SNS delivery is retried later. Other 4xx answers (a revoked webhook, an invalid payload) are not.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use thiserror::Error;

use crate::PostWebhook;

/// A failed webhook post. The message never contains the URL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("slack webhook post failed after {attempts} attempt(s): {message}")]
pub struct WebhookError {
    /// Whether a later retry may succeed (429, 5xx, connection failures, timeouts).
    pub retryable: bool,
    pub attempts: u32,
    pub message: String,
}

impl WebhookError {
    fn config(message: impl Into<String>) -> Self {
        Self {
            retryable: false,
            attempts: 0,
            message: message.into(),
        }
    }
}

/// How often and how long to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub max_attempts: u32,
    /// Backoff before retry n (n >= 1) is `base_delay * 2^(n-1)`, unless `Retry-After` says otherwise.
    pub base_delay: Duration,
    /// Upper bound of any single wait, `Retry-After` included (keeps the Lambda inside its timeout).
    pub max_delay: Duration,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
}

/// notify-slack's Lambda timeout (template.yaml `Globals.Function.Timeout`).
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for RetryPolicy {
    /// Worst case, every attempt timing out and every wait at its cap: 3 x 6 s + 2 x 4 s = 26 s, inside
    /// [`FUNCTION_TIMEOUT`] with room for the invocation's own work, so a failing webhook ends in a retryable
    /// error (SNS delivers again, then the subscription's dead-letter queue) rather than a Lambda timeout.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
            attempt_timeout: Duration::from_secs(6),
        }
    }
}

impl RetryPolicy {
    /// The longest a post can take: every attempt timing out, every wait at its cap.
    pub fn worst_case(&self) -> Duration {
        self.attempt_timeout.saturating_mul(self.max_attempts)
            + self.max_delay.saturating_mul(self.max_attempts.saturating_sub(1))
    }
}

impl RetryPolicy {
    /// The wait before the retry that follows attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        retry_after.unwrap_or(backoff).min(self.max_delay)
    }
}

/// Parses `Retry-After` as delta-seconds (what Slack sends). HTTP-dates are ignored (backoff applies).
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

fn https_client() -> Result<HttpsClient, String> {
    let connector = HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("loading the system trust roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// Posts JSON to one Slack incoming webhook.
#[derive(Clone)]
pub struct SlackWebhook {
    /// Built on the first post (loading the platform's trust roots is the costliest step of a cold start),
    /// then shared by clones; a failure to load the roots is kept and reported by every post.
    client: Arc<OnceLock<Result<HttpsClient, String>>>,
    url: Uri,
    policy: RetryPolicy,
}

impl fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackWebhook")
            .field("url", &"<redacted>")
            .field("policy", &self.policy)
            .finish()
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

impl SlackWebhook {
    /// Validates the URL (https, or http to a loopback address for local tests) without echoing it.
    pub fn new(url: &str, policy: RetryPolicy) -> Result<Self, WebhookError> {
        let url: Uri = url
            .trim()
            .parse()
            .map_err(|_| WebhookError::config("the webhook url in the secret is not a valid url"))?;
        let host = url.host().unwrap_or_default();
        match url.scheme_str() {
            Some("https") => {}
            Some("http") if is_loopback(host) => {}
            _ => {
                return Err(WebhookError::config(
                    "the webhook url in the secret must use https",
                ))
            }
        }
        Ok(Self {
            client: Arc::new(OnceLock::new()),
            url,
            policy,
        })
    }

    fn client(&self) -> Result<&HttpsClient, WebhookError> {
        self.client
            .get_or_init(https_client)
            .as_ref()
            .map_err(|e| WebhookError::config(e.clone()))
    }

    /// One attempt: `Ok(None)` on success, `Ok(Some((retryable, message, retry_after)))` on failure.
    async fn attempt(&self, body: &Bytes) -> Result<(), (bool, String, Option<Duration>)> {
        let req = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(body.clone()))
            .map_err(|e| (false, format!("building the request: {e}"), None))?;
        let client = self.client().map_err(|e| (false, e.message, None))?;
        let resp = match tokio::time::timeout(self.policy.attempt_timeout, client.request(req)).await {
            Err(_) => return Err((true, "timed out".to_owned(), None)),
            Ok(Err(e)) => {
                // hyper-util's errors describe the failure kind (connect, io), not the URL; the source chain
                // is added without the host to be sure.
                let mut msg = format!("request failed: {e}");
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    msg.push_str(&format!(": {s}"));
                    src = s.source();
                }
                let host = self.url.host().unwrap_or_default();
                if !host.is_empty() {
                    msg = msg.replace(host, "<redacted>");
                }
                return Err((true, msg, None));
            }
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        let retry_after = parse_retry_after(
            resp.headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
        );
        // Slack explains failures in a short text body (`invalid_payload`, `no_service`...).
        let text = match resp.into_body().collect().await {
            Ok(b) => String::from_utf8_lossy(&b.to_bytes())
                .chars()
                .take(200)
                .collect::<String>(),
            Err(_) => String::new(),
        };
        if status.is_success() {
            return Ok(());
        }
        let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
        Err((
            retryable,
            format!("http {}: {}", status.as_u16(), text.trim()),
            retry_after,
        ))
    }
}

impl PostWebhook for SlackWebhook {
    async fn post_json(&self, body: &Value) -> Result<(), WebhookError> {
        let body = Bytes::from(body.to_string());
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(&body).await {
                Ok(()) => return Ok(()),
                Err((retryable, message, retry_after)) => {
                    if !retryable || attempt >= self.policy.max_attempts {
                        return Err(WebhookError {
                            retryable,
                            attempts: attempt,
                            message,
                        });
                    }
                    let wait = self.policy.delay(attempt, retry_after);
                    tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %message, "slack webhook post failed, retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_default_retry_budget_fits_the_function_timeout() {
        let p = RetryPolicy::default();
        assert!(
            p.worst_case() + Duration::from_secs(2) <= FUNCTION_TIMEOUT,
            "{:?}",
            p.worst_case()
        );
    }

    #[test]
    fn backoff_and_retry_after() {
        let p = RetryPolicy::default();
        // (attempt, Retry-After header, expected wait)
        let cases: &[(u32, Option<&str>, u64)] = &[
            (1, None, 500),
            (2, None, 1000),
            (3, None, 2000),
            (10, None, 4_000),
            (1, Some("3"), 3000),
            (1, Some(" 0 "), 0),
            (1, Some("120"), 4_000),
            (2, Some("Wed, 21 Oct 2015 07:28:00 GMT"), 1000),
        ];
        for (attempt, header, want) in cases {
            let got = p.delay(*attempt, parse_retry_after(*header));
            assert_eq!(
                got,
                Duration::from_millis(*want),
                "attempt {attempt} header {header:?}"
            );
        }
    }

    #[test]
    fn url_validation_never_echoes_the_url() {
        let cases: &[(&str, bool)] = &[
            ("https://hooks.slack.com/services/T000/B000/SECRETSECRET", true),
            ("http://127.0.0.1:8080/hook", true),
            ("http://localhost:8080/hook", true),
            ("http://hooks.slack.com/services/T000/B000/SECRETSECRET", false),
            ("ftp://hooks.slack.com/SECRETSECRET", false),
            ("not a url SECRETSECRET", false),
        ];
        for (url, ok) in cases {
            match SlackWebhook::new(url, RetryPolicy::default()) {
                Ok(w) => {
                    assert!(*ok, "{url} accepted");
                    let debug = format!("{w:?}");
                    assert!(
                        !debug.contains("T000") && !debug.contains("8080"),
                        "debug leaks the url: {debug}"
                    );
                }
                Err(e) => {
                    assert!(!ok, "{url} rejected: {e}");
                    assert!(
                        !e.to_string().contains("SECRETSECRET"),
                        "error leaks the url: {e}"
                    );
                    assert!(!e.retryable);
                }
            }
        }
    }
}
