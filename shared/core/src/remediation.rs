//! The remediation registry: every remediation Tripline can apply, one row each: its id (the interface
//! in findings and SNS attributes), the service it acts on, and the IAM write permissions it needs.
//!
//! Rules name a remediation by its constant here (`remediation: Some(remediation::X)`), never by a string,
//! so a rule cannot offer a remediation the registry does not have. `tripline-aws`'s remediate use case
//! dispatches on [`RemediationKind`] with an exhaustive `match`, one module per service, so the compiler
//! refuses a registered remediation that is not implemented.

/// Which remediation; the exhaustive `match` of the remediate use case is over this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RemediationKind {
    /// `config-start-configuration-recorder`
    ConfigStartConfigurationRecorder,
    /// `iam-restore-previous-default-version`
    IamRestorePreviousDefaultVersion,
    /// `iam-detach-admin-policy`
    IamDetachAdminPolicy,
    /// `iam-restore-previous-trust-policy`
    IamRestorePreviousTrustPolicy,
    /// `s3-restore-bucket-public-access-block`
    S3RestoreBucketPublicAccessBlock,
    /// `s3-restore-account-public-access-block`
    S3RestoreAccountPublicAccessBlock,
    /// `s3-remove-public-policy-statements`
    S3RemovePublicPolicyStatements,
    /// `s3-remove-public-acl-grants`
    S3RemovePublicAclGrants,
}

/// The AWS service a remediation acts on (one module per service in the remediate use case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    S3,
    Iam,
    Config,
}

/// One remediation: its id, kind, service, and the IAM write permissions it needs. Only writes: the reads a
/// remediation makes (before planning, just before writing, when verifying) are granted to remediate in every
/// mode, dry-run included (template `ReadBeforeAndAfterRemediating`), so a dry-run can read what it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remediation {
    pub id: &'static str,
    pub kind: RemediationKind,
    pub service: Service,
    pub permissions: &'static [&'static str],
}

pub const CONFIG_START_CONFIGURATION_RECORDER: Remediation = Remediation {
    id: "config-start-configuration-recorder",
    kind: RemediationKind::ConfigStartConfigurationRecorder,
    service: Service::Config,
    permissions: &["config:StartConfigurationRecorder"],
};

pub const IAM_RESTORE_PREVIOUS_DEFAULT_VERSION: Remediation = Remediation {
    id: "iam-restore-previous-default-version",
    kind: RemediationKind::IamRestorePreviousDefaultVersion,
    service: Service::Iam,
    permissions: &["iam:SetDefaultPolicyVersion"],
};

pub const IAM_DETACH_ADMIN_POLICY: Remediation = Remediation {
    id: "iam-detach-admin-policy",
    kind: RemediationKind::IamDetachAdminPolicy,
    service: Service::Iam,
    permissions: &[
        "iam:DetachRolePolicy",
        "iam:DetachUserPolicy",
        "iam:DetachGroupPolicy",
    ],
};

pub const IAM_RESTORE_PREVIOUS_TRUST_POLICY: Remediation = Remediation {
    id: "iam-restore-previous-trust-policy",
    kind: RemediationKind::IamRestorePreviousTrustPolicy,
    service: Service::Iam,
    permissions: &["iam:UpdateAssumeRolePolicy"],
};

pub const S3_RESTORE_BUCKET_PUBLIC_ACCESS_BLOCK: Remediation = Remediation {
    id: "s3-restore-bucket-public-access-block",
    kind: RemediationKind::S3RestoreBucketPublicAccessBlock,
    service: Service::S3,
    permissions: &["s3:PutBucketPublicAccessBlock"],
};

pub const S3_RESTORE_ACCOUNT_PUBLIC_ACCESS_BLOCK: Remediation = Remediation {
    id: "s3-restore-account-public-access-block",
    kind: RemediationKind::S3RestoreAccountPublicAccessBlock,
    service: Service::S3,
    permissions: &["s3:PutAccountPublicAccessBlock"],
};

pub const S3_REMOVE_PUBLIC_POLICY_STATEMENTS: Remediation = Remediation {
    id: "s3-remove-public-policy-statements",
    kind: RemediationKind::S3RemovePublicPolicyStatements,
    service: Service::S3,
    permissions: &["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
};

pub const S3_REMOVE_PUBLIC_ACL_GRANTS: Remediation = Remediation {
    id: "s3-remove-public-acl-grants",
    kind: RemediationKind::S3RemovePublicAclGrants,
    service: Service::S3,
    permissions: &["s3:PutBucketAcl"],
};

/// Every remediation, one row each.
pub const REGISTRY: &[Remediation] = &[
    CONFIG_START_CONFIGURATION_RECORDER,
    IAM_RESTORE_PREVIOUS_DEFAULT_VERSION,
    IAM_DETACH_ADMIN_POLICY,
    IAM_RESTORE_PREVIOUS_TRUST_POLICY,
    S3_RESTORE_BUCKET_PUBLIC_ACCESS_BLOCK,
    S3_RESTORE_ACCOUNT_PUBLIC_ACCESS_BLOCK,
    S3_REMOVE_PUBLIC_POLICY_STATEMENTS,
    S3_REMOVE_PUBLIC_ACL_GRANTS,
];

/// The registry row of a remediation id (from a finding or an SNS message).
pub fn by_id(id: &str) -> Option<&'static Remediation> {
    REGISTRY.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_kinds_are_unique_and_every_remediation_is_offered_by_a_rule() {
        let ids: std::collections::BTreeSet<_> = REGISTRY.iter().map(|r| r.id).collect();
        let kinds: std::collections::BTreeSet<_> = REGISTRY.iter().map(|r| r.kind).collect();
        assert_eq!(ids.len(), REGISTRY.len(), "duplicate remediation id");
        assert_eq!(kinds.len(), REGISTRY.len(), "two rows of one kind");
        for r in REGISTRY {
            assert!(
                crate::rules::REGISTRY
                    .iter()
                    .any(|rule| rule.remediation == Some(*r)),
                "remediation `{}` is offered by no rule",
                r.id
            );
            assert!(
                !r.permissions.is_empty(),
                "`{}` declares no write permission",
                r.id
            );
            assert_eq!(by_id(r.id), Some(r));
        }
    }
}
