//! `s3-bucket-tls-not-required`: a bucket policy change that leaves the bucket without the statement that
//! denies requests over plain HTTP (AWS Security Hub control S3.5), judged by [`crate::policy::tls`].

use serde_json::{json, Value};

use super::payload::{self, at, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::{Change, ChangeSource};
use crate::finding::Severity;
use crate::policy::tls::tls_required;

pub static TLS_NOT_REQUIRED: Rule = Rule {
    id: "s3-bucket-tls-not-required",
    title: "S3 bucket no longer requires TLS",
    severity: Severity::Medium,
    cloudtrail: &[Trigger {
        source: "s3.amazonaws.com",
        names: &["PutBucketPolicy", "DeleteBucketPolicy"],
    }],
    config_types: &["AWS::S3::Bucket"],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "Data duty (shared-responsibility model: the customer protects data in transit). The bucket's \
          policy no longer denies requests made without TLS (a Deny for everyone on `s3:*` over the bucket and \
          its objects when `aws:SecureTransport` is `false`: AWS Security Hub control S3.5), so clients may \
          read and write its data over plain HTTP. Avoiding a flood: most accounts never required TLS, and a \
          rule firing on every policy without the statement would add an alert to every policy change of \
          every bucket. So the rule fires on a requirement known or likely to be removed: (1) an AWS Config \
          item whose diff shows the previous policy had the statement and the current one does not: medium, \
          confirmed; (2) a `PutBucketPolicy` whose new policy refers to `aws:SecureTransport` but has no \
          statement meeting S3.5 (a requirement edited into a weaker one): low, not confirmed; (3) a \
          `DeleteBucketPolicy`: low, not confirmed (no policy requires anything, but the record does not \
          carry the deleted policy, so whether it required TLS is unknown). A `PutBucketPolicy` that never \
          mentions `aws:SecureTransport` raises nothing: the record cannot show the previous policy (fetched \
          state is read after the change), and the Config item of the same change judges it. Config items \
          that leave the requirement as it was raise nothing. The sweep reports every bucket without the \
          statement at low severity.",
    fires: &[
        "cloudtrail-s3-delete-bucket-policy.json",
        "cloudtrail-s3-put-bucket-policy-tls-objects-only.json",
        "config-s3-bucket-item-change.json",
    ],
    quiet: &[
        "cloudtrail-s3-put-bucket-policy-private.json",
        "config-s3-bucket-item-change-tls-kept.json",
    ],
    check: check_tls,
};

/// The policy text of a Config `BucketPolicy` value (`{"policyText": ...}`, decoded by intake or a JSON
/// string); `Some(None)` when the bucket has no policy (`policyText` null), `None` when the value is absent.
fn config_policy(v: &Value) -> Option<Option<Value>> {
    if !v.is_object() {
        return None;
    }
    match at(v, &["policyText"]) {
        Value::Null => Some(None),
        text => Some(payload::document(text)),
    }
}

/// Whether a condition of the document names `aws:SecureTransport`.
fn mentions_secure_transport(doc: &Value) -> bool {
    fn walk(v: &Value) -> bool {
        match v {
            Value::Object(o) => o
                .iter()
                .any(|(k, x)| k.eq_ignore_ascii_case("aws:SecureTransport") || walk(x)),
            Value::Array(a) => a.iter().any(walk),
            _ => false,
        }
    }
    walk(doc)
}

fn bucket_arn(c: &Change, bucket: Option<&str>) -> Option<String> {
    bucket.map(|b| payload::arn_in(c, "AWS::S3::Bucket", b))
}

fn check_tls(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    match c.source {
        ChangeSource::CloudTrail => check_call(c),
        _ => check_item(c),
    }
}

fn check_call(c: &Change) -> Result<Vec<Hit>, CheckError> {
    let req = payload::req(c);
    let name = str_at(req, &["bucketName"]);
    let resource = payload::registered(c, "AWS::S3::Bucket", name);
    let b = resource.name_or_unknown().to_owned();
    let quoted = payload::quoted_name(&resource, "requestParameters.bucketName");
    let unknown_before =
        "the record does not carry the previous policy: whether TLS was required before is unknown";
    let reasons = if c.event_name == "DeleteBucketPolicy" {
        vec![
            format!("the policy of {quoted} was deleted: no statement denies requests without TLS"),
            unknown_before.to_owned(),
        ]
    } else {
        let doc = payload::required_document(req, &["bucketPolicy"])?;
        // Without the bucket's name the resources cannot be checked: unknown, not judged.
        let Some(arn) = bucket_arn(c, name) else {
            return Err(CheckError::lacks_request(&["bucketName"]));
        };
        // A policy that never mentions the key says nothing about a requirement removed (see the doc).
        if tls_required(&doc, &arn).is_some() || !mentions_secure_transport(&doc) {
            return Ok(Vec::new());
        }
        vec![
            format!(
                "the new policy of {quoted} refers to `aws:SecureTransport` but has no statement denying \
                 requests when `aws:SecureTransport` is `false` for the bucket and its objects"
            ),
            unknown_before.to_owned(),
        ]
    };
    let mut hit = payload::payload_hit(
        resource,
        Severity::Low,
        format!(
            "S3 bucket {b} does not require TLS after a change by {}",
            payload::who(c)
        ),
        payload::reasons(reasons),
    );
    hit.state_confirmed = false;
    Ok(vec![hit])
}

fn check_item(c: &Change) -> Result<Vec<Hit>, CheckError> {
    let crate::change::Payload::Config { diff, .. } = &c.payload else {
        return Ok(Vec::new());
    };
    let name = str_at(payload::configuration(c), &["name"]);
    let Some(arn) = bucket_arn(c, name) else {
        return Ok(Vec::new());
    };
    let change = at(
        diff,
        &["changedProperties", "SupplementaryConfiguration.BucketPolicy"],
    );
    // Only a known previous policy that required TLS counts: unknown is not "required".
    let Some(Some(previous)) = config_policy(at(change, &["previousValue"])) else {
        return Ok(Vec::new());
    };
    let Some(sid) = tls_required(&previous, &arn) else {
        return Ok(Vec::new());
    };
    let current = config_policy(at(payload::supplementary(c), &["BucketPolicy"]));
    let now = match current {
        // The item lacks the current policy: unknown, no claim.
        None => return Ok(Vec::new()),
        Some(None) => "the bucket now has no policy".to_owned(),
        Some(Some(doc)) if tls_required(&doc, &arn).is_some() => return Ok(Vec::new()),
        Some(Some(_)) => "the current policy has no statement denying requests when `aws:SecureTransport` \
                          is `false` for the bucket and its objects"
            .to_owned(),
    };
    let resource = payload::registered(c, "AWS::S3::Bucket", name);
    let b = resource.name_or_unknown().to_owned();
    let mut evidence = payload::reasons(vec![
        format!("the previous policy required TLS (statement `{sid}`)"),
        now,
    ]);
    evidence.details.insert("removed_statement".into(), json!(sid));
    Ok(vec![payload::payload_hit(
        resource,
        Severity::Medium,
        format!("S3 bucket {b} no longer requires TLS"),
        evidence,
    )])
}
