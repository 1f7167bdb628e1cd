//! The run records of the organization-wide sweep ([`crate::app::org::RunStore`]) in DynamoDB.
//!
//! One table (`TRIPLINE_RUNS_TABLE`), on-demand, key `pk` (S) + `sk` (S), TTL attribute `ttl`:
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | the run | `run#<id>` | `run` | `time`, `accounts` (L), `regions` (L), `planned`, `reported` (N), `deadline` (N, epoch s), `summary_at` (S, once) |
//! | a shard | `run#<id>` | `shard#<account>#<scope>` | `status` (`planned` / `done` / `incomplete` / `failed`), `reason`, `detail`, `findings` (M severity -> N), `suppressed`, `checked`, `errors`, `transitions` (M transition -> N) |
//!
//! Exactly-once rules, all conditional writes:
//! - the plan is written only if the run item does not exist (a retried planner changes nothing);
//! - a shard reports in one transaction: its item goes from `planned` to its outcome (condition
//!   `status = planned`) and the run's `reported` counter is incremented; a redelivered message fails the
//!   condition and counts nothing ([`Reported::Already`]);
//! - the summary is claimed by setting `summary_at` if it does not exist: the last shard to report and the
//!   deadline message may both try, exactly one wins.
//!
//! Items expire 30 days after the run ([`TTL_DAYS`]).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{
    AttributeValue, PutRequest, ReturnValue, TransactWriteItem, Update, WriteRequest,
};

use crate::app::org::{
    FailureReason, Reported, RunPlan, RunRecord, RunStore, Shard, ShardOutcome, ShardStatus,
};
use crate::{AwsError, ErrorKind};
use tripline_core::finding::Severity;

/// Days the records are kept (DynamoDB TTL).
pub const TTL_DAYS: u64 = 30;

/// The DynamoDB run store.
#[derive(Debug, Clone)]
pub struct DynamoRuns {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn pk(run: &str) -> AttributeValue {
    s(format!("run#{run}"))
}

fn shard_sk(shard: &Shard) -> AttributeValue {
    s(format!("shard#{}", shard.key()))
}

fn get_s<'a>(item: &'a HashMap<String, AttributeValue>, k: &str) -> &'a str {
    item.get(k).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

fn get_n(item: &HashMap<String, AttributeValue>, k: &str) -> u64 {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn get_list(item: &HashMap<String, AttributeValue>, k: &str) -> Vec<String> {
    item.get(k)
        .and_then(|v| v.as_l().ok())
        .map(|l| l.iter().filter_map(|x| x.as_s().ok().cloned()).collect())
        .unwrap_or_default()
}

fn severity_map(findings: &BTreeMap<Severity, u64>) -> AttributeValue {
    AttributeValue::M(
        findings
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), n(*v)))
            .collect(),
    )
}

fn shard_of_item(item: &HashMap<String, AttributeValue>) -> Option<ShardOutcome> {
    let key = get_s(item, "sk").strip_prefix("shard#")?;
    let (account, scope) = key.split_once('#')?;
    let status = ShardStatus::parse(get_s(item, "status"))?;
    let findings = item
        .get("findings")
        .and_then(|v| v.as_m().ok())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((Severity::parse(k)?, v.as_n().ok()?.parse::<u64>().ok()?)))
                .collect()
        })
        .unwrap_or_default();
    let reason = Some(get_s(item, "reason"))
        .filter(|r| !r.is_empty())
        .map(FailureReason::parse);
    Some(ShardOutcome {
        shard: Shard {
            account: account.to_owned(),
            scope: scope.to_owned(),
        },
        status,
        reason,
        detail: get_s(item, "detail").to_owned(),
        findings,
        suppressed: get_n(item, "suppressed"),
        checked: get_n(item, "checked"),
        errors: get_n(item, "errors"),
        transitions: item
            .get("transitions")
            .and_then(|v| v.as_m().ok())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_n().ok()?.parse::<u64>().ok()?)))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

fn now_epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether a conditional write (or a transaction's condition) was refused.
fn condition_failed(e: &AwsError) -> bool {
    e.has_code("ConditionalCheckFailedException")
        || (e.has_code("TransactionCanceledException") && e.message.contains("ConditionalCheckFailed"))
}

impl DynamoRuns {
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_dynamodb::Client::new(sdk),
            table: table.into(),
        }
    }
}

