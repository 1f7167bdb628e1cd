//! SDK clients, built once per cold start from one [`SdkConfig`] and borrowed by every handler call.
//!
//! Endpoint overrides come only from the SDK's own configuration (`AWS_ENDPOINT_URL`, or
//! `SdkConfig::endpoint_url` when a test builds the config itself): there is no Tripline-specific
//! variable and no test-only branch in the handlers. Two adjustments apply when an override is set:
//! - S3 uses path-style addressing (`http://host/bucket/key`), since an emulator or proxy host has no
//!   per-bucket DNS names;
//! - S3 Control's endpoint rules prefix the account id to the host (`123456789012.s3-control...`), which
//!   cannot resolve for an override, so a resolver that returns the override unchanged is installed.
//!
//! S3 answers a bucket's calls only in the bucket's region (elsewhere: 301 `PermanentRedirect`, or 400
//! `AuthorizationHeaderMalformed`, with the right region in `x-amz-bucket-region`). [`S3Regions`] keeps one
//! S3 client per region, built lazily from the same configuration (so an endpoint override applies to every
//! region alike), and the region of each bucket seen so far; `s3.rs` picks the client per bucket.
//!
//! ## Timeouts and retry budget ([`CallBudget`])
//!
//! Every client gets connect, read, per-attempt and per-operation timeouts and a bounded standard retry
//! (exponential backoff with full jitter), set on the [`SdkConfig`] by [`sdk_config_loader`] so that every
//! client built from it (including S3 per region and the member-account configurations of `routing.rs`)
//! inherits them. Defaults ([`CallBudget::LAMBDA`]), worst case of one call:
//!
//! ```text
//! attempts x attempt timeout + backoff           = 3 x 3 s + (0.5 s + 1 s) = 10.5 s
//! capped by the operation timeout                = 6 s   (connect 2 s and read 3 s sit inside an attempt)
//! ```
//!
//! and of one invocation, whose calls run at most this many in sequence (concurrent reads count once):
//!
//! | function (template.yaml `Timeout`) | calls in sequence, worst case | worst case |
//! |---|---|---|
//! | on-cloudtrail (30 s) | STS AssumeRole (member account, cold) + wrong-region S3 read, locate, retry + Publish = 4 | 4 x 6 s = 24 s < 30 s |
//! | on-config (60 s) | AssumeRole + GetObject (oversized item) + 3 (wrong region) + PutEvaluations + Publish = 7 | 42 s < 60 s |
//! | remediate (60 s) | re-read + write + read back + rollback write + Publish, + 3 for a region redirect = 8 | 48 s < 60 s |
//! | notify-slack (30 s) | GetSecretValue (cached after the first) = 1 SDK call; the webhook has its own retry policy (`slack.rs`) | 6 s + the webhook's |
//! | sweep (900 s) | paginated listings and bounded-concurrency reads: bounded by the sweep deadline (`app::assess`) | < 900 s |
//!
//! so a call that hangs or keeps failing ends as an error (retryable when transient, see `error.rs`) before
//! Lambda's timeout kills the invocation, and the event source's retry and dead-letter queue keep the
//! event. Writes (remediations) are retried by the SDK only when the service refused them (throttling):
//! after a timeout, a reset connection or a 5xx the write may have been applied, so it is not sent again
//! ([`RetryRefusedOnly`]); the invocation fails as retryable and the next delivery re-reads the resource
//! first (a write that did land makes the finding stale: skipped, not repeated).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_sdk_s3control::config::endpoint::{Endpoint, EndpointFuture, Params, ResolveEndpoint};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::{Builder as HttpClientBuilder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority, RetryReason,
};
use aws_smithy_types::retry::ErrorKind as RetryErrorKind;

use super::timing::CallTiming;

/// Loads the SDK configuration the standard way: region, credentials, `AWS_ENDPOINT_URL` from the
/// environment and profile files, Tripline's [`CallBudget::LAMBDA`]; every client shares one [`https_client`].
pub async fn load_sdk_config() -> SdkConfig {
    sdk_config_loader().load().await
}

