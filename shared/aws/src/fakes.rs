//! In-memory fakes of every capability trait (feature `fakes`, and in unit tests).
//!
//! [`FakeAws`] implements all traits over one mutex-protected [`FakeWorld`]. Tests seed the world, run a
//! handler, then assert on what was published, written or evaluated. Every call is logged in
//! [`FakeWorld::calls`] (e.g. `s3:GetBucketPolicy reports`) so tests can check that a handler fetched
//! exactly the state it needed; failures are injected per operation with [`FakeAws::fail`].
//!
//! The fake models real AWS where the emulator (moto) does not:
//! - new buckets have ACLs disabled (Object Ownership `BucketOwnerEnforced`, the default since April 2023):
//!   `PutBucketAcl` with any grant other than the owner's fails with `AccessControlListNotSupported`
//!   (set `acls_enabled` on a bucket to model an older bucket);
//! - `PutBucketPolicy` of a public policy fails with `AccessDenied` when bucket- or account-level
//!   `BlockPublicPolicy` is on, when a public-policy checker is installed with
//!   [`FakeAws::with_public_policy_check`];
//! - buckets have default encryption (SSE-S3), which Tripline only reads and never changes.

mod store;
pub use store::FakeStore;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Value};

use super::{
    AwsError, ConfigEvaluation, ConfigRecorder, ErrorKind, FetchObject, IamRead, IamWrite, ManagedPolicyInfo,
    PolicyVersionInfo, PostWebhook, PrincipalRef, Publish, PutEvaluations, ReadSecret, RoleInfo, S3Read,
    S3Write, WebhookError,
};
use tripline_core::render::sns::SnsMessage;
use tripline_core::state::PublicAccessBlock;

/// The owner's canonical id in fake ACLs.
pub const FAKE_OWNER_ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";

/// One fake bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeBucket {
    pub policy: Option<Value>,
    pub acl: Value,
    pub public_access_block: Option<PublicAccessBlock>,
    pub tags: BTreeMap<String, String>,
    /// ACLs enabled (Object Ownership other than `BucketOwnerEnforced`).
    pub acls_enabled: bool,
}

impl Default for FakeBucket {
    fn default() -> Self {
        Self {
            policy: None,
            acl: private_acl(),
            public_access_block: None,
            tags: BTreeMap::new(),
            acls_enabled: false,
        }
    }
}

/// The ACL of a new bucket: the owner has FULL_CONTROL.
pub fn private_acl() -> Value {
    json!({
        "Owner": {"ID": FAKE_OWNER_ID},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": FAKE_OWNER_ID}, "Permission": "FULL_CONTROL"}]
    })
}

/// One fake customer-managed policy.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FakePolicy {
    pub name: String,
    /// Version info and document, oldest first.
    pub versions: Vec<(PolicyVersionInfo, Value)>,
    pub tags: BTreeMap<String, String>,
}

/// One fake role.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FakeRole {
    pub arn: String,
    pub trust_policy: Value,
    pub tags: BTreeMap<String, String>,
}

/// Everything the fake knows and recorded.
#[derive(Debug, Default)]
pub struct FakeWorld {
    pub buckets: BTreeMap<String, FakeBucket>,
    pub account_public_access_block: BTreeMap<String, PublicAccessBlock>,
    /// AWS Config recorders: name -> recording.
    pub config_recorders: BTreeMap<String, bool>,
    pub policies: BTreeMap<String, FakePolicy>,
    pub roles: BTreeMap<String, FakeRole>,
    /// Managed policy ARNs attached to each principal.
    pub attachments: Vec<(PrincipalRef, String)>,
    pub objects: BTreeMap<(String, String), Vec<u8>>,
    pub secrets: BTreeMap<String, String>,
    /// `(topic ARN, message)` in publish order.
    pub published: Vec<(String, SnsMessage)>,
    /// `(result token, evaluations)` per PutEvaluations call.
    pub evaluations: Vec<(String, Vec<ConfigEvaluation>)>,
    pub webhook_posts: Vec<Value>,
    /// Resources of the sweep's swept kinds (snapshots, AMIs, queues...): kind -> id -> resource.
    pub swept: BTreeMap<tripline_core::rules::external::SweptKindId, BTreeMap<String, FakeSwept>>,
    /// Regions where every swept kind's listing is refused (`AccessDenied`, e.g. an SCP denying a region).
    pub swept_regions_denied: std::collections::BTreeSet<String>,
    /// Every call, `operation target`, in order.
    pub calls: Vec<String>,
    /// Injected failures by operation name (`s3:GetBucketPolicy`); they persist until cleared.
    pub failures: BTreeMap<String, AwsError>,
    /// Failures that start once the operation has been called this many times ([`FakeAws::fail_after`]).
    pub failures_after: BTreeMap<String, (usize, AwsError)>,
    /// Someone else's change, applied to the world when `operation` is called for the `n+1`-th time
    /// ([`FakeAws::change_before_call`]): a resource changed between two reads.
    pub changes_before: Vec<(String, usize, WorldChange)>,
    /// Remediation attempt markers: (table, key) -> (claimed at, expires at).
    pub attempts: BTreeMap<(String, String), (i64, i64)>,
    /// The account of the fake's credentials (`sts:GetCallerIdentity`); [`FAKE_ACCOUNT`] when unset.
    pub caller_account: Option<String>,
    /// The customer-duty reads (`crate::duties`): password policy, regions, network ACLs, RDS, patch items.
    pub duties: crate::duties::FakeDuties,
    /// The account-level state reads (`crate::account_state`): trails, recorders, detectors, EBS, groups.
    pub account_state: crate::account_state::FakeAccountState,
}

