//! The rule catalog: which findings a [`Change`] raises, how severe, with what evidence.
//!
//! Each rule is one static [`Rule`] declared in its own file (or a file per small group): id, title,
//! severity, triggers (CloudTrail `eventSource` + `eventName`s; AWS Config resource types), the
//! [`StateNeed`]s that confirm it, IAM read permissions, an optional remediation, a doc string and the
//! `events/` samples that fire it and a similar one that does not. [`REGISTRY`] holds them all.
//!
//! Invariant (checked by `shared/core/tests/rules_meta.rs`): every rule has a unique id, a severity, a doc, a
//! sample event that fires it and a similar sample that does not.
//!
//! Policy judgements (public, cross-account, widened, escalation) come from [`crate::policy`]; rules only
//! translate payloads into documents and engine verdicts into findings.

mod account_state;
mod audit;
mod duties;
mod ec2;
mod engine;
mod error;
pub mod external;
mod iam_access_key;
mod iam_credentials;
mod iam_password;
mod iam_policy;
mod iam_trust;
mod lambda_layer;
pub(crate) mod payload;
mod policy_kinds;
mod rds;
mod resource_policy;
mod s3_pab;
mod s3_policy;
mod s3_tls;
mod safeguards;
mod ssm;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::change::{Change, ChangeSource, IdentityType, Payload};
use crate::exempt;
use crate::finding::{
    cloudtrail_event_url, finding_id, Evidence, Finding, FindingActor, FindingEvent, FindingResource, Links,
    RemediationPlan, SCHEMA_VERSION,
};
use crate::settings::RuleConfig;
use crate::state::{BucketState, PublicAccessBlock, State, StateNeed};

pub use crate::finding::Severity;

/// CloudTrail events that trigger a rule: one `eventSource` and its `eventName`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    /// e.g. `s3.amazonaws.com`.
    pub source: &'static str,
    /// e.g. `PutBucketPolicy`.
    pub names: &'static [&'static str],
}

pub use crate::remediation::Remediation;
pub use account_state::{
    assess_account_public_access_block, assess_config_recorders, assess_detectors,
    assess_ebs_default_encryption, assess_security_group, assess_trails, Judged,
};
pub use duties::{
    assess_db_cluster, assess_db_instance, assess_network_acl, assess_password_policy,
    assess_patch_compliance, sweep_permissions,
};
pub use error::CheckError;
pub use iam_policy::{admin_managed_policy, ADMIN_MANAGED_POLICIES};

/// What a rule's check sees.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub change: &'a Change,
    /// What the shell fetched; `None` when nothing was fetched (`tripline assess` without `--state`).
    pub state: Option<&'a State>,
    pub config: &'a RuleConfig,
}

/// One thing a rule found; [`evaluate`] turns it into a [`Finding`].
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub resource: FindingResource,
    pub severity: Severity,
    pub summary: String,
    pub evidence: Evidence,
    /// Whether current state confirmed the hit.
    pub state_confirmed: bool,
}

/// A rule's check: the hits of one change. An error is reported in [`Evaluation::errors`] and does not
/// hide the other rules' findings.
pub type Check = fn(&Ctx<'_>) -> Result<Vec<Hit>, CheckError>;

/// One rule of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    /// The severity of a confirmed, unmitigated hit; a hit may be lower (e.g. blocked by Block Public Access).
    pub severity: Severity,
    pub cloudtrail: &'static [Trigger],
    /// AWS Config resource types whose configuration items the rule evaluates.
    pub config_types: &'static [&'static str],
    pub needs: &'static [StateNeed],
    /// Read permissions beyond those of `needs`.
    pub extra_permissions: &'static [&'static str],
    pub remediation: Option<Remediation>,
    /// What the rule detects and why it matters (shown in alerts as "why it matters").
    pub doc: &'static str,
    /// `events/` files that fire the rule.
    pub fires: &'static [&'static str],
    /// Similar `events/` files that do not.
    pub quiet: &'static [&'static str],
    pub check: Check,
}

