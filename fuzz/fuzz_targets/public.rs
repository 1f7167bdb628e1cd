//! "Public" verdicts for every resource kind (S3 bucket policy, SNS, SQS, KMS, ECR, Secrets Manager, Lambda,
//! IAM role trust), cross-account grants, removing the public statements of a bucket policy, and the
//! bucket's exposure under each Block Public Access setting.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_core::policy::{
    bucket_exposure, bucket_policy_public, cross_account, narrow, resource_policy_public, ResourceKind,
    Trusted,
};
use tripline_core::PublicAccessBlock;

const KINDS: [ResourceKind; 13] = [
    ResourceKind::S3Bucket,
    ResourceKind::SnsTopic,
    ResourceKind::SqsQueue,
    ResourceKind::KmsKey,
    ResourceKind::EcrRepository,
    ResourceKind::SecretsManagerSecret,
    ResourceKind::LambdaFunction,
    ResourceKind::IamRoleTrust,
    ResourceKind::S3AccessPoint,
    ResourceKind::EfsFileSystem,
    ResourceKind::DynamoDbTable,
    ResourceKind::OpenSearchDomain,
    ResourceKind::GlacierVault,
];

fuzz_target!(|data: &[u8]| {
    let Some(doc) = tripline_fuzz::json(data) else {
        return;
    };
    let _ = narrow::remove_public_statements(&doc);
    let Ok(policy) = tripline_core::policy::Policy::parse(&doc) else {
        return;
    };
    let bucket = bucket_policy_public(&policy);
    for kind in KINDS {
        let _ = resource_policy_public(&policy, kind);
    }
    let trusted = Trusted {
        accounts: ["111122223333".to_owned()].into_iter().collect(),
        organization_id: Some("o-abc123".to_owned()),
        organization_accounts: None,
    };
    let _ = cross_account(&policy, &trusted);
    let _ = cross_account(&policy, &Trusted::default());
    let off = PublicAccessBlock::default();
    for pab in [None, Some(&off), Some(&PublicAccessBlock::ALL_ON)] {
        let _ = bucket_exposure(Some(&bucket), None, pab, None);
    }
});
