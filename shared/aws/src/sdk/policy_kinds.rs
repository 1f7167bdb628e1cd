//! Resource-policy readers of the sweep for the kinds issue 16 adds ([`crate::exposure::ExposureRead`],
//! dispatched from `shares.rs`):
//! - S3 access points: `ListAccessPoints` (S3 Control, the caller's account, paginated), then
//!   `GetAccessPointPolicy` (`NoSuchAccessPointPolicy`: none);
//! - Multi-Region Access Points: `ListMultiRegionAccessPoints` (paginated), then
//!   `GetMultiRegionAccessPointPolicy` (the established policy, else the proposed one;
//!   `NoSuchMultiRegionAccessPointPolicy`: none). AWS routes these to US West (Oregon) ("This action will
//!   always be routed to the US West (Oregon) Region", S3 Control API reference): the calls go through a
//!   `us-west-2` copy of the S3 Control client (the configured endpoint, when set, is kept). The ARN is built
//!   from the alias (`arn:{p}:s3::{account}:accesspoint/{alias}`, S3 User Guide, "Multi-Region Access Point
//!   ARNs");
//! - EFS: `DescribeFileSystems` (paginated, tags included), then `DescribeFileSystemPolicy` (`PolicyNotFound`:
//!   the default policy, none set);
//! - DynamoDB: `ListTables` (paginated), `DescribeTable` for the table's ARN and its stream's
//!   (`LatestStreamArn`), each read with `GetResourcePolicy` (`PolicyNotFoundException`: none); tags with
//!   `ListTagsOfResource`;
//! - OpenSearch Service: `ListDomainNames`, then `DescribeDomainConfig` (`AccessPolicies.Options`; empty: none);
//!   tags with `ListTags`;
//! - S3 Glacier: `ListVaults` (`accountId` `-`, paginated), then `GetVaultAccessPolicy`
//!   (`ResourceNotFoundException`: none); tags with `ListTagsForVault`.
//!
//! A policy that is not JSON is handed to the engine as the string it is (the rule reports it invalid).

use std::collections::BTreeMap;

use tripline_core::rules::external::Exposure;

use super::service_policies::document;
use crate::exposure::Listed;
use crate::{AwsClients, AwsError, CallerIdentity};

fn region_of(conf: Option<&aws_sdk_s3control::config::Region>) -> String {
    conf.map(|r| r.to_string()).unwrap_or_default()
}

/// Where AWS routes every Multi-Region Access Point control call.
const MRAP_REGION: &str = "us-west-2";

/// The S3 Control client for Multi-Region Access Point calls: the same configuration in `us-west-2`.
fn mrap_client(aws: &AwsClients) -> aws_sdk_s3control::Client {
    let conf = aws
        .s3control
        .config()
        .to_builder()
        .region(aws_sdk_s3control::config::Region::from_static(MRAP_REGION))
        .build();
    aws_sdk_s3control::Client::from_conf(conf)
}

pub(super) async fn list_access_points(aws: &AwsClients) -> Result<Vec<Listed>, AwsError> {
    const OP: &str = "s3:ListAccessPoints";
    let account = aws.caller_account().await?;
    let region = region_of(aws.s3control.config().region());
    let mut pages = aws
        .s3control
        .list_access_points()
        .account_id(&account)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for ap in page.access_point_list() {
            let name = ap.name().to_owned();
            let arn = ap.access_point_arn().map(str::to_owned).unwrap_or_else(|| {
                tripline_core::resource_kind::arn("AWS::S3::AccessPoint", &region, &account, &name)
                    .unwrap_or_default()
            });
            // The listing is regional (an access point lives in its bucket's region): one named in another
            // region is that region's to report, so each is judged once however many regions are swept.
            if arn
                .split(':')
                .nth(3)
                .is_some_and(|r| !r.is_empty() && r != region)
            {
                continue;
            }
            out.push(Listed {
                id: name.clone(),
                arn,
                name,
                tags: Some(BTreeMap::new()),
            });
        }
    }
    Ok(out)
}

pub(super) async fn access_point_policy(aws: &AwsClients, name: &str) -> Result<Exposure, AwsError> {
    const OP: &str = "s3:GetAccessPointPolicy";
    let account = aws.caller_account().await?;
    let got = aws
        .s3control
        .get_access_point_policy()
        .account_id(&account)
        .name(name)
        .send()
        .await;
    match got {
        Ok(out) => Ok(Exposure::Policy(out.policy().map(document))),
        Err(e) => AwsError::from_sdk(OP, e).absent_as("NoSuchAccessPointPolicy", Exposure::Policy(None)),
    }
}