impl Rule {
    /// The IAM read permissions the rule's state needs, plus its extra ones; sorted, unique.
    pub fn permissions(&self) -> Vec<&'static str> {
        let set: BTreeSet<&'static str> = self
            .needs
            .iter()
            .flat_map(|n| n.permissions().iter().copied())
            .chain(self.extra_permissions.iter().copied())
            .collect();
        set.into_iter().collect()
    }

    /// Whether the change triggers this rule (ignores the outcome).
    pub fn matches(&self, change: &Change) -> bool {
        match change.source {
            ChangeSource::CloudTrail => self
                .cloudtrail
                .iter()
                .any(|t| t.source == change.service && t.names.contains(&change.event_name.as_str())),
            ChangeSource::ConfigItem { .. } | ChangeSource::ConfigRule { .. } => {
                !matches!(change.payload, Payload::Scheduled)
                    && self.config_types.contains(&change.service.as_str())
            }
        }
    }
}

/// Every rule, in catalog order.
pub static REGISTRY: &[&Rule] = &[
    &s3_policy::POLICY_PUBLIC,
    &s3_policy::ACL_PUBLIC,
    &s3_pab::BUCKET_PAB_WEAKENED,
    &s3_pab::ACCOUNT_PAB_WEAKENED,
    &s3_policy::CROSS_ACCOUNT,
    &s3_policy::OBJECT_ACL_PUBLIC,
    &iam_policy::WIDENED,
    &iam_policy::ADMIN,
    &iam_policy::ESCALATION,
    &iam_trust::TRUST_PUBLIC,
    &iam_trust::TRUST_EXTERNAL,
    &iam_credentials::ROOT_ACCESS_KEY,
    &iam_credentials::LOGIN_PROFILE,
    &iam_credentials::MFA_DEACTIVATED,
    &audit::CLOUDTRAIL_LOGGING_DISABLED,
    &audit::CONFIG_RECORDING_STOPPED,
    &audit::TRIPLINE_TAMPERED,
    &ec2::SECURITY_GROUP_OPEN,
    &ec2::SNAPSHOT_PUBLIC,
    &ec2::IMAGE_PUBLIC,
    &rds::SNAPSHOT_PUBLIC,
    &resource_policy::KMS,
    &resource_policy::SNS,
    &resource_policy::SQS,
    &resource_policy::ECR,
    &resource_policy::SECRETS,
    &resource_policy::LAMBDA,
    &safeguards::GUARDDUTY_DISABLED,
    &safeguards::KMS_KEY_DELETION,
    &safeguards::EBS_DEFAULT_ENCRYPTION_DISABLED,
    &iam_password::PASSWORD_POLICY_WEAKENED,
    &ec2::NETWORK_ACL_OPEN,
    &rds::INSTANCE_PUBLIC,
    &rds::STORAGE_UNENCRYPTED,
    &s3_tls::TLS_NOT_REQUIRED,
    &ssm::PATCH_NONCOMPLIANT,
    &external::EC2_SNAPSHOT,
    &external::EC2_IMAGE,
    &external::RDS_SNAPSHOT,
    &external::KMS,
    &external::SQS,
    &external::SNS,
    &external::SECRETS,
    &external::ECR,
    &external::LAMBDA,
    &iam_access_key::ACCESS_KEY_FOR_OTHER_USER,
    &rds::CLUSTER_SNAPSHOT_PUBLIC,
    &policy_kinds::S3_ACCESS_POINT_PUBLIC,
    &policy_kinds::EFS_PUBLIC,
    &policy_kinds::DYNAMODB_PUBLIC,
    &policy_kinds::OPENSEARCH_PUBLIC,
    &policy_kinds::GLACIER_PUBLIC,
    &policy_kinds::S3_ACCESS_POINT_CROSS,
    &policy_kinds::EFS_CROSS,
    &policy_kinds::DYNAMODB_CROSS,
    &policy_kinds::OPENSEARCH_CROSS,
    &policy_kinds::GLACIER_CROSS,
    &lambda_layer::PUBLIC,
    &lambda_layer::CROSS_ACCOUNT,
];

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    REGISTRY.iter().copied().find(|r| r.id == id)
}

