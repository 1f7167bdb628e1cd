//! DynamoDB implementation of [`AttemptMarker`]: one item per (account, rule, resource) claimed with a
//! conditional `PutItem` (issue 12, D). The condition `attribute_not_exists(pk) OR expires_at < :now` makes the
//! claim atomic: of N concurrent deliveries of one finding, exactly one claims the attempt; a later one within
//! the window reads who claimed it and is skipped. `expires_at` is also the table's TTL attribute, so old
//! claims disappear on their own (DynamoDB deletes expired items "typically within a few days": the condition
//! compares `expires_at` itself, never relies on the deletion;
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html>).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::{AttemptMarker, AwsClients, AwsError};

impl AttemptMarker for AwsClients {
    async fn claim_attempt(
        &self,
        table: &str,
        key: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<i64>, AwsError> {
        const PUT: &str = "dynamodb:PutItem";
        const GET: &str = "dynamodb:GetItem";
        let put = self
            .dynamodb
            .put_item()
            .table_name(table)
            .item("pk", AttributeValue::S(key.to_owned()))
            .item("claimed_at", AttributeValue::N(now.to_string()))
            .item("expires_at", AttributeValue::N(until.to_string()))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(None),
            Err(e) => {
                let e = AwsError::from_sdk(PUT, e);
                if !e.has_code("ConditionalCheckFailedException") {
                    return Err(e);
                }
                let got = self
                    .dynamodb
                    .get_item()
                    .table_name(table)
                    .key("pk", AttributeValue::S(key.to_owned()))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(GET, e))?;
                let claimed = got
                    .item()
                    .and_then(|i| i.get("claimed_at"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<i64>().ok())
                    .unwrap_or(now);
                Ok(Some(claimed))
            }
        }
    }
}
