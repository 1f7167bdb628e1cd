//! The audit trail itself: `cloudtrail-logging-disabled`, `config-recording-stopped`, `tripline-tampered`.

use serde_json::{json, Value};

use super::payload::{self, at, bool_at, items, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::Change;
use crate::finding::{FindingResource, Severity};

pub static CLOUDTRAIL_LOGGING_DISABLED: Rule = Rule {
    id: "cloudtrail-logging-disabled",
    title: "CloudTrail logging disabled or reduced",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "cloudtrail.amazonaws.com",
        names: &["StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A trail stopped logging, was deleted, or was changed so that it no longer records management \
          (control-plane) write events, global service events (IAM, STS) or other regions. Turning off the \
          audit trail is a classic first step of an intrusion: what follows is not recorded. No automatic \
          remediation yet: restart logging with `aws cloudtrail start-logging` (the CloudTrail SDK is not a \
          dependency of remediate).",
    fires: &[
        "cloudtrail-cloudtrail-stop-logging.json",
        "cloudtrail-cloudtrail-delete-trail.json",
        "cloudtrail-cloudtrail-put-event-selectors-no-management.json",
    ],
    quiet: &["cloudtrail-cloudtrail-put-event-selectors-all.json"],
    check: check_cloudtrail,
};

pub static CONFIG_RECORDING_STOPPED: Rule = Rule {
    id: "config-recording-stopped",
    title: "AWS Config recording stopped",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "config.amazonaws.com",
        names: &[
            "StopConfigurationRecorder",
            "DeleteConfigurationRecorder",
            "DeleteDeliveryChannel",
        ],
    }],
    config_types: &[],
    needs: &[],
    // remediate re-reads the recorder's status before and after starting it.
    extra_permissions: &["config:DescribeConfigurationRecorderStatus"],
    remediation: Some(crate::remediation::CONFIG_START_CONFIGURATION_RECORDER),
    doc: "AWS Config stopped recording (recorder stopped or deleted, or its delivery channel deleted). \
          Configuration history and the Config rules that watch it, Tripline's included, go blind. The \
          remediation restarts a stopped recorder; a deleted recorder or delivery channel must be recreated \
          by hand.",
    fires: &["cloudtrail-config-stop-configuration-recorder.json"],
    quiet: &["cloudtrail-config-start-configuration-recorder.json"],
    check: check_config,
};

pub static TRIPLINE_TAMPERED: Rule = Rule {
    id: "tripline-tampered",
    title: "Tripline's own resources changed",
    severity: Severity::High,
    cloudtrail: &[
        Trigger {
            source: "lambda.amazonaws.com",
            names: &[
                "DeleteFunction20150331",
                "UpdateFunctionCode20150331v2",
                "UpdateFunctionConfiguration20150331v2",
                "PutFunctionConcurrency20171031",
                "DeleteFunctionConcurrency20171031",
                "RemovePermission20150331v2",
                "DeleteEventSourceMapping20150331",
                "UpdateEventSourceMapping20150331",
            ],
        },
        Trigger {
            source: "events.amazonaws.com",
            names: &[
                "DisableRule",
                "DeleteRule",
                "PutRule",
                "RemoveTargets",
                "PutTargets",
            ],
        },
        Trigger {
            source: "sns.amazonaws.com",
            names: &[
                "DeleteTopic",
                "SetTopicAttributes",
                "Unsubscribe",
                "SetSubscriptionAttributes",
            ],
        },
        Trigger {
            source: "iam.amazonaws.com",
            names: &[
                "DeleteRole",
                "UpdateAssumeRolePolicy",
                "PutRolePolicy",
                "DeleteRolePolicy",
                "AttachRolePolicy",
                "DetachRolePolicy",
                "PutRolePermissionsBoundary",
                "DeleteRolePermissionsBoundary",
            ],
        },
        Trigger {
            source: "config.amazonaws.com",
            names: &["DeleteConfigRule", "PutConfigRule"],
        },
        Trigger {
            source: "cloudformation.amazonaws.com",
            names: &["DeleteStack", "UpdateStack"],
        },
        Trigger {
            source: "sqs.amazonaws.com",
            names: &["DeleteQueue", "PurgeQueue", "SetQueueAttributes"],
        },
        Trigger {
            source: "logs.amazonaws.com",
            names: &["DeleteLogGroup"],
        },
    ],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "One of Tripline's own functions, EventBridge rules, alert topic, queues, log groups, Config rule, \
          stack or roles (recognised by the configured name prefix) was changed or deleted. An attacker who \
          can silence the monitor can act unseen. Changes made through CloudFormation (a stack update) are \
          reported at low severity.",
    fires: &["cloudtrail-lambda-update-function-code-tripline.json"],
    quiet: &["cloudtrail-lambda-update-function-code-other.json"],
    check: check_tampered,
};

