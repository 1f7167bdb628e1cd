//! "Is it public?" — the Amazon S3 User Guide's definition, point by point, and its use for other
//! resource policies.
//!
//! Source (quoted in `aws-public-definition.md`): Amazon S3 User Guide, "Blocking public access to your
//! Amazon S3 storage", section "The meaning of 'public'",
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status>.
//!
//! > When evaluating a bucket policy, Amazon S3 begins by assuming that the policy is public. It then
//! > evaluates the policy to determine whether it qualifies as non-public. To be considered non-public, a
//! > bucket policy must grant access only to fixed values (values that don't contain a wildcard or an AWS
//! > Identity and Access Management Policy Variable) for one or more of the following: [...]
//!
//! So every `Allow` statement must be limited, either by a fixed principal or by a condition that pins
//! one of the listed keys to fixed values. One unlimited `Allow` makes the whole policy public ("This
//! policy qualifies as public because of the third statement."). The action does not matter: even
//! `s3:NotASupportedAction` counts ("such a statement could potentially make the bucket public if the
//! action later becomes supported").
//!
//! Conservative choices where the page is silent (each is stated in the reasons it produces):
//! - `Deny` statements never make a policy non-public (a Deny carve-out such as "deny unless SourceVpc"
//!   is not credited).
//! - A `...IfExists` condition, or a `ForAllValues:` condition, does not limit: both are true when the
//!   request carries no value for the key (reference_policies_condition_examples-multi-valued-context-keys:
//!   ForAllValues "also returns true if there are no context keys in the request").
//! - A negated operator (`StringNotEquals`, `NotIpAddress`, ...) does not limit (it grants everyone else).
//! - A wildcard character in a condition value makes it non-fixed whatever the operator.
//! - An `Allow` statement without `Principal` in a resource policy is treated as unlimited.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::grammar::{
    has_variable, has_wildcard, Condition, Effect, Operator, Policy, PrincipalType, Principals, SetOp,
    Statement, Version,
};

/// Why a verdict was reached, naming the statement (its `Sid`, or `#<index>`, 0-based) and the cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `Sid`, or `#<index>` (0-based) when the statement has none; `grant #<index>` for ACL grants.
    pub statement: String,
    /// Machine-readable cause, e.g. `wildcard-principal`, `cidr-too-broad`, `limited-by-condition`.
    pub code: String,
    /// Human-readable cause.
    pub cause: String,
    /// The condition key concerned, when there is one (lowercase).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Reason {
    pub fn new(statement: impl Into<String>, code: &str, cause: impl Into<String>) -> Reason {
        Reason {
            statement: statement.into(),
            code: code.into(),
            cause: cause.into(),
            key: None,
        }
    }

    fn with_key(mut self, key: &str) -> Reason {
        self.key = Some(key.to_string());
        self
    }
}

/// A public / not-public verdict with its reasons. For a public verdict the reasons name what makes it
/// public; for a non-public verdict they say why each `Allow` is limited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicVerdict {
    pub public: bool,
    pub reasons: Vec<Reason>,
}

/// The kind of resource a resource-based policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    S3Bucket,
    SnsTopic,
    SqsQueue,
    KmsKey,
    EcrRepository,
    SecretsManagerSecret,
    LambdaFunction,
    IamRoleTrust,
    /// S3 access points and Multi-Region Access Points: the S3 definition exactly.
    S3AccessPoint,
    /// EFS file system policies: the EFS User Guide's own list ([`EFS_LIMITING_KEYS`]).
    EfsFileSystem,
    /// DynamoDB table and stream resource policies: DynamoDB's own list ([`DYNAMODB_LIMITING_KEYS`]).
    DynamoDbTable,
    /// OpenSearch Service domain access policies (no published definition: the generic list).
    OpenSearchDomain,
    /// S3 Glacier vault access policies (no published definition: the generic list).
    GlacierVault,
}