/// Every rule id, in catalog order.
pub fn ids() -> Vec<&'static str> {
    REGISTRY.iter().map(|r| r.id).collect()
}

/// The rule configuration from environment variables, every rule id in them checked against this
/// catalog (see [`RuleConfig::from_env_map`]).
pub fn config_from_env(
    env: &std::collections::BTreeMap<String, String>,
) -> Result<RuleConfig, crate::settings::SettingsError> {
    RuleConfig::from_env_map(env, &ids())
}

/// The rules a change triggers. A failed call (errorCode present) changed nothing and triggers none.
pub fn triggered(change: &Change) -> Vec<&'static Rule> {
    if !change.outcome.is_success() {
        return Vec::new();
    }
    REGISTRY.iter().copied().filter(|r| r.matches(change)).collect()
}

/// The state the shell must fetch for a change: the union of the triggered rules' needs.
pub fn needs(change: &Change) -> BTreeSet<StateNeed> {
    triggered(change)
        .iter()
        .flat_map(|r| r.needs.iter().copied())
        .collect()
}

/// A rule that failed on a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleError {
    pub rule: String,
    pub message: String,
}

/// The outcome of evaluating one change (or one swept resource).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub errors: Vec<RuleError>,
}

/// Event facts a finding carries.
struct EventInfo<'a> {
    id: &'a str,
    name: &'a str,
    service: &'a str,
    time: &'a str,
    source: &'static str,
    account: &'a str,
    region: &'a str,
    actor: FindingActor,
}

/// A short human name for the actor: the session name of an assumed role (`alice@example.com`, usually
/// the person), the user name, `root`, or the invoking service.
pub fn actor_name(actor: &crate::change::Actor) -> String {
    let last = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_owned();
    match (&actor.identity_type, actor.arn.as_deref()) {
        (IdentityType::Root, _) => "root".to_owned(),
        (IdentityType::AssumedRole | IdentityType::IAMUser | IdentityType::FederatedUser, Some(arn)) => {
            last(arn)
        }
        (IdentityType::AWSService, _) => actor.invoked_by.clone().unwrap_or_else(|| actor.display_name()),
        _ => actor.display_name(),
    }
}

fn actor_of(change: &Change) -> FindingActor {
    let a = &change.actor;
    FindingActor {
        name: actor_name(a),
        identity_type: a.identity_type.as_str().to_owned(),
        arn: a.arn.clone(),
        session_issuer: a.session_issuer.clone(),
        source_ip: a.source_ip.clone(),
        user_agent: a.user_agent.clone(),
        invoked_by: a.invoked_by.clone(),
    }
}

fn sweep_actor() -> FindingActor {
    FindingActor {
        name: "scheduled sweep".to_owned(),
        identity_type: IdentityType::Unknown.as_str().to_owned(),
        arn: None,
        session_issuer: None,
        source_ip: None,
        user_agent: None,
        invoked_by: None,
    }
}

/// Tags of the hit's resource that the change or state reveal (for exemptions).
fn known_tags(change: Option<&Change>, state: Option<&State>) -> Option<BTreeMap<String, String>> {
    if let Some(t) = state.and_then(|s| s.resource_tags.as_ref()) {
        return Some(t.clone());
    }
    if let Some(b) = state.and_then(|s| s.bucket.as_ref()) {
        if !b.tags.is_empty() {
            return Some(b.tags.clone());
        }
    }
    if let Some(Payload::Config { tags, .. }) = change.map(|c| &c.payload) {
        if let Some(obj) = tags.as_object() {
            return Some(
                obj.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect(),
            );
        }
    }
    None
}

