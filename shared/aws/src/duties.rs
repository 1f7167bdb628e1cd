//! The customer's duties (issue 18): the reads the whole-account assessment makes for the account password
//! policy, network ACLs, RDS instances and clusters, and patch compliance. One capability trait,
//! [`DutiesRead`], implemented by the SDK adapters (`sdk/iam_password.rs`, `sdk/ec2_network.rs`,
//! `sdk/rds_instances.rs`, `sdk/patch_compliance.rs`), the fakes and [`crate::Routed`].
//!
//! Shapes: everything is returned as JSON in the API's own (PascalCase) member names, so the pure judgements
//! in `tripline_core::rules::duties` read one documented shape whatever produced it:
//!
//! | method | API | shape |
//! |---|---|---|
//! | [`DutiesRead::account_password_policy`] | `iam:GetAccountPasswordPolicy` | `PasswordPolicy` (`MinimumPasswordLength`, `PasswordReusePrevention`, `ExpirePasswords`, ...), `None` for `NoSuchEntity` |
//! | [`DutiesRead::enabled_regions`] | `ec2:DescribeRegions` (enabled regions only, the API's default) | region names |
//! | [`DutiesRead::network_acls`] | `ec2:DescribeNetworkAcls` (paginated) | `NetworkAcl` (`NetworkAclId`, `VpcId`, `IsDefault`, `OwnerId`, `Entries[]`: `RuleNumber`, `Protocol`, `RuleAction`, `Egress`, `CidrBlock`, `Ipv6CidrBlock`, `PortRange{From,To}`) |
//! | [`DutiesRead::db_instances`], [`DutiesRead::db_instance`] | `rds:DescribeDBInstances` (paginated) | `DBInstance` (`DBInstanceIdentifier`, `DBInstanceArn`, `PubliclyAccessible`, `StorageEncrypted`, `DBClusterIdentifier`, `Engine`) |
//! | [`DutiesRead::db_clusters`] | `rds:DescribeDBClusters` (paginated) | `DBCluster` (`DBClusterIdentifier`, `DBClusterArn`, `StorageEncrypted`, `Engine`) |
//! | [`DutiesRead::patch_compliance_items`] | `config:ListDiscoveredResources` + `config:BatchGetResourceConfig` for `AWS::SSM::PatchCompliance` | `{"resourceId", "resourceName", "configuration"}` (the configuration item's `configuration`, parsed) |

use std::future::Future;

use serde_json::Value;

use crate::AwsError;

/// Read access for the customer-duty rules' sweep (and the RDS state the event side confirms with).
pub trait DutiesRead: crate::AccountStateRead + Send + Sync {
    /// The account password policy; `None` when the account has none (`NoSuchEntity`).
    fn account_password_policy(&self) -> impl Future<Output = Result<Option<Value>, AwsError>> + Send;
    /// The regions enabled for the account.
    fn enabled_regions(&self) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// Every network ACL of `region`.
    fn network_acls(&self, region: &str) -> impl Future<Output = Result<Vec<Value>, AwsError>> + Send;
    /// Every DB instance of `region` (Aurora cluster members included).
    fn db_instances(&self, region: &str) -> impl Future<Output = Result<Vec<Value>, AwsError>> + Send;
    /// One DB instance of `region`; `None` when it does not exist (`DBInstanceNotFound`).
    fn db_instance(
        &self,
        region: &str,
        identifier: &str,
    ) -> impl Future<Output = Result<Option<Value>, AwsError>> + Send;
    /// Every DB cluster of `region`.
    fn db_clusters(&self, region: &str) -> impl Future<Output = Result<Vec<Value>, AwsError>> + Send;
    /// The `AWS::SSM::PatchCompliance` configuration items AWS Config recorded in `region`.
    fn patch_compliance_items(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<Value>, AwsError>> + Send;
    /// Whether this view reads the account-level setting (the password policy). A regional shard of the
    /// organization-wide sweep does not (its global shard does), so the account is judged once.
    fn reads_account_settings(&self) -> bool {
        true
    }
    /// Whether this view reads the regional families. The global shard of the organization-wide sweep does
    /// not (each regional shard reads its own region).
    fn reads_regional(&self) -> bool {
        true
    }
}

impl DutiesRead for crate::AwsClients {
    async fn account_password_policy(&self) -> Result<Option<Value>, AwsError> {
        self.get_account_password_policy().await
    }
    async fn enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        self.describe_enabled_regions().await
    }
    async fn network_acls(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.describe_network_acls(region).await
    }
    async fn db_instances(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.describe_db_instances(region).await
    }
    async fn db_instance(&self, region: &str, identifier: &str) -> Result<Option<Value>, AwsError> {
        self.describe_db_instance(region, identifier).await
    }
    async fn db_clusters(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.describe_db_clusters(region).await
    }
    async fn patch_compliance_items(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.recorded_patch_compliance(region).await
    }
}

