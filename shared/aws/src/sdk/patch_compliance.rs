//! `DutiesRead::patch_compliance_items`: the `AWS::SSM::PatchCompliance` configuration items AWS Config
//! recorded (`config:ListDiscoveredResources`, then `config:BatchGetResourceConfig` 100 keys at a time).
//!
//! Why Config and not `ssm:ListResourceComplianceSummaries`: `ssm-patch-noncompliant` is a Config-only rule
//! (no CloudTrail call marks a node's compliance), its event side judges exactly these items, and the
//! sweep judging the same recorded item with the same reader gives the same answer, patch by patch (the
//! SSM summaries only count patches per severity). AWS Config Developer Guide, "Supported Resource Types":
//! `AWS::SSM::PatchCompliance` is recorded when the recorder records it (all supported types, or the type
//! listed); an account that does not record it has no item, and the sweep then sees no node (the doc of
//! the rule says so).

use aws_config::Region;
use aws_sdk_config::types::{ResourceKey, ResourceType};
use serde_json::{json, Value};

use crate::{AwsClients, AwsError, ErrorKind};

const TYPE: &str = "AWS::SSM::PatchCompliance";

/// AWS Config API Reference, BatchGetResourceConfig `resourceKeys`: at most 100 keys.
const BATCH: usize = 100;

fn config_in(home: &aws_sdk_config::Client, region: &str) -> aws_sdk_config::Client {
    aws_sdk_config::Client::from_conf(
        home.config()
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build(),
    )
}

impl AwsClients {
    pub(crate) async fn recorded_patch_compliance(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let client = config_in(&self.config, region);
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_discovered_resources()
                .resource_type(ResourceType::from(TYPE))
                .limit(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("config:ListDiscoveredResources", e))?;
            ids.extend(
                page.resource_identifiers()
                    .iter()
                    .filter_map(|r| r.resource_id().map(str::to_owned)),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        let mut items = Vec::new();
        for chunk in ids.chunks(BATCH) {
            let keys = chunk
                .iter()
                .map(|id| {
                    ResourceKey::builder()
                        .resource_type(ResourceType::from(TYPE))
                        .resource_id(id)
                        .build()
                        .map_err(|e| {
                            AwsError::new("config:BatchGetResourceConfig", ErrorKind::Client, e.to_string())
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = client
                .batch_get_resource_config()
                .set_resource_keys(Some(keys))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("config:BatchGetResourceConfig", e))?;
            let unprocessed = out.unprocessed_resource_keys();
            if !unprocessed.is_empty() {
                // Config could not answer for some keys now: the sweep must say so, not skip them.
                return Err(AwsError::new(
                    "config:BatchGetResourceConfig",
                    ErrorKind::ServerError,
                    format!("{} patch compliance item(s) left unprocessed", unprocessed.len()),
                ));
            }
            for item in out.base_configuration_items() {
                let configuration = item
                    .configuration()
                    .and_then(|c| serde_json::from_str::<Value>(c).ok())
                    .unwrap_or(Value::Null);
                items.push(json!({
                    "resourceId": item.resource_id(),
                    "resourceName": item.resource_name(),
                    "configuration": configuration,
                }));
            }
        }
        Ok(items)
    }
}
