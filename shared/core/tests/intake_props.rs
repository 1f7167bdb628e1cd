//! Property tests: intake never panics, whatever the bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;
use tripline_core::{intake, intake_oversized_item, OversizedContext};

/// Arbitrary JSON values, nested a few levels, with keys intake looks for mixed into random ones.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("detail-type".to_owned()),
        Just("detail".to_owned()),
        Just("invokingEvent".to_owned()),
        Just("Records".to_owned()),
        Just("Sns".to_owned()),
        Just("Message".to_owned()),
        Just("messageType".to_owned()),
        Just("eventSource".to_owned()),
        Just("eventName".to_owned()),
        Just("configurationItem".to_owned()),
        "[a-zA-Z]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
        Just(Value::String("%7B%22a%22%3A1%7D".to_owned())),
        Just(Value::String(
            "{\"messageType\":\"ConfigurationItemChangeNotification\"}".to_owned()
        )),
        Just(Value::String("AWS API Call via CloudTrail".to_owned())),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer inside `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        _ => {}
    }
}

fn samples() -> &'static [Value] {
    static SAMPLES: OnceLock<Vec<Value>> = OnceLock::new();
    SAMPLES.get_or_init(load_samples)
}

fn load_samples() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let mut out: Vec<Value> = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("json") {
            out.push(serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap());
        }
    }
    out.sort_by_key(|v| v.to_string());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = intake(&bytes);
        let _ = intake_oversized_item(&bytes, &OversizedContext::default());
    }

    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        let _ = intake(&bytes);
        let _ = intake_oversized_item(&bytes, &OversizedContext::default());
    }

    /// Real samples with one value anywhere replaced by arbitrary JSON (also inside embedded JSON strings
    /// such as `invokingEvent` or an SNS `Message`, which are replaced whole): a typed error or an outcome.
    #[test]
    fn mutated_samples_never_panic(sample in any::<Index>(), at in any::<Index>(), replacement in json_value()) {
        let all = samples();
        let mut v = sample.get(all).clone();
        let mut ptrs = Vec::new();
        pointers(&v, String::new(), &mut ptrs);
        if !ptrs.is_empty() {
            let p = at.get(&ptrs).clone();
            if let Some(slot) = v.pointer_mut(&p) {
                *slot = replacement;
            }
        }
        let _ = intake(&serde_json::to_vec(&v).unwrap());
    }
}
