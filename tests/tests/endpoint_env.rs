//! The functions' own configuration path: `AwsClients::load()` reads `AWS_ENDPOINT_URL` (and the rest) from
//! the environment exactly as in Lambda. S3 must go path-style and S3 Control must not prefix the account id
//! to the override's host, or these calls could not reach the emulator.
//! One test per binary: it sets process environment variables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tripline_aws::{AwsClients, S3Read};
use tripline_core::state::PublicAccessBlock;
use tripline_integration::{emulator, unique};

/// moto's default account (no `x-moto-account-id` header: the production client adds none).
const MOTO_DEFAULT_ACCOUNT: &str = "123456789012";

#[tokio::test]
async fn aws_endpoint_url_reaches_s3_path_style_and_s3_control_without_host_prefix() {
    let endpoint = &emulator().endpoint;
    for (k, v) in [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_MAX_ATTEMPTS", "1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(k, v);
    }
    let aws = AwsClients::load().await;

    let bucket = unique("env-endpoint");
    aws.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    assert!(aws.list_buckets().await.unwrap().contains(&bucket));

    let block = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: false,
        block_public_policy: true,
        restrict_public_buckets: false,
    };
    aws.s3control
        .put_public_access_block()
        .account_id(MOTO_DEFAULT_ACCOUNT)
        .public_access_block_configuration(
            aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        aws.account_public_access_block(MOTO_DEFAULT_ACCOUNT)
            .await
            .unwrap(),
        Some(block)
    );
}
