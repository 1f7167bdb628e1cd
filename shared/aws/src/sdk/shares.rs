//! [`ExposureRead`] for [`AwsClients`]: the readers of share attributes (EC2 snapshots and AMIs, RDS DB and
//! cluster snapshots; this file) and of resource policies (SQS, SNS, Secrets Manager;
//! `resource_policies.rs`), dispatched on the kind exhaustively.
//!
//! Calls (EC2 and RDS API references):
//! - `DescribeSnapshots` (`OwnerIds=self`, paginated) then `DescribeSnapshotAttribute`
//!   (`createVolumePermission`: `CreateVolumePermissions[]` of `UserId` / `Group`);
//! - `DescribeImages` (`Owners=self`, paginated) then `DescribeImageAttribute` (`launchPermission`:
//!   `LaunchPermissions[]` of `UserId` / `Group` / `OrganizationArn` / `OrganizationalUnitArn`);
//! - `DescribeDBSnapshots` / `DescribeDBClusterSnapshots` (`SnapshotType=manual`: only manual snapshots can be
//!   shared, RDS User Guide "Sharing a DB snapshot"; paginated) then `DescribeDBSnapshotAttributes` /
//!   `DescribeDBClusterSnapshotAttributes` (the `restore` attribute's values: account ids or `all`).

use std::collections::BTreeMap;

use tripline_core::policy::ShareTarget;
use tripline_core::rules::external::{ec2_item, rds_values, Exposure, SweptKindId};

use super::{policy_kinds, resource_policies, service_policies};
use crate::exposure::{ExposureRead, Listed};
use crate::{AwsClients, AwsError};

impl ExposureRead for AwsClients {
    async fn list_swept(&self, kind: SweptKindId, region: &str) -> Result<Vec<Listed>, AwsError> {
        let regional = self.in_region(region);
        let this = regional.as_ref();
        match kind {
            SweptKindId::Ec2Snapshot => this.list_snapshots().await,
            SweptKindId::Ec2Image => this.list_images().await,
            SweptKindId::RdsDbSnapshot => this.list_db_snapshots().await,
            SweptKindId::RdsClusterSnapshot => this.list_cluster_snapshots().await,
            SweptKindId::SqsQueue => resource_policies::list_queues(this).await,
            SweptKindId::SnsTopic => resource_policies::list_topics(this).await,
            SweptKindId::SecretsManagerSecret => resource_policies::list_secrets(this).await,
            SweptKindId::KmsKey => service_policies::list_keys(&this.kms).await,
            SweptKindId::EcrRepository => service_policies::list_repositories(&this.ecr).await,
            SweptKindId::LambdaFunction => service_policies::list_functions(&this.lambda).await,
            SweptKindId::LambdaLayerVersion => service_policies::list_layer_versions(&this.lambda).await,
            SweptKindId::S3AccessPoint => policy_kinds::list_access_points(this).await,
            SweptKindId::S3MultiRegionAccessPoint => policy_kinds::list_mraps(this).await,
            SweptKindId::EfsFileSystem => policy_kinds::list_file_systems(this).await,
            SweptKindId::DynamoDbTable => policy_kinds::list_tables(this).await,
            SweptKindId::OpenSearchDomain => policy_kinds::list_domains(this).await,
            SweptKindId::GlacierVault => policy_kinds::list_vaults(this).await,
        }
    }

