//! The organization's member accounts for the zone of trust (issue 19): listed through Organizations
//! (`organizations:ListAccounts`) where Tripline may, so that a grant to a member account, or one conditioned
//! on `aws:PrincipalOrgID`, is judged as inside the zone instead of "membership unknown".
//!
//! `TRIPLINE_ORGANIZATION_MEMBERS=organizations` turns it on (the template sets it with `OrganizationId` and
//! `ListOrganizationMembers`); `TRIPLINE_ORGANIZATION_ROLE_ARN` names a role in the management or a
//! delegated-administrator account to call ListAccounts through (the organization sweep's planner uses the
//! same one). A list given in `TRIPLINE_ORGANIZATION_ACCOUNT_IDS` wins: nothing is listed.
//!
//! The list is kept per execution environment for an hour (accounts join and leave rarely; a new member is
//! reported as outside until the next listing: a false alarm, never a silence for an account that left
//! more than an hour ago). A listing that fails (AccessDenied: the account is neither the management nor a
//! delegated administrator; throttling) leaves membership unknown, which the findings say, and is tried
//! again after five minutes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;

use crate::app::DetectorConfig;
use crate::env::EnvError;

/// `organizations`: list the members through Organizations.
pub const ORGANIZATION_MEMBERS: &str = "TRIPLINE_ORGANIZATION_MEMBERS";
/// The role ListAccounts is called through (optional): the planner's.
pub use crate::handlers::sweep_planner::ORGANIZATION_ROLE_ARN;

/// How long a listing is used.
pub const MEMBERS_TTL: Duration = Duration::from_secs(3600);
/// How long after a failed listing the next is tried.
pub const RETRY_AFTER: Duration = Duration::from_secs(300);

/// When the last listing was made and what it gave (`None`: it failed).
type Listing = (Instant, Option<Arc<BTreeSet<String>>>);

/// The listing and its cache.
#[derive(Debug)]
pub struct OrgMembers {
    org: aws_sdk_organizations::Client,
    cache: tokio::sync::Mutex<Option<Listing>>,
}

impl OrgMembers {
    /// `None` unless `TRIPLINE_ORGANIZATION_MEMBERS` is `organizations` and no static list is given.
    pub async fn from_env_map(
        vars: &BTreeMap<String, String>,
        sdk: &SdkConfig,
        session_name: &str,
    ) -> Result<Option<Self>, EnvError> {
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        match get(ORGANIZATION_MEMBERS) {
            None => return Ok(None),
            Some("organizations") => {}
            Some(other) => {
                return Err(EnvError::new(
                    ORGANIZATION_MEMBERS,
                    format!(
                        "should be `organizations` or empty, found `{}`",
                        tripline_core::text::quote(other)
                    ),
                ))
            }
        }
        if get("TRIPLINE_ORGANIZATION_ACCOUNT_IDS").is_some() {
            return Ok(None);
        }
        let org_sdk = match get(ORGANIZATION_ROLE_ARN) {
            Some(arn) => {
                let provider = aws_config::sts::AssumeRoleProvider::builder(arn)
                    .session_name(session_name)
                    .configure(sdk)
                    .build()
                    .await;
                sdk.to_builder()
                    .credentials_provider(aws_sdk_organizations::config::SharedCredentialsProvider::new(
                        provider,
                    ))
                    .build()
            }
            None => sdk.clone(),
        };
        Ok(Some(Self::new(aws_sdk_organizations::Client::new(&org_sdk))))
    }

    pub fn new(org: aws_sdk_organizations::Client) -> Self {
        Self {
            org,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    /// The member accounts, listed or cached; `None` when the listing failed (logged).
    pub async fn members(&self) -> Option<Arc<BTreeSet<String>>> {
        let mut cache = self.cache.lock().await;
        if let Some((at, members)) = cache.as_ref() {
            let ttl = if members.is_some() {
                MEMBERS_TTL
            } else {
                RETRY_AFTER
            };
            if at.elapsed() < ttl {
                return members.clone();
            }
        }
        let listed = match crate::sdk::fanout::member_accounts(&self.org).await {
            Ok(accounts) => {
                tracing::info!(members = accounts.len(), "organization members listed");
                Some(Arc::new(accounts.into_iter().collect::<BTreeSet<_>>()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "organization members not listed: membership stays unknown");
                None
            }
        };
        *cache = Some((Instant::now(), listed.clone()));
        listed
    }

    /// `base` with the listed members as `organization_accounts` (unchanged when the listing failed).
    pub async fn config(&self, base: &DetectorConfig) -> DetectorConfig {
        let mut cfg = base.clone();
        if let Some(m) = self.members().await {
            cfg.rules.organization_accounts = Some(m.as_ref().clone());
        }
        cfg
    }
}

/// The configuration an invocation judges with: `base`, with the organization's members when they are
/// listed.
pub async fn current_config<'a>(
    members: Option<&OrgMembers>,
    base: &'a DetectorConfig,
) -> std::borrow::Cow<'a, DetectorConfig> {
    match members {
        Some(m) => std::borrow::Cow::Owned(m.config(base).await),
        None => std::borrow::Cow::Borrowed(base),
    }
}
