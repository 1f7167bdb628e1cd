//! The sweep side of the customer-duty rules (issue 18): the current state of the account password policy,
//! network ACLs, RDS instances and clusters, bucket TLS requirement and managed nodes' patch compliance,
//! judged with the same rules (and the same readers) as their change events. The shell reads the state
//! (`tripline_aws::duties`, shapes in the API's own member names) and calls these.

use serde_json::{json, Value};

use super::payload::{at, str_at};
use super::{
    ec2, iam_password, rds, s3_tls, ssm, sweep_hit, CheckError, Evaluation, EventInfo, Rule, SweepContext,
};
use crate::finding::{Evidence, FindingResource, Severity};
use crate::settings::RuleConfig;
use std::collections::BTreeMap;

fn evidence(reasons: Vec<String>) -> Evidence {
    super::payload::reasons(reasons)
}

/// The sweep's event facts for a resource of `region` (regional resources carry their own region).
fn event<'a>(sweep: &'a SweepContext<'a>, kind: &'a str, region: &'a str) -> EventInfo<'a> {
    let mut ev = sweep.event(kind);
    ev.region = region;
    ev
}

fn one(
    rule: &Rule,
    judged: Result<Option<(Severity, Evidence)>, CheckError>,
    resource: &FindingResource,
    summary: impl FnOnce(Severity) -> String,
    confirmed: bool,
    ev: &EventInfo<'_>,
    config: &RuleConfig,
) -> Evaluation {
    let mut out = Evaluation::default();
    sweep_hit(
        &mut out, rule, judged, resource, summary, confirmed, ev, None, config,
    );
    out
}

// ---------------------------------------------------------------------------------------------------------
// Identity: the account password policy (`iam:GetAccountPasswordPolicy`).
// ---------------------------------------------------------------------------------------------------------

/// Sweep: judges the account password policy (`PasswordPolicy` of `GetAccountPasswordPolicy`, PascalCase;
/// `None`: the account has none, `NoSuchEntity`) against the baseline: `iam-password-policy-weakened`.
///
/// A setting absent from the answer is unknown (the finding is then not confirmed), except
/// `MaxPasswordAge`, whose absence the answer's `ExpirePasswords` false settles (IAM API Reference,
/// `PasswordPolicy.ExpirePasswords`: "Returns false if MaxPasswordAge is 0 or not present").
pub fn assess_password_policy(
    sweep: &SweepContext<'_>,
    policy: Option<&Value>,
    config: &RuleConfig,
) -> Evaluation {
    let rule = &iam_password::PASSWORD_POLICY_WEAKENED;
    let ev = sweep.event("AssessPasswordPolicy");
    let resource = FindingResource {
        resource_type: "AWS::IAM::AccountPasswordPolicy".into(),
        arn: crate::resource_kind::arn("AWS::IAM::AccountPasswordPolicy", sweep.region, sweep.account, "")
            .unwrap_or_default(),
        name: Some(sweep.account.to_owned()),
    };
    let account = sweep.account.to_owned();
    let Some(policy) = policy else {
        // The event side's `DeleteAccountPasswordPolicy`: no policy, IAM's default applies.
        let judged = Ok(Some((
            Severity::Medium,
            evidence(vec![
                "the account has no password policy (GetAccountPasswordPolicy: NoSuchEntity): IAM's default \
                 policy applies to IAM users' passwords (8 characters minimum, no reuse prevention)"
                    .into(),
            ]),
        )));
        return one(
            rule,
            judged,
            &resource,
            |_| format!("account {account} has no password policy"),
            true,
            &ev,
            config,
        );
    };
    let pascal = |key: &str| {
        let mut c = key.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    let judged = iam_password::judge_settings(
        &config.password_baseline,
        |key| {
            let v = at(policy, &[&pascal(key)]).clone();
            if key == "maxPasswordAge" && v.is_null() && at(policy, &["ExpirePasswords"]) == &json!(false) {
                return json!(0);
            }
            v
        },
        |key| format!("PasswordPolicy.{}", pascal(key)),
        |path| format!("GetAccountPasswordPolicy's answer does not include `{path}`"),
    );
    if judged.below.is_empty() && judged.lacks.is_empty() {
        return Evaluation::default();
    }
    let mut ev_out = evidence(judged.reasons);
    let severity = if judged.below.is_empty() {
        Severity::Low
    } else {
        ev_out
            .details
            .insert("below_baseline".into(), Value::Object(judged.below));
        Severity::Medium
    };
    let confirmed = judged.lacks.is_empty();
    if !confirmed {
        ev_out.details.insert("answer_lacks".into(), json!(judged.lacks));
    }
    one(
        rule,
        Ok(Some((severity, ev_out))),
        &resource,
        |s| match s {
            Severity::Medium => format!("account password policy of {account} is below the baseline"),
            _ => format!("account password policy of {account}: some settings unknown"),
        },
        confirmed,
        &ev,
        config,
    )
}

// ---------------------------------------------------------------------------------------------------------
// Network: network ACLs (`ec2:DescribeNetworkAcls`).
// ---------------------------------------------------------------------------------------------------------

/// One inbound entry from the whole internet (`0.0.0.0/0` or `::/0`).
#[derive(Debug, Clone)]
struct WorldEntry {
    number: i64,
    /// The protocol number as a string (`-1`: all), `tcp`/`udp` normalized to `6`/`17`.
    protocol: String,
    allow: bool,
    v6: bool,
    ports: Option<(i64, i64)>,
    raw: Value,
}

fn world_family(cidr: &str) -> Option<bool> {
    let net: ipnet::IpNet = cidr.trim().parse().ok()?;
    (net.prefix_len() == 0).then_some(matches!(net, ipnet::IpNet::V6(_)))
}

fn normalize_protocol(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "tcp" => "6".into(),
        "udp" => "17".into(),
        "icmp" => "1".into(),
        "all" => "-1".into(),
        other => other.to_owned(),
    }
}

