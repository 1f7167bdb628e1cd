//! `DutiesRead::account_password_policy` (`iam:GetAccountPasswordPolicy`).

use serde_json::{Map, Value};

use crate::{AwsClients, AwsError};

/// The policy in the API's member names. The SDK reads absent booleans as `false` (IAM always returns them);
/// `MinimumPasswordLength`, `MaxPasswordAge`, `PasswordReusePrevention` and `HardExpiry` only when present.
pub(crate) fn policy_json(p: &aws_sdk_iam::types::PasswordPolicy) -> Value {
    let mut m = Map::new();
    let mut num = |k: &str, v: Option<i32>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), Value::from(v));
        }
    };
    num("MinimumPasswordLength", p.minimum_password_length());
    num("MaxPasswordAge", p.max_password_age());
    num("PasswordReusePrevention", p.password_reuse_prevention());
    for (k, v) in [
        ("RequireSymbols", p.require_symbols()),
        ("RequireNumbers", p.require_numbers()),
        ("RequireUppercaseCharacters", p.require_uppercase_characters()),
        ("RequireLowercaseCharacters", p.require_lowercase_characters()),
        ("AllowUsersToChangePassword", p.allow_users_to_change_password()),
        ("ExpirePasswords", p.expire_passwords()),
    ] {
        m.insert(k.to_owned(), Value::Bool(v));
    }
    if let Some(h) = p.hard_expiry() {
        m.insert("HardExpiry".to_owned(), Value::Bool(h));
    }
    Value::Object(m)
}

impl AwsClients {
    pub(crate) async fn get_account_password_policy(&self) -> Result<Option<Value>, AwsError> {
        const OP: &str = "iam:GetAccountPasswordPolicy";
        match self.iam.get_account_password_policy().send().await {
            Ok(out) => Ok(out.password_policy().map(policy_json)),
            // IAM API Reference, GetAccountPasswordPolicy: `NoSuchEntity` (404) when the account has no
            // password policy.
            Err(e) => AwsError::from_sdk(OP, e).absent_as("NoSuchEntity", None),
        }
    }
}
