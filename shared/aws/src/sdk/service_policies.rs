//! Resource-policy readers of the sweep for KMS keys, ECR repositories and Lambda functions
//! ([`crate::exposure::ExposureRead`], dispatched from `shares.rs`):
//! - KMS: `ListKeys` (paginated), `DescribeKey` of each to keep only customer-managed keys (`KeyManager`
//!   `CUSTOMER`; an AWS-managed key's policy is AWS's own and cannot be changed: AWS KMS Developer Guide,
//!   "AWS managed keys"), then `GetKeyPolicy` with the policy name `default` ("The only valid name is
//!   `default`", AWS KMS API Reference, GetKeyPolicy); tags with `ListResourceTags`;
//! - ECR: `DescribeRepositories` (paginated), then `GetRepositoryPolicy`
//!   (`RepositoryPolicyNotFoundException`: no policy); tags with `ListTagsForResource`;
//! - Lambda: `ListFunctions` (paginated), then `GetPolicy` (`ResourceNotFoundException`: the function has no
//!   resource-based policy, Lambda API Reference, GetPolicy); tags with `ListTags`;
//! - Lambda layers: `ListLayers` then `ListLayerVersions` of each (both paginated), then
//!   `GetLayerVersionPolicy` (`ResourceNotFoundException`: the version has no policy); layers take no tags.
//!
//! A policy that is not JSON is handed to the engine as the string it is (reported invalid, never "none").

use std::collections::BTreeMap;

use aws_config::Region;
use futures::stream::{self, StreamExt};
use serde_json::Value;
use tripline_core::rules::external::Exposure;

use crate::exposure::Listed;
use crate::AwsError;

/// How many `DescribeKey` calls the KMS listing makes at once.
const DESCRIBE_CONCURRENCY: usize = 8;

pub(super) fn document(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
}

/// `$crate::Client` for `region`, from the same configuration (timeouts, retries, endpoint override,
/// timing interceptor).
macro_rules! client_in {
    ($sdk_crate:ident, $home:expr, $region:expr) => {
        $sdk_crate::Client::from_conf(
            $home
                .config()
                .to_builder()
                .region(Region::new($region.to_owned()))
                .build(),
        )
    };
}

pub fn kms_in(home: &aws_sdk_kms::Client, region: &str) -> aws_sdk_kms::Client {
    client_in!(aws_sdk_kms, home, region)
}

pub fn ecr_in(home: &aws_sdk_ecr::Client, region: &str) -> aws_sdk_ecr::Client {
    client_in!(aws_sdk_ecr, home, region)
}

pub fn lambda_in(home: &aws_sdk_lambda::Client, region: &str) -> aws_sdk_lambda::Client {
    client_in!(aws_sdk_lambda, home, region)
}

/// The customer-managed keys (id = key ARN, which every KMS call accepts).
pub(super) async fn list_keys(kms: &aws_sdk_kms::Client) -> Result<Vec<Listed>, AwsError> {
    let mut pages = kms.list_keys().into_paginator().send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("kms:ListKeys", e))?;
        ids.extend(page.keys().iter().filter_map(|k| {
            let id = k.key_arn().or(k.key_id())?;
            Some(id.to_owned())
        }));
    }
    let described: Vec<Result<Option<Listed>, AwsError>> = stream::iter(ids)
        .map(|id| async move { customer_key(kms, &id).await })
        .buffered(DESCRIBE_CONCURRENCY)
        .collect()
        .await;
    let mut out = Vec::new();
    for d in described {
        match d {
            Ok(Some(l)) => out.push(l),
            Ok(None) => {}
            // Deleted between the listing and the description: nothing to judge.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The key when it is customer-managed; `None` for AWS-managed keys (and a description without a manager:
/// unknown is not "customer", but AWS documents `KeyManager` as always present).
async fn customer_key(kms: &aws_sdk_kms::Client, id: &str) -> Result<Option<Listed>, AwsError> {
    use aws_sdk_kms::types::KeyManagerType;
    let out = kms
        .describe_key()
        .key_id(id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("kms:DescribeKey", e))?;
    let Some(meta) = out.key_metadata() else {
        return Ok(None);
    };
    if meta.key_manager() != Some(&KeyManagerType::Customer) {
        return Ok(None);
    }
    let arn = meta.arn().unwrap_or(id).to_owned();
    Ok(Some(Listed {
        id: arn.clone(),
        arn,
        name: meta.key_id().to_owned(),
        tags: None,
    }))
}

pub(super) async fn key_policy(kms: &aws_sdk_kms::Client, id: &str) -> Result<Exposure, AwsError> {
    let out = kms
        .get_key_policy()
        .key_id(id)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("kms:GetKeyPolicy", e))?;
    Ok(Exposure::Policy(out.policy().map(document)))
}

pub(super) async fn key_tags(
    kms: &aws_sdk_kms::Client,
    id: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    // `Marker` / `NextMarker` while `Truncated` (AWS KMS API Reference, ListResourceTags).
    let mut tags = BTreeMap::new();
    let mut marker: Option<String> = None;
    let mut last: Option<String> = None;
    loop {
        let page = kms
            .list_resource_tags()
            .key_id(id)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("kms:ListResourceTags", e))?;
        tags.extend(
            page.tags()
                .iter()
                .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned())),
        );
        // A marker repeated is the end (the SDK's paginators stop the same way): never an endless loop.
        match page.next_marker() {
            Some(m) if page.truncated() && !m.is_empty() && Some(m) != last.as_deref() => {
                last = Some(m.to_owned());
                marker = Some(m.to_owned());
            }
            _ => break,
        }
    }
    Ok(tags)
}

