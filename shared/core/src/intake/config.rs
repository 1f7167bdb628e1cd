//! AWS Config payloads -> [`Intake`]: configuration item change notifications (EventBridge `detail`, SNS
//! message, or a custom rule's `invokingEvent`), oversized item notifications and scheduled rule runs.
//!
//! Shapes: AWS Config Developer Guide, "Example Configuration Item Change Notifications",
//! "Example Oversized Configuration Item Change Notification" and "Example Events for AWS Config Rules"
//! (<https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_example-events.html>).

use serde_json::{Map, Value};

use crate::change::{Actor, Change, ChangeSource, Outcome, Payload, Resource};
use crate::intake::IntakeError;

use super::access::Obj;
use super::cloudtrail::EventFields;
use super::decode::{decode_documents, decode_value};
use super::{Intake, OversizedContext};

pub(crate) const CHANGE: &str = "ConfigurationItemChangeNotification";
pub(crate) const OVERSIZED: &str = "OversizedConfigurationItemChangeNotification";
pub(crate) const SCHEDULED: &str = "ScheduledNotification";

pub(crate) const RULE_CONTEXT: &str = "config rule invocation";

/// What a custom-rule invocation adds around its `invokingEvent`.
#[derive(Debug, Clone)]
pub(crate) struct RuleInfo {
    pub config_rule_name: Option<String>,
    pub config_rule_arn: Option<String>,
    pub result_token: String,
    pub rule_parameters: Value,
    pub account_id: Option<String>,
    pub event_left_scope: bool,
}

impl RuleInfo {
    fn source(&self, message_type: &str) -> ChangeSource {
        ChangeSource::ConfigRule {
            message_type: message_type.to_owned(),
            config_rule_name: self.config_rule_name.clone(),
            result_token: self.result_token.clone(),
            rule_parameters: self.rule_parameters.clone(),
            event_left_scope: self.event_left_scope,
        }
    }
}

/// Who delivered the Config notification.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// EventBridge "Config Configuration Item Change", or the delivery channel's SNS topic.
    Item,
    /// A custom rule's invocation.
    Rule(RuleInfo),
}

/// A Config notification body (the object with `messageType`) found at `path`.
pub(crate) fn notification(
    body: &Value,
    path: &str,
    context: &'static str,
    origin: &Origin,
    env: &EventFields<'_>,
) -> Result<Intake, IntakeError> {
    let obj = Obj::new(body, path, context)?;
    let message_type = obj.req_str("messageType")?;
    let source = |mt: &str| match origin {
        Origin::Item => ChangeSource::ConfigItem {
            message_type: mt.to_owned(),
        },
        Origin::Rule(rule) => rule.source(mt),
    };
    match message_type {
        CHANGE => item_change(&obj, source(CHANGE), env).map(|c| Intake::Change(Box::new(c))),
        OVERSIZED => oversized(&obj, origin),
        SCHEDULED => match origin {
            Origin::Rule(rule) => {
                scheduled(&obj, rule, source(SCHEDULED)).map(|c| Intake::Change(Box::new(c)))
            }
            Origin::Item => Ok(Intake::Ignored {
                reason: format!("config message type `{SCHEDULED}` outside a rule invocation"),
            }),
        },
        other => Ok(Intake::Ignored {
            reason: format!(
                "config message type `{}` carries no configuration change",
                crate::text::quote(other)
            ),
        }),
    }
}

