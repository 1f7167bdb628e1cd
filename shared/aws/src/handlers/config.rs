//! `on-config`: AWS Config custom-rule invocations (and Config item changes via EventBridge or SNS).
//!
//! - Configuration item change: fetch the state the triggered rules need, evaluate (widening of inline and
//!   trust policies uses the item's previous value from `configurationItemDiff`), publish the findings,
//!   and answer Config with `PutEvaluations`: `NON_COMPLIANT` when an unsuppressed finding remains,
//!   `COMPLIANT` when the rules found nothing (or only exempted findings), `NOT_APPLICABLE` when no rule
//!   evaluates the resource type, the resource was deleted, or the event left the rule's scope. The
//!   annotation stays under 256 characters; the invocation's `resultToken` is passed back.
//! - Oversized item: the item is fetched from S3 (gzip-compressed or not) and evaluated the same way.
//! - `ScheduledNotification`: every bucket, customer-managed policy and role is judged (the sweep's
//!   [`assess_account`]) and reported with `PutEvaluations`; findings are published by the `sweep`
//!   function, not here, so a periodic rule does not duplicate alerts.
//! - Config item changes without a rule invocation (EventBridge, SNS): evaluate and publish only.

use std::io::Read;

use serde::Serialize;
use serde_json::Value;

use crate::app::assess::{assess_account, SweepConfig};
use crate::app::detect::detect;
use crate::app::publish::FindingRef;
use crate::app::HandlerError;
use crate::{
    AwsError, Compliance, ConfigEvaluation, ErrorKind, ExposureRead, FetchObject, IamRead, Publish,
    PutEvaluations, S3Read,
};
use tripline_core::change::{Change, ChangeSource, Payload};
use tripline_core::intake::{intake_oversized_item, Intake, OversizedContext};
use tripline_core::rules::{self, Evaluation, RuleError, SweepContext};
use tripline_core::Envelope;

/// Facts of the raw invocation that intake does not keep.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvocationFacts {
    pub result_token: Option<String>,
    pub event_left_scope: bool,
    pub resource_type: Option<String>,
    /// `configurationItem.resourceId` (or the oversized summary's): what `PutEvaluations` needs.
    pub resource_id: Option<String>,
    pub capture_time: Option<String>,
    pub notification_time: Option<String>,
}

/// Reads [`InvocationFacts`] from a rule invocation; empty for anything else. Never fails.
pub fn invocation_facts(event: &Envelope) -> InvocationFacts {
    let Ok(v) = event.value() else {
        return InvocationFacts::default();
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let invoking: Value = v
        .get("invokingEvent")
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null);
    let item = invoking
        .get("configurationItem")
        .or_else(|| invoking.get("configurationItemSummary"))
        .cloned()
        .unwrap_or(Value::Null);
    InvocationFacts {
        result_token: s(v, "resultToken"),
        event_left_scope: v.get("eventLeftScope").and_then(Value::as_bool).unwrap_or(false),
        resource_type: s(&item, "resourceType"),
        resource_id: s(&item, "resourceId"),
        capture_time: s(&item, "configurationItemCaptureTime"),
        notification_time: s(&invoking, "notificationCreationTime"),
    }
}

/// Gunzips when the bytes start with the gzip magic number; returns them unchanged otherwise.
pub fn maybe_gunzip(operation: &'static str, bytes: Vec<u8>) -> Result<Vec<u8>, AwsError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        // Intake accepts at most `MAX_PAYLOAD_BYTES` (6 MiB): expand one byte more, so a larger object reaches
        // intake over the limit and is refused as too large (never truncated to a size that parses), and a
        // corrupt or hostile object cannot expand past it in memory.
        .take(
            u64::try_from(tripline_core::MAX_PAYLOAD_BYTES)
                .unwrap_or(u64::MAX)
                .saturating_add(1),
        )
        .read_to_end(&mut out)
        .map_err(|e| {
            AwsError::new(
                operation,
                ErrorKind::Client,
                format!("the object is not valid gzip: {e}"),
            )
        })?;
    Ok(out)
}

