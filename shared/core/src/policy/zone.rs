//! Shares outside the zone of trust: the targets of snapshot, AMI and DB snapshot share attributes, judged by
//! the same [`Trusted`] zone as policy grants ([`super::cross_account`]).
//!
//! What a share names, per AWS:
//! - EBS snapshot `createVolumePermission`: `UserId` (an account) or `Group` `all`
//!   (<https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolumePermission.html>);
//! - AMI `launchPermission`: `UserId`, `Group` `all`, `OrganizationArn`, `OrganizationalUnitArn`
//!   (<https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LaunchPermission.html>);
//! - RDS DB / cluster snapshot attribute `restore`: account ids or `all`
//!   (<https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html>: "To
//!   share a manual DB snapshot with other AWS accounts, specify restore as the AttributeName and use the
//!   ValuesToAdd parameter to add a list of IDs of the AWS accounts ... Use the value all to make the
//!   manual DB snapshot public").
//!
//! `all` is public, reported by the public rules and never here (one finding per problem).

use serde::Serialize;

use super::cross_account::{org_of_arn, Trusted};

/// One target of a share, as the attribute names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareTarget {
    /// `UserId` / a `restore` value: an account id (anything else is kept as written and reported as
    /// naming no account).
    Account(String),
    /// `Group` (`all`).
    Group(String),
    /// `OrganizationArn`.
    Organization(String),
    /// `OrganizationalUnitArn`.
    OrganizationalUnit(String),
}

/// One share to a target outside the zone of trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalShare {
    /// The target as written (account id, organization or OU ARN).
    pub target: String,
    /// The account id, `None` when the target is an organization, an OU or names no account.
    pub account: Option<String>,
    /// The organization id an organization or OU ARN names.
    pub organization: Option<String>,
    pub cause: String,
    /// The account may be a member of the trusted organization, whose membership was not known.
    pub membership_unknown: bool,
}

/// The shares among `targets` that leave the zone of trust. `Group` targets (`all`: public) are the public
/// rules' and are skipped.
pub fn shares_outside(targets: &[ShareTarget], trusted: &Trusted) -> Vec<ExternalShare> {
    let mut out = Vec::new();
    for t in targets {
        match t {
            ShareTarget::Group(_) => {}
            ShareTarget::Account(a) => {
                if !crate::resource_kind::is_account_id(a) {
                    out.push(ExternalShare {
                        target: a.clone(),
                        account: None,
                        organization: None,
                        cause: format!("`{a}` names no account (conservative)"),
                        membership_unknown: false,
                    });
                } else if !trusted.trusts_account(a) {
                    out.push(ExternalShare {
                        target: a.clone(),
                        account: Some(a.clone()),
                        organization: None,
                        cause: format!("account `{a}` is not trusted"),
                        membership_unknown: trusted.membership_unknown(),
                    });
                }
            }
            ShareTarget::Organization(arn) | ShareTarget::OrganizationalUnit(arn) => {
                if trusted.trusts_org_arn(arn) {
                    continue;
                }
                let what = if matches!(t, ShareTarget::Organization(_)) {
                    "organization"
                } else {
                    "organizational unit"
                };
                let org = org_of_arn(arn).map(str::to_owned);
                let cause = match &org {
                    Some(o) => format!("{what} of `{o}`, not the trusted organization"),
                    None => format!("{what} ARN `{arn}` names no organization (conservative)"),
                };
                out.push(ExternalShare {
                    target: arn.clone(),
                    account: None,
                    organization: org,
                    cause,
                    membership_unknown: false,
                });
            }
        }
    }
    out
}
