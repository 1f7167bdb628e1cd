//! External access as IAM Access Analyzer defines it: grants and shares to principals outside the zone of
//! trust (the own account, `TRIPLINE_TRUSTED_ACCOUNT_IDS`, the organization of `TRIPLINE_ORGANIZATION_ID`),
//! one rule per kind: `ec2-snapshot-cross-account-access`, `ec2-image-cross-account-access`,
//! `rds-snapshot-cross-account-access`, `kms-key-cross-account-access`, `sqs-queue-cross-account-access`,
//! `sns-topic-cross-account-access`, `secretsmanager-secret-cross-account-access`,
//! `ecr-repository-cross-account-access`, `lambda-function-cross-account-access`.
//!
//! The zone is one definition ([`crate::policy::Trusted`], built by [`engine::trusted`]) shared with
//! `s3-bucket-cross-account-access` and `iam-trust-policy-external-account`. Shares are read from the record
//! with the public rules' intake (the same fields); policies with the public rules' targets
//! (`resource_policy::*_target`). Only additions are judged: removing a share or a grant narrows access.
//! A grant or share to everyone (`all`, `Principal: *` in a public document) is the public rules' finding.
//! Severity by what is shared: data (EBS and RDS snapshots, KMS keys, secrets) high; the rest medium.

use serde_json::{json, Value};

use super::engine;
use super::payload::{self, at, items, str_at};
use super::resource_policy::{self, Target};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::Change;
use crate::finding::{Evidence, Severity};
use crate::policy::{self, ResourceKind, ShareTarget};
use crate::settings::RuleConfig;

const EC2: &str = "ec2.amazonaws.com";