/// Someone else's change to the world ([`FakeAws::change_before_call`]).
pub type WorldChange = fn(&mut FakeWorld);

/// The account a [`FakeAws`] acts as unless told otherwise ([`FakeAws::as_account`]).
pub const FAKE_ACCOUNT: &str = "111122223333";

type PublicCheck = Box<dyn Fn(&Value) -> bool + Send + Sync>;

/// In-memory AWS. See the module docs.
#[derive(Default)]
pub struct FakeAws {
    world: Mutex<FakeWorld>,
    public_policy_check: Option<PublicCheck>,
}

impl std::fmt::Debug for FakeAws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAws").field("world", &self.world).finish()
    }
}

impl FakeAws {
    pub fn new() -> Self {
        Self::default()
    }

    /// Enforces `BlockPublicPolicy` on `PutBucketPolicy` using `is_public` (the policy engine's verdict).
    pub fn with_public_policy_check(
        mut self,
        is_public: impl Fn(&Value) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.public_policy_check = Some(Box::new(is_public));
        self
    }

    /// The fake's credentials belong to `account` (what `sts:GetCallerIdentity` answers).
    pub fn as_account(self, account: &str) -> Self {
        self.world().caller_account = Some(account.to_owned());
        self
    }

    /// Applies `change` to the world just before the `n+1`-th call of `operation` answers (e.g. a bucket
    /// policy changed by someone else between the evaluation and the re-read before writing).
    pub fn change_before_call(&self, operation: &str, n: usize, change: WorldChange) {
        self.world()
            .changes_before
            .push((operation.to_owned(), n, change));
    }

    /// Locks the world for seeding or assertions.
    pub fn world(&self) -> MutexGuard<'_, FakeWorld> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes every later call of `operation` fail with `kind`.
    pub fn fail(&self, operation: &'static str, kind: ErrorKind) {
        let e = injected(operation, kind);
        self.world().failures.insert(operation.to_owned(), e);
    }

    /// Lets the next `calls` calls of `operation` succeed, then fails every later one with `kind` (e.g. a
    /// read that works before a write and fails when read back after it).
    pub fn fail_after(&self, operation: &'static str, calls: usize, kind: ErrorKind) {
        let e = injected(operation, kind);
        self.world()
            .failures_after
            .insert(operation.to_owned(), (calls, e));
    }

    pub fn clear_failures(&self) {
        let mut w = self.world();
        w.failures.clear();
        w.failures_after.clear();
    }

    pub fn add_bucket(&self, name: &str, bucket: FakeBucket) {
        self.world().buckets.insert(name.to_owned(), bucket);
    }

    /// Adds a customer-managed policy with its versions' documents, oldest first; the last is default.
    pub fn add_policy(&self, arn: &str, documents: &[Value]) {
        let n = documents.len();
        let versions = documents
            .iter()
            .enumerate()
            .map(|(i, d)| {
                (
                    PolicyVersionInfo {
                        version_id: format!("v{}", i + 1),
                        is_default: i + 1 == n,
                        create_date: format!("2026-01-01T00:00:{:02}Z", i.min(59)),
                    },
                    d.clone(),
                )
            })
            .collect();
        let name = arn.rsplit('/').next().unwrap_or(arn).to_owned();
        self.world().policies.insert(
            arn.to_owned(),
            FakePolicy {
                name,
                versions,
                tags: BTreeMap::new(),
            },
        );
    }

