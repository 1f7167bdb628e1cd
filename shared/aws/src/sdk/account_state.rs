//! `AccountStateRead` (`crate::account_state`): CloudTrail trails with their status and event selectors,
//! AWS Config recorders with their status, GuardDuty detectors, EBS encryption by default and security
//! groups, in one region each (per-region clients from the home clients' configuration: same timeouts,
//! retries, endpoint override, timing).

use aws_config::Region;
use serde_json::{json, Map, Value};

use super::ec2_network::ec2_in;
use crate::{AwsClients, AwsError};

macro_rules! client_in {
    ($name:ident, $sdk:ident) => {
        fn $name(home: &$sdk::Client, region: &str) -> $sdk::Client {
            $sdk::Client::from_conf(
                home.config()
                    .to_builder()
                    .region(Region::new(region.to_owned()))
                    .build(),
            )
        }
    };
}
client_in!(cloudtrail_in, aws_sdk_cloudtrail);
client_in!(guardduty_in, aws_sdk_guardduty);
client_in!(config_in, aws_sdk_config);

fn put<T: serde::Serialize>(m: &mut Map<String, Value>, key: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(key.into(), json!(v));
    }
}

fn trail_json(t: &aws_sdk_cloudtrail::types::Trail) -> Value {
    let mut m = Map::new();
    put(&mut m, "Name", t.name());
    put(&mut m, "TrailARN", t.trail_arn());
    put(&mut m, "HomeRegion", t.home_region());
    put(&mut m, "IsMultiRegionTrail", t.is_multi_region_trail());
    put(&mut m, "IsOrganizationTrail", t.is_organization_trail());
    put(
        &mut m,
        "IncludeGlobalServiceEvents",
        t.include_global_service_events(),
    );
    Value::Object(m)
}

fn selectors_json(
    out: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> Value {
    let mut m = Map::new();
    if let Some(list) = &out.event_selectors {
        let v: Vec<Value> = list
            .iter()
            .map(|s| {
                let mut e = Map::new();
                put(&mut e, "ReadWriteType", s.read_write_type().map(|t| t.as_str()));
                put(&mut e, "IncludeManagementEvents", s.include_management_events());
                Value::Object(e)
            })
            .collect();
        m.insert("EventSelectors".into(), Value::Array(v));
    }
    if let Some(list) = &out.advanced_event_selectors {
        let v: Vec<Value> = list
            .iter()
            .map(|s| {
                let fields: Vec<Value> = s
                    .field_selectors()
                    .iter()
                    .map(|f| {
                        let mut e = Map::new();
                        e.insert("Field".into(), json!(f.field()));
                        e.insert("Equals".into(), json!(f.equals()));
                        if !f.not_equals().is_empty() {
                            e.insert("NotEquals".into(), json!(f.not_equals()));
                        }
                        Value::Object(e)
                    })
                    .collect();
                let mut e = Map::new();
                put(&mut e, "Name", s.name());
                e.insert("FieldSelectors".into(), Value::Array(fields));
                Value::Object(e)
            })
            .collect();
        m.insert("AdvancedEventSelectors".into(), Value::Array(v));
    }
    Value::Object(m)
}

fn permission_json(p: &aws_sdk_ec2::types::IpPermission) -> Value {
    let mut m = Map::new();
    put(&mut m, "IpProtocol", p.ip_protocol());
    put(&mut m, "FromPort", p.from_port());
    put(&mut m, "ToPort", p.to_port());
    let v4: Vec<Value> = p
        .ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip().map(|c| json!({ "CidrIp": c })))
        .collect();
    let v6: Vec<Value> = p
        .ipv6_ranges()
        .iter()
        .filter_map(|r| r.cidr_ipv6().map(|c| json!({ "CidrIpv6": c })))
        .collect();
    m.insert("IpRanges".into(), Value::Array(v4));
    m.insert("Ipv6Ranges".into(), Value::Array(v6));
    Value::Object(m)
}

fn group_json(g: &aws_sdk_ec2::types::SecurityGroup) -> Value {
    let mut m = Map::new();
    put(&mut m, "GroupId", g.group_id());
    put(&mut m, "GroupName", g.group_name());
    put(&mut m, "VpcId", g.vpc_id());
    put(&mut m, "OwnerId", g.owner_id());
    m.insert(
        "IpPermissions".into(),
        Value::Array(g.ip_permissions().iter().map(permission_json).collect()),
    );
    let tags: Vec<Value> = g
        .tags()
        .iter()
        .filter_map(|t| Some(json!({"Key": t.key()?, "Value": t.value()?})))
        .collect();
    m.insert("Tags".into(), Value::Array(tags));
    Value::Object(m)
}

