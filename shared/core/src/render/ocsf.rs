//! A finding as an OCSF 1.5.0 Detection Finding (`class_uid` 2004, `category_uid` 2 Findings), for
//! `tripline scan --format ocsf` and `tripline assess --format ocsf`. The mapping (README "Formats for
//! pipelines" has the table):
//!
//! | OCSF | Tripline |
//! |---|---|
//! | `activity_id` / `activity_name` | 1 Create; with the findings store: 1 Create (`new`, `reopened`, `unsuppressed`), 2 Update (`unchanged`, `changed`, `suppressed`), 3 Close (`resolved`) |
//! | `type_uid` | `class_uid` * 100 + `activity_id` |
//! | `severity_id` / `severity` | low 2 Low, medium 3 Medium, high 4 High, critical 5 Critical |
//! | `status_id` / `status` | 1 New (open), 3 Suppressed (exempted), 4 Resolved |
//! | `time` | the event's time (ms since the epoch); `metadata.original_time` the RFC 3339 text |
//! | `message` | `summary` |
//! | `finding_info` | `uid` the finding id, `title`, `desc` the rule's doc (`why`), `types` [rule id], `analytic` {type_id 1 Rule, uid and name the rule id} , `first_seen_time` / `last_seen_time` with the store |
//! | `metadata` | `version` "1.5.0", `product` {name and vendor_name "Tripline", version}, `profiles` ["cloud"], `uid` the event id, `log_provider` cloudtrail / config / sweep |
//! | `cloud` | `provider` "AWS", `region`, `account` {uid, type_id 10 AWS Account} |
//! | `resources` | one: `uid` the ARN (omitted when unknown), `name`, `type` (CloudFormation type), `region` |
//! | `remediation` | `desc` the remediation id and mode (when the rule has one) |
//! | `evidences` | one: `actor.user` {name, uid: the actor's ARN}, `api` {operation: event name, service.name}, `src_endpoint.ip` |
//! | `unmapped` | `reasons`, `state_confirmed`, `suppressed`, `console`, `cloudtrail` |
//!
//! Nothing absent from the finding is invented: optional fields are left out when the finding lacks them.
//!
//! A finding a scan resolved (`--store`: the stored item, no finding raised it) is a Close event of its own
//! ([`resolved_finding`]): `activity_id` 3, `status_id` 4 Resolved, `finding_info` from the stored item
//! (lifecycle id, title, rule, first/last seen), `time` the scan's time, `unmapped.resolved_reason`; no
//! `evidences` (no API call revealed it).

use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::finding::{Finding, Severity};
use crate::lifecycle::{LifecycleItem, Transition};
use crate::render::lifecycle::LifecycleView;

/// The OCSF version Tripline targets (`metadata.version`).
pub const OCSF_VERSION: &str = "1.5.0";
pub const CLASS_UID: u64 = 2004;
pub const CATEGORY_UID: u64 = 2;