    pub fn add_role(&self, name: &str, account: &str, trust_policy: Value) {
        self.world().roles.insert(
            name.to_owned(),
            FakeRole {
                arn: format!("arn:aws:iam::{account}:role/{name}"),
                trust_policy,
                tags: BTreeMap::new(),
            },
        );
    }

    /// Published messages so far.
    pub fn published(&self) -> Vec<(String, SnsMessage)> {
        self.world().published.clone()
    }

    /// Write calls so far (operations that change state).
    pub fn writes(&self) -> Vec<String> {
        self.world()
            .calls
            .iter()
            .filter(|c| {
                let op = c.split(' ').next().unwrap_or_default();
                let name = op.split(':').nth(1).unwrap_or_default();
                ["Put", "Delete", "Set", "Detach", "Attach", "Update", "Start"]
                    .iter()
                    .any(|p| name.starts_with(p))
            })
            .cloned()
            .collect()
    }

    /// Records the call and returns the injected failure, if any.
    pub(crate) fn call(
        &self,
        operation: &'static str,
        target: &str,
    ) -> Result<MutexGuard<'_, FakeWorld>, AwsError> {
        let mut w = self.world();
        let prefix = format!("{operation} ");
        let made = w.calls.iter().filter(|c| c.starts_with(&prefix)).count();
        w.calls.push(format!("{operation} {target}"));
        let due: Vec<WorldChange> = w
            .changes_before
            .iter()
            .filter(|(op, n, _)| op == operation && *n == made)
            .map(|(_, _, f)| *f)
            .collect();
        for change in due {
            change(&mut w);
        }
        if let Some((after, e)) = w.failures_after.get(operation) {
            if made >= *after {
                return Err(e.clone());
            }
        }
        match w.failures.get(operation) {
            Some(e) => Err(e.clone()),
            None => Ok(w),
        }
    }
}

/// An injected failure of `kind`, with the error code AWS would send.
fn injected(operation: &'static str, kind: ErrorKind) -> AwsError {
    let mut e = AwsError::new(operation, kind, "injected failure");
    e.code = Some(
        match kind {
            ErrorKind::Throttling => "Throttling",
            ErrorKind::ServerError => "InternalError",
            ErrorKind::Timeout => "RequestTimeout",
            ErrorKind::Dispatch => "DispatchFailure",
            ErrorKind::NotFound => "NoSuchEntity",
            ErrorKind::AccessDenied => "AccessDenied",
            ErrorKind::Client => "ValidationError",
        }
        .to_owned(),
    );
    e
}

fn not_found(operation: &'static str, code: &str, what: &str) -> AwsError {
    let mut e = AwsError::new(operation, ErrorKind::NotFound, format!("`{what}` does not exist"));
    e.code = Some(code.to_owned());
    e
}

fn bucket<'a>(w: &'a mut FakeWorld, op: &'static str, name: &str) -> Result<&'a mut FakeBucket, AwsError> {
    w.buckets
        .get_mut(name)
        .ok_or_else(|| not_found(op, "NoSuchBucket", name))
}

fn policy<'a>(w: &'a mut FakeWorld, op: &'static str, arn: &str) -> Result<&'a mut FakePolicy, AwsError> {
    w.policies
        .get_mut(arn)
        .ok_or_else(|| not_found(op, "NoSuchEntity", arn))
}

fn role<'a>(w: &'a mut FakeWorld, op: &'static str, name: &str) -> Result<&'a mut FakeRole, AwsError> {
    w.roles
        .get_mut(name)
        .ok_or_else(|| not_found(op, "NoSuchEntity", name))
}

impl S3Read for FakeAws {
    async fn list_buckets(&self) -> Result<Vec<String>, AwsError> {
        let w = self.call("s3:ListBuckets", "")?;
        Ok(w.buckets.keys().cloned().collect())
    }

    async fn bucket_policy(&self, name: &str) -> Result<Option<Value>, AwsError> {
        const OP: &str = "s3:GetBucketPolicy";
        let mut w = self.call(OP, name)?;
        Ok(bucket(&mut w, OP, name)?.policy.clone())
    }

