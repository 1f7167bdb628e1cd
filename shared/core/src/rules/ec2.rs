//! EC2, judged from the payload: `ec2-security-group-open-to-world`, `ec2-network-acl-open-to-world`,
//! `ec2-snapshot-public`, `ec2-image-public`.

use std::collections::BTreeSet;

use ipnet::IpNet;
use serde_json::{json, Value};

use super::payload::{self, at, bool_at, i64_at, items, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::finding::Severity;

const EC2: &str = "ec2.amazonaws.com";

/// Ports treated as administrative access by default: SSH and RDP.
pub const ADMIN_PORTS: [u16; 2] = [22, 3389];

pub static SECURITY_GROUP_OPEN: Rule = Rule {
    id: "ec2-security-group-open-to-world",
    title: "Security group opened to the internet",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: EC2,
        names: &["AuthorizeSecurityGroupIngress"],
    }],
    // AWS Config items (`AWS::EC2::SecurityGroup`) are read too (`ipv4Ranges`, `ipRanges` strings) but not
    // subscribed yet: adding the type here changes the SAM template's Config rule scope (`make template-sync`).
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A security group now accepts traffic from the whole internet (0.0.0.0/0 or ::/0) on an \
          administrative port (SSH 22, RDP 3389, or a configured port) or on every port. Internet-wide \
          scanners find such openings within minutes and brute-force them. No automatic remediation yet: \
          revoke the rule with `aws ec2 revoke-security-group-ingress` (the EC2 SDK is not a dependency of \
          remediate).",
    fires: &["cloudtrail-ec2-authorize-security-group-ingress-world-ssh.json"],
    quiet: &["cloudtrail-ec2-authorize-security-group-ingress-private-range.json"],
    check: check_security_group,
};

