//! Tests of `template.yaml` and `member-template.yaml` against the rule registry and Tripline's own engine.
//!
//! - The EventBridge patterns and the Config rule scope equal what the registry declares (`tripline patterns`).
//! - Self-audit: every role's policies go through `tripline policy escalation` (Tripline must not grant itself
//!   an escalation path) and every resource policy and trust policy through `tripline policy public`.
//! - Each function's role allows exactly what the function calls (the table [`CALLS`] plus the registry's
//!   read and remediation permissions from `tripline rules --json`).
//! - Structure a security reviewer checks: encryption, dead-letter queues, retries, alarms, log retention,
//!   parameter validation.
//!
//! The templates use the long form of intrinsic functions (`Ref:`, `Fn::Sub:`), so they parse as plain YAML;
//! [`Stack`] evaluates them for given parameter values, like CloudFormation would (conditions included).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Map, Value};

const ACCOUNT: &str = "111122223333";
const CENTRAL_ACCOUNT: &str = "999988887777";
const REGION: &str = "eu-west-1";
const ORG: &str = "o-a1b2c3d4e5";

const FUNCTIONS: &[&str] = &[
    "on-cloudtrail",
    "on-config",
    "sweep",
    "sweep-worker",
    "remediate",
    "notify-slack",
];

/// What every function's role needs to run at all: its own log stream, the shared dead-letter queue of
/// failed asynchronous invocations, and the customer managed key that encrypts the topic and the queues.
const RUNTIME: &[&str] = &[
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:SendMessage",
    "kms:GenerateDataKey",
    "kms:Decrypt",
];

/// The whole-account assessment (`shared/aws/src/handlers/sweep.rs`): lists every bucket, customer managed
/// policy and role (trust policies come with ListRoles) and reads what every rule needs of each.
const ASSESSMENT: &[&str] = &[
    "s3:ListAllMyBuckets",
    "iam:ListPolicies",
    "iam:ListRoles",
    "s3:GetBucketPolicy",
    "s3:GetBucketAcl",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketTagging",
    "s3:GetAccountPublicAccessBlock",
    "iam:GetPolicyVersion",
    "iam:ListPolicyTags",
    "iam:ListRoleTags",
    "s3:GetBucketLocation",
];

/// What the shell reads besides the rules' declared needs whenever it reads state: exemption tags of roles
/// and policies, and a bucket's region when S3 answers from the wrong one (`shared/aws/src/{iam,s3}.rs`).
const SHELL_READS: &[&str] = &["iam:ListRoleTags", "iam:ListPolicyTags", "s3:GetBucketLocation"];

/// What one function calls, besides [`RUNTIME`].
struct Calls {
    function: &'static str,
    own: &'static [&'static str],
    /// Reads the state the triggered rules need (the registry's read permissions).
    rule_reads: bool,
    /// Runs the whole-account assessment ([`ASSESSMENT`]).
    assessment: bool,
    /// Makes the write calls of the enforced remediations.
    remediation_writes: bool,
    /// Assumes member roles when the organization is set.
    member_role: bool,
    /// Lists the organization's accounts for the zone of trust when the organization is set
    /// (`ListOrganizationMembers`, default true; shared/aws/src/org_members.rs).
    org_members: bool,
    /// With an organization, what the function calls instead of `own` and the assessment (the sweep
    /// becomes the planner of the organization-wide sweep); `None`: the same with or without.
    org: Option<&'static [&'static str]>,
}

/// Source: the handlers in `shared/aws/src/handlers/` wired by `functions/<name>/src/main.rs`.
const CALLS: &[Calls] = &[
    // With the findings store (EnableFindingsStore, default true): shared/aws/src/sdk/dynamodb.rs.
    Calls {
        function: "on-cloudtrail",
        own: &[
            "sns:Publish",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
        ],
        rule_reads: true,
        assessment: false,
        remediation_writes: false,
        member_role: true,
        org_members: true,
        org: None,
    },
    // PutEvaluations with the invocation's result token; oversized items are fetched from the Config
    // bucket; ScheduledNotification runs the whole-account assessment.
    Calls {
        function: "on-config",
        own: &[
            "sns:Publish",
            "config:PutEvaluations",
            "s3:GetObject",
            // The findings store (issue 14), as on-cloudtrail.
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
        ],
        rule_reads: true,
        assessment: true,
        remediation_writes: false,
        member_role: false,
        org_members: true,
        org: None,
    },
    // This account only; with an organization, the planner (shared/aws/src/handlers/sweep_planner.rs):
    // ListAccounts, the plan in the run table, one message per shard.
    Calls {
        function: "sweep",
        own: &[
            "sns:Publish",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:Scan",
        ],
        rule_reads: false,
        assessment: true,
        remediation_writes: false,
        member_role: false,
        org_members: false,
        org: Some(&[
            "organizations:ListAccounts",
            "sqs:SendMessage",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:BatchWriteItem",
        ]),
    },
    // The organization-wide sweep's shards (shared/aws/src/handlers/sweep_worker.rs): the event source
    // mapping's queue calls, the run table, the assessment in this account, member-read elsewhere.
    Calls {
        function: "sweep-worker",
        own: &[
            "sns:Publish",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            // The findings store (issue 14): the shard's lifecycle, as the sweep's.
            "dynamodb:PutItem",
            "dynamodb:Scan",
        ],
        rule_reads: false,
        assessment: true,
        remediation_writes: false,
        member_role: true,
        org_members: true,
        org: None,
    },
    // Re-reads the state before planning, again just before writing, and when verifying, in every mode
    // (REMEDIATE_READS); claims one attempt per cool-down in its table; publishes every outcome. Acts in a
    // member account only through `<prefix>-member-remediate` (functions/remediate/src/main.rs).
    Calls {
        function: "remediate",
        own: &[
            "sns:Publish",
            "iam:GetRole",
            "iam:ListAttachedRolePolicies",
            "iam:ListAttachedUserPolicies",
            "iam:ListAttachedGroupPolicies",
            "s3:GetBucketPolicy",
            "s3:GetBucketAcl",
            "dynamodb:PutItem",
            "dynamodb:GetItem",
            // The findings store: outcomes recorded on the lifecycle (issue 14).
            "dynamodb:Query",
        ],
        rule_reads: true,
        assessment: false,
        remediation_writes: true,
        member_role: true,
        org_members: false,
        org: None,
    },
    // Reads the webhook URL once at cold start.
    Calls {
        function: "notify-slack",
        own: &["secretsmanager:GetSecretValue"],
        rule_reads: false,
        assessment: false,
        remediation_writes: false,
        member_role: false,
        org_members: false,
        org: None,
    },
];

/// The environment variables the functions understand (COMMON.md, `shared/core/src/settings.rs`).
const ENV_VARS: &[&str] = &[
    "TRIPLINE_ALERT_TOPIC_ARN",
    "TRIPLINE_REMEDIATION_MODE",
    "TRIPLINE_REMEDIATION_RULES",
    "TRIPLINE_TRUSTED_ACCOUNT_IDS",
    "TRIPLINE_ORGANIZATION_ID",
    "TRIPLINE_EXEMPT_TAG_KEY",
    "TRIPLINE_NAME_PREFIX",
    "TRIPLINE_ADMIN_PORTS",
    "TRIPLINE_PASSWORD_BASELINE",
    "TRIPLINE_ALLOW_LIST",
    "TRIPLINE_SLACK_SECRET_ARN",
    "TRIPLINE_SLACK_MIN_SEVERITY",
    "TRIPLINE_MEMBER_ROLE_NAME",
    "TRIPLINE_MEMBER_EXTERNAL_ID",
    "TRIPLINE_SWEEP_CONCURRENCY",
    "TRIPLINE_REMEDIATION_ROLE_ARN",
    "TRIPLINE_REMEDIATION_ATTEMPTS_TABLE",
    "TRIPLINE_REMEDIATION_COOLDOWN_SECONDS",
    "TRIPLINE_SHARD_QUEUE_URL",
    "TRIPLINE_RUNS_TABLE",
    "TRIPLINE_REGIONS",
    "TRIPLINE_ACCOUNTS",
    "TRIPLINE_ORGANIZATION_ROLE_ARN",
    "TRIPLINE_SHARD_MAX_RECEIVES",
    "TRIPLINE_FINDINGS_TABLE",
    "TRIPLINE_RENOTIFY_AFTER",
    "TRIPLINE_RESOLVED_TTL_DAYS",
    "TRIPLINE_SECURITYHUB_IMPORT",
    "TRIPLINE_ORGANIZATION_MEMBERS",
];

// ---------------------------------------------------------------------------------------------------------
// Helpers: files, the `tripline` binary, the registry.
// ---------------------------------------------------------------------------------------------------------

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join(name)).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{name} is not plain YAML: {e}"))
}

fn tripline(args: &[&str], stdin: Option<&Value>) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tripline"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(v) = stdin {
            input
                .write_all(serde_json::to_string(v).unwrap().as_bytes())
                .unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "tripline {args:?} failed: {}\ninput: {}",
        String::from_utf8_lossy(&out.stderr),
        stdin.map(Value::to_string).unwrap_or_default()
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Registry {
    patterns: BTreeMap<String, Value>,
    config_types: Vec<String>,
    /// Union of the rules' read permissions.
    reads: BTreeSet<String>,
    /// Union of the rules' sweep-only reads (`sweep_permissions`: the customer-duty families).
    sweep_reads: BTreeSet<String>,
    /// rule id -> its remediation's write permissions.
    remediations: BTreeMap<String, BTreeSet<String>>,
}

