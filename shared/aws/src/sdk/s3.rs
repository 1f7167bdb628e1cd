//! S3 and S3 Control implementations of [`S3Read`], [`S3Write`] and [`FetchObject`].
//!
//! Bucket-level calls go to the bucket's own region ([`AwsClients::on_bucket`]): the region comes from
//! ListBuckets' `BucketRegion`, from an event ([`S3Read::note_bucket_region`]) or, when still unknown, from
//! S3 itself: a call made in the wrong region fails with 301 `PermanentRedirect` (or 400
//! `AuthorizationHeaderMalformed`) carrying the region in `x-amz-bucket-region`
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html>, "x-amz-bucket-region"), and is
//! sent once more there. Without a usable header the region is asked with HeadBucket, then
//! GetBucketLocation. Regions learnt this way are remembered for the life of the clients.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{
    AccessControlPolicy, Grant, Grantee, Owner, Permission, PublicAccessBlockConfiguration, Type,
};
use serde_json::{json, Value};

use super::clients::region_of_location_constraint;
use crate::{AwsClients, AwsError, ErrorKind, FetchObject, S3Read, S3Write};
use tripline_core::state::PublicAccessBlock;

/// The four Block Public Access settings from S3's or S3 Control's configuration type (the same getters);
/// a setting AWS leaves out is off.
macro_rules! public_access_block {
    ($c:expr) => {
        PublicAccessBlock {
            block_public_acls: $c.block_public_acls().unwrap_or(false),
            ignore_public_acls: $c.ignore_public_acls().unwrap_or(false),
            block_public_policy: $c.block_public_policy().unwrap_or(false),
            restrict_public_buckets: $c.restrict_public_buckets().unwrap_or(false),
        }
    };
}

/// The reverse: S3's or S3 Control's configuration type (`$ty`) with the four settings of `$b`.
macro_rules! public_access_block_configuration {
    ($ty:ty, $b:expr) => {
        <$ty>::builder()
            .block_public_acls($b.block_public_acls)
            .ignore_public_acls($b.ignore_public_acls)
            .block_public_policy($b.block_public_policy)
            .restrict_public_buckets($b.restrict_public_buckets)
            .build()
    };
}

/// Page size for ListBuckets: the API maximum (AWS paginates with `ContinuationToken` above it). The
/// maximum rather than a smaller page also keeps emulators that cut the list at `MaxBuckets` without a
/// token (moto 5.2) complete up to 10,000 buckets.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html> ("max-buckets ... 1 - 10000").
const LIST_BUCKETS_PAGE: i32 = 10_000;

/// The response header in which S3 names a bucket's region (on success, redirects and most errors).
const BUCKET_REGION_HEADER: &str = "x-amz-bucket-region";

/// What an S3 error says about the bucket's region.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Redirect {
    /// Not a wrong-region error.
    No,
    /// Wrong region; the bucket is in this one.
    To(String),
    /// Wrong region, but the response does not say which is right.
    Unknown,
}

/// Error codes S3 answers a call made in the wrong region with
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>).
const WRONG_REGION_CODES: &[&str] = &[
    "PermanentRedirect",
    "TemporaryRedirect",
    "AuthorizationHeaderMalformed",
    "IllegalLocationConstraintException",
];

/// The text of the first `<tag>...</tag>` in an XML error body.
fn xml_tag<'a>(body: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].trim()).filter(|s| !s.is_empty())
}

fn redirect_of_parts(status: u16, code: Option<&str>, header: Option<&str>, body: Option<&[u8]>) -> Redirect {
    let wrong = matches!(status, 301 | 307) || code.is_some_and(|c| WRONG_REGION_CODES.contains(&c));
    if !wrong {
        return Redirect::No;
    }
    let from_header = header.map(str::trim).filter(|h| !h.is_empty());
    let from_body = body
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|t| xml_tag(t, "Region"));
    match from_header.or(from_body) {
        Some(r) => Redirect::To(r.to_owned()),
        None => Redirect::Unknown,
    }
}

fn redirect_of<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Redirect {
    let Some(resp) = err.raw_response() else {
        return Redirect::No;
    };
    redirect_of_parts(
        resp.status().as_u16(),
        err.code(),
        resp.headers().get(BUCKET_REGION_HEADER),
        resp.body().bytes(),
    )
}