/// The condition keys the S3 page lists as able to make a grant non-public (lowercase; key names are
/// case-insensitive). `aws:PrincipalOrgID` is the page's example of a principal key. The page no longer
/// lists `s3:x-amz-server-side-encryption-aws-kms-key-id`, and never lists `aws:PrincipalAccount`,
/// `aws:PrincipalArn` or `aws:PrincipalOrgPaths`: for buckets those do not limit.
pub const S3_LIMITING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// For resource policies other than S3 there is no such published list. We use the S3 list plus the
/// principal-identity keys that pin the caller to an account, ARN or organization path
/// (`aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:PrincipalOrgPaths`) and, for KMS,
/// `kms:CallerAccount`. `sts:ExternalId` is a shared string, not an identity: it never limits.
const GENERIC_EXTRA_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgpaths",
];

/// Amazon EFS User Guide, "Blocking public access", "The meaning of 'public'"
/// (<https://docs.aws.amazon.com/efs/latest/ug/access-control-block-public-access.html>): "To be considered
/// non-public, a file system policy must grant access only to fixed values (values that don't contain a wild
/// card) of one or more of the following: A set of [CIDRs], using aws:SourceIp; An AWS principal, user, role,
/// or service principal (for example, aws:PrincipalOrgID); aws:SourceArn; aws:SourceVpc; aws:SourceVpce;
/// aws:SourceOwner; aws:SourceAccount; elasticfilesystem:AccessedViaMountTarget; aws:userid, outside the
/// pattern \"AROLEID:*\"". The principal keys are read as the generic ones (`aws:PrincipalOrgID`,
/// `aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:PrincipalOrgPaths`). `AccessedViaMountTarget` limits
/// only as `Bool` `true` (see [`bool_true_limits`]); it narrows the network path (a client that can reach a
/// mount target), not who the caller is, so the cross-account rule still reads such a `*` grant as open to
/// every account.
pub const EFS_LIMITING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgpaths",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "elasticfilesystem:accessedviamounttarget",
    "aws:userid",
];

/// Amazon DynamoDB Developer Guide, "Blocking public access with resource-based policies"
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-bpa-rbp.html>): "the following
/// trusted condition keys are used to complete the evaluation of a resource-based policy for non-public
/// access" — exactly this list. Unlike S3 and EFS, `aws:SourceIp` and `aws:SourceOwner` are not on it, so
/// they do not limit; "If your resource-based policy uses the aws:PrincipalIsAWSService key, you must make
/// sure that you've set the key value to true."
pub const DYNAMODB_LIMITING_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:userid",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:principalisawsservice",
    "aws:ec2instancesourcevpc",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
];

/// Keys that limit only as `Bool` with the value `true` (EFS `AccessedViaMountTarget`, DynamoDB
/// `PrincipalIsAWSService`); any other operator or value does not limit.
fn bool_true_limits(key: &str) -> bool {
    matches!(
        key,
        "elasticfilesystem:accessedviamounttarget" | "aws:principalisawsservice"
    )
}

fn limiting_keys(kind: ResourceKind, key: &str) -> bool {
    match kind {
        ResourceKind::EfsFileSystem => return EFS_LIMITING_KEYS.contains(&key),
        ResourceKind::DynamoDbTable => return DYNAMODB_LIMITING_KEYS.contains(&key),
        _ => {}
    }
    if S3_LIMITING_KEYS.contains(&key) {
        return true;
    }
    match kind {
        ResourceKind::S3Bucket | ResourceKind::S3AccessPoint => false,
        ResourceKind::KmsKey => GENERIC_EXTRA_KEYS.contains(&key) || key == "kms:calleraccount",
        _ => GENERIC_EXTRA_KEYS.contains(&key),
    }
}

/// How one condition bears on whether the statement is limited.
enum CondClass {
    Limits,
    DoesNotLimit(Reason),
}

fn rfc1918(net: &IpNet) -> bool {
    const PRIVATE: [(&str, u8); 3] = [("10.0.0.0", 8), ("172.16.0.0", 12), ("192.168.0.0", 16)];
    PRIVATE.iter().any(|(addr, len)| {
        addr.parse::<IpAddr>()
            .ok()
            .and_then(|a| IpNet::new(a, *len).ok())
            .is_some_and(|p| p.contains(net))
    })
}

