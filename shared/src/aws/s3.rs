//! S3 and S3 Control implementations of [`S3Read`], [`S3Write`] and [`FetchObject`].

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    AccessControlPolicy, Grant, Grantee, Owner, Permission, PublicAccessBlockConfiguration, Type,
};
use serde_json::{json, Value};

use super::{AwsClients, AwsError, ErrorKind, FetchObject, S3Read, S3Write};
use crate::state::PublicAccessBlock;

/// Page size for ListBuckets (the API maximum is 10,000; smaller pages keep each response fast).
const LIST_BUCKETS_PAGE: i32 = 1000;

fn parse_json(operation: &'static str, text: &str) -> Result<Value, AwsError> {
    serde_json::from_str(text).map_err(|e| {
        AwsError::new(
            operation,
            ErrorKind::Client,
            format!("response document is not json: {e}"),
        )
    })
}

impl S3Read for AwsClients {
    async fn list_buckets(&self) -> Result<Vec<String>, AwsError> {
        let mut pages = self
            .s3
            .list_buckets()
            .max_buckets(LIST_BUCKETS_PAGE)
            .into_paginator()
            .send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("s3:ListBuckets", e))?;
            names.extend(page.buckets().iter().filter_map(|b| b.name().map(str::to_owned)));
        }
        Ok(names)
    }

    async fn bucket_policy(&self, bucket: &str) -> Result<Option<Value>, AwsError> {
        const OP: &str = "s3:GetBucketPolicy";
        match self.s3.get_bucket_policy().bucket(bucket).send().await {
            Ok(out) => out.policy().map(|p| parse_json(OP, p)).transpose(),
            Err(e) => {
                let e = AwsError::from_sdk(OP, e);
                if e.has_code("NoSuchBucketPolicy") {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn bucket_acl(&self, bucket: &str) -> Result<Value, AwsError> {
        let out = self
            .s3
            .get_bucket_acl()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:GetBucketAcl", e))?;
        let owner = out.owner().map(|o| {
            let mut m = serde_json::Map::new();
            if let Some(id) = o.id() {
                m.insert("ID".into(), json!(id));
            }
            if let Some(n) = o.display_name() {
                m.insert("DisplayName".into(), json!(n));
            }
            Value::Object(m)
        });
        let grants: Vec<Value> = out.grants().iter().map(grant_to_json).collect();
        let mut acl = serde_json::Map::new();
        if let Some(o) = owner {
            acl.insert("Owner".into(), o);
        }
        acl.insert("Grants".into(), Value::Array(grants));
        Ok(Value::Object(acl))
    }

    async fn bucket_public_access_block(&self, bucket: &str) -> Result<Option<PublicAccessBlock>, AwsError> {
        match self.s3.get_public_access_block().bucket(bucket).send().await {
            Ok(out) => Ok(out
                .public_access_block_configuration()
                .map(|c| PublicAccessBlock {
                    block_public_acls: c.block_public_acls().unwrap_or(false),
                    ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                    block_public_policy: c.block_public_policy().unwrap_or(false),
                    restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
                })),
            Err(e) => {
                let e = AwsError::from_sdk("s3:GetBucketPublicAccessBlock", e);
                if e.has_code("NoSuchPublicAccessBlockConfiguration") {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn bucket_tags(&self, bucket: &str) -> Result<BTreeMap<String, String>, AwsError> {
        match self.s3.get_bucket_tagging().bucket(bucket).send().await {
            Ok(out) => Ok(out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()),
            Err(e) => {
                let e = AwsError::from_sdk("s3:GetBucketTagging", e);
                if e.has_code("NoSuchTagSet") {
                    Ok(BTreeMap::new())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn account_public_access_block(
        &self,
        account_id: &str,
    ) -> Result<Option<PublicAccessBlock>, AwsError> {
        match self
            .s3control
            .get_public_access_block()
            .account_id(account_id)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .public_access_block_configuration()
                .map(|c| PublicAccessBlock {
                    block_public_acls: c.block_public_acls().unwrap_or(false),
                    ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                    block_public_policy: c.block_public_policy().unwrap_or(false),
                    restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
                })),
            Err(e) => {
                let e = AwsError::from_sdk("s3:GetAccountPublicAccessBlock", e);
                if e.has_code("NoSuchPublicAccessBlockConfiguration") {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }
}

fn grant_to_json(g: &Grant) -> Value {
    let mut grantee = serde_json::Map::new();
    if let Some(ge) = g.grantee() {
        grantee.insert("Type".into(), json!(ge.r#type().as_str()));
        for (k, v) in [
            ("URI", ge.uri()),
            ("ID", ge.id()),
            ("DisplayName", ge.display_name()),
            ("EmailAddress", ge.email_address()),
        ] {
            if let Some(v) = v {
                grantee.insert(k.into(), json!(v));
            }
        }
    }
    json!({
        "Grantee": Value::Object(grantee),
        "Permission": g.permission().map(|p| p.as_str()).unwrap_or_default(),
    })
}

/// Builds an SDK `AccessControlPolicy` from the GetBucketAcl-shaped JSON.
pub fn acl_from_json(acl: &Value) -> Result<AccessControlPolicy, AwsError> {
    const OP: &str = "s3:PutBucketAcl";
    let bad = |m: String| AwsError::new(OP, ErrorKind::Client, m);
    let mut policy = AccessControlPolicy::builder();
    if let Some(o) = acl.get("Owner") {
        let mut owner = Owner::builder();
        if let Some(id) = o.get("ID").and_then(Value::as_str) {
            owner = owner.id(id);
        }
        if let Some(n) = o.get("DisplayName").and_then(Value::as_str) {
            owner = owner.display_name(n);
        }
        policy = policy.owner(owner.build());
    }
    for (i, g) in acl
        .get("Grants")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let ge = g
            .get("Grantee")
            .ok_or_else(|| bad(format!("grant {i} has no `Grantee`")))?;
        let ty = ge.get("Type").and_then(Value::as_str).unwrap_or("CanonicalUser");
        let mut grantee = Grantee::builder().r#type(Type::from(ty));
        if let Some(v) = ge.get("URI").and_then(Value::as_str) {
            grantee = grantee.uri(v);
        }
        if let Some(v) = ge.get("ID").and_then(Value::as_str) {
            grantee = grantee.id(v);
        }
        if let Some(v) = ge.get("DisplayName").and_then(Value::as_str) {
            grantee = grantee.display_name(v);
        }
        if let Some(v) = ge.get("EmailAddress").and_then(Value::as_str) {
            grantee = grantee.email_address(v);
        }
        let grantee = grantee.build().map_err(|e| bad(format!("grant {i}: {e}")))?;
        let perm = g
            .get("Permission")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("grant {i} has no `Permission`")))?;
        policy = policy.grants(
            Grant::builder()
                .grantee(grantee)
                .permission(Permission::from(perm))
                .build(),
        );
    }
    Ok(policy.build())
}

impl S3Write for AwsClients {
    async fn put_bucket_policy(&self, bucket: &str, policy: &Value) -> Result<(), AwsError> {
        self.s3
            .put_bucket_policy()
            .bucket(bucket)
            .policy(policy.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("s3:PutBucketPolicy", e))
    }

    async fn delete_bucket_policy(&self, bucket: &str) -> Result<(), AwsError> {
        self.s3
            .delete_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("s3:DeleteBucketPolicy", e))
    }

    async fn put_bucket_acl(&self, bucket: &str, acl: &Value) -> Result<(), AwsError> {
        let policy = acl_from_json(acl)?;
        self.s3
            .put_bucket_acl()
            .bucket(bucket)
            .access_control_policy(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("s3:PutBucketAcl", e))
    }

    async fn put_bucket_public_access_block(
        &self,
        bucket: &str,
        block: Option<PublicAccessBlock>,
    ) -> Result<(), AwsError> {
        match block {
            Some(b) => self
                .s3
                .put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(b.block_public_acls)
                        .ignore_public_acls(b.ignore_public_acls)
                        .block_public_policy(b.block_public_policy)
                        .restrict_public_buckets(b.restrict_public_buckets)
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("s3:PutBucketPublicAccessBlock", e)),
            None => self
                .s3
                .delete_public_access_block()
                .bucket(bucket)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("s3:DeleteBucketPublicAccessBlock", e)),
        }
    }
}

impl FetchObject for AwsClients {
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, AwsError> {
        const OP: &str = "s3:GetObject";
        let out = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let bytes =
            out.body.collect().await.map_err(|e| {
                AwsError::new(OP, ErrorKind::Dispatch, format!("reading the object body: {e}"))
            })?;
        Ok(bytes.into_bytes().to_vec())
    }
}
