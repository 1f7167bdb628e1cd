//! The SDK adapters: each capability trait of [`crate`] implemented for [`crate::AwsClients`] with the AWS SDK for
//! Rust (one module per service), the one shared HTTPS client and `SdkConfig` ([`clients`]), the per-call
//! timing interceptor ([`timing`]) and the Slack incoming-webhook client ([`webhook`], on the SDK's own
//! hyper + rustls stack).
//!
//! | module | implements |
//! |---|---|
//! | [`s3`] | `S3Read`, `S3Write`, `FetchObject` (+ S3 Control for the account-level Block Public Access) |
//! | [`iam`] | `IamRead`, `IamWrite` |
//! | [`sns`] | `Publish` |
//! | [`config`] | `PutEvaluations`, `ConfigRecorder` |
//! | [`dynamodb`] | `FindingsStore` (the findings table) |
//! | [`secrets`] | `ReadSecret` |
//! | [`sts`] | `CallerIdentity` |
//! | [`dynamodb_attempts`] | `AttemptMarker` |
//! | [`securityhub`] | `ImportFindings` (ASFF into Security Hub) |
//! | [`shares`], [`resource_policies`], [`policy_kinds`] | `ExposureRead` (the sweep's per-kind readers) |
//! | [`webhook`] | `PostWebhook` |
//! | [`member`], [`runs`], [`fanout`] | organization-wide sweep: member-role sessions per account, `RunStore` (DynamoDB), Organizations + shard queue |
//! | [`iam_password`], [`ec2_network`], [`rds_instances`], [`patch_compliance`] | `DutiesRead` (`crate::duties`) |

pub mod account_state;
pub mod clients;
pub mod config;
pub mod dynamodb;
pub mod dynamodb_attempts;
pub mod ec2_network;
pub mod fanout;
pub mod iam;
pub mod iam_password;
pub mod member;
pub mod patch_compliance;
pub mod policy_kinds;
pub mod rds_instances;
pub mod resource_policies;
pub mod runs;
pub mod s3;
pub mod secrets;
pub mod securityhub;
pub mod service_policies;
pub mod shares;
pub mod sns;
pub mod sts;
pub mod timing;
pub mod webhook;