/// A full configuration item notification (`configurationItem` + `configurationItemDiff`).
pub(crate) fn item_change(
    obj: &Obj<'_>,
    source: ChangeSource,
    env: &EventFields<'_>,
) -> Result<Change, IntakeError> {
    let item = obj.req_obj("configurationItem")?;
    let resource_type = item.req_str("resourceType")?;
    let resource_id = item.opt_scalar("resourceId")?;
    let resource_name = item.opt_str("resourceName")?;
    let arn = match item.opt_str("ARN")? {
        Some(a) => Some(a),
        None => item.opt_str("arn")?,
    };
    let account = item
        .opt_str("awsAccountId")?
        .or(env.account)
        .ok_or_else(|| item.missing("awsAccountId"))?;
    let region = item
        .opt_str("awsRegion")?
        .or(env.region)
        .ok_or_else(|| item.missing("awsRegion"))?;
    let time = match item.opt_str("configurationItemCaptureTime")? {
        Some(t) => t,
        None => obj
            .opt_str("notificationCreationTime")?
            .or(env.time)
            .ok_or_else(|| item.missing("configurationItemCaptureTime"))?,
    };
    let status = item.opt_str("configurationItemStatus")?.unwrap_or("OK");

    // The diff is optional (absent for new resources and in rule invocations); when present it must be an
    // object.
    let mut diff = match obj.opt_obj("configurationItemDiff")? {
        Some(d) => Value::Object(d.map.clone()),
        None => Value::Null,
    };
    let change_type = diff
        .get("changeType")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    decode_diff(&mut diff);

    let event_name = change_type.unwrap_or_else(|| {
        match status {
            "ResourceDiscovered" => "CREATE",
            "ResourceDeleted" | "ResourceDeletedNotRecorded" => "DELETE",
            _ => "UPDATE",
        }
        .to_owned()
    });

    let state_id = item.opt_scalar("configurationStateId")?;
    let event_id = match env.id {
        Some(id) => id.to_owned(),
        None => format!(
            "{resource_type}/{}/{}",
            resource_id.as_deref().or(resource_name).unwrap_or("-"),
            state_id.as_deref().unwrap_or(time)
        ),
    };

    let mut configuration = item.get("configuration").cloned().unwrap_or(Value::Null);
    decode_value(&mut configuration);
    let mut supplementary = item
        .get("supplementaryConfiguration")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    if let Value::Object(map) = &mut supplementary {
        map.values_mut().for_each(decode_value);
    }
    let tags = item
        .get("tags")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));

    let resources = vec![Resource {
        resource_type: resource_type.to_owned(),
        arn: arn.map(str::to_owned),
        name: resource_name.map(str::to_owned).or(resource_id),
    }];

    Ok(Change {
        event_id,
        time: time.to_owned(),
        account: account.to_owned(),
        region: region.to_owned(),
        source,
        actor: Actor::default(),
        service: resource_type.to_owned(),
        event_name,
        outcome: Outcome::Success,
        resources,
        payload: Payload::Config {
            configuration,
            supplementary,
            tags,
            status: status.to_owned(),
            diff,
        },
    })
}

/// Decodes `changedProperties.*.previousValue/updatedValue` (URL-encoded documents, JSON strings).
fn decode_diff(diff: &mut Value) {
    if let Some(Value::Object(props)) = diff.get_mut("changedProperties") {
        for prop in props.values_mut() {
            for key in ["previousValue", "updatedValue"] {
                if let Some(v) = prop.get_mut(key) {
                    decode_value(v);
                }
            }
        }
    }
    decode_documents(diff);
}

/// An oversized item notification: the full item is in S3 at `s3DeliverySummary.s3BucketLocation`
/// (`bucket/key`).
fn oversized(obj: &Obj<'_>, origin: &Origin) -> Result<Intake, IntakeError> {
    let delivery = obj.req_obj("s3DeliverySummary")?;
    let Some(location) = delivery.opt_str("s3BucketLocation")? else {
        if let Some(code) = delivery.opt_str("errorCode")? {
            return Ok(Intake::Ignored {
                reason: format!(
                    "oversized configuration item was not delivered to s3: `{}`",
                    crate::text::quote(code)
                ),
            });
        }
        return Err(delivery.missing("s3BucketLocation"));
    };
    let (bucket, key) = match location.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => (b, k),
        _ => {
            return Err(IntakeError::InvalidValue {
                field: delivery.child_path("s3BucketLocation"),
                context: obj.context.to_owned(),
                value: crate::text::quote(location),
                reason: "expected `bucket/key`".to_owned(),
            })
        }
    };
    let ctx = match origin {
        Origin::Item => OversizedContext::default(),
        Origin::Rule(rule) => OversizedContext {
            result_token: Some(rule.result_token.clone()),
            config_rule_name: rule.config_rule_name.clone(),
            rule_parameters: rule.rule_parameters.clone(),
        },
    };
    Ok(Intake::FetchOversized {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        result_token: ctx.result_token,
        config_rule_name: ctx.config_rule_name,
        rule_parameters: ctx.rule_parameters,
    })
}