fn trail_resource(c: &Change, name: Option<&str>) -> FindingResource {
    let mut r = payload::registered(c, "AWS::CloudTrail::Trail", name);
    if let Some(n) = r.name.as_deref().filter(|n| n.starts_with("arn:")) {
        r.name = n.rsplit('/').next().map(str::to_owned);
    }
    r
}

/// Whether basic event selectors still record management write events. An absent
/// `includeManagementEvents` means true, an absent `readWriteType` means `All` (CloudTrail API Reference,
/// `EventSelector`).
pub(super) fn basic_selectors_record_writes(selectors: &[&Value]) -> bool {
    selectors.iter().any(|s| {
        bool_at(s, &["includeManagementEvents"]) != Some(false)
            && str_at(s, &["readWriteType"]).is_none_or(|t| !t.eq_ignore_ascii_case("ReadOnly"))
    })
}

/// Whether advanced event selectors still record management write events: a selector with
/// `eventCategory` equal to `Management` that does not restrict `readOnly` to `true`
/// (CloudTrail API Reference, `AdvancedFieldSelector`).
pub(super) fn advanced_selectors_record_writes(selectors: &[&Value]) -> bool {
    selectors.iter().any(|s| {
        let fields = items(at(s, &["fieldSelectors"]));
        let field_equals = |name: &str, value: &str| {
            fields.iter().any(|f| {
                str_at(f, &["field"]) == Some(name)
                    && items(at(f, &["equals"]))
                        .iter()
                        .any(|v| v.as_str().is_some_and(|v| v.eq_ignore_ascii_case(value)))
            })
        };
        field_equals("eventCategory", "Management") && !field_equals("readOnly", "true")
    })
}

fn check_cloudtrail(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    let name = str_at(req, &["name"]).or_else(|| str_at(req, &["trailName"]));
    let mut evidence = payload::reasons(Vec::new());
    match c.event_name.as_str() {
        "StopLogging" => evidence.reasons.push("the trail stopped logging".into()),
        "DeleteTrail" => evidence.reasons.push("the trail was deleted".into()),
        "UpdateTrail" => {
            if bool_at(req, &["isMultiRegionTrail"]) == Some(false) {
                evidence
                    .reasons
                    .push("the trail no longer records other regions (`isMultiRegionTrail` false)".into());
            }
            if bool_at(req, &["includeGlobalServiceEvents"]) == Some(false) {
                evidence.reasons.push(
                    "the trail no longer records global service events such as IAM and STS \
                     (`includeGlobalServiceEvents` false)"
                        .into(),
                );
            }
        }
        "PutEventSelectors" => {
            // The call sets one of the two lists; a record holding neither does not say what the trail
            // records now (unknown, not "nothing").
            if at(req, &["eventSelectors"]).is_null() && at(req, &["advancedEventSelectors"]).is_null() {
                return Err(CheckError::Lacks {
                    subject: "the call",
                    missing: vec!["requestParameters.eventSelectors".into()],
                    nor: Some("`requestParameters.advancedEventSelectors`"),
                });
            }
            let basic = items(at(req, &["eventSelectors"]));
            let advanced = items(at(req, &["advancedEventSelectors"]));
            let records = if !advanced.is_empty() {
                advanced_selectors_record_writes(&advanced)
            } else {
                basic_selectors_record_writes(&basic)
            };
            if !records {
                evidence
                    .reasons
                    .push("the trail's event selectors no longer record management write events".into());
                for s in basic.iter().chain(advanced.iter()) {
                    evidence.statements.push((*s).clone());
                }
            }
        }
        _ => {}
    }
    if evidence.reasons.is_empty() {
        return Ok(Vec::new());
    }
    let resource = trail_resource(c, name);
    let trail = resource.name_or_unknown().to_owned();
    Ok(vec![payload::payload_hit(
        resource,
        Severity::High,
        format!("CloudTrail trail {trail} logging reduced by {}", payload::who(c)),
        evidence,
    )])
}

/// The request parameter naming what a Config event acts on.
fn name_key(event_name: &str) -> &'static str {
    if event_name == "DeleteDeliveryChannel" {
        "deliveryChannelName"
    } else {
        "configurationRecorderName"
    }
}

