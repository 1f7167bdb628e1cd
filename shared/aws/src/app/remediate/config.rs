//! AWS Config remediations: start a stopped configuration recorder.
use super::*;
pub(super) async fn start_recorder<D: ConfigRecorder>(
    aws: &D,
    f: &Finding,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    if f.event.name.starts_with("Delete") {
        return Ok(skipped(format!(
            "`{}` deleted the recorder or its delivery channel: restarting is impossible, recreate it \
             (aws configservice put-configuration-recorder / put-delivery-channel) and start it",
            f.event.name
        )));
    }
    let name = f.resource.name.clone().unwrap_or_else(|| "default".into());
    let Some(recording) = aws.recorder_recording(&name).await? else {
        return Ok(skipped(format!(
            "stale finding: no configuration recorder `{name}` exists now"
        )));
    };
    if recording {
        return Ok(skipped(format!(
            "stale finding: configuration recorder `{name}` is recording"
        )));
    }
    let action = format!("start the AWS Config configuration recorder `{name}`");
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    aws.start_configuration_recorder(&name).await?;
    // Starting a recorder grants no access, so there is nothing to roll back when it does not take.
    let recording = match read_back(|| aws.recorder_recording(&name)).await {
        Ok(r) => r,
        Err(e) => return Ok(unverified(vec![action], &e)),
    };
    if recording == Some(true) {
        Ok(remediated(
            vec![action],
            "verified: the configuration recorder is recording",
        ))
    } else {
        Ok(failed(
            vec![action],
            "verification failed: the configuration recorder is not recording after the start",
        ))
    }
}
