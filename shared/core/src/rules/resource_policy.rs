//! Resource policies of other services: `kms-key-policy-public`, `sns-topic-policy-public`,
//! `sqs-queue-policy-public`, `ecr-repository-policy-public`, `secretsmanager-secret-policy-public`,
//! `lambda-function-public`. Each rule finds the document in the request and asks the engine
//! (`resource_policy_public` with the service's [`ResourceKind`], which documents each service's
//! differences from the S3 definition).

use serde_json::{json, Value};

use super::engine;
use super::payload::{self, at, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::Change;
use crate::finding::{FindingResource, Severity};
use crate::policy::{self, ResourceKind};

pub static KMS: Rule = Rule {
    id: "kms-key-policy-public",
    title: "KMS key policy grants public access",
    severity: Severity::Critical,
    cloudtrail: &[Trigger {
        source: "kms.amazonaws.com",
        names: &["PutKeyPolicy", "CreateKey"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A KMS key policy allows a wildcard principal without a limiting condition: anyone can use (or \
          manage) the key, so everything encrypted with it is readable by whoever holds the ciphertext.",
    fires: &["cloudtrail-kms-put-key-policy-public.json"],
    quiet: &["cloudtrail-kms-put-key-policy-private.json"],
    check: check_kms,
};

pub static SNS: Rule = Rule {
    id: "sns-topic-policy-public",
    title: "SNS topic policy grants public access",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "sns.amazonaws.com",
        names: &["SetTopicAttributes", "CreateTopic"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc:
        "An SNS topic policy allows anyone to publish to or subscribe to the topic: alerts can be forged or \
          read by strangers.",
    fires: &["cloudtrail-sns-set-topic-attributes-policy-public.json"],
    quiet: &["cloudtrail-sns-set-topic-attributes-policy-private.json"],
    check: check_sns,
};

pub static SQS: Rule = Rule {
    id: "sqs-queue-policy-public",
    title: "SQS queue policy grants public access",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "sqs.amazonaws.com",
        names: &["SetQueueAttributes", "CreateQueue"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "An SQS queue policy allows anyone to send, receive or delete messages: strangers can read the \
          queue's data or inject work.",
    fires: &["cloudtrail-sqs-set-queue-attributes-policy-public.json"],
    quiet: &["cloudtrail-sqs-set-queue-attributes-policy-private.json"],
    check: check_sqs,
};

pub static ECR: Rule = Rule {
    id: "ecr-repository-policy-public",
    title: "ECR repository policy grants public access",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "ecr.amazonaws.com",
        names: &["SetRepositoryPolicy"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "An ECR repository policy allows anyone to pull (or push) images: container images often embed \
          code and credentials, and a public push lets strangers replace them.",
    fires: &["cloudtrail-ecr-set-repository-policy-public.json"],
    quiet: &["cloudtrail-ecr-set-repository-policy-private.json"],
    check: check_ecr,
};

pub static SECRETS: Rule = Rule {
    id: "secretsmanager-secret-policy-public",
    title: "Secrets Manager secret policy grants public access",
    severity: Severity::Critical,
    cloudtrail: &[Trigger {
        source: "secretsmanager.amazonaws.com",
        names: &["PutResourcePolicy"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A secret's resource policy allows a wildcard principal without a limiting condition: anyone can \
          read the secret value.",
    fires: &["cloudtrail-secretsmanager-put-resource-policy-public.json"],
    quiet: &["cloudtrail-secretsmanager-put-resource-policy-private.json"],
    check: check_secrets,
};

pub static LAMBDA: Rule = Rule {
    id: "lambda-function-public",
    title: "Lambda function callable by anyone",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "lambda.amazonaws.com",
        names: &["AddPermission20150331v2", "AddPermission20150331"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A Lambda permission lets any principal (or a service acting for any account) invoke the function \
          or its function URL: strangers can run your code, with your function's role.",
    fires: &["cloudtrail-lambda-add-permission-public.json"],
    quiet: &["cloudtrail-lambda-add-permission-service-pinned.json"],
    check: check_lambda,
};

pub(super) fn judge(
    c: &Change,
    doc: Option<Value>,
    kind: ResourceKind,
    resource: FindingResource,
    what: &str,
    severity: Severity,
) -> Result<Vec<Hit>, CheckError> {
    let Some(doc) = doc else {
        return Ok(Vec::new());
    };
    let policy = engine::parse(&doc, &format!("{what} policy"))?;
    let verdict = policy::resource_policy_public(&policy, kind);
    if !verdict.public {
        return Ok(Vec::new());
    }
    let name = resource.name_or_unknown().to_owned();
    Ok(vec![payload::payload_hit(
        resource,
        severity,
        format!("{what} {name} made public by {}", payload::who(c)),
        engine::public_evidence(&doc, &verdict),
    )])
}

/// What a policy change is about: the document it sets (`None`: the change sets none) and the resource.
/// Shared by the public rules and the cross-account rules (`external.rs`).
pub(super) type Target = (Option<Value>, FindingResource);

fn check_kms(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let (doc, resource) = kms_target(ctx.change)?;
    judge(
        ctx.change,
        doc,
        ResourceKind::KmsKey,
        resource,
        "KMS key",
        Severity::Critical,
    )
}

pub(super) fn kms_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    let key = str_at(req, &["keyId"]).or_else(|| str_at(payload::resp(c), &["keyMetadata", "arn"]));
    let arn = key.map(|k| payload::arn_in(c, "AWS::KMS::Key", k));
    let name = arn
        .as_deref()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned());
    let resource = payload::resource(c, "AWS::KMS::Key", name.as_deref(), |k| {
        arn.clone()
            .unwrap_or_else(|| payload::arn_in(c, "AWS::KMS::Key", k))
    });
    // PutKeyPolicy requires the policy; CreateKey without one gets the default key policy.
    let doc = if c.event_name == "PutKeyPolicy" {
        Some(payload::required_document(req, &["policy"])?)
    } else {
        payload::document(at(req, &["policy"]))
    };
    Ok((doc, resource))
}

fn check_sns(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let (doc, resource) = sns_target(ctx.change)?;
    judge(
        ctx.change,
        doc,
        ResourceKind::SnsTopic,
        resource,
        "SNS topic",
        Severity::High,
    )
}

pub(super) fn sns_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    // SetTopicAttributes names the attribute it sets; without the name the record does not say whether
    // the policy changed.
    let doc = if c.event_name == "CreateTopic" {
        payload::document(at(req, &["attributes", "Policy"]))
    } else if payload::require(req, &["attributeName"])?.as_str() == Some("Policy") {
        Some(payload::required_document(req, &["attributeValue"])?)
    } else {
        None
    };
    let arn = str_at(req, &["topicArn"])
        .or_else(|| str_at(payload::resp(c), &["topicArn"]))
        .map(str::to_owned)
        .or_else(|| str_at(req, &["name"]).map(|n| payload::arn_in(c, "AWS::SNS::Topic", n)));
    let name = arn
        .as_deref()
        .map(|a| a.rsplit(':').next().unwrap_or(a).to_owned());
    let resource = payload::resource(c, "AWS::SNS::Topic", name.as_deref(), |_| {
        arn.clone().unwrap_or_default()
    });
    Ok((doc, resource))
}

/// `https://sqs.<region>.amazonaws.com/<account>/<name>` -> `(account, name)`.
fn queue_from_url(url: &str) -> Option<(&str, &str)> {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let name = parts.next()?;
    let account = parts.next()?;
    Some((account, name))
}

fn check_sqs(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let (doc, resource) = sqs_target(ctx.change)?;
    judge(
        ctx.change,
        doc,
        ResourceKind::SqsQueue,
        resource,
        "SQS queue",
        Severity::High,
    )
}

pub(super) fn sqs_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    // SetQueueAttributes requires its attributes (any of them; `Policy` only when the policy changes).
    if c.event_name == "SetQueueAttributes" {
        payload::require(req, &["attributes"])?;
    }
    let doc = payload::document(at(req, &["attributes", "Policy"]));
    let url = str_at(req, &["queueUrl"]).or_else(|| str_at(payload::resp(c), &["queueUrl"]));
    let (account, name) = match url.and_then(queue_from_url) {
        Some((a, n)) => (a.to_owned(), Some(n.to_owned())),
        None => (c.account.clone(), str_at(req, &["queueName"]).map(str::to_owned)),
    };
    let resource = payload::resource(c, "AWS::SQS::Queue", name.as_deref(), |n| {
        payload::arn_in_account(c, "AWS::SQS::Queue", &account, n)
    });
    Ok((doc, resource))
}

fn check_ecr(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let (doc, resource) = ecr_target(ctx.change)?;
    judge(
        ctx.change,
        doc,
        ResourceKind::EcrRepository,
        resource,
        "ECR repository",
        Severity::High,
    )
}

pub(super) fn ecr_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    let name = str_at(req, &["repositoryName"]);
    let registry = str_at(req, &["registryId"]).unwrap_or(&c.account).to_owned();
    let resource = payload::resource(c, "AWS::ECR::Repository", name, |n| {
        payload::arn_in_account(c, "AWS::ECR::Repository", &registry, n)
    });
    Ok((Some(payload::required_document(req, &["policyText"])?), resource))
}

fn check_secrets(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let (doc, resource) = secret_target(ctx.change)?;
    judge(
        ctx.change,
        doc,
        ResourceKind::SecretsManagerSecret,
        resource,
        "secret",
        Severity::Critical,
    )
}

pub(super) fn secret_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    let id = str_at(req, &["secretId"]).or_else(|| str_at(payload::resp(c), &["aRN"]));
    let arn = id.map(|s| payload::arn_in(c, "AWS::SecretsManager::Secret", s));
    let name = arn
        .as_deref()
        .and_then(|a| a.split(":secret:").nth(1))
        .map(str::to_owned);
    let resource = payload::resource(c, "AWS::SecretsManager::Secret", name.as_deref(), |_| {
        arn.clone().unwrap_or_default()
    });
    Ok((
        Some(payload::required_document(req, &["resourcePolicy"])?),
        resource,
    ))
}

/// The permission as a policy document: the response's `statement` when logged (intake decodes it),
/// else one statement built from the request (`principal`, `action`, `sourceArn`, `sourceAccount`,
/// `principalOrgID`, `functionUrlAuthType`), the way Lambda writes it into the function policy
/// (Lambda Developer Guide, "Viewing resource-based IAM policies in Lambda"). A request without
/// `principal` or `action` (both required by the API) cannot be judged: the error says what the record
/// lacks, never a principal or action it does not hold. A missing `statementId` leaves the statement
/// without `Sid` (the engine names it `#0`); an unknown function leaves it without `Resource`.
fn lambda_document(req: &Value, resp: &Value, function_arn: &str) -> Result<Value, CheckError> {
    if let Some(stmt) = payload::document(at(resp, &["statement"])) {
        return Ok(json!({"Version": "2012-10-17", "Statement": [stmt]}));
    }
    let missing: Vec<String> = ["principal", "action"]
        .iter()
        .filter(|k| str_at(req, &[k]).is_none())
        .map(|k| format!("requestParameters.{k}"))
        .collect();
    if !missing.is_empty() {
        return Err(CheckError::Lacks {
            subject: "the permission",
            missing,
            nor: Some("`responseElements.statement`"),
        });
    }
    let principal = match str_at(req, &["principal"]) {
        Some(p) if p.ends_with(".amazonaws.com") => json!({"Service": p}),
        Some("*") => json!("*"),
        Some(p) => json!({"AWS": p}),
        None => Value::Null,
    };
    let mut conditions = serde_json::Map::new();
    if let Some(arn) = str_at(req, &["sourceArn"]) {
        conditions.insert("ArnLike".into(), json!({"AWS:SourceArn": arn}));
    }
    let mut equals = serde_json::Map::new();
    if let Some(a) = str_at(req, &["sourceAccount"]) {
        equals.insert("AWS:SourceAccount".into(), json!(a));
    }
    if let Some(o) = str_at(req, &["principalOrgID"]) {
        equals.insert("aws:PrincipalOrgID".into(), json!(o));
    }
    if let Some(t) = str_at(req, &["functionUrlAuthType"]) {
        equals.insert("lambda:FunctionUrlAuthType".into(), json!(t));
    }
    if !equals.is_empty() {
        conditions.insert("StringEquals".into(), Value::Object(equals));
    }
    let mut stmt = serde_json::Map::new();
    if let Some(sid) = str_at(req, &["statementId"]) {
        stmt.insert("Sid".into(), json!(sid));
    }
    stmt.insert("Effect".into(), json!("Allow"));
    stmt.insert("Principal".into(), principal);
    stmt.insert("Action".into(), at(req, &["action"]).clone());
    if !function_arn.is_empty() {
        stmt.insert("Resource".into(), json!(function_arn));
    }
    if !conditions.is_empty() {
        stmt.insert("Condition".into(), Value::Object(conditions));
    }
    Ok(json!({"Version": "2012-10-17", "Statement": [Value::Object(stmt)]}))
}

fn check_lambda(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let (doc, resource) = lambda_target(ctx.change)?;
    judge(
        ctx.change,
        doc,
        ResourceKind::LambdaFunction,
        resource,
        "Lambda function",
        Severity::High,
    )
}

pub(super) fn lambda_target(c: &Change) -> Result<Target, CheckError> {
    let req = payload::req(c);
    let f = str_at(req, &["functionName"]);
    let arn = f.map(|n| payload::arn_in(c, "AWS::Lambda::Function", n));
    let name = arn
        .as_deref()
        .and_then(|a| a.split(":function:").nth(1))
        .map(|n| n.split(':').next().unwrap_or(n).to_owned());
    let resource = payload::resource(c, "AWS::Lambda::Function", name.as_deref(), |_| {
        arn.clone().unwrap_or_default()
    });
    let doc = lambda_document(req, payload::resp(c), &resource.arn)?;
    Ok((Some(doc), resource))
}
