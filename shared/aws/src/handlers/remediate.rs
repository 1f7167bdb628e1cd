//! `remediate`: subscribed to the alert topic (filter policy `remediation: [planned]`). Reads the SNS
//! event once, hands each finding to the remediate use case ([`crate::app::remediate`]) and publishes every
//! outcome (remediated, dry-run, skipped + why, failed, partial, unverified) to the alert topic with `remediation: none`, so this
//! function never sees its own messages. Failed remediations are counted in the `RuleErrors` metric
//! ([`crate::metrics`]).

use serde_json::Value;

use crate::app::remediate::{remediate_finding, RemediateConfig};
use crate::app::HandlerError;
use crate::{AttemptMarker, CallerIdentity, ConfigRecorder, IamRead, IamWrite, Publish, S3Read, S3Write};
use tripline_core::finding::Finding;
use tripline_core::render::sns::RemediationOutcome;
use tripline_core::Envelope;
use tripline_core::IntakeError;

/// The remediate handler: every SNS record's finding is handled and its outcome published.
pub async fn handle_remediate<D>(
    aws: &D,
    cfg: &RemediateConfig,
    event: &Envelope,
) -> Result<Vec<RemediationOutcome>, HandlerError>
where
    D: S3Read + S3Write + IamRead + IamWrite + ConfigRecorder + CallerIdentity + AttemptMarker + Publish,
{
    handle_remediate_tracked::<D, crate::store::NoStore>(aws, cfg, event, None).await
}

