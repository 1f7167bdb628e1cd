//! Tripline's AWS side: narrow capability traits, their AWS SDK implementations, the in-memory fakes
//! (feature `fakes`) and the handlers. The pure engine is the `tripline-core` crate.
//!
//! Handlers (`handlers::*`) are generic over the traits below, never over SDK clients, so unit tests run
//! them against [`fakes::FakeAws`] and integration tests against the real SDK talking to an emulator.
//! [`AwsClients`] (built once in each function's `main`) implements every trait:
//!
//! | trait | SDK implementation | used by |
//! |---|---|---|
//! | [`S3Read`] | `s3.rs` (+ S3 Control for the account-level Block Public Access) | on-cloudtrail, on-config, sweep, remediate |
//! | [`IamRead`] | `iam.rs` | on-cloudtrail, on-config, sweep, remediate |
//! | [`Publish`] | `sns.rs` | every detector, remediate |
//! | [`PutEvaluations`] | `config.rs` | on-config |
//! | [`ConfigRecorder`] | `config.rs` | remediate |
//! | [`FetchObject`] | `s3.rs` | on-config (oversized items) |
//! | [`S3Write`], [`IamWrite`] | `s3.rs`, `iam.rs` | remediate |
//! | [`ReadSecret`] | `secrets.rs` | notify-slack (cold start) |
//! | [`PostWebhook`] | `slack.rs` (hyper + rustls, the SDK's own HTTP stack) | notify-slack |
//! | [`DutiesRead`] (`duties.rs`) | `iam_password.rs`, `ec2_network.rs`, `rds_instances.rs`, `patch_compliance.rs` | sweep, on-config (scheduled), on-cloudtrail (RDS state) |
//! | [`AccountStateRead`] (`account_state.rs`, supertrait of `DutiesRead`) | `account_state.rs` | sweep, on-config (scheduled) |
//!
//! Conventions: every method returns [`AwsError`] (classified retryable or not); "absent" is not an error
//! (a bucket without a policy is `Ok(None)`); documents are returned as parsed JSON, URL-decoded where IAM
//! encodes them. Traits return `impl Future + Send` so handlers can run on the multi-threaded runtime;
//! implementations simply write `async fn`.

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use tripline_core::render::sns::SnsMessage;
use tripline_core::state::PublicAccessBlock;

pub mod account_state;
pub mod app;
pub mod asff;
pub mod duties;
pub mod env;
pub mod error;
pub mod exposure;
pub mod handlers;
pub mod metrics;
pub mod org_members;
pub mod routing;
pub mod runtime;
pub mod sdk;
pub mod store;

#[cfg(any(test, feature = "fakes"))]
pub mod fakes;

/// Runs a future to completion on a fresh current-thread runtime: the unit tests of the async traits and
/// handlers (the fakes need no I/O driver; timers are on, as in the functions, for the retry backoffs).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

pub use account_state::AccountStateRead;
pub use duties::DutiesRead;
pub use error::{AwsError, ErrorKind};
pub use exposure::{ExposureRead, Listed};
pub use routing::{AccountRouter, MemberRole, Routed};
pub use sdk::clients::{https_client, load_sdk_config, sdk_config_loader, AwsClients};
pub use sdk::webhook::{SlackWebhook, WebhookError};

/// One version of a customer-managed policy (`iam:ListPolicyVersions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersionInfo {
    pub version_id: String,
    pub is_default: bool,
    /// RFC 3339; versions are ordered by this when "the previous default" must be inferred.
    pub create_date: String,
}

/// A customer-managed policy (`iam:ListPolicies` with `Scope=Local`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicyInfo {
    /// `PolicyId` (`ANPA...`): the resource id AWS Config uses.
    pub id: String,
    pub arn: String,
    pub name: String,
    pub default_version_id: String,
}

/// A role and its trust policy (`iam:ListRoles`), the document already URL-decoded and parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleInfo {
    /// `RoleId` (`AROA...`): the resource id AWS Config uses.
    pub id: String,
    pub name: String,
    pub arn: String,
    pub trust_policy: Option<Value>,
}

/// Whom an IAM managed policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum PrincipalRef {
    Role(String),
    User(String),
    Group(String),
}

/// AWS Config compliance verdicts (`ComplianceType`). `INSUFFICIENT_DATA` is never sent by Tripline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    Compliant,
    NonCompliant,
    NotApplicable,
}

