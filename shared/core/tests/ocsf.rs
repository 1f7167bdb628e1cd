//! The OCSF output (`tripline_core::render::ocsf`) validated against the OCSF 1.5.0 schema itself: the schema
//! server's export as shipped by the PyPI package `ocsf-json-schema` 1.2.0 (Apache-2.0), extracted by
//! `scripts/ocsf-schema.sh` (`make ocsf-schema`) into `.venv-ocsf/`. Nothing of the schema is typed here:
//! the validator walks the export's `classes`, `objects` and `types` (attribute names, `requirement`,
//! `profile`, `is_array`, `object_type`, `enum`, object `constraints`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use tripline_core::finding::Suppression;
use tripline_core::lifecycle::Transition;
use tripline_core::render::lifecycle::LifecycleView;
use tripline_core::render::ocsf::{detection_finding, OCSF_VERSION};
use tripline_core::rules::{self, SweepContext};
use tripline_core::settings::RuleConfig;
use tripline_core::state::BucketState;

fn schema() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.venv-ocsf")
        .join(format!("ocsf-{OCSF_VERSION}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `make ocsf-schema`: the OCSF schema from the ocsf-json-schema package)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

struct Validator<'a> {
    schema: &'a Value,
    profiles: Vec<String>,
    errors: Vec<String>,
}

impl Validator<'_> {
    fn base_type(&self, t: &str) -> String {
        match self.schema["types"][t]["type"].as_str() {
            Some(base) if base != t => self.base_type(base),
            _ => t.to_owned(),
        }
    }

    fn object(&mut self, v: &Value, attrs: &Value, constraints: &Value, path: &str) {
        let Some(obj) = v.as_object() else {
            self.errors.push(format!("{path}: not an object"));
            return;
        };
        let attrs = attrs.as_object().unwrap();
        for (k, val) in obj {
            match attrs.get(k) {
                None => self
                    .errors
                    .push(format!("{path}.{k}: not an attribute of the schema")),
                Some(a) => self.attribute(val, a, &format!("{path}.{k}")),
            }
        }
        for (k, a) in attrs {
            let profile_applies = a["profile"]
                .as_str()
                .is_none_or(|p| self.profiles.iter().any(|x| x == p));
            if a["requirement"] == "required" && profile_applies && !obj.contains_key(k) {
                self.errors.push(format!("{path}.{k}: required and absent"));
            }
        }
        if let Some(any) = constraints["at_least_one"].as_array() {
            if !any.iter().any(|k| obj.contains_key(k.as_str().unwrap())) {
                self.errors.push(format!("{path}: needs at least one of {any:?}"));
            }
        }
        if let Some(one) = constraints["just_one"].as_array() {
            if one
                .iter()
                .filter(|k| obj.contains_key(k.as_str().unwrap()))
                .count()
                != 1
            {
                self.errors.push(format!("{path}: needs exactly one of {one:?}"));
            }
        }
    }

    fn attribute(&mut self, v: &Value, a: &Value, path: &str) {
        if a["is_array"] == true {
            match v.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.scalar_or_object(item, a, &format!("{path}[{i}]"));
                    }
                }
                None => self.errors.push(format!("{path}: should be an array")),
            }
        } else {
            self.scalar_or_object(v, a, path);
        }
    }

    fn scalar_or_object(&mut self, v: &Value, a: &Value, path: &str) {
        let t = a["type"].as_str().unwrap();
        if t == "object_t" {
            let name = a["object_type"].as_str().unwrap();
            if name == "object" {
                // The free-form object (`unmapped`).
                if !v.is_object() {
                    self.errors.push(format!("{path}: not an object"));
                }
                return;
            }
            let o = &self.schema["objects"][name];
            assert!(o.is_object(), "schema has no object `{name}`");
            let (attrs, constraints) = (o["attributes"].clone(), o["constraints"].clone());
            self.object(v, &attrs, &constraints, path);
            return;
        }
        let ok = match self.base_type(t).as_str() {
            "integer_t" | "long_t" | "timestamp_t" | "port_t" => v.is_i64() || v.is_u64(),
            "float_t" => v.is_number(),
            "boolean_t" => v.is_boolean(),
            "json_t" => true,
            _ => v.is_string(),
        };
        if !ok {
            self.errors.push(format!("{path}: {v} is not a {t}"));
        }
        if let Some(e) = a["enum"].as_object() {
            let key = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !e.contains_key(&key) {
                self.errors.push(format!(
                    "{path}: {v} is not one of {:?}",
                    e.keys().collect::<Vec<_>>()
                ));
            }
        }
    }
}

