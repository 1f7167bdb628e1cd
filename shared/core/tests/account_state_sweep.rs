//! The sweep judgements of the account-level state and security groups (issue 16), case by case, each cited.
//! Every finding carries the event rule's id; what an answer leaves unknown is an error, never a finding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use tripline_core::rules::{self, Evaluation, Judged, SweepContext};
use tripline_core::settings::RuleConfig;
use tripline_core::state::PublicAccessBlock;

const SWEEP: SweepContext<'static> = SweepContext {
    account: "111122223333",
    region: "us-east-1",
    time: "2026-12-06T03:00:00Z",
};

fn rules_of(e: &Evaluation) -> Vec<(String, String)> {
    e.findings
        .iter()
        .map(|f| (f.rule.clone(), f.severity.as_str().to_owned()))
        .collect()
}

fn trail(name: &str, logging: Option<bool>, selectors: Option<Value>) -> Value {
    let mut t = json!({"Trail": {"Name": name,
        "TrailARN": format!("arn:aws:cloudtrail:us-east-1:111122223333:trail/{name}"),
        "HomeRegion": "us-east-1", "IsMultiRegionTrail": true}});
    if let Some(l) = logging {
        t["Status"] = json!({ "IsLogging": l });
    }
    if let Some(s) = selectors {
        t["Selectors"] = s;
    }
    t
}

fn basic(rw: &str, mgmt: bool) -> Value {
    json!({"EventSelectors": [{"ReadWriteType": rw, "IncludeManagementEvents": mgmt}]})
}

/// CloudTrail API Reference:
/// - GetTrailStatus, `IsLogging`: "Whether the CloudTrail trail is currently logging Amazon Web Services API
///   calls." (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html)
/// - EventSelector, `IncludeManagementEvents`: "Specify if you want your event selector to include management
///   events for your trail ... By default, the value is true"; `ReadWriteType`: "Specify if you want your
///   trail to log read-only events, write-only events, or all. ... By default, the value is All."
///   (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html)
/// - AdvancedFieldSelector: `eventCategory` `Management` selects management events, `readOnly` `true`
///   read-only events only (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html).
/// - DescribeTrails, `includeShadowTrails`: "A shadow trail is the replication in a Region of a trail that was
///   created in a different Region, or in the case of an organization trail, the replication of an
///   organization trail in member accounts" (so a multi-region / organization trail is listed, and counts,
///   in every region it covers).
#[test]
fn a_region_needs_one_trail_logging_management_write_events() {
    let cfg = RuleConfig::default();
    let mgmt_reads_only = json!({"AdvancedEventSelectors": [{"Name": "reads", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["true"]}]}]});
    let mgmt_all = json!({"AdvancedEventSelectors": [{"Name": "all", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}]}]});
    let data_only = json!({"AdvancedEventSelectors": [{"Name": "s3", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]});
    let cases: Vec<(&str, Vec<Value>, bool)> = vec![
        ("no trail at all", vec![], true),
        (
            "a trail that stopped logging",
            vec![trail("main", Some(false), Some(basic("All", true)))],
            true,
        ),
        (
            "logging, all management events",
            vec![trail("main", Some(true), Some(basic("All", true)))],
            false,
        ),
        (
            "logging, write-only management events",
            vec![trail("main", Some(true), Some(basic("WriteOnly", true)))],
            false,
        ),
        (
            "logging, read-only management events only",
            vec![trail("main", Some(true), Some(basic("ReadOnly", true)))],
            true,
        ),
        (
            "logging, no management events (IncludeManagementEvents false)",
            vec![trail("data", Some(true), Some(basic("All", false)))],
            true,
        ),
        (
            "logging, an empty selector list records nothing",
            vec![trail("none", Some(true), Some(json!({"EventSelectors": []})))],
            true,
        ),
        (
            "absent IncludeManagementEvents / ReadWriteType default to true / All",
            vec![trail("main", Some(true), Some(json!({"EventSelectors": [{}]})))],
            false,
        ),
        (
            "advanced: management events, reads and writes",
            vec![trail("adv", Some(true), Some(mgmt_all.clone()))],
            false,
        ),
        (
            "advanced: management read-only only",
            vec![trail("adv", Some(true), Some(mgmt_reads_only))],
            true,
        ),
        (
            "advanced: data events only",
            vec![trail("adv", Some(true), Some(data_only))],
            true,
        ),
        (
            "one stopped, one logging: the region is covered",
            vec![
                trail("old", Some(false), Some(basic("All", true))),
                trail("org", Some(true), Some(mgmt_all)),
            ],
            false,
        ),
    ];
    for (what, trails, fires) in cases {
        let j = rules::assess_trails(&SWEEP, "eu-west-1", &trails, &cfg);
        assert!(
            j.evaluation.errors.is_empty(),
            "{what}: {:?}",
            j.evaluation.errors
        );
        let expected = if fires {
            vec![("cloudtrail-logging-disabled".to_owned(), "high".to_owned())]
        } else {
            vec![]
        };
        assert_eq!(rules_of(&j.evaluation), expected, "{what}");
        assert_eq!(
            j.arn, "arn:aws:cloudtrail:eu-west-1:111122223333:trail/*",
            "{what}"
        );
        assert_eq!(j.resource_type, "AWS::CloudTrail::Trail");
        if fires && !trails.is_empty() {
            // The evidence names each trail and why it does not count.
            let reasons = j.evaluation.findings[0].evidence.reasons.join("\n");
            for t in &trails {
                let name = t["Trail"]["TrailARN"].as_str().unwrap();
                assert!(reasons.contains(name), "{what}: {reasons}");
            }
        }
    }
}

