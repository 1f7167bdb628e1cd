//! Resource policies of the kinds issue 16 adds, each judged twice: "is it public?" (the service's own
//! definition where AWS publishes one, see [`crate::policy::resource_policy_public`]) and "does it grant an
//! account outside the zone of trust?" (the one zone of `external.rs`):
//!
//! | kind | public rule | cross-account rule | calls (CloudTrail `eventName`) |
//! | --- | --- | --- | --- |
//! | S3 access point, Multi-Region Access Point | `s3-access-point-policy-public` | `s3-access-point-cross-account-access` | `PutAccessPointPolicy`, `PutMultiRegionAccessPointPolicy` |
//! | EFS file system | `efs-file-system-policy-public` | `efs-file-system-cross-account-access` | `PutFileSystemPolicy` |
//! | DynamoDB table / stream | `dynamodb-table-policy-public` | `dynamodb-table-cross-account-access` | `PutResourcePolicy`, `CreateTable` (`resourcePolicy`) |
//! | OpenSearch Service domain | `opensearch-domain-policy-public` | `opensearch-domain-cross-account-access` | `CreateDomain`, `UpdateDomainConfig` and the legacy `CreateElasticsearchDomain`, `UpdateElasticsearchDomainConfig` (`accessPolicies`) |
//! | S3 Glacier vault | `glacier-vault-policy-public` | `glacier-vault-cross-account-access` | `SetVaultAccessPolicy` |
//!
//! `CreateAccessPoint` and `CreateMultiRegionAccessPoint` carry no policy (S3 Control API reference: the
//! request holds the name, bucket, VPC configuration and Block Public Access settings only): an access point
//! gets its policy through `PutAccessPointPolicy` / `PutMultiRegionAccessPointPolicy`, which are judged.
//! A Multi-Region Access Point's ARN is built from its alias, which the policy call does not carry: the
//! finding names it and leaves the ARN empty (never made up).

use serde_json::Value;

use super::external::policy_hits;
use super::payload::{self, at, str_at};
use super::resource_policy::{judge, Target};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::Change;
use crate::finding::Severity;
use crate::policy::ResourceKind;

const S3: &str = "s3.amazonaws.com";
const EFS: &str = "elasticfilesystem.amazonaws.com";
const DYNAMODB: &str = "dynamodb.amazonaws.com";
const ES: &str = "es.amazonaws.com";
const GLACIER: &str = "glacier.amazonaws.com";

const S3_EVENTS: &[&str] = &["PutAccessPointPolicy", "PutMultiRegionAccessPointPolicy"];
const EFS_EVENTS: &[&str] = &["PutFileSystemPolicy"];
const DYNAMODB_EVENTS: &[&str] = &["PutResourcePolicy", "CreateTable"];
const ES_EVENTS: &[&str] = &[
    "CreateDomain",
    "UpdateDomainConfig",
    "CreateElasticsearchDomain",
    "UpdateElasticsearchDomainConfig",
];
const GLACIER_EVENTS: &[&str] = &["SetVaultAccessPolicy"];

use super::external::policy_rule as rule;

rule!(
    S3_ACCESS_POINT_PUBLIC,
    "s3-access-point-policy-public",
    "S3 access point policy grants public access",
    Severity::Critical,
    S3,
    S3_EVENTS,
    "An S3 access point (or Multi-Region Access Point) policy is public by S3's own definition: anyone can \
     reach the bucket's data through it, as far as the bucket policy delegates to its access points.",
    &[
        "cloudtrail-s3-put-access-point-policy-public.json",
        "cloudtrail-s3-put-multi-region-access-point-policy-public.json",
    ],
    &["cloudtrail-s3-put-access-point-policy-private.json"],
    check_s3_public
);

rule!(
    S3_ACCESS_POINT_CROSS,
    "s3-access-point-cross-account-access",
    "S3 access point policy grants an untrusted account",
    Severity::High,
    S3,
    S3_EVENTS,
    "An S3 access point (or Multi-Region Access Point) policy grants a principal of an AWS account outside \
     the zone of trust: it can read or write the bucket's data through the access point.",
    &["cloudtrail-s3-put-access-point-policy-account.json"],
    &["cloudtrail-s3-put-access-point-policy-private.json"],
    check_s3_cross
);