fn severity_id(s: Severity) -> (u64, &'static str) {
    match s {
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

fn activity(t: Option<Transition>) -> (u64, &'static str) {
    match t {
        None | Some(Transition::New | Transition::Reopened | Transition::Unsuppressed) => (1, "Create"),
        Some(Transition::Unchanged | Transition::Changed | Transition::Suppressed) => (2, "Update"),
        Some(Transition::Resolved) => (3, "Close"),
    }
}

fn epoch_ms(rfc3339: &str) -> Option<i64> {
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
}

fn put(o: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        o.insert(k.to_owned(), v);
    }
}

/// The Detection Finding of `f` (with its lifecycle when a store judged it).
pub fn detection_finding(f: &Finding, lifecycle: Option<&LifecycleView>) -> Value {
    let transition = lifecycle.map(|l| l.transition);
    let (activity_id, activity_name) = activity(transition);
    let (sev_id, sev) = severity_id(f.severity);
    let (status_id, status) = match (transition, &f.suppressed) {
        (Some(Transition::Resolved), _) => (4, "Resolved"),
        (_, Some(_)) => (3, "Suppressed"),
        _ => (1, "New"),
    };
    let mut finding_info = Map::new();
    finding_info.insert("uid".into(), json!(f.id));
    finding_info.insert("title".into(), json!(f.title));
    finding_info.insert("desc".into(), json!(f.why));
    finding_info.insert("types".into(), json!([f.rule]));
    finding_info.insert(
        "analytic".into(),
        json!({"type_id": 1, "type": "Rule", "uid": f.rule, "name": f.rule}),
    );
    if let Some(l) = lifecycle {
        put(
            &mut finding_info,
            "first_seen_time",
            epoch_ms(&l.first_seen).map(Value::from),
        );
        put(
            &mut finding_info,
            "last_seen_time",
            epoch_ms(&l.last_seen).map(Value::from),
        );
        finding_info.insert("uid".into(), json!(l.id));
    }
    let mut resource = Map::new();
    if !f.resource.arn.is_empty() {
        resource.insert("uid".into(), json!(f.resource.arn));
    }
    put(&mut resource, "name", f.resource.name.clone().map(Value::from));
    resource.insert("type".into(), json!(f.resource.resource_type));
    resource.insert("region".into(), json!(f.region));
    let mut user = Map::new();
    user.insert("name".into(), json!(f.actor.name));
    put(&mut user, "uid", f.actor.arn.clone().map(Value::from));
    let mut evidence = Map::new();
    evidence.insert("actor".into(), json!({ "user": user }));
    evidence.insert(
        "api".into(),
        json!({"operation": f.event.name, "service": {"name": f.event.service}}),
    );
    put(
        &mut evidence,
        "src_endpoint",
        f.actor.source_ip.clone().map(|ip| json!({ "ip": ip })),
    );
    let mut out = Map::new();
    out.insert("class_uid".into(), json!(CLASS_UID));
    out.insert("class_name".into(), json!("Detection Finding"));
    out.insert("category_uid".into(), json!(CATEGORY_UID));
    out.insert("category_name".into(), json!("Findings"));
    out.insert("activity_id".into(), json!(activity_id));
    out.insert("activity_name".into(), json!(activity_name));
    out.insert("type_uid".into(), json!(CLASS_UID * 100 + activity_id));
    out.insert(
        "type_name".into(),
        json!(format!("Detection Finding: {activity_name}")),
    );
    out.insert("severity_id".into(), json!(sev_id));
    out.insert("severity".into(), json!(sev));
    out.insert("status_id".into(), json!(status_id));
    out.insert("status".into(), json!(status));
    // `time` is required: an unparseable event time (never produced by intake) falls back to 0 = unknown.
    out.insert("time".into(), json!(epoch_ms(&f.event.time).unwrap_or(0)));
    out.insert("message".into(), json!(f.summary));
    out.insert("finding_info".into(), Value::Object(finding_info));
    out.insert(
        "metadata".into(),
        json!({
            "version": OCSF_VERSION,
            "product": {"name": "Tripline", "vendor_name": "Tripline", "version": env!("CARGO_PKG_VERSION")},
            "profiles": ["cloud"],
            "uid": f.event.id,
            "original_time": f.event.time,
            "log_provider": f.event.source,
        }),
    );
    out.insert(
        "cloud".into(),
        json!({"provider": "AWS", "region": f.region, "account": {"uid": f.account, "type_id": 10, "type": "AWS Account"}}),
    );
    out.insert("resources".into(), json!([Value::Object(resource)]));
    if let Some(r) = &f.remediation {
        out.insert(
            "remediation".into(),
            json!({"desc": format!("Tripline remediation `{}` (mode {})", r.id, r.mode.as_str())}),
        );
    }
    out.insert("evidences".into(), json!([Value::Object(evidence)]));
    let mut unmapped = Map::new();
    unmapped.insert("reasons".into(), json!(f.evidence.reasons));
    unmapped.insert("state_confirmed".into(), json!(f.state_confirmed));
    put(
        &mut unmapped,
        "suppressed",
        f.suppressed.as_ref().map(|s| json!(s.reason)),
    );
    put(&mut unmapped, "console", f.links.console.clone().map(Value::from));
    put(
        &mut unmapped,
        "cloudtrail",
        f.links.cloudtrail.clone().map(Value::from),
    );
    out.insert("unmapped".into(), Value::Object(unmapped));
    Value::Object(out)
}

/// The Close event of a finding the store holds and a scan resolved (see the module docs). `time` is the
/// scan's time (RFC 3339); `event_id` the scan's id.
pub fn resolved_finding(item: &LifecycleItem, time: &str, event_id: &str) -> Value {
    let (sev_id, sev) = severity_id(item.severity);
    let mut finding_info = Map::new();
    finding_info.insert("uid".into(), json!(item.id));
    finding_info.insert("title".into(), json!(item.title));
    finding_info.insert("types".into(), json!([item.key.rule]));
    finding_info.insert(
        "analytic".into(),
        json!({"type_id": 1, "type": "Rule", "uid": item.key.rule, "name": item.key.rule}),
    );
    put(
        &mut finding_info,
        "first_seen_time",
        epoch_ms(&item.first_seen).map(Value::from),
    );
    put(
        &mut finding_info,
        "last_seen_time",
        epoch_ms(&item.last_seen).map(Value::from),
    );
    let mut resource = Map::new();
    if !item.key.resource_arn.is_empty() {
        resource.insert("uid".into(), json!(item.key.resource_arn));
    }
    resource.insert("type".into(), json!(item.resource_type));
    if !item.region.is_empty() {
        resource.insert("region".into(), json!(item.region));
    }
    let mut cloud = Map::new();
    cloud.insert("provider".into(), json!("AWS"));
    if !item.region.is_empty() {
        cloud.insert("region".into(), json!(item.region));
    }
    cloud.insert(
        "account".into(),
        json!({"uid": item.key.account, "type_id": 10, "type": "AWS Account"}),
    );
    let mut unmapped = Map::new();
    put(
        &mut unmapped,
        "resolved_reason",
        item.resolved_reason.map(|r| json!(r.as_str())),
    );
    let mut out = Map::new();
    out.insert("class_uid".into(), json!(CLASS_UID));
    out.insert("class_name".into(), json!("Detection Finding"));
    out.insert("category_uid".into(), json!(CATEGORY_UID));
    out.insert("category_name".into(), json!("Findings"));
    out.insert("activity_id".into(), json!(3));
    out.insert("activity_name".into(), json!("Close"));
    out.insert("type_uid".into(), json!(CLASS_UID * 100 + 3));
    out.insert("type_name".into(), json!("Detection Finding: Close"));
    out.insert("severity_id".into(), json!(sev_id));
    out.insert("severity".into(), json!(sev));
    out.insert("status_id".into(), json!(4));
    out.insert("status".into(), json!("Resolved"));
    out.insert("time".into(), json!(epoch_ms(time).unwrap_or(0)));
    out.insert(
        "message".into(),
        json!(format!("Resolved: {} on {}", item.title, item.key.resource_arn)),
    );
    out.insert("finding_info".into(), Value::Object(finding_info));
    out.insert(
        "metadata".into(),
        json!({
            "version": OCSF_VERSION,
            "product": {"name": "Tripline", "vendor_name": "Tripline", "version": env!("CARGO_PKG_VERSION")},
            "profiles": ["cloud"],
            "uid": event_id,
            "original_time": time,
            "log_provider": "sweep",
        }),
    );
    out.insert("cloud".into(), Value::Object(cloud));
    out.insert("resources".into(), json!([Value::Object(resource)]));
    out.insert("unmapped".into(), Value::Object(unmapped));
    Value::Object(out)
}
