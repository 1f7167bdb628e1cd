//! DynamoDB implementation of [`FindingsStore`].
//!
//! Table layout (what `template.yaml`'s `FindingsTable` and `tripline findings init` create): partition key
//! `pk` (S) = `<account>|<resource arn>`, sort key `sk` (S) = rule id; on-demand capacity; TTL on
//! `expires_at` (N, epoch seconds, set only on resolved items). Every other attribute is the
//! [`LifecycleItem`]'s field of the same name (strings S, numbers N, nested objects M; absent values are
//! not written). Writes are `PutItem` with a condition on `version`
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html>:
//! "If the condition expression evaluates to false, DynamoDB returns ... ConditionalCheckFailedException").
//!
//! Calls the functions make: `GetItem` (consistent), `PutItem`, `Query` (consistent). The CLI also calls
//! `Scan`, `CreateTable`, `DescribeTable` and `UpdateTimeToLive`.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use serde_json::{Map, Number, Value};

use super::timing::CallTiming;
use crate::store::{FindingsStore, ListFilter, PutOutcome};
use crate::{AwsError, ErrorKind};
use tripline_core::lifecycle::{partition_key, LifecycleItem, LifecycleKey};

/// The TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// A findings table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

impl DynamoStore {
    /// A store on `table` with the shared configuration (timeouts, retries, endpoint override).
    pub fn new(sdk: &SdkConfig, table: &str) -> Self {
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk)
                .interceptor(CallTiming)
                .build(),
        );
        Self {
            client,
            table: table.to_owned(),
        }
    }

    /// Creates the table as the template does (on-demand, `pk`/`sk`, TTL on `expires_at`) and waits until
    /// it is active. An existing table is left as it is (`Ok(false)`).
    pub async fn create_table(&self) -> Result<bool, AwsError> {
        const OP: &str = "dynamodb:CreateTable";
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| AwsError::new(OP, ErrorKind::Client, e.to_string()))
        };
        let key = |name: &str, ty: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(ty)
                .build()
                .map_err(|e| AwsError::new(OP, ErrorKind::Client, e.to_string()))
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .send()
            .await;
        let created = match created {
            Ok(_) => true,
            Err(e) => {
                let e = AwsError::from_sdk(OP, e);
                if e.has_code("ResourceInUseException") {
                    false
                } else {
                    return Err(e);
                }
            }
        };
        for _ in 0..60 {
            let d = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("dynamodb:DescribeTable", e))?;
            let active = d
                .table()
                .and_then(|t| t.table_status())
                .is_some_and(|s| s.as_str() == "ACTIVE");
            if active {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        if created {
            let spec = TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(|e| AwsError::new("dynamodb:UpdateTimeToLive", ErrorKind::Client, e.to_string()))?;
            self.client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("dynamodb:UpdateTimeToLive", e))?;
        }
        Ok(created)
    }

    /// The item whose lifecycle id is `id` (the CLI's `findings show`; a full read of the table).
    pub async fn find_by_id(&self, id: &str) -> Result<Option<LifecycleItem>, AwsError> {
        Ok(self
            .list(&ListFilter::default())
            .await?
            .into_iter()
            .find(|i| i.id == id))
    }
}

/// JSON -> DynamoDB attribute (nulls are dropped by the caller).
fn to_attr(v: &Value) -> Option<AttributeValue> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().filter_map(to_attr).collect()),
        Value::Object(o) => AttributeValue::M(
            o.iter()
                .filter_map(|(k, v)| to_attr(v).map(|a| (k.clone(), a)))
                .collect(),
        ),
    })
}

/// DynamoDB attribute -> JSON (the types [`to_attr`] writes; anything else is null).
fn from_attr(a: &AttributeValue) -> Value {
    match a {
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => n
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| n.parse::<u64>().ok().map(Value::from))
            .or_else(|| {
                n.parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
            })
            .unwrap_or(Value::Null),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attr).collect()),
        AttributeValue::M(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), from_attr(v))).collect()),
        _ => Value::Null,
    }
}

/// The item's attributes: its fields plus `pk` and `sk`.
pub fn item_attributes(item: &LifecycleItem) -> Result<HashMap<String, AttributeValue>, AwsError> {
    let v = serde_json::to_value(item)
        .map_err(|e| AwsError::new("dynamodb:PutItem", ErrorKind::Client, e.to_string()))?;
    let Some(AttributeValue::M(mut map)) = to_attr(&v) else {
        return Err(AwsError::new(
            "dynamodb:PutItem",
            ErrorKind::Client,
            "item is not an object",
        ));
    };
    map.insert("pk".into(), AttributeValue::S(item.key.partition()));
    map.insert("sk".into(), AttributeValue::S(item.key.rule.clone()));
    Ok(map)
}

/// An item read back; a malformed item is an error naming its key.
pub fn item_from_attributes(attrs: &HashMap<String, AttributeValue>) -> Result<LifecycleItem, AwsError> {
    let mut obj: Map<String, Value> = attrs
        .iter()
        .filter(|(k, _)| k.as_str() != "pk" && k.as_str() != "sk")
        .map(|(k, v)| (k.clone(), from_attr(v)))
        .collect();
    // Optional fields absent in the item are null in the model.
    for k in [
        "last_notified_at",
        "last_notified_transition",
        "notify_pending",
        "last_remediation_outcome",
        "resolved_reason",
        "expires_at",
    ] {
        obj.entry(k).or_insert(Value::Null);
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| {
        let pk = attrs
            .get("pk")
            .and_then(|a| a.as_s().ok())
            .cloned()
            .unwrap_or_default();
        AwsError::new(
            "dynamodb:GetItem",
            ErrorKind::Client,
            format!(
                "malformed findings item `{}`: {}",
                tripline_core::text::quote(&pk),
                tripline_core::text::quote(&e.to_string())
            ),
        )
    })
}

impl FindingsStore for DynamoStore {
    async fn get(&self, key: &LifecycleKey) -> Result<Option<LifecycleItem>, AwsError> {
        const OP: &str = "dynamodb:GetItem";
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.partition()))
            .key("sk", AttributeValue::S(key.rule.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        out.item().map(item_from_attributes).transpose()
    }

    async fn put(&self, item: &LifecycleItem) -> Result<PutOutcome, AwsError> {
        const OP: &str = "dynamodb:PutItem";
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_attributes(item)?));
        req = if item.version <= 1 {
            req.condition_expression("attribute_not_exists(pk)")
        } else {
            req.condition_expression("#v = :prev")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":prev", AttributeValue::N((item.version - 1).to_string()))
        };
        match req.send().await {
            Ok(_) => Ok(PutOutcome::Written),
            Err(e) => {
                let e = AwsError::from_sdk(OP, e);
                if e.has_code("ConditionalCheckFailedException") {
                    Ok(PutOutcome::Conflict)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn resource_items(
        &self,
        account: &str,
        resource_arn: &str,
    ) -> Result<Vec<LifecycleItem>, AwsError> {
        const OP: &str = "dynamodb:Query";
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(partition_key(account, resource_arn)))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))?;
            for i in page.items() {
                out.push(item_from_attributes(i)?);
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<LifecycleItem>, AwsError> {
        const OP: &str = "dynamodb:Scan";
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))?;
            for i in page.items() {
                let item = item_from_attributes(i)?;
                if filter.matches(&item) {
                    out.push(item);
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        out.sort_by(|a, b| {
            (&a.key.account, &a.key.resource_arn, &a.key.rule).cmp(&(
                &b.key.account,
                &b.key.resource_arn,
                &b.key.rule,
            ))
        });
        Ok(out)
    }
}