pub static EC2_SNAPSHOT: Rule = Rule {
    id: "ec2-snapshot-cross-account-access",
    title: "EBS snapshot shared with an untrusted account",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: EC2,
        names: &["ModifySnapshotAttribute"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "An EBS snapshot's create-volume permission was granted to an AWS account outside the zone of \
          trust: that account can create a volume from it and read the whole disk (the classic \
          exfiltration step, Stratus Red Team `aws.exfiltration.ec2-share-ebs-snapshot`). Remove the \
          account with `aws ec2 modify-snapshot-attribute --operation-type remove`.",
    fires: &["cloudtrail-ec2-modify-snapshot-attribute-account.json"],
    quiet: &[
        "cloudtrail-ec2-modify-snapshot-attribute-own-account.json",
        "cloudtrail-ec2-modify-snapshot-attribute-remove.json",
        "cloudtrail-ec2-modify-snapshot-attribute-all.json",
    ],
    check: check_ec2_snapshot,
};

pub static EC2_IMAGE: Rule = Rule {
    id: "ec2-image-cross-account-access",
    title: "AMI shared with an untrusted account or organization",
    severity: Severity::Medium,
    cloudtrail: &[Trigger {
        source: EC2,
        names: &["ModifyImageAttribute"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "An AMI's launch permission was granted to an AWS account, organization or organizational unit \
          outside the zone of trust: they can launch it and read its disks (credentials, keys, code).",
    fires: &[
        "cloudtrail-ec2-modify-image-attribute-account.json",
        "cloudtrail-ec2-modify-image-attribute-organization.json",
    ],
    quiet: &[
        "cloudtrail-ec2-modify-image-attribute-remove.json",
        "cloudtrail-ec2-modify-image-attribute-public.json",
    ],
    check: check_ec2_image,
};

pub static RDS_SNAPSHOT: Rule = Rule {
    id: "rds-snapshot-cross-account-access",
    title: "RDS snapshot shared with an untrusted account",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "rds.amazonaws.com",
        names: &["ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A DB or cluster snapshot's `restore` attribute now includes an AWS account outside the zone of \
          trust: that account can restore the database and read every row.",
    fires: &[
        "cloudtrail-rds-modify-db-snapshot-attribute-account.json",
        "cloudtrail-rds-modify-db-cluster-snapshot-attribute-account.json",
    ],
    quiet: &[
        "cloudtrail-rds-modify-db-snapshot-attribute-remove.json",
        "cloudtrail-rds-modify-db-snapshot-attribute-public.json",
        "cloudtrail-rds-modify-db-cluster-snapshot-attribute-public.json",
    ],
    check: check_rds_snapshot,
};

/// A resource-policy rule of one event source (this module's and `policy_kinds`'): no state needs, no
/// remediation.
macro_rules! policy_rule {
    ($name:ident, $id:literal, $title:literal, $sev:expr, $source:expr, $events:expr, $doc:literal,
     $fires:expr, $quiet:expr, $check:ident) => {
        pub static $name: Rule = Rule {
            id: $id,
            title: $title,
            severity: $sev,
            cloudtrail: &[Trigger {
                source: $source,
                names: $events,
            }],
            config_types: &[],
            needs: &[],
            extra_permissions: &[],
            remediation: None,
            doc: $doc,
            fires: $fires,
            quiet: $quiet,
            check: $check,
        };
    };
}
pub(super) use policy_rule;

policy_rule!(
    KMS,
    "kms-key-cross-account-access",
    "KMS key policy grants an untrusted account",
    Severity::High,
    "kms.amazonaws.com",
    &["PutKeyPolicy", "CreateKey"],
    "A KMS key policy grants a principal of an AWS account outside the zone of trust: that account can use \
     (or manage) the key, so whatever it encrypts is readable there.",
    &["cloudtrail-kms-put-key-policy-account.json"],
    &["cloudtrail-kms-put-key-policy-private.json"],
    check_kms
);

policy_rule!(
    SQS,
    "sqs-queue-cross-account-access",
    "SQS queue policy grants an untrusted account",
    Severity::Medium,
    "sqs.amazonaws.com",
    &["SetQueueAttributes", "CreateQueue"],
    "An SQS queue policy grants a principal of an AWS account outside the zone of trust: it can read, \
     delete or inject messages.",
    &["cloudtrail-sqs-set-queue-attributes-policy-account.json"],
    &["cloudtrail-sqs-set-queue-attributes-policy-private.json"],
    check_sqs
);

policy_rule!(
    SNS,
    "sns-topic-cross-account-access",
    "SNS topic policy grants an untrusted account",
    Severity::Medium,
    "sns.amazonaws.com",
    &["SetTopicAttributes", "CreateTopic"],
    "An SNS topic policy grants a principal of an AWS account outside the zone of trust: it can publish \
     forged messages or subscribe and read them.",
    &["cloudtrail-sns-set-topic-attributes-policy-account.json"],
    &["cloudtrail-sns-set-topic-attributes-policy-private.json"],
    check_sns
);

policy_rule!(
    SECRETS,
    "secretsmanager-secret-cross-account-access",
    "Secrets Manager secret policy grants an untrusted account",
    Severity::High,
    "secretsmanager.amazonaws.com",
    &["PutResourcePolicy"],
    "A secret's resource policy grants a principal of an AWS account outside the zone of trust: it can read \
     the secret value (with access to the key that encrypts it).",
    &["cloudtrail-secretsmanager-put-resource-policy-account.json"],
    &["cloudtrail-secretsmanager-put-resource-policy-private.json"],
    check_secrets
);

policy_rule!(
    ECR,
    "ecr-repository-cross-account-access",
    "ECR repository policy grants an untrusted account",
    Severity::Medium,
    "ecr.amazonaws.com",
    &["SetRepositoryPolicy"],
    "An ECR repository policy grants a principal of an AWS account outside the zone of trust: it can pull \
     (or push) images, which often embed code and credentials.",
    &["cloudtrail-ecr-set-repository-policy-account.json"],
    &["cloudtrail-ecr-set-repository-policy-private.json"],
    check_ecr
);

policy_rule!(
    LAMBDA,
    "lambda-function-cross-account-access",
    "Lambda function callable from an untrusted account",
    Severity::Medium,
    "lambda.amazonaws.com",
    &["AddPermission20150331v2", "AddPermission20150331"],
    "A Lambda permission lets a principal of an AWS account outside the zone of trust (or a service acting \
     for one, pinned with aws:SourceAccount / aws:SourceArn) invoke the function or its URL: it can run \
     your code with your function's role.",
    &["cloudtrail-lambda-add-permission-account.json"],
    &["cloudtrail-lambda-add-permission-service-pinned.json"],
    check_lambda
);

// ---------------------------------------------------------------------------------------------------------
// Policies.
// ---------------------------------------------------------------------------------------------------------

/// Judges a resource policy for grants outside the zone of trust; shared with the sweep. Grants to
/// everyone in a public document are left to the public rule.
pub fn judge_policy(
    doc: &Value,
    kind: ResourceKind,
    what: &str,
    config: &RuleConfig,
    own_account: &str,
) -> Result<Option<Evidence>, CheckError> {
    let policy = engine::parse(doc, &format!("{what} policy"))?;
    let public = policy::resource_policy_public(&policy, kind).public;
    let grants = engine::external_grants(&policy, &engine::trusted(config, own_account), public);
    Ok((!grants.is_empty()).then(|| engine::external_evidence(doc, &grants)))
}

/// The account that owns the resource: the account field of its ARN, else the change's account.
fn owner(c: &Change, arn: &str) -> String {
    match crate::resource_kind::arn_account(arn) {
        "" => c.account.clone(),
        a => a.to_owned(),
    }
}

pub(super) fn policy_hits(
    ctx: &Ctx<'_>,
    target: Target,
    kind: ResourceKind,
    what: &str,
    severity: Severity,
) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let (Some(doc), resource) = target else {
        return Ok(Vec::new());
    };
    let Some(evidence) = judge_policy(&doc, kind, what, ctx.config, &owner(c, &resource.arn))? else {
        return Ok(Vec::new());
    };
    let name = resource.name_or_unknown().to_owned();
    Ok(vec![payload::payload_hit(
        resource,
        severity,
        format!(
            "{what} {name} opened to an untrusted account by {}",
            payload::who(c)
        ),
        evidence,
    )])
}

fn check_kms(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = resource_policy::kms_target(ctx.change)?;
    policy_hits(ctx, t, ResourceKind::KmsKey, "KMS key", Severity::High)
}

fn check_sqs(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = resource_policy::sqs_target(ctx.change)?;
    policy_hits(ctx, t, ResourceKind::SqsQueue, "SQS queue", Severity::Medium)
}

fn check_sns(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = resource_policy::sns_target(ctx.change)?;
    policy_hits(ctx, t, ResourceKind::SnsTopic, "SNS topic", Severity::Medium)
}

fn check_secrets(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = resource_policy::secret_target(ctx.change)?;
    policy_hits(
        ctx,
        t,
        ResourceKind::SecretsManagerSecret,
        "secret",
        Severity::High,
    )
}

fn check_ecr(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = resource_policy::ecr_target(ctx.change)?;
    policy_hits(
        ctx,
        t,
        ResourceKind::EcrRepository,
        "ECR repository",
        Severity::Medium,
    )
}

fn check_lambda(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = resource_policy::lambda_target(ctx.change)?;
    policy_hits(
        ctx,
        t,
        ResourceKind::LambdaFunction,
        "Lambda function",
        Severity::Medium,
    )
}

// ---------------------------------------------------------------------------------------------------------
// Shares.
// ---------------------------------------------------------------------------------------------------------

/// Judges share targets for targets outside the zone of trust; shared with the sweep.
pub fn judge_shares(
    targets: &[ShareTarget],
    what: &str,
    config: &RuleConfig,
    own_account: &str,
) -> Option<Evidence> {
    let shares = policy::shares_outside(targets, &engine::trusted(config, own_account));
    (!shares.is_empty()).then(|| engine::share_evidence(what, &shares))
}

/// The targets of an EC2 permission modification's `add` list (`{add: {items: [{userId | group |
/// organizationArn | organizationalUnitArn}]}}`, the `LaunchPermission` / `CreateVolumePermission` members
/// as CloudTrail logs them). `remove` narrows and is not read.
pub fn ec2_added(perm: &Value) -> Vec<ShareTarget> {
    items(at(perm, &["add"])).into_iter().flat_map(ec2_item).collect()
}

/// The targets one `LaunchPermission` / `CreateVolumePermission` item names (request or Describe*
/// response: the member names are the same, first letter lowercase).
pub fn ec2_item(item: &Value) -> Vec<ShareTarget> {
    let mut out = Vec::new();
    if let Some(u) = str_at(item, &["userId"]) {
        out.push(ShareTarget::Account(u.to_owned()));
    }
    if let Some(g) = str_at(item, &["group"]) {
        out.push(ShareTarget::Group(g.to_owned()));
    }
    if let Some(o) = str_at(item, &["organizationArn"]) {
        out.push(ShareTarget::Organization(o.to_owned()));
    }
    if let Some(o) = str_at(item, &["organizationalUnitArn"]) {
        out.push(ShareTarget::OrganizationalUnit(o.to_owned()));
    }
    out
}

/// The targets of an RDS `restore` attribute's values: account ids, or `all` (a group).
pub fn rds_values(values: &[&str]) -> Vec<ShareTarget> {
    values
        .iter()
        .map(|v| {
            if v.eq_ignore_ascii_case("all") {
                ShareTarget::Group((*v).to_owned())
            } else {
                ShareTarget::Account((*v).to_owned())
            }
        })
        .collect()
}

/// The permission object of an EC2 share, or an error saying the record lacks it when the call names that
/// attribute (`attributeType`) without it.
fn ec2_permission<'a>(c: &'a Change, key: &str, attribute: &str) -> Result<Option<&'a Value>, CheckError> {
    let req = payload::req(c);
    let perm = at(req, &[key]);
    if !perm.is_null() {
        return Ok(Some(perm));
    }
    let names_it =
        str_at(req, &["attributeType"]).is_some_and(|a| a.replace('_', "").eq_ignore_ascii_case(attribute));
    if names_it {
        return Err(CheckError::lacks_request(&[key]));
    }
    Ok(None)
}

fn share_hit(
    c: &Change,
    resource: crate::finding::FindingResource,
    evidence: Evidence,
    statement: Value,
    severity: Severity,
    what: &str,
) -> Vec<Hit> {
    let mut evidence = evidence;
    evidence.statements.push(statement);
    let name = resource.name_or_unknown().to_owned();
    vec![payload::payload_hit(
        resource,
        severity,
        format!(
            "{what} {name} shared with an untrusted account by {}",
            payload::who(c)
        ),
        evidence,
    )]
}

fn check_ec2_snapshot(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let Some(perm) = ec2_permission(c, "createVolumePermission", "createVolumePermission")? else {
        return Ok(Vec::new());
    };
    let targets = ec2_added(perm);
    let resource = payload::registered(c, "AWS::EC2::Snapshot", str_at(payload::req(c), &["snapshotId"]));
    let Some(evidence) = judge_shares(&targets, "create-volume permission", ctx.config, &c.account) else {
        return Ok(Vec::new());
    };
    Ok(share_hit(
        c,
        resource,
        evidence,
        perm.clone(),
        Severity::High,
        "EBS snapshot",
    ))
}

fn check_ec2_image(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let Some(perm) = ec2_permission(c, "launchPermission", "launchPermission")? else {
        return Ok(Vec::new());
    };
    let targets = ec2_added(perm);
    let resource = payload::registered(c, "AWS::EC2::Image", str_at(payload::req(c), &["imageId"]));
    let Some(evidence) = judge_shares(&targets, "launch permission", ctx.config, &c.account) else {
        return Ok(Vec::new());
    };
    Ok(share_hit(
        c,
        resource,
        evidence,
        perm.clone(),
        Severity::Medium,
        "AMI",
    ))
}

fn check_rds_snapshot(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    // The call names the attribute it modifies; without it the record does not say what was shared.
    let attribute = payload::require(req, &["attributeName"])?.as_str();
    if !attribute.is_some_and(|a| a.eq_ignore_ascii_case("restore")) {
        return Ok(Vec::new());
    }
    let added = items(at(req, &["valuesToAdd"]));
    let values: Vec<&str> = added.iter().filter_map(|v| v.as_str()).collect();
    let targets = rds_values(&values);
    let cluster = c.event_name == "ModifyDBClusterSnapshotAttribute";
    let (rtype, id) = if cluster {
        (
            "AWS::RDS::DBClusterSnapshot",
            str_at(req, &["dBClusterSnapshotIdentifier"])
                .or_else(|| str_at(req, &["dbClusterSnapshotIdentifier"])),
        )
    } else {
        (
            "AWS::RDS::DBSnapshot",
            str_at(req, &["dBSnapshotIdentifier"]).or_else(|| str_at(req, &["dbSnapshotIdentifier"])),
        )
    };
    let Some(evidence) = judge_shares(&targets, "restore attribute", ctx.config, &c.account) else {
        return Ok(Vec::new());
    };
    let resource = payload::registered(c, rtype, id);
    Ok(share_hit(
        c,
        resource,
        evidence,
        json!({"attributeName": "restore", "valuesToAdd": at(req, &["valuesToAdd"])}),
        Severity::High,
        "RDS snapshot",
    ))
}

// ---------------------------------------------------------------------------------------------------------
// Sweep: what exists now, per kind, judged by both the kind's public rule and its cross-account rule.
// ---------------------------------------------------------------------------------------------------------

/// A kind the sweep reads share attributes or a resource policy of. The AWS layer's reader matches on it
/// exhaustively (a kind in [`SWEPT_KINDS`] cannot be left without a reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SweptKindId {
    Ec2Snapshot,
    Ec2Image,
    RdsDbSnapshot,
    RdsClusterSnapshot,
    SqsQueue,
    SnsTopic,
    SecretsManagerSecret,
    KmsKey,
    EcrRepository,
    LambdaFunction,
    LambdaLayerVersion,
    // Issue 16: the policy kinds of `policy_kinds.rs`.
    S3AccessPoint,
    S3MultiRegionAccessPoint,
    EfsFileSystem,
    DynamoDbTable,
    OpenSearchDomain,
    GlacierVault,
}

/// One row of the sweep's per-kind registry.
#[derive(Debug, Clone, Copy)]
pub struct SweptKind {
    pub id: SweptKindId,
    /// The CloudFormation type (a row of `resource_kind::KINDS`).
    pub resource_type: &'static str,
    /// For summaries: `EBS snapshot`.
    pub what: &'static str,
    /// `Some`: the kind exposes a resource policy judged with this kind's public definition; `None`: share
    /// attributes.
    pub policy: Option<ResourceKind>,
    pub public_rule: &'static Rule,
    pub cross_rule: &'static Rule,
    /// The IAM read permissions its reader calls (listing, attribute or policy, tags).
    pub permissions: &'static [&'static str],
}