fn check_config(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    let (rtype, name, what) = match c.event_name.as_str() {
        "DeleteDeliveryChannel" => (
            "AWS::Config::DeliveryChannel",
            str_at(req, &["deliveryChannelName"]),
            "deleted the delivery channel",
        ),
        "DeleteConfigurationRecorder" => (
            "AWS::Config::ConfigurationRecorder",
            str_at(req, &["configurationRecorderName"]),
            "deleted the configuration recorder",
        ),
        _ => (
            "AWS::Config::ConfigurationRecorder",
            str_at(req, &["configurationRecorderName"]),
            "stopped the configuration recorder",
        ),
    };
    let resource = payload::registered(c, rtype, name);
    let n = resource.name_or_unknown().to_owned();
    let reason = match &resource.name {
        Some(n) => format!("{} {what} `{n}`", payload::who(c)),
        None => format!(
            "{} {what} ({})",
            payload::who(c),
            payload::lacks(&format!("requestParameters.{}", name_key(&c.event_name)))
        ),
    };
    Ok(vec![payload::payload_hit(
        resource,
        Severity::High,
        format!("AWS Config recorder {n} stopped by {}", payload::who(c)),
        payload::reasons(vec![reason]),
    )])
}

/// Request parameters naming the touched resource, per service.
const NAME_KEYS: &[&str] = &[
    "functionName",
    "name",
    "rule",
    "topicArn",
    "subscriptionArn",
    "roleName",
    "configRuleName",
    "stackName",
    "queueUrl",
    "logGroupName",
    "uUID",
];

/// Whether some `:` or `/` separated segment of `value` starts with `prefix`.
fn has_prefixed_segment(value: &str, prefix: &str) -> bool {
    value
        .split([':', '/'])
        .any(|seg| !seg.is_empty() && seg.starts_with(prefix))
}

/// The ARN of a resource named by a plain name, with the service's ARN format (Service Authorization
/// Reference); `None` when the format needs more than the name (a stack's or a Config rule's id), or the
/// name comes from another parameter: no ARN is made up.
fn tampered_arn(c: &Change, key: &str, name: &str) -> Option<String> {
    let resource_type = match (c.service.as_str(), key) {
        ("lambda.amazonaws.com", "functionName") => "AWS::Lambda::Function",
        ("events.amazonaws.com", "name" | "rule") => "AWS::Events::Rule",
        ("iam.amazonaws.com", "roleName") => "AWS::IAM::Role",
        ("logs.amazonaws.com", "logGroupName") => "AWS::Logs::LogGroup",
        _ => return None,
    };
    crate::resource_kind::arn(resource_type, &c.region, &c.account, name)
}

fn check_tampered(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let prefix = ctx.config.name_prefix.as_str();
    if prefix.is_empty() {
        return Ok(Vec::new());
    }
    let req = payload::req(c);
    let named = NAME_KEYS
        .iter()
        .filter_map(|k| str_at(req, &[k]).map(|v| (*k, v)))
        .chain(str_at(req, &["configRule", "configRuleName"]).map(|v| ("configRuleName", v)))
        .find(|(_, v)| has_prefixed_segment(v, prefix));
    let Some((key, value)) = named else {
        return Ok(Vec::new());
    };
    let via_cfn = c.actor.invoked_by.as_deref() == Some("cloudformation.amazonaws.com");
    let severity = if via_cfn { Severity::Low } else { Severity::High };
    let rtype = match c.service.as_str() {
        "lambda.amazonaws.com" => "AWS::Lambda::Function",
        "events.amazonaws.com" => "AWS::Events::Rule",
        "sns.amazonaws.com" => "AWS::SNS::Topic",
        "iam.amazonaws.com" => "AWS::IAM::Role",
        "config.amazonaws.com" => "AWS::Config::ConfigRule",
        "cloudformation.amazonaws.com" => "AWS::CloudFormation::Stack",
        "sqs.amazonaws.com" => "AWS::SQS::Queue",
        "logs.amazonaws.com" => "AWS::Logs::LogGroup",
        _ => "AWS::Unknown",
    };
    let short = value
        .rsplit([':', '/'])
        .find(|s| s.starts_with(prefix))
        .unwrap_or(value);
    let recorded = payload::resource_of(c, rtype).and_then(|(a, _)| a);
    let arn = match recorded {
        Some(a) => a.to_owned(),
        None if value.starts_with("arn:") => value.to_owned(),
        None => tampered_arn(c, key, short).unwrap_or_default(),
    };
    let mut evidence = payload::reasons(vec![format!(
        "{} called {} on `{value}`, which carries Tripline's name prefix `{prefix}`",
        payload::who(c),
        c.event_name
    )]);
    if via_cfn {
        evidence
            .reasons
            .push("the call was made by CloudFormation (a stack deployment), hence low severity".into());
    }
    evidence.details.insert(key.into(), json!(value));
    Ok(vec![payload::payload_hit(
        FindingResource {
            resource_type: rtype.into(),
            arn,
            name: Some(short.to_owned()),
        },
        severity,
        format!(
            "Tripline resource {short} changed ({}) by {}",
            c.event_name,
            payload::who(c)
        ),
        evidence,
    )])
}
