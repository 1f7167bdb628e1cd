//! `DutiesRead::db_instances`, `db_instance` and `db_clusters` (RDS).

use aws_config::Region;
use serde_json::{json, Map, Value};

use crate::{AwsClients, AwsError};

/// An RDS client for `region`, from the same configuration (timeouts, retries, endpoint override, timing).
pub fn rds_in(home: &aws_sdk_rds::Client, region: &str) -> aws_sdk_rds::Client {
    aws_sdk_rds::Client::from_conf(
        home.config()
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build(),
    )
}

fn put_str(m: &mut Map<String, Value>, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), json!(v));
    }
}

fn put_bool(m: &mut Map<String, Value>, k: &str, v: Option<bool>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), json!(v));
    }
}

/// The members the rules read, in the API's names; absent members stay absent (unknown).
fn instance_json(i: &aws_sdk_rds::types::DbInstance) -> Value {
    let mut m = Map::new();
    put_str(&mut m, "DBInstanceIdentifier", i.db_instance_identifier());
    put_str(&mut m, "DBInstanceArn", i.db_instance_arn());
    put_str(&mut m, "DbiResourceId", i.dbi_resource_id());
    put_str(&mut m, "DBClusterIdentifier", i.db_cluster_identifier());
    put_str(&mut m, "Engine", i.engine());
    put_str(&mut m, "DBInstanceStatus", i.db_instance_status());
    put_bool(&mut m, "PubliclyAccessible", i.publicly_accessible());
    put_bool(&mut m, "StorageEncrypted", i.storage_encrypted());
    Value::Object(m)
}

fn cluster_json(c: &aws_sdk_rds::types::DbCluster) -> Value {
    let mut m = Map::new();
    put_str(&mut m, "DBClusterIdentifier", c.db_cluster_identifier());
    put_str(&mut m, "DBClusterArn", c.db_cluster_arn());
    put_str(&mut m, "DbClusterResourceId", c.db_cluster_resource_id());
    put_str(&mut m, "Engine", c.engine());
    put_bool(&mut m, "PubliclyAccessible", c.publicly_accessible());
    put_bool(&mut m, "StorageEncrypted", c.storage_encrypted());
    Value::Object(m)
}

impl AwsClients {
    pub(crate) async fn describe_db_instances(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let client = rds_in(&self.rds, region);
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            // RDS API Reference, DescribeDBInstances: `MaxRecords` 20 to 100, `Marker` for the next page.
            let page = client
                .describe_db_instances()
                .max_records(100)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("rds:DescribeDBInstances", e))?;
            out.extend(page.db_instances().iter().map(instance_json));
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        Ok(out)
    }

    pub(crate) async fn describe_db_instance(
        &self,
        region: &str,
        identifier: &str,
    ) -> Result<Option<Value>, AwsError> {
        const OP: &str = "rds:DescribeDBInstances";
        match rds_in(&self.rds, region)
            .describe_db_instances()
            .db_instance_identifier(identifier)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_instances().first().map(instance_json)),
            // RDS API Reference, DescribeDBInstances errors: `DBInstanceNotFound` (404).
            Err(e) => AwsError::from_sdk(OP, e).absent_as("DBInstanceNotFound", None),
        }
    }

    pub(crate) async fn describe_db_clusters(&self, region: &str) -> Result<Vec<Value>, AwsError> {
        let client = rds_in(&self.rds, region);
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = client
                .describe_db_clusters()
                .max_records(100)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("rds:DescribeDBClusters", e))?;
            out.extend(page.db_clusters().iter().map(cluster_json));
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        Ok(out)
    }
}
