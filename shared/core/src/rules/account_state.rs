//! The sweep side of the account-level state the event rules judge (issue 16): CloudTrail trails logging
//! management events, the AWS Config recorder recording, GuardDuty detectors, EBS encryption by default,
//! account-level S3 Block Public Access, and security groups open to the world. Each judgement reports the
//! SAME rule id as the event rule (`cloudtrail-logging-disabled`, `config-recording-stopped`,
//! `guardduty-detector-disabled`, `ebs-default-encryption-disabled`,
//! `s3-account-public-access-block-weakened`, `ec2-security-group-open-to-world`) and reuses its readers.
//!
//! The shell reads the state (`tripline_aws::account_state`, shapes in each API's own member names) and calls
//! these. Absent data is unknown, never the worst case: a trail whose status or selectors could not be read
//! is named in an `errors` entry (never counted as "not logging"), a recorder without a status entry or a
//! detector without `status` is an error, an answer without `EbsEncryptionByDefault` too. A read that fails
//! as a whole never reaches these functions (the shell names it in the sweep's errors).
//!
//! Resources: a region that has no trail logging management events, no recorder or no detector is reported
//! on a region-scoped Tripline identifier in the service's ARN format with `*` as the resource
//! (`arn:aws:cloudtrail:<region>:<account>:trail/*`, `...:configuration-recorder/*`, `...:detector/*`), so
//! the findings store keeps one item per account, region and rule; an existing recorder or detector is
//! reported on its own ARN.

use serde_json::{json, Map, Value};

use super::payload::{at, bool_at, items, str_at};
use super::{
    audit, ec2, s3_pab, safeguards, sweep_hit, CheckError, Evaluation, EventInfo, Rule, SweepContext,
};
use crate::finding::{Evidence, FindingResource, Severity};
use crate::settings::RuleConfig;
use crate::state::PublicAccessBlock;
use std::collections::BTreeMap;

/// One judged resource of the account-level families (the shell turns it into its `Assessed`).
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub resource_type: &'static str,
    /// The id AWS Config uses where there is one (group id, recorder name, detector id), else the region or
    /// account.
    pub resource_id: String,
    pub arn: String,
    pub evaluation: Evaluation,
}

fn event<'a>(sweep: &'a SweepContext<'a>, kind: &'a str, region: &'a str) -> EventInfo<'a> {
    let mut ev = sweep.event(kind);
    ev.region = region;
    ev
}

fn partition(region: &str) -> &'static str {
    crate::resource_kind::partition(region)
}

#[allow(clippy::too_many_arguments)]
fn judged(
    rule: &Rule,
    resource: FindingResource,
    resource_id: String,
    hit: Result<Option<(Severity, Evidence)>, CheckError>,
    summary: impl FnOnce(Severity) -> String,
    confirmed: bool,
    ev: &EventInfo<'_>,
    tags: Option<&BTreeMap<String, String>>,
    config: &RuleConfig,
) -> Judged {
    let mut evaluation = Evaluation::default();
    sweep_hit(
        &mut evaluation,
        rule,
        hit,
        &resource,
        summary,
        confirmed,
        ev,
        tags,
        config,
    );
    Judged {
        resource_type: static_type(&resource.resource_type),
        resource_id,
        arn: resource.arn,
        evaluation,
    }
}

fn static_type(t: &str) -> &'static str {
    match t {
        "AWS::CloudTrail::Trail" => "AWS::CloudTrail::Trail",
        "AWS::Config::ConfigurationRecorder" => "AWS::Config::ConfigurationRecorder",
        "AWS::GuardDuty::Detector" => "AWS::GuardDuty::Detector",
        "AWS::EC2::EBSDefaultEncryption" => "AWS::EC2::EBSDefaultEncryption",
        "AWS::S3::AccountPublicAccessBlock" => "AWS::S3::AccountPublicAccessBlock",
        _ => "AWS::EC2::SecurityGroup",
    }
}

