//! `tripline scan --store NAME`: the scan goes through the same lifecycle as the functions
//! ([`tripline_aws::app::lifecycle::sweep_tracked`]) on the findings table `NAME`. Nothing is published:
//! the scan's output is its notice (the transitions it prints are recorded as notified, so a scan against
//! the functions' own table takes their place for what it printed).

use std::collections::BTreeMap;

use serde::Serialize;
use tripline_aws::app::assess::AccountAssessment;
use tripline_aws::app::lifecycle::{sweep_tracked, GoneScope, Tracked, Tracker};
use tripline_aws::sdk::dynamodb::DynamoStore;
use tripline_aws::{AwsError, Publish};
use tripline_core::lifecycle::Policy;
use tripline_core::render::sns::SnsMessage;

/// A finding's lifecycle in the scan's JSON (`lifecycle` of each finding, and each resolved finding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LifecycleOut {
    /// The lifecycle id (`tripline findings show --table NAME ID`).
    pub id: String,
    /// `new`, `unchanged`, `changed`, `reopened`, `resolved`, `suppressed`, `unsuppressed`; null when
    /// nothing was recorded (an observation older than the stored one).
    pub transition: Option<String>,
    pub state: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

/// A finding this scan resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedOut {
    pub rule: String,
    pub resource: String,
    pub severity: String,
    pub lifecycle: LifecycleOut,
}

#[derive(Debug, Default)]
pub struct StoreOutcome {
    /// (rule, resource ARN) -> lifecycle.
    pub by_finding: BTreeMap<(String, String), LifecycleOut>,
    pub resolved: Vec<ResolvedOut>,
    /// The stored items this scan resolved.
    pub resolved_items: Vec<tripline_core::lifecycle::LifecycleItem>,
}

/// Counts the notices instead of publishing them.
struct Printed;

impl Publish for Printed {
    async fn publish(&self, _topic_arn: &str, _message: &SnsMessage) -> Result<String, AwsError> {
        Ok("printed".to_owned())
    }
}

fn out(t: &Tracked) -> LifecycleOut {
    LifecycleOut {
        id: t.id.clone(),
        transition: t.transition.map(|x| x.as_str().to_owned()),
        state: t.state.map(|s| s.as_str().to_owned()),
        first_seen: t.first_seen.clone(),
        last_seen: t.last_seen.clone(),
    }
}

/// Records `assessment` (of `account`, or of the part of it `scope` names: an organization scan's shard)
/// in `table`.
pub async fn track(
    sdk: &aws_config::SdkConfig,
    table: &str,
    account: &str,
    time: &str,
    assessment: &AccountAssessment,
    scope: GoneScope<'_>,
) -> Result<StoreOutcome, String> {
    let store = DynamoStore::new(sdk, table);
    let tracker = Tracker::new(&store, Policy::default());
    let complete = assessment.errors.is_empty() && assessment.unread.is_empty();
    let event_id = format!("tripline-scan-{time}");
    let lc = sweep_tracked(
        &Printed, &tracker, "", &event_id, account, time, assessment, complete, scope,
    )
    .await
    .map_err(|e| format!("findings table `{table}`: {e}"))?;
    let mut o = StoreOutcome::default();
    for t in &lc.tracked {
        if t.transition == Some(tripline_core::lifecycle::Transition::Resolved) {
            let key = tripline_core::lifecycle::LifecycleKey {
                account: account.to_owned(),
                rule: t.rule.clone(),
                resource_arn: t.resource.clone(),
            };
            if let Some(item) = tripline_aws::store::FindingsStore::get(&store, &key)
                .await
                .map_err(|e| format!("findings table `{table}`: {e}"))?
            {
                o.resolved_items.push(item);
            }
        }
    }
    for t in &lc.tracked {
        if t.transition == Some(tripline_core::lifecycle::Transition::Resolved) {
            o.resolved.push(ResolvedOut {
                rule: t.rule.clone(),
                resource: t.resource.clone(),
                severity: t.severity.as_str().to_owned(),
                lifecycle: out(t),
            });
        } else {
            o.by_finding.insert((t.rule.clone(), t.resource.clone()), out(t));
        }
    }
    Ok(o)
}
