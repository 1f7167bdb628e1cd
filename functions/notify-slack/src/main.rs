//! `notify-slack`: the alert topic -> a Slack incoming webhook (Block Kit). The webhook URL is read from
//! Secrets Manager once at cold start and never logged. Logic: `tripline_aws::handlers::notify_slack`.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tripline_aws::env::{env_map, slack_min_severity, slack_secret_arn, SLACK_MIN_SEVERITY};
use tripline_aws::handlers::notify_slack::{handle_slack, webhook_url_from_secret, SlackConfig};
use tripline_aws::sdk::webhook::RetryPolicy;
use tripline_aws::{AwsClients, ReadSecret, SlackWebhook};
use tripline_core::finding::Severity;
use tripline_core::Envelope;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tripline_aws::runtime::init_json_logs();

    // Cold start: validate the configuration, then read the webhook URL once. Errors never echo the URL.
    let vars = env_map();
    let secret_arn =
        slack_secret_arn(&vars).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let min =
        slack_min_severity(&vars).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let min_severity =
        Severity::parse(&min).ok_or_else(|| format!("environment variable `{SLACK_MIN_SEVERITY}`"))?;
    let aws = AwsClients::load().await;
    let secret = aws.secret_string(&secret_arn).await.inspect_err(|e| {
        tracing::error!(error = %e, "reading the slack webhook secret failed");
    })?;
    let url = webhook_url_from_secret(&secret)?;
    let webhook = SlackWebhook::new(&url, RetryPolicy::default())?;
    drop((secret, url));
    let cfg = SlackConfig { min_severity };
    let (webhook, cfg) = (&webhook, &cfg);

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let event = Envelope::from_value(event.payload);
        handle_slack(webhook, cfg, &event).await.map_err(Diagnostic::from)
    }))
    .await
}