rule!(
    EFS_PUBLIC,
    "efs-file-system-policy-public",
    "EFS file system policy grants public access",
    Severity::Critical,
    EFS,
    EFS_EVENTS,
    "An EFS file system policy is public by EFS's own definition (no fixed principal, source, VPC or \
     mount-target condition): any client that can reach the file system can mount, write or act as root.",
    &["cloudtrail-efs-put-file-system-policy-public.json"],
    &["cloudtrail-efs-put-file-system-policy-mount-target.json"],
    check_efs_public
);

rule!(
    EFS_CROSS,
    "efs-file-system-cross-account-access",
    "EFS file system policy grants an untrusted account",
    Severity::High,
    EFS,
    EFS_EVENTS,
    "An EFS file system policy grants a principal of an AWS account outside the zone of trust (or every \
     account, limited only by the network path): it can mount and read or write the file system.",
    &["cloudtrail-efs-put-file-system-policy-account.json"],
    &["cloudtrail-efs-put-file-system-policy-private.json"],
    check_efs_cross
);

rule!(
    DYNAMODB_PUBLIC,
    "dynamodb-table-policy-public",
    "DynamoDB table or stream policy grants public access",
    Severity::Critical,
    DYNAMODB,
    DYNAMODB_EVENTS,
    "A DynamoDB table or stream resource policy is public by DynamoDB's own definition: anyone can read or \
     change the table's items (or read its change stream).",
    &[
        "cloudtrail-dynamodb-put-resource-policy-public.json",
        "cloudtrail-dynamodb-put-resource-policy-source-ip.json",
    ],
    &["cloudtrail-dynamodb-put-resource-policy-private.json"],
    check_dynamodb_public
);

rule!(
    DYNAMODB_CROSS,
    "dynamodb-table-cross-account-access",
    "DynamoDB table or stream policy grants an untrusted account",
    Severity::High,
    DYNAMODB,
    DYNAMODB_EVENTS,
    "A DynamoDB table or stream resource policy grants a principal of an AWS account outside the zone of \
     trust: it can read or change the table's items.",
    &["cloudtrail-dynamodb-put-resource-policy-account.json"],
    &["cloudtrail-dynamodb-put-resource-policy-private.json"],
    check_dynamodb_cross
);

rule!(
    OPENSEARCH_PUBLIC,
    "opensearch-domain-policy-public",
    "OpenSearch domain access policy grants public access",
    Severity::Critical,
    ES,
    ES_EVENTS,
    "An OpenSearch Service domain access policy allows any principal without a limiting condition (an \
     IP-based policy limited to narrow ranges is not public): anyone who reaches the endpoint can search, \
     read and write its indexes.",
    &[
        "cloudtrail-opensearch-update-domain-config-public.json",
        "cloudtrail-es-update-elasticsearch-domain-config-public.json",
    ],
    &["cloudtrail-opensearch-update-domain-config-ip.json"],
    check_opensearch_public
);

rule!(
    OPENSEARCH_CROSS,
    "opensearch-domain-cross-account-access",
    "OpenSearch domain access policy grants an untrusted account",
    Severity::High,
    ES,
    ES_EVENTS,
    "An OpenSearch Service domain access policy grants a principal of an AWS account outside the zone of \
     trust: it can search, read and write the domain's indexes.",
    &["cloudtrail-opensearch-update-domain-config-account.json"],
    &["cloudtrail-opensearch-update-domain-config-private.json"],
    check_opensearch_cross
);

rule!(
    GLACIER_PUBLIC,
    "glacier-vault-policy-public",
    "S3 Glacier vault access policy grants public access",
    Severity::Critical,
    GLACIER,
    GLACIER_EVENTS,
    "An S3 Glacier vault access policy allows any principal without a limiting condition: anyone can \
     retrieve (or delete) the archives it holds.",
    &["cloudtrail-glacier-set-vault-access-policy-public.json"],
    &["cloudtrail-glacier-set-vault-access-policy-private.json"],
    check_glacier_public
);

rule!(
    GLACIER_CROSS,
    "glacier-vault-cross-account-access",
    "S3 Glacier vault access policy grants an untrusted account",
    Severity::High,
    GLACIER,
    GLACIER_EVENTS,
    "An S3 Glacier vault access policy grants a principal of an AWS account outside the zone of trust: it \
     can retrieve (or delete) the vault's archives.",
    &["cloudtrail-glacier-set-vault-access-policy-account.json"],
    &["cloudtrail-glacier-set-vault-access-policy-private.json"],
    check_glacier_cross
);

// ---------------------------------------------------------------------------------------------------------
// Targets: the document a call sets and the resource it names.
// ---------------------------------------------------------------------------------------------------------