fn build(
    rule: &Rule,
    hit: Hit,
    ev: &EventInfo<'_>,
    tags: Option<&BTreeMap<String, String>>,
    config: &RuleConfig,
) -> Finding {
    let links = Links {
        console: crate::resource_kind::console_url(
            &hit.resource.resource_type,
            &hit.resource.arn,
            hit.resource.name.as_deref(),
            ev.region,
        ),
        cloudtrail: (ev.source == "cloudtrail").then(|| cloudtrail_event_url(ev.region, ev.id)),
    };
    let exemption = exempt::check(rule.id, &hit.resource.arn, tags, config, exempt::date_of(ev.time));
    let notes = exemption.notes;
    Finding {
        schema_version: SCHEMA_VERSION,
        id: finding_id(rule.id, &hit.resource.arn, ev.id),
        rule: rule.id.to_owned(),
        severity: hit.severity,
        title: rule.title.to_owned(),
        summary: hit.summary,
        resource: hit.resource,
        account: ev.account.to_owned(),
        region: ev.region.to_owned(),
        actor: ev.actor.clone(),
        event: FindingEvent {
            id: ev.id.to_owned(),
            name: ev.name.to_owned(),
            service: ev.service.to_owned(),
            time: ev.time.to_owned(),
            source: ev.source.to_owned(),
        },
        why: rule.doc.to_owned(),
        evidence: hit.evidence,
        state_confirmed: hit.state_confirmed,
        remediation: rule.remediation.map(|r| RemediationPlan {
            id: r.id.to_owned(),
            mode: config.remediation_mode_for(rule.id),
            permissions: r.permissions.iter().map(|p| (*p).to_owned()).collect(),
        }),
        links,
        suppressed: exemption.suppressed,
        notes,
    }
}

fn run_rule(rule: &Rule, ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    (rule.check)(ctx)
}

/// Evaluates one change: every triggered rule runs; one rule's error never hides another's findings.
/// `state` is what the shell fetched (`None`: judge from the payload, findings marked not confirmed).
/// A failed call raises nothing.
pub fn evaluate(change: &Change, state: Option<&State>, config: &RuleConfig) -> Evaluation {
    let rules = triggered(change);
    let mut out = Evaluation::default();
    if rules.is_empty() {
        return out;
    }
    let ctx = Ctx {
        change,
        state,
        config,
    };
    let source = match change.source {
        ChangeSource::CloudTrail => "cloudtrail",
        ChangeSource::ConfigItem { .. } | ChangeSource::ConfigRule { .. } => "config",
    };
    let ev = EventInfo {
        id: &change.event_id,
        name: &change.event_name,
        service: &change.service,
        time: &change.time,
        source,
        account: &change.account,
        region: &change.region,
        actor: actor_of(change),
    };
    let tags = known_tags(Some(change), state);
    for rule in rules {
        match run_rule(rule, &ctx) {
            Ok(hits) => out.findings.extend(
                hits.into_iter()
                    .map(|h| build(rule, h, &ev, tags.as_ref(), config)),
            ),
            Err(e) => out.errors.push(RuleError {
                rule: rule.id.to_owned(),
                message: e.to_string(),
            }),
        }
    }
    out
}

/// Facts of a scheduled sweep (`sweep` function): where and when. `time` (RFC 3339) is the sweep's start;
/// it dates exemptions and makes finding ids stable within one sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepContext<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub time: &'a str,
}

impl SweepContext<'_> {
    fn event<'b>(&'b self, kind: &'b str) -> EventInfo<'b> {
        EventInfo {
            id: self.time,
            name: kind,
            service: "tripline.sweep",
            time: self.time,
            source: "sweep",
            account: self.account,
            region: self.region,
            actor: sweep_actor(),
        }
    }
}

fn collect(
    out: &mut Evaluation,
    rule: &Rule,
    res: Result<Vec<Hit>, CheckError>,
    ev: &EventInfo<'_>,
    tags: Option<&BTreeMap<String, String>>,
    config: &RuleConfig,
) {
    match res {
        Ok(hits) => out
            .findings
            .extend(hits.into_iter().map(|h| build(rule, h, ev, tags, config))),
        Err(e) => out.errors.push(RuleError {
            rule: rule.id.to_owned(),
            message: e.to_string(),
        }),
    }
}