/// [`handle_remediate`] with the findings store (issue 14): every outcome is recorded on the finding's
/// lifecycle; a verified remediation resolves it (and its resolved notice is published).
pub async fn handle_remediate_tracked<D, S>(
    aws: &D,
    cfg: &RemediateConfig,
    event: &Envelope,
    tracker: Option<&crate::app::lifecycle::Tracker<'_, S>>,
) -> Result<Vec<RemediationOutcome>, HandlerError>
where
    D: S3Read + S3Write + IamRead + IamWrite + ConfigRecorder + CallerIdentity + AttemptMarker + Publish,
    S: crate::store::FindingsStore,
{
    let event_id = event.event_id.clone();
    let bad = |message: String| {
        let source = IntakeError::InvalidValue {
            field: "Records[].Sns.Message".into(),
            context: "the sns event".into(),
            value: String::new(),
            reason: message,
        };
        tracing::error!(event_id = %event_id, error = %source, "bad event");
        HandlerError::BadEvent {
            event_id: event_id.clone(),
            source,
        }
    };
    let v: &Value = event.value().map_err(|e| bad(format!("not json: {e}")))?;
    let records = v
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `Records` list".into()))?;
    let mut outcomes: Vec<RemediationOutcome> = Vec::new();
    for r in records {
        // Only findings with a planned remediation are for this function (the subscription's filter policy
        // says so too); anything else published on the topic is acknowledged and logged, never acted on.
        let attribute = |name: &str| {
            r.pointer(&format!("/Sns/MessageAttributes/{name}/Value"))
                .and_then(Value::as_str)
        };
        if let (Some(kind), remediation) = (attribute("kind"), attribute("remediation")) {
            if kind != "finding" || remediation == Some("none") {
                tracing::info!(event_id = %event_id, kind, remediation, "not a finding with a planned remediation: ignored");
                continue;
            }
        }
        let message = r
            .pointer("/Sns/Message")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no `Sns.Message`".into()))?;
        let f: Finding =
            serde_json::from_str(message).map_err(|e| bad(format!("the message is not a finding: {e}")))?;
        let (remediation_id, result) = remediate_finding(aws, cfg, &f).await.map_err(|e| {
            tracing::error!(event_id = %f.event.id, rule = %f.rule, resource = %f.resource.arn, retryable = e.is_retryable(), error = %e, "remediation failed");
            HandlerError::aws(&f.event.id, e)
        })?;
        let outcome =
            RemediationOutcome::of(&f, remediation_id, result.status, result.actions, result.detail);
        tracing::info!(
            event_id = %f.event.id,
            finding_id = %f.id,
            rule = %f.rule,
            resource = %f.resource.arn,
            status = outcome.status.as_str(),
            detail = %outcome.detail,
            "remediation outcome"
        );
        let msg = tripline_core::render::sns::remediation_outcome(&outcome);
        aws.publish(&cfg.detector.alert_topic_arn, &msg)
            .await
            .map_err(|e| HandlerError::aws(&f.event.id, e))?;
        if let Some(tr) = tracker {
            let at = crate::app::lifecycle::rfc3339(tr.now);
            crate::app::lifecycle::record_remediation(
                aws,
                tr,
                &cfg.detector.alert_topic_arn,
                &f,
                outcome.status,
                &at,
                &event_id,
            )
            .await
            .map_err(|e| HandlerError::aws(&f.event.id, e))?;
        }
        outcomes.push(outcome);
    }
    // Remediate runs no detection rule: its `RuleErrors` are the remediations that failed (verification
    // or rollback), under the finding's rule id.
    crate::metrics::emit_rule_errors(
        outcomes
            .iter()
            .filter(|o| {
                matches!(
                    o.status,
                    tripline_core::render::sns::RemediationStatus::Failed
                        | tripline_core::render::sns::RemediationStatus::Partial
                        | tripline_core::render::sns::RemediationStatus::Unverified
                        | tripline_core::render::sns::RemediationStatus::Refused
                )
            })
            .map(|o| o.rule.as_str()),
    );
    Ok(outcomes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::app::remediate::caused_by_role;
    use crate::app::DetectorConfig;
    use crate::fakes::{FakeAws, FakeBucket};
    use crate::ErrorKind;
    use crate::PrincipalRef;
    use serde_json::json;
    use tripline_core::intake::{intake, Intake};
    use tripline_core::render::sns::RemediationStatus;
    use tripline_core::settings::RemediationMode;
    use tripline_core::settings::RuleConfig;
    use tripline_core::state::PublicAccessBlock;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:tripline-alerts";
    const ROLE: &str = "arn:aws:iam::111122223333:role/tripline-remediate";

    fn cfg(mode: RemediationMode) -> RemediateConfig {
        let rules = RuleConfig {
            remediation_mode: mode,
            remediation_rules: [
                "s3-bucket-policy-public",
                "s3-bucket-acl-public",
                "iam-policy-widened",
                "s3-account-public-access-block-weakened",
                "config-recording-stopped",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            ..RuleConfig::default()
        };
        RemediateConfig {
            detector: DetectorConfig {
                alert_topic_arn: TOPIC.into(),
                rules,
            },
            remediation_role_arn: Some(ROLE.into()),
            member_role_name: Some("tripline-member-remediate".into()),
            attempts: None,
        }
    }

    use crate::block_on;
    /// The finding `rule` raises on an `events/` sample.
    fn finding(sample: &str, rule: &str) -> Finding {
        let bytes = std::fs::read(format!("{}/../../events/{sample}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let Intake::Change(c) = intake(&bytes).unwrap() else {
            panic!()
        };
        let e = tripline_core::rules::evaluate(&c, None, &cfg(RemediationMode::Enforce).detector.rules);
        e.findings
            .into_iter()
            .find(|f| f.rule == rule)
            .unwrap_or_else(|| panic!("{rule} on {sample}"))
    }

    fn sns(f: &Finding) -> Vec<u8> {
        serde_json::to_vec(
            &json!({"Records": [{"Sns": {"MessageId": "m", "Message": serde_json::to_string(f).unwrap()}}]}),
        )
        .unwrap()
    }

    const KEEP: &str = "ReportsWriterRole";

    fn mixed_policy() -> Value {
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::reports-prod", "arn:aws:s3:::reports-prod/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": KEEP, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/reports-writer"},
             "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::reports-prod/*"},
            {"Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::reports-prod/*"}]})
    }

    fn world(tags: &[(&str, &str)]) -> FakeAws {
        let aws = FakeAws::new();
        aws.add_bucket(
            "reports-prod",
            FakeBucket {
                policy: Some(mixed_policy()),
                tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                ..FakeBucket::default()
            },
        );
        aws
    }

    /// Issue 12, defect 5: a read-back that keeps failing after the write is retried, then reported as
    /// `unverified` (published, counted as a remediation error), never skipped; the write is not repeated.
    #[test]
    fn a_failing_read_back_is_unverified_and_the_write_is_not_repeated() {
        let enforce = cfg(RemediationMode::Enforce);
        let mut f = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        f.resource.arn = "arn:aws:s3:::reports-prod".into();
        f.resource.name = Some("reports-prod".into());
        let aws = world(&[]);
        // The two reads before the write (evaluation, and the re-read just before writing) work; every read
        // after the write is throttled.
        aws.fail_after("s3:GetBucketPolicy", 2, ErrorKind::Throttling);
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Unverified, "{:?}", out[0]);
        assert!(out[0].detail.contains("3 attempts"), "{}", out[0].detail);
        let w = aws.world();
        let count = |op: &str| w.calls.iter().filter(|c| c.starts_with(op)).count();
        assert_eq!(count("s3:PutBucketPolicy "), 1, "{:?}", w.calls);
        assert_eq!(count("s3:GetBucketPolicy "), 2 + 3, "{:?}", w.calls);
        // The narrowed policy is in place (the write landed), and the outcome was published.
        assert_ne!(w.buckets["reports-prod"].policy, Some(mixed_policy()));
        assert!(w.published.iter().any(|(_, m)| m.message.contains("unverified")));
    }

    /// Issue 12, B and defect 2/4: a trust document carried by the message is never written. The plan comes
    /// from the role's current trust policy only (its public Allow statements removed; here the only one, so
    /// the role is closed with one Deny): a forged "previous" document granting another party is ignored.
    #[test]
    fn a_previous_trust_policy_in_the_message_is_never_written() {
        let enforce = {
            let mut c = cfg(RemediationMode::Enforce);
            c.detector
                .rules
                .remediation_rules
                .insert("iam-trust-policy-public".into());
            c
        };
        let mut f = finding(
            "cloudtrail-iam-update-assume-role-policy-public.json",
            "iam-trust-policy-public",
        );
        let role = f.resource.name.clone().unwrap();
        let account = f.account.clone();
        // The role as the finding reports it (open to everyone, plus a limited statement that must stay), and
        // a forged "previous" document that would hand the role to an attacker's account.
        let keep = json!({"Sid": "Ci", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:role/ci")},
            "Action": "sts:AssumeRole"});
        let open = json!({"Version": "2012-10-17", "Statement": [keep.clone(), {"Effect": "Allow",
            "Principal": "*", "Action": "sts:AssumeRole"}]});
        let forged = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}]});
        let aws = FakeAws::new();
        aws.add_role(&role, &account, open);
        f.evidence
            .details
            .insert("previous_trust_policy".into(), forged.clone());
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Remediated, "{:?}", out[0]);
        let w = aws.world();
        let now = &w.roles[&role].trust_policy;
        assert_ne!(now, &forged);
        assert_eq!(
            now["Statement"],
            json!([keep]),
            "only the public statement is removed"
        );

        // Every statement public: the role is closed (one Deny), never opened to the message's document.
        drop(w);
        let aws = FakeAws::new();
        aws.add_role(
            &role,
            &account,
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}),
        );
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Remediated, "{:?}", out[0]);
        let w = aws.world();
        let now = &w.roles[&role].trust_policy;
        assert_eq!(now["Statement"][0]["Effect"], "Deny", "{now}");
        assert_eq!(now["Statement"].as_array().map(Vec::len), Some(1), "{now}");
    }

    /// Issue 12, A: a finding of another account than the credentials' is refused before anything is read or
    /// written (here: clients of account 111122223333, a finding of 444455556666 with a same-named bucket).
    #[test]
    fn a_finding_of_another_account_is_refused_and_nothing_is_written() {
        let enforce = cfg(RemediationMode::Enforce);
        let mut f = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        f.resource.arn = "arn:aws:s3:::reports-prod".into();
        f.resource.name = Some("reports-prod".into());
        f.account = "444455556666".into();
        let aws = world(&[]);
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Refused, "{:?}", out[0]);
        assert!(
            out[0].detail.contains("cannot act in account 444455556666"),
            "{}",
            out[0].detail
        );
        let w = aws.world();
        assert_eq!(w.buckets["reports-prod"].policy, Some(mixed_policy()));
        assert!(
            !w.calls.iter().any(|c| c.starts_with("s3:")),
            "nothing is read or written in the wrong account: {:?}",
            w.calls
        );
        drop(w);

        // An IAM ARN naming one account and a finding claiming another: refused too.
        let mut g = finding(
            "cloudtrail-iam-attach-role-policy-admin.json",
            "iam-admin-access-granted",
        );
        g.resource.arn = format!(
            "arn:aws:iam::444455556666:role/{}",
            g.resource.name.clone().unwrap()
        );
        let mut enforce_admin = cfg(RemediationMode::Enforce);
        enforce_admin
            .detector
            .rules
            .remediation_rules
            .insert("iam-admin-access-granted".into());
        let aws = FakeAws::new();
        let out = block_on(handle_remediate(&aws, &enforce_admin, &Envelope::read(&sns(&g)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Refused, "{:?}", out[0]);
        assert!(aws.world().calls.iter().all(|c| !c.starts_with("iam:")));
    }

    /// Issue 12, B: detach-admin acts on what is attached now, never on the message's `policy_arn`: a forged
    /// message naming another policy detaches only the AWS managed admin policy actually attached.
    #[test]
    fn detach_admin_ignores_the_messages_policy_arn() {
        let mut enforce = cfg(RemediationMode::Enforce);
        enforce
            .detector
            .rules
            .remediation_rules
            .insert("iam-admin-access-granted".into());
        let mut f = finding(
            "cloudtrail-iam-attach-role-policy-admin.json",
            "iam-admin-access-granted",
        );
        let role = f.resource.name.clone().unwrap();
        let own = "arn:aws:iam::111122223333:policy/app-needed";
        f.evidence.details.insert("policy_arn".into(), json!(own));
        let aws = FakeAws::new();
        aws.add_role(
            &role,
            "111122223333",
            json!({"Version": "2012-10-17", "Statement": []}),
        );
        {
            let mut w = aws.world();
            w.attachments.push((PrincipalRef::Role(role.clone()), own.into()));
            w.attachments.push((
                PrincipalRef::Role(role.clone()),
                "arn:aws:iam::aws:policy/AdministratorAccess".into(),
            ));
        }
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Remediated, "{:?}", out[0]);
        let w = aws.world();
        assert_eq!(w.attachments, vec![(PrincipalRef::Role(role), own.to_owned())]);
    }

    /// Issue 12, defect 4: a large policy of wildcard statements (what made the old general diff answer
    /// "cannot prove" and roll back into exposure) is narrowed by construction and verified with the bounded
    /// public check: one write, never a restore; and a result that is not what was put (someone re-opened it
    /// right after the write) is reported, not rolled back into the original public policy.
    #[test]
    fn a_large_wildcard_policy_is_narrowed_once_and_never_restored() {
        let enforce = cfg(RemediationMode::Enforce);
        let mut f = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        f.resource.arn = "arn:aws:s3:::reports-prod".into();
        f.resource.name = Some("reports-prod".into());
        let mut statements = vec![json!({"Sid": "Writer", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/reports-writer"},
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::reports-prod/*"})];
        for i in 0..300 {
            statements.push(json!({"Sid": format!("W{i}"), "Effect": "Allow", "Principal": "*",
                "Action": [format!("s3:Get*{i}*"), "s3:List*"], "Resource": format!("arn:aws:s3:::reports-prod/{i}/*")}));
        }
        let big = json!({"Version": "2012-10-17", "Statement": statements});
        let aws = FakeAws::new();
        aws.add_bucket(
            "reports-prod",
            FakeBucket {
                policy: Some(big.clone()),
                ..FakeBucket::default()
            },
        );
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Remediated, "{:?}", out[0]);
        let w = aws.world();
        let puts = w
            .calls
            .iter()
            .filter(|c| c.starts_with("s3:PutBucketPolicy"))
            .count();
        assert_eq!(puts, 1, "{:?}", w.calls);
        let now = w.buckets["reports-prod"].policy.clone().unwrap();
        assert_eq!(
            now["Statement"].as_array().map(Vec::len),
            Some(1),
            "only the private statement stays"
        );
        drop(w);

        // Re-opened between the write and the read-back: reported (unverified), nothing restored.
        let aws = FakeAws::new();
        aws.add_bucket(
            "reports-prod",
            FakeBucket {
                policy: Some(big.clone()),
                ..FakeBucket::default()
            },
        );
        aws.change_before_call("s3:GetBucketPolicy", 2, |w| {
            if let Some(b) = w.buckets.get_mut("reports-prod") {
                b.policy = Some(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports-prod/*"}]}));
            }
        });
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Unverified, "{:?}", out[0]);
        let w = aws.world();
        assert_eq!(
            w.calls
                .iter()
                .filter(|c| c.starts_with("s3:PutBucketPolicy"))
                .count(),
            1
        );
        assert_ne!(
            w.buckets["reports-prod"].policy,
            Some(big),
            "the public original is never restored"
        );
    }

    /// Issue 12, D (defect 6): the resource is read again immediately before writing; changed since the
    /// evaluation (here: someone rewrote the policy between the two reads), nothing is written and the outcome
    /// says stale. Same for a trust policy.
    #[test]
    fn a_resource_changed_since_the_evaluation_is_not_written() {
        let enforce = cfg(RemediationMode::Enforce);
        let mut f = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        f.resource.arn = "arn:aws:s3:::reports-prod".into();
        f.resource.name = Some("reports-prod".into());
        let aws = world(&[]);
        aws.change_before_call("s3:GetBucketPolicy", 1, |w| {
            if let Some(b) = w.buckets.get_mut("reports-prod") {
                b.policy = Some(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::reports-prod/*"}]}));
            }
        });
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Skipped, "{:?}", out[0]);
        assert!(
            out[0].detail.starts_with("stale: the bucket policy"),
            "{}",
            out[0].detail
        );
        let w = aws.world();
        assert!(
            !w.calls
                .iter()
                .any(|c| c.starts_with("s3:PutBucketPolicy") || c.starts_with("s3:DeleteBucketPolicy")),
            "{:?}",
            w.calls
        );
        drop(w);

        let mut enforce = cfg(RemediationMode::Enforce);
        enforce
            .detector
            .rules
            .remediation_rules
            .insert("iam-trust-policy-public".into());
        let f = finding(
            "cloudtrail-iam-update-assume-role-policy-public.json",
            "iam-trust-policy-public",
        );
        let role = f.resource.name.clone().unwrap();
        let aws = FakeAws::new();
        aws.add_role(&role, &f.account, json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}));
        aws.change_before_call("iam:GetRole", 1, |w| {
            for r in w.roles.values_mut() {
                r.trust_policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]});
            }
        });
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Skipped, "{:?}", out[0]);
        assert!(
            out[0].detail.starts_with("stale: the trust policy"),
            "{}",
            out[0].detail
        );
        assert!(!aws
            .world()
            .calls
            .iter()
            .any(|c| c.starts_with("iam:UpdateAssumeRolePolicy")));
    }

    /// Issue 12, D: one enforced attempt per (account, rule, resource) within the cool-down; the second
    /// delivery is skipped without a read or a write.
    #[test]
    fn a_second_enforced_attempt_within_the_cooldown_is_skipped() {
        let mut enforce = cfg(RemediationMode::Enforce);
        enforce.attempts = Some(crate::app::remediate::AttemptWindow {
            table: "tripline-remediation-attempts".into(),
            cooldown_secs: 3600,
        });
        let mut f = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        f.resource.arn = "arn:aws:s3:::reports-prod".into();
        f.resource.name = Some("reports-prod".into());
        let aws = world(&[]);
        let first = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(first[0].status, RemediationStatus::Remediated, "{:?}", first[0]);
        // Public again; the next delivery within the window is not attempted.
        aws.world().buckets.get_mut("reports-prod").unwrap().policy = Some(mixed_policy());
        let writes = |w: &crate::fakes::FakeWorld| w.calls.iter().filter(|c| c.starts_with("s3:Put")).count();
        let before = writes(&aws.world());
        let second = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&f)))).unwrap();
        assert_eq!(second[0].status, RemediationStatus::Skipped, "{:?}", second[0]);
        assert!(second[0].detail.contains("cool-down"), "{}", second[0].detail);
        assert_eq!(writes(&aws.world()), before);
    }

    /// Issue 12, defect 2: a message pairing a rule with another rule's remediation, or naming one bucket in
    /// its ARN and another in its name, changes nothing.
    #[test]
    fn forged_messages_change_nothing() {
        let enforce = cfg(RemediationMode::Enforce);
        // The public-policy finding, with the remediation of the admin-policy rule.
        let mut f = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        f.resource.arn = "arn:aws:s3:::reports-prod".into();
        f.resource.name = Some("reports-prod".into());
        let mut forged = f.clone();
        forged.remediation.as_mut().unwrap().id = "iam-detach-admin-policy".into();
        let aws = world(&[]);
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&forged)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Refused, "{:?}", out[0]);
        assert!(out[0].detail.contains("refused"), "{}", out[0].detail);
        assert_eq!(aws.world().buckets["reports-prod"].policy, Some(mixed_policy()));

        // ARN and name naming two buckets: neither is touched.
        let aws = world(&[]);
        aws.add_bucket(
            "other-bucket",
            FakeBucket {
                policy: Some(mixed_policy()),
                ..FakeBucket::default()
            },
        );
        let mut split = f.clone();
        split.resource.name = Some("other-bucket".into());
        let out = block_on(handle_remediate(&aws, &enforce, &Envelope::read(&sns(&split)))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Skipped, "{:?}", out[0]);
        let w = aws.world();
        assert_eq!(w.buckets["reports-prod"].policy, Some(mixed_policy()));
        assert_eq!(w.buckets["other-bucket"].policy, Some(mixed_policy()));
    }

    #[test]
    fn bucket_policy_modes_exemptions_and_loop_protection() {
        let f = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        let mut by_role = f.clone();
        by_role.actor.session_issuer = Some(ROLE.into());
        // (label, finding, mode, tags, expected status, policy changed?)
        type Case<'a> = (
            &'a str,
            &'a Finding,
            RemediationMode,
            Vec<(&'a str, &'a str)>,
            RemediationStatus,
            bool,
        );
        let cases: Vec<Case> = vec![
            (
                "enforce",
                &f,
                RemediationMode::Enforce,
                vec![],
                RemediationStatus::Remediated,
                true,
            ),
            (
                "dry-run",
                &f,
                RemediationMode::DryRun,
                vec![],
                RemediationStatus::DryRun,
                false,
            ),
            (
                "off",
                &f,
                RemediationMode::Off,
                vec![],
                RemediationStatus::Skipped,
                false,
            ),
            (
                "exempt",
                &f,
                RemediationMode::Enforce,
                vec![("tripline:exempt", "s3-bucket-policy-public")],
                RemediationStatus::Skipped,
                false,
            ),
            (
                "expired exemption",
                &f,
                RemediationMode::Enforce,
                vec![("tripline:exempt", "s3-bucket-policy-public@2020-01-01")],
                RemediationStatus::Remediated,
                true,
            ),
            (
                "own role",
                &by_role,
                RemediationMode::Enforce,
                vec![],
                RemediationStatus::Skipped,
                false,
            ),
        ];
        for (label, finding, mode, tags, status, changed) in cases {
            let aws = world(&tags);
            let out = block_on(handle_remediate(&aws, &cfg(mode), &Envelope::read(&sns(finding)))).unwrap();
            assert_eq!(out[0].status, status, "{label}: {:?}", out[0]);
            let policy = aws.world().buckets["reports-prod"].policy.clone().unwrap();
            assert_eq!(policy != mixed_policy(), changed, "{label}: {policy}");
            if changed {
                let sids: Vec<&str> = policy["Statement"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|s| s["Sid"].as_str())
                    .collect();
                assert_eq!(
                    sids,
                    ["DenyInsecureTransport", KEEP],
                    "{label}: only the public statement goes"
                );
            } else {
                assert!(aws.writes().is_empty(), "{label}: {:?}", aws.writes());
            }
            let published = aws.published();
            assert_eq!(published.len(), 1, "{label}: every outcome is published");
            assert_eq!(published[0].1.attributes["kind"], "remediation");
            assert_eq!(
                published[0].1.attributes["remediation"], "none",
                "{label}: cannot loop"
            );
        }
    }

    #[test]
    fn stale_findings_and_failures() {
        let f = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        // Already fixed: the current policy is not public -> nothing done.
        let aws = world(&[]);
        let mut private = mixed_policy();
        private["Statement"].as_array_mut().unwrap().pop();
        aws.world().buckets.get_mut("reports-prod").unwrap().policy = Some(private.clone());
        let out = block_on(handle_remediate(
            &aws,
            &cfg(RemediationMode::Enforce),
            &Envelope::read(&sns(&f)),
        ))
        .unwrap();
        assert_eq!(out[0].status, RemediationStatus::Skipped);
        assert!(out[0].detail.contains("stale"), "{}", out[0].detail);
        assert!(aws.writes().is_empty());

        // The put is denied: a failed outcome, published, not retried.
        let aws = world(&[]);
        aws.fail("s3:PutBucketPolicy", ErrorKind::AccessDenied);
        let out = block_on(handle_remediate(
            &aws,
            &cfg(RemediationMode::Enforce),
            &Envelope::read(&sns(&f)),
        ))
        .unwrap();
        assert_eq!(out[0].status, RemediationStatus::Failed, "{:?}", out[0]);
        // Throttled re-read: retryable error, so SNS/Lambda deliver the finding again.
        aws.fail("s3:GetBucketTagging", ErrorKind::Throttling);
        let e = block_on(handle_remediate(
            &aws,
            &cfg(RemediationMode::Enforce),
            &Envelope::read(&sns(&f)),
        ))
        .unwrap_err();
        assert!(e.is_retryable());
        // Outcomes and summaries on the topic are ignored (no loop even without the filter policy).
        let outcome = json!({"Records": [{"Sns": {"Message": "{}", "MessageAttributes": {
            "kind": {"Type": "String", "Value": "remediation"}, "remediation": {"Type": "String", "Value": "none"}}}}]});
        let out = block_on(handle_remediate(
            &aws,
            &cfg(RemediationMode::Enforce),
            &Envelope::read(outcome.to_string().as_bytes()),
        ))
        .unwrap();
        assert!(out.is_empty());
        // Not a finding: bad event.
        let e = block_on(handle_remediate(
            &aws,
            &cfg(RemediationMode::Enforce),
            &Envelope::read(br#"{"Records": [{"Sns": {"Message": "hi"}}]}"#),
        ))
        .unwrap_err();
        assert_eq!(e.error_type(), "BadEvent");
    }

    #[test]
    fn acl_remediation_keeps_only_the_owner_grant_which_buckets_without_acls_accept() {
        // Real AWS: new buckets have ACLs disabled (BucketOwnerEnforced) and accept only the owner grant;
        // the emulator keeps ACLs enabled. Either way the narrowed ACL is accepted.
        let f = finding(
            "cloudtrail-s3-put-bucket-acl-public-read.json",
            "s3-bucket-acl-public",
        );
        let bucket = f.resource.name.clone().unwrap();
        let public_acl = json!({"Owner": {"ID": crate::fakes::FAKE_OWNER_ID}, "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": crate::fakes::FAKE_OWNER_ID}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]});
        for (acls_enabled, status) in [
            (true, RemediationStatus::Remediated),
            (false, RemediationStatus::Remediated),
        ] {
            let aws = FakeAws::new();
            aws.add_bucket(
                &bucket,
                FakeBucket {
                    acl: public_acl.clone(),
                    acls_enabled,
                    ..FakeBucket::default()
                },
            );
            let out = block_on(handle_remediate(
                &aws,
                &cfg(RemediationMode::Enforce),
                &Envelope::read(&sns(&f)),
            ))
            .unwrap();
            // Removing the public grants leaves only the owner's grant, which a bucket without ACLs accepts.
            assert_eq!(out[0].status, status, "{acls_enabled}: {:?}", out[0]);
            let acl = aws.world().buckets[&bucket].acl.clone();
            assert_eq!(acl["Grants"].as_array().unwrap().len(), 1, "{acl}");
        }
    }

    #[test]
    fn restores_account_public_access_block() {
        const ACCOUNT: &str = "111122223333";
        const RULE: &str = "s3-account-public-access-block-weakened";
        let pab = |on: bool| PublicAccessBlock {
            block_public_acls: on,
            ignore_public_acls: on,
            block_public_policy: on,
            restrict_public_buckets: on,
        };
        let weakened = PublicAccessBlock {
            block_public_policy: false,
            ..pab(true)
        };
        // (sample, mode, account PAB before (None: deleted), injected failure, status, PAB after)
        type Case = (
            &'static str,
            RemediationMode,
            Option<PublicAccessBlock>,
            Option<&'static str>,
            RemediationStatus,
            Option<PublicAccessBlock>,
        );
        let put = "cloudtrail-s3-put-account-public-access-block-disabled.json";
        let delete = "cloudtrail-s3-delete-account-public-access-block.json";
        let cases: [Case; 7] = [
            (
                put,
                RemediationMode::Enforce,
                Some(weakened),
                None,
                RemediationStatus::Remediated,
                Some(pab(true)),
            ),
            (
                delete,
                RemediationMode::Enforce,
                None,
                None,
                RemediationStatus::Remediated,
                Some(pab(true)),
            ),
            (
                put,
                RemediationMode::DryRun,
                Some(weakened),
                None,
                RemediationStatus::DryRun,
                Some(weakened),
            ),
            (
                delete,
                RemediationMode::DryRun,
                None,
                None,
                RemediationStatus::DryRun,
                None,
            ),
            (
                put,
                RemediationMode::Off,
                Some(weakened),
                None,
                RemediationStatus::Skipped,
                Some(weakened),
            ),
            // Already restored: stale, nothing written.
            (
                put,
                RemediationMode::Enforce,
                Some(pab(true)),
                None,
                RemediationStatus::Skipped,
                Some(pab(true)),
            ),
            // The put is denied: a failed outcome, published, not retried.
            (
                put,
                RemediationMode::Enforce,
                Some(weakened),
                Some("s3:PutAccountPublicAccessBlock"),
                RemediationStatus::Failed,
                Some(weakened),
            ),
        ];
        for (sample, mode, before, fail, status, after) in cases {
            let label = format!("{sample} {mode:?} {before:?} {fail:?}");
            let f = finding(sample, RULE);
            assert_eq!(
                f.remediation.as_ref().unwrap().id,
                "s3-restore-account-public-access-block"
            );
            let aws = FakeAws::new();
            if let Some(b) = before {
                aws.world().account_public_access_block.insert(ACCOUNT.into(), b);
            }
            if let Some(op) = fail {
                aws.fail(op, ErrorKind::AccessDenied);
            }
            let out = block_on(handle_remediate(&aws, &cfg(mode), &Envelope::read(&sns(&f)))).unwrap();
            assert_eq!(out[0].status, status, "{label}: {:?}", out[0]);
            assert_eq!(
                aws.world().account_public_access_block.get(ACCOUNT).copied(),
                after,
                "{label}"
            );
            if status == RemediationStatus::Remediated {
                // Verified by reading the settings back after the put.
                assert!(
                    out[0].detail.starts_with("verified"),
                    "{label}: {}",
                    out[0].detail
                );
                assert_eq!(aws.writes().len(), 1, "{label}: {:?}", aws.writes());
            } else if fail.is_none() {
                assert!(aws.writes().is_empty(), "{label}: {:?}", aws.writes());
            }
            assert_eq!(aws.published().len(), 1, "{label}: every outcome is published");
        }
    }

    #[test]
    fn starts_a_stopped_config_recorder() {
        let stop = finding(
            "cloudtrail-config-stop-configuration-recorder.json",
            "config-recording-stopped",
        );
        assert_eq!(
            stop.remediation.as_ref().unwrap().id,
            "config-start-configuration-recorder"
        );
        let name = stop.resource.name.clone().unwrap();
        let mut deleted = stop.clone();
        deleted.event.name = "DeleteConfigurationRecorder".into();
        let mut channel_deleted = stop.clone();
        channel_deleted.event.name = "DeleteDeliveryChannel".into();
        // (label, finding, mode, recorder before (None: absent), status, recording after, detail contains)
        type Case<'a> = (
            &'a str,
            &'a Finding,
            RemediationMode,
            Option<bool>,
            RemediationStatus,
            Option<bool>,
            &'a str,
        );
        let cases: [Case; 7] = [
            (
                "enforce",
                &stop,
                RemediationMode::Enforce,
                Some(false),
                RemediationStatus::Remediated,
                Some(true),
                "verified",
            ),
            (
                "dry-run",
                &stop,
                RemediationMode::DryRun,
                Some(false),
                RemediationStatus::DryRun,
                Some(false),
                "dry-run",
            ),
            (
                "off",
                &stop,
                RemediationMode::Off,
                Some(false),
                RemediationStatus::Skipped,
                Some(false),
                "off",
            ),
            (
                "already recording",
                &stop,
                RemediationMode::Enforce,
                Some(true),
                RemediationStatus::Skipped,
                Some(true),
                "stale",
            ),
            (
                "recorder gone",
                &stop,
                RemediationMode::Enforce,
                None,
                RemediationStatus::Skipped,
                None,
                "stale",
            ),
            // A deleted recorder or delivery channel cannot be started again: it must be recreated.
            (
                "recorder deleted",
                &deleted,
                RemediationMode::Enforce,
                None,
                RemediationStatus::Skipped,
                None,
                "impossible",
            ),
            (
                "channel deleted",
                &channel_deleted,
                RemediationMode::Enforce,
                Some(false),
                RemediationStatus::Skipped,
                Some(false),
                "impossible",
            ),
        ];
        for (label, f, mode, before, status, after, detail) in cases {
            let aws = FakeAws::new();
            if let Some(r) = before {
                aws.world().config_recorders.insert(name.clone(), r);
            }
            let out = block_on(handle_remediate(&aws, &cfg(mode), &Envelope::read(&sns(f)))).unwrap();
            assert_eq!(out[0].status, status, "{label}: {:?}", out[0]);
            assert!(out[0].detail.contains(detail), "{label}: {}", out[0].detail);
            assert_eq!(aws.world().config_recorders.get(&name).copied(), after, "{label}");
            let starts = usize::from(status == RemediationStatus::Remediated);
            assert_eq!(aws.writes().len(), starts, "{label}: {:?}", aws.writes());
            assert_eq!(aws.published().len(), 1, "{label}: every outcome is published");
        }
        // The start is denied: a failed outcome, not retried.
        let aws = FakeAws::new();
        aws.world().config_recorders.insert(name.clone(), false);
        aws.fail("config:StartConfigurationRecorder", ErrorKind::AccessDenied);
        let out = block_on(handle_remediate(
            &aws,
            &cfg(RemediationMode::Enforce),
            &Envelope::read(&sns(&stop)),
        ))
        .unwrap();
        assert_eq!(out[0].status, RemediationStatus::Failed, "{:?}", out[0]);
    }

    #[test]
    fn restores_the_previous_default_version() {
        let f = finding(
            "cloudtrail-iam-create-policy-version-widening.json",
            "iam-policy-widened",
        );
        let narrow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
        let wide = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        for (mode, default_after) in [(RemediationMode::DryRun, "v2"), (RemediationMode::Enforce, "v1")] {
            let aws = FakeAws::new();
            aws.add_policy(&f.resource.arn, &[narrow.clone(), wide.clone()]);
            let out = block_on(handle_remediate(&aws, &cfg(mode), &Envelope::read(&sns(&f)))).unwrap();
            let versions = block_on(aws.list_policy_versions(&f.resource.arn)).unwrap();
            let default = versions.iter().find(|v| v.is_default).unwrap();
            assert_eq!(default.version_id, default_after, "{mode:?}: {:?}", out[0]);
        }
        // Already restored (the default grants nothing new): stale.
        let aws = FakeAws::new();
        aws.add_policy(&f.resource.arn, &[wide.clone(), narrow.clone()]);
        let out = block_on(handle_remediate(
            &aws,
            &cfg(RemediationMode::Enforce),
            &Envelope::read(&sns(&f)),
        ))
        .unwrap();
        assert_eq!(out[0].status, RemediationStatus::Skipped, "{:?}", out[0]);
    }

    /// Issue 12, A: loop protection recognises a session of the member remediation role in every account, and
    /// nothing else of that name.
    #[test]
    fn member_remediation_role_sessions_are_recognised_in_every_account() {
        use crate::app::remediate::caused_by_member_role;
        let base = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        let name = "tripline-member-remediate";
        let cases: &[(Option<&str>, Option<&str>, bool)] = &[
            (
                None,
                Some("arn:aws:sts::444455556666:assumed-role/tripline-member-remediate/tripline"),
                true,
            ),
            (
                None,
                Some("arn:aws:sts::777788889999:assumed-role/tripline-member-remediate/x"),
                true,
            ),
            (
                Some("arn:aws:iam::444455556666:role/tripline-member-remediate"),
                None,
                true,
            ),
            (
                Some("arn:aws:iam::444455556666:role/path/tripline-member-remediate"),
                None,
                true,
            ),
            (
                None,
                Some("arn:aws:sts::444455556666:assumed-role/tripline-member-remediate-x/s"),
                false,
            ),
            (
                None,
                Some("arn:aws:iam::444455556666:user/tripline-member-remediate"),
                false,
            ),
            (
                None,
                Some("arn:aws:sts::notanaccount:assumed-role/tripline-member-remediate/s"),
                false,
            ),
            (None, None, false),
        ];
        for (issuer, arn, want) in cases {
            let mut f = base.clone();
            f.actor.session_issuer = issuer.map(str::to_owned);
            f.actor.arn = arn.map(str::to_owned);
            assert_eq!(caused_by_member_role(&f, name), *want, "{issuer:?} {arn:?}");
        }
    }

    #[test]
    fn loop_protection_table() {
        let base = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        let cases: &[(Option<&str>, Option<&str>, bool)] = &[
            (Some(ROLE), None, true),
            (
                None,
                Some("arn:aws:sts::111122223333:assumed-role/tripline-remediate/session-1"),
                true,
            ),
            (
                None,
                Some("arn:aws:sts::444455556666:assumed-role/tripline-remediate/session-1"),
                false,
            ),
            (
                None,
                Some("arn:aws:sts::111122223333:assumed-role/tripline-remediate-other/s"),
                false,
            ),
            (
                Some("arn:aws:iam::111122223333:role/admin"),
                Some("arn:aws:sts::111122223333:assumed-role/admin/s"),
                false,
            ),
        ];
        for (issuer, arn, want) in cases {
            let mut f = base.clone();
            f.actor.session_issuer = issuer.map(str::to_owned);
            f.actor.arn = arn.map(str::to_owned);
            assert_eq!(caused_by_role(&f, ROLE), *want, "{issuer:?} {arn:?}");
        }
    }
}