    async fn bucket_acl(&self, name: &str) -> Result<Value, AwsError> {
        const OP: &str = "s3:GetBucketAcl";
        let mut w = self.call(OP, name)?;
        Ok(bucket(&mut w, OP, name)?.acl.clone())
    }

    async fn bucket_public_access_block(&self, name: &str) -> Result<Option<PublicAccessBlock>, AwsError> {
        const OP: &str = "s3:GetBucketPublicAccessBlock";
        let mut w = self.call(OP, name)?;
        Ok(bucket(&mut w, OP, name)?.public_access_block)
    }

    async fn bucket_tags(&self, name: &str) -> Result<BTreeMap<String, String>, AwsError> {
        const OP: &str = "s3:GetBucketTagging";
        let mut w = self.call(OP, name)?;
        Ok(bucket(&mut w, OP, name)?.tags.clone())
    }

    async fn account_public_access_block(
        &self,
        account_id: &str,
    ) -> Result<Option<PublicAccessBlock>, AwsError> {
        let w = self.call("s3:GetAccountPublicAccessBlock", account_id)?;
        Ok(w.account_public_access_block.get(account_id).copied())
    }
}

impl S3Write for FakeAws {
    async fn put_bucket_policy(&self, name: &str, doc: &Value) -> Result<(), AwsError> {
        const OP: &str = "s3:PutBucketPolicy";
        let mut w = self.call(OP, name)?;
        let account_blocks = w
            .account_public_access_block
            .values()
            .any(|b| b.block_public_policy);
        let b = bucket(&mut w, OP, name)?;
        let blocks = account_blocks || b.public_access_block.is_some_and(|p| p.block_public_policy);
        if blocks && self.public_policy_check.as_ref().is_some_and(|check| check(doc)) {
            let mut e = AwsError::new(
                OP,
                ErrorKind::AccessDenied,
                "public policies are blocked by BlockPublicPolicy",
            );
            e.code = Some("AccessDenied".to_owned());
            return Err(e);
        }
        b.policy = Some(doc.clone());
        Ok(())
    }

    async fn delete_bucket_policy(&self, name: &str) -> Result<(), AwsError> {
        const OP: &str = "s3:DeleteBucketPolicy";
        let mut w = self.call(OP, name)?;
        bucket(&mut w, OP, name)?.policy = None;
        Ok(())
    }

    async fn put_bucket_acl(&self, name: &str, acl: &Value) -> Result<(), AwsError> {
        const OP: &str = "s3:PutBucketAcl";
        let mut w = self.call(OP, name)?;
        let b = bucket(&mut w, OP, name)?;
        let only_owner = acl
            .get("Grants")
            .and_then(Value::as_array)
            .is_some_and(|g| g.iter().all(|g| g["Grantee"]["ID"] == FAKE_OWNER_ID));
        if !b.acls_enabled && !only_owner {
            let mut e = AwsError::new(OP, ErrorKind::Client, "the bucket does not allow ACLs");
            e.code = Some("AccessControlListNotSupported".to_owned());
            return Err(e);
        }
        b.acl = acl.clone();
        Ok(())
    }

    async fn put_bucket_public_access_block(
        &self,
        name: &str,
        block: Option<PublicAccessBlock>,
    ) -> Result<(), AwsError> {
        let op = if block.is_some() {
            "s3:PutBucketPublicAccessBlock"
        } else {
            "s3:DeleteBucketPublicAccessBlock"
        };
        let mut w = self.call(op, name)?;
        bucket(&mut w, op, name)?.public_access_block = block;
        Ok(())
    }

    async fn put_account_public_access_block(
        &self,
        account_id: &str,
        block: Option<PublicAccessBlock>,
    ) -> Result<(), AwsError> {
        let op = if block.is_some() {
            "s3:PutAccountPublicAccessBlock"
        } else {
            "s3:DeleteAccountPublicAccessBlock"
        };
        let mut w = self.call(op, account_id)?;
        match block {
            Some(b) => w.account_public_access_block.insert(account_id.to_owned(), b),
            None => w.account_public_access_block.remove(account_id),
        };
        Ok(())
    }
}

