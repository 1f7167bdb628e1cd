//! Clients for member accounts of an organization-wide sweep (issue 13): credentials from assuming the
//! member read role (`<prefix>-member-read`, with the external id) once per *account*, shared by the
//! clients of every region of that account, and kept until shortly before they expire.
//!
//! Why not `routing.rs`'s `AccountRouter`: it builds one `AssumeRoleProvider` per (account, region), so an
//! account swept in three regions costs three `sts:AssumeRole` calls, and an assume-role failure only shows
//! up inside the first read as an opaque credentials error. STS throttles per account
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>: "AssumeRole ... request
//! quota"), and the run summary must say *why* an account could not be swept (`AccessDenied` on the role,
//! throttled, ...): here `sts:AssumeRole` is called explicitly, its error classified like any other AWS
//! call ([`AwsError`]), and the credentials cached per account.
//!
//! Credentials are requested for [`SESSION`] and re-requested once less than [`REFRESH_BEFORE`] is left,
//! which is longer than a Lambda invocation can last (15 minutes): clients handed out at the start of an
//! invocation never expire during it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_config::{Region, SdkConfig};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};

use crate::{AwsClients, AwsError, ErrorKind};

/// Duration requested for each session (the role's default maximum is one hour).
pub const SESSION: Duration = Duration::from_secs(3600);
/// Credentials with less than this left are renewed before clients are handed out.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(16 * 60);

/// The role assumed in every swept account other than the home one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberReadRole {
    /// Role name, e.g. `tripline-member-read`.
    pub name: String,
    pub external_id: Option<String>,
    /// `RoleSessionName` (shows in the member account's CloudTrail).
    pub session_name: String,
}

#[derive(Debug)]
struct Session {
    credentials: Credentials,
    expires: SystemTime,
    clients: HashMap<String, Arc<AwsClients>>,
}

/// Per-account sessions and per-(account, region) clients. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct MemberSessions {
    base: SdkConfig,
    sts: aws_sdk_sts::Client,
    home_account: String,
    /// Whether the home account is read with the function's own credentials (`true`) or through the
    /// member role like any other (`false`).
    home_direct: bool,
    role: MemberReadRole,
    home_clients: Mutex<HashMap<String, Arc<AwsClients>>>,
    /// One lock per account, so concurrent shards of one account assume the role once.
    sessions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Session>>>>>,
    assume_calls: std::sync::atomic::AtomicU64,
}

/// `aws`, `aws-cn` or `aws-us-gov` for a region name.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

impl MemberSessions {
    pub fn new(
        base: SdkConfig,
        home_account: impl Into<String>,
        home_direct: bool,
        role: MemberReadRole,
    ) -> Self {
        Self {
            sts: aws_sdk_sts::Client::new(&base),
            base,
            home_account: home_account.into(),
            home_direct,
            role,
            home_clients: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            assume_calls: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn home_account(&self) -> &str {
        &self.home_account
    }

    /// The home region (the base configuration's).
    pub fn home_region(&self) -> String {
        self.base.region().map(Region::to_string).unwrap_or_default()
    }

    /// How many `sts:AssumeRole` calls were made (the benchmarks and tests read it).
    pub fn assume_calls(&self) -> u64 {
        self.assume_calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The role ARN assumed in `account`.
    pub fn role_arn(&self, account: &str) -> String {
        format!(
            "arn:{}:iam::{account}:role/{}",
            partition_of(&self.home_region()),
            self.role.name
        )
    }

    fn config_for(&self, region: &str, credentials: Option<&Credentials>) -> SdkConfig {
        let mut b = self.base.to_builder();
        b.set_region(Some(Region::new(region.to_owned())));
        if let Some(c) = credentials {
            b.set_credentials_provider(Some(SharedCredentialsProvider::new(c.clone())));
        }
        b.build()
    }

    /// The clients for `account` in `region`: the function's own for the home account (when
    /// `home_direct`), else the member role's. The error is the `sts:AssumeRole` failure, classified.
    pub async fn clients(&self, account: &str, region: &str) -> Result<Arc<AwsClients>, AwsError> {
        if self.home_direct && account == self.home_account {
            let mut home = self.home_clients.lock().unwrap_or_else(PoisonError::into_inner);
            let c = home
                .entry(region.to_owned())
                .or_insert_with(|| Arc::new(AwsClients::new(&self.config_for(region, None))));
            return Ok(c.clone());
        }
        let slot = {
            let mut s = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
            s.entry(account.to_owned()).or_default().clone()
        };
        let mut session = slot.lock().await;
        let fresh = session.as_ref().is_some_and(|s| {
            s.expires
                .duration_since(SystemTime::now())
                .is_ok_and(|left| left > REFRESH_BEFORE)
        });
        if !fresh {
            let (credentials, expires) = self.assume(account).await?;
            *session = Some(Session {
                credentials,
                expires,
                clients: HashMap::new(),
            });
        }
        let Some(s) = session.as_mut() else {
            return Err(AwsError::new("sts:AssumeRole", ErrorKind::Client, "no session"));
        };
        let cfg = self.config_for(region, Some(&s.credentials));
        let c = s
            .clients
            .entry(region.to_owned())
            .or_insert_with(|| Arc::new(AwsClients::new(&cfg)));
        Ok(c.clone())
    }

    async fn assume(&self, account: &str) -> Result<(Credentials, SystemTime), AwsError> {
        self.assume_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let arn = self.role_arn(account);
        let mut req = self
            .sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name(&self.role.session_name)
            .duration_seconds(i32::try_from(SESSION.as_secs()).unwrap_or(3600));
        if let Some(id) = &self.role.external_id {
            req = req.external_id(id);
        }
        let out = req
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sts:AssumeRole", e))?;
        let Some(c) = out.credentials else {
            return Err(AwsError::new(
                "sts:AssumeRole",
                ErrorKind::Client,
                format!("no credentials in the answer for `{arn}`"),
            ));
        };
        let expires = SystemTime::try_from(c.expiration).unwrap_or_else(|_| SystemTime::now() + SESSION);
        tracing::info!(account, role = %arn, "member role assumed");
        Ok((
            Credentials::new(
                c.access_key_id,
                c.secret_access_key,
                Some(c.session_token),
                Some(expires),
                "tripline-member-read",
            ),
            expires,
        ))
    }
}
