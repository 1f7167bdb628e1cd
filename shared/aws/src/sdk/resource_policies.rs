//! Resource-policy readers of the sweep ([`crate::exposure::ExposureRead`], dispatched from `shares.rs`):
//! - SQS: `ListQueues` (`MaxResults` 1000 so the service returns `NextToken`, paginated), then
//!   `GetQueueAttributes` (`Policy`, `QueueArn`); tags with `ListQueueTags`;
//! - SNS: `ListTopics` (paginated), then `GetTopicAttributes` (`Policy`); tags with `ListTagsForResource`;
//! - Secrets Manager: `ListSecrets` (paginated, tags included), then `GetResourcePolicy`.
//!
//! A policy that is not JSON is handed to the engine as the string it is: the rule reports it as invalid
//! (an error entry), never as "no policy".

use std::collections::BTreeMap;

use serde_json::Value;
use tripline_core::rules::external::Exposure;

use crate::exposure::Listed;
use crate::{AwsClients, AwsError};

fn document(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
}

fn name_after(arn: &str, sep: char) -> String {
    arn.rsplit(sep).next().unwrap_or(arn).to_owned()
}

pub(super) async fn list_queues(aws: &AwsClients) -> Result<Vec<Listed>, AwsError> {
    const OP: &str = "sqs:ListQueues";
    let region = aws
        .sqs
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let mut pages = aws.sqs.list_queues().max_results(1000).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for url in page.queue_urls() {
            // `https://sqs.<region>.amazonaws.com/<account>/<name>`: the URL is what the calls take, the ARN
            // is built from its account and name (SQS Developer Guide, "Amazon SQS queue and message
            // identifiers").
            let mut parts = url.trim_end_matches('/').rsplit('/');
            let name = parts.next().unwrap_or_default().to_owned();
            let account = parts.next().unwrap_or_default();
            out.push(Listed {
                id: url.clone(),
                arn: tripline_core::resource_kind::arn("AWS::SQS::Queue", &region, account, &name)
                    .unwrap_or_default(),
                name,
                tags: None,
            });
        }
    }
    Ok(out)
}

/// The queue's policy, and its ARN (`QueueArn`) for the finding.
pub(super) async fn queue_policy(aws: &AwsClients, url: &str) -> Result<Exposure, AwsError> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let out = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::Policy)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sqs:GetQueueAttributes", e))?;
    let policy = out
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::Policy))
        .map(|p| document(p));
    Ok(Exposure::Policy(policy))
}

pub(super) async fn queue_tags(aws: &AwsClients, url: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = aws
        .sqs
        .list_queue_tags()
        .queue_url(url)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sqs:ListQueueTags", e))?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

pub(super) async fn list_topics(aws: &AwsClients) -> Result<Vec<Listed>, AwsError> {
    const OP: &str = "sns:ListTopics";
    let mut pages = aws.sns.list_topics().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for t in page.topics() {
            let Some(arn) = t.topic_arn() else { continue };
            out.push(Listed {
                id: arn.to_owned(),
                arn: arn.to_owned(),
                name: name_after(arn, ':'),
                tags: None,
            });
        }
    }
    Ok(out)
}

pub(super) async fn topic_policy(aws: &AwsClients, arn: &str) -> Result<Exposure, AwsError> {
    let out = aws
        .sns
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sns:GetTopicAttributes", e))?;
    Ok(Exposure::Policy(
        out.attributes()
            .and_then(|a| a.get("Policy"))
            .map(|p| document(p)),
    ))
}

pub(super) async fn topic_tags(aws: &AwsClients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = aws
        .sns
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sns:ListTagsForResource", e))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect())
}

pub(super) async fn list_secrets(aws: &AwsClients) -> Result<Vec<Listed>, AwsError> {
    const OP: &str = "secretsmanager:ListSecrets";
    let mut pages = aws.secrets.list_secrets().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for s in page.secret_list() {
            let Some(arn) = s.arn() else { continue };
            let tags = s
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
                .collect();
            out.push(Listed {
                id: arn.to_owned(),
                arn: arn.to_owned(),
                name: s.name().unwrap_or(arn).to_owned(),
                tags: Some(tags),
            });
        }
    }
    Ok(out)
}

pub(super) async fn secret_policy(aws: &AwsClients, arn: &str) -> Result<Exposure, AwsError> {
    let out = aws
        .secrets
        .get_resource_policy()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("secretsmanager:GetResourcePolicy", e))?;
    Ok(Exposure::Policy(out.resource_policy().map(document)))
}