/// `PascalCase` member names to the `camelCase` of the CloudTrail records the event rule reads (the
/// `EventSelector` / `AdvancedEventSelector` members are the same words: CloudTrail API Reference).
fn camel(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let key = c
                        .next()
                        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
                        .unwrap_or_default();
                    (key, camel(v))
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel).collect()),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------------------
// CloudTrail: DescribeTrails + GetTrailStatus + GetEventSelectors.
// ---------------------------------------------------------------------------------------------------------

/// What one trail contributes to a region's coverage.
enum TrailVerdict {
    /// Logging, and its selectors record management write events.
    Counts,
    /// Known not to count: why.
    DoesNot(String),
    /// Unknown: what is missing.
    Unknown(String),
}

fn trail_verdict(t: &Value) -> (String, TrailVerdict) {
    let trail = at(t, &["Trail"]);
    let name = str_at(trail, &["TrailARN"])
        .or_else(|| str_at(trail, &["Name"]))
        .unwrap_or("a trail DescribeTrails names neither by ARN nor by name")
        .to_owned();
    // CloudTrail API Reference, GetTrailStatus: `IsLogging` "Whether the CloudTrail trail is currently
    // logging Amazon Web Services API calls." Absent (or the read failed): unknown.
    let logging = match (bool_at(t, &["Status", "IsLogging"]), str_at(t, &["StatusError"])) {
        (Some(l), _) => l,
        (None, Some(e)) => return (name, TrailVerdict::Unknown(format!("GetTrailStatus failed: {e}"))),
        (None, None) => {
            return (
                name,
                TrailVerdict::Unknown("GetTrailStatus's answer does not include `IsLogging`".into()),
            )
        }
    };
    if !logging {
        return (
            name,
            TrailVerdict::DoesNot("it is not logging (GetTrailStatus `IsLogging` false)".into()),
        );
    }
    let selectors = at(t, &["Selectors"]);
    if selectors.is_null() {
        let why = match str_at(t, &["SelectorsError"]) {
            Some(e) => format!("GetEventSelectors failed: {e}"),
            None => "its event selectors were not read".into(),
        };
        return (name, TrailVerdict::Unknown(why));
    }
    let basic = at(selectors, &["EventSelectors"]);
    let advanced = at(selectors, &["AdvancedEventSelectors"]);
    if basic.is_null() && advanced.is_null() {
        return (
            name,
            TrailVerdict::Unknown(
                "GetEventSelectors's answer includes neither `EventSelectors` nor `AdvancedEventSelectors`"
                    .into(),
            ),
        );
    }
    // The event rule's readers (CloudTrail API Reference, `EventSelector`: `IncludeManagementEvents` "By
    // default, the value is true", `ReadWriteType` "By default, the value is All"; `AdvancedFieldSelector`:
    // `eventCategory` = `Management`, `readOnly`). A trail uses one kind or the other; advanced selectors,
    // when present, are the ones in effect.
    let camel_advanced = camel(advanced);
    let camel_basic = camel(basic);
    let adv = items(&camel_advanced);
    let records = if !adv.is_empty() {
        audit::advanced_selectors_record_writes(&adv)
    } else {
        audit::basic_selectors_record_writes(&items(&camel_basic))
    };
    if records {
        (name, TrailVerdict::Counts)
    } else {
        (
            name,
            TrailVerdict::DoesNot(
                "its event selectors record no management write events (none, or read-only only)".into(),
            ),
        )
    }
}