impl RunStore for DynamoRuns {
    async fn plan(&self, plan: &RunPlan) -> Result<(), AwsError> {
        let ttl = now_epoch() + TTL_DAYS * 86_400;
        let run_item: HashMap<String, AttributeValue> = HashMap::from([
            ("pk".to_owned(), pk(&plan.run)),
            ("sk".to_owned(), s("run")),
            ("time".to_owned(), s(&plan.time)),
            (
                "accounts".to_owned(),
                AttributeValue::L(plan.accounts.iter().map(s).collect()),
            ),
            (
                "regions".to_owned(),
                AttributeValue::L(plan.regions.iter().map(s).collect()),
            ),
            ("planned".to_owned(), n(plan.shards.len() as u64)),
            ("reported".to_owned(), n(0)),
            ("deadline".to_owned(), n(plan.deadline_epoch)),
            ("ttl".to_owned(), n(ttl)),
        ]);
        // Shards first: the run item is the commit point (a planner retried after a partial write rewrites
        // the same `planned` shard items; once the run item exists, nothing is rewritten).
        let exists = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", pk(&plan.run))
            .key("sk", s("run"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("dynamodb:GetItem", e))?
            .item
            .is_some();
        if exists {
            return Ok(());
        }
        for chunk in plan.shards.chunks(25) {
            let mut writes: Vec<WriteRequest> = Vec::with_capacity(chunk.len());
            for sh in chunk {
                let put = PutRequest::builder()
                    .item("pk", pk(&plan.run))
                    .item("sk", shard_sk(sh))
                    .item("status", s(ShardStatus::Planned.as_str()))
                    .item("ttl", n(ttl))
                    .build()
                    .map_err(|e| {
                        AwsError::new("dynamodb:BatchWriteItem", ErrorKind::Client, e.to_string())
                    })?;
                writes.push(WriteRequest::builder().put_request(put).build());
            }
            let mut pending = HashMap::from([(self.table.clone(), writes)]);
            // Unprocessed items (throttling) are retried a few times, then the invocation fails retryable.
            for attempt in 0..5u32 {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("dynamodb:BatchWriteItem", e))?;
                pending = out.unprocessed_items.unwrap_or_default();
                pending.retain(|_, v| !v.is_empty());
                if pending.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            if !pending.is_empty() {
                return Err(AwsError::new(
                    "dynamodb:BatchWriteItem",
                    ErrorKind::Throttling,
                    "unprocessed items after 5 attempts",
                ));
            }
        }
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(run_item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = AwsError::from_sdk("dynamodb:PutItem", e);
                if condition_failed(&e) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn shard_status(&self, run: &str, shard: &Shard) -> Result<Option<ShardStatus>, AwsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", pk(run))
            .key("sk", shard_sk(shard))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("dynamodb:GetItem", e))?;
        Ok(out
            .item
            .as_ref()
            .and_then(|i| ShardStatus::parse(get_s(i, "status"))))
    }

    async fn report(&self, run: &str, o: &ShardOutcome) -> Result<Reported, AwsError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| {
            AwsError::new("dynamodb:TransactWriteItems", ErrorKind::Client, e.to_string())
        };
        let shard = Update::builder()
            .table_name(&self.table)
            .key("pk", pk(run))
            .key("sk", shard_sk(&o.shard))
            .update_expression(
                "SET #st = :st, reason = :reason, detail = :detail, findings = :findings, \
                 suppressed = :suppressed, checked = :checked, errors = :errors, transitions = :transitions",
            )
            .condition_expression("#st = :planned")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":st", s(o.status.as_str()))
            .expression_attribute_values(":planned", s(ShardStatus::Planned.as_str()))
            .expression_attribute_values(":reason", s(o.reason.map_or("", FailureReason::as_str)))
            .expression_attribute_values(":detail", s(&o.detail))
            .expression_attribute_values(":findings", severity_map(&o.findings))
            .expression_attribute_values(":suppressed", n(o.suppressed))
            .expression_attribute_values(":checked", n(o.checked))
            .expression_attribute_values(":errors", n(o.errors))
            .expression_attribute_values(
                ":transitions",
                AttributeValue::M(o.transitions.iter().map(|(k, v)| (k.clone(), n(*v))).collect()),
            )
            .build()
            .map_err(build)?;
        let counter = Update::builder()
            .table_name(&self.table)
            .key("pk", pk(run))
            .key("sk", s("run"))
            .update_expression("ADD reported :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(build)?;
        let r = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(shard).build())
            .transact_items(TransactWriteItem::builder().update(counter).build())
            .send()
            .await;
        match r {
            Ok(_) => Ok(Reported::First),
            Err(e) => {
                let e = AwsError::from_sdk("dynamodb:TransactWriteItems", e);
                if condition_failed(&e) {
                    Ok(Reported::Already)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn run(&self, run: &str) -> Result<Option<RunRecord>, AwsError> {
        let mut items: Vec<HashMap<String, AttributeValue>> = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", pk(run))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("dynamodb:Query", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        let Some(head) = items.iter().find(|i| get_s(i, "sk") == "run") else {
            return Ok(None);
        };
        let mut shards: Vec<ShardOutcome> = items.iter().filter_map(shard_of_item).collect();
        shards.sort_by(|a, b| a.shard.cmp(&b.shard));
        Ok(Some(RunRecord {
            run: run.to_owned(),
            time: get_s(head, "time").to_owned(),
            accounts: get_list(head, "accounts"),
            regions: get_list(head, "regions"),
            planned: get_n(head, "planned"),
            reported: get_n(head, "reported"),
            deadline_epoch: get_n(head, "deadline"),
            summary_at: Some(get_s(head, "summary_at"))
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            shards,
        }))
    }

    async fn claim_summary(&self, run: &str, at: &str) -> Result<bool, AwsError> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(run))
            .key("sk", s("run"))
            .update_expression("SET summary_at = :at")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(summary_at)")
            .expression_attribute_values(":at", s(at))
            .return_values(ReturnValue::None)
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = AwsError::from_sdk("dynamodb:UpdateItem", e);
                if condition_failed(&e) {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn release_summary(&self, run: &str, at: &str) -> Result<(), AwsError> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(run))
            .key("sk", s("run"))
            .update_expression("REMOVE summary_at")
            .condition_expression("summary_at = :at")
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = AwsError::from_sdk("dynamodb:UpdateItem", e);
                if condition_failed(&e) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}