/// The verdict Config gets for one evaluated change.
pub fn compliance_of(evaluation: &Evaluation, triggered: bool) -> (Compliance, String) {
    if !triggered {
        return (
            Compliance::NotApplicable,
            "no tripline rule evaluates this resource type".to_owned(),
        );
    }
    let open: Vec<_> = evaluation
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    if let Some(first) = open.first() {
        let more = match open.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        return (
            Compliance::NonCompliant,
            format!("{}: {}{more}", first.rule, first.summary),
        );
    }
    let suppressed = evaluation.findings.len();
    if suppressed > 0 {
        return (
            Compliance::Compliant,
            format!("{suppressed} finding(s) exempted by tag or allow-list"),
        );
    }
    if !evaluation.errors.is_empty() {
        // A rule failed: do not claim compliance on a partial check.
        let e = &evaluation.errors[0];
        return (
            Compliance::NonCompliant,
            format!("rule `{}` could not evaluate: {}", e.rule, e.message),
        );
    }
    (
        Compliance::Compliant,
        "no tripline rule found an exposure".to_owned(),
    )
}

/// What one invocation did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigOutcome {
    pub event_id: String,
    /// `evaluated`, `scheduled`, `ignored`.
    pub status: String,
    pub evaluations: Vec<ConfigEvaluation>,
    pub findings: Vec<FindingRef>,
    pub rule_errors: Vec<RuleError>,
}

async fn put<D: PutEvaluations>(
    aws: &D,
    event_id: &str,
    token: &str,
    evaluations: &[ConfigEvaluation],
) -> Result<(), HandlerError> {
    aws.put_evaluations(token, evaluations).await.map_err(|e| {
        tracing::error!(event_id, retryable = e.is_retryable(), error = %e, "putting evaluations failed");
        HandlerError::aws(event_id, e)
    })?;
    for e in evaluations {
        tracing::info!(
            event_id,
            resource = %e.resource_id,
            resource_type = %e.resource_type,
            compliance = e.compliance.as_str(),
            "evaluation reported"
        );
    }
    Ok(())
}

/// The on-config handler.
pub async fn handle_config<D>(
    aws: &D,
    cfg: &SweepConfig,
    event: &Envelope,
) -> Result<ConfigOutcome, HandlerError>
where
    D: S3Read + IamRead + ExposureRead + Publish + PutEvaluations + FetchObject + crate::DutiesRead,
{
    handle_config_tracked::<D, crate::store::NoStore, crate::app::lifecycle::NoHub>(aws, cfg, event, None)
        .await
}