/// The repositories (id = repository ARN, what `ListTagsForResource` takes; `GetRepositoryPolicy` takes the
/// name after `:repository/`, [`repository_name`]).
pub(super) async fn list_repositories(ecr: &aws_sdk_ecr::Client) -> Result<Vec<Listed>, AwsError> {
    let mut pages = ecr.describe_repositories().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ecr:DescribeRepositories", e))?;
        for r in page.repositories() {
            let Some(name) = r.repository_name() else { continue };
            let arn = r.repository_arn().unwrap_or_default();
            out.push(Listed {
                id: if arn.is_empty() { name } else { arn }.to_owned(),
                arn: arn.to_owned(),
                name: name.to_owned(),
                tags: None,
            });
        }
    }
    Ok(out)
}

/// The repository name of an ECR repository ARN (names may hold `/`), or `id` itself when it is no ARN.
pub fn repository_name(id: &str) -> &str {
    id.split_once(":repository/").map_or(id, |(_, name)| name)
}

pub(super) async fn repository_policy(ecr: &aws_sdk_ecr::Client, id: &str) -> Result<Exposure, AwsError> {
    let name = repository_name(id);
    match ecr.get_repository_policy().repository_name(name).send().await {
        Ok(out) => Ok(Exposure::Policy(out.policy_text().map(document))),
        Err(e) => AwsError::from_sdk("ecr:GetRepositoryPolicy", e)
            .absent_as("RepositoryPolicyNotFoundException", Exposure::Policy(None)),
    }
}

pub(super) async fn repository_tags(
    ecr: &aws_sdk_ecr::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let out = ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecr:ListTagsForResource", e))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect())
}

/// The functions (id = function ARN, which `GetPolicy` and `ListTags` take).
pub(super) async fn list_functions(lambda: &aws_sdk_lambda::Client) -> Result<Vec<Listed>, AwsError> {
    let mut pages = lambda.list_functions().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("lambda:ListFunctions", e))?;
        for f in page.functions() {
            let (Some(name), Some(arn)) = (f.function_name(), f.function_arn()) else {
                continue;
            };
            out.push(Listed {
                id: arn.to_owned(),
                arn: arn.to_owned(),
                name: name.to_owned(),
                tags: None,
            });
        }
    }
    Ok(out)
}

pub(super) async fn function_policy(
    lambda: &aws_sdk_lambda::Client,
    arn: &str,
) -> Result<Exposure, AwsError> {
    match lambda.get_policy().function_name(arn).send().await {
        Ok(out) => Ok(Exposure::Policy(out.policy().map(document))),
        // No resource-based policy (the function itself missing is caught by the listing's race rule:
        // nothing to judge either way).
        Err(e) => AwsError::from_sdk("lambda:GetPolicy", e)
            .absent_as("ResourceNotFoundException", Exposure::Policy(None)),
    }
}