impl FetchObject for FakeAws {
    async fn get_object(&self, b: &str, key: &str) -> Result<Vec<u8>, AwsError> {
        const OP: &str = "s3:GetObject";
        let w = self.call(OP, &format!("{b}/{key}"))?;
        w.objects
            .get(&(b.to_owned(), key.to_owned()))
            .cloned()
            .ok_or_else(|| not_found(OP, "NoSuchKey", &format!("{b}/{key}")))
    }
}

impl IamRead for FakeAws {
    async fn list_policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersionInfo>, AwsError> {
        const OP: &str = "iam:ListPolicyVersions";
        let mut w = self.call(OP, arn)?;
        Ok(policy(&mut w, OP, arn)?
            .versions
            .iter()
            .map(|(v, _)| v.clone())
            .collect())
    }

    async fn policy_version_document(&self, arn: &str, version_id: &str) -> Result<Value, AwsError> {
        const OP: &str = "iam:GetPolicyVersion";
        let mut w = self.call(OP, &format!("{arn} {version_id}"))?;
        policy(&mut w, OP, arn)?
            .versions
            .iter()
            .find(|(v, _)| v.version_id == version_id)
            .map(|(_, d)| d.clone())
            .ok_or_else(|| not_found(OP, "NoSuchEntity", version_id))
    }

    async fn policy_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        const OP: &str = "iam:ListPolicyTags";
        let mut w = self.call(OP, arn)?;
        Ok(policy(&mut w, OP, arn)?.tags.clone())
    }

    async fn role_trust_policy(&self, name: &str) -> Result<Value, AwsError> {
        const OP: &str = "iam:GetRole";
        let mut w = self.call(OP, name)?;
        Ok(role(&mut w, OP, name)?.trust_policy.clone())
    }

    async fn role_tags(&self, name: &str) -> Result<BTreeMap<String, String>, AwsError> {
        const OP: &str = "iam:ListRoleTags";
        let mut w = self.call(OP, name)?;
        Ok(role(&mut w, OP, name)?.tags.clone())
    }

    async fn list_local_policies(&self) -> Result<Vec<ManagedPolicyInfo>, AwsError> {
        let w = self.call("iam:ListPolicies", "Local")?;
        Ok(w.policies
            .iter()
            .map(|(arn, p)| ManagedPolicyInfo {
                id: format!("ANPA{}", p.name.to_ascii_uppercase()),
                arn: arn.clone(),
                name: p.name.clone(),
                default_version_id: p
                    .versions
                    .iter()
                    .find(|(v, _)| v.is_default)
                    .map(|(v, _)| v.version_id.clone())
                    .unwrap_or_default(),
            })
            .collect())
    }

    async fn list_roles(&self) -> Result<Vec<RoleInfo>, AwsError> {
        let w = self.call("iam:ListRoles", "")?;
        Ok(w.roles
            .iter()
            .map(|(name, r)| RoleInfo {
                id: format!("AROA{}", name.to_ascii_uppercase()),
                name: name.clone(),
                arn: r.arn.clone(),
                trust_policy: Some(r.trust_policy.clone()),
            })
            .collect())
    }

    async fn attached_policies(&self, principal: &PrincipalRef) -> Result<Vec<String>, AwsError> {
        let w = self.call("iam:ListAttachedPolicies", &format!("{principal:?}"))?;
        Ok(w.attachments
            .iter()
            .filter(|(p, _)| p == principal)
            .map(|(_, a)| a.clone())
            .collect())
    }
}

impl IamWrite for FakeAws {
    async fn set_default_policy_version(&self, arn: &str, version_id: &str) -> Result<(), AwsError> {
        const OP: &str = "iam:SetDefaultPolicyVersion";
        let mut w = self.call(OP, &format!("{arn} {version_id}"))?;
        let p = policy(&mut w, OP, arn)?;
        if !p.versions.iter().any(|(v, _)| v.version_id == version_id) {
            return Err(not_found(OP, "NoSuchEntity", version_id));
        }
        for (v, _) in &mut p.versions {
            v.is_default = v.version_id == version_id;
        }
        Ok(())
    }

    async fn detach_policy(&self, principal: &PrincipalRef, arn: &str) -> Result<(), AwsError> {
        const OP: &str = "iam:DetachPolicy";
        let mut w = self.call(OP, &format!("{principal:?} {arn}"))?;
        let before = w.attachments.len();
        w.attachments.retain(|(p, a)| !(p == principal && a == arn));
        if w.attachments.len() == before {
            return Err(not_found(OP, "NoSuchEntity", arn));
        }
        Ok(())
    }

