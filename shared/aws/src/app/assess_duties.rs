//! The customer-duty part of the account assessment (issue 18): the account password policy, and in every
//! region enabled for the account its network ACLs, RDS instances and clusters and the patch compliance
//! AWS Config recorded. Bucket TLS is judged with each bucket ([`super::assess`]).
//!
//! A family that cannot be read (listing refused, service unavailable in a region...) is named in the
//! assessment's errors and the assessment goes on: the sweep then ends incomplete (`SweepIncomplete`) with
//! the rest judged, rather than failing on a service the account may not use. Regions run with the sweep's
//! bounded concurrency; no region's reads start after the cutoff (they are listed as unread).

use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde_json::Value;

use super::assess::{AccountAssessment, Assessed};
use crate::{AwsError, DutiesRead};
use tripline_core::rules::{self, Evaluation, SweepContext};
use tripline_core::settings::RuleConfig;

/// What one region's reads gave: `(family, result)`.
type RegionReads = Vec<(&'static str, Result<Vec<Value>, AwsError>)>;

const FAMILIES: [&str; 4] = [
    "network ACLs",
    "DB instances",
    "DB clusters",
    "patch compliance items",
];

async fn read_region<D: DutiesRead>(aws: &D, region: &str) -> RegionReads {
    let (acls, instances, clusters, patches) = futures::join!(
        aws.network_acls(region),
        aws.db_instances(region),
        aws.db_clusters(region),
        aws.patch_compliance_items(region),
    );
    FAMILIES
        .into_iter()
        .zip([acls, instances, clusters, patches])
        .collect()
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

/// Judges the duty families into `out` (see the module docs).
pub async fn assess_duties<D: DutiesRead>(
    aws: &D,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    concurrency: usize,
    cutoff: Option<Instant>,
    out: &mut AccountAssessment,
) {
    let expired = move || cutoff.is_some_and(|c| Instant::now() >= c);
    if expired() {
        out.unread.push("account password policy".into());
        out.unread
            .push("regional resources (network ACLs, DB instances and clusters, patch compliance)".into());
        out.unread.push(format!(
            "regional account state ({})",
            super::assess_account_state::FAMILIES.join(", ")
        ));
        return;
    }
    if aws.reads_account_settings() {
        password_policy(aws, rules_cfg, ctx, out).await;
    }
    if !aws.reads_regional() {
        return;
    }
    regional(aws, rules_cfg, ctx, concurrency, cutoff, out).await;
}

async fn password_policy<D: DutiesRead>(
    aws: &D,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    out: &mut AccountAssessment,
) {
    match aws.account_password_policy().await {
        Ok(policy) => {
            let evaluation = rules::assess_password_policy(ctx, policy.as_ref(), rules_cfg);
            let arn = format!("arn:aws:iam::{}:account-password-policy", ctx.account);
            push(
                out,
                "password_policy",
                "AWS::IAM::AccountPasswordPolicy",
                ctx.account,
                &arn,
                evaluation,
            );
        }
        Err(e) => out.errors.push(format!("account password policy: {e}")),
    }
}

async fn regional<D: DutiesRead>(
    aws: &D,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    concurrency: usize,
    cutoff: Option<Instant>,
    out: &mut AccountAssessment,
) {
    let expired = move || cutoff.is_some_and(|c| Instant::now() >= c);
    let regions = match aws.enabled_regions().await {
        // Only the regions of the account's own partition: credentials of one partition are valid in no
        // other (AWS's DescribeRegions lists only its partition's; an emulator may list every partition's).
        Ok(r) if !r.is_empty() => {
            let own = tripline_core::resource_kind::partition(ctx.region);
            r.into_iter()
                .filter(|region| tripline_core::resource_kind::partition(region) == own)
                .collect()
        }
        Ok(_) => vec![ctx.region.to_owned()],
        Err(e) => {
            out.errors.push(format!(
                "enabled regions: {e} (regional resources judged in `{}` only)",
                ctx.region
            ));
            vec![ctx.region.to_owned()]
        }
    };
    // The account-level state (issue 16) over the same regions.
    super::assess_account_state::assess_regions(aws, rules_cfg, ctx, &regions, concurrency, cutoff, out)
        .await;
    let results: Vec<(String, Option<RegionReads>)> = stream::iter(regions)
        .map(|region| async move {
            if expired() {
                return (region, None);
            }
            let reads = read_region(aws, &region).await;
            (region, Some(reads))
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (region, reads) in results {
        let Some(reads) = reads else {
            out.unread
                .extend(FAMILIES.iter().map(|f| format!("{f} in `{region}`")));
            continue;
        };
        for (family, result) in reads {
            let items = match result {
                Ok(items) => items,
                Err(e) => {
                    out.errors.push(format!("{family} in `{region}`: {e}"));
                    continue;
                }
            };
            for item in &items {
                match family {
                    "network ACLs" => {
                        let id = str_of(item, "NetworkAclId");
                        let ev = rules::assess_network_acl(ctx, &region, item, rules_cfg);
                        let arn = format!("arn:aws:ec2:{region}:{}:network-acl/{id}", ctx.account);
                        push(out, "network_acls", "AWS::EC2::NetworkAcl", id, &arn, ev);
                    }
                    "DB instances" => {
                        // AWS Config names a DB instance by its `DbiResourceId`.
                        let id = match str_of(item, "DbiResourceId") {
                            "" => str_of(item, "DBInstanceIdentifier"),
                            dbi => dbi,
                        };
                        let ev = rules::assess_db_instance(ctx, &region, item, rules_cfg);
                        let arn = str_of(item, "DBInstanceArn").to_owned();
                        push(out, "db_instances", "AWS::RDS::DBInstance", id, &arn, ev);
                    }
                    "DB clusters" => {
                        let id = match str_of(item, "DbClusterResourceId") {
                            "" => str_of(item, "DBClusterIdentifier"),
                            r => r,
                        };
                        let ev = rules::assess_db_cluster(ctx, &region, item, rules_cfg);
                        let arn = str_of(item, "DBClusterArn").to_owned();
                        push(out, "db_clusters", "AWS::RDS::DBCluster", id, &arn, ev);
                    }
                    _ => {
                        let id = str_of(item, "resourceId");
                        let ev = rules::assess_patch_compliance(ctx, &region, item, rules_cfg);
                        let node = id.rsplit('/').next().unwrap_or(id);
                        let arn = format!("arn:aws:ec2:{region}:{}:instance/{node}", ctx.account);
                        push(out, "patch_compliance", "AWS::SSM::PatchCompliance", id, &arn, ev);
                    }
                }
            }
        }
    }
}

fn push(
    out: &mut AccountAssessment,
    kind: &str,
    resource_type: &'static str,
    id: &str,
    arn: &str,
    evaluation: Evaluation,
) {
    *out.checked.entry(kind.into()).or_default() += 1;
    out.assessed.push(Assessed {
        resource_type,
        resource_id: id.to_owned(),
        arn: evaluation
            .findings
            .first()
            .map(|f| f.resource.arn.clone())
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| arn.to_owned()),
        evaluation,
    });
}

/// Whether on-config's scheduled evaluation reports `a` to its AWS Config rule, which runs in `region`: the
/// account password policy is no AWS Config resource type, and a regional resource belongs to its own
/// region's rule.
pub fn for_config_rule(a: &Assessed, region: &str) -> bool {
    if let Some(reported) = super::assess_account_state::for_config_rule(a, region) {
        return reported;
    }
    match a.resource_type {
        "AWS::IAM::AccountPasswordPolicy" => false,
        "AWS::EC2::NetworkAcl"
        | "AWS::RDS::DBInstance"
        | "AWS::RDS::DBCluster"
        | "AWS::SSM::PatchCompliance" => a.arn.contains(&format!(":{region}:")),
        _ => true,
    }
}