pub(super) async fn function_tags(
    lambda: &aws_sdk_lambda::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let out = lambda
        .list_tags()
        .resource(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("lambda:ListTags", e))?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// Every version of every layer: `ListLayers` (paginated), then `ListLayerVersions` of each (paginated).
/// Id and ARN: the layer version ARN (`<layer ARN>:<version>`); name: the layer's. Layers take no tags.
pub(super) async fn list_layer_versions(lambda: &aws_sdk_lambda::Client) -> Result<Vec<Listed>, AwsError> {
    let mut layers = Vec::new();
    let mut pages = lambda.list_layers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("lambda:ListLayers", e))?;
        layers.extend(
            page.layers()
                .iter()
                .filter_map(|l| Some((l.layer_name()?.to_owned(), l.layer_arn()?.to_owned()))),
        );
    }
    let mut out = Vec::new();
    // By name: ListLayers lists the account's own layers, so the name is unambiguous (AWS takes the name or
    // the ARN; moto only the name).
    for (name, layer_arn) in layers {
        let mut pages = lambda
            .list_layer_versions()
            .layer_name(&name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page.map_err(|e| AwsError::from_sdk("lambda:ListLayerVersions", e)) {
                Ok(p) => p,
                // Deleted since `ListLayers`: nothing left to judge.
                Err(e) if e.is_not_found() => break,
                Err(e) => return Err(e),
            };
            for v in page.layer_versions() {
                let arn = v
                    .layer_version_arn()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{layer_arn}:{}", v.version()));
                out.push(Listed {
                    id: arn.clone(),
                    arn,
                    name: name.clone(),
                    tags: Some(BTreeMap::new()),
                });
            }
        }
    }
    Ok(out)
}

/// The layer ARN and version number of a layer version ARN (`<layer ARN>:<version>`).
pub fn layer_version_of(arn: &str) -> Option<(&str, i64)> {
    let (layer, version) = arn.rsplit_once(':')?;
    Some((layer, version.parse().ok()?))
}

pub(super) async fn layer_version_policy(
    lambda: &aws_sdk_lambda::Client,
    arn: &str,
) -> Result<Exposure, AwsError> {
    const OP: &str = "lambda:GetLayerVersionPolicy";
    let Some((layer, version)) = layer_version_of(arn) else {
        return Err(AwsError::new(
            OP,
            crate::ErrorKind::Client,
            format!("`{arn}` is not a layer version ARN"),
        ));
    };
    match lambda
        .get_layer_version_policy()
        .layer_name(layer)
        .version_number(version)
        .send()
        .await
    {
        Ok(out) => Ok(Exposure::Policy(out.policy().map(document))),
        // No policy on the version (Lambda API Reference, GetLayerVersionPolicy: ResourceNotFoundException).
        Err(e) => AwsError::from_sdk(OP, e).absent_as("ResourceNotFoundException", Exposure::Policy(None)),
    }
}

impl crate::AwsClients {
    /// These clients with the regional ones the sweep's readers call (EC2, RDS, SQS, SNS, Secrets Manager,
    /// KMS, ECR, Lambda) made for `region` from the same configuration; borrowed unchanged when they are
    /// already there. Building a client is a few configuration copies: no connection (the HTTP client and
    /// its pool are shared), no file read, no network call.
    pub fn in_region(&self, region: &str) -> std::borrow::Cow<'_, crate::AwsClients> {
        let home = self.ec2.config().region().map(|r| r.as_ref());
        if home == Some(region) {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut c = self.clone();
        c.ec2 = super::ec2_network::ec2_in(&self.ec2, region);
        c.rds = super::rds_instances::rds_in(&self.rds, region);
        c.sqs = client_in!(aws_sdk_sqs, self.sqs, region);
        c.sns = client_in!(aws_sdk_sns, self.sns, region);
        c.secrets = client_in!(aws_sdk_secretsmanager, self.secrets, region);
        c.kms = kms_in(&self.kms, region);
        c.ecr = ecr_in(&self.ecr, region);
        c.lambda = lambda_in(&self.lambda, region);
        c.s3control = client_in!(aws_sdk_s3control, self.s3control, region);
        c.dynamodb = client_in!(aws_sdk_dynamodb, self.dynamodb, region);
        c.efs = client_in!(aws_sdk_efs, self.efs, region);
        c.opensearch = client_in!(aws_sdk_opensearch, self.opensearch, region);
        c.glacier = client_in!(aws_sdk_glacier, self.glacier, region);
        std::borrow::Cow::Owned(c)
    }
}
