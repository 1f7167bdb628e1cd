//! `rds-snapshot-public`: DB and cluster snapshots shared with `all`.

use serde_json::json;

use super::payload::{self, at, items, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::finding::Severity;

pub static SNAPSHOT_PUBLIC: Rule = Rule {
    id: "rds-snapshot-public",
    title: "RDS snapshot made public",
    severity: Severity::Critical,
    cloudtrail: &[Trigger {
        source: "rds.amazonaws.com",
        names: &["ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A DB or cluster snapshot's `restore` attribute now includes `all`: any AWS account can restore \
          the database from it and read every row (RDS User Guide, \"Sharing a DB snapshot\"). No automatic \
          remediation yet: remove `all` with `aws rds modify-db-snapshot-attribute` (the RDS SDK is not a \
          dependency of remediate).",
    fires: &["cloudtrail-rds-modify-db-snapshot-attribute-public.json"],
    quiet: &["cloudtrail-rds-modify-db-snapshot-attribute-account.json"],
    check: check_snapshot,
};

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
        format!("RDS snapshot {s} made public by {}", payload::who(c)),
        evidence,
    )])
}