/// [`aws_config::defaults`] with the latest behavior version, the shared [`https_client`] and the
/// timeouts and retries of [`CallBudget::LAMBDA`], for callers that add their own overrides (the CLI's
/// `--endpoint-url`, `--region`) before loading.
pub fn sdk_config_loader() -> ConfigLoader {
    CallBudget::LAMBDA.apply(aws_config::defaults(BehaviorVersion::latest()).http_client(https_client()))
}

/// Timeouts and retries of every SDK call (see the module docs for the arithmetic against the functions'
/// timeouts). Not read from the environment: the defaults are what keeps a call inside the function's
/// timeout, and the SDK's own variables (`AWS_MAX_ATTEMPTS`, ...) are overridden by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallBudget {
    /// TCP (and TLS) connection set-up.
    pub connect: Duration,
    /// Waiting for the response once the request is sent.
    pub read: Duration,
    /// One attempt, from sending to the parsed response.
    pub attempt: Duration,
    /// The whole call, every attempt and backoff included.
    pub operation: Duration,
    /// Attempts per call (1 = no retry).
    pub max_attempts: u32,
    /// First backoff (full jitter: a random delay up to it), doubling per retry up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl CallBudget {
    /// The functions' budget: worst case of one call 6 s (module docs).
    pub const LAMBDA: CallBudget = CallBudget {
        connect: Duration::from_secs(2),
        read: Duration::from_secs(3),
        attempt: Duration::from_secs(3),
        operation: Duration::from_secs(6),
        max_attempts: 3,
        initial_backoff: Duration::from_millis(500),
        max_backoff: Duration::from_secs(1),
    };

    /// The worst case of one call: every attempt timing out plus the longest backoffs, capped by the
    /// operation timeout.
    pub fn worst_case(&self) -> Duration {
        let mut backoff = Duration::ZERO;
        let mut step = self.initial_backoff;
        for _ in 1..self.max_attempts {
            backoff += step.min(self.max_backoff);
            step = step.saturating_mul(2);
        }
        (self.attempt.saturating_mul(self.max_attempts) + backoff).min(self.operation)
    }

    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .read_timeout(self.read)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }

    pub fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }

    /// Sets both on a configuration loader.
    pub fn apply(&self, loader: ConfigLoader) -> ConfigLoader {
        loader
            .timeout_config(self.timeout_config())
            .retry_config(self.retry_config())
    }
}

/// The retry rule of writes: retried only when the service refused the request (throttling, S3 `SlowDown`),
/// never after a timeout, a reset connection or a 5xx, where the write may have been applied. Installed per
/// write call with [`write_call!`]; runs after the SDK's own classifiers and forbids what they would retry
/// for any other reason.
#[derive(Debug, Clone, Copy, Default)]
pub struct RetryRefusedOnly;

impl ClassifyRetry for RetryRefusedOnly {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, _ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        refused_only(previous)
    }

    fn name(&self) -> &'static str {
        "tripline: writes retried only when refused"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

fn refused_only(previous: &RetryAction) -> RetryAction {
    match previous {
        RetryAction::RetryIndicated(RetryReason::RetryableError {
            kind: RetryErrorKind::ThrottlingError,
            ..
        }) => RetryAction::NoActionIndicated,
        RetryAction::RetryIndicated(_) => RetryAction::RetryForbidden,
        _ => RetryAction::NoActionIndicated,
    }
}

/// `.customize().config_override(..)` argument for a write call of `$sdk_crate`: [`RetryRefusedOnly`].
#[macro_export]
#[doc(hidden)]
macro_rules! write_call {
    ($sdk_crate:ident) => {
        $sdk_crate::config::Builder::default().retry_classifier($crate::sdk::clients::RetryRefusedOnly)
    };
}

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, the platform's trust roots, proxy from
/// `HTTPS_PROXY`/`NO_PROXY`), built so that the TLS set-up happens once per process.
///
/// The SDK's own default builds a fresh client per service client and, to load certificates early, builds
/// and drops a complete TLS connector each time a service client is constructed: reading and parsing every
/// root certificate once per client (six at every cold start here), then once more on each client's first
/// request. This client is given to every service client through the [`SdkConfig`], skips that throw-away
/// build (the validation call is the only one without connector settings) and caches the real connector per
/// settings, so the roots are parsed once, on the first AWS call, and all clients share one connection pool.
/// Cold-start profile and figures: BENCHMARKS.md, section 2.
pub fn https_client() -> SharedHttpClient {
    HttpClientBuilder::new().build_with_connector_fn(|settings, components| {
        let Some(settings) = settings else {
            // Client construction's validation probe: its connector is dropped unused.
            return ConnectorBuilder::default().build_http();
        };
        let mut builder = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        builder.set_connector_settings(Some(settings.clone()));
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder.build()
    })
}

