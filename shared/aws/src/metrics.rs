//! CloudWatch metrics in Embedded Metric Format (EMF): one JSON object per line on standard output, which
//! Lambda ships to CloudWatch Logs, where CloudWatch extracts the metrics
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
//!
//! The contract the templates' alarms rely on: namespace `Tripline`, one dimension set `[["Function"]]`
//! with `Function` = `AWS_LAMBDA_FUNCTION_NAME` (`tripline` outside Lambda), unit `Count`:
//!
//! - `RuleErrors`: once per invocation with at least one rule error (on-cloudtrail, on-config, sweep;
//!   remediate counts its failed remediations), the count and the rule ids in `rules`;
//! - `SweepIncomplete`: once per whole-account run (sweep, on-config's scheduled runs): 1 when resources
//!   were left unread (read errors, or the deadline: `reason` says which, `unread` how many), 0 otherwise.
//!
//! The lines are printed with `println!`, not through `tracing`: the JSON log layer would wrap them, and
//! CloudWatch only extracts metrics from a log event that *is* the EMF object. The builders are pure.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// The metrics namespace.
pub const NAMESPACE: &str = "Tripline";

#[derive(Serialize)]
struct Aws<'a> {
    #[serde(rename = "Timestamp")]
    timestamp: u64,
    #[serde(rename = "CloudWatchMetrics")]
    metrics: [Directive<'a>; 1],
}

#[derive(Serialize)]
struct Directive<'a> {
    #[serde(rename = "Namespace")]
    namespace: &'a str,
    #[serde(rename = "Dimensions")]
    dimensions: [[&'a str; 1]; 1],
    #[serde(rename = "Metrics")]
    metrics: [Metric<'a>; 1],
}

#[derive(Serialize)]
struct Metric<'a> {
    #[serde(rename = "Name")]
    name: &'a str,
    #[serde(rename = "Unit")]
    unit: &'a str,
}

fn header(name: &str, timestamp_ms: u64) -> Aws<'_> {
    Aws {
        timestamp: timestamp_ms,
        metrics: [Directive {
            namespace: NAMESPACE,
            dimensions: [["Function"]],
            metrics: [Metric { name, unit: "Count" }],
        }],
    }
}

#[derive(Serialize)]
struct RuleErrorsLine<'a> {
    #[serde(rename = "_aws")]
    aws: Aws<'a>,
    #[serde(rename = "Function")]
    function: &'a str,
    #[serde(rename = "RuleErrors")]
    count: u64,
    rules: Vec<&'a str>,
}

#[derive(Serialize)]
struct SweepLine<'a> {
    #[serde(rename = "_aws")]
    aws: Aws<'a>,
    #[serde(rename = "Function")]
    function: &'a str,
    #[serde(rename = "SweepIncomplete")]
    incomplete: u8,
    reason: &'a str,
    unread: u64,
}

/// The `RuleErrors` line: `count` errors of the given rules (listed once each, sorted); `None` when there
/// is no error (nothing is emitted then).
pub fn rule_errors_line<'a>(
    function: &str,
    timestamp_ms: u64,
    rules: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut rules: Vec<&str> = rules.into_iter().collect();
    let count = rules.len() as u64;
    if count == 0 {
        return None;
    }
    rules.sort_unstable();
    rules.dedup();
    serde_json::to_string(&RuleErrorsLine {
        aws: header("RuleErrors", timestamp_ms),
        function,
        count,
        rules,
    })
    .ok()
}

/// Why a whole-account run is incomplete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// Some resources could not be read (errors).
    Unread,
    /// The run stopped starting reads before the function's deadline.
    Deadline,
}

impl Completeness {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Unread => "unread",
            Self::Deadline => "deadline",
        }
    }
}

/// The `SweepIncomplete` line of one whole-account run: 1 unless `Complete`, `unread` resources.
pub fn sweep_line(function: &str, timestamp_ms: u64, completeness: Completeness, unread: u64) -> String {
    serde_json::to_string(&SweepLine {
        aws: header("SweepIncomplete", timestamp_ms),
        function,
        incomplete: u8::from(completeness != Completeness::Complete),
        reason: completeness.as_str(),
        unread,
    })
    .unwrap_or_default()
}