/// The ingress entries from the whole internet, sorted by rule number; an entry that lacks a member needed
/// to judge it is an error naming it (unknown, never guessed).
fn world_entries(acl: &Value, id: &str) -> Result<Vec<WorldEntry>, CheckError> {
    let mut out = Vec::new();
    let entries = at(acl, &["Entries"]).as_array().cloned().unwrap_or_default();
    for (i, e) in entries.iter().enumerate() {
        let lacks = |m: &str| CheckError::Lacks {
            subject: "the network ACL",
            missing: vec![format!("NetworkAcl({id}).Entries[{i}].{m}")],
            nor: None,
        };
        let egress = at(e, &["Egress"]).as_bool().ok_or_else(|| lacks("Egress"))?;
        if egress {
            continue;
        }
        let Some(v6) = str_at(e, &["CidrBlock"])
            .or_else(|| str_at(e, &["Ipv6CidrBlock"]))
            .and_then(world_family)
        else {
            // Part of the internet only: it neither opens nor closes the port to the rest of it.
            continue;
        };
        let number = at(e, &["RuleNumber"])
            .as_i64()
            .ok_or_else(|| lacks("RuleNumber"))?;
        let protocol = normalize_protocol(str_at(e, &["Protocol"]).ok_or_else(|| lacks("Protocol"))?);
        let allow = str_at(e, &["RuleAction"])
            .ok_or_else(|| lacks("RuleAction"))?
            .eq_ignore_ascii_case("allow");
        let ports = match (
            at(e, &["PortRange", "From"]).as_i64(),
            at(e, &["PortRange", "To"]).as_i64(),
        ) {
            (Some(f), Some(t)) => Some((f, t)),
            _ if protocol == "6" || protocol == "17" => return Err(lacks("PortRange")),
            _ => None,
        };
        out.push(WorldEntry {
            number,
            protocol,
            allow,
            v6,
            ports,
            raw: e.clone(),
        });
    }
    out.sort_by_key(|e| e.number);
    Ok(out)
}