/// Every SDK client a Tripline function may use. Clients are cheap handles over one shared connection pool
/// ([`https_client`]); building all of them costs microseconds, no file read and no network call. Each
/// logs its calls' durations at debug level ([`CallTiming`]).
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// S3 in the configuration's region (bucket-level calls go through [`AwsClients::s3_regions`]).
    pub s3: aws_sdk_s3::Client,
    /// S3 clients per region and the known region of each bucket (shared by clones).
    pub s3_regions: S3Regions,
    pub s3control: aws_sdk_s3control::Client,
    pub iam: aws_sdk_iam::Client,
    pub sns: aws_sdk_sns::Client,
    pub config: aws_sdk_config::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    /// DynamoDB, for remediate's attempt markers ([`crate::AttemptMarker`]).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// STS, for `GetCallerIdentity` (the account of the credentials in use, [`crate::CallerIdentity`]).
    pub sts: aws_sdk_sts::Client,
    /// The account of these credentials, once asked (cached for the life of the clients; shared by clones).
    pub caller_account: Arc<tokio::sync::OnceCell<String>>,
    /// Security Hub of this client's account and region (findings import, `sdk::securityhub`).
    pub securityhub: aws_sdk_securityhub::Client,
    /// EC2 in the configuration's region (other regions: `sdk::ec2_network::ec2_in`).
    pub ec2: aws_sdk_ec2::Client,
    /// RDS in the configuration's region (other regions: `sdk::rds_instances::rds_in`).
    pub rds: aws_sdk_rds::Client,
    /// SQS (the sweep's resource-policy readers, `resource_policies.rs`).
    pub sqs: aws_sdk_sqs::Client,
    /// KMS, ECR and Lambda (the sweep's readers, `service_policies.rs`).
    pub kms: aws_sdk_kms::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub lambda: aws_sdk_lambda::Client,
    /// CloudTrail in the configuration's region (the account-state sweep, `sdk::account_state`).
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    /// GuardDuty in the configuration's region (other regions: `sdk::account_state`).
    pub guardduty: aws_sdk_guardduty::Client,
    /// EFS, OpenSearch Service, S3 Glacier (the sweep's policy-kind readers, `policy_kinds.rs`).
    pub efs: aws_sdk_efs::Client,
    pub opensearch: aws_sdk_opensearch::Client,
    pub glacier: aws_sdk_glacier::Client,
}

/// `$sdk_crate::Client` from the shared configuration, with the per-call timing interceptor.
macro_rules! timed_client {
    ($sdk_crate:ident, $sdk:expr) => {
        $sdk_crate::Client::from_conf(
            $sdk_crate::config::Builder::from($sdk)
                .interceptor(CallTiming)
                .build(),
        )
    };
}

impl AwsClients {
    /// Builds every client from one configuration (see the module docs for endpoint overrides).
    pub fn new(sdk: &SdkConfig) -> Self {
        let override_url = sdk.endpoint_url().map(str::to_owned);
        let s3_regions = S3Regions::new(sdk);
        let mut s3control = aws_sdk_s3control::config::Builder::from(sdk);
        if let Some(url) = override_url {
            s3control = s3control.endpoint_resolver(FixedEndpoint { url });
        }
        Self {
            s3: s3_regions.home(),
            s3_regions,
            s3control: aws_sdk_s3control::Client::from_conf(s3control.interceptor(CallTiming).build()),
            iam: timed_client!(aws_sdk_iam, sdk),
            sns: timed_client!(aws_sdk_sns, sdk),
            config: timed_client!(aws_sdk_config, sdk),
            secrets: timed_client!(aws_sdk_secretsmanager, sdk),
            sts: timed_client!(aws_sdk_sts, sdk),
            dynamodb: timed_client!(aws_sdk_dynamodb, sdk),
            caller_account: Arc::new(tokio::sync::OnceCell::new()),
            securityhub: timed_client!(aws_sdk_securityhub, sdk),
            ec2: timed_client!(aws_sdk_ec2, sdk),
            rds: timed_client!(aws_sdk_rds, sdk),
            sqs: timed_client!(aws_sdk_sqs, sdk),
            kms: timed_client!(aws_sdk_kms, sdk),
            ecr: timed_client!(aws_sdk_ecr, sdk),
            lambda: timed_client!(aws_sdk_lambda, sdk),
            cloudtrail: timed_client!(aws_sdk_cloudtrail, sdk),
            guardduty: timed_client!(aws_sdk_guardduty, sdk),
            efs: timed_client!(aws_sdk_efs, sdk),
            opensearch: timed_client!(aws_sdk_opensearch, sdk),
            glacier: timed_client!(aws_sdk_glacier, sdk),
        }
    }

