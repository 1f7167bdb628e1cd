//! [`AwsError`]: one error type for every AWS call, classified once so handlers can decide between "retry
//! the whole invocation" (throttling, 5xx, timeouts, connection failures) and "this will never work"
//! (access denied, validation errors, missing resources).

use std::fmt;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use thiserror::Error;

/// What kind of failure an AWS call ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The service throttled the call (HTTP 429 or a throttling error code). Retryable.
    Throttling,
    /// The service failed (HTTP 5xx, `InternalError`, `ServiceUnavailable`...). Retryable.
    ServerError,
    /// The call timed out (client-side timeout or `RequestTimeout`). Retryable.
    Timeout,
    /// The request never got an answer: connection refused, DNS, TLS, I/O. Retryable.
    Dispatch,
    /// The resource does not exist (`NoSuchBucket`, `NoSuchEntity`...).
    NotFound,
    /// The caller lacks a permission (`AccessDenied`...).
    AccessDenied,
    /// Any other client-side error (validation, malformed request, unparseable response).
    Client,
}

impl ErrorKind {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::Throttling | Self::ServerError | Self::Timeout | Self::Dispatch
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Throttling => "throttling",
            Self::ServerError => "server error",
            Self::Timeout => "timeout",
            Self::Dispatch => "dispatch failure",
            Self::NotFound => "not found",
            Self::AccessDenied => "access denied",
            Self::Client => "client error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed AWS call: the operation (`s3:GetBucketPolicy`), the kind, the service's error code when there
/// is one, and a message. Never contains credentials or secret values.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("aws call `{operation}` failed ({kind}{}): {message}", code.as_deref().map(|c| format!(", code `{c}`")).unwrap_or_default())]
pub struct AwsError {
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn new(operation: &'static str, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            operation,
            kind,
            code: None,
            message: message.into(),
        }
    }

    /// Throttling, 5xx, timeouts and dispatch failures are retryable; everything else is not.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// Whether the service answered with this error code (e.g. `NoSuchBucketPolicy`).
    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// `Ok(absent)` when the service answered `code`, its way of saying the configuration does not exist
    /// (`NoSuchTagSet`, `NoSuchBucketPolicy`...); the error itself otherwise.
    pub fn absent_as<T>(self, code: &str, absent: T) -> Result<T, AwsError> {
        if self.has_code(code) {
            Ok(absent)
        } else {
            Err(self)
        }
    }

    /// Classifies any SDK error. `operation` names the call, e.g. `s3:GetBucketPolicy`.
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_owned);
        let kind = match &err {
            SdkError::TimeoutError(_) => ErrorKind::Timeout,
            SdkError::DispatchFailure(d) if d.is_timeout() => ErrorKind::Timeout,
            SdkError::DispatchFailure(_) => ErrorKind::Dispatch,
            SdkError::ConstructionFailure(_) => ErrorKind::Client,
            SdkError::ServiceError(_) => classify(status, code.as_deref()),
            // The response could not be read or parsed, typically because the connection closed mid-response
            // (a truncated 404 is not "not found"): transient, as the SDK's own retry classifier has it.
            SdkError::ResponseError(_) => match classify(status, code.as_deref()) {
                kind @ (ErrorKind::Throttling | ErrorKind::ServerError | ErrorKind::Timeout) => kind,
                _ => ErrorKind::Dispatch,
            },
            _ => ErrorKind::Client,
        };
        let message = match (&err, err.message()) {
            (_, Some(m)) => m.to_owned(),
            (SdkError::DispatchFailure(d), None) => format!("{d:?}"),
            _ => {
                // `DisplayErrorContext` prints the whole source chain on one line.
                let full = DisplayErrorContext(&err).to_string();
                match status {
                    Some(s) => format!("http {s}: {full}"),
                    None => full,
                }
            }
        };
        Self {
            operation,
            kind,
            code,
            message,
        }
    }
}

/// Error codes AWS services use for throttling (the SDK's own retry classifier uses the same list).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes that mean a transient service-side failure.
const SERVER_CODES: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceFailure",
];

const TIMEOUT_CODES: &[&str] = &["RequestTimeout", "RequestTimeoutException"];