pub static NETWORK_ACL_OPEN: Rule = Rule {
    id: "ec2-network-acl-open-to-world",
    title: "Network ACL opened to the internet",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: EC2,
        names: &["CreateNetworkAclEntry", "ReplaceNetworkAclEntry"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "Network duty (shared-responsibility model: the customer configures VPCs, subnets, security groups \
          and network ACLs). A network ACL entry now allows inbound traffic (`egress` false, `ruleAction` \
          allow) from the whole internet (0.0.0.0/0 or ::/0) on an administrative port (SSH 22, RDP 3389, or a \
          port in `TRIPLINE_ADMIN_PORTS`: the same port policy as `ec2-security-group-open-to-world`) or on \
          every protocol (`-1`), critical then. A network ACL guards every subnet associated with it, so the \
          subnet's second line of defence is gone: one permissive security group away from exposure. Deny \
          entries and egress entries do not fire; an entry whose protocol or ports the record lacks is \
          reported as unknown reach, not confirmed. Entries are evaluated by rule number and a lower-numbered \
          deny may still block the traffic: the record does not show the other entries. The sweep reads them \
          (`DescribeNetworkAcls`, every enabled region) and evaluates them as AWS does, lowest rule number \
          first; a VPC's default ACL left as AWS creates it (allow all, then deny) is reported at low. No automatic remediation: replace or delete the entry with \
          `aws ec2 replace-network-acl-entry` / `delete-network-acl-entry`.",
    fires: &[
        "cloudtrail-ec2-create-network-acl-entry-world-ssh.json",
        "cloudtrail-ec2-replace-network-acl-entry-all-traffic-ipv6.json",
    ],
    quiet: &[
        "cloudtrail-ec2-create-network-acl-entry-deny.json",
        "cloudtrail-ec2-create-network-acl-entry-egress.json",
    ],
    check: check_network_acl,
};

pub static SNAPSHOT_PUBLIC: Rule = Rule {
    id: "ec2-snapshot-public",
    title: "EBS snapshot made public",
    severity: Severity::Critical,
    cloudtrail: &[Trigger {
        source: EC2,
        names: &["ModifySnapshotAttribute"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "An EBS snapshot's create-volume permission was granted to `all`: any AWS account can create a \
          volume from it and read the whole disk, including secrets and data on it. No automatic \
          remediation yet: remove `all` with `aws ec2 modify-snapshot-attribute` (the EC2 SDK is not a \
          dependency of remediate).",
    fires: &["cloudtrail-ec2-modify-snapshot-attribute-all.json"],
    quiet: &["cloudtrail-ec2-modify-snapshot-attribute-account.json"],
    check: check_snapshot,
};

pub static IMAGE_PUBLIC: Rule = Rule {
    id: "ec2-image-public",
    title: "AMI made public",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: EC2,
        names: &["ModifyImageAttribute"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "An AMI's launch permission was granted to `all`: any AWS account can launch it and read its \
          disks, which often hold credentials, keys and application code. No automatic remediation yet: \
          remove `all` with `aws ec2 modify-image-attribute` (the EC2 SDK is not a dependency of \
          remediate).",
    fires: &["cloudtrail-ec2-modify-image-attribute-public.json"],
    quiet: &["cloudtrail-ec2-modify-image-attribute-account.json"],
    check: check_image,
};

/// One ingress permission opened to the world. `protocol` and the ports are `None` when the record does not
/// include them: unknown, never assumed to be "all" (`path` is where the permission sits in the record).
pub(super) struct Opening {
    protocol: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    cidr: String,
    path: String,
}

fn is_world(cidr: &str) -> bool {
    cidr.trim().parse::<IpNet>().is_ok_and(|n| n.prefix_len() == 0)
}

/// The permissions of the request with a world CIDR: the CLI's short form (top-level `cidrIp`,
/// `fromPort`, `toPort`, `ipProtocol`) and the long form (`ipPermissions.items[]` with
/// `ipRanges.items[].cidrIp` and `ipv6Ranges.items[].cidrIpv6`). `root` names `req` in the record
/// (`requestParameters`, or `configuration` for a Config item).
fn world_openings(req: &Value, root: &str) -> Vec<Opening> {
    let mut out = Vec::new();
    if let Some(cidr) = str_at(req, &["cidrIp"]).filter(|c| is_world(c)) {
        out.push(Opening {
            protocol: str_at(req, &["ipProtocol"]).map(str::to_owned),
            from: i64_at(req, &["fromPort"]),
            to: i64_at(req, &["toPort"]),
            cidr: cidr.to_owned(),
            path: root.to_owned(),
        });
    }
    let listed = at(req, &["ipPermissions", "items"]).is_array();
    for (i, perm) in items(at(req, &["ipPermissions"])).into_iter().enumerate() {
        let protocol = match at(perm, &["ipProtocol"]) {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        // CloudTrail: `ipRanges.items[].cidrIp`; AWS Config items: `ipv4Ranges[].cidrIp` and `ipRanges` as
        // a list of CIDR strings.
        let v4 = items(at(perm, &["ipRanges"]))
            .into_iter()
            .chain(items(at(perm, &["ipv4Ranges"])))
            .filter_map(|r| r.as_str().or_else(|| str_at(r, &["cidrIp"])));
        let v6 = items(at(perm, &["ipv6Ranges"]))
            .into_iter()
            .filter_map(|r| str_at(r, &["cidrIpv6"]));
        let cidrs: BTreeSet<&str> = v4.chain(v6).filter(|c| is_world(c)).collect();
        let path = if listed {
            format!("{root}.ipPermissions.items[{i}]")
        } else {
            format!("{root}.ipPermissions[{i}]")
        };
        for cidr in cidrs {
            out.push(Opening {
                protocol: protocol.clone(),
                from: i64_at(perm, &["fromPort"]),
                to: i64_at(perm, &["toPort"]),
                cidr: cidr.to_owned(),
                path: path.clone(),
            });
        }
    }
    out
}

/// The administrative ports of the port policy: [`ADMIN_PORTS`] and `TRIPLINE_ADMIN_PORTS`.
fn admin_ports(config: &crate::settings::RuleConfig) -> BTreeSet<u16> {
    ADMIN_PORTS
        .iter()
        .copied()
        .chain(config.extra_admin_ports.iter().copied())
        .collect()
}

/// What an opening exposes.
enum Exposed {
    /// `(all ports, exposed admin ports)`.
    Ports(bool, Vec<u16>),
    /// The record does not include the protocol or the ports (the fields it lacks): a world-open
    /// permission whose reach is unknown.
    Unknown(Vec<&'static str>),
}

/// What an opening exposes, if it matters.
fn exposure(o: &Opening, admin: &BTreeSet<u16>) -> Option<Exposed> {
    let Some(protocol) = &o.protocol else {
        return Some(Exposed::Unknown(vec!["ipProtocol"]));
    };
    let proto = protocol.to_ascii_lowercase();
    // `-1` (or `all`) is every protocol and every port (EC2 API Reference, `IpPermission.IpProtocol`).
    if proto == "-1" || proto == "all" {
        return Some(Exposed::Ports(true, admin.iter().copied().collect()));
    }
    // Ports only mean ports for TCP (6) and UDP (17); for ICMP they are type and code.
    if !matches!(proto.as_str(), "tcp" | "udp" | "6" | "17") {
        return None;
    }
    let (from, to) = match (o.from, o.to) {
        (Some(f), Some(t)) => (f, t),
        (f, t) => {
            let lacking = [("fromPort", f), ("toPort", t)]
                .into_iter()
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| k)
                .collect();
            return Some(Exposed::Unknown(lacking));
        }
    };
    let all = from <= 0 && to >= 65535 || from == -1;
    let ports: Vec<u16> = admin
        .iter()
        .copied()
        .filter(|p| all || (from..=to).contains(&i64::from(*p)))
        .collect();
    (all || !ports.is_empty()).then_some(Exposed::Ports(all, ports))
}

/// The judgement of a group's world-open permissions, shared by the event rule and the sweep: `None` when
/// none matters; else the severity (critical when every port is open), the evidence and whether it is
/// confirmed (false when a permission lacks its protocol or ports, named in `details.record_lacks`).
pub(super) fn judge_openings(
    openings: Vec<Opening>,
    config: &crate::settings::RuleConfig,
) -> Option<(Severity, crate::finding::Evidence, bool)> {
    let admin = admin_ports(config);
    let mut evidence = payload::reasons(Vec::new());
    let mut any_all = false;
    let mut open = Vec::new();
    let mut lacks: Vec<String> = Vec::new();
    for o in openings {
        let Some(exposed) = exposure(&o, &admin) else {
            continue;
        };
        match exposed {
            Exposed::Ports(all, ports) => {
                any_all |= all;
                let range = match (o.from, o.to) {
                    _ if all => "all ports".to_owned(),
                    (Some(f), Some(t)) if f == t => format!("port {f}"),
                    (Some(f), Some(t)) => format!("ports {f}-{t}"),
                    _ => "ports".to_owned(),
                };
                evidence.reasons.push(format!(
                    "`{}` may reach {range} over `{}`{}",
                    o.cidr,
                    o.protocol.as_deref().unwrap_or_default(),
                    if all || ports.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (admin ports {})",
                            ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
                        )
                    }
                ));
            }
            Exposed::Unknown(fields) => {
                let paths: Vec<String> = fields.iter().map(|f| format!("{}.{f}", o.path)).collect();
                evidence.reasons.push(format!(
                    "`{}` may reach the group, over protocols and ports that are unknown: {}",
                    o.cidr,
                    payload::lacks_each(&paths)
                ));
                lacks.extend(paths);
            }
        }
        open.push(json!({"cidr": o.cidr, "protocol": o.protocol, "from_port": o.from, "to_port": o.to}));
    }
    if open.is_empty() {
        return None;
    }
    evidence.details.insert("openings".into(), Value::Array(open));
    if !lacks.is_empty() {
        evidence
            .details
            .insert("record_lacks".into(), json!(lacks.clone()));
    }
    let severity = if any_all {
        Severity::Critical
    } else {
        Severity::High
    };
    Some((severity, evidence, lacks.is_empty()))
}

/// The world-open permissions of a `SecurityGroup` as `DescribeSecurityGroups` answers (EC2 API Reference,
/// `IpPermission`: `IpProtocol`, `FromPort`, `ToPort`, `IpRanges[].CidrIp`, `Ipv6Ranges[].CidrIpv6`), the
/// sweep's shape (`root` names the group in the answer).
pub(super) fn api_world_openings(group: &Value, root: &str) -> Vec<Opening> {
    let mut out = Vec::new();
    for (i, perm) in items(at(group, &["IpPermissions"])).into_iter().enumerate() {
        let protocol = match at(perm, &["IpProtocol"]) {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let v4 = items(at(perm, &["IpRanges"]))
            .into_iter()
            .filter_map(|r| str_at(r, &["CidrIp"]));
        let v6 = items(at(perm, &["Ipv6Ranges"]))
            .into_iter()
            .filter_map(|r| str_at(r, &["CidrIpv6"]));
        let cidrs: BTreeSet<&str> = v4.chain(v6).filter(|c| is_world(c)).collect();
        for cidr in cidrs {
            out.push(Opening {
                protocol: protocol.clone(),
                from: i64_at(perm, &["FromPort"]),
                to: i64_at(perm, &["ToPort"]),
                cidr: cidr.to_owned(),
                path: format!("{root}.IpPermissions[{i}]"),
            });
        }
    }
    out
}

fn check_security_group(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    // A Config item carries the group's whole current configuration (same `ipPermissions` shape).
    let (req, root) = match c.source {
        crate::change::ChangeSource::CloudTrail => (payload::req(c), "requestParameters"),
        _ => (payload::configuration(c), "configuration"),
    };
    let Some((severity, evidence, confirmed)) = judge_openings(world_openings(req, root), ctx.config) else {
        return Ok(Vec::new());
    };
    let group = str_at(req, &["groupId"]).or_else(|| str_at(req, &["groupName"]));
    // Security group ARNs carry the id; a group named only by `groupName` has no derivable ARN.
    let resource = payload::resource(c, "AWS::EC2::SecurityGroup", group, |g| {
        if g.starts_with("sg-") {
            payload::arn_in(c, "AWS::EC2::SecurityGroup", g)
        } else {
            String::new()
        }
    });
    let g = resource.name_or_unknown().to_owned();
    let mut hit = payload::payload_hit(
        resource,
        severity,
        format!("security group {g} opened to the internet by {}", payload::who(c)),
        evidence,
    );
    // What the record lacks is unknown: the finding is not confirmed.
    hit.state_confirmed = confirmed;
    Ok(vec![hit])
}

/// A network ACL entry (`CreateNetworkAclEntry` / `ReplaceNetworkAclEntry`): CloudTrail logs `networkAclId`,
/// `ruleNumber`, `egress`, `ruleAction`, `aclProtocol` (the API's `Protocol`: a protocol number or `-1`),
/// `portRange.from` / `portRange.to`, `cidrBlock` or `ipv6CidrBlock`. Judged with the security-group rule's
/// port policy ([`exposure`]).
fn check_network_acl(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    // Egress entries and deny entries never open inbound access; a record without `egress` or `ruleAction`
    // (both required by the API) cannot be judged.
    let egress = bool_at(payload::require(req, &["egress"])?, &[]);
    let action = payload::require(req, &["ruleAction"])?.as_str();
    if egress != Some(false) || !action.is_some_and(|a| a.eq_ignore_ascii_case("allow")) {
        return Ok(Vec::new());
    }
    let cidrs: Vec<&str> = ["cidrBlock", "ipv6CidrBlock"]
        .iter()
        .filter_map(|k| str_at(req, &[k]))
        .filter(|c| is_world(c))
        .collect();
    let Some(cidr) = cidrs.first() else {
        return Ok(Vec::new());
    };
    let (proto_key, protocol) = match (at(req, &["aclProtocol"]), at(req, &["protocol"])) {
        (Value::Null, Value::Null) => ("aclProtocol", None),
        (Value::Null, p) => ("protocol", Some(p)),
        (p, _) => ("aclProtocol", Some(p)),
    };
    let protocol = protocol.and_then(|p| match p {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let opening = Opening {
        protocol,
        from: i64_at(req, &["portRange", "from"]),
        to: i64_at(req, &["portRange", "to"]),
        cidr: (*cidr).to_owned(),
        path: "requestParameters".into(),
    };
    let admin = admin_ports(ctx.config);
    let Some(exposed) = exposure(&opening, &admin) else {
        return Ok(Vec::new());
    };
    let id = str_at(req, &["networkAclId"]);
    let resource = payload::registered(c, "AWS::EC2::NetworkAcl", id);
    let n = resource.name_or_unknown().to_owned();
    let rule_number = i64_at(req, &["ruleNumber"]);
    let entry = match rule_number {
        Some(r) => format!("entry {r}"),
        None => "an entry".to_owned(),
    };
    let mut evidence = payload::reasons(Vec::new());
    let mut lacks: Vec<String> = Vec::new();
    let severity = match exposed {
        Exposed::Ports(all, ports) => {
            let range = match (opening.from, opening.to) {
                _ if all => "every port".to_owned(),
                (Some(f), Some(t)) if f == t => format!("port {f}"),
                (Some(f), Some(t)) => format!("ports {f}-{t}"),
                _ => "ports".to_owned(),
            };
            evidence.reasons.push(format!(
                "{entry} of {} allows inbound traffic from `{}` to {range} over protocol `{}`{}",
                payload::quoted_name(&resource, "requestParameters.networkAclId"),
                opening.cidr,
                opening.protocol.as_deref().unwrap_or_default(),
                if all || ports.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (admin ports {})",
                        ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
                    )
                }
            ));
            if all {
                Severity::Critical
            } else {
                Severity::High
            }
        }
        Exposed::Unknown(fields) => {
            let paths: Vec<String> = fields
                .iter()
                .map(|f| match *f {
                    "ipProtocol" => format!("requestParameters.{proto_key}"),
                    other => format!("requestParameters.portRange.{}", other.trim_end_matches("Port")),
                })
                .collect();
            evidence.reasons.push(format!(
                "{entry} allows inbound traffic from `{}`, over protocols or ports that are unknown: {}",
                opening.cidr,
                payload::lacks_each(&paths)
            ));
            lacks.extend(paths);
            Severity::High
        }
    };
    evidence.details.insert(
        "entry".into(),
        json!({"rule_number": rule_number, "cidr": opening.cidr, "protocol": opening.protocol,
               "from_port": opening.from, "to_port": opening.to}),
    );
    if !lacks.is_empty() {
        evidence.details.insert("record_lacks".into(), json!(lacks));
    }
    let mut hit = payload::payload_hit(
        resource,
        severity,
        format!("network ACL {n} opened to the internet by {}", payload::who(c)),
        evidence,
    );
    hit.state_confirmed = lacks.is_empty();
    Ok(vec![hit])
}

/// Whether a `{add: {items: [{group: "all"}]}}` permission change adds the `all` group.
fn adds_all(perm: &Value) -> bool {
    items(at(perm, &["add"]))
        .iter()
        .any(|i| str_at(i, &["group"]) == Some("all"))
}

fn check_snapshot(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    if !adds_all(at(req, &["createVolumePermission"])) {
        return Ok(Vec::new());
    }
    let id = str_at(req, &["snapshotId"]);
    let resource = payload::registered(c, "AWS::EC2::Snapshot", id);
    let s = resource.name_or_unknown().to_owned();
    let mut evidence = payload::reasons(vec![format!(
        "create-volume permission on {} granted to group `all` (every AWS account)",
        payload::quoted_name(&resource, "requestParameters.snapshotId")
    )]);
    evidence
        .statements
        .push(at(req, &["createVolumePermission"]).clone());
    Ok(vec![payload::payload_hit(
        resource,
        Severity::Critical,
        format!("EBS snapshot {s} made public by {}", payload::who(c)),
        evidence,
    )])
}

fn check_image(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    if !adds_all(at(req, &["launchPermission"])) {
        return Ok(Vec::new());
    }
    let id = str_at(req, &["imageId"]);
    let resource = payload::registered(c, "AWS::EC2::Image", id);
    let i = resource.name_or_unknown().to_owned();
    let mut evidence = payload::reasons(vec![format!(
        "launch permission on {} granted to group `all` (every AWS account)",
        payload::quoted_name(&resource, "requestParameters.imageId")
    )]);
    evidence.statements.push(at(req, &["launchPermission"]).clone());
    Ok(vec![payload::payload_hit(
        resource,
        Severity::High,
        format!("AMI {i} made public by {}", payload::who(c)),
        evidence,
    )])
}