    /// [`load_sdk_config`] then [`AwsClients::new`].
    pub async fn load() -> Self {
        Self::new(&load_sdk_config().await)
    }
}

/// The region a `LocationConstraint` (GetBucketLocation, CreateBucketConfiguration) stands for: none or
/// empty is `us-east-1`, the legacy `EU` is `eu-west-1`
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html>, "Buckets in Region
/// us-east-1 have a LocationConstraint of null"; `EU` is listed among the valid values for `eu-west-1`).
pub fn region_of_location_constraint(constraint: Option<&str>) -> String {
    match constraint.map(str::trim) {
        None | Some("") => "us-east-1".to_owned(),
        Some("EU") => "eu-west-1".to_owned(),
        Some(r) => r.to_owned(),
    }
}

/// S3 clients per region, built lazily from one [`SdkConfig`], and the region of every bucket seen so far
/// (from ListBuckets' `BucketRegion`, an event's region, or a redirect). Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct S3Regions {
    inner: Arc<S3RegionsInner>,
}

#[derive(Debug)]
struct S3RegionsInner {
    sdk: SdkConfig,
    home_region: Option<String>,
    home: aws_sdk_s3::Client,
    clients: Mutex<HashMap<String, aws_sdk_s3::Client>>,
    buckets: Mutex<HashMap<String, String>>,
}

