//! `DutiesRead::enabled_regions` and `DutiesRead::network_acls` (EC2).

use aws_config::Region;
use serde_json::{json, Map, Value};

use crate::{AwsClients, AwsError};

/// An EC2 client for `region`, from the same configuration (timeouts, retries, endpoint override, timing).
pub fn ec2_in(home: &aws_sdk_ec2::Client, region: &str) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::from_conf(
        home.config()
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build(),
    )
}

fn entry_json(e: &aws_sdk_ec2::types::NetworkAclEntry) -> Value {
    let mut m = Map::new();
    if let Some(n) = e.rule_number() {
        m.insert("RuleNumber".into(), json!(n));
    }
    if let Some(p) = e.protocol() {
        m.insert("Protocol".into(), json!(p));
    }
    if let Some(a) = e.rule_action() {
        m.insert("RuleAction".into(), json!(a.as_str()));
    }
    if let Some(eg) = e.egress() {
        m.insert("Egress".into(), json!(eg));
    }
    if let Some(c) = e.cidr_block() {
        m.insert("CidrBlock".into(), json!(c));
    }
    if let Some(c) = e.ipv6_cidr_block() {
        m.insert("Ipv6CidrBlock".into(), json!(c));
    }
    if let Some(r) = e.port_range() {
        let mut pr = Map::new();
        if let Some(f) = r.from() {
            pr.insert("From".into(), json!(f));
        }
        if let Some(t) = r.to() {
            pr.insert("To".into(), json!(t));
        }
        m.insert("PortRange".into(), Value::Object(pr));
    }
    Value::Object(m)
}

fn acl_json(a: &aws_sdk_ec2::types::NetworkAcl) -> Value {
    let mut m = Map::new();
    if let Some(id) = a.network_acl_id() {
        m.insert("NetworkAclId".into(), json!(id));
    }
    if let Some(v) = a.vpc_id() {
        m.insert("VpcId".into(), json!(v));
    }
    if let Some(d) = a.is_default() {
        m.insert("IsDefault".into(), json!(d));
    }
    if let Some(o) = a.owner_id() {
        m.insert("OwnerId".into(), json!(o));
    }
    m.insert(
        "Entries".into(),
        Value::Array(a.entries().iter().map(entry_json).collect()),
    );
    Value::Object(m)
}

impl AwsClients {
    pub(crate) async fn describe_enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        // EC2 API Reference, DescribeRegions: without `AllRegions` only the regions enabled for the
        // account are returned.
        let out = self
            .ec2
            .describe_regions()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DescribeRegions", e))?;
        let mut regions: Vec<String> = out
            .regions()
            .iter()
            .filter_map(|r| r.region_name().map(str::to_owned))
            .collect();
        regions.sort();
        regions.dedup();
        Ok(regions)
    }

    pub(crate) async fn describe_network_acls(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let client = ec2_in(&self.ec2, region);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            // Pages of up to 1,000 (EC2 API Reference, DescribeNetworkAcls, `MaxResults`: 5 to 1000).
            let page = client
                .describe_network_acls()
                .max_results(1000)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeNetworkAcls", e))?;
            out.extend(page.network_acls().iter().map(acl_json));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(out)
    }
}