/// The CIDR-breadth note: "values broader than `/8` for IPv4 and `/32` for IPv6 (excluding RFC1918
/// private ranges)" are public. Returns the problem, if any.
fn source_ip_problem(value: &str) -> Option<String> {
    let net = match value.parse::<IpNet>() {
        Ok(n) => n,
        Err(_) => match value.parse::<IpAddr>() {
            Ok(a) => IpNet::from(a),
            Err(_) => return Some(format!("`{value}` is not an IP address or CIDR block")),
        },
    };
    let broad = match net {
        IpNet::V4(n) => n.prefix_len() < 8 && !rfc1918(&net),
        IpNet::V6(n) => n.prefix_len() < 32,
    };
    broad.then(|| {
        let limit = if matches!(net, IpNet::V4(_)) {
            "/8 for IPv4"
        } else {
            "/32 for IPv6"
        };
        format!(
            "aws:SourceIp range `{value}` is broader than {limit}, which the S3 definition treats as public"
        )
    })
}

/// The `s3:DataAccessPointArn` note: a wildcard is allowed in the access point name "as long as the
/// account ID is fixed", e.g. `arn:aws:s3:us-west-2:123456789012:accesspoint/*`.
fn access_point_arn_fixed(value: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    *arn == "arn"
        && *service == "s3"
        && resource.starts_with("accesspoint/")
        && !account.is_empty()
        && [partition, region, account]
            .iter()
            .all(|p| !has_wildcard(p) && !p.contains("${"))
}

fn classify(c: &Condition, stmt: &str, version: Version, kind: ResourceKind) -> CondClass {
    let no =
        |code: &str, cause: String| CondClass::DoesNotLimit(Reason::new(stmt, code, cause).with_key(&c.key));
    if c.op == Operator::Unknown {
        return no(
            "unknown-operator",
            format!("condition operator `{}` is not recognised", c.operator),
        );
    }
    if !limiting_keys(kind, &c.key) {
        return no(
            "key-not-limiting",
            format!(
                "condition key `{}` is not one that can make a grant non-public",
                c.key_raw
            ),
        );
    }
    if c.set == SetOp::ForAllValues {
        return no(
            "for-all-values",
            format!(
                "`{}` on `{}` is true when the request has no value for the key",
                c.operator, c.key_raw
            ),
        );
    }
    if c.if_exists {
        return no(
            "if-exists",
            format!(
                "`{}` on `{}` is true when the key is absent from the request",
                c.operator, c.key_raw
            ),
        );
    }
    if c.values.is_empty() {
        return no("no-values", format!("condition on `{}` has no values", c.key_raw));
    }
    if bool_true_limits(&c.key) {
        if c.op == Operator::Bool && c.values.iter().all(|v| v.eq_ignore_ascii_case("true")) {
            return CondClass::Limits;
        }
        return no(
            "operator-not-limiting",
            format!("`{}` limits only as `Bool` `true`", c.key_raw),
        );
    }
    if c.key == "aws:sourceip" {
        if c.op != Operator::IpAddress {
            return no(
                "operator-not-limiting",
                format!(
                    "operator `{}` on aws:SourceIp does not limit to fixed ranges",
                    c.operator
                ),
            );
        }
        for v in &c.values {
            if has_variable(v, version) {
                return no(
                    "variable-value",
                    format!("value `{v}` of `{}` is a policy variable", c.key_raw),
                );
            }
            if let Some(problem) = source_ip_problem(v) {
                return no("cidr-too-broad", problem);
            }
        }
        return CondClass::Limits;
    }
    let positive = matches!(
        c.op,
        Operator::StringEquals
            | Operator::StringEqualsIgnoreCase
            | Operator::StringLike
            | Operator::ArnEquals
            | Operator::ArnLike
    );
    if !positive {
        return no(
            "operator-not-limiting",
            format!(
                "operator `{}` on `{}` does not limit to fixed values",
                c.operator, c.key_raw
            ),
        );
    }
    for v in &c.values {
        if has_variable(v, version) {
            return no(
                "variable-value",
                format!("value `{v}` of `{}` is a policy variable", c.key_raw),
            );
        }
        if c.key == "s3:dataaccesspointarn" && access_point_arn_fixed(v) {
            continue;
        }
        if has_wildcard(v) {
            return no(
                "wildcard-value",
                format!("value `{v}` of `{}` contains a wildcard", c.key_raw),
            );
        }
    }
    CondClass::Limits
}