/// Builds an S3 client for `region` (`None`: the configuration's own).
fn s3_client(sdk: &SdkConfig, region: Option<&str>) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .interceptor(CallTiming);
    if let Some(r) = region {
        builder = builder.region(Region::new(r.to_owned()));
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

impl S3Regions {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            inner: Arc::new(S3RegionsInner {
                sdk: sdk.clone(),
                home_region: sdk.region().map(|r| r.as_ref().to_owned()),
                home: s3_client(sdk, None),
                clients: Mutex::new(HashMap::new()),
                buckets: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The configuration's region, if it has one.
    pub fn home_region(&self) -> Option<&str> {
        self.inner.home_region.as_deref()
    }

    /// The client of the configuration's region.
    pub fn home(&self) -> aws_sdk_s3::Client {
        self.inner.home.clone()
    }

    /// The client for `region`, built on first use and cached.
    pub fn client(&self, region: &str) -> aws_sdk_s3::Client {
        if self.home_region() == Some(region) || region.is_empty() {
            return self.home();
        }
        let mut clients = self.inner.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients
            .entry(region.to_owned())
            .or_insert_with(|| s3_client(&self.inner.sdk, Some(region)))
            .clone()
    }

    /// The bucket's region when known.
    pub fn bucket_region(&self, bucket: &str) -> Option<String> {
        let buckets = self.inner.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        buckets.get(bucket).cloned()
    }

    /// Records the bucket's region (an empty region is ignored).
    pub fn remember(&self, bucket: &str, region: &str) {
        if bucket.is_empty() || region.is_empty() {
            return;
        }
        let mut buckets = self.inner.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.get(bucket).map(String::as_str) != Some(region) {
            buckets.insert(bucket.to_owned(), region.to_owned());
        }
    }

    /// The client for the bucket's region (the home client while the region is unknown) and the region
    /// that client signs for.
    pub fn for_bucket(&self, bucket: &str) -> (aws_sdk_s3::Client, Option<String>) {
        match self.bucket_region(bucket) {
            Some(r) => (self.client(&r), Some(r)),
            None => (self.home(), self.inner.home_region.clone()),
        }
    }
}

/// An S3 Control endpoint resolver that sends every request to the override URL as is (no account-id
/// host prefix). Signing still uses the service's default scheme (SigV4, signing name `s3`).
#[derive(Debug, Clone)]
struct FixedEndpoint {
    url: String,
}

impl ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(&'a self, _params: &'a Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.url.clone()).build()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};

    #[test]
    fn call_budget_fits_the_shortest_function_timeout() {
        let b = CallBudget::LAMBDA;
        // 3 x 3 s + 0.5 s + 1 s = 10.5 s, capped at 6 s.
        assert_eq!(b.worst_case(), Duration::from_secs(6));
        // on-cloudtrail (template.yaml Timeout 30): at most 4 calls in sequence.
        assert!(b.worst_case() * 4 < Duration::from_secs(30));
        // remediate and on-config (Timeout 60): at most 8.
        assert!(b.worst_case() * 8 < Duration::from_secs(60));
        assert!(b.connect <= b.attempt && b.read <= b.attempt && b.attempt <= b.operation);
        let t = b.timeout_config();
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(6)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(t.read_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(b.retry_config().max_attempts(), 3);
    }

    #[test]
    fn writes_retry_only_refusals() {
        let throttled = RetryAction::throttling_error();
        assert_eq!(refused_only(&throttled), RetryAction::NoActionIndicated);
        for ambiguous in [RetryAction::transient_error(), RetryAction::server_error()] {
            assert_eq!(refused_only(&ambiguous), RetryAction::RetryForbidden);
        }
        assert_eq!(
            refused_only(&RetryAction::NoActionIndicated),
            RetryAction::NoActionIndicated
        );
    }

    #[test]
    fn location_constraints() {
        // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html: us-east-1 buckets
        // have a null LocationConstraint; `EU` is the legacy value of eu-west-1.
        let cases: &[(Option<&str>, &str)] = &[
            (None, "us-east-1"),
            (Some(""), "us-east-1"),
            (Some("EU"), "eu-west-1"),
            (Some("eu-west-1"), "eu-west-1"),
            (Some("ap-southeast-2"), "ap-southeast-2"),
        ];
        for (lc, want) in cases {
            assert_eq!(region_of_location_constraint(*lc), *want, "{lc:?}");
        }
    }

    fn sdk(endpoint: Option<&str>) -> SdkConfig {
        let mut b = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "testing", "testing", None, None, "unit",
            )));
        if let Some(e) = endpoint {
            b = b.endpoint_url(e);
        }
        b.build()
    }

    #[test]
    fn one_client_per_region_built_once_and_bucket_regions_remembered() {
        for endpoint in [None, Some("http://127.0.0.1:5000")] {
            let regions = S3Regions::new(&sdk(endpoint));
            let region_of = |c: &aws_sdk_s3::Client| c.config().region().map(|r| r.as_ref().to_owned());
            assert_eq!(region_of(&regions.home()).as_deref(), Some("us-east-1"));
            // The home region and an empty one use the home client; no regional client is built for them.
            assert_eq!(
                region_of(&regions.client("us-east-1")).as_deref(),
                Some("us-east-1")
            );
            assert_eq!(region_of(&regions.client("")).as_deref(), Some("us-east-1"));
            assert_eq!(
                region_of(&regions.client("eu-west-1")).as_deref(),
                Some("eu-west-1")
            );
            regions.client("eu-west-1");
            assert_eq!(regions.inner.clients.lock().unwrap().len(), 1, "{endpoint:?}");

            let (c, r) = regions.for_bucket("b");
            assert_eq!(
                (region_of(&c), r.as_deref()),
                (Some("us-east-1".into()), Some("us-east-1"))
            );
            regions.remember("b", "ap-southeast-2");
            regions.remember("b", "");
            regions.remember("", "eu-west-1");
            let (c, r) = regions.for_bucket("b");
            assert_eq!(
                (region_of(&c), r.as_deref()),
                (Some("ap-southeast-2".into()), Some("ap-southeast-2"))
            );
            // Clones share the maps.
            let clone = regions.clone();
            clone.remember("c", "eu-west-1");
            assert_eq!(regions.bucket_region("c").as_deref(), Some("eu-west-1"));
            assert_eq!(regions.inner.clients.lock().unwrap().len(), 2);
        }
    }
}
