//! Adversarial policy documents: deterministic, seedable worst cases at AWS's documented size limits, for
//! the complexity-budget tests, the CLI memory-limit test and the criterion benches (issue 15).
//!
//! Every document is valid for the engine's grammar and, serialized compactly (no whitespace, which IAM
//! does not count anyway), at most as long as the limit of the place it could be stored. The shapes aim at
//! the engine's costly parts: glob languages decided on a product automaton (`Resource`, `NotResource`,
//! `Principal`, condition values of `StringLike` / `ArnLike`), many statements (the per-atom cross product
//! of `diff`), many wildcard actions (expanded against the action catalog) and policy variables.
//!
//! Size limits (characters; IAM counts non-whitespace characters, the others bytes, equal here: the
//! generated text is ASCII):
//! - IAM (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>, "IAM and AWS STS
//!   character limits"): managed policy 6,144; inline policies, aggregate per identity: user 2,048, group
//!   5,120, role 10,240; role trust policy 2,048 by default, up to 4,096 on request (we use 4,096).
//! - S3 bucket policy: 20 KB (Amazon S3 User Guide, "Bucket policies": "Bucket policies are limited to
//!   20 KB in size").
//! - SNS topic policy: 30 KB (Amazon SNS Developer Guide, "Amazon SNS API permissions: Actions and
//!   resources reference", Policy quotas: Bytes 30 kb, Statements 100).
//! - SQS queue policy: 8,192 bytes (Amazon SQS Developer Guide, policy quotas: Bytes 8192, Statements 20).
//! - KMS key policy: 32 KB, 32,768 bytes (AWS KMS Developer Guide, "Resource quotas": Key policy document
//!   size).
//! - ECR repository policy: 10,240 characters (`SetRepositoryPolicy` `policyText` length constraint).
//! - Secrets Manager resource policy: 20,480 characters (`PutResourcePolicy` `ResourcePolicy` length
//!   constraint).
//! - Lambda function policy: 20 KB (AWS Lambda quotas, "Function resource-based policy": 20 KB).
//!
//! The per-service statement-count quotas (SNS 100, SQS 20) are not imposed: the engine must hold whatever
//! a caller passes, and larger statement counts are the harder case.

use serde_json::{json, Value};

/// Where a policy document can be stored, with its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    ManagedPolicy,
    InlineUser,
    InlineGroup,
    InlineRole,
    RoleTrust,
    S3Bucket,
    SnsTopic,
    SqsQueue,
    KmsKey,
    EcrRepository,
    SecretsManagerSecret,
    LambdaFunction,
}

impl Place {
    /// Every place, identity policies first.
    pub const ALL: [Place; 12] = [
        Place::ManagedPolicy,
        Place::InlineUser,
        Place::InlineGroup,
        Place::InlineRole,
        Place::RoleTrust,
        Place::S3Bucket,
        Place::SnsTopic,
        Place::SqsQueue,
        Place::KmsKey,
        Place::EcrRepository,
        Place::SecretsManagerSecret,
        Place::LambdaFunction,
    ];

    /// The documented size limit (characters of compact JSON; see the module documentation).
    pub fn limit(self) -> usize {
        match self {
            Place::ManagedPolicy => 6_144,
            Place::InlineUser => 2_048,
            Place::InlineGroup => 5_120,
            Place::InlineRole => 10_240,
            Place::RoleTrust => 4_096,
            Place::S3Bucket => 20_480,
            Place::SnsTopic => 30_720,
            Place::SqsQueue => 8_192,
            Place::KmsKey => 32_768,
            Place::EcrRepository => 10_240,
            Place::SecretsManagerSecret => 20_480,
            Place::LambdaFunction => 20_480,
        }
    }