    async fn attach_policy(&self, principal: &PrincipalRef, arn: &str) -> Result<(), AwsError> {
        let mut w = self.call("iam:AttachPolicy", &format!("{principal:?} {arn}"))?;
        if !w.attachments.iter().any(|(p, a)| p == principal && a == arn) {
            w.attachments.push((principal.clone(), arn.to_owned()));
        }
        Ok(())
    }

    async fn update_assume_role_policy(&self, name: &str, document: &Value) -> Result<(), AwsError> {
        const OP: &str = "iam:UpdateAssumeRolePolicy";
        let mut w = self.call(OP, name)?;
        role(&mut w, OP, name)?.trust_policy = document.clone();
        Ok(())
    }
}

impl Publish for FakeAws {
    async fn publish(&self, topic_arn: &str, message: &SnsMessage) -> Result<String, AwsError> {
        let mut w = self.call("sns:Publish", topic_arn)?;
        w.published.push((topic_arn.to_owned(), message.clone()));
        Ok(format!("fake-message-{}", w.published.len()))
    }
}

impl crate::AttemptMarker for FakeAws {
    async fn claim_attempt(
        &self,
        table: &str,
        key: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<i64>, AwsError> {
        let mut w = self.call("dynamodb:PutItem", key)?;
        let k = (table.to_owned(), key.to_owned());
        match w.attempts.get(&k) {
            Some((claimed, expires)) if *expires >= now => Ok(Some(*claimed)),
            _ => {
                w.attempts.insert(k, (now, until));
                Ok(None)
            }
        }
    }
}

impl crate::CallerIdentity for FakeAws {
    async fn caller_account(&self) -> Result<String, AwsError> {
        let w = self.call("sts:GetCallerIdentity", "")?;
        Ok(w.caller_account
            .clone()
            .unwrap_or_else(|| FAKE_ACCOUNT.to_owned()))
    }
}

impl ConfigRecorder for FakeAws {
    async fn recorder_recording(&self, name: &str) -> Result<Option<bool>, AwsError> {
        let w = self.call("config:DescribeConfigurationRecorderStatus", name)?;
        Ok(w.config_recorders.get(name).copied())
    }

