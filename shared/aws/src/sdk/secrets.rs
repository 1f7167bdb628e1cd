//! Secrets Manager implementation of [`ReadSecret`]. The value is returned to the caller and never logged.

use crate::{AwsClients, AwsError, ErrorKind, ReadSecret};

impl ReadSecret for AwsClients {
    async fn secret_string(&self, secret_id: &str) -> Result<String, AwsError> {
        const OP: &str = "secretsmanager:GetSecretValue";
        let out = self
            .secrets
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        out.secret_string().map(str::to_owned).ok_or_else(|| {
            AwsError::new(
                OP,
                ErrorKind::Client,
                format!("secret `{secret_id}` has no string value"),
            )
        })
    }
}