pub(super) async fn list_mraps(aws: &AwsClients) -> Result<Vec<Listed>, AwsError> {
    const OP: &str = "s3:ListMultiRegionAccessPoints";
    // Global resources, served from one region: listed once, by the sweep of that region (a sweep that
    // reads every enabled region would otherwise report each one once per region).
    if region_of(aws.s3control.config().region()) != MRAP_REGION {
        return Ok(Vec::new());
    }
    let account = aws.caller_account().await?;
    let client = mrap_client(aws);
    let mut pages = client
        .list_multi_region_access_points()
        .account_id(&account)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for m in page.access_points() {
            let Some(name) = m.name() else { continue };
            let partition =
                tripline_core::resource_kind::partition(&region_of(aws.s3control.config().region()));
            let arn = m
                .alias()
                .map(|alias| format!("arn:{partition}:s3::{account}:accesspoint/{alias}"))
                .unwrap_or_default();
            out.push(Listed {
                id: name.to_owned(),
                arn,
                name: name.to_owned(),
                tags: Some(BTreeMap::new()),
            });
        }
    }
    Ok(out)
}

pub(super) async fn mrap_policy(aws: &AwsClients, name: &str) -> Result<Exposure, AwsError> {
    const OP: &str = "s3:GetMultiRegionAccessPointPolicy";
    let account = aws.caller_account().await?;
    let got = mrap_client(aws)
        .get_multi_region_access_point_policy()
        .account_id(&account)
        .name(name)
        .send()
        .await;
    match got {
        Ok(out) => {
            let doc = out.policy().and_then(|p| {
                p.established()
                    .and_then(|e| e.policy())
                    .or_else(|| p.proposed().and_then(|pr| pr.policy()))
            });
            Ok(Exposure::Policy(doc.map(document)))
        }
        Err(e) => {
            AwsError::from_sdk(OP, e).absent_as("NoSuchMultiRegionAccessPointPolicy", Exposure::Policy(None))
        }
    }
}

pub(super) async fn list_file_systems(aws: &AwsClients) -> Result<Vec<Listed>, AwsError> {
    const OP: &str = "elasticfilesystem:DescribeFileSystems";
    let region = region_of(aws.efs.config().region());
    let mut pages = aws.efs.describe_file_systems().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for fs in page.file_systems() {
            let id = fs.file_system_id().to_owned();
            let arn = fs.file_system_arn().map(str::to_owned).unwrap_or_else(|| {
                tripline_core::resource_kind::arn("AWS::EFS::FileSystem", &region, fs.owner_id(), &id)
                    .unwrap_or_default()
            });
            let tags = fs
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            out.push(Listed {
                id: id.clone(),
                arn,
                name: id,
                tags: Some(tags),
            });
        }
    }
    Ok(out)
}

pub(super) async fn file_system_policy(aws: &AwsClients, id: &str) -> Result<Exposure, AwsError> {
    const OP: &str = "elasticfilesystem:DescribeFileSystemPolicy";
    match aws
        .efs
        .describe_file_system_policy()
        .file_system_id(id)
        .send()
        .await
    {
        Ok(out) => Ok(Exposure::Policy(out.policy().map(document))),
        Err(e) => AwsError::from_sdk(OP, e).absent_as("PolicyNotFound", Exposure::Policy(None)),
    }
}

pub(super) async fn list_tables(aws: &AwsClients) -> Result<Vec<Listed>, AwsError> {
    const OP: &str = "dynamodb:ListTables";
    let mut pages = aws.dynamodb.list_tables().into_paginator().send();
    let mut names = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        names.extend(page.table_names().iter().cloned());
    }
    let mut out = Vec::new();
    for name in names {
        let described = aws.dynamodb.describe_table().table_name(&name).send().await;
        let table = match described {
            Ok(d) => d.table,
            // Deleted between the listing and this call: nothing to judge.
            Err(e) => {
                let e = AwsError::from_sdk("dynamodb:DescribeTable", e);
                if e.has_code("ResourceNotFoundException") {
                    continue;
                }
                return Err(e);
            }
        };
        let Some(table) = table else { continue };
        let Some(arn) = table.table_arn() else { continue };
        out.push(Listed {
            id: arn.to_owned(),
            arn: arn.to_owned(),
            name: name.clone(),
            tags: None,
        });
        if let Some(stream) = table.latest_stream_arn() {
            out.push(Listed {
                id: stream.to_owned(),
                arn: stream.to_owned(),
                name: tripline_core::resource_kind::arn_name(stream).to_owned(),
                tags: None,
            });
        }
    }
    Ok(out)
}