impl Compliance {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliant => "COMPLIANT",
            Self::NonCompliant => "NON_COMPLIANT",
            Self::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

/// One `Evaluation` of a `PutEvaluations` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigEvaluation {
    /// e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
    /// The resource id as Config knows it (bucket name, role id...).
    pub resource_id: String,
    pub compliance: Compliance,
    /// 1..=255 characters (AWS Config limit is 256; [`ConfigEvaluation::new`] truncates).
    pub annotation: String,
    /// RFC 3339: the configuration item's capture time, or the invocation time for scheduled runs.
    pub ordering_timestamp: String,
}

/// AWS Config rejects annotations longer than 256 characters; Tripline keeps them strictly under.
pub const MAX_ANNOTATION_CHARS: usize = 255;

impl ConfigEvaluation {
    /// Builds an evaluation, truncating the annotation on a character boundary to
    /// [`MAX_ANNOTATION_CHARS`] (ending in `...` when cut) and replacing an empty one with the verdict.
    pub fn new(
        resource_type: impl Into<String>,
        resource_id: impl Into<String>,
        compliance: Compliance,
        annotation: &str,
        ordering_timestamp: impl Into<String>,
    ) -> Self {
        let annotation = if annotation.trim().is_empty() {
            compliance.as_str().to_owned()
        } else {
            tripline_core::text::truncate_chars(annotation, MAX_ANNOTATION_CHARS)
        };
        Self {
            resource_type: resource_type.into(),
            resource_id: resource_id.into(),
            compliance,
            annotation,
            ordering_timestamp: ordering_timestamp.into(),
        }
    }
}

