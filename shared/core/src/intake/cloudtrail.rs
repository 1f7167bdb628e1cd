//! CloudTrail records (the `detail` of EventBridge "... via CloudTrail" events) -> [`Change`].
//!
//! Read tolerantly from `serde_json::Value` (see `/work/shared/reference/event-shapes.md` and the
//! CloudTrail record contents reference,
//! <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>):
//! Root identities with `sessionIssuer: {}`, both generations of S3 records, `bucketPolicy` as an object,
//! IAM documents as JSON strings (decoded here), `Grant` as a list or a single object (kept as logged).

use serde_json::{Map, Value};

use crate::change::{Actor, Change, ChangeSource, IdentityType, Outcome, Payload};
use crate::intake::IntakeError;

use super::access::Obj;
use super::decode::decode_documents;
use super::resources::{cloudtrail_resources, Scope};

pub(crate) const CONTEXT: &str = "cloudtrail record";

/// Fields of the EventBridge envelope used as fallbacks when the record lacks them.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct EventFields<'a> {
    pub id: Option<&'a str>,
    pub time: Option<&'a str>,
    pub region: Option<&'a str>,
    pub account: Option<&'a str>,
}

/// Record fields that are normalized into [`Change`]'s own fields; everything else goes to `extra`.
const NORMALIZED: &[&str] = &[
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "errorCode",
    "errorMessage",
    "eventID",
    "recipientAccountId",
];

/// Normalizes one CloudTrail record found at `path` (`detail`, or `$` for a bare record).
pub(crate) fn from_record(record: &Value, path: &str, env: &EventFields<'_>) -> Result<Change, IntakeError> {
    let rec = Obj::new(record, path, CONTEXT)?;
    let event_source = rec.req_str("eventSource")?;
    let event_name = rec.req_str("eventName")?;
    let identity = rec.opt_obj("userIdentity")?;

    let actor = actor(&rec, identity.as_ref())?;
    let identity_account = match &identity {
        Some(id) => id.opt_str("accountId")?,
        None => None,
    };

    let event_id = rec
        .opt_str("eventID")?
        .or(env.id)
        .ok_or_else(|| rec.missing("eventID"))?;
    let time = rec
        .opt_str("eventTime")?
        .or(env.time)
        .ok_or_else(|| rec.missing("eventTime"))?;
    let region = rec
        .opt_str("awsRegion")?
        .or(env.region)
        .ok_or_else(|| rec.missing("awsRegion"))?;
    let account = rec
        .opt_str("recipientAccountId")?
        .or(identity_account)
        .or(env.account)
        .ok_or_else(|| rec.missing("recipientAccountId"))?;

    let outcome = match rec.opt_str("errorCode")? {
        Some(code) => Outcome::Failed {
            error_code: code.to_owned(),
            error_message: rec.opt_str("errorMessage")?.map(str::to_owned),
        },
        None => Outcome::Success,
    };

    let mut request = rec.get("requestParameters").cloned().unwrap_or(Value::Null);
    let mut response = rec.get("responseElements").cloned().unwrap_or(Value::Null);
    decode_documents(&mut request);
    decode_documents(&mut response);

    let record_resources = rec.opt_array("resources")?;
    let scope = Scope {
        event_source,
        event_name,
        region,
        account,
        identity_type: actor.identity_type.as_str(),
        actor_arn: actor.arn.as_deref(),
    };
    let resources = cloudtrail_resources(&scope, &request, &response, record_resources);

    let extra: Map<String, Value> = rec
        .map
        .iter()
        .filter(|(k, _)| !NORMALIZED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    Ok(Change {
        event_id: event_id.to_owned(),
        time: time.to_owned(),
        account: account.to_owned(),
        region: region.to_owned(),
        source: ChangeSource::CloudTrail,
        actor,
        service: event_source.to_owned(),
        event_name: event_name.to_owned(),
        outcome,
        resources,
        payload: Payload::CloudTrail {
            request_parameters: request,
            response_elements: response,
            extra: Value::Object(extra),
        },
    })
}

/// `userIdentity` (absent for some service events) plus the record's caller fields.
fn actor(rec: &Obj<'_>, identity: Option<&Obj<'_>>) -> Result<Actor, IntakeError> {
    let mut actor = Actor {
        source_ip: rec.opt_str("sourceIPAddress")?.map(str::to_owned),
        user_agent: rec.opt_str("userAgent")?.map(str::to_owned),
        ..Actor::default()
    };
    let Some(id) = identity else {
        return Ok(actor);
    };
    actor.identity_type = IdentityType::parse(id.opt_str("type")?.unwrap_or(""));
    actor.arn = id.opt_str("arn")?.map(str::to_owned);
    actor.principal_id = id.opt_str("principalId")?.map(str::to_owned);
    actor.account_id = id.opt_str("accountId")?.map(str::to_owned);
    actor.invoked_by = id.opt_str("invokedBy")?.map(str::to_owned);
    // Root and some federated sessions log `sessionIssuer: {}`: no issuer then.
    if let Some(ctx) = id.opt_obj("sessionContext")? {
        if let Some(issuer) = ctx.opt_obj("sessionIssuer")? {
            actor.session_issuer = issuer.opt_str("arn")?.map(str::to_owned);
        }
    }
    Ok(actor)
}
