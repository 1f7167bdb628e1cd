//! STS implementation of [`CallerIdentity`]: the account of the credentials in use, from
//! `sts:GetCallerIdentity` (which AWS always allows: "No permissions are required to perform this
//! operation", <https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html>).
//! Asked once per set of clients and cached: the credentials of a client set never change account.
//! For a member account's clients, this first call is also where assuming the member role happens
//! (the SDK's assume-role provider is lazy), so a role that cannot be assumed fails here, before any read.

use crate::{AwsClients, AwsError, CallerIdentity, ErrorKind};

impl CallerIdentity for AwsClients {
    async fn caller_account(&self) -> Result<String, AwsError> {
        const OP: &str = "sts:GetCallerIdentity";
        self.caller_account
            .get_or_try_init(|| async {
                let out = self.sts.get_caller_identity().send().await.map_err(|e| {
                    let mut e = AwsError::from_sdk(OP, e);
                    // A member role that cannot be assumed surfaces as the credentials provider's failure
                    // (a dispatch failure to the SDK); STS's AccessDenied in it is not transient: the
                    // outcome is a refusal, not a retry.
                    if e.kind == ErrorKind::Dispatch && e.message.contains("AccessDenied") {
                        e.kind = ErrorKind::AccessDenied;
                    }
                    e
                })?;
                out.account()
                    .filter(|a| tripline_core::resource_kind::is_account_id(a))
                    .map(str::to_owned)
                    .ok_or_else(|| AwsError::new(OP, ErrorKind::Client, "the answer names no account"))
            })
            .await
            .cloned()
    }
}