/// Read access to S3 bucket state and the account-level Block Public Access.
pub trait S3Read: Send + Sync {
    /// Every bucket name in the account (paginated).
    fn list_buckets(&self) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// Tells the implementation which region `bucket` is in (an event's `awsRegion`), so its calls go
    /// there first. A hint only: implementations without regions ignore it, and the SDK implementation
    /// still follows S3's wrong-region answers.
    fn note_bucket_region(&self, _bucket: &str, _region: &str) {}
    /// The bucket policy, `None` when the bucket has none.
    fn bucket_policy(&self, bucket: &str) -> impl Future<Output = Result<Option<Value>, AwsError>> + Send;
    /// The ACL as a GetBucketAcl response: `{"Owner": {...}, "Grants": [{"Grantee": {"Type", "URI", "ID"},
    /// "Permission"}]}`.
    fn bucket_acl(&self, bucket: &str) -> impl Future<Output = Result<Value, AwsError>> + Send;
    /// Bucket-level Block Public Access, `None` when not configured.
    fn bucket_public_access_block(
        &self,
        bucket: &str,
    ) -> impl Future<Output = Result<Option<PublicAccessBlock>, AwsError>> + Send;
    /// Bucket tags (empty when none).
    fn bucket_tags(
        &self,
        bucket: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, AwsError>> + Send;
    /// Account-level Block Public Access (S3 Control), `None` when not configured.
    fn account_public_access_block(
        &self,
        account_id: &str,
    ) -> impl Future<Output = Result<Option<PublicAccessBlock>, AwsError>> + Send;
}

/// Read access to IAM policies and roles.
pub trait IamRead: Send + Sync {
    fn list_policy_versions(
        &self,
        policy_arn: &str,
    ) -> impl Future<Output = Result<Vec<PolicyVersionInfo>, AwsError>> + Send;
    /// A version's document, URL-decoded when IAM encoded it, parsed.
    fn policy_version_document(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<Value, AwsError>> + Send;
    fn policy_tags(
        &self,
        policy_arn: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, AwsError>> + Send;
    /// The role's trust policy (`AssumeRolePolicyDocument`), decoded and parsed.
    fn role_trust_policy(&self, role_name: &str) -> impl Future<Output = Result<Value, AwsError>> + Send;
    fn role_tags(
        &self,
        role_name: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, AwsError>> + Send;
    /// Every customer-managed policy (`Scope=Local`, paginated).
    fn list_local_policies(&self) -> impl Future<Output = Result<Vec<ManagedPolicyInfo>, AwsError>> + Send;
    /// Every role with its trust policy (paginated).
    fn list_roles(&self) -> impl Future<Output = Result<Vec<RoleInfo>, AwsError>> + Send;
    /// The managed policies attached to a principal (ARNs).
    fn attached_policies(
        &self,
        principal: &PrincipalRef,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
}

/// Publishes to an SNS topic; returns the message id.
pub trait Publish: Send + Sync {
    fn publish(
        &self,
        topic_arn: &str,
        message: &SnsMessage,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// Reports AWS Config rule evaluations.
pub trait PutEvaluations: Send + Sync {
    fn put_evaluations(
        &self,
        result_token: &str,
        evaluations: &[ConfigEvaluation],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// Fetches an S3 object (oversized Config items).
pub trait FetchObject: Send + Sync {
    fn get_object(&self, bucket: &str, key: &str) -> impl Future<Output = Result<Vec<u8>, AwsError>> + Send;
}

/// The S3 writes remediation performs.
pub trait S3Write: Send + Sync {
    fn put_bucket_policy(
        &self,
        bucket: &str,
        policy: &Value,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn delete_bucket_policy(&self, bucket: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Replaces the ACL with `acl` (the GetBucketAcl shape [`S3Read::bucket_acl`] returns).
    fn put_bucket_acl(&self, bucket: &str, acl: &Value) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Sets bucket-level Block Public Access; `None` deletes the configuration (used by rollback).
    fn put_bucket_public_access_block(
        &self,
        bucket: &str,
        block: Option<PublicAccessBlock>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Sets account-level Block Public Access (S3 Control) of `account_id`; `None` deletes the configuration
    /// (used by rollback).
    fn put_account_public_access_block(
        &self,
        account_id: &str,
        block: Option<PublicAccessBlock>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// AWS Config recorder status and restart (remediate's `config-start-configuration-recorder`).
pub trait ConfigRecorder: Send + Sync {
    /// Whether the configuration recorder `name` is recording; `None` when no recorder of that name exists
    /// (DescribeConfigurationRecorderStatus).
    fn recorder_recording(&self, name: &str) -> impl Future<Output = Result<Option<bool>, AwsError>> + Send;
    /// StartConfigurationRecorder.
    fn start_configuration_recorder(&self, name: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// The IAM writes remediation performs.
pub trait IamWrite: Send + Sync {
    fn set_default_policy_version(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn detach_policy(
        &self,
        principal: &PrincipalRef,
        policy_arn: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Re-attaches (rollback of a detach).
    fn attach_policy(
        &self,
        principal: &PrincipalRef,
        policy_arn: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn update_assume_role_policy(
        &self,
        role_name: &str,
        document: &Value,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// The account of the credentials in use (`sts:GetCallerIdentity`, cached). Remediation compares it with
/// the account of every target before writing (issue 12, A): nothing is ever written with the credentials
/// of one account to a resource of another.
pub trait CallerIdentity: Send + Sync {
    fn caller_account(&self) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// At most one enforced remediation attempt per key within a window (issue 12, D): a conditional write, so
/// concurrent or repeated deliveries of one finding cannot loop. `Ok(None)`: claimed now, until `until`
/// (unix seconds); `Ok(Some(t))`: an unexpired claim made at `t` exists, nothing claimed.
pub trait AttemptMarker: Send + Sync {
    fn claim_attempt(
        &self,
        table: &str,
        key: &str,
        now: i64,
        until: i64,
    ) -> impl Future<Output = Result<Option<i64>, AwsError>> + Send;
}

/// Reads a secret's string value. The value must never be logged.
pub trait ReadSecret: Send + Sync {
    fn secret_string(&self, secret_id: &str) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// Posts a JSON body to a fixed webhook (Slack). Implementations retry transient failures themselves.
pub trait PostWebhook: Send + Sync {
    fn post_json(&self, body: &Value) -> impl Future<Output = Result<(), WebhookError>> + Send;
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn annotation_limits() {
        // AWS Config API Reference, `Evaluation.Annotation`: "Length Constraints: Minimum length of 1.
        // Maximum length of 256."
        let cases: &[(&str, usize, Option<&str>)] = &[
            ("bucket policy grants `*`", 24, Some("bucket policy grants `*`")),
            ("", 13, Some("NON_COMPLIANT")),
            (&"x".repeat(255), 255, None),
            (&"x".repeat(256), 255, None),
            (&"é".repeat(1000), 255, None),
        ];
        for (input, want_len, want) in cases {
            let e = ConfigEvaluation::new("AWS::S3::Bucket", "b", Compliance::NonCompliant, input, "t");
            assert_eq!(e.annotation.chars().count(), *want_len, "{input:?}");
            if let Some(w) = want {
                assert_eq!(e.annotation, *w);
            }
            if input.chars().count() > MAX_ANNOTATION_CHARS {
                assert!(e.annotation.ends_with("..."));
            }
        }
    }
}