impl AwsClients {
    /// Runs a bucket-level call with the client of the bucket's region; a wrong-region answer is retried
    /// once in the region S3 names (see the module docs), which is then remembered for the bucket.
    pub async fn on_bucket<T, E, F, Fut>(&self, bucket: &str, call: F) -> Result<T, SdkError<E, HttpResponse>>
    where
        E: ProvideErrorMetadata,
        F: Fn(aws_sdk_s3::Client) -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        let (client, used) = self.s3_regions.for_bucket(bucket);
        let err = match call(client).await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let actual = match redirect_of(&err) {
            Redirect::No => return Err(err),
            Redirect::To(r) => Some(r),
            Redirect::Unknown => self.locate_bucket(bucket).await,
        };
        match actual {
            Some(region) if Some(&region) != used.as_ref() => {
                tracing::debug!(bucket, region = %region, "bucket is in another region; calling there");
                self.s3_regions.remember(bucket, &region);
                call(self.s3_regions.client(&region)).await
            }
            _ => Err(err),
        }
    }

    /// The bucket's region as S3 tells it: HeadBucket's `x-amz-bucket-region` (present on its 200 and on
    /// its 301/403 from any region), else GetBucketLocation's `LocationConstraint`. `None` when neither
    /// answers.
    pub async fn locate_bucket(&self, bucket: &str) -> Option<String> {
        let home = self.s3_regions.home();
        let header = match home.head_bucket().bucket(bucket).send().await {
            Ok(out) => out.bucket_region().map(str::to_owned),
            Err(e) => e
                .raw_response()
                .and_then(|r| r.headers().get(BUCKET_REGION_HEADER))
                .map(str::to_owned),
        };
        if let Some(r) = header.filter(|r| !r.trim().is_empty()) {
            return Some(r.trim().to_owned());
        }
        match home.get_bucket_location().bucket(bucket).send().await {
            Ok(out) => Some(region_of_location_constraint(
                out.location_constraint().map(|c| c.as_str()),
            )),
            Err(e) => {
                let e = AwsError::from_sdk("s3:GetBucketLocation", e);
                tracing::warn!(bucket, error = %e, "bucket region unknown");
                None
            }
        }
    }
}

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
            for b in page.buckets() {
                let Some(name) = b.name() else { continue };
                // `BucketRegion` (ListBuckets since 2024): the region every later call must go to.
                if let Some(region) = b.bucket_region() {
                    self.s3_regions.remember(name, region);
                }
                names.push(name.to_owned());
            }
            let full = page.buckets().len() >= LIST_BUCKETS_PAGE as usize;
            if full && page.continuation_token().is_none() {
                tracing::warn!(
                    listed = names.len(),
                    "ListBuckets returned a full page without a continuation token; buckets past it are not listed"
                );
            }
        }
        Ok(names)
    }

    fn note_bucket_region(&self, bucket: &str, region: &str) {
        self.s3_regions.remember(bucket, region);
    }

    async fn bucket_policy(&self, bucket: &str) -> Result<Option<Value>, AwsError> {
        const OP: &str = "s3:GetBucketPolicy";
        let call = |c: aws_sdk_s3::Client| async move { c.get_bucket_policy().bucket(bucket).send().await };
        match self.on_bucket(bucket, call).await {
            Ok(out) => out.policy().map(|p| parse_json(OP, p)).transpose(),
            Err(e) => AwsError::from_sdk(OP, e).absent_as("NoSuchBucketPolicy", None),
        }
    }

    async fn bucket_acl(&self, bucket: &str) -> Result<Value, AwsError> {
        let out = self
            .on_bucket(bucket, |c| async move {
                c.get_bucket_acl().bucket(bucket).send().await
            })
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
        let call =
            |c: aws_sdk_s3::Client| async move { c.get_public_access_block().bucket(bucket).send().await };
        match self.on_bucket(bucket, call).await {
            Ok(out) => Ok(out
                .public_access_block_configuration()
                .map(|c| public_access_block!(c))),
            Err(e) => AwsError::from_sdk("s3:GetBucketPublicAccessBlock", e)
                .absent_as("NoSuchPublicAccessBlockConfiguration", None),
        }
    }

    async fn bucket_tags(&self, bucket: &str) -> Result<BTreeMap<String, String>, AwsError> {
        let call = |c: aws_sdk_s3::Client| async move { c.get_bucket_tagging().bucket(bucket).send().await };
        match self.on_bucket(bucket, call).await {
            Ok(out) => Ok(out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()),
            Err(e) => AwsError::from_sdk("s3:GetBucketTagging", e).absent_as("NoSuchTagSet", BTreeMap::new()),
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
                .map(|c| public_access_block!(c))),
            Err(e) => AwsError::from_sdk("s3:GetAccountPublicAccessBlock", e)
                .absent_as("NoSuchPublicAccessBlockConfiguration", None),
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
        let policy = policy.to_string();
        let policy = policy.as_str();
        self.on_bucket(bucket, |c| async move {
            c.put_bucket_policy()
                .bucket(bucket)
                .policy(policy)
                .customize()
                .config_override(crate::write_call!(aws_sdk_s3))
                .send()
                .await
        })
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("s3:PutBucketPolicy", e))
    }

    async fn delete_bucket_policy(&self, bucket: &str) -> Result<(), AwsError> {
        self.on_bucket(bucket, |c| async move {
            c.delete_bucket_policy()
                .bucket(bucket)
                .customize()
                .config_override(crate::write_call!(aws_sdk_s3))
                .send()
                .await
        })
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("s3:DeleteBucketPolicy", e))
    }

    async fn put_bucket_acl(&self, bucket: &str, acl: &Value) -> Result<(), AwsError> {
        let policy = acl_from_json(acl)?;
        let policy = &policy;
        self.on_bucket(bucket, |c| async move {
            c.put_bucket_acl()
                .bucket(bucket)
                .access_control_policy(policy.clone())
                .customize()
                .config_override(crate::write_call!(aws_sdk_s3))
                .send()
                .await
        })
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
                .on_bucket(bucket, |c| async move {
                    c.put_public_access_block()
                        .bucket(bucket)
                        .public_access_block_configuration(public_access_block_configuration!(
                            PublicAccessBlockConfiguration,
                            b
                        ))
                        .customize()
                        .config_override(crate::write_call!(aws_sdk_s3))
                        .send()
                        .await
                })
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("s3:PutBucketPublicAccessBlock", e)),
            None => self
                .on_bucket(bucket, |c| async move {
                    c.delete_public_access_block()
                        .bucket(bucket)
                        .customize()
                        .config_override(crate::write_call!(aws_sdk_s3))
                        .send()
                        .await
                })
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("s3:DeleteBucketPublicAccessBlock", e)),
        }
    }

    async fn put_account_public_access_block(
        &self,
        account_id: &str,
        block: Option<PublicAccessBlock>,
    ) -> Result<(), AwsError> {
        match block {
            Some(b) => self
                .s3control
                .put_public_access_block()
                .account_id(account_id)
                .public_access_block_configuration(public_access_block_configuration!(
                    aws_sdk_s3control::types::PublicAccessBlockConfiguration,
                    b
                ))
                .customize()
                .config_override(crate::write_call!(aws_sdk_s3control))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("s3:PutAccountPublicAccessBlock", e)),
            None => self
                .s3control
                .delete_public_access_block()
                .account_id(account_id)
                .customize()
                .config_override(crate::write_call!(aws_sdk_s3control))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("s3:DeleteAccountPublicAccessBlock", e)),
        }
    }
}