/// Whether `e` matches a packet of `protocol` (`6` or `17`) to `port`.
fn matches_port(e: &WorldEntry, protocol: &str, port: i64) -> bool {
    e.protocol == "-1" || (e.protocol == protocol && e.ports.is_some_and(|(f, t)| (f..=t).contains(&port)))
}

/// AWS's default network ACL as created: inbound allow-all from the internet (rule 100, and 101 for IPv6)
/// and the final deny (`*`, listed as 32767 / 32768). VPC User Guide, "Default network ACL": "The default
/// network ACL is configured to allow all traffic to flow in and out of the subnets with which it is
/// associated."
fn unchanged_default(acl: &Value, world: &[WorldEntry]) -> bool {
    let ingress = at(acl, &["Entries"])
        .as_array()
        .map(|a| a.iter().filter(|e| at(e, &["Egress"]) == &json!(false)).count())
        .unwrap_or(0);
    at(acl, &["IsDefault"]) == &json!(true)
        && ingress == world.len()
        && world.iter().all(|e| {
            e.protocol == "-1"
                && ((e.allow && (e.number == 100 || e.number == 101))
                    || (!e.allow && (e.number == 32767 || e.number == 32768)))
        })
}

/// Sweep: judges one network ACL of `region` (`NetworkAcl` of `DescribeNetworkAcls`):
/// `ec2-network-acl-open-to-world`.
///
/// Entries are evaluated as AWS does (VPC User Guide, "Network ACL rules": "Rules are evaluated starting with
/// the lowest numbered rule. As soon as a rule matches traffic, it's applied regardless of any
/// higher-numbered rule that might contradict it."): for each administrative port (TCP and UDP) and each
/// address family, the lowest-numbered inbound entry from the whole internet that matches decides; a
/// port is open when that entry allows. All traffic is open (critical) when an allow of protocol `-1` from
/// the internet has no lower-numbered deny of protocol `-1` from the internet in front of it. Entries for
/// part of the internet are ignored: they cannot close a port to the rest of it. AWS's default network ACL
/// left as created is reported at low severity (it allows everything by design; the subnets' security
/// groups are what remains).
pub fn assess_network_acl(
    sweep: &SweepContext<'_>,
    region: &str,
    acl: &Value,
    config: &RuleConfig,
) -> Evaluation {
    let rule = &ec2::NETWORK_ACL_OPEN;
    let ev = event(sweep, "AssessNetworkAcl", region);
    let id = str_at(acl, &["NetworkAclId"]).unwrap_or_default().to_owned();
    let owner = str_at(acl, &["OwnerId"]).unwrap_or(sweep.account);
    let resource = FindingResource {
        resource_type: "AWS::EC2::NetworkAcl".into(),
        arn: if id.is_empty() {
            String::new()
        } else {
            crate::resource_kind::arn("AWS::EC2::NetworkAcl", region, owner, &id).unwrap_or_default()
        },
        name: (!id.is_empty()).then(|| id.clone()),
    };
    let judged = judge_network_acl(acl, &id, config);
    let shown = if id.is_empty() {
        "(no id)".to_owned()
    } else {
        id.clone()
    };
    one(
        rule,
        judged,
        &resource,
        |s| match s {
            Severity::Low => format!("default network ACL {shown} allows all inbound traffic (as created)"),
            _ => format!("network ACL {shown} is open to the internet"),
        },
        true,
        &ev,
        config,
    )
}

