//! The normalized [`Change`]: what every rule sees, whatever the payload's origin.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One API call or configuration change, normalized from any payload Tripline receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// CloudTrail `eventID`, or for Config the item's `configurationStateId` / capture time based id.
    pub event_id: String,
    /// RFC 3339 time of the event (CloudTrail `eventTime`, Config `configurationItemCaptureTime`).
    pub time: String,
    /// The account the change happened in (CloudTrail `recipientAccountId`, else `userIdentity.accountId`).
    pub account: String,
    pub region: String,
    pub source: ChangeSource,
    pub actor: Actor,
    /// CloudTrail `eventSource` (e.g. `s3.amazonaws.com`); for Config items, the resource type
    /// (e.g. `AWS::S3::Bucket`).
    pub service: String,
    /// CloudTrail `eventName` (e.g. `PutBucketPolicy`); for Config items, the change type
    /// (`CREATE`, `UPDATE`, `DELETE`) or `Scheduled`.
    pub event_name: String,
    pub outcome: Outcome,
    /// Resources the change touched, primary resource first.
    pub resources: Vec<Resource>,
    pub payload: Payload,
}

/// Where the change came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeSource {
    /// EventBridge "AWS API Call via CloudTrail" (and the other CloudTrail-borne detail-types).
    #[serde(rename = "cloudtrail", alias = "cloud_trail")]
    CloudTrail,
    /// EventBridge "Config Configuration Item Change", or a Config notification wrapped in SNS.
    ConfigItem { message_type: String },
    /// An AWS Config custom-rule invocation: what `PutEvaluations` needs to answer it.
    ConfigRule {
        message_type: String,
        config_rule_name: Option<String>,
        result_token: String,
        /// `ruleParameters`, parsed from its JSON string (an empty object when absent).
        rule_parameters: Value,
        /// `eventLeftScope`: the resource left the rule's scope; the answer is `NOT_APPLICABLE` ("If the
        /// value is true, the function indicates that the evaluation can be ignored by passing
        /// NOT_APPLICABLE", AWS Config Developer Guide, "Example Events for AWS Config Rules").
        #[serde(default)]
        event_left_scope: bool,
    },
}

/// Who made the change (CloudTrail `userIdentity` and friends).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Actor {
    pub identity_type: IdentityType,
    pub arn: Option<String>,
    pub principal_id: Option<String>,
    pub account_id: Option<String>,
    /// For assumed roles: the ARN of the role (or user) that issued the session.
    pub session_issuer: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// `userIdentity.invokedBy`, e.g. `cloudformation.amazonaws.com`.
    pub invoked_by: Option<String>,
}

impl Actor {
    /// A short human name: the session issuer's or the user's last ARN segment, else the identity type.
    pub fn display_name(&self) -> String {
        let pick = self.session_issuer.as_deref().or(self.arn.as_deref());
        match (&self.identity_type, pick) {
            (IdentityType::Root, _) => "root".to_owned(),
            (_, Some(arn)) => arn.rsplit('/').next().unwrap_or(arn).to_owned(),
            (t, None) => t.as_str().to_owned(),
        }
    }
}

/// CloudTrail `userIdentity.type`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum IdentityType {
    Root,
    IAMUser,
    AssumedRole,
    FederatedUser,
    AWSService,
    AWSAccount,
    IdentityCenterUser,
    /// Config items and scheduled sweeps have no actor.
    #[default]
    Unknown,
    Other(String),
}

impl IdentityType {
    pub fn parse(s: &str) -> Self {
        match s {
            "Root" => Self::Root,
            "IAMUser" => Self::IAMUser,
            "AssumedRole" => Self::AssumedRole,
            "FederatedUser" => Self::FederatedUser,
            "AWSService" => Self::AWSService,
            "AWSAccount" => Self::AWSAccount,
            "IdentityCenterUser" => Self::IdentityCenterUser,
            "" | "Unknown" => Self::Unknown,
            other => Self::Other(other.to_owned()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Self::Root => "Root",
            Self::IAMUser => "IAMUser",
            Self::AssumedRole => "AssumedRole",
            Self::FederatedUser => "FederatedUser",
            Self::AWSService => "AWSService",
            Self::AWSAccount => "AWSAccount",
            Self::IdentityCenterUser => "IdentityCenterUser",
            Self::Unknown => "Unknown",
            Self::Other(s) => s,
        }
    }
}

/// Whether the call succeeded. A failed call changed nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failed {
        error_code: String,
        error_message: Option<String>,
    },
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }
}

/// A resource the change touched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// CloudFormation-style type, e.g. `AWS::S3::Bucket`, `AWS::IAM::Policy`, `AWS::IAM::Role`.
    pub resource_type: String,
    pub arn: Option<String>,
    /// Bucket name, role name, policy ARN, security group id...
    pub name: Option<String>,
}

/// The change's content. IAM documents that arrive as JSON strings (CloudTrail) or URL-encoded strings
/// (Config) are already decoded into JSON values here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    CloudTrail {
        request_parameters: Value,
        response_elements: Value,
        /// `additionalEventData`, `readOnly`, `eventType`, `managementEvent`... kept for rules that need them.
        extra: Value,
    },
    Config {
        /// `configurationItem.configuration`.
        configuration: Value,
        /// `configurationItem.supplementaryConfiguration`.
        supplementary: Value,
        tags: Value,
        /// `configurationItemStatus` (`OK`, `ResourceDiscovered`, `ResourceDeleted`...).
        status: String,
        /// `configurationItemDiff` with previous/updated values decoded, or `null`.
        diff: Value,
    },
    /// A scheduled Config rule run: no item, evaluate the resources in scope.
    Scheduled,
}