    /// A short name (file names, test labels).
    pub fn name(self) -> &'static str {
        match self {
            Place::ManagedPolicy => "managed",
            Place::InlineUser => "inline-user",
            Place::InlineGroup => "inline-group",
            Place::InlineRole => "inline-role",
            Place::RoleTrust => "role-trust",
            Place::S3Bucket => "s3-bucket",
            Place::SnsTopic => "sns-topic",
            Place::SqsQueue => "sqs-queue",
            Place::KmsKey => "kms-key",
            Place::EcrRepository => "ecr-repository",
            Place::SecretsManagerSecret => "secretsmanager-secret",
            Place::LambdaFunction => "lambda-function",
        }
    }

    /// Whether statements carry a `Principal` (resource and trust policies).
    pub fn resource_policy(self) -> bool {
        !matches!(
            self,
            Place::ManagedPolicy | Place::InlineUser | Place::InlineGroup | Place::InlineRole
        )
    }

    fn arn_prefix(self) -> &'static str {
        match self {
            Place::SnsTopic => "arn:aws:sns:us-east-1:111122223333:",
            Place::SqsQueue => "arn:aws:sqs:us-east-1:111122223333:",
            Place::KmsKey => "arn:aws:kms:us-east-1:111122223333:key/",
            Place::EcrRepository => "arn:aws:ecr:us-east-1:111122223333:repository/",
            Place::SecretsManagerSecret => "arn:aws:secretsmanager:us-east-1:111122223333:secret:",
            Place::LambdaFunction => "arn:aws:lambda:us-east-1:111122223333:function:",
            Place::RoleTrust => "arn:aws:iam::111122223333:role/",
            _ => "arn:aws:s3:::",
        }
    }
}

/// What the generated document stresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Few statements, many `*` / `?` interleavings in `Resource`.
    ResourceGlobs,
    /// The same in `NotResource` (and an `Allow` of everything else).
    NotResourceGlobs,
    /// Wildcard principals (resource policies) or resource globs (identity policies) per statement.
    PrincipalGlobs,
    /// `StringLike` / `ArnLike` condition values full of wildcards, in `Allow` and `Deny` statements.
    ConditionGlobs,
    /// As many small statements as fit, each with a short wildcard resource and action.
    ManyStatements,
    /// Many wildcard action patterns (service part a wildcard too) expanded against the catalog.
    ActionGlobs,
    /// Policy variables interleaved with wildcards (Version 2012-10-17).
    Variables,
}

impl Shape {
    pub const ALL: [Shape; 7] = [
        Shape::ResourceGlobs,
        Shape::NotResourceGlobs,
        Shape::PrincipalGlobs,
        Shape::ConditionGlobs,
        Shape::ManyStatements,
        Shape::ActionGlobs,
        Shape::Variables,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Shape::ResourceGlobs => "resource-globs",
            Shape::NotResourceGlobs => "notresource-globs",
            Shape::PrincipalGlobs => "principal-globs",
            Shape::ConditionGlobs => "condition-globs",
            Shape::ManyStatements => "many-statements",
            Shape::ActionGlobs => "action-globs",
            Shape::Variables => "variables",
        }
    }
}

/// A small deterministic generator (SplitMix64): the same seed gives the same documents everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// A hostile glob body: `*` and `?` interleaved with a two-letter alphabet, so that many patterns share
/// characters and the product automaton has to track many position sets.
pub fn hostile_glob(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len);
    for i in 0..len {
        let c = match rng.below(6) {
            0 | 1 => '*',
            2 => '?',
            3 => 'a',
            4 => 'b',
            // A `?` right after a `*` is the classic state blow-up ("the n-th last character").
            _ if i > 0 => '?',
            _ => 'a',
        };
        s.push(c);
    }
    s
}

/// A hostile glob of `min + below(spread)` characters.
fn hostile(rng: &mut Rng, min: usize, spread: usize) -> String {
    let len = min + rng.below(spread);
    hostile_glob(rng, len)
}

const VARIABLES: &[&str] = &[
    "${aws:username}",
    "${aws:userid}",
    "${aws:PrincipalTag/team}",
    "${s3:prefix}",
];

/// A hostile glob with policy variables between wildcards.
fn hostile_var_glob(rng: &mut Rng, len: usize) -> String {
    let mut s = String::new();
    while s.len() < len {
        if rng.below(4) == 0 {
            s.push_str(rng.pick(VARIABLES));
        } else {
            s.push_str(&hostile_glob(rng, 3));
        }
    }
    s
}

fn wildcard_action(rng: &mut Rng) -> String {
    let services = ["*", "s*", "i?m", "*3", "e?2", "*a*", "l*a", "?*"];
    let svc = rng.pick(&services);
    let mut name = String::new();
    for _ in 0..(3 + rng.below(5)) {
        name.push(match rng.below(5) {
            0 | 1 => '*',
            2 => '?',
            3 => 'e',
            _ => 't',
        });
    }
    format!("{svc}:{name}")
}

