//! The finding lifecycle's transition function and notification policy, table-driven
//! (`tripline_core::lifecycle`; the table in its module doc).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tripline_core::finding::{Finding, Severity, Suppression};
use tripline_core::lifecycle::{
    apply, cleared_rules, confirm_notified, parse_duration_secs, swept_rules, Decision, LifecycleItem,
    LifecycleKey, LifecycleState, Observation, Policy, ResolveReason, Transition,
    DEFAULT_RENOTIFY_AFTER_SECS,
};
use tripline_core::rules::{self, SweepContext};
use tripline_core::settings::RuleConfig;
use tripline_core::state::BucketState;

const DAY: i64 = 86_400;
const T0: i64 = 1_800_000_000;

/// A real finding: the sweep's judgement of a bucket with a public policy (`s3-bucket-policy-public`),
/// at `time` (also the sweep's event id).
fn public_bucket(time: &str) -> Finding {
    let ctx = SweepContext {
        account: "111122223333",
        region: "us-east-1",
        time,
    };
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/*"}]});
    let state = BucketState {
        policy: Some(policy),
        ..BucketState::default()
    };
    rules::assess_bucket(&ctx, "photos", &state, None, &RuleConfig::default())
        .findings
        .into_iter()
        .find(|f| f.rule == "s3-bucket-policy-public")
        .unwrap()
}

fn with_event(mut f: Finding, id: &str, time: &str) -> Finding {
    f.event.id = id.into();
    f.event.time = time.into();
    f
}

/// Applies and writes: returns the decision and the item now stored.
fn step(stored: Option<LifecycleItem>, obs: &Observation<'_>, now: i64) -> (Decision, Option<LifecycleItem>) {
    let d = apply(stored.as_ref(), obs, now, &Policy::default()).unwrap();
    let next = match &d.item {
        Some(item) => {
            assert_eq!(
                item.version,
                stored.as_ref().map_or(1, |s| s.version + 1),
                "every write is one version above what was read"
            );
            // The notification is published and confirmed.
            Some(if d.notify {
                confirm_notified(item, now)
            } else {
                item.clone()
            })
        }
        None => stored,
    };
    (d, next)
}

#[test]
fn transitions_table() {
    let base = public_bucket("2026-11-01T00:00:00Z");
    let key = LifecycleKey::of(&base).unwrap();
    let mut suppressed = base.clone();
    suppressed.suppressed = Some(Suppression {
        reason: "tag".into(),
        by: "tag".into(),
    });
    let mut higher_evidence = base.clone();
    higher_evidence.evidence.reasons.push("another reason".into());
    let mut lower = base.clone();
    lower.severity = Severity::High;

    // (name, observation (finding or clear), event id, time, now, expected transition, notify, state after)
    enum O<'a> {
        F(&'a Finding),
        Clear(ResolveReason),
    }
    type Case<'a> = (
        &'a str,
        O<'a>,
        &'a str,
        &'a str,
        i64,
        Option<Transition>,
        bool,
        Option<LifecycleState>,
    );
    let cases: Vec<Case> = vec![
        (
            "first sighting",
            O::F(&base),
            "e1",
            "2026-11-01T00:00:00Z",
            T0,
            Some(Transition::New),
            true,
            Some(LifecycleState::Open),
        ),
        (
            "redelivery of e1",
            O::F(&base),
            "e1",
            "2026-11-01T00:00:00Z",
            T0 + 5,
            Some(Transition::Unchanged),
            false,
            Some(LifecycleState::Open),
        ),
        (
            "seen again next day",
            O::F(&base),
            "e2",
            "2026-11-02T00:00:00Z",
            T0 + DAY,
            Some(Transition::Unchanged),
            false,
            Some(LifecycleState::Open),
        ),
        (
            "an event delivered late changes nothing",
            O::F(&base),
            "e0",
            "2026-10-31T00:00:00Z",
            T0 + DAY,
            None,
            false,
            Some(LifecycleState::Open),
        ),
        (
            "evidence changed, same severity",
            O::F(&higher_evidence),
            "e3",
            "2026-11-03T00:00:00Z",
            T0 + 2 * DAY,
            Some(Transition::Changed),
            false,
            Some(LifecycleState::Open),
        ),
        (
            "severity lowered",
            O::F(&lower),
            "e4",
            "2026-11-04T00:00:00Z",
            T0 + 3 * DAY,
            Some(Transition::Changed),
            false,
            Some(LifecycleState::Open),
        ),
        (
            "severity raised back",
            O::F(&base),
            "e5",
            "2026-11-05T00:00:00Z",
            T0 + 4 * DAY,
            Some(Transition::Changed),
            true,
            Some(LifecycleState::Open),
        ),
        (
            "unchanged within 7 days of the last notice",
            O::F(&base),
            "e6",
            "2026-11-11T00:00:00Z",
            T0 + 10 * DAY,
            Some(Transition::Unchanged),
            false,
            Some(LifecycleState::Open),
        ),
        (
            "unchanged 7 days after the last notice: re-notified",
            O::F(&base),
            "e7",
            "2026-11-12T00:00:00Z",
            T0 + 11 * DAY,
            Some(Transition::Unchanged),
            true,
            Some(LifecycleState::Open),
        ),
        (
            "exempted",
            O::F(&suppressed),
            "e8",
            "2026-11-13T00:00:00Z",
            T0 + 12 * DAY,
            Some(Transition::Suppressed),
            false,
            Some(LifecycleState::Suppressed),
        ),
        (
            "still exempted",
            O::F(&suppressed),
            "e9",
            "2026-11-14T00:00:00Z",
            T0 + 13 * DAY,
            Some(Transition::Unchanged),
            false,
            Some(LifecycleState::Suppressed),
        ),
        (
            "exemption expired",
            O::F(&base),
            "e10",
            "2026-11-15T00:00:00Z",
            T0 + 14 * DAY,
            Some(Transition::Unsuppressed),
            true,
            Some(LifecycleState::Open),
        ),
        (
            "judged not exposed",
            O::Clear(ResolveReason::NotExposed),
            "e11",
            "2026-11-16T00:00:00Z",
            T0 + 15 * DAY,
            Some(Transition::Resolved),
            true,
            Some(LifecycleState::Resolved),
        ),
        (
            "judged not exposed again",
            O::Clear(ResolveReason::NotExposed),
            "e12",
            "2026-11-17T00:00:00Z",
            T0 + 16 * DAY,
            None,
            false,
            Some(LifecycleState::Resolved),
        ),
        (
            "exposed again",
            O::F(&base),
            "e13",
            "2026-11-18T00:00:00Z",
            T0 + 17 * DAY,
            Some(Transition::Reopened),
            true,
            Some(LifecycleState::Open),
        ),
        (
            "resource deleted",
            O::Clear(ResolveReason::ResourceGone),
            "e14",
            "2026-11-19T00:00:00Z",
            T0 + 18 * DAY,
            Some(Transition::Resolved),
            true,
            Some(LifecycleState::Resolved),
        ),
    ];
    let mut stored: Option<LifecycleItem> = None;
    for (name, o, id, time, now, want_t, want_notify, want_state) in cases {
        let f;
        let obs = match o {
            O::F(base) => {
                f = with_event(base.clone(), id, time);
                Observation::Exposed(&f)
            }
            O::Clear(reason) => Observation::Cleared {
                key: &key,
                reason,
                at: time,
                event_id: id,
            },
        };
        let (d, next) = step(stored, &obs, now);
        assert_eq!(d.transition, want_t, "{name}");
        assert_eq!(d.notify, want_notify, "{name}");
        assert_eq!(next.as_ref().map(|i| i.state), want_state, "{name}");
        stored = next;
    }
    let item = stored.unwrap();
    assert_eq!(item.first_seen, "2026-11-01T00:00:00Z");
    assert_eq!(item.last_seen, "2026-11-19T00:00:00Z");
    assert_eq!(item.last_event_id, "e14");
    assert_eq!(item.resolved_reason, Some(ResolveReason::ResourceGone));
    assert_eq!(item.last_notified_transition, Some(Transition::Resolved));
    // Occurrences count the sightings of the exposure (e1..e10 and e13, not the redelivery or the late one).
    assert_eq!(item.occurrences, 11);
    assert_eq!(item.id, key.id());
    assert_ne!(item.id, base.id, "the lifecycle id does not depend on the event");
}

#[test]
fn nothing_recorded_for_an_unknown_clear_or_an_unnamed_resource() {
    let f = public_bucket("2026-11-01T00:00:00Z");
    let key = LifecycleKey::of(&f).unwrap();
    let d = apply(
        None,
        &Observation::Cleared {
            key: &key,
            reason: ResolveReason::NotExposed,
            at: "2026-11-01T00:00:00Z",
            event_id: "e",
        },
        T0,
        &Policy::default(),
    )
    .unwrap();
    assert_eq!(
        d,
        Decision {
            transition: None,
            item: None,
            notify: false
        }
    );
    let mut unnamed = f.clone();
    unnamed.resource.arn = String::new();
    assert!(LifecycleKey::of(&unnamed).is_none());
    let d = apply(None, &Observation::Exposed(&unnamed), T0, &Policy::default()).unwrap();
    assert!(d.item.is_none() && !d.notify);
}

#[test]
fn first_sighting_while_exempted_is_kept_suppressed_and_not_notified() {
    let mut f = public_bucket("2026-11-01T00:00:00Z");
    f.suppressed = Some(Suppression {
        reason: "allow-listed".into(),
        by: "allow-list".into(),
    });
    let d = apply(None, &Observation::Exposed(&f), T0, &Policy::default()).unwrap();
    assert_eq!(d.transition, Some(Transition::Suppressed));
    assert!(!d.notify);
    assert_eq!(d.item.unwrap().state, LifecycleState::Suppressed);
}

/// N concurrent deliveries read the same (absent) item: each computes `new` with version 1, and the store's
/// condition lets exactly one write it. The losers read again and see a redelivery: no notification. The
/// winner's claim is only taken over after the lease, when the winner never confirmed it.
#[test]
fn concurrent_deliveries_and_the_notification_lease() {
    let f = public_bucket("2026-11-01T00:00:00Z");
    let policy = Policy::default();
    let d = apply(None, &Observation::Exposed(&f), T0, &policy).unwrap();
    assert!(d.notify);
    let written = d.item.unwrap();
    assert_eq!(written.version, 1);
    assert!(written.notify_pending.is_some());
    // A loser retries on the written item: redelivery within the lease, nothing to do.
    let loser = apply(Some(&written), &Observation::Exposed(&f), T0 + 1, &policy).unwrap();
    assert_eq!((loser.item, loser.notify), (None, false));
    // The winner's publish failed (no confirmation); its retry after the lease re-claims and notifies.
    let retry = apply(
        Some(&written),
        &Observation::Exposed(&f),
        T0 + policy.notify_lease_secs as i64,
        &policy,
    )
    .unwrap();
    assert!(retry.notify);
    assert_eq!(retry.transition, Some(Transition::New));
    let reclaimed = retry.item.unwrap();
    assert_eq!(reclaimed.version, 2);
    // Confirmed: further redeliveries never notify again.
    let confirmed = confirm_notified(&reclaimed, T0 + 61);
    assert_eq!(confirmed.notify_pending, None);
    assert_eq!(confirmed.last_notified_transition, Some(Transition::New));
    let later = apply(Some(&confirmed), &Observation::Exposed(&f), T0 + 10_000, &policy).unwrap();
    assert!(!later.notify && later.item.is_none());
}

#[test]
fn remediation_attempts_and_verified_remediation() {
    let f = public_bucket("2026-11-01T00:00:00Z");
    let key = LifecycleKey::of(&f).unwrap();
    let (_, stored) = step(None, &Observation::Exposed(&f), T0);
    let (d, stored) = step(
        stored,
        &Observation::RemediationAttempt {
            key: &key,
            outcome: "failed",
            event_id: "r1",
        },
        T0 + 10,
    );
    assert_eq!((d.transition, d.notify), (None, false));
    let item = stored.clone().unwrap();
    assert_eq!(item.remediation_attempts, 1);
    assert_eq!(item.last_remediation_outcome.as_deref(), Some("failed"));
    assert_eq!(item.state, LifecycleState::Open);
    let (d, stored) = step(
        stored,
        &Observation::Cleared {
            key: &key,
            reason: ResolveReason::Remediated,
            at: "2026-11-01T00:05:00Z",
            event_id: "r2",
        },
        T0 + 300,
    );
    assert_eq!((d.transition, d.notify), (Some(Transition::Resolved), true));
    assert_eq!(stored.unwrap().resolved_reason, Some(ResolveReason::Remediated));
}

#[test]
fn resolved_items_expire_after_the_configured_days() {
    let f = public_bucket("2026-11-01T00:00:00Z");
    let key = LifecycleKey::of(&f).unwrap();
    let policy = Policy {
        resolved_ttl_days: Some(30),
        ..Policy::default()
    };
    let open = apply(None, &Observation::Exposed(&f), T0, &policy)
        .unwrap()
        .item
        .unwrap();
    assert_eq!(open.expires_at, None);
    let clear = Observation::Cleared {
        key: &key,
        reason: ResolveReason::NotExposed,
        at: "2026-11-02T00:00:00Z",
        event_id: "e2",
    };
    let resolved = apply(Some(&open), &clear, T0 + DAY, &policy)
        .unwrap()
        .item
        .unwrap();
    assert_eq!(resolved.expires_at, Some(T0 + DAY + 30 * DAY));
    let again = with_event(f.clone(), "e3", "2026-11-03T00:00:00Z");
    let reopened = apply(
        Some(&resolved),
        &Observation::Exposed(&again),
        T0 + 2 * DAY,
        &policy,
    )
    .unwrap()
    .item
    .unwrap();
    assert_eq!((reopened.expires_at, reopened.resolved_reason), (None, None));
}

#[test]
fn bad_times_and_durations_are_one_line_errors() {
    let f = with_event(public_bucket("2026-11-01T00:00:00Z"), "e", "yesterday\nnoon");
    let e = apply(None, &Observation::Exposed(&f), T0, &Policy::default()).unwrap_err();
    assert!(!e.to_string().contains('\n'), "{e}");
    let cases = [
        ("7d", Some(7 * 86_400)),
        ("12h", Some(43_200)),
        ("30m", Some(1_800)),
        ("90s", Some(90)),
        ("3600", Some(3_600)),
        ("0", None),
        ("-1d", None),
        ("soon", None),
        ("99999999999999999999d", None),
    ];
    for (s, want) in cases {
        assert_eq!(parse_duration_secs(s).ok(), want, "{s}");
    }
    assert_eq!(DEFAULT_RENOTIFY_AFTER_SECS, 7 * 86_400);
}

/// A sweep that judged a bucket clear of a rule resolves that rule's finding; a rule that errored, or a
/// rule the sweep does not judge (a change-only rule such as `iam-policy-widened`), is never cleared.
#[test]
fn what_a_sweep_clears() {
    let bucket_rules = swept_rules("AWS::S3::Bucket");
    assert_eq!(bucket_rules.len(), 4);
    for r in bucket_rules
        .iter()
        .chain(swept_rules("AWS::IAM::Policy"))
        .chain(swept_rules("AWS::IAM::Role"))
        .chain(swept_rules("AWS::IAM::AccountPasswordPolicy"))
        .chain(swept_rules("AWS::EC2::NetworkAcl"))
        .chain(swept_rules("AWS::RDS::DBInstance"))
        .chain(swept_rules("AWS::RDS::DBCluster"))
        .chain(swept_rules("AWS::SSM::PatchCompliance"))
    {
        assert!(rules::by_id(r).is_some(), "{r} is in the registry");
    }
    assert!(!swept_rules("AWS::IAM::Policy").contains(&"iam-policy-widened"));
    let f = public_bucket("2026-11-01T00:00:00Z");
    let mut evaluation = rules::Evaluation {
        findings: vec![f.clone()],
        errors: vec![rules::RuleError {
            rule: "s3-bucket-acl-public".into(),
            message: "x".into(),
        }],
    };
    let cleared = cleared_rules(bucket_rules, &f.resource.arn, &evaluation);
    assert_eq!(
        cleared,
        vec!["s3-bucket-cross-account-access", "s3-bucket-tls-not-required"]
    );
    evaluation.findings.clear();
    evaluation.errors.clear();
    assert_eq!(cleared_rules(bucket_rules, &f.resource.arn, &evaluation).len(), 4);
}