/// Every kind the sweep reads, in order. Each kind's reader lists the resources of the region (paginated)
/// and reads their share attributes or policy; both rules of the kind run on what it reads.
pub static SWEPT_KINDS: &[SweptKind] = &[
    SweptKind {
        id: SweptKindId::Ec2Snapshot,
        resource_type: "AWS::EC2::Snapshot",
        what: "EBS snapshot",
        policy: None,
        public_rule: &super::ec2::SNAPSHOT_PUBLIC,
        cross_rule: &EC2_SNAPSHOT,
        permissions: &["ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"],
    },
    SweptKind {
        id: SweptKindId::Ec2Image,
        resource_type: "AWS::EC2::Image",
        what: "AMI",
        policy: None,
        public_rule: &super::ec2::IMAGE_PUBLIC,
        cross_rule: &EC2_IMAGE,
        permissions: &["ec2:DescribeImages", "ec2:DescribeImageAttribute"],
    },
    SweptKind {
        id: SweptKindId::RdsDbSnapshot,
        resource_type: "AWS::RDS::DBSnapshot",
        what: "RDS snapshot",
        policy: None,
        public_rule: &super::rds::SNAPSHOT_PUBLIC,
        cross_rule: &RDS_SNAPSHOT,
        permissions: &["rds:DescribeDBSnapshots", "rds:DescribeDBSnapshotAttributes"],
    },
    SweptKind {
        id: SweptKindId::RdsClusterSnapshot,
        resource_type: "AWS::RDS::DBClusterSnapshot",
        what: "RDS cluster snapshot",
        policy: None,
        public_rule: &super::rds::CLUSTER_SNAPSHOT_PUBLIC,
        cross_rule: &RDS_SNAPSHOT,
        permissions: &[
            "rds:DescribeDBClusterSnapshots",
            "rds:DescribeDBClusterSnapshotAttributes",
        ],
    },
    SweptKind {
        id: SweptKindId::SqsQueue,
        resource_type: "AWS::SQS::Queue",
        what: "SQS queue",
        policy: Some(ResourceKind::SqsQueue),
        public_rule: &resource_policy::SQS,
        cross_rule: &SQS,
        permissions: &["sqs:ListQueues", "sqs:GetQueueAttributes", "sqs:ListQueueTags"],
    },
    SweptKind {
        id: SweptKindId::SnsTopic,
        resource_type: "AWS::SNS::Topic",
        what: "SNS topic",
        policy: Some(ResourceKind::SnsTopic),
        public_rule: &resource_policy::SNS,
        cross_rule: &SNS,
        permissions: &[
            "sns:ListTopics",
            "sns:GetTopicAttributes",
            "sns:ListTagsForResource",
        ],
    },
    SweptKind {
        id: SweptKindId::SecretsManagerSecret,
        resource_type: "AWS::SecretsManager::Secret",
        what: "secret",
        policy: Some(ResourceKind::SecretsManagerSecret),
        public_rule: &resource_policy::SECRETS,
        cross_rule: &SECRETS,
        permissions: &["secretsmanager:ListSecrets", "secretsmanager:GetResourcePolicy"],
    },
    // Customer-managed keys only (`DescribeKey` `KeyManager` `CUSTOMER`): an AWS-managed key's policy is
    // AWS's own. The key policy is the one named `default` (the only name `GetKeyPolicy` accepts).
    SweptKind {
        id: SweptKindId::KmsKey,
        resource_type: "AWS::KMS::Key",
        what: "KMS key",
        policy: Some(ResourceKind::KmsKey),
        public_rule: &resource_policy::KMS,
        cross_rule: &KMS,
        permissions: &[
            "kms:ListKeys",
            "kms:GetKeyPolicy",
            "kms:DescribeKey",
            "kms:ListResourceTags",
        ],
    },
    SweptKind {
        id: SweptKindId::EcrRepository,
        resource_type: "AWS::ECR::Repository",
        what: "ECR repository",
        policy: Some(ResourceKind::EcrRepository),
        public_rule: &resource_policy::ECR,
        cross_rule: &ECR,
        permissions: &[
            "ecr:DescribeRepositories",
            "ecr:GetRepositoryPolicy",
            "ecr:ListTagsForResource",
        ],
    },
    SweptKind {
        id: SweptKindId::LambdaFunction,
        resource_type: "AWS::Lambda::Function",
        what: "Lambda function",
        policy: Some(ResourceKind::LambdaFunction),
        public_rule: &resource_policy::LAMBDA,
        cross_rule: &LAMBDA,
        permissions: &["lambda:ListFunctions", "lambda:GetPolicy", "lambda:ListTags"],
    },
    // Every version of every layer (`ListLayers`, then `ListLayerVersions` of each), its policy with
    // `GetLayerVersionPolicy`. Layers take no tags: exemptions by tag do not apply to them.
    SweptKind {
        id: SweptKindId::LambdaLayerVersion,
        resource_type: "AWS::Lambda::LayerVersion",
        what: "Lambda layer version",
        policy: Some(ResourceKind::LambdaFunction),
        public_rule: &super::lambda_layer::PUBLIC,
        cross_rule: &super::lambda_layer::CROSS_ACCOUNT,
        permissions: &[
            "lambda:ListLayers",
            "lambda:GetLayerVersionPolicy",
            "lambda:ListLayerVersions",
        ],
    },
    // Issue 16. S3 Control calls name the account (`x-amz-account-id`): the caller's, from
    // `sts:GetCallerIdentity` (no permission needed). Access points carry no tags in their listing and are
    // not read for tags (exemption tags do not apply to them).
    SweptKind {
        id: SweptKindId::S3AccessPoint,
        resource_type: "AWS::S3::AccessPoint",
        what: "S3 access point",
        policy: Some(ResourceKind::S3AccessPoint),
        public_rule: &super::policy_kinds::S3_ACCESS_POINT_PUBLIC,
        cross_rule: &super::policy_kinds::S3_ACCESS_POINT_CROSS,
        permissions: &["s3:ListAccessPoints", "s3:GetAccessPointPolicy"],
    },
    SweptKind {
        id: SweptKindId::S3MultiRegionAccessPoint,
        resource_type: "AWS::S3::MultiRegionAccessPoint",
        what: "Multi-Region Access Point",
        policy: Some(ResourceKind::S3AccessPoint),
        public_rule: &super::policy_kinds::S3_ACCESS_POINT_PUBLIC,
        cross_rule: &super::policy_kinds::S3_ACCESS_POINT_CROSS,
        permissions: &[
            "s3:ListMultiRegionAccessPoints",
            "s3:GetMultiRegionAccessPointPolicy",
        ],
    },
    SweptKind {
        id: SweptKindId::EfsFileSystem,
        resource_type: "AWS::EFS::FileSystem",
        what: "EFS file system",
        policy: Some(ResourceKind::EfsFileSystem),
        public_rule: &super::policy_kinds::EFS_PUBLIC,
        cross_rule: &super::policy_kinds::EFS_CROSS,
        permissions: &[
            "elasticfilesystem:DescribeFileSystems",
            "elasticfilesystem:DescribeFileSystemPolicy",
        ],
    },
    // A table and its stream (`DescribeTable`'s `LatestStreamArn`) are listed as two resources of the kind.
    SweptKind {
        id: SweptKindId::DynamoDbTable,
        resource_type: "AWS::DynamoDB::Table",
        what: "DynamoDB table",
        policy: Some(ResourceKind::DynamoDbTable),
        public_rule: &super::policy_kinds::DYNAMODB_PUBLIC,
        cross_rule: &super::policy_kinds::DYNAMODB_CROSS,
        permissions: &[
            "dynamodb:ListTables",
            "dynamodb:GetResourcePolicy",
            "dynamodb:DescribeTable",
            "dynamodb:ListTagsOfResource",
        ],
    },
    SweptKind {
        id: SweptKindId::OpenSearchDomain,
        resource_type: "AWS::OpenSearchService::Domain",
        what: "OpenSearch domain",
        policy: Some(ResourceKind::OpenSearchDomain),
        public_rule: &super::policy_kinds::OPENSEARCH_PUBLIC,
        cross_rule: &super::policy_kinds::OPENSEARCH_CROSS,
        permissions: &["es:ListDomainNames", "es:DescribeDomainConfig", "es:ListTags"],
    },
    SweptKind {
        id: SweptKindId::GlacierVault,
        resource_type: "AWS::Glacier::Vault",
        what: "Glacier vault",
        policy: Some(ResourceKind::GlacierVault),
        public_rule: &super::policy_kinds::GLACIER_PUBLIC,
        cross_rule: &super::policy_kinds::GLACIER_CROSS,
        permissions: &[
            "glacier:ListVaults",
            "glacier:GetVaultAccessPolicy",
            "glacier:ListTagsForVault",
        ],
    },
];