/// The OIDC / web-identity provider host named by a `Federated` value, if it is one (SAML providers and
/// other ARNs return `None`).
fn oidc_host(value: &str) -> Option<String> {
    if let Some(rest) = value.split_once(":oidc-provider/").map(|(_, r)| r) {
        return Some(rest.to_ascii_lowercase());
    }
    (!value.starts_with("arn:")).then(|| value.to_ascii_lowercase())
}

/// Whether a condition pins an OIDC provider's audience/subject claims to fixed values. For GitHub Actions
/// (`token.actions.githubusercontent.com`) the audience is the same for every repository, so only a `sub`
/// fixed at least up to `repo:<owner>/` limits.
fn oidc_limits(c: &Condition, host: &str, version: Version) -> bool {
    let Some(claim) = c.key.strip_prefix(host).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let github = host == "token.actions.githubusercontent.com";
    let claim_ok = if github {
        claim == "sub"
    } else {
        matches!(claim, "sub" | "aud" | "app_id" | "oaud")
    };
    let op_ok = matches!(
        c.op,
        Operator::StringEquals | Operator::StringLike | Operator::StringEqualsIgnoreCase
    );
    if !claim_ok || !op_ok || c.if_exists || c.set == SetOp::ForAllValues || c.values.is_empty() {
        return false;
    }
    c.values.iter().all(|v| {
        if has_variable(v, version) {
            return false;
        }
        if github {
            // `repo:<owner>/...`: the owner part must be fixed.
            let Some(rest) = v.strip_prefix("repo:") else {
                return !has_wildcard(v);
            };
            match rest.split_once('/') {
                Some((owner, _)) => !owner.is_empty() && !has_wildcard(owner),
                None => !has_wildcard(rest),
            }
        } else {
            !has_wildcard(v)
        }
    })
}

/// What about a principal leaves the statement open (not limited by the principal alone).
enum Open {
    /// Open to anyone: needs a limiting condition from the key list.
    General(Reason),
    /// A web-identity provider: a fixed `aud`/`sub` claim condition (or a general limiter) closes it.
    Oidc(Reason, String),
}

