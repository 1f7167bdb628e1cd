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
//! | [`secrets`] | `ReadSecret` |
//! | [`shares`], [`resource_policies`] | `ExposureRead` (the sweep's per-kind readers) |
//! | [`webhook`] | `PostWebhook` |

pub mod clients;
pub mod config;
pub mod iam;
pub mod resource_policies;
pub mod s3;
pub mod secrets;
pub mod shares;
pub mod sns;
pub mod timing;
pub mod webhook;