pub(super) async fn table_policy(aws: &AwsClients, arn: &str) -> Result<Exposure, AwsError> {
    const OP: &str = "dynamodb:GetResourcePolicy";
    match aws.dynamodb.get_resource_policy().resource_arn(arn).send().await {
        Ok(out) => Ok(Exposure::Policy(out.policy().map(document))),
        // No policy; or the table (stream) deleted since the listing: nothing to judge either way.
        Err(e) => AwsError::from_sdk(OP, e)
            .absent_as("PolicyNotFoundException", Exposure::Policy(None))
            .or_else(|e| e.absent_as("ResourceNotFoundException", Exposure::Policy(None))),
    }
}

/// Tags of a table; a stream carries its table's (`ListTagsOfResource` takes the table ARN).
pub(super) async fn table_tags(aws: &AwsClients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    const OP: &str = "dynamodb:ListTagsOfResource";
    let table = arn.split("/stream/").next().unwrap_or(arn);
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(table)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        for t in page.tags() {
            out.insert(t.key().to_owned(), t.value().to_owned());
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(out),
        }
    }
}

pub(super) async fn list_domains(aws: &AwsClients) -> Result<Vec<Listed>, AwsError> {
    const OP: &str = "es:ListDomainNames";
    let account = aws.caller_account().await?;
    let region = region_of(aws.opensearch.config().region());
    let out = aws
        .opensearch
        .list_domain_names()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(OP, e))?;
    Ok(out
        .domain_names()
        .iter()
        .filter_map(|d| d.domain_name())
        .map(|name| Listed {
            id: name.to_owned(),
            arn: tripline_core::resource_kind::arn("AWS::OpenSearchService::Domain", &region, &account, name)
                .unwrap_or_default(),
            name: name.to_owned(),
            tags: None,
        })
        .collect())
}

pub(super) async fn domain_policy(aws: &AwsClients, name: &str) -> Result<Exposure, AwsError> {
    const OP: &str = "es:DescribeDomainConfig";
    let out = aws
        .opensearch
        .describe_domain_config()
        .domain_name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(OP, e))?;
    let options = out
        .domain_config()
        .and_then(|c| c.access_policies())
        .map(|p| p.options())
        .filter(|o| !o.trim().is_empty());
    Ok(Exposure::Policy(options.map(document)))
}

pub(super) async fn domain_tags(aws: &AwsClients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = aws
        .opensearch
        .list_tags()
        .arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("es:ListTags", e))?;
    Ok(out
        .tag_list()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect())
}

pub(super) async fn list_vaults(aws: &AwsClients) -> Result<Vec<Listed>, AwsError> {
    const OP: &str = "glacier:ListVaults";
    let mut pages = aws.glacier.list_vaults().account_id("-").into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for v in page.vault_list() {
            let (Some(name), Some(arn)) = (v.vault_name(), v.vault_arn()) else {
                continue;
            };
            out.push(Listed {
                id: name.to_owned(),
                arn: arn.to_owned(),
                name: name.to_owned(),
                tags: None,
            });
        }
    }
    Ok(out)
}

pub(super) async fn vault_policy(aws: &AwsClients, name: &str) -> Result<Exposure, AwsError> {
    const OP: &str = "glacier:GetVaultAccessPolicy";
    match aws
        .glacier
        .get_vault_access_policy()
        .account_id("-")
        .vault_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(Exposure::Policy(
            out.policy().and_then(|p| p.policy()).map(document),
        )),
        Err(e) => AwsError::from_sdk(OP, e).absent_as("ResourceNotFoundException", Exposure::Policy(None)),
    }
}

pub(super) async fn vault_tags(aws: &AwsClients, name: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = aws
        .glacier
        .list_tags_for_vault()
        .account_id("-")
        .vault_name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("glacier:ListTagsForVault", e))?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}