fn principal_openness(stmt: &Statement, label: &str, version: Version, kind: ResourceKind) -> Vec<Open> {
    let mut open = Vec::new();
    let Some(block) = &stmt.principal else {
        open.push(Open::General(Reason::new(
            label,
            "no-principal",
            "statement has no `Principal`, so it cannot be shown to grant only to fixed principals",
        )));
        return open;
    };
    if block.negated {
        // IAM guide (NotPrincipal): with Allow it "allows all principals except the one named ... you
        // might grant access to anonymous (unauthenticated) users".
        open.push(Open::General(Reason::new(
            label,
            "not-principal-allow",
            "`NotPrincipal` with `Allow` grants every principal except the ones named, including anonymous users",
        )));
        return open;
    }
    let map = match &block.principals {
        Principals::Any => {
            open.push(Open::General(Reason::new(
                label,
                "wildcard-principal",
                "`Principal` is `*` (everyone, including anonymous users)",
            )));
            return open;
        }
        Principals::Map(m) => m,
    };
    for (ptype, values) in map {
        for v in values {
            if v == "*" || has_wildcard(v) {
                open.push(Open::General(Reason::new(
                    label,
                    "wildcard-principal",
                    format!("principal `{}: {v}` contains a wildcard", ptype.as_str()),
                )));
                continue;
            }
            if has_variable(v, version) {
                open.push(Open::General(Reason::new(
                    label,
                    "variable-principal",
                    format!("principal `{}: {v}` is a policy variable", ptype.as_str()),
                )));
                continue;
            }
            match ptype {
                PrincipalType::Aws | PrincipalType::CanonicalUser => {}
                PrincipalType::Service => {
                    // SNS, SQS and Lambda: a service principal acts for every customer's resources of that
                    // service unless aws:SourceArn / aws:SourceAccount / aws:SourceOwner scope it (the
                    // confused-deputy guidance of each service's developer guide).
                    if matches!(
                        kind,
                        ResourceKind::SnsTopic | ResourceKind::SqsQueue | ResourceKind::LambdaFunction
                    ) {
                        open.push(Open::General(Reason::new(
                            label,
                            "service-principal-unscoped",
                            format!(
                                "service principal `{v}` acts for any account unless aws:SourceArn or aws:SourceAccount scope it"
                            ),
                        )));
                    }
                }
                PrincipalType::Federated => {
                    if kind == ResourceKind::IamRoleTrust {
                        // A SAML provider is the account's own identity provider: fixed. A web-identity
                        // (OIDC) provider authenticates anyone with an account there: open unless its
                        // audience/subject claims are pinned.
                        if let Some(host) = oidc_host(v) {
                            open.push(Open::Oidc(
                                Reason::new(
                                    label,
                                    "federated-unscoped",
                                    format!(
                                        "federated principal `{v}` trusts every identity of that provider unless a condition pins `{host}:sub` (or `:aud`)"
                                    ),
                                ),
                                host,
                            ));
                        }
                    } else {
                        // S3 page example: `"Principal": {"Federated": "graph.facebook.com"}` is public.
                        open.push(Open::General(Reason::new(
                            label,
                            "federated-principal",
                            format!("federated principal `{v}` admits any identity of that provider"),
                        )));
                    }
                }
            }
        }
    }
    open
}

/// Analyses one `Allow` statement. Returns whether it is public and its reasons.
pub(crate) fn analyse_statement(
    stmt: &Statement,
    version: Version,
    kind: ResourceKind,
) -> (bool, Vec<Reason>) {
    let label = stmt.label();
    let open = principal_openness(stmt, &label, version, kind);
    if open.is_empty() {
        return (
            false,
            vec![Reason::new(
                &label,
                "fixed-principal",
                "grants only to fixed principals",
            )],
        );
    }
    let mut limiting = Vec::new();
    let mut not_limiting = Vec::new();
    for c in &stmt.conditions {
        match classify(c, &label, version, kind) {
            CondClass::Limits => limiting.push(c.key_raw.clone()),
            CondClass::DoesNotLimit(r) => not_limiting.push(r),
        }
    }
    // Conditions in one statement are ANDed: one limiting condition limits the whole statement.
    if !limiting.is_empty() {
        let keys = limiting.join("`, `");
        return (
            false,
            vec![Reason::new(
                &label,
                "limited-by-condition",
                format!("limited to fixed values of `{keys}`"),
            )
            .with_key(&limiting[0].to_ascii_lowercase())],
        );
    }
    // Only web-identity openness left: a pinned claim closes it.
    let mut reasons = Vec::new();
    let mut public = false;
    for o in open {
        match o {
            Open::General(r) => {
                public = true;
                reasons.push(r);
            }
            Open::Oidc(r, host) => {
                let pinned = stmt.conditions.iter().find(|c| oidc_limits(c, &host, version));
                match pinned {
                    Some(_) => {}
                    None => {
                        public = true;
                        reasons.push(r);
                    }
                }
            }
        }
    }
    if !public {
        return (
            false,
            vec![Reason::new(
                &label,
                "limited-by-claims",
                "web-identity claims pinned to fixed values",
            )],
        );
    }
    if stmt.conditions.is_empty() {
        reasons.push(Reason::new(
            &label,
            "no-limiting-condition",
            "no `Condition` limits the grant",
        ));
    } else {
        reasons.extend(not_limiting);
    }
    (true, reasons)
}