/// A status or selectors that could not be read (or an answer without `IsLogging`) leave the trail unknown:
/// never "not logging". With no other trail counting, the region is an error, not a finding; another trail
/// that counts still settles it.
#[test]
fn an_unknown_trail_is_an_error_never_a_finding() {
    let cfg = RuleConfig::default();
    let mut denied = trail("org-trail", None, Some(basic("All", true)));
    denied["StatusError"] = json!("cloudtrail:GetTrailStatus: AccessDeniedException: not authorized");
    let no_field = trail("main", None, Some(basic("All", true)));
    let mut no_selectors = trail("sel", Some(true), None);
    no_selectors["SelectorsError"] = json!("cloudtrail:GetEventSelectors: throttled");
    let neither = trail("empty", Some(true), Some(json!({})));
    for (what, t) in [
        ("status denied", denied.clone()),
        ("IsLogging absent", no_field),
        ("selectors unread", no_selectors),
        ("selectors answer empty", neither),
    ] {
        let j = rules::assess_trails(&SWEEP, "us-east-1", &[t], &cfg);
        assert!(j.evaluation.findings.is_empty(), "{what}");
        assert_eq!(j.evaluation.errors.len(), 1, "{what}");
        assert_eq!(j.evaluation.errors[0].rule, "cloudtrail-logging-disabled");
        assert!(j.evaluation.errors[0].message.contains("unknown"), "{what}");
    }
    let ok = trail("main", Some(true), Some(basic("All", true)));
    let j = rules::assess_trails(&SWEEP, "us-east-1", &[denied, ok], &cfg);
    assert!(j.evaluation.findings.is_empty() && j.evaluation.errors.is_empty());
}

/// AWS Config API Reference, DescribeConfigurationRecorderStatus / `ConfigurationRecorderStatus.recording`:
/// "Specifies whether or not the recorder is currently recording"
/// (https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigurationRecorderStatus.html).
/// No recorder (DescribeConfigurationRecorders lists none) records nothing.
#[test]
fn config_recorders() {
    let cfg = RuleConfig::default();
    let none = rules::assess_config_recorders(&SWEEP, "us-east-1", &[], &cfg);
    assert_eq!(none.len(), 1);
    assert_eq!(
        rules_of(&none[0].evaluation),
        vec![("config-recording-stopped".to_owned(), "high".to_owned())]
    );
    assert_eq!(
        none[0].arn,
        "arn:aws:config:us-east-1:111122223333:configuration-recorder/*"
    );
    let stopped = json!({"name": "default", "recording": false, "lastStatus": "SUCCESS"});
    let j = rules::assess_config_recorders(&SWEEP, "us-east-1", &[stopped], &cfg);
    assert_eq!(rules_of(&j[0].evaluation)[0].0, "config-recording-stopped");
    assert_eq!(
        j[0].arn,
        "arn:aws:config:us-east-1:111122223333:configuration-recorder/default"
    );
    let recording = json!({"name": "default", "recording": true});
    let j = rules::assess_config_recorders(&SWEEP, "us-east-1", &[recording], &cfg);
    assert!(j[0].evaluation.findings.is_empty() && j[0].evaluation.errors.is_empty());
    // No status entry for the recorder: unknown, an error.
    let unknown = json!({"name": "default"});
    let j = rules::assess_config_recorders(&SWEEP, "us-east-1", &[unknown], &cfg);
    assert!(j[0].evaluation.findings.is_empty());
    assert_eq!(j[0].evaluation.errors[0].rule, "config-recording-stopped");
}