fn validate(schema: &Value, event: &Value) -> Vec<String> {
    let class = schema["classes"]
        .as_object()
        .unwrap()
        .values()
        .find(|c| c["uid"] == event["class_uid"])
        .unwrap_or_else(|| panic!("no class {}", event["class_uid"]));
    let profiles = event["metadata"]["profiles"]
        .as_array()
        .map(|p| p.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    let mut v = Validator {
        schema,
        profiles,
        errors: Vec::new(),
    };
    v.object(event, &class["attributes"], &Value::Null, "$");
    v.errors
}

fn findings() -> Vec<tripline_core::finding::Finding> {
    let ctx = SweepContext {
        account: "111122223333",
        region: "eu-west-1",
        time: "2026-11-29T10:20:30Z",
    };
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/*"}]});
    let state = BucketState {
        policy: Some(policy),
        ..BucketState::default()
    };
    let mut out = rules::assess_bucket(&ctx, "photos", &state, None, &RuleConfig::default()).findings;
    // Every firing sample event of the catalog, judged from the payload.
    for rule in rules::REGISTRY {
        for name in rule.fires {
            let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
            let bytes = std::fs::read(&path).unwrap();
            if let Ok(tripline_core::Intake::Change(change)) = tripline_core::intake(&bytes) {
                out.extend(rules::evaluate(&change, None, &RuleConfig::default()).findings);
            }
        }
    }
    assert!(out.len() > 10, "{}", out.len());
    out
}

#[test]
fn every_finding_is_a_valid_ocsf_detection_finding() {
    let schema = schema();
    assert_eq!(schema["version"], OCSF_VERSION);
    let class = &schema["classes"]["detection_finding"];
    assert_eq!(
        (class["uid"].as_u64(), class["category_uid"].as_u64()),
        (Some(2004), Some(2))
    );
    for f in findings() {
        let e = detection_finding(&f, None);
        let errors = validate(&schema, &e);
        assert!(errors.is_empty(), "{}: {errors:#?}\n{e:#}", f.rule);
        assert_eq!(e["class_uid"], 2004);
        assert_eq!(e["category_uid"], 2);
        assert_eq!(e["metadata"]["version"], OCSF_VERSION);
        assert_eq!(e["type_uid"], 200401);
        // Nothing invented: the resource uid is the ARN or absent.
        if f.resource.arn.is_empty() {
            assert!(e["resources"][0].get("uid").is_none());
        }
    }
}

#[test]
fn lifecycle_and_suppression_map_to_activity_and_status() {
    let schema = schema();
    let mut f = findings().remove(0);
    let view = |t| LifecycleView {
        id: "0123".into(),
        transition: t,
        state: "open".into(),
        first_seen: "2026-11-01T00:00:00Z".into(),
        last_seen: "2026-11-29T10:20:30Z".into(),
        occurrences: 3,
        resolved_reason: None,
    };
    let cases = [
        (Transition::New, 1, 1),
        (Transition::Reopened, 1, 1),
        (Transition::Unchanged, 2, 1),
        (Transition::Resolved, 3, 4),
    ];
    for (t, activity, status) in cases {
        let e = detection_finding(&f, Some(&view(t)));
        assert!(
            validate(&schema, &e).is_empty(),
            "{t}: {:?}",
            validate(&schema, &e)
        );
        assert_eq!(
            (e["activity_id"].as_u64(), e["status_id"].as_u64()),
            (Some(activity), Some(status)),
            "{t}"
        );
        assert_eq!(e["type_uid"].as_u64(), Some(200400 + activity));
        assert_eq!(
            e["finding_info"]["first_seen_time"],
            1_793_491_200_000i64 /* 2026-11-01T00:00:00Z */
        );
    }
    f.suppressed = Some(Suppression {
        reason: "tag".into(),
        by: "tag".into(),
    });
    let e = detection_finding(&f, None);
    assert_eq!(e["status"], "Suppressed");
    assert!(validate(&schema, &e).is_empty());
}