/// Runs a sweep judgement and collects its hit into `out`.
#[allow(clippy::too_many_arguments)]
fn sweep_hit(
    out: &mut Evaluation,
    rule: &Rule,
    judged: Result<Option<(Severity, Evidence)>, CheckError>,
    resource: &FindingResource,
    summary: impl FnOnce(Severity) -> String,
    confirmed: bool,
    ev: &EventInfo<'_>,
    tags: Option<&BTreeMap<String, String>>,
    config: &RuleConfig,
) {
    let res = judged.map(|hit| {
        hit.map(|(severity, evidence)| Hit {
            resource: resource.clone(),
            severity,
            summary: summary(severity),
            evidence,
            state_confirmed: confirmed,
        })
        .into_iter()
        .collect()
    });
    collect(out, rule, res, ev, tags, config);
}

/// The rules the sweep's `assess_*` functions judge on a resource of `resource_type` (the findings store
/// resolves an open finding of one of these rules when a sweep judges its resource and raises none).
pub fn assessed_rule_ids(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        "AWS::S3::Bucket" => &[POLICY_PUBLIC_ID, CROSS_ACCOUNT_ID, ACL_PUBLIC_ID, TLS_ID],
        "AWS::IAM::Policy" => &[ADMIN_ID, ESCALATION_ID],
        "AWS::IAM::Role" => &[TRUST_PUBLIC_ID, TRUST_EXTERNAL_ID],
        // The customer-duty families (issue 18), judged in every enabled region of the partition; a region
        // that cannot be listed makes the sweep incomplete, so nothing is taken for gone.
        "AWS::IAM::AccountPasswordPolicy" => &[PASSWORD_ID],
        "AWS::EC2::NetworkAcl" => &[NACL_ID],
        "AWS::RDS::DBInstance" => &[RDS_PUBLIC_ID, RDS_UNENCRYPTED_ID],
        "AWS::RDS::DBCluster" => &[RDS_UNENCRYPTED_ID],
        "AWS::SSM::PatchCompliance" => &[PATCH_ID],
        // The account-level state and security groups (issue 16), judged in every enabled region of the
        // partition (account Block Public Access once per account).
        "AWS::CloudTrail::Trail" => &[TRAIL_ID],
        "AWS::Config::ConfigurationRecorder" => &[RECORDER_ID],
        "AWS::GuardDuty::Detector" => &[DETECTOR_ID],
        "AWS::EC2::EBSDefaultEncryption" => &[EBS_DEFAULT_ID],
        "AWS::S3::AccountPublicAccessBlock" => &[ACCOUNT_PAB_ID],
        "AWS::EC2::SecurityGroup" => &[SG_OPEN_ID],
        // The swept kinds of issue 19 are read in the sweep's own region only, while events report them from
        // every region: they are not resolved by a sweep's absence (left to events and explicit judgements).
        _ => &[],
    }
}
const TLS_ID: &str = s3_tls::TLS_NOT_REQUIRED.id;
const PASSWORD_ID: &str = iam_password::PASSWORD_POLICY_WEAKENED.id;
const NACL_ID: &str = ec2::NETWORK_ACL_OPEN.id;
const RDS_PUBLIC_ID: &str = rds::INSTANCE_PUBLIC.id;
const RDS_UNENCRYPTED_ID: &str = rds::STORAGE_UNENCRYPTED.id;
const PATCH_ID: &str = ssm::PATCH_NONCOMPLIANT.id;
const POLICY_PUBLIC_ID: &str = s3_policy::POLICY_PUBLIC.id;
const CROSS_ACCOUNT_ID: &str = s3_policy::CROSS_ACCOUNT.id;
const ACL_PUBLIC_ID: &str = s3_policy::ACL_PUBLIC.id;
const ADMIN_ID: &str = iam_policy::ADMIN.id;
const ESCALATION_ID: &str = iam_policy::ESCALATION.id;
const TRUST_PUBLIC_ID: &str = iam_trust::TRUST_PUBLIC.id;
const TRUST_EXTERNAL_ID: &str = iam_trust::TRUST_EXTERNAL.id;
const TRAIL_ID: &str = audit::CLOUDTRAIL_LOGGING_DISABLED.id;
const RECORDER_ID: &str = audit::CONFIG_RECORDING_STOPPED.id;
const DETECTOR_ID: &str = safeguards::GUARDDUTY_DISABLED.id;
const EBS_DEFAULT_ID: &str = safeguards::EBS_DEFAULT_ENCRYPTION_DISABLED.id;
const ACCOUNT_PAB_ID: &str = s3_pab::ACCOUNT_PAB_WEAKENED.id;
const SG_OPEN_ID: &str = ec2::SECURITY_GROUP_OPEN.id;

