//! The per-kind readers of the sweep's external-access and public-exposure assessment (issue 19): for each
//! row of `tripline_core::rules::external::SWEPT_KINDS`, list a region's resources (paginated), then read
//! each one's share attributes or resource policy. Both the kind's public rule and its cross-account rule
//! run on what is read (`app::assess`).
//!
//! SDK adapters: `sdk/shares.rs` (EC2 snapshots and AMIs, RDS DB and cluster snapshots) and
//! `sdk/resource_policies.rs` (SQS, SNS, Secrets Manager), `sdk/service_policies.rs` (KMS, ECR, Lambda),
//! `sdk/policy_kinds.rs` (S3 access points and Multi-Region Access Points, EFS, DynamoDB tables and
//! streams, OpenSearch, Glacier; issue 16). [`crate::fakes::FakeAws`] keeps the same in memory;
//! [`crate::Routed`] sends the calls to the routed account. Every call names its region: the assessment
//! reads every enabled region of the account's partition (`app/assess/exposure.rs`); the SDK adapter makes
//! the region's clients from the same configuration ([`crate::AwsClients::in_region`]).

use std::collections::BTreeMap;
use std::future::Future;

use tripline_core::rules::external::{Exposure, SweptKindId};

use crate::AwsError;

/// One resource a kind's listing returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// What the kind's read call takes: snapshot or image id, DB (cluster) snapshot identifier, queue URL,
    /// topic ARN, secret ARN.
    pub id: String,
    pub arn: String,
    pub name: String,
    /// Tags when the listing returns them (EC2, RDS, Secrets Manager); `None`: read with
    /// [`ExposureRead::swept_tags`] when a rule fires.
    pub tags: Option<BTreeMap<String, String>>,
}

/// Reads what a swept kind exposes.
pub trait ExposureRead: Send + Sync {
    /// Every resource of `kind` in `region` (owned by the account: snapshots and images `self`, manual
    /// DB snapshots), following every page.
    fn list_swept(
        &self,
        kind: SweptKindId,
        region: &str,
    ) -> impl Future<Output = Result<Vec<Listed>, AwsError>> + Send;
    /// The resource's share attribute targets or resource policy (the resource lives in `region`).
    fn read_exposure(
        &self,
        kind: SweptKindId,
        region: &str,
        id: &str,
    ) -> impl Future<Output = Result<Exposure, AwsError>> + Send;
    /// The resource's tags, for kinds whose listing does not return them.
    fn swept_tags(
        &self,
        kind: SweptKindId,
        region: &str,
        id: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, AwsError>> + Send;
}