    async fn read_exposure(&self, kind: SweptKindId, region: &str, id: &str) -> Result<Exposure, AwsError> {
        let regional = self.in_region(region);
        let this = regional.as_ref();
        match kind {
            SweptKindId::Ec2Snapshot => this.snapshot_shares(id).await,
            SweptKindId::Ec2Image => this.image_shares(id).await,
            SweptKindId::RdsDbSnapshot => this.db_snapshot_shares(id).await,
            SweptKindId::RdsClusterSnapshot => this.cluster_snapshot_shares(id).await,
            SweptKindId::SqsQueue => resource_policies::queue_policy(this, id).await,
            SweptKindId::SnsTopic => resource_policies::topic_policy(this, id).await,
            SweptKindId::SecretsManagerSecret => resource_policies::secret_policy(this, id).await,
            SweptKindId::KmsKey => service_policies::key_policy(&this.kms, id).await,
            SweptKindId::EcrRepository => service_policies::repository_policy(&this.ecr, id).await,
            SweptKindId::LambdaFunction => service_policies::function_policy(&this.lambda, id).await,
            SweptKindId::LambdaLayerVersion => service_policies::layer_version_policy(&this.lambda, id).await,
            SweptKindId::S3AccessPoint => policy_kinds::access_point_policy(this, id).await,
            SweptKindId::S3MultiRegionAccessPoint => policy_kinds::mrap_policy(this, id).await,
            SweptKindId::EfsFileSystem => policy_kinds::file_system_policy(this, id).await,
            SweptKindId::DynamoDbTable => policy_kinds::table_policy(this, id).await,
            SweptKindId::OpenSearchDomain => policy_kinds::domain_policy(this, id).await,
            SweptKindId::GlacierVault => policy_kinds::vault_policy(this, id).await,
        }
    }

    async fn swept_tags(
        &self,
        kind: SweptKindId,
        region: &str,
        id: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        let regional = self.in_region(region);
        let this = regional.as_ref();
        match kind {
            SweptKindId::SqsQueue => resource_policies::queue_tags(this, id).await,
            SweptKindId::SnsTopic => resource_policies::topic_tags(this, id).await,
            SweptKindId::KmsKey => service_policies::key_tags(&this.kms, id).await,
            SweptKindId::EcrRepository => service_policies::repository_tags(&this.ecr, id).await,
            SweptKindId::LambdaFunction => service_policies::function_tags(&this.lambda, id).await,
            SweptKindId::DynamoDbTable => policy_kinds::table_tags(this, id).await,
            SweptKindId::OpenSearchDomain => policy_kinds::domain_tags(this, id).await,
            SweptKindId::GlacierVault => policy_kinds::vault_tags(this, id).await,
            // The listing returns them (`Listed::tags` is `Some`): nothing to read.
            SweptKindId::Ec2Snapshot
            | SweptKindId::Ec2Image
            | SweptKindId::RdsDbSnapshot
            | SweptKindId::RdsClusterSnapshot
            | SweptKindId::SecretsManagerSecret
            | SweptKindId::LambdaLayerVersion
            | SweptKindId::S3AccessPoint
            | SweptKindId::S3MultiRegionAccessPoint
            | SweptKindId::EfsFileSystem => Ok(BTreeMap::new()),
        }
    }
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect()
}