impl FetchObject for AwsClients {
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, AwsError> {
        const OP: &str = "s3:GetObject";
        let out = self
            .on_bucket(bucket, |c| async move {
                c.get_object().bucket(bucket).key(key).send().await
            })
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let bytes =
            out.body.collect().await.map_err(|e| {
                AwsError::new(OP, ErrorKind::Dispatch, format!("reading the object body: {e}"))
            })?;
        Ok(bytes.into_bytes().to_vec())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn wrong_region_answers() {
        // What S3 answers a call made in another region than the bucket's
        // (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html: PermanentRedirect 301,
        // TemporaryRedirect 307, AuthorizationHeaderMalformed 400 "the region ... is wrong; expecting ...").
        let to = |r: &str| Redirect::To(r.to_owned());
        // (status, code, x-amz-bucket-region, body, expected)
        type Case<'a> = (u16, Option<&'a str>, Option<&'a str>, Option<&'a str>, Redirect);
        let cases: &[Case] = &[
            (301, Some("PermanentRedirect"), Some("eu-west-1"), Some("<Error><Code>PermanentRedirect</Code><Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint></Error>"), to("eu-west-1")),
            // HeadBucket: a 301 without a body, the region only in the header.
            (301, None, Some("eu-west-1"), None, to("eu-west-1")),
            (307, Some("TemporaryRedirect"), Some("ap-south-1"), None, to("ap-south-1")),
            (400, Some("AuthorizationHeaderMalformed"), None, Some("<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>"), to("eu-west-1")),
            (400, Some("IllegalLocationConstraintException"), Some(" eu-central-1 "), None, to("eu-central-1")),
            (301, Some("PermanentRedirect"), None, Some("<Error><Code>PermanentRedirect</Code></Error>"), Redirect::Unknown),
            (301, None, Some(""), None, Redirect::Unknown),
            (400, Some("AuthorizationHeaderMalformed"), None, Some("<Region></Region>"), Redirect::Unknown),
            // Answers from the right region carry the header too: they are not redirects.
            (404, Some("NoSuchBucketPolicy"), Some("eu-west-1"), None, Redirect::No),
            (403, Some("AccessDenied"), Some("eu-west-1"), None, Redirect::No),
            (400, Some("MalformedPolicy"), None, Some("<Region>eu-west-1</Region>"), Redirect::No),
            (503, Some("SlowDown"), Some("eu-west-1"), None, Redirect::No),
        ];
        for (status, code, header, body, want) in cases {
            let got = redirect_of_parts(*status, *code, *header, body.map(str::as_bytes));
            assert_eq!(&got, want, "{status} {code:?} {header:?} {body:?}");
        }
    }
}
