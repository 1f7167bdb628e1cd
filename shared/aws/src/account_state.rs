//! The account-level state the event rules judge, read by the sweep (issue 16): CloudTrail trails, AWS
//! Config recorders, GuardDuty detectors, EBS encryption by default and security groups, per region. One
//! capability trait, [`AccountStateRead`] (a supertrait of [`crate::DutiesRead`], so every view the duty
//! sweep reads through reads these too), implemented by the SDK adapters (`sdk/account_state.rs`), the
//! fakes and [`crate::Routed`]. Account-level Block Public Access is read by every sweep already
//! (`S3Read::account_public_access_block`).
//!
//! Shapes (each API's own member names), judged by `tripline_core::rules::account_state`:
//!
//! | method | API | shape |
//! |---|---|---|
//! | [`AccountStateRead::trails`] | `cloudtrail:DescribeTrails` (shadow trails included), per trail `GetTrailStatus` + `GetEventSelectors` by ARN | `{"Trail": {Name, TrailARN, HomeRegion, IsMultiRegionTrail, IsOrganizationTrail}, "Status": {IsLogging} \| "StatusError", "Selectors": {EventSelectors, AdvancedEventSelectors} \| "SelectorsError"}` |
//! | [`AccountStateRead::configuration_recorders`] | `config:DescribeConfigurationRecorders` + `DescribeConfigurationRecorderStatus` | `{"name", "arn", "recording", "lastStatus"}` (status members absent when the status lists no entry for the recorder) |
//! | [`AccountStateRead::guardduty_detectors`] | `guardduty:ListDetectors` + `GetDetector` | `{"detectorId", "status"}` |
//! | [`AccountStateRead::ebs_encryption_by_default`] | `ec2:GetEbsEncryptionByDefault` | `EbsEncryptionByDefault` (`None`: absent from the answer) |
//! | [`AccountStateRead::security_groups`] | `ec2:DescribeSecurityGroups` (paginated) | `SecurityGroup` (`GroupId`, `GroupName`, `VpcId`, `IpPermissions[]{IpProtocol, FromPort, ToPort, IpRanges[]{CidrIp}, Ipv6Ranges[]{CidrIpv6}}`, `Tags[]{Key, Value}`) |
//!
//! A per-trail read that fails is carried in the trail's entry (`StatusError` / `SelectorsError`), so one
//! unreadable shadow trail leaves that trail unknown instead of failing the region; every other failure is
//! the method's error (the sweep names it; the family is unread, never "disabled").

use std::future::Future;

use serde_json::Value;

use crate::AwsError;

/// Read access for the account-level state the sweep judges.
pub trait AccountStateRead: Send + Sync {
    /// The trails that apply to `region`, each with its status and event selectors.
    fn trails(&self, region: &str) -> impl Future<Output = Result<Vec<Value>, AwsError>> + Send;
    /// The configuration recorders of `region` with their status.
    fn configuration_recorders(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<Value>, AwsError>> + Send;
    /// The GuardDuty detectors of `region` with their status.
    fn guardduty_detectors(&self, region: &str) -> impl Future<Output = Result<Vec<Value>, AwsError>> + Send;
    /// Whether EBS encryption by default is on in `region`.
    fn ebs_encryption_by_default(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Option<bool>, AwsError>> + Send;
    /// Every security group of `region`.
    fn security_groups(&self, region: &str) -> impl Future<Output = Result<Vec<Value>, AwsError>> + Send;
}

impl AccountStateRead for crate::AwsClients {
    async fn trails(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.describe_trails_with_status(region).await
    }
    async fn configuration_recorders(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.describe_configuration_recorders(region).await
    }
    async fn guardduty_detectors(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.describe_guardduty_detectors(region).await
    }
    async fn ebs_encryption_by_default(&self, region: &str) -> Result<Option<bool>, AwsError> {
        self.get_ebs_encryption_by_default(region).await
    }
    async fn security_groups(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.describe_security_groups(region).await
    }
}

/// Reads go to the event's (target) account, like every other read of [`crate::Routed`].
impl AccountStateRead for crate::Routed {
    async fn trails(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.target.trails(region).await
    }
    async fn configuration_recorders(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.target.configuration_recorders(region).await
    }
    async fn guardduty_detectors(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.target.guardduty_detectors(region).await
    }
    async fn ebs_encryption_by_default(&self, region: &str) -> Result<Option<bool>, AwsError> {
        self.target.ebs_encryption_by_default(region).await
    }
    async fn security_groups(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        self.target.security_groups(region).await
    }
}

/// What [`crate::fakes::FakeAws`] answers for [`AccountStateRead`] (seed it through
/// `FakeWorld::account_state`), per region in the shapes of the module docs. A region absent from a map is
/// compliant (one logging trail recording management events, one recording recorder, one enabled detector,
/// encryption by default on, no security group), so tests of other families see no account-state
/// finding; seed a region (an empty list included) to judge it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FakeAccountState {
    pub trails: std::collections::BTreeMap<String, Vec<Value>>,
    pub recorders: std::collections::BTreeMap<String, Vec<Value>>,
    pub detectors: std::collections::BTreeMap<String, Vec<Value>>,
    pub ebs_default: std::collections::BTreeMap<String, Option<bool>>,
    pub security_groups: std::collections::BTreeMap<String, Vec<Value>>,
}

#[cfg(any(test, feature = "fakes"))]
impl AccountStateRead for crate::fakes::FakeAws {
    async fn trails(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let w = self.call("cloudtrail:DescribeTrails", region)?;
        Ok(w.account_state.trails.get(region).cloned().unwrap_or_else(|| {
            vec![serde_json::json!({
                "Trail": {"Name": "fake-trail", "TrailARN": format!("arn:aws:cloudtrail:{region}:111122223333:trail/fake-trail"), "IsMultiRegionTrail": true},
                "Status": {"IsLogging": true},
                "Selectors": {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}
            })]
        }))
    }
    async fn configuration_recorders(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let w = self.call("config:DescribeConfigurationRecorders", region)?;
        Ok(w.account_state.recorders.get(region).cloned().unwrap_or_else(|| {
            vec![serde_json::json!({"name": "default", "recording": true, "lastStatus": "SUCCESS"})]
        }))
    }
    async fn guardduty_detectors(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let w = self.call("guardduty:ListDetectors", region)?;
        Ok(w.account_state
            .detectors
            .get(region)
            .cloned()
            .unwrap_or_else(|| vec![serde_json::json!({"detectorId": "fakedetector", "status": "ENABLED"})]))
    }
    async fn ebs_encryption_by_default(&self, region: &str) -> Result<Option<bool>, AwsError> {
        let w = self.call("ec2:GetEbsEncryptionByDefault", region)?;
        Ok(w.account_state
            .ebs_default
            .get(region)
            .copied()
            .unwrap_or(Some(true)))
    }
    async fn security_groups(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let w = self.call("ec2:DescribeSecurityGroups", region)?;
        Ok(w.account_state
            .security_groups
            .get(region)
            .cloned()
            .unwrap_or_default())
    }
}