/// The verdict for a resource policy of the given kind.
///
/// Differences from the S3 bucket rule, by kind:
/// - `S3Bucket`: the S3 definition exactly (see the module doc).
/// - `SnsTopic`, `SqsQueue`, `LambdaFunction`: additionally, a service principal (e.g. `s3.amazonaws.com`
///   publishing to a topic, invoking a function) is open unless `aws:SourceArn`, `aws:SourceAccount` or
///   `aws:SourceOwner` pin it, since the service acts for every customer (confused deputy).
/// - `KmsKey`: `kms:CallerAccount` also limits.
/// - `IamRoleTrust`: a `Service` principal is not public; a SAML provider is not public; a web-identity
///   (OIDC) provider is public unless a condition pins its `sub` (or `aud` / `app_id`) claim — for GitHub
///   Actions only a `sub` fixed at least to `repo:<owner>/` counts.
/// - All kinds except S3: `aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:PrincipalOrgPaths` also limit.
/// - `S3AccessPoint`: the S3 definition exactly ("PolicyStatus: Indicates whether this access point policy
///   is public. For more information about how Amazon S3 evaluates policies to determine whether they are
///   public, see The Meaning of \"Public\"", S3 Control API reference, `PolicyStatus`).
/// - `EfsFileSystem`: EFS's own list ([`EFS_LIMITING_KEYS`]); `DynamoDbTable`: DynamoDB's
///   ([`DYNAMODB_LIMITING_KEYS`]; `aws:SourceIp` does not limit there).
/// - `OpenSearchDomain`, `GlacierVault`: the generic list. An OpenSearch "IP-based policy" (`*` limited by
///   `aws:SourceIp`) is not public when its ranges pass the S3 breadth rule.
pub fn resource_policy_public(policy: &Policy, kind: ResourceKind) -> PublicVerdict {
    let mut public_reasons = Vec::new();
    let mut private_reasons = Vec::new();
    let mut any_allow = false;
    for stmt in policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
        any_allow = true;
        let (public, reasons) = analyse_statement(stmt, policy.version, kind);
        if public {
            public_reasons.extend(reasons);
        } else {
            private_reasons.extend(reasons);
        }
    }
    if public_reasons.is_empty() {
        if !any_allow {
            private_reasons.push(Reason::new(
                "policy",
                "no-allow",
                "the policy has no `Allow` statement",
            ));
        }
        return PublicVerdict {
            public: false,
            reasons: private_reasons,
        };
    }
    for d in policy.statements.iter().filter(|s| s.effect == Effect::Deny) {
        public_reasons.push(Reason::new(
            d.label(),
            "deny-not-credited",
            "`Deny` statements are not credited as limiting a public grant (the definition is silent; conservative)",
        ));
    }
    PublicVerdict {
        public: true,
        reasons: public_reasons,
    }
}

/// The S3 bucket policy verdict ("The meaning of 'public'").
pub fn bucket_policy_public(policy: &Policy) -> PublicVerdict {
    resource_policy_public(policy, ResourceKind::S3Bucket)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn cidr_rule() {
        // S3 page note: broader than /8 (IPv4) and /32 (IPv6) is public.
        assert!(source_ip_problem("0.0.0.0/1").is_some());
        assert!(source_ip_problem("11.0.0.0/7").is_some());
        assert!(source_ip_problem("11.0.0.0/8").is_none());
        assert!(source_ip_problem("2001:db8::/31").is_some());
        assert!(source_ip_problem("2001:db8::/32").is_none());
        assert!(source_ip_problem("203.0.113.7").is_none());
        assert!(source_ip_problem("not-an-ip").is_some());
    }

    #[test]
    fn access_point_rule() {
        assert!(access_point_arn_fixed(
            "arn:aws:s3:us-west-2:123456789012:accesspoint/*"
        ));
        assert!(!access_point_arn_fixed("arn:aws:s3:us-west-2:*:accesspoint/*"));
        assert!(!access_point_arn_fixed(
            "arn:aws:s3:us-west-2:123456789012:bucket/*"
        ));
    }
}
