//! RDS, judged from the payload: `rds-snapshot-public` (DB snapshots shared with `all`),
//! `rds-cluster-snapshot-public` (Aurora / Multi-AZ DB cluster snapshots shared with `all`),
//! `rds-instance-public` (an instance made publicly accessible), `rds-storage-unencrypted` (an instance or
//! cluster created with unencrypted storage).

use serde_json::json;

use super::payload::{self, at, bool_at, items, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::finding::Severity;
use crate::state::StateNeed;

pub static SNAPSHOT_PUBLIC: Rule = Rule {
    id: "rds-snapshot-public",
    title: "RDS snapshot made public",
    severity: Severity::Critical,
    cloudtrail: &[Trigger {
        source: "rds.amazonaws.com",
        names: &["ModifyDBSnapshotAttribute"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A DB snapshot's `restore` attribute now includes `all`: any AWS account can restore the database \
          from it and read every row (RDS User Guide, \"Sharing a DB snapshot\"). Cluster snapshots are \
          `rds-cluster-snapshot-public`'s. No automatic remediation yet: remove `all` with \
          `aws rds modify-db-snapshot-attribute` (the RDS SDK is not a dependency of remediate).",
    fires: &["cloudtrail-rds-modify-db-snapshot-attribute-public.json"],
    quiet: &["cloudtrail-rds-modify-db-snapshot-attribute-account.json"],
    check: check_snapshot,
};

/// `ModifyDBClusterSnapshotAttribute` (Aurora and Multi-AZ DB cluster snapshots): the same `restore`
/// attribute and `all` value as DB snapshots (RDS API Reference, `ModifyDBClusterSnapshotAttribute`: "To
/// make the manual DB cluster snapshot public, which means that it can be copied or restored by all Amazon
/// Web Services accounts, set it to `all`",
/// <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBClusterSnapshotAttribute.html>).
pub static CLUSTER_SNAPSHOT_PUBLIC: Rule = Rule {
    id: "rds-cluster-snapshot-public",
    title: "RDS cluster snapshot made public",
    severity: Severity::Critical,
    cloudtrail: &[Trigger {
        source: "rds.amazonaws.com",
        names: &["ModifyDBClusterSnapshotAttribute"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "An Aurora or Multi-AZ DB cluster snapshot's `restore` attribute now includes `all`: any AWS \
          account can copy or restore the cluster from it and read every row (RDS API Reference, \
          \"ModifyDBClusterSnapshotAttribute\"; Aurora User Guide, \"Sharing a DB cluster snapshot\"). No \
          automatic remediation yet: remove `all` with `aws rds modify-db-cluster-snapshot-attribute \
          --attribute-name restore --values-to-remove all`.",
    fires: &["cloudtrail-rds-modify-db-cluster-snapshot-attribute-public.json"],
    quiet: &["cloudtrail-rds-modify-db-cluster-snapshot-attribute-account.json"],
    check: check_snapshot,
};

const RDS: &str = "rds.amazonaws.com";

pub static INSTANCE_PUBLIC: Rule = Rule {
    id: "rds-instance-public",
    title: "RDS instance made publicly accessible",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: RDS,
        names: &[
            "CreateDBInstance",
            "ModifyDBInstance",
            "RestoreDBInstanceFromDBSnapshot",
            "RestoreDBInstanceToPointInTime",
            "RestoreDBInstanceFromS3",
        ],
    }],
    config_types: &[],
    needs: &[StateNeed::DbInstance],
    extra_permissions: &[],
    remediation: None,
    doc: "Data duty (shared-responsibility model: the customer keeps its data from being exposed). A DB \
          instance was created, restored or modified with `publiclyAccessible` true: its endpoint resolves \
          to a public IP address, and only its security groups and network ACLs stand between the database \
          and the internet. Judged from the record alone (Tripline's core fetches no RDS state): a \
          modification is applied asynchronously and may still be pending (RDS applies `PubliclyAccessible` \
          immediately whatever `applyImmediately` says), and a creation's outcome is only confirmed when the response also says `publiclyAccessible` true, so \
          such findings are not confirmed unless the instance, read with `DescribeDBInstances`, shows \
          `PubliclyAccessible` true; the sweep reads every instance. A request without `publiclyAccessible` \
          takes a default that depends on the subnet group and VPC, unknown from the record: the instance \
          read after the call settles it (public: confirmed finding; private or not found: nothing). Aurora cluster instances are covered by their own instance calls. No automatic \
          remediation: `aws rds modify-db-instance --no-publicly-accessible --apply-immediately`.",
    fires: &["cloudtrail-rds-modify-db-instance-public.json"],
    quiet: &["cloudtrail-rds-create-db-instance-private.json"],
    check: check_instance_public,
};

pub static STORAGE_UNENCRYPTED: Rule = Rule {
    id: "rds-storage-unencrypted",
    title: "RDS storage created unencrypted",
    severity: Severity::Medium,
    cloudtrail: &[Trigger {
        source: RDS,
        names: &["CreateDBInstance", "CreateDBCluster"],
    }],
    config_types: &[],
    needs: &[StateNeed::DbInstance],
    extra_permissions: &[],
    remediation: None,
    doc: "Data duty (shared-responsibility model: the customer encrypts its data at rest). A DB instance or \
          cluster was created with `storageEncrypted` false: its storage, automated backups, read replicas \
          and snapshots are unencrypted, and encryption cannot be turned on afterwards (only by restoring an \
          encrypted copy of a snapshot). The request's `storageEncrypted`, or the response's when the request \
          omits it, decides; when the record carries neither the rule reports nothing (an omitted parameter \
          takes a default that depends on the engine and the snapshot, unknown from the record, and an error \
          would fire on most ordinary creations) unless the instance, read with `DescribeDBInstances` after \
          the call, shows `StorageEncrypted` false (a cluster's is left to the sweep, which reads \
          `DescribeDBInstances` / `DescribeDBClusters`). An instance created inside an Aurora cluster (`dBClusterIdentifier`) takes \
          the cluster's encryption and is judged on the cluster's creation.",
    fires: &["cloudtrail-rds-create-db-instance-unencrypted.json"],
    quiet: &["cloudtrail-rds-create-db-instance-private.json"],
    check: check_storage,
};

fn instance_resource(c: &crate::change::Change) -> crate::finding::FindingResource {
    let req = payload::req(c);
    let id = str_at(req, &["dBInstanceIdentifier"])
        .or_else(|| str_at(payload::resp(c), &["dBInstanceIdentifier"]));
    payload::registered(c, "AWS::RDS::DBInstance", id)
}

fn check_instance_public(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    let read = ctx.state.and_then(|s| s.db_instance.as_ref());
    let read_public = read.and_then(|i| bool_at(i, &["PubliclyAccessible"]));
    match bool_at(req, &["publiclyAccessible"]) {
        Some(true) => {}
        // The request leaves it to RDS's default: the instance as read settles it.
        None if read_public == Some(true) && c.event_name != "ModifyDBInstance" => {
            let resource = instance_resource(c);
            let i = resource.name_or_unknown().to_owned();
            let quoted = payload::quoted_name(&resource, "requestParameters.dBInstanceIdentifier");
            let reasons = vec![
                format!(
                    "{quoted}: {} (RDS's default depends on the subnet group and VPC)",
                    payload::lacks("requestParameters.publiclyAccessible")
                ),
                "the instance, read with DescribeDBInstances, has `PubliclyAccessible` true: its endpoint \
                 resolves to a public IP address"
                    .into(),
            ];
            return Ok(vec![payload::payload_hit(
                resource,
                Severity::High,
                format!("RDS instance {i} made publicly accessible by {}", payload::who(c)),
                payload::reasons(reasons),
            )]);
        }
        _ => return Ok(Vec::new()),
    }
    let resource = instance_resource(c);
    let i = resource.name_or_unknown().to_owned();
    let quoted = payload::quoted_name(&resource, "requestParameters.dBInstanceIdentifier");
    let mut reasons = vec![format!(
        "{quoted} requested with `publiclyAccessible` true: its endpoint resolves to a public IP address"
    )];
    let confirmed = if read_public == Some(true) {
        reasons.push("the instance, read with DescribeDBInstances, has `PubliclyAccessible` true".into());
        true
    } else if c.event_name == "ModifyDBInstance" {
        // RDS User Guide / API Reference (ModifyDBInstance, `PubliclyAccessible`): the change is applied
        // immediately whatever `ApplyImmediately` says, but asynchronously; the response may still show the
        // old value.
        reasons.push(
            "the modification is applied asynchronously and may still be pending: not confirmed by the \
             instance's state"
                .into(),
        );
        false
    } else if bool_at(payload::resp(c), &["publiclyAccessible"]) == Some(true) {
        reasons.push("the response describes the instance with `publiclyAccessible` true".into());
        true
    } else {
        reasons.push(format!(
            "not confirmed by the instance: {}",
            payload::lacks("responseElements.publiclyAccessible")
        ));
        false
    };
    let mut hit = payload::payload_hit(
        resource,
        Severity::High,
        format!("RDS instance {i} made publicly accessible by {}", payload::who(c)),
        payload::reasons(reasons),
    );
    hit.state_confirmed = confirmed;
    Ok(vec![hit])
}

fn check_storage(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    let cluster = c.event_name == "CreateDBCluster";
    if !cluster && str_at(req, &["dBClusterIdentifier"]).is_some() {
        return Ok(Vec::new());
    }
    let read = ctx
        .state
        .and_then(|s| s.db_instance.as_ref())
        .filter(|_| !cluster)
        .and_then(|i| bool_at(i, &["StorageEncrypted"]));
    let (encrypted, place) = match bool_at(req, &["storageEncrypted"]) {
        Some(v) => (v, "requestParameters"),
        None => match bool_at(payload::resp(c), &["storageEncrypted"]) {
            Some(v) => (v, "responseElements"),
            None => match read {
                Some(v) => (v, "the instance read with DescribeDBInstances"),
                // Nothing says: unknown, no claim (see the doc).
                None => return Ok(Vec::new()),
            },
        },
    };
    if encrypted {
        return Ok(Vec::new());
    }
    let resource = if cluster {
        let id = str_at(req, &["dBClusterIdentifier"])
            .or_else(|| str_at(payload::resp(c), &["dBClusterIdentifier"]));
        payload::registered(c, "AWS::RDS::DBCluster", id)
    } else {
        instance_resource(c)
    };
    let what = if cluster { "cluster" } else { "instance" };
    let n = resource.name_or_unknown().to_owned();
    let quoted = payload::quoted_name(
        &resource,
        if cluster {
            "requestParameters.dBClusterIdentifier"
        } else {
            "requestParameters.dBInstanceIdentifier"
        },
    );
    Ok(vec![payload::payload_hit(
        resource,
        Severity::Medium,
        format!(
            "RDS {what} {n} created with unencrypted storage by {}",
            payload::who(c)
        ),
        payload::reasons(vec![format!(
            "{what} {quoted} created with `storageEncrypted` false ({place})"
        )]),
    )])
}

fn check_snapshot(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    // The call names the attribute it modifies; without it the record does not say what was shared.
    let attribute = payload::require(req, &["attributeName"])?.as_str();
    let adds_all = attribute.is_some_and(|a| a.eq_ignore_ascii_case("restore"))
        && items(at(req, &["valuesToAdd"]))
            .iter()
            .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("all")));
    if !adds_all {
        return Ok(Vec::new());
    }
    let cluster = c.event_name == "ModifyDBClusterSnapshotAttribute";
    let id = if cluster {
        str_at(req, &["dBClusterSnapshotIdentifier"])
            .or_else(|| str_at(req, &["dbClusterSnapshotIdentifier"]))
    } else {
        str_at(req, &["dBSnapshotIdentifier"]).or_else(|| str_at(req, &["dbSnapshotIdentifier"]))
    };
    let rtype = if cluster {
        "AWS::RDS::DBClusterSnapshot"
    } else {
        "AWS::RDS::DBSnapshot"
    };
    let resource = payload::registered(c, rtype, id);
    let s = resource.name_or_unknown().to_owned();
    let id_path = if cluster {
        "requestParameters.dBClusterSnapshotIdentifier"
    } else {
        "requestParameters.dBSnapshotIdentifier"
    };
    let mut evidence = payload::reasons(vec![format!(
        "restore attribute of {} now includes `all` (every AWS account)",
        payload::quoted_name(&resource, id_path)
    )]);
    evidence
        .details
        .insert("values_to_add".into(), at(req, &["valuesToAdd"]).clone());
    evidence
        .statements
        .push(json!({"attributeName": "restore", "valuesToAdd": at(req, &["valuesToAdd"])}));
    Ok(vec![payload::payload_hit(
        resource,
        Severity::Critical,
        format!(
            "RDS {}snapshot {s} made public by {}",
            if cluster { "cluster " } else { "" },
            payload::who(c)
        ),
        evidence,
    )])
}