/// Sweep: whether any trail that applies to `region` logs management events, `cloudtrail-logging-disabled`
/// (one finding per account and region that lacks one). `trails` are DescribeTrails' answer in the region
/// with shadow trails included (CloudTrail API Reference, DescribeTrails `includeShadowTrails`: "A shadow
/// trail is the replication in a Region of a trail that was created in a different Region, or in the case
/// of an organization trail, the replication of an organization trail in member accounts"), so a
/// multi-region or organization trail counts in every region it covers; each entry is
/// `{"Trail": {Name, TrailARN, HomeRegion, IsMultiRegionTrail, IsOrganizationTrail}, "Status": {IsLogging}
/// | "StatusError": "...", "Selectors": {EventSelectors, AdvancedEventSelectors} | "SelectorsError": "..."}`.
///
/// A trail whose status or selectors are unknown is never counted as not logging: when no trail counts
/// and one is unknown, the judgement is an error naming it (no finding).
pub fn assess_trails(
    sweep: &SweepContext<'_>,
    region: &str,
    trails: &[Value],
    config: &RuleConfig,
) -> Judged {
    let rule = &audit::CLOUDTRAIL_LOGGING_DISABLED;
    let ev = event(sweep, "AssessTrails", region);
    let resource = FindingResource {
        resource_type: "AWS::CloudTrail::Trail".into(),
        arn: format!(
            "arn:{}:cloudtrail:{region}:{}:trail/*",
            partition(region),
            sweep.account
        ),
        name: Some(format!("trails of {region}")),
    };
    let mut not = Vec::new();
    let mut unknown = Vec::new();
    let mut counts = false;
    for t in trails {
        match trail_verdict(t) {
            (_, TrailVerdict::Counts) => counts = true,
            (n, TrailVerdict::DoesNot(why)) => not.push(format!("trail `{n}`: {why}")),
            (n, TrailVerdict::Unknown(why)) => unknown.push(format!("trail `{n}`: {why}")),
        }
    }
    let hit = if counts {
        Ok(None)
    } else if !unknown.is_empty() {
        Err(CheckError::Unknown(format!(
            "whether a trail logs management events in `{region}` is unknown: {}",
            unknown.join("; ")
        )))
    } else {
        let mut reasons = vec![if trails.is_empty() {
            format!("no trail applies to `{region}` (DescribeTrails, shadow trails included, lists none)")
        } else {
            format!("no trail that applies to `{region}` logs management events")
        }];
        reasons.extend(not.iter().cloned());
        let mut e = super::payload::reasons(reasons);
        e.details.insert("trails".into(), json!(not));
        Ok(Some((Severity::High, e)))
    };
    let account = sweep.account.to_owned();
    let r = region.to_owned();
    judged(
        rule,
        resource,
        region.to_owned(),
        hit,
        |_| format!("no CloudTrail trail logs management events in {r} of account {account}"),
        true,
        &ev,
        None,
        config,
    )
}

// ---------------------------------------------------------------------------------------------------------
// AWS Config: DescribeConfigurationRecorders + DescribeConfigurationRecorderStatus.
// ---------------------------------------------------------------------------------------------------------