fn compact_len(v: &Value) -> usize {
    serde_json::to_string(v).map_or(usize::MAX, |s| s.len())
}

/// One statement of `shape`, numbered `i`.
fn statement(place: Place, shape: Shape, rng: &mut Rng, i: usize) -> Value {
    let prefix = place.arn_prefix();
    let glob = |rng: &mut Rng, min: usize, spread: usize| format!("{prefix}{}", hostile(rng, min, spread));
    let effect = if i % 5 == 4 { "Deny" } else { "Allow" };
    let mut s = match shape {
        Shape::ResourceGlobs => {
            let resources: Vec<String> = (0..8).map(|_| glob(rng, 10, 10)).collect();
            json!({"Effect": effect, "Action": ["s3:GetObject", "s3:Put*"], "Resource": resources})
        }
        Shape::NotResourceGlobs => {
            let resources: Vec<String> = (0..8).map(|_| glob(rng, 10, 10)).collect();
            json!({"Effect": effect, "Action": "*", "NotResource": resources})
        }
        Shape::PrincipalGlobs => {
            let resources: Vec<String> = (0..3).map(|_| glob(rng, 8, 8)).collect();
            json!({"Effect": effect, "Action": ["s3:*", "iam:PassRole"], "Resource": resources})
        }
        Shape::ConditionGlobs => {
            let values: Vec<String> = (0..6).map(|_| hostile(rng, 8, 10)).collect();
            let arns: Vec<String> = (0..3)
                .map(|_| format!("arn:aws:*:*:{}", hostile(rng, 8, 1)))
                .collect();
            json!({"Effect": effect, "Action": "s3:GetObject", "Resource": glob(rng, 6, 1),
                "Condition": {"StringLike": {"aws:PrincipalTag/team": values, "s3:prefix": [hostile(rng, 10, 1)]},
                               "ArnLike": {"aws:SourceArn": arns}}})
        }
        Shape::ManyStatements => {
            json!({"Effect": effect, "Action": wildcard_action(rng), "Resource": glob(rng, 5, 1)})
        }
        Shape::ActionGlobs => {
            let actions: Vec<String> = (0..12).map(|_| wildcard_action(rng)).collect();
            json!({"Effect": effect, "Action": actions, "Resource": glob(rng, 6, 1)})
        }
        Shape::Variables => {
            let resources: Vec<String> = (0..5)
                .map(|_| format!("{prefix}{}", hostile_var_glob(rng, 14)))
                .collect();
            json!({"Effect": effect, "Action": ["s3:GetObject", "iam:*"], "Resource": resources,
                "Condition": {"StringLike": {"s3:prefix": [hostile_var_glob(rng, 10)]}}})
        }
    };
    if place.resource_policy() {
        let principal = match shape {
            Shape::PrincipalGlobs | Shape::Variables => {
                let arns: Vec<String> = (0..6)
                    .map(|_| format!("arn:aws:iam::111122223333:{}", hostile(rng, 8, 8)))
                    .collect();
                json!({"AWS": arns})
            }
            _ if i % 3 == 0 => json!("*"),
            _ => json!({"AWS": format!("arn:aws:iam::{:012}:root", 100_000_000_000u64 + i as u64)}),
        };
        s["Principal"] = principal;
        if place == Place::RoleTrust {
            s["Action"] = json!("sts:AssumeRole");
            if let Some(obj) = s.as_object_mut() {
                obj.remove("Resource");
                obj.remove("NotResource");
            }
        }
    }
    s["Sid"] = json!(format!("S{i}"));
    s
}

