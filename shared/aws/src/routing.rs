//! Routing an event to the right account and region (organization-wide deployments, issue 6).
//!
//! The functions run in the security ("home") account. An event from a member account is judged with
//! clients whose credentials come from assuming `TRIPLINE_MEMBER_ROLE_NAME` in that account (with
//! `TRIPLINE_MEMBER_EXTERNAL_ID`), in the event's region (S3 answers a bucket's calls only in its region).
//! Alerts always go to the home account's topic. [`Routed`] implements every capability trait: reads,
//! writes, Config answers and object fetches go to the event's account; `Publish` and `ReadSecret` stay
//! home. Clients are built once per (account, region) and cached for the life of the execution
//! environment; the SDK caches the assumed-role credentials and refreshes them before they expire.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{Region, SdkConfig};
use aws_sdk_s3::config::SharedCredentialsProvider;
use serde_json::Value;
use tokio::sync::Mutex;

use super::{
    AwsClients, AwsError, ConfigEvaluation, ConfigRecorder, FetchObject, IamRead, IamWrite,
    ManagedPolicyInfo, PolicyVersionInfo, PrincipalRef, Publish, PutEvaluations, ReadSecret, RoleInfo,
    S3Read, S3Write,
};
use tripline_core::render::sns::SnsMessage;
use tripline_core::state::PublicAccessBlock;

/// The role the functions assume in member accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRole {
    /// `TRIPLINE_MEMBER_ROLE_NAME`.
    pub role_name: String,
    /// `TRIPLINE_MEMBER_EXTERNAL_ID`.
    pub external_id: Option<String>,
}

/// Hands out clients per (account, region).
#[derive(Debug)]
pub struct AccountRouter {
    sdk: SdkConfig,
    home: Arc<AwsClients>,
    home_account: String,
    member: Option<MemberRole>,
    cache: Mutex<HashMap<(String, String), Arc<AwsClients>>>,
}

/// Clients for one event: `target` (the event's account and region) and `home` (alerts, secrets).
#[derive(Debug, Clone)]
pub struct Routed {
    pub target: Arc<AwsClients>,
    pub home: Arc<AwsClients>,
}