/// A finding a scan resolved (the stored item, no finding) is a valid Close event: activity 3, status 4
/// Resolved, the lifecycle id, the stored first/last seen, the resolution reason; nothing the item lacks.
#[test]
fn a_resolved_stored_finding_is_a_valid_close_event() {
    let schema = schema();
    let item: tripline_core::lifecycle::LifecycleItem = serde_json::from_value(json!({
        "key": {"account": "111122223333", "rule": "s3-bucket-policy-public",
            "resource_arn": "arn:aws:s3:::photos"},
        "id": "0123456789abcdef0123456789abcdef", "state": "resolved", "severity": "critical",
        "title": "S3 bucket policy allows public access", "resource_type": "AWS::S3::Bucket",
        "region": "eu-west-1", "first_seen": "2026-11-01T00:00:00Z", "last_seen": "2026-11-29T10:20:30Z",
        "last_event_id": "ev-1", "last_transition": "resolved", "occurrences": 4,
        "last_notified_at": null, "last_notified_transition": null, "notify_pending": null,
        "remediation_attempts": 0, "last_remediation_outcome": null, "evidence_digest": "d",
        "resolved_reason": "resource-gone", "expires_at": null, "version": 5
    }))
    .unwrap();
    let e = tripline_core::render::ocsf::resolved_finding(&item, "2026-12-01T00:00:00Z", "scan-1");
    let errors = validate(&schema, &e);
    assert!(errors.is_empty(), "{errors:#?}\n{e:#}");
    assert_eq!(
        (
            e["activity_id"].as_u64(),
            e["status_id"].as_u64(),
            e["type_uid"].as_u64()
        ),
        (Some(3), Some(4), Some(200403))
    );
    assert_eq!(e["finding_info"]["uid"], "0123456789abcdef0123456789abcdef");
    assert_eq!(e["finding_info"]["types"], json!(["s3-bucket-policy-public"]));
    assert_eq!(e["finding_info"]["first_seen_time"], 1_793_491_200_000i64);
    assert_eq!(e["resources"][0]["uid"], "arn:aws:s3:::photos");
    assert_eq!(e["unmapped"]["resolved_reason"], "resource-gone");
    assert_eq!(e["severity_id"], 5);
    assert!(e.get("evidences").is_none(), "no API call revealed a resolution");
}

/// The validator is not vacuous: it refuses an unknown attribute, a missing required one, a wrong type and
/// a value outside an enum.
#[test]
fn the_validator_refuses_invalid_events() {
    let schema = schema();
    let good = detection_finding(&findings().remove(0), None);
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        ("unknown", Box::new(|e| e["bogus"] = json!(1))),
        (
            "required",
            Box::new(|e| {
                e.as_object_mut().unwrap().remove("finding_info");
            }),
        ),
        ("type", Box::new(|e| e["time"] = json!("yesterday"))),
        ("enum", Box::new(|e| e["severity_id"] = json!(42))),
        (
            "nested",
            Box::new(|e| e["cloud"]["account"]["type_id"] = json!(77)),
        ),
        (
            "constraint",
            Box::new(|e| e["resources"] = json!([{"type": "AWS::S3::Bucket"}])),
        ),
    ];
    for (name, m) in mutations {
        let mut e = good.clone();
        m(&mut e);
        assert!(!validate(&schema, &e).is_empty(), "{name} accepted");
    }
}