/// Classifies a service answer by HTTP status and error code.
pub fn classify(status: Option<u16>, code: Option<&str>) -> ErrorKind {
    if let Some(c) = code {
        if THROTTLING_CODES.contains(&c) {
            return ErrorKind::Throttling;
        }
        if TIMEOUT_CODES.contains(&c) {
            return ErrorKind::Timeout;
        }
        if SERVER_CODES.contains(&c) {
            return ErrorKind::ServerError;
        }
    }
    match status {
        Some(429) => return ErrorKind::Throttling,
        Some(s) if s >= 500 => return ErrorKind::ServerError,
        _ => {}
    }
    match code {
        Some(c) if c.starts_with("NoSuch") || c.ends_with("NotFound") || c.ends_with("NotFoundException") => {
            ErrorKind::NotFound
        }
        Some(c) if c.starts_with("AccessDenied") || c == "UnauthorizedOperation" || c == "Forbidden" => {
            ErrorKind::AccessDenied
        }
        _ if status == Some(404) => ErrorKind::NotFound,
        _ if status == Some(403) => ErrorKind::AccessDenied,
        _ => ErrorKind::Client,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        // Throttling and transient codes: the SDK's retry classifier lists
        // (aws-runtime `retries::classifiers::THROTTLING_ERRORS` / `TRANSIENT_ERRORS`).
        let cases: &[(Option<u16>, Option<&str>, ErrorKind)] = &[
            (Some(400), Some("Throttling"), ErrorKind::Throttling),
            (Some(400), Some("ThrottlingException"), ErrorKind::Throttling),
            (Some(503), Some("SlowDown"), ErrorKind::Throttling),
            (Some(429), None, ErrorKind::Throttling),
            (Some(500), Some("InternalError"), ErrorKind::ServerError),
            (Some(503), None, ErrorKind::ServerError),
            (Some(502), Some("BadGateway"), ErrorKind::ServerError),
            (Some(400), Some("RequestTimeout"), ErrorKind::Timeout),
            (Some(404), Some("NoSuchBucket"), ErrorKind::NotFound),
            (Some(404), Some("NoSuchBucketPolicy"), ErrorKind::NotFound),
            (Some(404), Some("NoSuchEntity"), ErrorKind::NotFound),
            (Some(400), Some("ResourceNotFoundException"), ErrorKind::NotFound),
            (Some(404), None, ErrorKind::NotFound),
            (Some(403), Some("AccessDenied"), ErrorKind::AccessDenied),
            (Some(400), Some("AccessDeniedException"), ErrorKind::AccessDenied),
            (Some(403), None, ErrorKind::AccessDenied),
            (Some(400), Some("MalformedPolicy"), ErrorKind::Client),
            (Some(409), Some("LimitExceeded"), ErrorKind::Client),
            (None, None, ErrorKind::Client),
        ];
        for (status, code, want) in cases {
            assert_eq!(classify(*status, *code), *want, "status {status:?} code {code:?}");
        }
    }

    #[test]
    fn retryable_kinds() {
        let cases = [
            (ErrorKind::Throttling, true),
            (ErrorKind::ServerError, true),
            (ErrorKind::Timeout, true),
            (ErrorKind::Dispatch, true),
            (ErrorKind::NotFound, false),
            (ErrorKind::AccessDenied, false),
            (ErrorKind::Client, false),
        ];
        for (kind, want) in cases {
            assert_eq!(kind.is_retryable(), want, "{kind}");
        }
    }

    #[test]
    fn message_names_operation_and_code() {
        let mut e = AwsError::new("sns:Publish", ErrorKind::Throttling, "rate exceeded");
        e.code = Some("Throttling".into());
        assert_eq!(
            e.to_string(),
            "aws call `sns:Publish` failed (throttling, code `Throttling`): rate exceeded"
        );
    }

    #[test]
    fn absent_configuration_codes_become_the_absent_value() {
        let mut e = AwsError::new("s3:GetBucketTagging", ErrorKind::NotFound, "no tags");
        e.code = Some("NoSuchTagSet".into());
        assert_eq!(e.clone().absent_as("NoSuchTagSet", 0), Ok(0));
        // Another code, or none, stays the error.
        assert_eq!(e.clone().absent_as("NoSuchBucketPolicy", 0), Err(e.clone()));
        e.code = None;
        assert_eq!(e.clone().absent_as("NoSuchTagSet", 0), Err(e));
    }
}