/// GuardDuty API Reference, GetDetector response `status`: "The detector status." Valid values `ENABLED |
/// DISABLED` (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_GetDetector.html); ListDetectors
/// "Lists detectorIds of all the existing Amazon GuardDuty detector resources" (none: GuardDuty is off).
#[test]
fn guardduty_detectors() {
    let cfg = RuleConfig::default();
    let none = rules::assess_detectors(&SWEEP, "us-east-1", &[], &cfg);
    assert_eq!(
        rules_of(&none[0].evaluation),
        vec![("guardduty-detector-disabled".to_owned(), "high".to_owned())]
    );
    assert_eq!(none[0].arn, "arn:aws:guardduty:us-east-1:111122223333:detector/*");
    let off = json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0", "status": "DISABLED"});
    let j = rules::assess_detectors(&SWEEP, "us-east-1", &[off], &cfg);
    assert_eq!(rules_of(&j[0].evaluation)[0].0, "guardduty-detector-disabled");
    assert_eq!(
        j[0].arn,
        "arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0"
    );
    let on = json!({"detectorId": "12abc", "status": "ENABLED"});
    assert!(rules::assess_detectors(&SWEEP, "us-east-1", &[on], &cfg)[0]
        .evaluation
        .findings
        .is_empty());
    let unknown = json!({"detectorId": "12abc"});
    let j: Vec<Judged> = rules::assess_detectors(&SWEEP, "us-east-1", &[unknown], &cfg);
    assert!(j[0].evaluation.findings.is_empty());
    assert_eq!(j[0].evaluation.errors.len(), 1);
}

/// EC2 API Reference, GetEbsEncryptionByDefault, `ebsEncryptionByDefault`: "Indicates whether encryption by
/// default is enabled." (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetEbsEncryptionByDefault.html)
#[test]
fn ebs_encryption_by_default() {
    let cfg = RuleConfig::default();
    let off = rules::assess_ebs_default_encryption(&SWEEP, "eu-west-1", Some(false), &cfg);
    assert_eq!(
        rules_of(&off.evaluation),
        vec![("ebs-default-encryption-disabled".to_owned(), "medium".to_owned())]
    );
    assert_eq!(
        off.arn,
        "arn:aws:ec2:eu-west-1:111122223333:ebs-default-encryption"
    );
    assert!(
        rules::assess_ebs_default_encryption(&SWEEP, "eu-west-1", Some(true), &cfg)
            .evaluation
            .findings
            .is_empty()
    );
    let unknown = rules::assess_ebs_default_encryption(&SWEEP, "eu-west-1", None, &cfg);
    assert!(unknown.evaluation.findings.is_empty());
    assert_eq!(unknown.evaluation.errors.len(), 1);
}

/// Amazon S3 API Reference, S3 Control GetPublicAccessBlock: error `NoSuchPublicAccessBlockConfiguration`,
/// "This exception is thrown if a GetPublicAccessBlock request is made against an account that does not
/// have a PublicAccessBlockConfiguration set"
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html); S3 User Guide,
/// "Blocking public access": each of the four settings guards against a different route to "public".
#[test]
fn account_block_public_access() {
    let cfg = RuleConfig::default();
    let none = rules::assess_account_public_access_block(&SWEEP, None, &cfg);
    assert_eq!(
        rules_of(&none.evaluation),
        vec![(
            "s3-account-public-access-block-weakened".to_owned(),
            "high".to_owned()
        )]
    );
    assert_eq!(none.arn, "arn:aws:s3::111122223333:account-public-access-block");
    assert_eq!(
        none.evaluation.findings[0].evidence.details["settings_off"],
        json!([
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets"
        ])
    );
    let partial = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: false,
        restrict_public_buckets: true,
    };
    let j = rules::assess_account_public_access_block(&SWEEP, Some(&partial), &cfg);
    assert_eq!(
        j.evaluation.findings[0].evidence.details["settings_off"],
        json!(["BlockPublicPolicy"])
    );
    let all = PublicAccessBlock::ALL_ON;
    assert!(
        rules::assess_account_public_access_block(&SWEEP, Some(&all), &cfg)
            .evaluation
            .findings
            .is_empty()
    );
}