/// Sweep: `config-recording-stopped` in `region`. `recorders` are DescribeConfigurationRecorders'
/// `ConfigurationRecorders` (`name`, `arn`), each with the `recording` / `lastStatus` of its entry in
/// DescribeConfigurationRecorderStatus (AWS Config API Reference, `ConfigurationRecorderStatus.recording`:
/// "Specifies whether or not the recorder is currently recording"); a recorder without `recording` is
/// unknown (an error, no finding). No recorder: one finding for the region; a recorder not recording: one
/// finding on it.
pub fn assess_config_recorders(
    sweep: &SweepContext<'_>,
    region: &str,
    recorders: &[Value],
    config: &RuleConfig,
) -> Vec<Judged> {
    let rule = &super::audit::CONFIG_RECORDING_STOPPED;
    let ev = event(sweep, "AssessConfigurationRecorders", region);
    let p = partition(region);
    let account = sweep.account.to_owned();
    if recorders.is_empty() {
        let resource = FindingResource {
            resource_type: "AWS::Config::ConfigurationRecorder".into(),
            arn: format!("arn:{p}:config:{region}:{account}:configuration-recorder/*"),
            name: Some(format!("configuration recorders of {region}")),
        };
        let e = super::payload::reasons(vec![format!(
            "AWS Config has no configuration recorder in `{region}` \
             (DescribeConfigurationRecorders lists none): nothing is recorded"
        )]);
        let r = region.to_owned();
        return vec![judged(
            rule,
            resource,
            region.to_owned(),
            Ok(Some((Severity::High, e))),
            |_| format!("AWS Config records nothing in {r} of account {account} (no recorder)"),
            true,
            &ev,
            None,
            config,
        )];
    }
    recorders
        .iter()
        .map(|rec| {
            let name = str_at(rec, &["name"]).unwrap_or_default().to_owned();
            let arn = str_at(rec, &["arn"])
                .map(str::to_owned)
                .or_else(|| {
                    crate::resource_kind::arn("AWS::Config::ConfigurationRecorder", region, &account, &name)
                })
                .unwrap_or_default();
            let resource = FindingResource {
                resource_type: "AWS::Config::ConfigurationRecorder".into(),
                arn,
                name: Some(name.clone()),
            };
            let hit = match bool_at(rec, &["recording"]) {
                Some(true) => Ok(None),
                Some(false) => {
                    let mut e = super::payload::reasons(vec![format!(
                        "configuration recorder `{name}` is not recording \
                         (DescribeConfigurationRecorderStatus `recording` false)"
                    )]);
                    if let Some(s) = str_at(rec, &["lastStatus"]) {
                        e.details.insert("last_status".into(), json!(s));
                    }
                    Ok(Some((Severity::High, e)))
                }
                None => Err(CheckError::Unknown(format!(
                    "whether configuration recorder `{name}` in `{region}` records is unknown: \
                     DescribeConfigurationRecorderStatus has no `recording` for it"
                ))),
            };
            let (n, r, a) = (name.clone(), region.to_owned(), account.clone());
            judged(
                rule,
                resource,
                name,
                hit,
                |_| format!("AWS Config recorder {n} in {r} of account {a} is not recording"),
                true,
                &ev,
                None,
                config,
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// GuardDuty: ListDetectors + GetDetector.
// ---------------------------------------------------------------------------------------------------------

/// Sweep: `guardduty-detector-disabled` in `region`. `detectors` are ListDetectors' ids each with
/// GetDetector's `status` (`{"detectorId", "status"}`; GuardDuty API Reference, GetDetector `status`:
/// `ENABLED` | `DISABLED`). No detector: one finding for the region; a detector `DISABLED`: one on it; a
/// detector without `status` is unknown (an error).
pub fn assess_detectors(
    sweep: &SweepContext<'_>,
    region: &str,
    detectors: &[Value],
    config: &RuleConfig,
) -> Vec<Judged> {
    let rule = &safeguards::GUARDDUTY_DISABLED;
    let ev = event(sweep, "AssessDetectors", region);
    let account = sweep.account.to_owned();
    let p = partition(region);
    if detectors.is_empty() {
        let resource = FindingResource {
            resource_type: "AWS::GuardDuty::Detector".into(),
            arn: format!("arn:{p}:guardduty:{region}:{account}:detector/*"),
            name: Some(format!("GuardDuty detectors of {region}")),
        };
        let e = super::payload::reasons(vec![format!(
            "GuardDuty has no detector in `{region}` (ListDetectors lists none): no threat detection there"
        )]);
        let r = region.to_owned();
        return vec![judged(
            rule,
            resource,
            region.to_owned(),
            Ok(Some((Severity::High, e))),
            |_| format!("GuardDuty is off in {r} of account {account} (no detector)"),
            true,
            &ev,
            None,
            config,
        )];
    }
    detectors
        .iter()
        .map(|d| {
            let id = str_at(d, &["detectorId"]).unwrap_or_default().to_owned();
            let resource = FindingResource {
                resource_type: "AWS::GuardDuty::Detector".into(),
                arn: crate::resource_kind::arn("AWS::GuardDuty::Detector", region, &account, &id)
                    .unwrap_or_default(),
                name: Some(id.clone()),
            };
            let hit = match str_at(d, &["status"]) {
                Some(s) if s.eq_ignore_ascii_case("ENABLED") => Ok(None),
                Some(s) if s.eq_ignore_ascii_case("DISABLED") => Ok(Some((
                    Severity::High,
                    super::payload::reasons(vec![format!(
                        "GuardDuty detector `{id}` is disabled (GetDetector `status` {s})"
                    )]),
                ))),
                Some(s) => Err(CheckError::Unknown(format!(
                    "GuardDuty detector `{id}` in `{region}` has status `{}`, neither ENABLED nor DISABLED",
                    crate::text::bounded(s, 64)
                ))),
                None => Err(CheckError::Unknown(format!(
                    "whether GuardDuty detector `{id}` in `{region}` is enabled is unknown: GetDetector's \
                     answer does not include `status`"
                ))),
            };
            let (i, r, a) = (id.clone(), region.to_owned(), account.clone());
            judged(
                rule,
                resource,
                id,
                hit,
                |_| format!("GuardDuty detector {i} in {r} of account {a} is disabled"),
                true,
                &ev,
                None,
                config,
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// EBS encryption by default: GetEbsEncryptionByDefault.
// ---------------------------------------------------------------------------------------------------------

/// Sweep: `ebs-default-encryption-disabled` in `region`. `enabled` is GetEbsEncryptionByDefault's
/// `EbsEncryptionByDefault` (EC2 API Reference: "Indicates whether encryption by default is enabled");
/// `None` (the answer lacks it) is unknown, an error.
pub fn assess_ebs_default_encryption(
    sweep: &SweepContext<'_>,
    region: &str,
    enabled: Option<bool>,
    config: &RuleConfig,
) -> Judged {
    let rule = &safeguards::EBS_DEFAULT_ENCRYPTION_DISABLED;
    let ev = event(sweep, "AssessEbsEncryptionByDefault", region);
    let resource = FindingResource {
        resource_type: "AWS::EC2::EBSDefaultEncryption".into(),
        arn: crate::resource_kind::arn("AWS::EC2::EBSDefaultEncryption", region, sweep.account, "")
            .unwrap_or_default(),
        name: Some(region.to_owned()),
    };
    let hit = match enabled {
        Some(true) => Ok(None),
        Some(false) => Ok(Some((
            Severity::Medium,
            super::payload::reasons(vec![format!(
                "EBS encryption by default is off in `{region}` (GetEbsEncryptionByDefault \
                 `EbsEncryptionByDefault` false)"
            )]),
        ))),
        None => Err(CheckError::Unknown(format!(
            "whether EBS encryption by default is on in `{region}` is unknown: GetEbsEncryptionByDefault's \
             answer does not include `EbsEncryptionByDefault`"
        ))),
    };
    let r = region.to_owned();
    judged(
        rule,
        resource,
        region.to_owned(),
        hit,
        |_| format!("EBS encryption by default is off in {r}"),
        true,
        &ev,
        None,
        config,
    )
}

// ---------------------------------------------------------------------------------------------------------
// Account-level S3 Block Public Access: S3 Control GetPublicAccessBlock.
// ---------------------------------------------------------------------------------------------------------

/// Sweep: `s3-account-public-access-block-weakened`. `pab` is S3 Control GetPublicAccessBlock's
/// configuration for the account, `None` when there is none (`NoSuchPublicAccessBlockConfiguration`: all
/// four settings off, as after `DeleteAccountPublicAccessBlock`). A setting S3 reports false is off.
pub fn assess_account_public_access_block(
    sweep: &SweepContext<'_>,
    pab: Option<&PublicAccessBlock>,
    config: &RuleConfig,
) -> Judged {
    let rule = &s3_pab::ACCOUNT_PAB_WEAKENED;
    let ev = sweep.event("AssessAccountPublicAccessBlock");
    let account = sweep.account.to_owned();
    let resource = FindingResource {
        resource_type: "AWS::S3::AccountPublicAccessBlock".into(),
        arn: crate::resource_kind::arn(
            "AWS::S3::AccountPublicAccessBlock",
            sweep.region,
            &account,
            &account,
        )
        .unwrap_or_default(),
        name: Some(account.clone()),
    };
    let off: Vec<&str> = match pab {
        None => s3_pab::SETTINGS.to_vec(),
        Some(p) => s3_pab::SETTINGS
            .into_iter()
            .filter(|s| !s3_pab::covered_by(p, s))
            .collect(),
    };
    let hit = if off.is_empty() {
        Ok(None)
    } else {
        let mut e = super::payload::reasons(vec![match pab {
            None => "the account has no Block Public Access configuration \
                     (GetPublicAccessBlock: NoSuchPublicAccessBlockConfiguration): all four settings are off"
                .to_owned(),
            Some(_) => format!("account-level Block Public Access has {} off", off.join(", ")),
        }]);
        e.details.insert("settings_off".into(), json!(off));
        Ok(Some((Severity::High, e)))
    };
    let a = account.clone();
    judged(
        rule,
        resource,
        account,
        hit,
        move |_| format!("account-level S3 Block Public Access of {a} is not fully on"),
        true,
        &ev,
        None,
        config,
    )
}

// ---------------------------------------------------------------------------------------------------------
// Security groups: DescribeSecurityGroups.
// ---------------------------------------------------------------------------------------------------------

/// Sweep: `ec2-security-group-open-to-world` for one `SecurityGroup` of DescribeSecurityGroups (`GroupId`,
/// `GroupName`, `IpPermissions`, `Tags[]{Key,Value}`), judged by the event rule's own judgement of the
/// permissions (world CIDRs, administrative ports, all traffic critical; a permission lacking its protocol
/// or ports is unknown reach, not confirmed). The group's tags decide exemptions (`tripline:exempt`).
pub fn assess_security_group(
    sweep: &SweepContext<'_>,
    region: &str,
    group: &Value,
    config: &RuleConfig,
) -> Judged {
    let rule = &ec2::SECURITY_GROUP_OPEN;
    let ev = event(sweep, "AssessSecurityGroup", region);
    let id = str_at(group, &["GroupId"]).unwrap_or_default().to_owned();
    let resource = FindingResource {
        resource_type: "AWS::EC2::SecurityGroup".into(),
        arn: if id.is_empty() {
            String::new()
        } else {
            crate::resource_kind::arn("AWS::EC2::SecurityGroup", region, sweep.account, &id)
                .unwrap_or_default()
        },
        name: Some(id.clone()),
    };
    let tags: BTreeMap<String, String> = items(at(group, &["Tags"]))
        .into_iter()
        .filter_map(|t| Some((str_at(t, &["Key"])?.to_owned(), str_at(t, &["Value"])?.to_owned())))
        .collect();
    let root = format!("SecurityGroups[{id}]");
    let (hit, confirmed) = match ec2::judge_openings(ec2::api_world_openings(group, &root), config) {
        None => (Ok(None), true),
        Some((severity, mut e, confirmed)) => {
            if let Some(n) = str_at(group, &["GroupName"]) {
                e.details.insert("group_name".into(), json!(n));
            }
            (Ok(Some((severity, e))), confirmed)
        }
    };
    let (g, r) = (id.clone(), region.to_owned());
    judged(
        rule,
        resource,
        id,
        hit,
        |_| format!("security group {g} in {r} is open to the internet"),
        confirmed,
        &ev,
        Some(&tags),
        config,
    )
}

/// The reads of these judgements (the template's sweep-only read permissions, with
/// [`super::duties::sweep_permissions`]). Service Authorization Reference: none supports resource-level
/// permissions except `cloudtrail:GetTrailStatus` / `GetEventSelectors` (trail) and `guardduty:GetDetector`
/// (detector); the sweep reads every trail and detector, so `*`.
pub fn sweep_permissions(rule: &str) -> &'static [&'static str] {
    match rule {
        "cloudtrail-logging-disabled" => &[
            "ec2:DescribeRegions",
            "cloudtrail:DescribeTrails",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors",
        ],
        "config-recording-stopped" => &[
            "ec2:DescribeRegions",
            "config:DescribeConfigurationRecorders",
            "config:DescribeConfigurationRecorderStatus",
        ],
        "guardduty-detector-disabled" => &[
            "ec2:DescribeRegions",
            "guardduty:ListDetectors",
            "guardduty:GetDetector",
        ],
        "ebs-default-encryption-disabled" => &["ec2:DescribeRegions", "ec2:GetEbsEncryptionByDefault"],
        // `s3-account-public-access-block-weakened`: S3 Control GetPublicAccessBlock for the account is read by
        // every sweep already (`s3:GetAccountPublicAccessBlock`, granted with the bucket reads): no new read.
        "ec2-security-group-open-to-world" => &["ec2:DescribeRegions", "ec2:DescribeSecurityGroups"],
        _ => &[],
    }
}
