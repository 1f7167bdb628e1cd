//! Current state fetched by the AWS shell to confirm a change. The pure part only reads it.
//!
//! A `None` field means "not fetched": rules then judge from the payload and mark the finding as
//! "state not confirmed". A fetched-but-absent setting is represented explicitly (e.g. a bucket without a
//! policy has `policy: None` inside a fetched [`BucketState`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// S3 Block Public Access settings (bucket or account level). An absent configuration is all `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlock {
    #[serde(default)]
    pub block_public_acls: bool,
    #[serde(default)]
    pub ignore_public_acls: bool,
    #[serde(default)]
    pub block_public_policy: bool,
    #[serde(default)]
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// All four settings on: what remediation restores.
    pub const ALL_ON: Self = Self {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
}

/// What the shell fetched about one bucket.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BucketState {
    /// The bucket policy document; `None` when the bucket has none.
    #[serde(default)]
    pub policy: Option<Value>,
    /// A GetBucketAcl response (`Owner`, `Grants[].Grantee{Type,URI,ID}`, `Grants[].Permission`).
    #[serde(default)]
    pub acl: Option<Value>,
    /// Bucket-level Block Public Access; `None` when not configured (all off).
    #[serde(default)]
    pub public_access_block: Option<PublicAccessBlock>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// Everything the shell fetched for one change. Serializable so `tripline assess --state FILE` can use it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct State {
    /// The touched bucket, when fetched.
    #[serde(default)]
    pub bucket: Option<BucketState>,
    /// Account-level Block Public Access, when fetched (absent configuration = all off).
    #[serde(default)]
    pub account_public_access_block: Option<PublicAccessBlock>,
    /// For managed-policy changes: the document of the default version before the change, when fetched.
    #[serde(default)]
    pub previous_policy_document: Option<Value>,
    /// For managed-policy changes: the document of the current default version, when fetched.
    #[serde(default)]
    pub current_policy_document: Option<Value>,
    /// Tags of the primary resource, when fetched (used for exemptions).
    #[serde(default)]
    pub resource_tags: Option<BTreeMap<String, String>>,
    /// The DB instance a change names, as `DescribeDBInstances` describes it (`DBInstance`, PascalCase:
    /// `PubliclyAccessible`, `StorageEncrypted`, ...), when fetched and found.
    #[serde(default)]
    pub db_instance: Option<Value>,
}

/// A piece of current state a rule needs to confirm a change; the shell fetches the union of the needs
/// of the rules a change triggers, concurrently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateNeed {
    BucketPolicy,
    BucketAcl,
    BucketPublicAccessBlock,
    AccountPublicAccessBlock,
    BucketTags,
    PolicyVersions,
    ResourceTags,
    /// The DB instance the change names (`rds:DescribeDBInstances`), for what the record leaves unknown.
    DbInstance,
}

impl StateNeed {
    /// The IAM read permissions the shell needs to fetch this piece of state.
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            StateNeed::BucketPolicy => &["s3:GetBucketPolicy"],
            StateNeed::BucketAcl => &["s3:GetBucketAcl"],
            StateNeed::BucketPublicAccessBlock => &["s3:GetBucketPublicAccessBlock"],
            StateNeed::AccountPublicAccessBlock => &["s3:GetAccountPublicAccessBlock"],
            StateNeed::BucketTags => &["s3:GetBucketTagging"],
            StateNeed::PolicyVersions => &["iam:GetPolicy", "iam:ListPolicyVersions", "iam:GetPolicyVersion"],
            // What the shell calls for the primary resource's tags (exemptions): bucket, role or policy.
            StateNeed::ResourceTags => &["s3:GetBucketTagging", "iam:ListRoleTags", "iam:ListPolicyTags"],
            StateNeed::DbInstance => &["rds:DescribeDBInstances"],
        }
    }
}