/// [`handle_config`] with the findings store (issue 14): a configuration change's findings go through the
/// lifecycle like on-cloudtrail's (notices only on the transitions the policy notifies; a judged resource
/// without its finding resolves it). Scheduled whole-account runs report to Config only, as before: the
/// sweep owns those findings' lifecycle.
pub async fn handle_config_tracked<D, S, H>(
    aws: &D,
    cfg: &SweepConfig,
    event: &Envelope,
    tracker: Option<&crate::app::lifecycle::Tracker<'_, S, H>>,
) -> Result<ConfigOutcome, HandlerError>
where
    D: S3Read + IamRead + ExposureRead + Publish + PutEvaluations + FetchObject + crate::DutiesRead,
    S: crate::store::FindingsStore,
    H: crate::sdk::securityhub::ImportFindings,
{
    let facts = invocation_facts(event);
    let bad = |source| {
        let event_id = event.event_id.clone();
        tracing::error!(event_id = %event_id, error = %source, "bad event");
        HandlerError::BadEvent { event_id, source }
    };
    let change: Box<Change> = match event.intake().map_err(bad)? {
        Intake::Change(c) => c,
        Intake::Ignored { reason } => {
            let event_id = event.event_id.clone();
            tracing::info!(event_id = %event_id, reason = %reason, "event ignored");
            let mut evaluations = Vec::new();
            if let (Some(token), Some(ty), Some(id)) =
                (&facts.result_token, &facts.resource_type, &facts.resource_id)
            {
                let time = facts
                    .capture_time
                    .clone()
                    .or(facts.notification_time.clone())
                    .unwrap_or_default();
                evaluations.push(ConfigEvaluation::new(
                    ty,
                    id,
                    Compliance::NotApplicable,
                    &reason,
                    time,
                ));
                put(aws, &event_id, token, &evaluations).await?;
            }
            return Ok(ConfigOutcome {
                event_id,
                status: "ignored".into(),
                evaluations,
                findings: Vec::new(),
                rule_errors: Vec::new(),
            });
        }
        Intake::FetchOversized {
            bucket,
            key,
            result_token,
            config_rule_name,
            rule_parameters,
        } => {
            let ctx = OversizedContext {
                result_token,
                config_rule_name,
                rule_parameters,
            };
            let event_id = event.event_id.clone();
            let bytes = aws
                .get_object(&bucket, &key)
                .await
                .and_then(|b| maybe_gunzip("s3:GetObject", b))
                .map_err(|e| {
                    tracing::error!(event_id = %event_id, retryable = e.is_retryable(), error = %e, "fetching the oversized item failed");
                    HandlerError::aws(&event_id, e)
                })?;
            tracing::info!(event_id = %event_id, bytes = bytes.len(), "oversized configuration item fetched");
            match intake_oversized_item(&bytes, &ctx).map_err(bad)? {
                Intake::Change(c) => c,
                other => {
                    return Err(HandlerError::Unsupported {
                        event_id,
                        message: format!("the oversized item gave no change: {other:?}"),
                    })
                }
            }
        }
    };

    let event_id = change.event_id.clone();
    let token = match &change.source {
        ChangeSource::ConfigRule { result_token, .. } => Some(result_token.clone()),
        _ => None,
    }
    .or(facts.result_token.clone());

    if matches!(change.payload, Payload::Scheduled) {
        let Some(token) = token else {
            return Err(HandlerError::Unsupported {
                event_id,
                message: "a scheduled notification without a `resultToken`".into(),
            });
        };
        let ctx = SweepContext {
            account: &change.account,
            region: &change.region,
            time: &change.time,
        };
        let assessment = Box::pin(assess_account(aws, &cfg.detector.rules, &ctx, cfg.concurrency))
            .await
            .map_err(|e| HandlerError::aws(&event_id, e))?;
        for e in &assessment.errors {
            tracing::warn!(event_id = %event_id, error = %e, "resource not evaluated");
        }
        crate::metrics::emit_sweep(
            if assessment.errors.is_empty() {
                crate::metrics::Completeness::Complete
            } else {
                crate::metrics::Completeness::Unread
            },
            assessment.errors.len() as u64,
        );
        let mut rule_errors = Vec::new();
        let evaluations: Vec<ConfigEvaluation> = assessment
            .assessed
            .iter()
            .filter(|a| crate::app::assess_duties::for_config_rule(a, &change.region))
            .map(|a| {
                rule_errors.extend(a.evaluation.errors.iter().cloned());
                let (c, note) = compliance_of(&a.evaluation, true);
                ConfigEvaluation::new(a.resource_type, &a.resource_id, c, &note, &change.time)
            })
            .collect();
        crate::metrics::emit_rule_errors(rule_errors.iter().map(|e| e.rule.as_str()));
        put(aws, &event_id, &token, &evaluations).await?;
        return Ok(ConfigOutcome {
            event_id,
            status: "scheduled".into(),
            evaluations,
            findings: Vec::new(),
            rule_errors,
        });
    }

    let deleted =
        matches!(&change.payload, Payload::Config { status, .. } if status.starts_with("ResourceDeleted"));
    let resource_type = facts
        .resource_type
        .clone()
        .unwrap_or_else(|| change.service.clone());
    let resource_id = facts
        .resource_id
        .clone()
        .or_else(|| change.resources.first().and_then(|r| r.name.clone()))
        .unwrap_or_default();
    let time = facts.capture_time.clone().unwrap_or_else(|| change.time.clone());

    if deleted || facts.event_left_scope {
        let why = if deleted {
            "the resource was deleted"
        } else {
            "the resource left the rule's scope"
        };
        let evaluations = vec![ConfigEvaluation::new(
            &resource_type,
            &resource_id,
            Compliance::NotApplicable,
            why,
            &time,
        )];
        if let Some(token) = &token {
            put(aws, &event_id, token, &evaluations).await?;
        }
        return Ok(ConfigOutcome {
            event_id,
            status: "evaluated".into(),
            evaluations,
            findings: Vec::new(),
            rule_errors: Vec::new(),
        });
    }

    let triggered = !rules::triggered(&change).is_empty();
    let (evaluation, findings) = match tracker {
        None => {
            let (evaluation, _, findings) = Box::pin(detect(aws, &cfg.detector, &change)).await?;
            (evaluation, findings)
        }
        Some(tr) => {
            let (evaluation, _, tracked) = Box::pin(crate::app::detect::detect_tracked(
                aws,
                &cfg.detector,
                tr,
                &change,
            ))
            .await?;
            let suppressed = |t: &crate::app::lifecycle::Tracked| {
                evaluation
                    .findings
                    .iter()
                    .any(|f| f.rule == t.rule && f.resource.arn == t.resource && f.suppressed.is_some())
            };
            let refs = tracked
                .iter()
                .filter_map(|t| t.finding_ref(suppressed(t)))
                .collect();
            (evaluation, refs)
        }
    };
    crate::metrics::emit_rule_errors(evaluation.errors.iter().map(|e| e.rule.as_str()));
    let (compliance, annotation) = compliance_of(&evaluation, triggered);
    let evaluations = vec![ConfigEvaluation::new(
        &resource_type,
        &resource_id,
        compliance,
        &annotation,
        &time,
    )];
    if let Some(token) = &token {
        put(aws, &event_id, token, &evaluations).await?;
    }
    Ok(ConfigOutcome {
        event_id,
        status: "evaluated".into(),
        evaluations,
        findings,
        rule_errors: evaluation.errors,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::app::DetectorConfig;
    use crate::fakes::{FakeAws, FakeBucket};
    use std::io::Write;
    use tripline_core::intake::intake;
    use tripline_core::settings::RuleConfig;
    use tripline_core::Envelope;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:tripline-alerts";

    fn cfg() -> SweepConfig {
        SweepConfig {
            detector: DetectorConfig {
                alert_topic_arn: TOPIC.into(),
                rules: RuleConfig::default(),
            },
            concurrency: 4,
        }
    }

    use crate::block_on;
    fn sample(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn public_bucket_invocation_is_non_compliant_with_its_token() {
        let event = sample("configrule-s3-bucket-invocation.json");
        let facts = invocation_facts(&Envelope::read(&event));
        let aws = FakeAws::new();
        aws.add_bucket("reports-prod", FakeBucket::default());
        let out = block_on(handle_config(&aws, &cfg(), &Envelope::read(&event))).unwrap();
        assert_eq!(out.evaluations.len(), 1);
        let e = &out.evaluations[0];
        assert_eq!(
            (e.resource_type.as_str(), e.resource_id.as_str()),
            ("AWS::S3::Bucket", "reports-prod")
        );
        assert_eq!(e.compliance, Compliance::NonCompliant, "{e:?}");
        assert!(
            e.annotation.chars().count() < 256 && e.annotation.contains("s3-bucket-policy-public"),
            "{e:?}"
        );
        let recorded = aws.world().evaluations.clone();
        assert_eq!(
            recorded,
            vec![(facts.result_token.clone().unwrap(), out.evaluations.clone())]
        );
        assert!(!out.findings.is_empty());
        assert_eq!(aws.published().len(), out.findings.len());
    }

    /// Issue 14: with the findings store, a configuration change's findings get their lifecycle: the first
    /// invocation notifies `new`, a redelivery of the same change is silent (Config still gets its answer).
    #[test]
    fn with_the_store_a_redelivered_invocation_notifies_nothing_new() {
        use crate::app::lifecycle::Tracker;
        use crate::fakes::FakeStore;
        let event = sample("configrule-s3-bucket-invocation.json");
        let aws = FakeAws::new();
        aws.add_bucket("reports-prod", FakeBucket::default());
        let store = FakeStore::default();
        let run = || {
            let tracker = Tracker::new(&store, tripline_core::lifecycle::Policy::default());
            block_on(handle_config_tracked(
                &aws,
                &cfg(),
                &Envelope::read(&event),
                Some(&tracker),
            ))
            .unwrap()
        };
        let first = run();
        assert!(!first.findings.is_empty());
        let published: Vec<String> = aws
            .published()
            .iter()
            .map(|(_, m)| m.attributes.get("transition").cloned().unwrap_or_default())
            .collect();
        assert!(
            !published.is_empty() && published.iter().all(|t| t == "new"),
            "{published:?}"
        );
        let before = aws.published().len();
        let again = run();
        assert_eq!(again.evaluations.len(), 1, "Config is answered again");
        assert_eq!(aws.published().len(), before, "a redelivery notifies nothing");
        assert!(store.all().iter().any(|i| i.key.rule == "s3-bucket-policy-public"
            && i.state == tripline_core::lifecycle::LifecycleState::Open));
    }

    #[test]
    fn oversized_item_is_fetched_gunzipped_and_evaluated() {
        let event = sample("configrule-oversized-notification.json");
        let aws = FakeAws::new();
        let Intake::FetchOversized { bucket, key, .. } = intake(&event).unwrap() else {
            panic!()
        };
        // The full item: the role-invocation sample's item, as the policy the summary names.
        let item = serde_json::json!({
            "configurationItem": {
                "resourceType": "AWS::IAM::Policy", "resourceId": "ANPA4EXAMPLEAPPDEPLOY",
                "resourceName": "app-deployer", "ARN": "arn:aws:iam::111122223333:policy/app-deployer",
                "awsAccountId": "111122223333", "awsRegion": "global",
                "configurationItemCaptureTime": "2026-11-28T16:02:18.000Z", "configurationItemStatus": "OK",
                "configuration": {"policyName": "app-deployer"}, "supplementaryConfiguration": {}, "tags": {}
            },
            "configurationItemDiff": null, "notificationCreationTime": "2026-11-28T16:02:19.532Z",
            "messageType": "ConfigurationItemChangeNotification", "recordVersion": "1.3"
        });
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(item.to_string().as_bytes()).unwrap();
        aws.world()
            .objects
            .insert((bucket.clone(), key.clone()), gz.finish().unwrap());
        let out = block_on(handle_config(&aws, &cfg(), &Envelope::read(&event))).unwrap();
        assert!(aws
            .world()
            .calls
            .iter()
            .any(|c| c == &format!("s3:GetObject {bucket}/{key}")));
        assert_eq!(out.evaluations.len(), 1);
        assert_eq!(out.evaluations[0].resource_id, "ANPA4EXAMPLEAPPDEPLOY");
        assert_eq!(aws.world().evaluations.len(), 1);

        // The object is gone: a not-found error, not retryable; throttled: retryable.
        aws.world().objects.clear();
        let e = block_on(handle_config(&aws, &cfg(), &Envelope::read(&event))).unwrap_err();
        assert!(!e.is_retryable(), "{e}");
        aws.fail("s3:GetObject", ErrorKind::Throttling);
        assert!(block_on(handle_config(&aws, &cfg(), &Envelope::read(&event)))
            .unwrap_err()
            .is_retryable());
    }

    #[test]
    fn scheduled_notification_evaluates_every_resource_in_scope() {
        let event = sample("configrule-scheduled-notification.json");
        let aws = FakeAws::new();
        // Quiet: requires TLS (Security Hub S3.5), else the sweep's low TLS finding makes it non-compliant.
        let tls = serde_json::json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::quiet", "arn:aws:s3:::quiet/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        aws.add_bucket(
            "quiet",
            FakeBucket {
                policy: Some(tls),
                ..FakeBucket::default()
            },
        );
        let public = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::loud/*"}]});
        aws.add_bucket(
            "loud",
            FakeBucket {
                policy: Some(public),
                ..FakeBucket::default()
            },
        );
        let out = block_on(handle_config(&aws, &cfg(), &Envelope::read(&event))).unwrap();
        let verdicts: Vec<(&str, Compliance)> = out
            .evaluations
            .iter()
            .map(|e| (e.resource_id.as_str(), e.compliance))
            .collect();
        assert_eq!(
            verdicts,
            vec![
                ("loud", Compliance::NonCompliant),
                ("quiet", Compliance::Compliant)
            ]
        );
        assert!(
            aws.published().is_empty(),
            "the sweep function publishes scheduled findings"
        );
    }

    #[test]
    fn compliance_table() {
        // (triggered, findings (suppressed?), errors, expected)
        let f = |suppressed: bool| {
            let event = sample("cloudtrail-s3-put-bucket-policy-public.json");
            let Intake::Change(c) = intake(&event).unwrap() else {
                panic!()
            };
            let mut f = rules::evaluate(&c, None, &RuleConfig::default())
                .findings
                .remove(0);
            if suppressed {
                f.suppressed = Some(tripline_core::finding::Suppression {
                    reason: "tag".into(),
                    by: "tag".into(),
                });
            }
            f
        };
        let err = RuleError {
            rule: "r".into(),
            message: "boom".into(),
        };
        let cases = [
            (false, vec![], vec![], Compliance::NotApplicable),
            (true, vec![], vec![], Compliance::Compliant),
            (true, vec![f(false)], vec![], Compliance::NonCompliant),
            (true, vec![f(true)], vec![], Compliance::Compliant),
            (true, vec![], vec![err], Compliance::NonCompliant),
        ];
        for (triggered, findings, errors, want) in cases {
            let e = Evaluation { findings, errors };
            assert_eq!(compliance_of(&e, triggered).0, want, "{e:?}");
        }
        assert_eq!(maybe_gunzip("op", b"{}".to_vec()).unwrap(), b"{}");
        assert!(maybe_gunzip("op", vec![0x1f, 0x8b, 0, 1]).is_err());
    }
}