impl AccountRouter {
    /// `home_account` is the functions' own account (e.g. the alert topic's account).
    pub fn new(sdk: SdkConfig, home_account: impl Into<String>, member: Option<MemberRole>) -> Self {
        let home = Arc::new(AwsClients::new(&sdk));
        Self {
            sdk,
            home,
            home_account: home_account.into(),
            member,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn home(&self) -> Arc<AwsClients> {
        self.home.clone()
    }

    fn home_region(&self) -> &str {
        self.sdk.region().map(Region::as_ref).unwrap_or_default()
    }

    /// The clients for an event of `account` in `region`. Without a member role, or for the home
    /// account, the function's own credentials are used (in the event's region).
    pub async fn route(&self, account: &str, region: &str) -> Routed {
        // IAM, S3 Control and Config report "global"/empty regions for some items; stay home then.
        let region = if region.is_empty() || region == "global" || region == "aws-global" {
            self.home_region().to_owned()
        } else {
            region.to_owned()
        };
        let foreign = account != self.home_account && !account.is_empty();
        let member = self.member.as_ref().filter(|_| foreign);
        if member.is_none() && region == self.home_region() {
            return Routed {
                target: self.home.clone(),
                home: self.home.clone(),
            };
        }
        let key = (
            if member.is_some() {
                account.to_owned()
            } else {
                self.home_account.clone()
            },
            region.clone(),
        );
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.get(&key) {
            return Routed {
                target: c.clone(),
                home: self.home.clone(),
            };
        }
        let mut builder = self.sdk.to_builder();
        builder.set_region(Some(Region::new(region.clone())));
        if let Some(m) = member {
            let partition = if region.starts_with("cn-") {
                "aws-cn"
            } else if region.starts_with("us-gov-") {
                "aws-us-gov"
            } else {
                "aws"
            };
            let arn = format!("arn:{partition}:iam::{account}:role/{}", m.role_name);
            let mut provider = AssumeRoleProvider::builder(arn)
                .session_name("tripline")
                .configure(&self.sdk);
            if let Some(id) = &m.external_id {
                provider = provider.external_id(id);
            }
            builder.set_credentials_provider(Some(SharedCredentialsProvider::new(provider.build().await)));
            tracing::info!(account, region = %region, role = %m.role_name, "member account clients built");
        }
        let clients = Arc::new(AwsClients::new(&builder.build()));
        cache.insert(key, clients.clone());
        Routed {
            target: clients,
            home: self.home.clone(),
        }
    }
}

macro_rules! delegate {
    ($to:ident: $( fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        $(
            async fn $name(&self $(, $arg: $ty)*) -> $ret {
                self.$to.$name($($arg),*).await
            }
        )*
    };
}

impl S3Read for Routed {
    delegate! { target:
        fn list_buckets(&self) -> Result<Vec<String>, AwsError>;
        fn bucket_policy(&self, bucket: &str) -> Result<Option<Value>, AwsError>;
        fn bucket_acl(&self, bucket: &str) -> Result<Value, AwsError>;
        fn bucket_public_access_block(&self, bucket: &str) -> Result<Option<PublicAccessBlock>, AwsError>;
        fn bucket_tags(&self, bucket: &str) -> Result<BTreeMap<String, String>, AwsError>;
        fn account_public_access_block(&self, account_id: &str) -> Result<Option<PublicAccessBlock>, AwsError>;
    }

    fn note_bucket_region(&self, bucket: &str, region: &str) {
        self.target.note_bucket_region(bucket, region);
    }
}

impl IamRead for Routed {
    delegate! { target:
        fn list_policy_versions(&self, policy_arn: &str) -> Result<Vec<PolicyVersionInfo>, AwsError>;
        fn policy_version_document(&self, policy_arn: &str, version_id: &str) -> Result<Value, AwsError>;
        fn policy_tags(&self, policy_arn: &str) -> Result<BTreeMap<String, String>, AwsError>;
        fn role_trust_policy(&self, role_name: &str) -> Result<Value, AwsError>;
        fn role_tags(&self, role_name: &str) -> Result<BTreeMap<String, String>, AwsError>;
        fn list_local_policies(&self) -> Result<Vec<ManagedPolicyInfo>, AwsError>;
        fn list_roles(&self) -> Result<Vec<RoleInfo>, AwsError>;
        fn attached_policies(&self, principal: &PrincipalRef) -> Result<Vec<String>, AwsError>;
    }
}

impl S3Write for Routed {
    delegate! { target:
        fn put_bucket_policy(&self, bucket: &str, policy: &Value) -> Result<(), AwsError>;
        fn delete_bucket_policy(&self, bucket: &str) -> Result<(), AwsError>;
        fn put_bucket_acl(&self, bucket: &str, acl: &Value) -> Result<(), AwsError>;
        fn put_bucket_public_access_block(&self, bucket: &str, block: Option<PublicAccessBlock>) -> Result<(), AwsError>;
        fn put_account_public_access_block(&self, account_id: &str, block: Option<PublicAccessBlock>) -> Result<(), AwsError>;
    }
}

impl IamWrite for Routed {
    delegate! { target:
        fn set_default_policy_version(&self, policy_arn: &str, version_id: &str) -> Result<(), AwsError>;
        fn detach_policy(&self, principal: &PrincipalRef, policy_arn: &str) -> Result<(), AwsError>;
        fn attach_policy(&self, principal: &PrincipalRef, policy_arn: &str) -> Result<(), AwsError>;
        fn update_assume_role_policy(&self, role_name: &str, document: &Value) -> Result<(), AwsError>;
    }
}

impl crate::CallerIdentity for Routed {
    delegate! { target:
        fn caller_account(&self) -> Result<String, AwsError>;
    }
}

/// The markers live in the home account's table.
impl crate::AttemptMarker for Routed {
    delegate! { home:
        fn claim_attempt(&self, table: &str, key: &str, now: i64, until: i64) -> Result<Option<i64>, AwsError>;
    }
}

impl ConfigRecorder for Routed {
    // The recorder of the account and region the finding is about.
    delegate! { target:
        fn recorder_recording(&self, name: &str) -> Result<Option<bool>, AwsError>;
        fn start_configuration_recorder(&self, name: &str) -> Result<(), AwsError>;
    }
}

impl FetchObject for Routed {
    delegate! { target:
        fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, AwsError>;
    }
}

impl PutEvaluations for Routed {
    // The result token belongs to the account whose Config rule invoked the function.
    delegate! { target:
        fn put_evaluations(&self, result_token: &str, evaluations: &[ConfigEvaluation]) -> Result<(), AwsError>;
    }
}

impl Publish for Routed {
    delegate! { home:
        fn publish(&self, topic_arn: &str, message: &SnsMessage) -> Result<String, AwsError>;
    }
}

impl ReadSecret for Routed {
    delegate! { home:
        fn secret_string(&self, secret_id: &str) -> Result<String, AwsError>;
    }
}

impl crate::exposure::ExposureRead for Routed {
    delegate! { target:
        fn list_swept(&self, kind: tripline_core::rules::external::SweptKindId, region: &str) -> Result<Vec<crate::exposure::Listed>, AwsError>;
        fn read_exposure(&self, kind: tripline_core::rules::external::SweptKindId, region: &str, id: &str) -> Result<tripline_core::rules::external::Exposure, AwsError>;
        fn swept_tags(&self, kind: tripline_core::rules::external::SweptKindId, region: &str, id: &str) -> Result<BTreeMap<String, String>, AwsError>;
    }
}