/// `AWS_LAMBDA_FUNCTION_NAME`, or `tripline` outside Lambda.
pub fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "tripline".to_owned())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Prints the `RuleErrors` line when there is at least one rule error (one item per error: its rule id).
pub fn emit_rule_errors<'a>(rules: impl IntoIterator<Item = &'a str>) {
    if let Some(line) = rule_errors_line(&function_name(), now_ms(), rules) {
        println!("{line}");
    }
}

/// Prints the `SweepIncomplete` line of one whole-account run.
pub fn emit_sweep(completeness: Completeness, unread: u64) {
    println!("{}", sweep_line(&function_name(), now_ms(), completeness, unread));
}

#[derive(Serialize)]
struct ShardsFailedLine<'a> {
    #[serde(rename = "_aws")]
    aws: Aws<'a>,
    #[serde(rename = "Function")]
    function: &'a str,
    #[serde(rename = "ShardsFailed")]
    count: u64,
}

/// The `ShardsFailed` line of one `sweep-worker` invocation (organization-wide sweep, issue 13): how many
/// shards it recorded as failed (0 included, so the metric exists and the alarm has data).
pub fn shards_failed_line(function: &str, timestamp_ms: u64, count: u64) -> String {
    serde_json::to_string(&ShardsFailedLine {
        aws: header("ShardsFailed", timestamp_ms),
        function,
        count,
    })
    .unwrap_or_default()
}

/// Prints the `ShardsFailed` line.
pub fn emit_shards_failed(count: u64) {
    println!("{}", shards_failed_line(&function_name(), now_ms(), count));
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn rule_errors_line_is_the_documented_emf_object() {
        let line = rule_errors_line(
            "tripline-on-cloudtrail",
            1_764_374_400_000,
            ["iam-policy-widened", "iam-policy-widened"],
        )
        .unwrap();
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            json!({"_aws": {"Timestamp": 1_764_374_400_000u64, "CloudWatchMetrics": [{"Namespace": "Tripline",
                "Dimensions": [["Function"]], "Metrics": [{"Name": "RuleErrors", "Unit": "Count"}]}]},
                "Function": "tripline-on-cloudtrail", "RuleErrors": 2, "rules": ["iam-policy-widened"]})
        );
        // No error, no line.
        assert_eq!(rule_errors_line("f", 1, []), None);
    }

    #[test]
    fn sweep_line_is_the_documented_emf_object() {
        let v: Value =
            serde_json::from_str(&sweep_line("tripline-sweep", 5, Completeness::Deadline, 12)).unwrap();
        assert_eq!(
            v,
            json!({"_aws": {"Timestamp": 5, "CloudWatchMetrics": [{"Namespace": "Tripline",
                "Dimensions": [["Function"]], "Metrics": [{"Name": "SweepIncomplete", "Unit": "Count"}]}]},
                "Function": "tripline-sweep", "SweepIncomplete": 1, "reason": "deadline", "unread": 12})
        );
        let v: Value =
            serde_json::from_str(&sweep_line("tripline-sweep", 5, Completeness::Complete, 0)).unwrap();
        assert_eq!(
            (v["SweepIncomplete"].as_u64(), v["reason"].as_str()),
            (Some(0), Some("complete"))
        );
        let v: Value = serde_json::from_str(&sweep_line("f", 5, Completeness::Unread, 3)).unwrap();
        assert_eq!(
            (v["SweepIncomplete"].as_u64(), v["unread"].as_u64()),
            (Some(1), Some(3))
        );
    }

    #[test]
    fn shards_failed_line_is_the_documented_emf_object() {
        let v: Value = serde_json::from_str(&shards_failed_line("tripline-sweep-worker", 7, 2)).unwrap();
        assert_eq!(
            v,
            json!({"_aws": {"Timestamp": 7, "CloudWatchMetrics": [{"Namespace": "Tripline",
                "Dimensions": [["Function"]], "Metrics": [{"Name": "ShardsFailed", "Unit": "Count"}]}]},
                "Function": "tripline-sweep-worker", "ShardsFailed": 2})
        );
    }

    #[test]
    fn field_order_matches_the_contract() {
        let line = rule_errors_line("f", 1, ["r"]).unwrap();
        assert!(line.starts_with(r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Tripline","Dimensions":[["Function"]],"Metrics":[{"Name":"RuleErrors","Unit":"Count"}]}]},"Function":"f","RuleErrors":1,"rules":["r"]}"#), "{line}");
    }
}