/// The first path holding a policy document, or the error naming every path the record lacks.
fn document_at(req: &Value, paths: &[&[&str]]) -> Result<Value, CheckError> {
    for p in paths {
        let v = at(req, p);
        if !v.is_null() {
            return payload::document(v).ok_or_else(|| CheckError::NotADocument {
                path: format!("requestParameters.{}", p.join(".")),
            });
        }
    }
    Err(CheckError::Lacks {
        subject: "the call",
        missing: paths
            .iter()
            .map(|p| format!("requestParameters.{}", p.join(".")))
            .collect(),
        nor: None,
    })
}

/// The account an S3 Control call names: the `x-amz-account-id` header CloudTrail logs with the request,
/// else the `<account>.s3-control.<region>.amazonaws.com` host, else the change's account.
fn s3control_account(c: &Change) -> String {
    let req = payload::req(c);
    if let Some(a) = str_at(req, &["x-amz-account-id"]).filter(|a| crate::resource_kind::is_account_id(a)) {
        return a.to_owned();
    }
    str_at(req, &["Host"])
        .and_then(|h| h.split('.').next())
        .filter(|a| crate::resource_kind::is_account_id(a))
        .map(str::to_owned)
        .unwrap_or_else(|| c.account.clone())
}

/// `PutAccessPointPolicy`: `name` (the access point's name or ARN) and the XML body CloudTrail logs as
/// `PutAccessPointPolicyRequest.Policy` (S3 Control API reference, PutAccessPointPolicy request syntax:
/// `<PutAccessPointPolicyRequest><Policy>string</Policy></PutAccessPointPolicyRequest>`).
/// `PutMultiRegionAccessPointPolicy`: `PutMultiRegionAccessPointPolicyRequest.Details.{Name, Policy}`
/// (request syntax `<PutMultiRegionAccessPointPolicyRequest><ClientToken/><Details><Name/><Policy/>`).
pub(super) fn s3_access_point_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    let account = s3control_account(c);
    if c.event_name == "PutMultiRegionAccessPointPolicy" {
        let details = &["PutMultiRegionAccessPointPolicyRequest", "Details"];
        let doc = document_at(req, &[&[details[0], details[1], "Policy"]])?;
        let name = str_at(req, &[details[0], details[1], "Name"]);
        let resource = payload::resource(c, "AWS::S3::MultiRegionAccessPoint", name, |n| {
            if n.starts_with("arn:") {
                n.to_owned()
            } else {
                String::new()
            }
        });
        return Ok((Some(doc), resource));
    }
    let doc = document_at(req, &[&["PutAccessPointPolicyRequest", "Policy"], &["policy"]])?;
    let name = str_at(req, &["name"]);
    let short = name.map(|n| n.rsplit('/').next().unwrap_or(n));
    let resource = payload::resource(c, "AWS::S3::AccessPoint", short, |n| {
        match name.filter(|full| full.starts_with("arn:")) {
            Some(full) => full.to_owned(),
            None => payload::arn_in_account(c, "AWS::S3::AccessPoint", &account, n),
        }
    });
    Ok((Some(doc), resource))
}

/// `PutFileSystemPolicy`: `fileSystemId` and `policy`, both required (EFS API reference).
pub(super) fn efs_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    let doc = payload::required_document(req, &["policy"])?;
    let id = str_at(req, &["fileSystemId"]);
    let short = id.map(|i| i.rsplit('/').next().unwrap_or(i));
    let resource = payload::resource(c, "AWS::EFS::FileSystem", short, |n| match id {
        Some(full) if full.starts_with("arn:") => full.to_owned(),
        _ => payload::arn_in(c, "AWS::EFS::FileSystem", n),
    });
    Ok((Some(doc), resource))
}

/// `PutResourcePolicy`: `resourceArn` (a table or stream ARN) and `policy`, both required (DynamoDB API
/// reference); `CreateTable`: `tableName` and the optional `resourcePolicy`.
pub(super) fn dynamodb_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    let (doc, arn) = if c.event_name == "CreateTable" {
        let arn = str_at(payload::resp(c), &["tableDescription", "tableArn"])
            .map(str::to_owned)
            .or_else(|| str_at(req, &["tableName"]).map(|n| payload::arn_in(c, "AWS::DynamoDB::Table", n)));
        (payload::document(at(req, &["resourcePolicy"])), arn)
    } else {
        let doc = payload::required_document(req, &["policy"])?;
        let arn = str_at(req, &["resourceArn"]).map(str::to_owned);
        (Some(doc), arn)
    };
    let name = arn
        .as_deref()
        .map(|a| crate::resource_kind::arn_name(a).to_owned());
    let resource = payload::resource(c, "AWS::DynamoDB::Table", name.as_deref(), |_| {
        arn.clone().unwrap_or_default()
    });
    Ok((doc, resource))
}