fn registry() -> Registry {
    let patterns = serde_json::from_value(tripline(&["patterns"], None)).unwrap();
    let config_types =
        serde_json::from_value(tripline(&["patterns", "--config-resource-types"], None)).unwrap();
    let rules = tripline(&["rules", "--json"], None);
    let mut reads = BTreeSet::new();
    let mut sweep_reads = BTreeSet::new();
    let mut remediations = BTreeMap::new();
    for rule in rules.as_array().unwrap() {
        for p in rule["sweep_permissions"].as_array().unwrap() {
            sweep_reads.insert(p.as_str().unwrap().to_owned());
        }
        for p in rule["permissions"].as_array().unwrap() {
            reads.insert(p.as_str().unwrap().to_owned());
        }
        if let Some(r) = rule["remediation"].as_object() {
            let perms = r["permissions"].as_array().unwrap();
            remediations.insert(
                rule["id"].as_str().unwrap().to_owned(),
                perms.iter().map(|p| p.as_str().unwrap().to_owned()).collect(),
            );
        }
    }
    Registry {
        patterns,
        config_types,
        reads,
        sweep_reads,
        remediations,
    }
}

// ---------------------------------------------------------------------------------------------------------
// A small CloudFormation evaluator: parameters, pseudo parameters, conditions and the intrinsic functions
// the templates use. Resource references evaluate to recognisable fake ARNs.
// ---------------------------------------------------------------------------------------------------------

struct Stack<'a> {
    template: &'a Value,
    params: BTreeMap<String, String>,
    conditions: BTreeMap<String, bool>,
}

impl<'a> Stack<'a> {
    fn new(template: &'a Value, overrides: &[(&str, String)]) -> Self {
        let mut params = BTreeMap::new();
        for (name, p) in template["Parameters"].as_object().unwrap() {
            let default = match &p["Default"] {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            if let Some(d) = default {
                params.insert(name.clone(), d);
            }
        }
        for (k, v) in overrides {
            assert!(template["Parameters"].get(*k).is_some(), "no parameter `{k}`");
            params.insert((*k).to_owned(), v.clone());
        }
        let mut stack = Stack {
            template,
            params,
            conditions: BTreeMap::new(),
        };
        if let Some(conds) = template.get("Conditions").and_then(Value::as_object) {
            for name in conds.keys() {
                let value = stack.condition(name);
                stack.conditions.insert(name.clone(), value);
            }
        }
        stack
    }

    fn condition(&self, name: &str) -> bool {
        if let Some(v) = self.conditions.get(name) {
            return *v;
        }
        let expr = &self.template["Conditions"][name];
        assert!(!expr.is_null(), "unknown condition `{name}`");
        self.cond(expr)
    }

    fn cond(&self, expr: &Value) -> bool {
        let (f, args) = single(expr).unwrap_or_else(|| panic!("not a condition: {expr}"));
        match f {
            "Condition" => self.condition(args.as_str().unwrap()),
            "Fn::Equals" => {
                let a = args.as_array().unwrap();
                self.eval(&a[0]) == self.eval(&a[1])
            }
            "Fn::Not" => !self.cond(&args[0]),
            "Fn::And" => args.as_array().unwrap().iter().all(|c| self.cond(c)),
            "Fn::Or" => args.as_array().unwrap().iter().any(|c| self.cond(c)),
            _ => panic!("unsupported condition function `{f}`"),
        }
    }

    fn resource_type(&self, logical: &str) -> Option<&str> {
        self.template["Resources"].get(logical)?["Type"].as_str()
    }

    /// Resources of `kind` that exist for these parameters: (logical id, evaluated properties).
    fn resources(&self, kind: &str) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for (logical, r) in self.template["Resources"].as_object().unwrap() {
            if r["Type"] != kind {
                continue;
            }
            if let Some(c) = r.get("Condition").and_then(Value::as_str) {
                if !self.condition(c) {
                    continue;
                }
            }
            let props = self.eval(&r["Properties"]).unwrap_or(Value::Null);
            out.push((logical.clone(), props));
        }
        out
    }

    fn resource(&self, logical: &str) -> Value {
        let r = &self.template["Resources"][logical];
        assert!(!r.is_null(), "no resource `{logical}`");
        self.eval(&r["Properties"]).unwrap()
    }

    fn reference(&self, name: &str) -> Option<Value> {
        let s = match name {
            "AWS::NoValue" => return None,
            "AWS::AccountId" => ACCOUNT.to_owned(),
            "AWS::Region" => REGION.to_owned(),
            "AWS::Partition" => "aws".to_owned(),
            "AWS::StackName" => "tripline".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            _ => {
                if let Some(p) = self.params.get(name) {
                    p.clone()
                } else {
                    match self.resource_type(name) {
                        Some("AWS::SNS::Topic") => format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}"),
                        Some("AWS::IAM::ManagedPolicy") => format!("arn:aws:iam::{ACCOUNT}:policy/{name}"),
                        Some("AWS::SQS::Queue") => {
                            format!("https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}")
                        }
                        Some(_) => name.to_owned(),
                        None => panic!("`Ref: {name}`: no such parameter or resource"),
                    }
                }
            }
        };
        Some(Value::String(s))
    }

    fn attribute(&self, logical: &str, attr: &str) -> Value {
        let kind = self
            .resource_type(logical)
            .unwrap_or_else(|| panic!("`Fn::GetAtt: {logical}.{attr}`: no such resource"));
        let s = match (kind, attr) {
            (_, "QueueName" | "TopicName") => logical.to_owned(),
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{ACCOUNT}:role/{logical}"),
            ("AWS::KMS::Key", "Arn") => format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{logical}"),
            ("AWS::Logs::LogGroup", "Arn") => {
                format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{logical}:*")
            }
            ("AWS::Events::Rule", "Arn") => format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{logical}"),
            ("AWS::Serverless::Function", "Arn") => {
                format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical}")
            }
            (_, "Arn") => {
                let service = kind.split("::").nth(1).unwrap().to_ascii_lowercase();
                format!("arn:aws:{service}:{REGION}:{ACCOUNT}:{logical}")
            }
            _ => panic!("unsupported attribute `{logical}.{attr}`"),
        };
        Value::String(s)
    }

    fn sub(&self, text: &str, vars: &Map<String, Value>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').unwrap() + start;
            let name = &rest[start + 2..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                out.push_str(self.eval(v).unwrap().as_str().unwrap());
            } else if let Some((res, attr)) = name.split_once('.') {
                out.push_str(self.attribute(res, attr).as_str().unwrap());
            } else {
                let v = self.reference(name).unwrap();
                out.push_str(v.as_str().unwrap());
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Evaluates a template fragment; `None` is `AWS::NoValue` (dropped from the enclosing map or list).
    fn eval(&self, v: &Value) -> Option<Value> {
        if let Some((f, args)) = single(v) {
            return match f {
                "Ref" => self.reference(args.as_str().unwrap()),
                "Fn::GetAtt" => {
                    let (res, attr) = match args {
                        Value::String(s) => {
                            let (r, a) = s.split_once('.').unwrap();
                            (r.to_owned(), a.to_owned())
                        }
                        _ => (
                            args[0].as_str().unwrap().to_owned(),
                            args[1].as_str().unwrap().to_owned(),
                        ),
                    };
                    Some(self.attribute(&res, &attr))
                }
                "Fn::Sub" => {
                    let (text, vars) = match args {
                        Value::String(s) => (s.as_str(), Map::new()),
                        _ => (
                            args[0].as_str().unwrap(),
                            args[1].as_object().cloned().unwrap_or_default(),
                        ),
                    };
                    Some(Value::String(self.sub(text, &vars)))
                }
                "Fn::If" => {
                    let a = args.as_array().unwrap();
                    let chosen = if self.condition(a[0].as_str().unwrap()) {
                        &a[1]
                    } else {
                        &a[2]
                    };
                    self.eval(chosen)
                }
                "Fn::Join" => {
                    let a = args.as_array().unwrap();
                    let items = self.eval(&a[1]).unwrap();
                    let parts: Vec<String> = items
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| i.as_str().unwrap().to_owned())
                        .collect();
                    Some(Value::String(parts.join(a[0].as_str().unwrap())))
                }
                "Fn::Split" => {
                    let a = args.as_array().unwrap();
                    let text = self.eval(&a[1]).unwrap();
                    let parts = text.as_str().unwrap().split(a[0].as_str().unwrap());
                    Some(Value::Array(parts.map(|p| Value::String(p.to_owned())).collect()))
                }
                "Fn::FindInMap" => {
                    let a: Vec<Value> = args
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| self.eval(x).unwrap())
                        .collect();
                    let found = &self.template["Mappings"][a[0].as_str().unwrap()][a[1].as_str().unwrap()]
                        [a[2].as_str().unwrap()];
                    assert!(!found.is_null(), "Fn::FindInMap {a:?}: no such entry");
                    Some(found.clone())
                }
                _ => panic!("unsupported intrinsic function `{f}`"),
            };
        }
        match v {
            Value::Object(m) => Some(Value::Object(
                m.iter()
                    .filter_map(|(k, x)| self.eval(x).map(|e| (k.clone(), e)))
                    .collect(),
            )),
            Value::Array(a) => Some(Value::Array(a.iter().filter_map(|x| self.eval(x)).collect())),
            other => Some(other.clone()),
        }
    }
}

/// `{"Ref": ..}` / `{"Fn::X": ..}` / `{"Condition": ..}`: the function name and its argument.
fn single(v: &Value) -> Option<(&str, &Value)> {
    let m = v.as_object()?;
    if m.len() != 1 {
        return None;
    }
    let (k, a) = m.iter().next()?;
    (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then_some((k.as_str(), a))
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
        _ => panic!("expected a string or a list of strings, got {v}"),
    }
}

fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        other => panic!("bad Statement: {other}"),
    }
}