/// Sweep: judges one bucket's current state with the same logic as the change rules
/// (`s3-bucket-policy-public`, `s3-bucket-acl-public`, `s3-bucket-cross-account-access`, and
/// `s3-bucket-tls-not-required` at low severity). `account_pab`
/// `None` means account-level Block Public Access was not read (findings marked not confirmed).
pub fn assess_bucket(
    sweep: &SweepContext<'_>,
    bucket: &str,
    state: &BucketState,
    account_pab: Option<&PublicAccessBlock>,
    config: &RuleConfig,
) -> Evaluation {
    let mut out = Evaluation::default();
    let ev = sweep.event("AssessBucket");
    let tags = Some(&state.tags);
    let resource = FindingResource {
        resource_type: "AWS::S3::Bucket".into(),
        arn: crate::resource_kind::arn("AWS::S3::Bucket", sweep.region, sweep.account, bucket)
            .unwrap_or_default(),
        name: Some(bucket.to_owned()),
    };
    let bpab = state.public_access_block.as_ref();
    let confirmed = account_pab.is_some();
    // The bucket's settings were read (`None`: not configured); the account's may not have been.
    let unread = s3_policy::Unread {
        bucket: false,
        account: account_pab.is_none(),
    };
    if let Some(doc) = &state.policy {
        sweep_hit(
            &mut out,
            &s3_policy::POLICY_PUBLIC,
            s3_policy::judge_policy(doc, bpab, account_pab, unread),
            &resource,
            |sev| match sev {
                Severity::Critical => format!("S3 bucket {bucket} is public"),
                _ => format!("S3 bucket {bucket} has a public policy (blocked by Block Public Access)"),
            },
            confirmed,
            &ev,
            tags,
            config,
        );
        sweep_hit(
            &mut out,
            &s3_policy::CROSS_ACCOUNT,
            s3_policy::judge_cross_account(doc, config, sweep.account)
                .map(|e| e.map(|e| (Severity::High, e))),
            &resource,
            |_| format!("S3 bucket {bucket} is shared with an untrusted account"),
            true,
            &ev,
            tags,
            config,
        );
    }
    if let Some(acl) = &state.acl {
        sweep_hit(
            &mut out,
            &s3_policy::ACL_PUBLIC,
            s3_policy::judge_acl(acl, bpab, account_pab, Severity::High, unread),
            &resource,
            |_| format!("S3 bucket {bucket} has a public ACL"),
            confirmed,
            &ev,
            tags,
            config,
        );
    }
    duties::bucket_tls(
        &mut out,
        state.policy.as_ref(),
        &resource,
        bucket,
        &ev,
        tags,
        config,
    );
    out
}

/// Sweep: judges one customer-managed policy's default version (`iam-admin-access-granted`,
/// `iam-privilege-escalation`).
pub fn assess_managed_policy(
    sweep: &SweepContext<'_>,
    policy_arn: &str,
    document: &Value,
    config: &RuleConfig,
) -> Evaluation {
    let mut out = Evaluation::default();
    let ev = sweep.event("AssessManagedPolicy");
    let name = policy_arn.rsplit('/').next().unwrap_or(policy_arn).to_owned();
    let resource = FindingResource {
        resource_type: "AWS::IAM::Policy".into(),
        arn: policy_arn.to_owned(),
        name: Some(name.clone()),
    };
    sweep_hit(
        &mut out,
        &iam_policy::ADMIN,
        iam_policy::judge_managed_admin(document),
        &resource,
        |_| format!("IAM policy {name} grants full administrator access"),
        true,
        &ev,
        None,
        config,
    );
    sweep_hit(
        &mut out,
        &iam_policy::ESCALATION,
        iam_policy::judge_managed_escalation(document),
        &resource,
        |_| format!("IAM policy {name} enables privilege escalation"),
        true,
        &ev,
        None,
        config,
    );
    out
}