/// A periodic rule run: no item; the rule evaluates the resources in its scope.
fn scheduled(obj: &Obj<'_>, rule: &RuleInfo, source: ChangeSource) -> Result<Change, IntakeError> {
    let time = obj.req_str("notificationCreationTime")?;
    let account = obj
        .opt_str("awsAccountId")?
        .map(str::to_owned)
        .or_else(|| rule.account_id.clone())
        .ok_or_else(|| obj.missing("awsAccountId"))?;
    // arn:aws:config:REGION:ACCOUNT:config-rule/config-rule-ID
    let region = rule
        .config_rule_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(3))
        .unwrap_or_default()
        .to_owned();
    let rule_label = rule
        .config_rule_name
        .clone()
        .or_else(|| rule.config_rule_arn.clone())
        .unwrap_or_else(|| "config-rule".to_owned());
    Ok(Change {
        event_id: format!("{rule_label}/{time}"),
        time: time.to_owned(),
        account,
        region,
        source,
        actor: Actor::default(),
        service: "AWS::Config::ConfigRule".to_owned(),
        event_name: "Scheduled".to_owned(),
        outcome: Outcome::Success,
        resources: vec![Resource {
            resource_type: "AWS::Config::ConfigRule".to_owned(),
            arn: rule.config_rule_arn.clone(),
            name: rule.config_rule_name.clone(),
        }],
        payload: Payload::Scheduled,
    })
}

/// A custom rule invocation: `invokingEvent` and `ruleParameters` are JSON strings.
pub(crate) fn rule_invocation(inv: &Obj<'_>) -> Result<Intake, IntakeError> {
    let invoking = embedded_json(inv, "invokingEvent")?.ok_or_else(|| inv.missing("invokingEvent"))?;
    let rule_parameters = embedded_json(inv, "ruleParameters")?.unwrap_or_else(|| Value::Object(Map::new()));
    let rule = RuleInfo {
        config_rule_name: inv.opt_str("configRuleName")?.map(str::to_owned),
        config_rule_arn: inv.opt_str("configRuleArn")?.map(str::to_owned),
        result_token: inv.req_str("resultToken")?.to_owned(),
        rule_parameters,
        account_id: inv.opt_str("accountId")?.map(str::to_owned),
        event_left_scope: inv.opt_bool("eventLeftScope")?.unwrap_or(false),
    };
    let env = EventFields {
        account: rule.account_id.as_deref(),
        ..EventFields::default()
    };
    notification(
        &invoking,
        "invokingEvent",
        RULE_CONTEXT,
        &Origin::Rule(rule.clone()),
        &env,
    )
}

/// A field holding JSON as a string (an object is accepted as already parsed).
fn embedded_json(obj: &Obj<'_>, key: &str) -> Result<Option<Value>, IntakeError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            serde_json::from_str::<Value>(s)
                .map(Some)
                .map_err(|e| IntakeError::EmbeddedJson {
                    field: obj.child_path(key),
                    context: obj.context.to_owned(),
                    message: e.to_string(),
                })
        }
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(other) => Err(super::access::wrong_type(
            &obj.child_path(key),
            obj.context,
            "a json string",
            other,
        )),
    }
}

/// A fetched oversized item (the S3 object: a full notification, or a bare configuration item).
pub(crate) fn fetched_item(value: &Value, ctx: &OversizedContext) -> Result<Change, IntakeError> {
    const CONTEXT: &str = "oversized configuration item";
    let source = match &ctx.result_token {
        Some(token) => ChangeSource::ConfigRule {
            message_type: OVERSIZED.to_owned(),
            config_rule_name: ctx.config_rule_name.clone(),
            result_token: token.clone(),
            rule_parameters: ctx.rule_parameters.clone(),
            event_left_scope: false,
        },
        None => ChangeSource::ConfigItem {
            message_type: OVERSIZED.to_owned(),
        },
    };
    let obj = Obj::new(value, "", CONTEXT)?;
    if obj.has("configurationItem") {
        return item_change(&obj, source, &EventFields::default());
    }
    let mut wrapper = Map::new();
    wrapper.insert("configurationItem".to_owned(), value.clone());
    let wrapped = Value::Object(wrapper);
    let obj = Obj::new(&wrapped, "", CONTEXT)?;
    item_change(&obj, source, &EventFields::default())
}