/// The worst-case document of `shape` for `place`: statements are added while the compact JSON stays
/// within the place's limit.
pub fn generate(place: Place, shape: Shape, seed: u64) -> Value {
    let mut rng = Rng::new(seed ^ ((place as u64) << 8) ^ ((shape as u64) << 16));
    let mut statements: Vec<Value> = Vec::new();
    // Compact length, kept incrementally: the document is `{"Statement":[s1,s2,...],"Version":"..."}`.
    let mut len = compact_len(&json!({"Version": "2012-10-17", "Statement": []}));
    for i in 0..10_000 {
        let s = statement(place, shape, &mut rng, i);
        let add = compact_len(&s) + usize::from(!statements.is_empty());
        if len + add > place.limit() {
            break;
        }
        len += add;
        statements.push(s);
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The sample event under `events/` that carries a document of `place` (CloudTrail via EventBridge), if
/// there is one (a Lambda function policy is built from `AddPermission` parameters, not sent whole).
pub fn event_template(place: Place) -> Option<&'static str> {
    Some(match place {
        Place::ManagedPolicy => "cloudtrail-iam-create-policy-version-widening.json",
        Place::InlineUser => "cloudtrail-iam-put-user-policy.json",
        Place::InlineGroup => "cloudtrail-iam-put-group-policy.json",
        Place::InlineRole => "cloudtrail-iam-put-role-policy.json",
        Place::RoleTrust => "cloudtrail-iam-update-assume-role-policy-public.json",
        Place::S3Bucket => "cloudtrail-s3-put-bucket-policy-public.json",
        Place::SnsTopic => "cloudtrail-sns-set-topic-attributes-policy-public.json",
        Place::SqsQueue => "cloudtrail-sqs-set-queue-attributes-policy-public.json",
        Place::KmsKey => "cloudtrail-kms-put-key-policy-public.json",
        Place::EcrRepository => "cloudtrail-ecr-set-repository-policy-public.json",
        Place::SecretsManagerSecret => "cloudtrail-secretsmanager-put-resource-policy-public.json",
        Place::LambdaFunction => return None,
    })
}

/// Puts `doc` into the event read from [`event_template`] where that API carries its document (a JSON
/// string, or an object for `PutBucketPolicy`). `false` when the event does not have the expected shape.
pub fn embed(place: Place, event: &mut Value, doc: &Value) -> bool {
    let text = doc.to_string();
    let Some(params) = event
        .get_mut("detail")
        .and_then(|d| d.get_mut("requestParameters"))
    else {
        return false;
    };
    let slot = match place {
        Place::ManagedPolicy
        | Place::InlineUser
        | Place::InlineGroup
        | Place::InlineRole
        | Place::RoleTrust => params.get_mut("policyDocument"),
        Place::S3Bucket => {
            return match params.get_mut("bucketPolicy") {
                Some(v) => {
                    *v = doc.clone();
                    true
                }
                None => false,
            }
        }
        Place::SnsTopic => params.get_mut("attributeValue"),
        Place::SqsQueue => params.get_mut("attributes").and_then(|a| a.get_mut("Policy")),
        Place::KmsKey => params.get_mut("policy"),
        Place::EcrRepository => params.get_mut("policyText"),
        Place::SecretsManagerSecret => params.get_mut("resourcePolicy"),
        Place::LambdaFunction => None,
    };
    match slot {
        Some(v) => {
            *v = Value::String(text);
            true
        }
        None => false,
    }
}

/// One generated worst case.
#[derive(Debug, Clone)]
pub struct Case {
    pub place: Place,
    pub shape: Shape,
    /// `<place>-<shape>`.
    pub name: String,
    pub doc: Value,
}

/// Every (place, shape) worst case for `seed`.
pub fn worst_cases(seed: u64) -> Vec<Case> {
    let mut out = Vec::new();
    for place in Place::ALL {
        for shape in Shape::ALL {
            out.push(Case {
                place,
                shape,
                name: format!("{}-{}", place.name(), shape.name()),
                doc: generate(place, shape, seed),
            });
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn documents_are_valid_deterministic_and_within_limits() {
        for case in worst_cases(1) {
            let len = compact_len(&case.doc);
            assert!(len <= case.place.limit(), "{}: {len}", case.name);
            assert!(
                len * 10 >= case.place.limit() * 8,
                "{} is small: {len}",
                case.name
            );
            Policy::parse(&case.doc).unwrap();
        }
        let a = generate(Place::ManagedPolicy, Shape::ResourceGlobs, 7);
        assert_eq!(a, generate(Place::ManagedPolicy, Shape::ResourceGlobs, 7));
        assert_ne!(a, generate(Place::ManagedPolicy, Shape::ResourceGlobs, 8));
    }
}