/// Sweep: judges one role's trust policy (`iam-trust-policy-public`, `iam-trust-policy-external-account`).
/// `tags` are the role's tags when listed (exemptions).
pub fn assess_role_trust(
    sweep: &SweepContext<'_>,
    role_arn: &str,
    trust: &Value,
    tags: Option<&BTreeMap<String, String>>,
    config: &RuleConfig,
) -> Evaluation {
    let mut out = Evaluation::default();
    let ev = sweep.event("AssessRoleTrust");
    let name = role_arn.rsplit('/').next().unwrap_or(role_arn).to_owned();
    let resource = FindingResource {
        resource_type: "AWS::IAM::Role".into(),
        arn: role_arn.to_owned(),
        name: Some(name.clone()),
    };
    sweep_hit(
        &mut out,
        &iam_trust::TRUST_PUBLIC,
        iam_trust::judge_public(trust).map(|e| e.map(|e| (Severity::Critical, e))),
        &resource,
        |_| format!("IAM role {name} is assumable by anyone"),
        true,
        &ev,
        tags,
        config,
    );
    sweep_hit(
        &mut out,
        &iam_trust::TRUST_EXTERNAL,
        iam_trust::judge_external(trust, config, sweep.account).map(|e| e.map(|e| (Severity::High, e))),
        &resource,
        |_| format!("IAM role {name} trusts an untrusted account"),
        true,
        &ev,
        tags,
        config,
    );
    out
}

/// The EventBridge event patterns derived from the registry: service short name (`s3`, `iam`...) ->
/// `{"source": ["aws.<service>"], "detail-type": ["AWS API Call via CloudTrail"], "detail":
/// {"eventSource": ["<service>.amazonaws.com"], "eventName": [sorted, unique]}}`. Deterministic: the SAM
/// template embeds exactly this (`tripline patterns`).
pub fn event_patterns() -> BTreeMap<String, Value> {
    let mut names: BTreeMap<&'static str, BTreeSet<&'static str>> = BTreeMap::new();
    for t in REGISTRY.iter().flat_map(|r| r.cloudtrail.iter()) {
        names.entry(t.source).or_default().extend(t.names.iter().copied());
    }
    names
        .into_iter()
        .map(|(source, names)| {
            let short = source.strip_suffix(".amazonaws.com").unwrap_or(source);
            (
                short.to_owned(),
                serde_json::json!({
                    "source": [format!("aws.{short}")],
                    "detail-type": ["AWS API Call via CloudTrail"],
                    "detail": {
                        "eventSource": [source],
                        "eventName": names.into_iter().collect::<Vec<_>>(),
                    },
                }),
            )
        })
        .collect()
}

/// The AWS Config resource types the registry evaluates, sorted and unique.
pub fn config_resource_types() -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = REGISTRY
        .iter()
        .flat_map(|r| r.config_types.iter().copied())
        .collect();
    set.into_iter().collect()
}

impl Rule {
    /// The rule as JSON for `tripline rules --json`: id, title, severity, triggers, permissions,
    /// remediation, doc, state needs.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "triggers": {
                "cloudtrail": self.cloudtrail.iter().map(|t| serde_json::json!({
                    "event_source": t.source,
                    "event_names": t.names,
                })).collect::<Vec<_>>(),
                "config_resource_types": self.config_types,
            },
            "state_needs": self.needs,
            "permissions": self.permissions(),
            "sweep_permissions": duties::sweep_permissions(self.id),
            "remediation": self.remediation.map(|r| serde_json::json!({
                "id": r.id,
                "permissions": r.permissions,
            })),
            "doc": self.doc,
        })
    }
}
