//! IAM implementations of [`IamRead`] and [`IamWrite`].
//!
//! IAM returns policy documents URL-encoded (RFC 3986) from GetRole, ListRoles, GetRolePolicy,
//! GetUserPolicy and GetPolicyVersion (IAM API Reference, `PolicyVersion.Document`: "The policy document
//! returned in this structure is URL-encoded compliant with RFC 3986"). Some emulators return plain JSON,
//! so [`decode_policy_document`] parses first and decodes only when needed.

use std::collections::BTreeMap;

use aws_sdk_iam::primitives::DateTimeFormat;
use aws_sdk_iam::types::PolicyScopeType;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::{
    AwsClients, AwsError, ErrorKind, IamRead, IamWrite, ManagedPolicyInfo, PolicyVersionInfo, PrincipalRef,
    RoleInfo,
};

/// Parses an IAM policy document that may be URL-encoded.
pub fn decode_policy_document(operation: &'static str, raw: &str) -> Result<Value, AwsError> {
    if let Ok(v) = serde_json::from_str::<Value>(raw) {
        return Ok(v);
    }
    let decoded = percent_decode_str(raw).decode_utf8().map_err(|e| {
        AwsError::new(
            operation,
            ErrorKind::Client,
            format!("policy document is not utf-8: {e}"),
        )
    })?;
    serde_json::from_str(&decoded).map_err(|e| {
        AwsError::new(
            operation,
            ErrorKind::Client,
            format!("policy document is not json: {e}"),
        )
    })
}

impl IamRead for AwsClients {
    async fn list_policy_versions(&self, policy_arn: &str) -> Result<Vec<PolicyVersionInfo>, AwsError> {
        let mut pages = self
            .iam
            .list_policy_versions()
            .policy_arn(policy_arn)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("iam:ListPolicyVersions", e))?;
            for v in page.versions() {
                let Some(id) = v.version_id() else { continue };
                out.push(PolicyVersionInfo {
                    version_id: id.to_owned(),
                    is_default: v.is_default_version(),
                    create_date: v
                        .create_date()
                        .and_then(|d| d.fmt(DateTimeFormat::DateTime).ok())
                        .unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    async fn policy_version_document(&self, policy_arn: &str, version_id: &str) -> Result<Value, AwsError> {
        const OP: &str = "iam:GetPolicyVersion";
        let out = self
            .iam
            .get_policy_version()
            .policy_arn(policy_arn)
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let raw = out
            .policy_version()
            .and_then(|v| v.document())
            .ok_or_else(|| AwsError::new(OP, ErrorKind::Client, "response has no `Document`"))?;
        decode_policy_document(OP, raw)
    }

    async fn policy_tags(&self, policy_arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        let mut pages = self
            .iam
            .list_policy_tags()
            .policy_arn(policy_arn)
            .into_paginator()
            .send();
        let mut tags = BTreeMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("iam:ListPolicyTags", e))?;
            tags.extend(
                page.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned())),
            );
        }
        Ok(tags)
    }

    async fn role_trust_policy(&self, role_name: &str) -> Result<Value, AwsError> {
        const OP: &str = "iam:GetRole";
        let out = self
            .iam
            .get_role()
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let raw = out
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .ok_or_else(|| {
                AwsError::new(
                    OP,
                    ErrorKind::Client,
                    "response has no `AssumeRolePolicyDocument`",
                )
            })?;
        decode_policy_document(OP, raw)
    }

    async fn role_tags(&self, role_name: &str) -> Result<BTreeMap<String, String>, AwsError> {
        let mut pages = self
            .iam
            .list_role_tags()
            .role_name(role_name)
            .into_paginator()
            .send();
        let mut tags = BTreeMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("iam:ListRoleTags", e))?;
            tags.extend(
                page.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned())),
            );
        }
        Ok(tags)
    }

    async fn list_local_policies(&self) -> Result<Vec<ManagedPolicyInfo>, AwsError> {
        let mut pages = self
            .iam
            .list_policies()
            .scope(PolicyScopeType::Local)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("iam:ListPolicies", e))?;
            for p in page.policies() {
                if let (Some(arn), Some(name), Some(v)) = (p.arn(), p.policy_name(), p.default_version_id()) {
                    out.push(ManagedPolicyInfo {
                        id: p.policy_id().unwrap_or(name).to_owned(),
                        arn: arn.to_owned(),
                        name: name.to_owned(),
                        default_version_id: v.to_owned(),
                    });
                }
            }
        }
        Ok(out)
    }

    async fn list_roles(&self) -> Result<Vec<RoleInfo>, AwsError> {
        const OP: &str = "iam:ListRoles";
        let mut pages = self.iam.list_roles().into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
            for r in page.roles() {
                let trust_policy = r
                    .assume_role_policy_document()
                    .map(|d| decode_policy_document(OP, d))
                    .transpose()?;
                out.push(RoleInfo {
                    id: r.role_id().to_owned(),
                    name: r.role_name().to_owned(),
                    arn: r.arn().to_owned(),
                    trust_policy,
                });
            }
        }
        Ok(out)
    }

    async fn attached_policies(&self, principal: &PrincipalRef) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        match principal {
            PrincipalRef::Role(name) => {
                let mut pages = self
                    .iam
                    .list_attached_role_policies()
                    .role_name(name)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| AwsError::from_sdk("iam:ListAttachedRolePolicies", e))?;
                    out.extend(
                        page.attached_policies()
                            .iter()
                            .filter_map(|p| p.policy_arn().map(str::to_owned)),
                    );
                }
            }
            PrincipalRef::User(name) => {
                let mut pages = self
                    .iam
                    .list_attached_user_policies()
                    .user_name(name)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| AwsError::from_sdk("iam:ListAttachedUserPolicies", e))?;
                    out.extend(
                        page.attached_policies()
                            .iter()
                            .filter_map(|p| p.policy_arn().map(str::to_owned)),
                    );
                }
            }
            PrincipalRef::Group(name) => {
                let mut pages = self
                    .iam
                    .list_attached_group_policies()
                    .group_name(name)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| AwsError::from_sdk("iam:ListAttachedGroupPolicies", e))?;
                    out.extend(
                        page.attached_policies()
                            .iter()
                            .filter_map(|p| p.policy_arn().map(str::to_owned)),
                    );
                }
            }
        }
        Ok(out)
    }
}

