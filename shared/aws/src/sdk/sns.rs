//! SNS implementation of [`Publish`].

use aws_sdk_sns::types::MessageAttributeValue;

use crate::{AwsClients, AwsError, ErrorKind, Publish};
use tripline_core::render::sns::SnsMessage;

impl Publish for AwsClients {
    async fn publish(&self, topic_arn: &str, message: &SnsMessage) -> Result<String, AwsError> {
        const OP: &str = "sns:Publish";
        let mut req = self
            .sns
            .publish()
            .topic_arn(topic_arn)
            .subject(&message.subject)
            .message(&message.message)
            .message_structure(&message.message_structure);
        for (k, v) in &message.attributes {
            let attr = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| AwsError::new(OP, ErrorKind::Client, format!("message attribute `{k}`: {e}")))?;
            req = req.message_attributes(k, attr);
        }
        let out = req.send().await.map_err(|e| AwsError::from_sdk(OP, e))?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }
}