fn judge_network_acl(
    acl: &Value,
    id: &str,
    config: &RuleConfig,
) -> Result<Option<(Severity, Evidence)>, CheckError> {
    let world = world_entries(acl, id)?;
    let mut admin: Vec<u16> = ec2::ADMIN_PORTS.to_vec();
    admin.extend(config.extra_admin_ports.iter().copied());
    admin.sort_unstable();
    admin.dedup();
    let mut reasons = Vec::new();
    let mut decisive: BTreeMap<i64, Value> = BTreeMap::new();
    let mut all_open = false;
    for v6 in [false, true] {
        let fam: Vec<&WorldEntry> = world.iter().filter(|e| e.v6 == v6).collect();
        let cidr = if v6 { "::/0" } else { "0.0.0.0/0" };
        // All traffic: the first allow-all, unless a deny-all comes before it.
        if let Some(allow) = fam.iter().find(|e| e.allow && e.protocol == "-1") {
            let shadow = fam
                .iter()
                .find(|e| !e.allow && e.protocol == "-1" && e.number < allow.number);
            match shadow {
                None => {
                    all_open = true;
                    reasons.push(format!(
                        "entry {} allows all inbound traffic (protocol `-1`) from `{cidr}`",
                        allow.number
                    ));
                    decisive.insert(allow.number, allow.raw.clone());
                    continue;
                }
                Some(deny) => {
                    reasons.push(format!(
                        "entry {} allows all traffic from `{cidr}` but entry {} denies all of it first",
                        allow.number, deny.number
                    ));
                }
            }
        }
        for port in &admin {
            for (proto, name) in [("6", "TCP"), ("17", "UDP")] {
                let first = fam.iter().find(|e| matches_port(e, proto, i64::from(*port)));
                if let Some(e) = first.filter(|e| e.allow) {
                    reasons.push(format!(
                        "entry {} allows inbound {name} port {port} from `{cidr}` (the lowest-numbered entry \
                         matching it)",
                        e.number
                    ));
                    decisive.insert(e.number, e.raw.clone());
                }
            }
        }
    }
    if decisive.is_empty() {
        return Ok(None);
    }
    // Only "all traffic shadowed" reasons and nothing open: quiet (handled above by `decisive`).
    let default_as_created = unchanged_default(acl, &world);
    let severity = if default_as_created {
        reasons.push(
            "this is the VPC's default network ACL with the entries AWS creates (allow all, then the final \
             deny): open by design, the subnets' security groups are the remaining control"
                .into(),
        );
        Severity::Low
    } else if all_open {
        Severity::Critical
    } else {
        Severity::High
    };
    let mut ev = evidence(reasons);
    ev.details
        .insert("entries".into(), Value::Array(decisive.into_values().collect()));
    if let Some(vpc) = str_at(acl, &["VpcId"]) {
        ev.details.insert("vpc_id".into(), json!(vpc));
    }
    if let Some(d) = at(acl, &["IsDefault"]).as_bool() {
        ev.details.insert("is_default".into(), json!(d));
    }
    Ok(Some((severity, ev)))
}

// ---------------------------------------------------------------------------------------------------------
// Data: RDS instances and clusters (`rds:DescribeDBInstances`, `rds:DescribeDBClusters`).
// ---------------------------------------------------------------------------------------------------------