/// A glob (`*`, `?`) as an anchored regex.
fn glob(pattern: &str) -> regex::Regex {
    let mut re = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).unwrap()
}

// ---------------------------------------------------------------------------------------------------------
// Parameter sets.
// ---------------------------------------------------------------------------------------------------------

/// Parameter overrides: (name, value).
type Params = Vec<(&'static str, String)>;

fn central_params(mode: &str, rules: &str) -> Params {
    vec![
        ("AlertEmail", "security@example.com".to_owned()),
        (
            "SlackWebhookSecretArn",
            format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:tripline/slack-AbCdEf"),
        ),
        ("RemediationMode", mode.to_owned()),
        ("RemediationRules", rules.to_owned()),
        ("OrganizationId", ORG.to_owned()),
        ("MemberExternalId", "an-external-id-of-enough-length".to_owned()),
    ]
}

/// Every optional part on: e-mail, Slack, organization, enforcement of every rule that has a remediation.
fn central_all_on(reg: &Registry) -> Params {
    let ids: Vec<&str> = reg.remediations.keys().map(String::as_str).collect();
    central_params("enforce", &ids.join(","))
}

fn member_all_on() -> Params {
    vec![
        ("CentralAccountId", CENTRAL_ACCOUNT.to_owned()),
        ("CentralRegion", "us-east-1".to_owned()),
        ("OrganizationId", ORG.to_owned()),
        ("MemberExternalId", "an-external-id-of-enough-length".to_owned()),
        ("OpsEmail", "ops@example.com".to_owned()),
        ("RolesRegion", REGION.to_owned()),
        ("EnableRemediationRole", "true".to_owned()),
    ]
}

// ---------------------------------------------------------------------------------------------------------
// (a) The templates agree with the registry.
// ---------------------------------------------------------------------------------------------------------

#[test]
fn eventbridge_patterns_equal_the_registry() {
    let reg = registry();
    assert!(!reg.patterns.is_empty(), "`tripline patterns` printed no pattern");
    // (file, rule-name infix before the service short name, parameters)
    let cases: [(&str, &str, Params); 2] = [
        ("template.yaml", "-cloudtrail-", central_all_on(&reg)),
        ("member-template.yaml", "-forward-", member_all_on()),
    ];
    for (file, infix, params) in cases {
        let t = load(file);
        let stack = Stack::new(&t, &params);
        let mut actual = BTreeMap::new();
        for (logical, props) in stack.resources("AWS::Events::Rule") {
            let Some(pattern) = props.get("EventPattern") else {
                continue; // the sweep schedule
            };
            let name = props["Name"].as_str().unwrap();
            let (_, service) = name.split_once(infix).unwrap_or_else(|| {
                panic!("{file}: {logical} is named `{name}`, not `<prefix>{infix}<service>`")
            });
            // Amazon EventBridge quotas: "Event pattern size: 2048 characters" (adjustable, not by default).
            let size = serde_json::to_string(pattern).unwrap().len();
            assert!(
                size <= 2048,
                "{file}: {logical}: pattern of {size} characters exceeds the 2048 quota"
            );
            let old = actual.insert(service.to_owned(), pattern.clone());
            assert!(old.is_none(), "{file}: two rules for `{service}`");
        }
        assert_eq!(
            actual, reg.patterns,
            "{file}: EventBridge patterns differ from `tripline patterns` (run `make template-sync`)"
        );
    }
}

#[test]
fn config_rule_scope_equals_the_registry() {
    let reg = registry();
    let t = load("template.yaml");
    let stack = Stack::new(&t, &central_all_on(&reg));
    let rule = stack.resource("ConfigRule");
    // Without a scope, a change-triggered rule runs on every recorded resource type.
    assert!(
        !reg.config_types.is_empty(),
        "the registry declares no AWS Config resource type"
    );
    assert_eq!(
        strings(&rule["Scope"]["ComplianceResourceTypes"]),
        reg.config_types,
        "Config rule scope differs from `tripline patterns --config-resource-types` (run `make template-sync`)"
    );
    // Change-triggered (regular and oversized items) and periodic.
    // https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_nodejs.html
    let kinds: BTreeSet<&str> = rule["Source"]["SourceDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["MessageType"].as_str().unwrap())
        .collect();
    let expected = BTreeSet::from([
        "ConfigurationItemChangeNotification",
        "OversizedConfigurationItemChangeNotification",
        "ScheduledNotification",
    ]);
    assert_eq!(kinds, expected);
    assert_eq!(rule["Source"]["Owner"], "CUSTOM_LAMBDA");
    let permission = stack.resource("OnConfigPermission");
    assert_eq!(permission["Principal"], "config.amazonaws.com");
    assert_eq!(
        permission["SourceAccount"], ACCOUNT,
        "the Config permission must name the source account"
    );
}

#[test]
fn every_event_rule_retries_into_an_encrypted_dead_letter_queue_and_may_invoke_its_target() {
    let reg = registry();
    for (file, params) in [
        ("template.yaml", central_all_on(&reg)),
        ("member-template.yaml", member_all_on()),
    ] {
        let t = load(file);
        let stack = Stack::new(&t, &params);
        let queues: BTreeMap<String, Value> = stack.resources("AWS::SQS::Queue").into_iter().collect();
        let queue_policies = stack.resources("AWS::SQS::QueuePolicy");
        let permissions = stack.resources("AWS::Lambda::Permission");
        for (logical, props) in stack.resources("AWS::Events::Rule") {
            let rule_arn = format!(
                "arn:aws:events:{REGION}:{ACCOUNT}:rule/{}",
                props["Name"].as_str().unwrap()
            );
            for target in props["Targets"].as_array().unwrap() {
                assert!(
                    target["RetryPolicy"]["MaximumRetryAttempts"].is_number(),
                    "{file}: {logical}: no retry policy"
                );
                let dlq = target["DeadLetterConfig"]["Arn"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{file}: {logical}: no DLQ"));
                let queue = dlq.rsplit(':').next().unwrap();
                assert!(
                    queues.contains_key(queue),
                    "{file}: {logical}: DLQ `{dlq}` is not a queue of the stack"
                );
                // EventBridge may write to the DLQ only for this stack's rules (aws:SourceArn).
                let allowed = queue_policies.iter().any(|(_, qp)| {
                    statements(&qp["PolicyDocument"]).iter().any(|s| {
                        s["Effect"] == "Allow"
                            && s["Principal"]["Service"] == "events.amazonaws.com"
                            && s["Resource"].as_str() == Some(dlq)
                            && strings(&s["Condition"]["ArnLike"]["aws:SourceArn"])
                                .iter()
                                .any(|p| glob(p).is_match(&rule_arn))
                    })
                });
                assert!(
                    allowed,
                    "{file}: {logical}: no queue policy lets EventBridge write `{dlq}` for `{rule_arn}`"
                );
                // A Lambda target needs a resource-based permission matching the rule's ARN.
                if let Some(function) = target["Arn"].as_str().filter(|a| a.contains(":function:")) {
                    let logical_fn = function.rsplit(':').next().unwrap();
                    let ok = permissions.iter().any(|(_, p)| {
                        p["FunctionName"] == logical_fn
                            && p["Principal"] == "events.amazonaws.com"
                            && glob(p["SourceArn"].as_str().unwrap()).is_match(&rule_arn)
                    });
                    let ok = ok
                        || permissions.iter().any(|(_, p)| {
                            p["FunctionName"] == logical_fn
                                && p["SourceArn"]
                                    == Value::String(format!(
                                        "arn:aws:events:{REGION}:{ACCOUNT}:rule/{logical}"
                                    ))
                        });
                    assert!(
                        ok,
                        "{file}: {logical}: no lambda permission lets the rule invoke `{logical_fn}`"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// (b) Self-audit with Tripline's own engine.
// ---------------------------------------------------------------------------------------------------------

/// Every IAM role of the stack with the policy documents attached to it (inline and customer managed).
fn roles(stack: &Stack<'_>) -> Vec<(String, Value, Vec<Value>)> {
    let managed: BTreeMap<String, Value> = stack
        .resources("AWS::IAM::ManagedPolicy")
        .into_iter()
        .map(|(logical, props)| {
            (
                format!("arn:aws:iam::{ACCOUNT}:policy/{logical}"),
                props["PolicyDocument"].clone(),
            )
        })
        .collect();
    stack
        .resources("AWS::IAM::Role")
        .into_iter()
        .map(|(logical, props)| {
            let mut docs: Vec<Value> = props
                .get("Policies")
                .and_then(Value::as_array)
                .map(|ps| ps.iter().map(|p| p["PolicyDocument"].clone()).collect())
                .unwrap_or_default();
            if let Some(arns) = props.get("ManagedPolicyArns") {
                for arn in strings(arns) {
                    let doc = managed
                        .get(&arn)
                        .unwrap_or_else(|| panic!("{logical}: managed policy `{arn}` not in the stack"));
                    docs.push(doc.clone());
                }
            }
            (logical, props["AssumeRolePolicyDocument"].clone(), docs)
        })
        .collect()
}

fn merged(docs: &[Value]) -> Value {
    let all: Vec<Value> = docs.iter().flat_map(statements).collect();
    json!({"Version": "2012-10-17", "Statement": all})
}

/// The escalation combos `tripline policy escalation` finds in a role's policies.
fn combos(docs: &[Value]) -> Vec<Value> {
    let verdict = tripline(&["policy", "escalation", "-"], Some(&merged(docs)));
    verdict["combos"].as_array().unwrap().clone()
}

/// Whether an unconditional `Deny` among `docs` covers `action` on `arn` (action and resource globs).
fn denied(docs: &[Value], action: &str, arn: &str) -> bool {
    docs.iter().flat_map(statements).any(|s| {
        s["Effect"] == "Deny"
            && s.get("Condition").is_none()
            && s.get("Action").is_some_and(|a| {
                strings(a)
                    .iter()
                    .any(|p| glob(&p.to_ascii_lowercase()).is_match(&action.to_ascii_lowercase()))
            })
            && match (s.get("Resource"), s.get("NotResource")) {
                (Some(r), _) => strings(r).iter().any(|p| glob(p).is_match(arn)),
                (None, Some(nr)) => !strings(nr).iter().any(|p| glob(p).is_match(arn)),
                (None, None) => false,
            }
    })
}

#[test]
fn tripline_grants_itself_no_escalation_path() {
    let reg = registry();
    let iam_writes: BTreeSet<String> = reg
        .remediations
        .values()
        .flatten()
        .filter(|a| a.starts_with("iam:"))
        .cloned()
        .collect();
    let non_iam: Vec<&str> = reg
        .remediations
        .iter()
        .filter(|(_, perms)| perms.iter().all(|p| !p.starts_with("iam:")))
        .map(|(id, _)| id.as_str())
        .collect();

    // 1. Strict: in every configuration that does not enforce an IAM remediation, the engine finds no
    //    escalation combo in any role (organization, Slack and every other remediation on).
    let t = load("template.yaml");
    let strict = [
        Vec::new(),
        central_params("dry-run", ""),
        central_params("enforce", &non_iam.join(",")),
    ];
    for params in &strict {
        let stack = Stack::new(&t, params);
        for (logical, _, docs) in roles(&stack) {
            let found = combos(&docs);
            assert!(
                found.is_empty(),
                "template.yaml {params:?}: role {logical} enables escalation: {found:#?}"
            );
        }
    }

    // 2. Enforcing the IAM remediations (restore a default policy version, detach an admin policy, restore a
    //    trust policy) puts escalation-class actions in the remediate roles by nature. The engine judges
    //    actions, not resources, so it reports them; each must be confined to other principals: the role
    //    may not touch any Tripline role or policy (an unconditional Deny the test checks against the real
    //    ARNs), and it may assume no role at all.
    let member = load("member-template.yaml");
    for (file, tpl, params) in [
        ("template.yaml", &t, central_all_on(&reg)),
        ("member-template.yaml", &member, member_all_on()),
    ] {
        let stack = Stack::new(tpl, &params);
        let roles = roles(&stack);
        let own: Vec<String> = stack
            .resources("AWS::IAM::Role")
            .iter()
            .map(|(_, p)| format!("arn:aws:iam::{ACCOUNT}:role/{}", p["RoleName"].as_str().unwrap()))
            .chain(stack.resources("AWS::IAM::ManagedPolicy").iter().map(|(_, p)| {
                format!(
                    "arn:aws:iam::{ACCOUNT}:policy/{}",
                    p["ManagedPolicyName"].as_str().unwrap()
                )
            }))
            .collect();
        for (logical, _, docs) in &roles {
            let found = combos(docs);
            if found.is_empty() {
                continue;
            }
            assert!(
                logical.contains("Remediate"),
                "{file}: role {logical} enables escalation: {found:#?}"
            );
            for combo in &found {
                for action in strings(&combo["actions"]) {
                    assert!(
                        iam_writes.contains(&action) || action == "sts:AssumeRole",
                        "{file}: {logical}: combo {} needs `{action}`, which no IAM remediation explains",
                        combo["id"]
                    );
                }
            }
            for action in &iam_writes {
                for arn in &own {
                    assert!(
                        denied(docs, action, arn),
                        "{file}: {logical} may `{action}` on Tripline's own `{arn}`"
                    );
                }
            }
            for other in [
                format!("arn:aws:iam::{ACCOUNT}:role/Admin"),
                format!("arn:aws:iam::{CENTRAL_ACCOUNT}:role/tripline-member-read"),
            ] {
                assert!(
                    denied(docs, "sts:AssumeRole", &other),
                    "{file}: {logical} may assume `{other}`"
                );
            }
        }
    }
}

#[test]
fn no_tripline_resource_or_trust_policy_is_public() {
    let reg = registry();
    for (file, params) in [
        ("template.yaml", central_all_on(&reg)),
        ("member-template.yaml", member_all_on()),
    ] {
        let t = load(file);
        let stack = Stack::new(&t, &params);
        let mut policies: Vec<(String, Value)> = Vec::new();
        for (logical, p) in stack.resources("AWS::KMS::Key") {
            policies.push((logical, p["KeyPolicy"].clone()));
        }
        for kind in ["AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"] {
            for (logical, p) in stack.resources(kind) {
                policies.push((logical, p["PolicyDocument"].clone()));
            }
        }
        for (logical, p) in stack.resources("AWS::Events::EventBusPolicy") {
            policies.push((
                logical,
                json!({"Version": "2012-10-17", "Statement": [p["Statement"].clone()]}),
            ));
        }
        for (logical, trust, _) in roles(&stack) {
            policies.push((format!("{logical} (trust policy)"), trust));
        }
        if file == "template.yaml" {
            for expected in [
                "AlertKey",
                "AlertTopicPolicy",
                "OpsKey",
                "OpsTopicPolicy",
                "EventsDeadLetterQueuePolicy",
                "OrganizationBusPolicy",
            ] {
                assert!(
                    policies.iter().any(|(l, _)| l == expected),
                    "{expected} not audited"
                );
            }
        }
        for (logical, doc) in policies {
            let verdict = tripline(&["policy", "public", "-"], Some(&doc));
            assert_eq!(
                verdict["public"], false,
                "{file}: {logical} is public: {verdict:#}"
            );
        }
    }
}

/// Allowed actions of the role a function runs as.
fn function_actions(stack: &Stack<'_>, function: &str) -> Option<BTreeSet<String>> {
    let (_, props) = stack
        .resources("AWS::Serverless::Function")
        .into_iter()
        .find(|(logical, _)| {
            stack.template["Resources"][logical]["Metadata"]["BuildProperties"]["Binary"] == function
        })?;
    let role_arn = props["Role"].as_str().unwrap().to_owned();
    let (_, _, docs) = roles(stack)
        .into_iter()
        .find(|(logical, _, _)| role_arn.ends_with(&format!(":role/{logical}")))
        .unwrap_or_else(|| panic!("{function}: role `{role_arn}` not in the stack"));
    let mut actions = BTreeSet::new();
    for s in docs.iter().flat_map(statements) {
        assert!(
            s.get("NotAction").is_none(),
            "{function}: NotAction in an Allow is never least privilege"
        );
        if s["Effect"] == "Allow" {
            actions.extend(strings(&s["Action"]));
        }
    }
    Some(actions)
}

fn expected_actions(reg: &Registry, function: &str, enforced: &[&str], org: bool) -> BTreeSet<String> {
    let calls = CALLS.iter().find(|c| c.function == function).unwrap();
    if let (Some(org_calls), true) = (calls.org, org) {
        return RUNTIME.iter().chain(org_calls).map(|s| (*s).to_owned()).collect();
    }
    let mut set: BTreeSet<String> = RUNTIME.iter().chain(calls.own).map(|s| (*s).to_owned()).collect();
    if calls.rule_reads {
        set.extend(reg.reads.iter().cloned());
        set.extend(SHELL_READS.iter().map(|s| (*s).to_owned()));
    }
    if calls.assessment {
        set.extend(ASSESSMENT.iter().map(|s| (*s).to_owned()));
        set.extend(reg.sweep_reads.iter().cloned());
        // The sweep's per-kind readers (snapshots, AMIs, resource policies), from the registry.
        set.extend(
            tripline_core::rules::external::swept_permissions()
                .into_iter()
                .map(str::to_owned),
        );
    }
    if calls.remediation_writes {
        for id in enforced {
            set.extend(reg.remediations[*id].iter().cloned());
        }
    }
    if calls.member_role && org {
        set.insert("sts:AssumeRole".to_owned());
    }
    if calls.org_members && org {
        set.insert("organizations:ListAccounts".to_owned());
    }
    set
}

/// `ListOrganizationMembers`: the zone of trust's listing, in this account (`organizations:ListAccounts`) or
/// through `OrganizationRoleArn` (`sts:AssumeRole` on that role only), and not at all when off.
#[test]
fn organization_members_are_listed_here_or_through_the_organization_role() {
    let t = load("template.yaml");
    let role = format!("arn:aws:iam::{CENTRAL_ACCOUNT}:role/org-reader");
    let through = [
        &central_params("dry-run", "")[..],
        &[("OrganizationRoleArn", role.clone())],
    ]
    .concat();
    let off = [
        &central_params("dry-run", "")[..],
        &[("ListOrganizationMembers", "false".to_owned())],
    ]
    .concat();
    for f in ["on-cloudtrail", "on-config", "sweep-worker"] {
        let here = function_actions(&Stack::new(&t, &central_params("dry-run", "")), f).unwrap();
        assert!(here.contains("organizations:ListAccounts"), "{f}");
        let stack = Stack::new(&t, &through);
        let actions = function_actions(&stack, f).unwrap();
        assert!(
            !actions.contains("organizations:ListAccounts"),
            "{f}: {actions:?}"
        );
        let assumable: BTreeSet<String> = roles(&stack)
            .iter()
            .filter(|r| r.0.to_lowercase().contains(&f.replace('-', "")))
            .flat_map(|r| r.2.iter().flat_map(statements))
            .filter(|s| s["Effect"] == "Allow" && strings(&s["Action"]).iter().any(|a| a == "sts:AssumeRole"))
            .flat_map(|s| strings(&s["Resource"]))
            .collect();
        assert!(assumable.contains(&role), "{f}: {assumable:?}");
        let none = function_actions(&Stack::new(&t, &off), f).unwrap();
        assert!(!none.contains("organizations:ListAccounts"), "{f}");
    }
}

#[test]
fn each_role_allows_exactly_what_its_function_calls() {
    let reg = registry();
    let all: Vec<&str> = reg.remediations.keys().map(String::as_str).collect();
    let t = load("template.yaml");
    // (mode, RemediationRules, the rules whose write permissions remediate must hold)
    let mut cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("enforce", all.join(","), all.clone()),
        ("dry-run", all.join(","), vec![]),
        ("off", all.join(","), vec![]),
        ("enforce", String::new(), vec![]),
    ];
    for id in &all {
        cases.push(("enforce", (*id).to_owned(), vec![*id]));
        cases.push(("enforce", format!("not-a-rule,{id},other"), vec![*id]));
    }
    for (mode, rules, enforced) in cases {
        let stack = Stack::new(&t, &central_params(mode, &rules));
        for function in FUNCTIONS {
            let actual = function_actions(&stack, function).unwrap();
            let expected = expected_actions(&reg, function, &enforced, true);
            assert_eq!(
                actual,
                expected,
                "role of {function} (mode {mode}, rules `{rules}`): extra {:?}, missing {:?}",
                actual.difference(&expected).collect::<Vec<_>>(),
                expected.difference(&actual).collect::<Vec<_>>()
            );
        }
    }
    // This account only, no Slack: no member roles to assume, no notify-slack function.
    let stack = Stack::new(&t, &[]);
    for function in FUNCTIONS {
        let actual = function_actions(&stack, function);
        if *function == "notify-slack" || *function == "sweep-worker" {
            assert!(
                actual.is_none(),
                "{function} must not exist without SlackWebhookSecretArn / OrganizationId"
            );
        } else {
            assert_eq!(
                actual.unwrap(),
                expected_actions(&reg, function, &[], false),
                "{function}"
            );
        }
    }
}

#[test]
fn member_roles_hold_the_registry_permissions_and_trust_only_the_central_functions() {
    let reg = registry();
    let t = load("member-template.yaml");
    let stack = Stack::new(&t, &member_all_on());
    let roles = roles(&stack);
    let allowed = |logical: &str| -> BTreeSet<String> {
        let (_, _, docs) = roles.iter().find(|r| r.0 == logical).unwrap();
        docs.iter()
            .flat_map(statements)
            .filter(|s| s["Effect"] == "Allow")
            .flat_map(|s| strings(&s["Action"]))
            .collect()
    };
    // The reads of the central on-cloudtrail and of sweep-worker's shards (the assessment).
    let mut read = reg.reads.clone();
    read.extend(SHELL_READS.iter().map(|s| (*s).to_owned()));
    read.extend(ASSESSMENT.iter().map(|s| (*s).to_owned()));
    // ... including the customer-duty families and the swept kinds' readers, as the central assessment.
    read.extend(reg.sweep_reads.iter().cloned());
    read.extend(
        tripline_core::rules::external::swept_permissions()
            .into_iter()
            .map(str::to_owned),
    );
    assert_eq!(allowed("MemberReadRole"), read);
    // It trusts exactly the two central roles that assume it, no wildcard.
    let (_, trust, _) = roles.iter().find(|r| r.0 == "MemberReadRole").unwrap();
    for s in statements(trust) {
        assert_eq!(
            strings(&s["Condition"]["ArnEquals"]["aws:PrincipalArn"]),
            [
                format!("arn:aws:iam::{CENTRAL_ACCOUNT}:role/tripline-on-cloudtrail-us-east-1"),
                format!("arn:aws:iam::{CENTRAL_ACCOUNT}:role/tripline-sweep-worker-us-east-1"),
            ]
        );
        assert!(s["Condition"].get("ArnLike").is_none());
    }
    // The member remediation role: the rules' reads, the reads around a remediation (every mode), every
    // remediation's writes.
    let mut remediate: BTreeSet<String> = reg.reads.clone();
    remediate.extend(reg.remediations.values().flatten().cloned());
    remediate.extend(
        [
            "iam:GetRole",
            "iam:ListAttachedRolePolicies",
            "iam:ListAttachedUserPolicies",
            "iam:ListAttachedGroupPolicies",
            "iam:ListRoleTags",
            "iam:ListPolicyTags",
            "s3:GetBucketPolicy",
            "s3:GetBucketAcl",
            "s3:GetBucketLocation",
        ]
        .map(str::to_owned),
    );
    assert_eq!(allowed("MemberRemediateRole"), remediate);
    for (logical, trust, _) in &roles {
        if logical == "ForwarderRole" {
            continue;
        }
        for s in statements(trust) {
            let cond = &s["Condition"];
            assert_eq!(
                s["Principal"]["AWS"],
                format!("arn:aws:iam::{CENTRAL_ACCOUNT}:root"),
                "{logical}"
            );
            assert_eq!(
                cond["StringEquals"]["sts:ExternalId"], "an-external-id-of-enough-length",
                "{logical}"
            );
            assert_eq!(cond["StringEquals"]["aws:PrincipalOrgID"], ORG, "{logical}");
            let principal_arns = ["ArnLike", "ArnEquals"]
                .iter()
                .filter(|op| !cond[**op]["aws:PrincipalArn"].is_null())
                .flat_map(|op| strings(&cond[*op]["aws:PrincipalArn"]))
                .collect::<Vec<_>>();
            assert!(
                !principal_arns.is_empty(),
                "{logical}: no aws:PrincipalArn condition"
            );
            if logical == "MemberRemediateRole" {
                // The exact central remediate role, no pattern (issue 12, A).
                assert_eq!(
                    principal_arns,
                    vec![format!(
                        "arn:aws:iam::{CENTRAL_ACCOUNT}:role/tripline-remediate-us-east-1"
                    )],
                    "{logical}"
                );
            }
            for arn in principal_arns {
                assert!(
                    arn.starts_with(&format!("arn:aws:iam::{CENTRAL_ACCOUNT}:role/tripline-")),
                    "{logical}: {arn}"
                );
            }
        }
    }
    // Roles only in RolesRegion (IAM is global); no forwarding from the central bus to itself.
    let elsewhere = Stack::new(
        &t,
        &[&member_all_on()[..], &[("RolesRegion", "us-east-1".to_owned())]].concat(),
    );
    assert!(roles_of(&elsewhere).iter().all(|r| r == "ForwarderRole"));
    let central = Stack::new(
        &t,
        &[
            &member_all_on()[..],
            &[
                ("CentralAccountId", ACCOUNT.to_owned()),
                ("CentralRegion", REGION.to_owned()),
            ],
        ]
        .concat(),
    );
    assert!(
        central.resources("AWS::Events::Rule").is_empty(),
        "the central bus must not forward to itself"
    );
}

fn roles_of(stack: &Stack<'_>) -> Vec<String> {
    stack
        .resources("AWS::IAM::Role")
        .into_iter()
        .map(|(l, _)| l)
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Structure.
// ---------------------------------------------------------------------------------------------------------

#[test]
fn functions_are_built_by_cargo_lambda_and_configured_only_through_known_variables() {
    let reg = registry();
    let t = load("template.yaml");
    let stack = Stack::new(&t, &central_all_on(&reg));
    let globals = stack.eval(&t["Globals"]["Function"]).unwrap();
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"], json!(["arm64"]));
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(globals["MemorySize"], 128);
    let functions = stack.resources("AWS::Serverless::Function");
    let mut binaries = BTreeSet::new();
    for (logical, props) in &functions {
        let meta = &t["Resources"][logical]["Metadata"];
        assert_eq!(meta["BuildMethod"], "rust-cargolambda", "{logical}");
        let binary = meta["BuildProperties"]["Binary"].as_str().unwrap();
        binaries.insert(binary);
        let vars = globals["Environment"]["Variables"]
            .as_object()
            .unwrap()
            .keys()
            .chain(
                props["Environment"]["Variables"]
                    .as_object()
                    .map(|m| m.keys().collect::<Vec<_>>())
                    .unwrap_or_default(),
            );
        for var in vars {
            assert!(
                ENV_VARS.contains(&var.as_str()),
                "{logical}: unknown environment variable `{var}`"
            );
        }
        // Log group with retention, encrypted; dead-letter queue; reserved concurrency; a timeout.
        let group = props["LoggingConfig"]["LogGroup"].as_str().unwrap();
        let lg = stack.resource(group);
        assert!(
            lg["RetentionInDays"].as_str().is_some() || lg["RetentionInDays"].is_number(),
            "{logical}"
        );
        assert!(lg["KmsKeyId"].is_string(), "{logical}: log group not encrypted");
        assert!(
            lg["LogGroupName"]
                .as_str()
                .unwrap()
                .ends_with(&format!("-{binary}")),
            "{logical}"
        );
        assert!(
            props["DeadLetterQueue"]["TargetArn"].is_string(),
            "{logical}: no DLQ"
        );
        assert!(
            props["ReservedConcurrentExecutions"].is_number(),
            "{logical}: no reserved concurrency"
        );
        // Functions alert on their own errors.
        let alarmed = stack.resources("AWS::CloudWatch::Alarm").iter().any(|(_, a)| {
            a["MetricName"] == "Errors" && a["Dimensions"][0]["Value"] == Value::String(logical.clone())
        });
        assert!(alarmed, "{logical}: no Errors alarm");
    }
    assert_eq!(binaries, FUNCTIONS.iter().copied().collect::<BTreeSet<_>>());
    // Each binary is a package under functions/ (once the functions exist in the tree).
    for f in FUNCTIONS {
        let manifest = root().join("functions").join(f).join("Cargo.toml");
        if manifest.exists() {
            let text = std::fs::read_to_string(&manifest).unwrap();
            assert!(
                text.contains(&format!("\"{f}\"")),
                "{}: no package or bin named `{f}`",
                manifest.display()
            );
        }
    }
}

#[test]
fn alerts_and_dead_letters_are_encrypted_and_watched() {
    let reg = registry();
    let t = load("template.yaml");
    let stack = Stack::new(&t, &central_all_on(&reg));
    let key = stack.resource("AlertKey");
    assert_eq!(key["EnableKeyRotation"], true);
    let topic = stack.resource("AlertTopic");
    assert_eq!(
        topic["KmsMasterKeyId"], "AlertKey",
        "topic not encrypted with the customer managed key"
    );
    let alarms = stack.resources("AWS::CloudWatch::Alarm");
    for (logical, q) in stack.resources("AWS::SQS::Queue") {
        assert_eq!(
            q["KmsMasterKeyId"], "AlertKey",
            "{logical}: not encrypted with the customer managed key"
        );
        // The shard queue holds messages during every run: its alarm is on their age.
        let metric = if logical == "ShardQueue" {
            "ApproximateAgeOfOldestMessage"
        } else {
            "ApproximateNumberOfMessagesVisible"
        };
        let watched = alarms.iter().any(|(_, a)| {
            a["MetricName"] == metric && a["Dimensions"][0]["Value"] == Value::String(logical.clone())
        });
        assert!(watched, "{logical}: no queue-depth alarm");
    }
    // Member queues: SQS-managed encryption (no key per member account).
    let m = load("member-template.yaml");
    for (logical, q) in Stack::new(&m, &member_all_on()).resources("AWS::SQS::Queue") {
        assert_eq!(q["SqsManagedSseEnabled"], true, "{logical}");
    }
    // The key lets the services that write encrypted data use it; nothing else but the account. CloudWatch
    // alarms publish to the operations topic and its own key (OpsKey), so they do not need this one.
    let principals: BTreeSet<String> = statements(&key["KeyPolicy"])
        .iter()
        .flat_map(|s| {
            let p = &s["Principal"];
            p.get("Service")
                .map(strings)
                .unwrap_or_default()
                .into_iter()
                .chain(p.get("AWS").map(strings).unwrap_or_default())
        })
        .collect();
    let expected: BTreeSet<String> = [
        format!("arn:aws:iam::{ACCOUNT}:root"),
        "sns.amazonaws.com".to_owned(),
        "events.amazonaws.com".to_owned(),
        format!("logs.{REGION}.amazonaws.com"),
    ]
    .into_iter()
    .collect();
    assert_eq!(principals, expected);
}

#[test]
fn subscriptions_filter_and_keep_their_dead_letters() {
    let reg = registry();
    let t = load("template.yaml");
    // (SlackMinSeverity, the severities Slack receives)
    let cases: &[(&str, &[&str])] = &[
        ("critical", &["critical"]),
        ("high", &["critical", "high"]),
        ("medium", &["critical", "high", "medium"]),
        ("low", &["critical", "high", "medium", "low"]),
    ];
    for (min, severities) in cases {
        let params = [
            &central_all_on(&reg)[..],
            &[("SlackMinSeverity", (*min).to_owned())],
        ]
        .concat();
        let stack = Stack::new(&t, &params);
        let slack = stack.resource("NotifySlackSubscription");
        assert_eq!(
            slack["FilterPolicy"],
            json!({"severity": severities}),
            "SlackMinSeverity {min}"
        );
        assert_eq!(slack["FilterPolicyScope"], "MessageAttributes");
        let remediate = stack.resource("RemediateSubscription");
        // Only findings with a planned remediation: outcomes and summaries carry `none` (no loop).
        assert_eq!(remediate["FilterPolicy"], json!({"remediation": ["planned"]}));
        for sub in [&slack, &remediate] {
            let dlq = sub["RedrivePolicy"]["deadLetterTargetArn"].as_str().unwrap();
            assert!(
                dlq.starts_with(&format!("arn:aws:sqs:{REGION}:{ACCOUNT}:")),
                "{dlq}"
            );
        }
    }
    let email = Stack::new(&t, &central_all_on(&reg)).resource("AlertEmailSubscription");
    assert_eq!(email["Protocol"], "email");
}

#[test]
fn parameters_reject_invalid_values() {
    let t = load("template.yaml");
    let m = load("member-template.yaml");
    // (file's parameters, parameter, value, accepted). CloudFormation anchors nothing itself: the
    // patterns carry ^...$ (AWS CloudFormation User Guide, "Parameters", AllowedPattern).
    let cases: &[(&Value, &str, &str, bool)] = &[
        (&t, "AlertEmail", "", true),
        (&t, "AlertEmail", "security@example.com", true),
        (&t, "AlertEmail", "not-an-email", false),
        (&t, "SlackWebhookSecretArn", "", true),
        (
            &t,
            "SlackWebhookSecretArn",
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slack-AbCdEf",
            true,
        ),
        (
            &t,
            "SlackWebhookSecretArn",
            "https://hooks.slack.com/services/T000/B000/XXXX",
            false,
        ),
        (&t, "RemediationMode", "dry-run", true),
        (&t, "RemediationMode", "enforce", true),
        (&t, "RemediationMode", "off", true),
        (&t, "RemediationMode", "on", false),
        (&t, "RemediationRules", "", true),
        (
            &t,
            "RemediationRules",
            "s3-bucket-policy-public,s3-bucket-acl-public",
            true,
        ),
        (
            &t,
            "RemediationRules",
            "s3-bucket-policy-public, s3-bucket-acl-public",
            false,
        ),
        (&t, "RemediationRules", "S3-Bucket", false),
        (&t, "TrustedAccountIds", "111122223333,444455556666", true),
        (&t, "TrustedAccountIds", "11112222333", false),
        (&t, "OrganizationId", "o-a1b2c3d4e5", true),
        (&t, "OrganizationId", "r-a1b2", false),
        (&t, "MemberExternalId", "short", false),
        (&t, "ExemptTagKey", "tripline:exempt", true),
        (&t, "ExemptTagKey", "", false),
        (&t, "AdminPorts", "8080,9200", true),
        (&t, "AdminPorts", "ssh", false),
        (&t, "PasswordBaseline", "", true),
        (&t, "PasswordBaseline", "{\"minimum_password_length\":16}", true),
        (&t, "PasswordBaseline", "16", false),
        (&t, "AllowList", "{}", true),
        (&t, "AllowList", "[]", false),
        (&t, "NamePrefix", "tripline", true),
        (&t, "NamePrefix", "Tripline", false),
        (&t, "NamePrefix", "a-very-long-prefix-over-twenty", false),
        (&t, "SweepSchedule", "rate(1 day)", true),
        (&t, "SweepSchedule", "rate(6 hours)", true),
        (&t, "SweepSchedule", "cron(0 3 * * ? *)", true),
        (&t, "SweepSchedule", "daily", false),
        (&t, "SlackMinSeverity", "high", true),
        (&t, "SlackMinSeverity", "info", false),
        (&t, "LogRetentionDays", "365", true),
        (&t, "LogRetentionDays", "366", false),
        (&m, "CentralAccountId", "111122223333", true),
        (&m, "CentralAccountId", "", false),
        (&m, "CentralRegion", "eu-west-1", true),
        (&m, "CentralRegion", "Europe", false),
        (&m, "OrganizationId", "", false),
        (&t, "OpsEmail", "", true),
        (&t, "OpsEmail", "oncall@example.com", true),
        (&t, "OpsEmail", "oncall", false),
        (&m, "OpsEmail", "oncall@example.com", true),
        (&m, "OpsEmail", "", false),
    ];
    for (template, name, value, accepted) in cases {
        let p = &template["Parameters"][*name];
        assert!(!p.is_null(), "no parameter `{name}`");
        let mut ok = true;
        if let Some(pattern) = p["AllowedPattern"].as_str() {
            ok &= regex::Regex::new(pattern).unwrap().is_match(value);
        }
        if let Some(values) = p["AllowedValues"].as_array() {
            ok &= values.iter().any(|v| match v {
                Value::String(s) => s == value,
                Value::Number(n) => n.to_string() == *value,
                _ => false,
            });
        }
        assert_eq!(ok, *accepted, "parameter {name} = `{value}`");
    }
    // Every parameter is validated one way or another.
    for (file, tpl) in [("template.yaml", &t), ("member-template.yaml", &m)] {
        for (name, p) in tpl["Parameters"].as_object().unwrap() {
            let validated = p.get("AllowedPattern").is_some()
                || p.get("AllowedValues").is_some()
                || (p.get("MinValue").is_some() && p.get("MaxValue").is_some());
            assert!(validated, "{file}: parameter {name} is not validated");
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Operations (issue 15): every failure path has an alarm, and alarms reach a person without the alert path.
// ---------------------------------------------------------------------------------------------------------

/// The namespace of the metrics the functions emit in CloudWatch Embedded Metric Format (ARCHITECTURE.md).
const EMF_NAMESPACE: &str = "Tripline";

/// Services that invoke Lambda functions asynchronously (Lambda Developer Guide, "Invoking Lambda functions
/// asynchronously"; EventBridge targets, SNS subscriptions and AWS Config custom rules all do).
const ASYNC_INVOKERS: &[&str] = &[
    "events.amazonaws.com",
    "sns.amazonaws.com",
    "config.amazonaws.com",
];

/// The alarms of `stack` on `namespace`/`metric` whose only dimension is `name` = `value`.
fn alarms_on(stack: &Stack<'_>, namespace: &str, metric: &str, name: &str, value: &str) -> Vec<String> {
    stack
        .resources("AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, a)| {
            a["Namespace"] == namespace
                && a["MetricName"] == metric
                && a["Dimensions"] == json!([{"Name": name, "Value": value}])
        })
        .map(|(logical, a)| {
            // Any occurrence is worth a person's attention.
            assert_eq!(a["Threshold"], 1, "{logical}");
            assert_eq!(
                a["ComparisonOperator"], "GreaterThanOrEqualToThreshold",
                "{logical}"
            );
            assert_eq!(a["TreatMissingData"], "notBreaching", "{logical}");
            logical
        })
        .collect()
}

/// The functions some AWS service invokes asynchronously (a Lambda permission for an async invoker).
fn async_invoked_functions(stack: &Stack<'_>) -> BTreeSet<String> {
    stack
        .resources("AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, p)| ASYNC_INVOKERS.iter().any(|s| p["Principal"] == *s))
        .map(|(_, p)| {
            p["FunctionName"]
                .as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Central parameter sets: everything on, nothing optional, and Slack without e-mail.
fn central_variants(reg: &Registry) -> Vec<Params> {
    vec![
        central_all_on(reg),
        Vec::new(),
        vec![(
            "SlackWebhookSecretArn",
            format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:tripline/slack-AbCdEf"),
        )],
    ]
}

/// Every alarm publishes to the operations topic only (alarm, OK and insufficient-data actions alike).
fn assert_alarms_publish_only_to(stack: &Stack<'_>, file: &str, ops: &str) {
    let alarms = stack.resources("AWS::CloudWatch::Alarm");
    assert!(!alarms.is_empty(), "{file}: no alarm");
    for (logical, a) in &alarms {
        assert_eq!(a["AlarmActions"], json!([ops]), "{file}: {logical}: AlarmActions");
        for key in ["OKActions", "InsufficientDataActions"] {
            if let Some(actions) = a.get(key) {
                assert_eq!(actions, &json!([ops]), "{file}: {logical}: {key}");
            }
        }
        assert!(
            !a.to_string().contains(":AlertTopic"),
            "{file}: {logical} refers to the alert topic"
        );
    }
}

/// The topic policy lets only this account's CloudWatch alarms publish (and allows nothing else).
fn assert_only_cloudwatch_publishes(stack: &Stack<'_>, file: &str, policy: &str, topic: &str) {
    let doc = &stack.resource(policy)["PolicyDocument"];
    let allows: Vec<Value> = statements(doc)
        .into_iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(allows.len(), 1, "{file}: {policy}: {allows:#?}");
    let s = &allows[0];
    assert_eq!(
        s["Principal"],
        json!({"Service": "cloudwatch.amazonaws.com"}),
        "{file}: {policy}"
    );
    assert_eq!(strings(&s["Action"]), ["sns:Publish"], "{file}: {policy}");
    assert_eq!(strings(&s["Resource"]), [topic], "{file}: {policy}");
    assert_eq!(
        s["Condition"],
        json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
        "{file}: {policy}"
    );
    for deny in statements(doc).iter().filter(|s| s["Effect"] == "Deny") {
        assert!(deny.get("Condition").is_some(), "{file}: {policy}: {deny}");
    }
}

#[test]
fn alarms_reach_a_person_through_the_operations_topic_never_the_alert_topic() {
    let reg = registry();
    let t = load("template.yaml");
    let ops = format!("arn:aws:sns:{REGION}:{ACCOUNT}:OpsTopic");
    let alert = format!("arn:aws:sns:{REGION}:{ACCOUNT}:AlertTopic");
    for params in central_variants(&reg) {
        let stack = Stack::new(&t, &params);
        assert_alarms_publish_only_to(&stack, "template.yaml", &ops);
        assert_only_cloudwatch_publishes(&stack, "template.yaml", "OpsTopicPolicy", &ops);
        // The alert topic grants nothing: CloudWatch has no business publishing findings.
        let alert_policy = stack.resource("AlertTopicPolicy");
        assert!(
            statements(&alert_policy["PolicyDocument"])
                .iter()
                .all(|s| s["Effect"] == "Deny"),
            "AlertTopicPolicy allows something: {alert_policy:#}"
        );
        // The operations topic does not share the alert path's key.
        let topic = stack.resource("OpsTopic");
        assert_eq!(topic["KmsMasterKeyId"], "OpsKey");
        let key = stack.resource("OpsKey");
        assert_eq!(key["EnableKeyRotation"], true);
        let grants: Vec<(Value, Value)> = statements(&key["KeyPolicy"])
            .iter()
            .map(|s| {
                (
                    s["Principal"].clone(),
                    s.get("Condition").cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
        assert_eq!(
            grants,
            vec![
                (
                    json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
                    Value::Null
                ),
                (
                    json!({"Service": "cloudwatch.amazonaws.com"}),
                    json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}})
                ),
            ],
            "OpsKey policy"
        );
        // Only CloudWatch publishes to it: no function role may.
        for (logical, _, docs) in roles(&stack) {
            for s in docs.iter().flat_map(statements) {
                if s["Effect"] == "Allow" && strings(&s["Action"]).iter().any(|a| a == "sns:Publish") {
                    assert_eq!(strings(&s["Resource"]), [alert.as_str()], "{logical}");
                }
            }
        }
    }
    // The e-mail behind the operations topic: OpsEmail, else AlertEmail, else none.
    let endpoint = |params: &[(&str, String)]| -> Option<Value> {
        let stack = Stack::new(&t, params);
        stack
            .resources("AWS::SNS::Subscription")
            .into_iter()
            .find(|(l, _)| l == "OpsEmailSubscription")
            .map(|(_, s)| {
                assert_eq!(s["TopicArn"], ops);
                assert_eq!(s["Protocol"], "email");
                s["Endpoint"].clone()
            })
    };
    let alert_email = ("AlertEmail", "security@example.com".to_owned());
    let ops_email = ("OpsEmail", "oncall@example.com".to_owned());
    assert_eq!(endpoint(&[]), None);
    assert_eq!(
        endpoint(std::slice::from_ref(&alert_email)),
        Some(json!("security@example.com"))
    );
    assert_eq!(
        endpoint(std::slice::from_ref(&ops_email)),
        Some(json!("oncall@example.com"))
    );
    assert_eq!(
        endpoint(&[alert_email, ops_email]),
        Some(json!("oncall@example.com"))
    );
}

#[test]
fn every_async_invoked_function_alarms_on_dead_letter_errors_and_dropped_events() {
    let reg = registry();
    let t = load("template.yaml");
    for params in central_variants(&reg) {
        let stack = Stack::new(&t, &params);
        let functions: BTreeSet<String> = stack
            .resources("AWS::Serverless::Function")
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        let invoked = async_invoked_functions(&stack);
        // EventBridge (on-cloudtrail, sweep), AWS Config (on-config), SNS (remediate, notify-slack): all of
        // them but sweep-worker, which an SQS event source mapping invokes synchronously (its failures are
        // the shard queue's redrive). A function with no invoker would be dead code in the template.
        let polled: BTreeSet<String> = stack
            .resources("AWS::Lambda::EventSourceMapping")
            .into_iter()
            .map(|(_, m)| m["FunctionName"].as_str().unwrap().to_owned())
            .collect();
        assert!(invoked.is_disjoint(&polled), "{params:?}");
        assert_eq!(
            invoked.union(&polled).cloned().collect::<BTreeSet<_>>(),
            functions,
            "{params:?}"
        );
        for function in &invoked {
            for metric in ["DeadLetterErrors", "AsyncEventsDropped", "Errors"] {
                let found = alarms_on(&stack, "AWS/Lambda", metric, "FunctionName", function);
                assert_eq!(
                    found.len(),
                    1,
                    "{function}: {metric} alarms {found:?} ({params:?})"
                );
            }
        }
    }
}

#[test]
fn every_topic_and_so_every_subscription_alarms_on_failed_notifications() {
    let reg = registry();
    for (file, variants) in [
        ("template.yaml", central_variants(&reg)),
        ("member-template.yaml", vec![member_all_on()]),
    ] {
        let t = load(file);
        for params in variants {
            let stack = Stack::new(&t, &params);
            // AWS/SNS has no per-subscription dimension (TopicName, or the mobile/SMS ones): the topic's
            // NumberOfNotificationsFailed covers every subscription of the topic.
            let topics: BTreeSet<String> = stack
                .resources("AWS::SNS::Topic")
                .into_iter()
                .map(|(l, _)| l)
                .collect();
            for topic in &topics {
                let found = alarms_on(
                    &stack,
                    "AWS/SNS",
                    "NumberOfNotificationsFailed",
                    "TopicName",
                    topic,
                );
                assert_eq!(found.len(), 1, "{file}: {topic}: {found:?}");
            }
            for (logical, sub) in stack.resources("AWS::SNS::Subscription") {
                let arn = sub["TopicArn"].as_str().unwrap();
                let topic = arn.rsplit(':').next().unwrap();
                assert!(
                    topics.contains(topic) && arn == format!("arn:aws:sns:{REGION}:{ACCOUNT}:{topic}"),
                    "{file}: {logical}: topic `{arn}` is not one of the stack's"
                );
            }
        }
    }
}

#[test]
fn rule_errors_and_incomplete_sweeps_alarm_on_the_embedded_metrics() {
    let reg = registry();
    let t = load("template.yaml");
    let stack = Stack::new(&t, &central_all_on(&reg));
    // Dimension Function = the deployed function name (AWS_LAMBDA_FUNCTION_NAME), i.e. `Ref` of the function.
    for function in [
        "OnCloudTrailFunction",
        "OnConfigFunction",
        "SweepFunction",
        "SweepWorkerFunction",
        "RemediateFunction",
    ] {
        let found = alarms_on(&stack, EMF_NAMESPACE, "RuleErrors", "Function", function);
        assert_eq!(found.len(), 1, "{function}: RuleErrors alarms {found:?}");
    }
    // The whole-account assessment runs in the sweep and in on-config's periodic evaluations.
    for function in ["SweepFunction", "OnConfigFunction"] {
        let found = alarms_on(&stack, EMF_NAMESPACE, "SweepIncomplete", "Function", function);
        assert_eq!(found.len(), 1, "{function}: SweepIncomplete alarms {found:?}");
    }
    // Organization-wide sweep: a failed shard alarms (shared/aws/src/metrics.rs, `ShardsFailed`).
    let found = alarms_on(
        &stack,
        EMF_NAMESPACE,
        "ShardsFailed",
        "Function",
        "SweepWorkerFunction",
    );
    assert_eq!(found.len(), 1, "ShardsFailed alarms {found:?}");
    // Nothing else is published under the namespace: the contract is exactly these metrics.
    for (logical, a) in stack.resources("AWS::CloudWatch::Alarm") {
        if a["Namespace"] == EMF_NAMESPACE {
            assert!(
                ["RuleErrors", "SweepIncomplete", "ShardsFailed"]
                    .contains(&a["MetricName"].as_str().unwrap_or_default()),
                "{logical}: {}",
                a["MetricName"]
            );
        }
    }
}

#[test]
fn member_stacks_alarm_on_their_forwarding_dead_letters_to_a_person_in_the_account() {
    let m = load("member-template.yaml");
    let stack = Stack::new(&m, &member_all_on());
    let ops = format!("arn:aws:sns:{REGION}:{ACCOUNT}:OpsTopic");
    let queues = stack.resources("AWS::SQS::Queue");
    assert!(!queues.is_empty());
    for (queue, _) in &queues {
        let found = alarms_on(
            &stack,
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "QueueName",
            queue,
        );
        assert_eq!(found.len(), 1, "{queue}: depth alarms {found:?}");
    }
    assert_alarms_publish_only_to(&stack, "member-template.yaml", &ops);
    assert_only_cloudwatch_publishes(&stack, "member-template.yaml", "OpsTopicPolicy", &ops);
    let email = stack.resource("OpsEmailSubscription");
    assert_eq!(email["TopicArn"], ops);
    assert_eq!(email["Protocol"], "email");
    assert_eq!(email["Endpoint"], "ops@example.com");
    // The central account's own bus forwards nothing, so it needs no queue, alarm or topic there.
    let central = Stack::new(
        &m,
        &[
            &member_all_on()[..],
            &[
                ("CentralAccountId", ACCOUNT.to_owned()),
                ("CentralRegion", REGION.to_owned()),
            ],
        ]
        .concat(),
    );
    for kind in ["AWS::SQS::Queue", "AWS::CloudWatch::Alarm", "AWS::SNS::Topic"] {
        assert!(central.resources(kind).is_empty(), "{kind} without forwarding");
    }
}

#[test]
fn organization_sweep_queue_mapping_and_run_table() {
    let reg = registry();
    let t = load("template.yaml");
    let stack = Stack::new(&t, &central_all_on(&reg));
    // ReportBatchItemFailures (the worker answers batchItemFailures), bounded concurrency.
    let (_, esm) = stack
        .resources("AWS::Lambda::EventSourceMapping")
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(esm["FunctionResponseTypes"], json!(["ReportBatchItemFailures"]));
    assert_eq!(esm["ScalingConfig"]["MaximumConcurrency"], 10);
    assert_eq!(esm["EventSourceArn"], stack.attribute("ShardQueue", "Arn"));
    // Redrive after a few receives; the worker records the final failure on the same count.
    let q = stack.resource("ShardQueue");
    assert_eq!(q["RedrivePolicy"]["maxReceiveCount"], 3);
    let worker = stack.resource("SweepWorkerFunction");
    assert_eq!(
        worker["Environment"]["Variables"]["TRIPLINE_SHARD_MAX_RECEIVES"],
        "3"
    );
    // Visibility timeout at least six times the function's timeout (Lambda's SQS guidance).
    assert!(q["VisibilityTimeout"].as_u64().unwrap() >= 6 * worker["Timeout"].as_u64().unwrap());
    // The run table: encrypted with the customer managed key, records expire.
    let table = stack.resource("RunsTable");
    assert_eq!(table["SSESpecification"]["SSEType"], "KMS");
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], "ttl");
    // The planner sends to the shard queue; the sweep is the planner only with an organization.
    let sweep = stack.resource("SweepFunction");
    assert!(sweep["Environment"]["Variables"]["TRIPLINE_SHARD_QUEUE_URL"].is_string());
    let alone = Stack::new(&t, &[]);
    assert!(alone.resources("AWS::Lambda::EventSourceMapping").is_empty());
    assert!(alone.resource("SweepFunction")["Environment"]["Variables"]
        .get("TRIPLINE_SHARD_QUEUE_URL")
        .is_none());
}

/// The findings store (issue 14): the table only with `EnableFindingsStore` (default true), on-demand,
/// encrypted with AlertKey, point-in-time recovery, TTL on `expires_at`; DynamoDB actions only with it;
/// Security Hub import only with both parameters, on this account's default product.
#[test]
fn findings_store_and_security_hub_import_follow_their_parameters() {
    let t = load("template.yaml");
    let on = Stack::new(&t, &[]);
    let table = on.resource("FindingsTable");
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(table["SSESpecification"]["SSEType"], "KMS");
    assert!(table["SSESpecification"]["KMSMasterKeyId"].is_string(), "{table}");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], "expires_at");
    for f in ["on-cloudtrail", "on-config", "sweep"] {
        let actions = function_actions(&on, f).unwrap();
        assert!(actions.contains("dynamodb:PutItem"), "{f}");
        assert!(!actions.contains("securityhub:BatchImportFindings"), "{f}");
    }
    let off = Stack::new(&t, &[("EnableFindingsStore", "false".to_owned())]);
    assert!(off
        .resources("AWS::DynamoDB::Table")
        .iter()
        .all(|(logical, _)| logical != "FindingsTable"));
    assert!(on
        .resources("AWS::DynamoDB::Table")
        .iter()
        .any(|(logical, _)| logical == "FindingsTable"));
    for f in ["on-cloudtrail", "on-config", "sweep"] {
        // The store's item calls are gone; the sweep's reads of DynamoDB tables' resource policies
        // (`dynamodb:ListTables`, `GetResourcePolicy`...) are not the store's.
        let actions = function_actions(&off, f).unwrap();
        let store_calls = [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ];
        assert!(
            actions.iter().all(|a| !store_calls.contains(&a.as_str())
                && (!a.starts_with("dynamodb:")
                    || a.starts_with("dynamodb:List")
                    || a.starts_with("dynamodb:Describe")
                    || a == "dynamodb:GetResourcePolicy")),
            "{f}: {actions:?}"
        );
    }
    let hub = Stack::new(&t, &[("EnableSecurityHubImport", "true".to_owned())]);
    for f in ["on-cloudtrail", "on-config", "sweep"] {
        let actions = function_actions(&hub, f).unwrap();
        assert!(actions.contains("securityhub:BatchImportFindings"), "{f}");
    }
    // Without the store there is nothing to import.
    let hub_no_store = Stack::new(
        &t,
        &[
            ("EnableSecurityHubImport", "true".to_owned()),
            ("EnableFindingsStore", "false".to_owned()),
        ],
    );
    let actions = function_actions(&hub_no_store, "on-cloudtrail").unwrap();
    assert!(!actions.contains("securityhub:BatchImportFindings"));
    // Member accounts: the member-read role may import, only with the member stack's parameter.
    let member = load("member-template.yaml");
    let role_actions = |params: &[(&str, String)]| -> BTreeSet<String> {
        let stack = Stack::new(&member, params);
        let roles = roles(&stack);
        let (_, _, docs) = roles.iter().find(|r| r.0 == "MemberReadRole").unwrap();
        docs.iter()
            .flat_map(statements)
            .filter(|s| s["Effect"] == "Allow")
            .flat_map(|s| strings(&s["Action"]))
            .collect()
    };
    assert!(!role_actions(&member_all_on()).contains("securityhub:BatchImportFindings"));
    let with_hub = [
        &member_all_on()[..],
        &[("EnableSecurityHubImport", "true".to_owned())],
    ]
    .concat();
    assert!(role_actions(&with_hub).contains("securityhub:BatchImportFindings"));
    // The organization sweep's shards go through the same lifecycle: the table with the store, Security Hub
    // (the home account's findings) with the import.
    let org = |extra: &[(&'static str, String)]| {
        let params = [&central_params("dry-run", "")[..], extra].concat();
        function_actions(&Stack::new(&t, &params), "sweep-worker").unwrap()
    };
    let worker = org(&[]);
    assert!(
        worker.contains("dynamodb:Scan") && worker.contains("dynamodb:PutItem"),
        "{worker:?}"
    );
    assert!(!worker.contains("securityhub:BatchImportFindings"));
    assert!(
        org(&[("EnableSecurityHubImport", "true".to_owned())]).contains("securityhub:BatchImportFindings")
    );
    let worker_off = org(&[("EnableFindingsStore", "false".to_owned())]);
    assert!(
        !worker_off.contains("dynamodb:Scan") && !worker_off.contains("dynamodb:PutItem"),
        "{worker_off:?}"
    );
    // remediate records outcomes in the findings table and claims attempts in its own; it never imports
    // into Security Hub nor scans or deletes the findings table.
    let actions = function_actions(&hub, "remediate").unwrap();
    let findings_table_actions = ["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Scan"];
    assert!(
        actions
            .iter()
            .all(|a| !a.starts_with("securityhub:") && !findings_table_actions.contains(&a.as_str())),
        "remediate: {actions:?}"
    );
}
