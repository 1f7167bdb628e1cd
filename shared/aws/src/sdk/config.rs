//! AWS Config implementation of [`PutEvaluations`].

use aws_sdk_config::primitives::{DateTime, DateTimeFormat};
use aws_sdk_config::types::{ComplianceType, Evaluation};

use crate::{AwsClients, AwsError, Compliance, ConfigEvaluation, ConfigRecorder, ErrorKind, PutEvaluations};

/// `PutEvaluations` accepts at most 100 evaluations per call (AWS Config API Reference, PutEvaluations,
/// `Evaluations`: "Array Members: Minimum number of 0 items. Maximum number of 100 items.").
pub const MAX_EVALUATIONS_PER_CALL: usize = 100;

const OP: &str = "config:PutEvaluations";

fn to_sdk(e: &ConfigEvaluation) -> Result<Evaluation, AwsError> {
    let bad = |m: String| AwsError::new(OP, ErrorKind::Client, m);
    let ts = DateTime::from_str(&e.ordering_timestamp, DateTimeFormat::DateTime)
        .map_err(|err| bad(format!("ordering timestamp `{}`: {err}", e.ordering_timestamp)))?;
    let compliance = match e.compliance {
        Compliance::Compliant => ComplianceType::Compliant,
        Compliance::NonCompliant => ComplianceType::NonCompliant,
        Compliance::NotApplicable => ComplianceType::NotApplicable,
    };
    Evaluation::builder()
        .compliance_resource_type(&e.resource_type)
        .compliance_resource_id(&e.resource_id)
        .compliance_type(compliance)
        .annotation(&e.annotation)
        .ordering_timestamp(ts)
        .build()
        .map_err(|err| bad(format!("evaluation of `{}`: {err}", e.resource_id)))
}

impl PutEvaluations for AwsClients {
    async fn put_evaluations(
        &self,
        result_token: &str,
        evaluations: &[ConfigEvaluation],
    ) -> Result<(), AwsError> {
        for chunk in evaluations.chunks(MAX_EVALUATIONS_PER_CALL) {
            let sdk = chunk.iter().map(to_sdk).collect::<Result<Vec<_>, _>>()?;
            let out = self
                .config
                .put_evaluations()
                .result_token(result_token)
                .set_evaluations(Some(sdk))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))?;
            let failed = out.failed_evaluations();
            if !failed.is_empty() {
                let ids: Vec<&str> = failed.iter().map(|f| f.compliance_resource_id()).collect();
                // Config rejected some evaluations without an error code: retrying the invocation is the
                // only way to deliver them.
                return Err(AwsError::new(
                    OP,
                    ErrorKind::ServerError,
                    format!(
                        "aws config rejected {} evaluation(s): `{}`",
                        failed.len(),
                        ids.join("`, `")
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl ConfigRecorder for AwsClients {
    async fn recorder_recording(&self, name: &str) -> Result<Option<bool>, AwsError> {
        const OP: &str = "config:DescribeConfigurationRecorderStatus";
        match self
            .config
            .describe_configuration_recorder_status()
            .configuration_recorder_names(name)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .configuration_recorders_status()
                .iter()
                .find(|s| s.name() == Some(name))
                .map(|s| s.recording())),
            Err(e) => AwsError::from_sdk(OP, e).absent_as("NoSuchConfigurationRecorderException", None),
        }
    }

    async fn start_configuration_recorder(&self, name: &str) -> Result<(), AwsError> {
        self.config
            .start_configuration_recorder()
            .configuration_recorder_name(name)
            .customize()
            .config_override(crate::write_call!(aws_sdk_config))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("config:StartConfigurationRecorder", e))
    }
}