fn rds_tags(tags: &[aws_sdk_rds::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect()
}

impl AwsClients {
    fn ec2_region(&self) -> String {
        self.ec2
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default()
    }

    async fn list_snapshots(&self) -> Result<Vec<Listed>, AwsError> {
        const OP: &str = "ec2:DescribeSnapshots";
        let region = self.ec2_region();
        let mut pages = self
            .ec2
            .describe_snapshots()
            .owner_ids("self")
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
            for s in page.snapshots() {
                let Some(id) = s.snapshot_id() else { continue };
                out.push(Listed {
                    id: id.to_owned(),
                    arn: tripline_core::resource_kind::arn("AWS::EC2::Snapshot", &region, "", id)
                        .unwrap_or_default(),
                    name: id.to_owned(),
                    tags: Some(ec2_tags(s.tags())),
                });
            }
        }
        Ok(out)
    }

    async fn list_images(&self) -> Result<Vec<Listed>, AwsError> {
        const OP: &str = "ec2:DescribeImages";
        let region = self.ec2_region();
        let mut pages = self.ec2.describe_images().owners("self").into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
            for i in page.images() {
                let Some(id) = i.image_id() else { continue };
                out.push(Listed {
                    id: id.to_owned(),
                    arn: tripline_core::resource_kind::arn("AWS::EC2::Image", &region, "", id)
                        .unwrap_or_default(),
                    name: id.to_owned(),
                    tags: Some(ec2_tags(i.tags())),
                });
            }
        }
        Ok(out)
    }

    async fn snapshot_shares(&self, id: &str) -> Result<Exposure, AwsError> {
        let out = self
            .ec2
            .describe_snapshot_attribute()
            .snapshot_id(id)
            .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DescribeSnapshotAttribute", e))?;
        let mut targets = Vec::new();
        for p in out.create_volume_permissions() {
            if let Some(u) = p.user_id() {
                targets.push(ShareTarget::Account(u.to_owned()));
            }
            if let Some(g) = p.group() {
                targets.push(ShareTarget::Group(g.as_str().to_owned()));
            }
        }
        Ok(Exposure::Shares(targets))
    }

    async fn image_shares(&self, id: &str) -> Result<Exposure, AwsError> {
        let out = self
            .ec2
            .describe_image_attribute()
            .image_id(id)
            .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DescribeImageAttribute", e))?;
        let mut targets = Vec::new();
        for p in out.launch_permissions() {
            // The same members the CloudTrail record carries, read by the same function.
            let item = serde_json::json!({
                "userId": p.user_id(),
                "group": p.group().map(|g| g.as_str()),
                "organizationArn": p.organization_arn(),
                "organizationalUnitArn": p.organizational_unit_arn(),
            });
            targets.extend(ec2_item(&item));
        }
        Ok(Exposure::Shares(targets))
    }

    async fn list_db_snapshots(&self) -> Result<Vec<Listed>, AwsError> {
        const OP: &str = "rds:DescribeDBSnapshots";
        let mut pages = self
            .rds
            .describe_db_snapshots()
            .snapshot_type("manual")
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
            for s in page.db_snapshots() {
                let Some(id) = s.db_snapshot_identifier() else {
                    continue;
                };
                out.push(Listed {
                    id: id.to_owned(),
                    arn: s.db_snapshot_arn().unwrap_or_default().to_owned(),
                    name: id.to_owned(),
                    tags: Some(rds_tags(s.tag_list())),
                });
            }
        }
        Ok(out)
    }

    async fn list_cluster_snapshots(&self) -> Result<Vec<Listed>, AwsError> {
        const OP: &str = "rds:DescribeDBClusterSnapshots";
        let mut pages = self
            .rds
            .describe_db_cluster_snapshots()
            .snapshot_type("manual")
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
            for s in page.db_cluster_snapshots() {
                let Some(id) = s.db_cluster_snapshot_identifier() else {
                    continue;
                };
                out.push(Listed {
                    id: id.to_owned(),
                    arn: s.db_cluster_snapshot_arn().unwrap_or_default().to_owned(),
                    name: id.to_owned(),
                    tags: Some(rds_tags(s.tag_list())),
                });
            }
        }
        Ok(out)
    }

    async fn db_snapshot_shares(&self, id: &str) -> Result<Exposure, AwsError> {
        let out = self
            .rds
            .describe_db_snapshot_attributes()
            .db_snapshot_identifier(id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("rds:DescribeDBSnapshotAttributes", e))?;
        let values: Vec<&str> = out
            .db_snapshot_attributes_result()
            .map(|r| r.db_snapshot_attributes())
            .unwrap_or_default()
            .iter()
            .filter(|a| {
                a.attribute_name()
                    .is_some_and(|n| n.eq_ignore_ascii_case("restore"))
            })
            .flat_map(|a| a.attribute_values().iter().map(String::as_str))
            .collect();
        Ok(Exposure::Shares(rds_values(&values)))
    }

    async fn cluster_snapshot_shares(&self, id: &str) -> Result<Exposure, AwsError> {
        let out = self
            .rds
            .describe_db_cluster_snapshot_attributes()
            .db_cluster_snapshot_identifier(id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("rds:DescribeDBClusterSnapshotAttributes", e))?;
        let values: Vec<&str> = out
            .db_cluster_snapshot_attributes_result()
            .map(|r| r.db_cluster_snapshot_attributes())
            .unwrap_or_default()
            .iter()
            .filter(|a| {
                a.attribute_name()
                    .is_some_and(|n| n.eq_ignore_ascii_case("restore"))
            })
            .flat_map(|a| a.attribute_values().iter().map(String::as_str))
            .collect();
        Ok(Exposure::Shares(rds_values(&values)))
    }
}