    async fn start_configuration_recorder(&self, name: &str) -> Result<(), AwsError> {
        const OP: &str = "config:StartConfigurationRecorder";
        let mut w = self.call(OP, name)?;
        let recording = w
            .config_recorders
            .get_mut(name)
            .ok_or_else(|| not_found(OP, "NoSuchConfigurationRecorderException", name))?;
        *recording = true;
        Ok(())
    }
}

impl PutEvaluations for FakeAws {
    async fn put_evaluations(
        &self,
        result_token: &str,
        evaluations: &[ConfigEvaluation],
    ) -> Result<(), AwsError> {
        let mut w = self.call("config:PutEvaluations", result_token)?;
        w.evaluations
            .push((result_token.to_owned(), evaluations.to_vec()));
        Ok(())
    }
}

impl ReadSecret for FakeAws {
    async fn secret_string(&self, secret_id: &str) -> Result<String, AwsError> {
        const OP: &str = "secretsmanager:GetSecretValue";
        let w = self.call(OP, secret_id)?;
        w.secrets
            .get(secret_id)
            .cloned()
            .ok_or_else(|| not_found(OP, "ResourceNotFoundException", secret_id))
    }
}

impl PostWebhook for FakeAws {
    async fn post_json(&self, body: &Value) -> Result<(), WebhookError> {
        let mut w = self.world();
        w.calls.push("slack:Post webhook".to_owned());
        if let Some(e) = w.failures.get("slack:Post") {
            return Err(WebhookError {
                retryable: e.is_retryable(),
                attempts: 1,
                message: e.message.clone(),
            });
        }
        w.webhook_posts.push(body.clone());
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    use crate::block_on;
    #[test]
    fn reads_writes_and_injected_failures() {
        let aws = FakeAws::new().with_public_policy_check(|p| p["Statement"][0]["Principal"] == "*");
        aws.add_bucket("b", FakeBucket::default());
        let public = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]});
        block_on(async {
            assert_eq!(aws.bucket_policy("b").await.unwrap(), None);
            assert!(aws.bucket_policy("missing").await.unwrap_err().is_not_found());
            aws.put_bucket_policy("b", &public).await.unwrap();
            assert_eq!(aws.bucket_policy("b").await.unwrap(), Some(public.clone()));
            // BlockPublicPolicy is enforced like AWS does (the emulator does not).
            aws.put_bucket_public_access_block(
                "b",
                Some(PublicAccessBlock {
                    block_public_policy: true,
                    ..Default::default()
                }),
            )
            .await
            .unwrap();
            let denied = aws.put_bucket_policy("b", &public).await.unwrap_err();
            assert_eq!(denied.code.as_deref(), Some("AccessDenied"));
            // ACLs disabled by default, as on new AWS buckets (the emulator keeps them enabled).
            let public_acl = json!({"Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]});
            let e = aws.put_bucket_acl("b", &public_acl).await.unwrap_err();
            assert_eq!(e.code.as_deref(), Some("AccessControlListNotSupported"));
            aws.fail("s3:GetBucketAcl", ErrorKind::Throttling);
            assert!(aws.bucket_acl("b").await.unwrap_err().is_retryable());
        });
        assert_eq!(
            aws.writes(),
            vec![
                "s3:PutBucketPolicy b",
                "s3:PutBucketPublicAccessBlock b",
                "s3:PutBucketPolicy b",
                "s3:PutBucketAcl b"
            ]
        );
    }

    #[test]
    fn policy_versions_and_default() {
        let aws = FakeAws::new();
        let arn = "arn:aws:iam::111122223333:policy/p";
        aws.add_policy(arn, &[json!({"v": 1}), json!({"v": 2})]);
        block_on(async {
            let versions = aws.list_policy_versions(arn).await.unwrap();
            assert_eq!(versions.iter().filter(|v| v.is_default).count(), 1);
            assert_eq!(versions[1].version_id, "v2");
            assert!(versions[1].is_default);
            aws.set_default_policy_version(arn, "v1").await.unwrap();
            let versions = aws.list_policy_versions(arn).await.unwrap();
            assert!(versions[0].is_default && !versions[1].is_default);
            assert_eq!(
                aws.policy_version_document(arn, "v1").await.unwrap(),
                json!({"v": 1})
            );
        });
    }
}

/// One resource of a swept kind: how its listing shows it, what it exposes, its tags.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeSwept {
    pub listed: crate::exposure::Listed,
    pub exposure: tripline_core::rules::external::Exposure,
    pub tags: BTreeMap<String, String>,
}

/// The operation names of a swept kind: its listing and its read (the first two permissions of its row).
fn swept_ops(kind: tripline_core::rules::external::SweptKindId) -> (&'static str, &'static str) {
    let row = tripline_core::rules::external::SWEPT_KINDS
        .iter()
        .find(|k| k.id == kind)
        .map(|k| k.permissions)
        .unwrap_or_default();
    (
        row.first().copied().unwrap_or("sweep:List"),
        row.get(1).copied().unwrap_or("sweep:Read"),
    )
}

impl crate::exposure::ExposureRead for FakeAws {
    async fn list_swept(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
        region: &str,
    ) -> Result<Vec<crate::exposure::Listed>, AwsError> {
        let op = swept_ops(kind).0;
        let w = self.call(op, "")?;
        if w.swept_regions_denied.contains(region) {
            return Err(injected(op, ErrorKind::AccessDenied));
        }
        // The resources of `region`: their ARN's region field (one without a region field: every region's).
        let here = |arn: &str| arn.split(':').nth(3).is_none_or(|r| r == region || r.is_empty());
        Ok(w.swept
            .get(&kind)
            .map(|m| {
                m.values()
                    .filter(|r| here(&r.listed.arn))
                    .map(|r| r.listed.clone())
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn read_exposure(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
        _region: &str,
        id: &str,
    ) -> Result<tripline_core::rules::external::Exposure, AwsError> {
        let op = swept_ops(kind).1;
        let w = self.call(op, id)?;
        w.swept
            .get(&kind)
            .and_then(|m| m.get(id))
            .map(|r| r.exposure.clone())
            .ok_or_else(|| not_found(op, "NotFound", id))
    }

    async fn swept_tags(
        &self,
        kind: tripline_core::rules::external::SweptKindId,
        _region: &str,
        id: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        let w = self.call("sweep:ListTags", id)?;
        Ok(w.swept
            .get(&kind)
            .and_then(|m| m.get(id))
            .map(|r| r.tags.clone())
            .unwrap_or_default())
    }
}