impl IamWrite for AwsClients {
    async fn set_default_policy_version(&self, policy_arn: &str, version_id: &str) -> Result<(), AwsError> {
        self.iam
            .set_default_policy_version()
            .policy_arn(policy_arn)
            .version_id(version_id)
            .customize()
            .config_override(crate::write_call!(aws_sdk_iam))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:SetDefaultPolicyVersion", e))
    }

    async fn detach_policy(&self, principal: &PrincipalRef, policy_arn: &str) -> Result<(), AwsError> {
        match principal {
            PrincipalRef::Role(n) => self
                .iam
                .detach_role_policy()
                .role_name(n)
                .policy_arn(policy_arn)
                .customize()
                .config_override(crate::write_call!(aws_sdk_iam))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("iam:DetachRolePolicy", e)),
            PrincipalRef::User(n) => self
                .iam
                .detach_user_policy()
                .user_name(n)
                .policy_arn(policy_arn)
                .customize()
                .config_override(crate::write_call!(aws_sdk_iam))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("iam:DetachUserPolicy", e)),
            PrincipalRef::Group(n) => self
                .iam
                .detach_group_policy()
                .group_name(n)
                .policy_arn(policy_arn)
                .customize()
                .config_override(crate::write_call!(aws_sdk_iam))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("iam:DetachGroupPolicy", e)),
        }
    }

    async fn attach_policy(&self, principal: &PrincipalRef, policy_arn: &str) -> Result<(), AwsError> {
        match principal {
            PrincipalRef::Role(n) => self
                .iam
                .attach_role_policy()
                .role_name(n)
                .policy_arn(policy_arn)
                .customize()
                .config_override(crate::write_call!(aws_sdk_iam))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("iam:AttachRolePolicy", e)),
            PrincipalRef::User(n) => self
                .iam
                .attach_user_policy()
                .user_name(n)
                .policy_arn(policy_arn)
                .customize()
                .config_override(crate::write_call!(aws_sdk_iam))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("iam:AttachUserPolicy", e)),
            PrincipalRef::Group(n) => self
                .iam
                .attach_group_policy()
                .group_name(n)
                .policy_arn(policy_arn)
                .customize()
                .config_override(crate::write_call!(aws_sdk_iam))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("iam:AttachGroupPolicy", e)),
        }
    }

    async fn update_assume_role_policy(&self, role_name: &str, document: &Value) -> Result<(), AwsError> {
        self.iam
            .update_assume_role_policy()
            .role_name(role_name)
            .policy_document(document.to_string())
            .customize()
            .config_override(crate::write_call!(aws_sdk_iam))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:UpdateAssumeRolePolicy", e))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plain_and_url_encoded_documents() {
        // IAM API Reference, PolicyVersion.Document: URL-encoded per RFC 3986; emulators may send plain JSON.
        let cases: &[(&str, Option<&str>)] = &[
            (r#"{"Version":"2012-10-17","Statement":[]}"#, Some("2012-10-17")),
            (
                "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D",
                Some("2012-10-17"),
            ),
            ("%7B%22Version%22%3A%222008-10-17%22%7D", Some("2008-10-17")),
            ("%7Bnot json", None),
            ("", None),
        ];
        for (raw, want) in cases {
            let got = decode_policy_document("iam:GetPolicyVersion", raw);
            match want {
                Some(v) => assert_eq!(got.unwrap()["Version"], *v, "{raw}"),
                None => assert!(!got.unwrap_err().is_retryable(), "{raw}"),
            }
        }
    }
}