/// Sweep: judges one DB instance of `region` (`DBInstance` of `DescribeDBInstances`): `rds-instance-public`
/// when `PubliclyAccessible` is true (AWS Security Hub control RDS.2: "RDS DB Instances should prohibit
/// public access, as determined by the PubliclyAccessible configuration"), `rds-storage-unencrypted` when
/// `StorageEncrypted` is false (RDS.3) for an instance outside an Aurora cluster (members take the
/// cluster's encryption, judged by [`assess_db_cluster`]). An absent member is unknown: no claim.
pub fn assess_db_instance(
    sweep: &SweepContext<'_>,
    region: &str,
    instance: &Value,
    config: &RuleConfig,
) -> Evaluation {
    let ev = event(sweep, "AssessDBInstance", region);
    let id = str_at(instance, &["DBInstanceIdentifier"])
        .unwrap_or_default()
        .to_owned();
    let resource = FindingResource {
        resource_type: "AWS::RDS::DBInstance".into(),
        arn: str_at(instance, &["DBInstanceArn"])
            .map(str::to_owned)
            .or_else(|| crate::resource_kind::arn("AWS::RDS::DBInstance", region, sweep.account, &id))
            .unwrap_or_default(),
        name: (!id.is_empty()).then(|| id.clone()),
    };
    let mut out = Evaluation::default();
    if at(instance, &["PubliclyAccessible"]) == &json!(true) {
        let e = evidence(vec![format!(
            "DB instance `{id}` has `PubliclyAccessible` true: its endpoint resolves to a public IP address"
        )]);
        let r = one(
            &rds::INSTANCE_PUBLIC,
            Ok(Some((Severity::High, e))),
            &resource,
            |_| format!("RDS instance {id} is publicly accessible"),
            true,
            &ev,
            config,
        );
        out.findings.extend(r.findings);
        out.errors.extend(r.errors);
    }
    let in_cluster = str_at(instance, &["DBClusterIdentifier"]).is_some();
    if !in_cluster && at(instance, &["StorageEncrypted"]) == &json!(false) {
        let e = evidence(vec![format!(
            "DB instance `{id}` has `StorageEncrypted` false: its storage, backups and snapshots are unencrypted"
        )]);
        let r = one(
            &rds::STORAGE_UNENCRYPTED,
            Ok(Some((Severity::Medium, e))),
            &resource,
            |_| format!("RDS instance {id} has unencrypted storage"),
            true,
            &ev,
            config,
        );
        out.findings.extend(r.findings);
        out.errors.extend(r.errors);
    }
    out
}

/// Sweep: judges one DB cluster of `region` (`DBCluster` of `DescribeDBClusters`): `rds-storage-unencrypted`
/// when `StorageEncrypted` is false (AWS Security Hub control RDS.27, "RDS DB clusters should be encrypted
/// at rest"). Whether its instances are public is judged per instance ([`assess_db_instance`]).
pub fn assess_db_cluster(
    sweep: &SweepContext<'_>,
    region: &str,
    cluster: &Value,
    config: &RuleConfig,
) -> Evaluation {
    if at(cluster, &["StorageEncrypted"]) != &json!(false) {
        return Evaluation::default();
    }
    let ev = event(sweep, "AssessDBCluster", region);
    let id = str_at(cluster, &["DBClusterIdentifier"])
        .unwrap_or_default()
        .to_owned();
    let resource = FindingResource {
        resource_type: "AWS::RDS::DBCluster".into(),
        arn: str_at(cluster, &["DBClusterArn"])
            .map(str::to_owned)
            .or_else(|| crate::resource_kind::arn("AWS::RDS::DBCluster", region, sweep.account, &id))
            .unwrap_or_default(),
        name: (!id.is_empty()).then(|| id.clone()),
    };
    let e = evidence(vec![format!(
        "DB cluster `{id}` has `StorageEncrypted` false: its storage, backups and snapshots are unencrypted"
    )]);
    one(
        &rds::STORAGE_UNENCRYPTED,
        Ok(Some((Severity::Medium, e))),
        &resource,
        |_| format!("RDS cluster {id} has unencrypted storage"),
        true,
        &ev,
        config,
    )
}

// ---------------------------------------------------------------------------------------------------------
// Data: the bucket's TLS requirement (inside `assess_bucket`).
// ---------------------------------------------------------------------------------------------------------

/// Sweep, inside [`super::assess_bucket`]: `s3-bucket-tls-not-required` at low severity for a bucket whose
/// policy (or lack of one) has no statement meeting Security Hub control S3.5 (the rule's documented
/// choice: the sweep reports every such bucket, low, so that it does not flood like a medium would).
pub(super) fn bucket_tls(
    out: &mut Evaluation,
    policy: Option<&Value>,
    resource: &FindingResource,
    bucket: &str,
    ev: &EventInfo<'_>,
    tags: Option<&BTreeMap<String, String>>,
    config: &RuleConfig,
) {
    let reason = match policy {
        None => "the bucket has no policy: no statement denies requests made without TLS".to_owned(),
        Some(doc) if crate::policy::tls::tls_required(doc, &resource.arn).is_some() => return,
        Some(_) => "the bucket policy has no statement denying requests when `aws:SecureTransport` is \
                    `false` for the bucket and its objects (Security Hub S3.5)"
            .to_owned(),
    };
    sweep_hit(
        out,
        &s3_tls::TLS_NOT_REQUIRED,
        Ok(Some((Severity::Low, evidence(vec![reason])))),
        resource,
        |_| format!("S3 bucket {bucket} does not require TLS"),
        true,
        ev,
        tags,
        config,
    );
}

