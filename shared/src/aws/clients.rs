//! SDK clients, built once per cold start from one [`SdkConfig`] and borrowed by every handler call.
//!
//! Endpoint overrides come only from the SDK's own configuration (`AWS_ENDPOINT_URL`, or
//! `SdkConfig::endpoint_url` when a test builds the config itself): there is no Tripline-specific
//! variable and no test-only branch in the handlers. Two adjustments apply when an override is set:
//! - S3 uses path-style addressing (`http://host/bucket/key`), since an emulator or proxy host has no
//!   per-bucket DNS names;
//! - S3 Control's endpoint rules prefix the account id to the host (`123456789012.s3-control...`), which
//!   cannot resolve for an override, so a resolver that returns the override unchanged is installed.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_s3control::config::endpoint::{Endpoint, EndpointFuture, Params, ResolveEndpoint};

/// Loads the SDK configuration the standard way: region, credentials, `AWS_ENDPOINT_URL`, retry and
/// timeout settings from the environment and profile files.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// Every SDK client a Tripline function may use. Clients are cheap handles over shared connection pools;
/// building all of them costs microseconds and no network call.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub s3: aws_sdk_s3::Client,
    pub s3control: aws_sdk_s3control::Client,
    pub iam: aws_sdk_iam::Client,
    pub sns: aws_sdk_sns::Client,
    pub config: aws_sdk_config::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl AwsClients {
    /// Builds every client from one configuration (see the module docs for endpoint overrides).
    pub fn new(sdk: &SdkConfig) -> Self {
        let override_url = sdk.endpoint_url().map(str::to_owned);
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(override_url.is_some())
            .build();
        let mut s3control = aws_sdk_s3control::config::Builder::from(sdk);
        if let Some(url) = override_url {
            s3control = s3control.endpoint_resolver(FixedEndpoint { url });
        }
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3),
            s3control: aws_sdk_s3control::Client::from_conf(s3control.build()),
            iam: aws_sdk_iam::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            config: aws_sdk_config::Client::new(sdk),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
        }
    }

    /// [`load_sdk_config`] then [`AwsClients::new`].
    pub async fn load() -> Self {
        Self::new(&load_sdk_config().await)
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
