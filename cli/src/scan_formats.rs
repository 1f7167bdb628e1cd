//! `tripline scan --format asff|ocsf` and `--securityhub`: the scan's findings (with their lifecycle when
//! `--store` is given) as ASFF (`tripline_aws::asff`) or OCSF (`tripline_core::render::ocsf`).

use aws_sdk_securityhub::types::AwsSecurityFinding;
use serde_json::Value;
use tripline_core::finding::Finding;
use tripline_core::lifecycle::{LifecycleItem, Transition};
use tripline_core::render::lifecycle::LifecycleView;

use crate::scan_store::LifecycleOut;

pub struct Input<'a> {
    /// The scan's time (RFC 3339): ASFF `UpdatedAt`.
    pub time: &'a str,
    pub findings: Vec<(&'a Finding, Option<&'a LifecycleOut>)>,
    pub resolved: Vec<&'a LifecycleItem>,
}

fn view(l: &LifecycleOut) -> Option<LifecycleView> {
    Some(LifecycleView {
        id: l.id.clone(),
        transition: Transition::parse(l.transition.as_deref()?)?,
        state: l.state.clone().unwrap_or_default(),
        first_seen: l.first_seen.clone()?,
        last_seen: l.last_seen.clone()?,
        occurrences: 0,
        resolved_reason: None,
    })
}

pub fn asff_findings(input: &Input<'_>) -> Vec<AwsSecurityFinding> {
    let mut out: Vec<AwsSecurityFinding> = input
        .findings
        .iter()
        .map(|(f, l)| tripline_aws::asff::finding(f, l.and_then(view).as_ref(), input.time))
        .collect();
    out.extend(
        input
            .resolved
            .iter()
            .map(|i| tripline_aws::asff::resolved(i, input.time)),
    );
    out
}

pub fn asff(input: &Input<'_>) -> Vec<Value> {
    asff_findings(input)
        .iter()
        .map(tripline_aws::asff::to_json)
        .collect()
}

/// Every finding as a Detection Finding, then each finding this scan resolved (`--store`) as a Close event.
pub fn ocsf(input: &Input<'_>) -> Vec<Value> {
    let event_id = format!("tripline-scan-{}", input.time);
    input
        .findings
        .iter()
        .map(|(f, l)| tripline_core::render::ocsf::detection_finding(f, l.and_then(view).as_ref()))
        .chain(
            input
                .resolved
                .iter()
                .map(|i| tripline_core::render::ocsf::resolved_finding(i, input.time, &event_id)),
        )
        .collect()
}