/// The read permissions of every swept kind, sorted and unique (the template's sweep reads).
pub fn swept_permissions() -> Vec<&'static str> {
    let set: std::collections::BTreeSet<&'static str> = SWEPT_KINDS
        .iter()
        .flat_map(|k| k.permissions.iter().copied())
        .collect();
    set.into_iter().collect()
}

/// What a kind's reader read of one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Exposure {
    /// Share attribute targets (snapshot `createVolumePermission`, AMI `launchPermission`, RDS `restore`).
    Shares(Vec<ShareTarget>),
    /// The resource policy; `None`: the resource has none.
    Policy(Option<Value>),
}

/// One resource as a kind's reader found it.
#[derive(Debug, Clone, PartialEq)]
pub struct SweptResource {
    /// The id its kind uses (snapshot id, queue URL, topic ARN, secret ARN...).
    pub id: String,
    pub arn: String,
    /// Its name, for findings.
    pub name: String,
    pub exposure: Exposure,
    /// Tags when the listing returned them (`None`: not read; the reader reads them when a rule fires).
    pub tags: Option<std::collections::BTreeMap<String, String>>,
}

fn shared_with_all(targets: &[ShareTarget], what: &str) -> Option<Evidence> {
    let all: Vec<&str> = targets
        .iter()
        .filter_map(|t| match t {
            ShareTarget::Group(g) if g.eq_ignore_ascii_case("all") => Some(g.as_str()),
            _ => None,
        })
        .collect();
    (!all.is_empty()).then(|| {
        payload::reasons(vec![format!(
            "{what} shared with group `{}` (every AWS account)",
            all.join("`, `")
        )])
    })
}