// ---------------------------------------------------------------------------------------------------------
// Platform: managed nodes' patch compliance (AWS Config's `AWS::SSM::PatchCompliance` items).
// ---------------------------------------------------------------------------------------------------------

/// Sweep: judges one recorded `AWS::SSM::PatchCompliance` item of `region` (`{"resourceId", "resourceName",
/// "configuration"}`, the item's `configuration` parsed): `ssm-patch-noncompliant` when it lists patches
/// `NON_COMPLIANT`, read exactly as the event side reads the item (high for a missing `CRITICAL` patch).
pub fn assess_patch_compliance(
    sweep: &SweepContext<'_>,
    region: &str,
    item: &Value,
    config: &RuleConfig,
) -> Evaluation {
    let ev = event(sweep, "AssessPatchCompliance", region);
    let compliance = at(at(item, &["configuration"]), &["AWS:ComplianceItem"]);
    let content = ssm::patch_entries(at(compliance, &["Content"]));
    let now = ssm::non_compliant(content);
    if now.is_empty() {
        return Evaluation::default();
    }
    let raw_id = str_at(item, &["resourceId"]).or_else(|| str_at(item, &["resourceName"]));
    let node = raw_id.map(|n| n.rsplit('/').next().unwrap_or(n).to_owned());
    let resource = match node.as_deref().filter(|n| n.starts_with("i-")) {
        Some(i) => FindingResource {
            resource_type: "AWS::EC2::Instance".into(),
            arn: crate::resource_kind::arn("AWS::EC2::Instance", region, sweep.account, i)
                .unwrap_or_default(),
            name: Some(i.to_owned()),
        },
        None => FindingResource {
            resource_type: "AWS::SSM::PatchCompliance".into(),
            arn: String::new(),
            name: node.clone(),
        },
    };
    let (severity, e) = ssm::patch_evidence(&now);
    let n = node.unwrap_or_else(|| "(unknown node)".into());
    let count = now.len();
    one(
        &ssm::PATCH_NONCOMPLIANT,
        Ok(Some((severity, e))),
        &resource,
        |_| format!("managed node {n} is missing patches ({count} non-compliant)"),
        true,
        &ev,
        config,
    )
}

/// The reads the whole-account assessment makes for `rule` beyond those of the bucket, policy and role
/// sweep (the template's sweep-only read permissions are generated from these, `tripline rules --json`
/// `sweep_permissions`). Service Authorization Reference: none of these supports resource-level permissions.
pub fn sweep_permissions(rule: &str) -> &'static [&'static str] {
    match rule {
        "iam-password-policy-weakened" => &["iam:GetAccountPasswordPolicy"],
        "ec2-network-acl-open-to-world" => &["ec2:DescribeRegions", "ec2:DescribeNetworkAcls"],
        "rds-instance-public" => &["ec2:DescribeRegions", "rds:DescribeDBInstances"],
        "rds-storage-unencrypted" => &[
            "ec2:DescribeRegions",
            "rds:DescribeDBInstances",
            "rds:DescribeDBClusters",
        ],
        "ssm-patch-noncompliant" => &[
            "ec2:DescribeRegions",
            "config:ListDiscoveredResources",
            "config:BatchGetResourceConfig",
        ],
        _ => super::account_state::sweep_permissions(rule),
    }
}