/// `CreateDomain` / `UpdateDomainConfig` (and the legacy `...ElasticsearchDomain...` calls): `domainName`
/// and the optional `accessPolicies` (a configuration update without it leaves the policy as it was).
pub(super) fn opensearch_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    let doc = match at(req, &["accessPolicies"]) {
        Value::Null => None,
        v => Some(payload::document(v).ok_or_else(|| CheckError::NotADocument {
            path: "requestParameters.accessPolicies".into(),
        })?),
    };
    let name = str_at(req, &["domainName"]);
    let resource = payload::registered(c, "AWS::OpenSearchService::Domain", name);
    Ok((doc, resource))
}

/// `SetVaultAccessPolicy`: `accountId` (`-` = the caller's account), `vaultName` and `policy.policy`
/// (Glacier API reference, Set Vault Access Policy: the body is `{"Policy": "string"}`).
pub(super) fn glacier_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    let doc = document_at(req, &[&["policy", "policy"], &["policy", "Policy"]])?;
    let account = match str_at(req, &["accountId"]) {
        Some(a) if crate::resource_kind::is_account_id(a) => a.to_owned(),
        _ => c.account.clone(),
    };
    let name = str_at(req, &["vaultName"]);
    let resource = payload::resource(c, "AWS::Glacier::Vault", name, |n| {
        payload::arn_in_account(c, "AWS::Glacier::Vault", &account, n)
    });
    Ok((Some(doc), resource))
}

// ---------------------------------------------------------------------------------------------------------
// Checks.
// ---------------------------------------------------------------------------------------------------------

fn what_s3(c: &Change) -> &'static str {
    if c.event_name == "PutMultiRegionAccessPointPolicy" {
        "Multi-Region Access Point"
    } else {
        "S3 access point"
    }
}

fn public(ctx: &Ctx<'_>, t: Target, kind: ResourceKind, what: &str) -> Result<Vec<Hit>, CheckError> {
    let (doc, resource) = t;
    judge(ctx.change, doc, kind, resource, what, Severity::Critical)
}

fn check_s3_public(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = s3_access_point_target(ctx.change)?;
    public(ctx, t, ResourceKind::S3AccessPoint, what_s3(ctx.change))
}

fn check_s3_cross(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = s3_access_point_target(ctx.change)?;
    policy_hits(
        ctx,
        t,
        ResourceKind::S3AccessPoint,
        what_s3(ctx.change),
        Severity::High,
    )
}

fn check_efs_public(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = efs_target(ctx.change)?;
    public(ctx, t, ResourceKind::EfsFileSystem, "EFS file system")
}

fn check_efs_cross(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = efs_target(ctx.change)?;
    policy_hits(
        ctx,
        t,
        ResourceKind::EfsFileSystem,
        "EFS file system",
        Severity::High,
    )
}

fn check_dynamodb_public(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = dynamodb_target(ctx.change)?;
    public(ctx, t, ResourceKind::DynamoDbTable, "DynamoDB table")
}

fn check_dynamodb_cross(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = dynamodb_target(ctx.change)?;
    policy_hits(
        ctx,
        t,
        ResourceKind::DynamoDbTable,
        "DynamoDB table",
        Severity::High,
    )
}

fn check_opensearch_public(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = opensearch_target(ctx.change)?;
    public(ctx, t, ResourceKind::OpenSearchDomain, "OpenSearch domain")
}

fn check_opensearch_cross(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = opensearch_target(ctx.change)?;
    policy_hits(
        ctx,
        t,
        ResourceKind::OpenSearchDomain,
        "OpenSearch domain",
        Severity::High,
    )
}

fn check_glacier_public(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = glacier_target(ctx.change)?;
    public(ctx, t, ResourceKind::GlacierVault, "Glacier vault")
}

fn check_glacier_cross(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let t = glacier_target(ctx.change)?;
    policy_hits(
        ctx,
        t,
        ResourceKind::GlacierVault,
        "Glacier vault",
        Severity::High,
    )
}