/// Reads go to the event's (target) account, like every other read of [`crate::Routed`].
impl DutiesRead for crate::Routed {
    async fn account_password_policy(&self) -> Result<Option<Value>, AwsError> {
        self.target.account_password_policy().await
    }
    async fn enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        self.target.enabled_regions().await
    }
    async fn network_acls(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.target.network_acls(region).await
    }
    async fn db_instances(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.target.db_instances(region).await
    }
    async fn db_instance(&self, region: &str, identifier: &str) -> Result<Option<Value>, AwsError> {
        self.target.db_instance(region, identifier).await
    }
    async fn db_clusters(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.target.db_clusters(region).await
    }
    async fn patch_compliance_items(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.target.patch_compliance_items(region).await
    }
}

/// What [`crate::fakes::FakeAws`] answers for [`DutiesRead`] (seed it through `FakeWorld::duties`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FakeDuties {
    /// `GetAccountPasswordPolicy`'s `PasswordPolicy`; `None`: `NoSuchEntity`.
    pub password_policy: Option<Value>,
    /// Enabled regions.
    pub regions: Vec<String>,
    /// Per region, in the shapes of the module docs.
    pub network_acls: std::collections::BTreeMap<String, Vec<Value>>,
    pub db_instances: std::collections::BTreeMap<String, Vec<Value>>,
    pub db_clusters: std::collections::BTreeMap<String, Vec<Value>>,
    pub patch_items: std::collections::BTreeMap<String, Vec<Value>>,
}

#[cfg(any(test, feature = "fakes"))]
impl DutiesRead for crate::fakes::FakeAws {
    async fn account_password_policy(&self) -> Result<Option<Value>, AwsError> {
        let w = self.call("iam:GetAccountPasswordPolicy", "")?;
        Ok(w.duties.password_policy.clone())
    }
    async fn enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        let w = self.call("ec2:DescribeRegions", "")?;
        Ok(w.duties.regions.clone())
    }
    async fn network_acls(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let w = self.call("ec2:DescribeNetworkAcls", region)?;
        Ok(w.duties.network_acls.get(region).cloned().unwrap_or_default())
    }
    async fn db_instances(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let w = self.call("rds:DescribeDBInstances", region)?;
        Ok(w.duties.db_instances.get(region).cloned().unwrap_or_default())
    }
    async fn db_instance(&self, region: &str, identifier: &str) -> Result<Option<Value>, AwsError> {
        let w = self.call("rds:DescribeDBInstances", &format!("{region} {identifier}"))?;
        Ok(w.duties.db_instances.get(region).and_then(|all| {
            all.iter()
                .find(|i| i.get("DBInstanceIdentifier").and_then(Value::as_str) == Some(identifier))
                .cloned()
        }))
    }
    async fn db_clusters(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let w = self.call("rds:DescribeDBClusters", region)?;
        Ok(w.duties.db_clusters.get(region).cloned().unwrap_or_default())
    }
    async fn patch_compliance_items(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let w = self.call("config:BatchGetResourceConfig", region)?;
        Ok(w.duties.patch_items.get(region).cloned().unwrap_or_default())
    }
}