/// Sweep: judges one resource of a swept kind with its public rule and its cross-account rule.
pub fn assess_swept(
    sweep: &super::SweepContext<'_>,
    kind: &SweptKind,
    res: &SweptResource,
    config: &RuleConfig,
) -> super::Evaluation {
    let mut out = super::Evaluation::default();
    let ev = sweep.event("AssessSharedResource");
    let resource = crate::finding::FindingResource {
        resource_type: kind.resource_type.to_owned(),
        arn: res.arn.clone(),
        name: Some(res.name.clone()),
    };
    let own = match crate::resource_kind::arn_account(&res.arn) {
        "" => sweep.account,
        a => a,
    };
    let tags = res.tags.as_ref();
    let what = kind.what;
    let name = &res.name;
    let (public, cross): (
        Result<Option<Evidence>, CheckError>,
        Result<Option<Evidence>, CheckError>,
    ) = match (&res.exposure, kind.policy) {
        (Exposure::Shares(targets), _) => {
            let label = match kind.id {
                SweptKindId::Ec2Snapshot => "create-volume permission",
                SweptKindId::Ec2Image => "launch permission",
                _ => "restore attribute",
            };
            let mut cross = judge_shares(targets, label, config, own);
            if let Some(e) = cross.as_mut() {
                e.statements.push(json!({"shared_with": share_values(targets)}));
            }
            (Ok(shared_with_all(targets, label)), Ok(cross))
        }
        (Exposure::Policy(Some(doc)), Some(pkind)) => {
            let public = engine::parse(doc, &format!("{what} policy")).map(|p| {
                let v = policy::resource_policy_public(&p, pkind);
                v.public.then(|| engine::public_evidence(doc, &v))
            });
            (public, judge_policy(doc, pkind, what, config, own))
        }
        _ => (Ok(None), Ok(None)),
    };
    super::sweep_hit(
        &mut out,
        kind.public_rule,
        public.map(|e| e.map(|e| (kind.public_rule.severity, e))),
        &resource,
        |_| format!("{what} {name} is public"),
        true,
        &ev,
        tags,
        config,
    );
    super::sweep_hit(
        &mut out,
        kind.cross_rule,
        cross.map(|e| e.map(|e| (kind.cross_rule.severity, e))),
        &resource,
        |_| format!("{what} {name} is shared with an untrusted account"),
        true,
        &ev,
        tags,
        config,
    );
    out
}

fn share_values(targets: &[ShareTarget]) -> Vec<&str> {
    targets
        .iter()
        .map(|t| match t {
            ShareTarget::Account(v)
            | ShareTarget::Group(v)
            | ShareTarget::Organization(v)
            | ShareTarget::OrganizationalUnit(v) => v.as_str(),
        })
        .collect()
}