impl AwsClients {
    /// DescribeTrails (shadow trails included: CloudTrail API Reference, "If an empty list is specified and
    /// IncludeShadowTrails is null or true, then information for all trails in the current Region and any
    /// associated shadow trails in other Regions is returned"), then each trail's GetTrailStatus and
    /// GetEventSelectors by ARN ("To get the status of a shadow trail ... you must specify its ARN").
    pub(crate) async fn describe_trails_with_status(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let client = cloudtrail_in(&self.cloudtrail, region);
        let out = client
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudtrail:DescribeTrails", e))?;
        let mut trails = Vec::new();
        for t in out.trail_list() {
            let mut entry = Map::new();
            entry.insert("Trail".into(), trail_json(t));
            let Some(id) = t.trail_arn().or_else(|| t.name()) else {
                trails.push(Value::Object(entry));
                continue;
            };
            let (status, selectors) = futures::join!(
                client.get_trail_status().name(id).send(),
                client.get_event_selectors().trail_name(id).send(),
            );
            match status {
                Ok(s) => {
                    let mut st = Map::new();
                    put(&mut st, "IsLogging", s.is_logging());
                    entry.insert("Status".into(), Value::Object(st));
                }
                Err(e) => {
                    let e = AwsError::from_sdk("cloudtrail:GetTrailStatus", e);
                    entry.insert("StatusError".into(), json!(e.to_string()));
                }
            }
            match selectors {
                Ok(s) => {
                    entry.insert("Selectors".into(), selectors_json(&s));
                }
                Err(e) => {
                    let e = AwsError::from_sdk("cloudtrail:GetEventSelectors", e);
                    entry.insert("SelectorsError".into(), json!(e.to_string()));
                }
            }
            trails.push(Value::Object(entry));
        }
        Ok(trails)
    }

    /// DescribeConfigurationRecorders + DescribeConfigurationRecorderStatus, joined by recorder name. The
    /// SDK models `ConfigurationRecorderStatus.recording` as a plain boolean (an entry without it reads
    /// false); a recorder without a status entry has no `recording` (unknown).
    pub(crate) async fn describe_configuration_recorders(
        &self,
        region: &str,
    ) -> Result<Vec<Value>, AwsError> {
        let client = config_in(&self.config, region);
        let (recorders, statuses) = futures::join!(
            client.describe_configuration_recorders().send(),
            client.describe_configuration_recorder_status().send(),
        );
        let recorders =
            recorders.map_err(|e| AwsError::from_sdk("config:DescribeConfigurationRecorders", e))?;
        let statuses =
            statuses.map_err(|e| AwsError::from_sdk("config:DescribeConfigurationRecorderStatus", e))?;
        Ok(recorders
            .configuration_recorders()
            .iter()
            .map(|r| {
                let mut m = Map::new();
                put(&mut m, "name", r.name());
                put(&mut m, "arn", r.arn());
                let status = statuses
                    .configuration_recorders_status()
                    .iter()
                    .find(|s| s.name().is_some() && s.name() == r.name());
                if let Some(s) = status {
                    m.insert("recording".into(), json!(s.recording()));
                    put(&mut m, "lastStatus", s.last_status().map(|l| l.as_str()));
                }
                Value::Object(m)
            })
            .collect())
    }

    /// ListDetectors (paginated) + GetDetector per detector.
    pub(crate) async fn describe_guardduty_detectors(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let client = guardduty_in(&self.guardduty, region);
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_detectors()
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("guardduty:ListDetectors", e))?;
            ids.extend(page.detector_ids().iter().cloned());
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        let mut out = Vec::new();
        for id in ids {
            let d = client
                .get_detector()
                .detector_id(&id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("guardduty:GetDetector", e))?;
            let mut m = Map::new();
            m.insert("detectorId".into(), json!(id));
            put(&mut m, "status", d.status().map(|s| s.as_str()));
            out.push(Value::Object(m));
        }
        Ok(out)
    }

    pub(crate) async fn get_ebs_encryption_by_default(&self, region: &str) -> Result<Option<bool>, AwsError> {
        let out = ec2_in(&self.ec2, region)
            .get_ebs_encryption_by_default()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:GetEbsEncryptionByDefault", e))?;
        Ok(out.ebs_encryption_by_default())
    }

    /// DescribeSecurityGroups in pages of 1,000 (EC2 API Reference, `MaxResults`: 5 to 1000).
    pub(crate) async fn describe_security_groups(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let client = ec2_in(&self.ec2, region);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .describe_security_groups()
                .max_results(1000)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", e))?;
            out.extend(page.security_groups().iter().map(group_json));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(out)
    }
}