fn group(perms: Value, tags: Value) -> Value {
    json!({"GroupId": "sg-0123456789abcdef0", "GroupName": "web", "VpcId": "vpc-1",
           "IpPermissions": perms, "Tags": tags})
}

/// EC2 API Reference, `IpPermission` (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html):
/// `IpProtocol` "Use -1 to specify all protocols"; `FromPort` / `ToPort` the port range for TCP/UDP;
/// `IpRanges[].CidrIp`, `Ipv6Ranges[].CidrIpv6`. Judged with the event rule's own judgement: SSH/RDP from
/// 0.0.0.0/0 or ::/0 high, every protocol critical, a private range or a non-admin port quiet; the
/// `tripline:exempt` tag suppresses.
#[test]
fn security_groups_judged_like_the_event_rule() {
    let cfg = RuleConfig::default();
    let ssh = json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                      "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": []}]);
    let all_v6 = json!([{"IpProtocol": "-1", "IpRanges": [], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]);
    let private = json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                          "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]);
    let https = json!([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]);
    let no_ports = json!([{"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]);
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        ("SSH from the internet", ssh.clone(), Some("high")),
        ("all traffic from ::/0", all_v6, Some("critical")),
        ("SSH from a private range", private, None),
        ("HTTPS from the internet", https, None),
        (
            "TCP without ports: unknown reach, reported",
            no_ports,
            Some("high"),
        ),
    ];
    for (what, perms, expected) in cases {
        let j = rules::assess_security_group(&SWEEP, "eu-west-1", &group(perms, json!([])), &cfg);
        let got = rules_of(&j.evaluation);
        match expected {
            Some(sev) => assert_eq!(
                got,
                vec![("ec2-security-group-open-to-world".to_owned(), sev.to_owned())],
                "{what}"
            ),
            None => assert!(got.is_empty(), "{what}"),
        }
        assert_eq!(
            j.arn,
            "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0123456789abcdef0"
        );
    }
    let unknown = rules::assess_security_group(
        &SWEEP,
        "eu-west-1",
        &group(
            json!([{"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]),
            json!([]),
        ),
        &cfg,
    );
    assert!(!unknown.evaluation.findings[0].state_confirmed);
    // The exemption tag of the event rule, read from the group's tags.
    let exempt = rules::assess_security_group(
        &SWEEP,
        "eu-west-1",
        &group(
            ssh,
            json!([{"Key": "tripline:exempt", "Value": "ec2-security-group-open-to-world"}]),
        ),
        &cfg,
    );
    assert_eq!(exempt.evaluation.findings.len(), 1);
    assert!(exempt.evaluation.findings[0].suppressed.is_some());
}

/// The findings store resolves sweep findings by `assessed_rule_ids`: every rule these judgements raise is
/// listed for its resource type.
#[test]
fn assessed_rule_ids_cover_the_account_state_rules() {
    for (t, id) in [
        ("AWS::CloudTrail::Trail", "cloudtrail-logging-disabled"),
        ("AWS::Config::ConfigurationRecorder", "config-recording-stopped"),
        ("AWS::GuardDuty::Detector", "guardduty-detector-disabled"),
        (
            "AWS::EC2::EBSDefaultEncryption",
            "ebs-default-encryption-disabled",
        ),
        (
            "AWS::S3::AccountPublicAccessBlock",
            "s3-account-public-access-block-weakened",
        ),
        ("AWS::EC2::SecurityGroup", "ec2-security-group-open-to-world"),
    ] {
        assert!(rules::assessed_rule_ids(t).contains(&id), "{t}");
        if id != "s3-account-public-access-block-weakened" {
            assert!(!rules::sweep_permissions(id).is_empty(), "{id}");
        }
    }
}
