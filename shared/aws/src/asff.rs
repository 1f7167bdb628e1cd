//! Findings in the AWS Security Finding Format (ASFF), built with the AWS SDK's own Security Hub types
//! (`aws_sdk_securityhub::types::AwsSecurityFinding`), for `BatchImportFindings` and for
//! `tripline scan|assess --format asff`.
//!
//! Mapping (README "Formats for pipelines" has the table; ASFF syntax:
//! <https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html>):
//!
//! | ASFF | Tripline |
//! |---|---|
//! | `SchemaVersion` | `2018-10-08` |
//! | `Id` | the lifecycle id (stable per account, rule and resource, so re-imports update one finding); the finding id when the finding names no resource |
//! | `ProductArn` | `arn:<partition>:securityhub:<region>:<account>:product/<account>/default` (the account's default product: "the account that is associated with the findings") |
//! | `GeneratorId` | `tripline/<rule id>` |
//! | `AwsAccountId`, `Region` | the finding's account and region |
//! | `Types`, `FindingProviderFields.Types` | `Software and Configuration Checks/AWS Security Best Practices/<rule id>` |
//! | `Severity.Label`, `FindingProviderFields.Severity` | LOW, MEDIUM, HIGH, CRITICAL; `Original` the Tripline severity |
//! | `CreatedAt` / `UpdatedAt` | first seen (the event time without a store) / the time of the run |
//! | `FirstObservedAt` / `LastObservedAt` | the lifecycle's first / last seen (the event time without a store) |
//! | `Title` (256 chars), `Description` (1024 chars) | the rule's title, the summary and first reason |
//! | `Resources[0]` | `Type` AwsS3Bucket / AwsIamPolicy / AwsIamRole / Other, `Id` the ARN (or `unknown`), `Partition`, `Region` |
//! | `SourceUrl` | the console link |
//! | `ProductFields` | `tripline/rule`, `tripline/finding_id`, `tripline/event_id`, `tripline/state_confirmed`, `tripline/transition` |
//! | `Remediation.Recommendation.Text` | the remediation id and mode (when the rule has one) |
//! | `RecordState` | ACTIVE; ARCHIVED when resolved |
//! | `Workflow.Status` | NEW on creation (Security Hub ignores `Workflow` in later imports: its customers own it) |
//!
//! [`to_json`] serializes the SDK value with the ASFF field names (the SDK types have no serde); the
//! emulator test checks it against what the SDK itself sends.

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, FindingProviderFields, FindingProviderSeverity, Partition, Recommendation,
    RecordState, Remediation, Resource, Severity as AsffSeverity, SeverityLabel, Workflow, WorkflowStatus,
};
use serde_json::{json, Map, Value};

use tripline_core::finding::{Finding, Severity};
use tripline_core::lifecycle::{LifecycleItem, LifecycleKey, Transition};
use tripline_core::render::lifecycle::LifecycleView;

pub const SCHEMA_VERSION: &str = "2018-10-08";
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 1024;

fn label(s: Severity) -> SeverityLabel {
    match s {
        Severity::Low => SeverityLabel::Low,
        Severity::Medium => SeverityLabel::Medium,
        Severity::High => SeverityLabel::High,
        Severity::Critical => SeverityLabel::Critical,
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws")
}

/// The account's default product ARN.
pub fn product_arn(partition: &str, region: &str, account: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default")
}

fn resource_type(cfn: &str) -> &'static str {
    match cfn {
        "AWS::S3::Bucket" => "AwsS3Bucket",
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => "AwsIamPolicy",
        "AWS::IAM::Role" => "AwsIamRole",
        "AWS::IAM::User" => "AwsIamUser",
        "AWS::KMS::Key" => "AwsKmsKey",
        "AWS::SNS::Topic" => "AwsSnsTopic",
        "AWS::SQS::Queue" => "AwsSqsQueue",
        "AWS::Lambda::Function" => "AwsLambdaFunction",
        "AWS::EC2::SecurityGroup" => "AwsEc2SecurityGroup",
        "AWS::RDS::DBInstance" => "AwsRdsDbInstance",
        "AWS::CloudTrail::Trail" => "AwsCloudTrailTrail",
        _ => "Other",
    }
}

fn finding_type(rule: &str) -> String {
    format!("Software and Configuration Checks/AWS Security Best Practices/{rule}")
}

fn resource(arn: &str, cfn_type: &str, region: &str) -> Resource {
    let partition = partition_of(arn);
    Resource::builder()
        .r#type(resource_type(cfn_type))
        .id(if arn.is_empty() { "unknown" } else { arn })
        .partition(Partition::from(partition))
        .region(region)
        .build()
}

/// The ASFF finding of `f` (with its lifecycle, when a store judged it); `now` is the run's time
/// (RFC 3339).
pub fn finding(f: &Finding, lifecycle: Option<&LifecycleView>, now: &str) -> AwsSecurityFinding {
    let id = match lifecycle {
        Some(l) => l.id.clone(),
        None => LifecycleKey::of(f).map_or_else(|| f.id.clone(), |k| k.id()),
    };
    let partition = partition_of(&f.resource.arn);
    let first_seen = lifecycle.map_or(f.event.time.as_str(), |l| l.first_seen.as_str());
    let last_seen = lifecycle.map_or(f.event.time.as_str(), |l| l.last_seen.as_str());
    let resolved = lifecycle.is_some_and(|l| l.transition == Transition::Resolved);
    let mut description = f.summary.clone();
    if let Some(r) = f.evidence.reasons.first() {
        description.push_str(": ");
        description.push_str(r);
    }
    let mut b = AwsSecurityFinding::builder()
        .schema_version(SCHEMA_VERSION)
        .id(id)
        .product_arn(product_arn(partition, &f.region, &f.account))
        .generator_id(format!("tripline/{}", f.rule))
        .aws_account_id(&f.account)
        .region(&f.region)
        .types(finding_type(&f.rule))
        .first_observed_at(first_seen)
        .last_observed_at(last_seen)
        .created_at(first_seen)
        .updated_at(now)
        .severity(
            AsffSeverity::builder()
                .label(label(f.severity))
                .original(f.severity.as_str())
                .build(),
        )
        .title(cut(&f.title, TITLE_MAX))
        .description(cut(&description, DESCRIPTION_MAX))
        .resources(resource(&f.resource.arn, &f.resource.resource_type, &f.region))
        .record_state(if resolved {
            RecordState::Archived
        } else {
            RecordState::Active
        })
        .workflow(Workflow::builder().status(WorkflowStatus::New).build())
        .finding_provider_fields(
            FindingProviderFields::builder()
                .severity(
                    FindingProviderSeverity::builder()
                        .label(label(f.severity))
                        .original(f.severity.as_str())
                        .build(),
                )
                .types(finding_type(&f.rule))
                .build(),
        )
        .product_fields("tripline/rule", &f.rule)
        .product_fields("tripline/finding_id", &f.id)
        .product_fields("tripline/event_id", &f.event.id)
        .product_fields("tripline/state_confirmed", f.state_confirmed.to_string());
    if let Some(l) = lifecycle {
        b = b.product_fields("tripline/transition", l.transition.as_str());
    }
    if let Some(url) = &f.links.console {
        b = b.source_url(url);
    }
    if let Some(r) = &f.remediation {
        b = b.remediation(
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .text(format!(
                            "Tripline remediation `{}` (mode {})",
                            r.id,
                            r.mode.as_str()
                        ))
                        .build(),
                )
                .build(),
        );
    }
    b.build()
}

/// The ASFF update of a resolved finding: the same `Id`, `RecordState` ARCHIVED.
pub fn resolved(item: &LifecycleItem, now: &str) -> AwsSecurityFinding {
    let arn = &item.key.resource_arn;
    let partition = partition_of(arn);
    let reason = item
        .resolved_reason
        .map_or("judged again: no longer exposed", |r| r.sentence());
    AwsSecurityFinding::builder()
        .schema_version(SCHEMA_VERSION)
        .id(&item.id)
        .product_arn(product_arn(partition, &item.region, &item.key.account))
        .generator_id(format!("tripline/{}", item.key.rule))
        .aws_account_id(&item.key.account)
        .region(&item.region)
        .types(finding_type(&item.key.rule))
        .first_observed_at(&item.first_seen)
        .last_observed_at(&item.last_seen)
        .created_at(&item.first_seen)
        .updated_at(now)
        .severity(
            AsffSeverity::builder()
                .label(label(item.severity))
                .original(item.severity.as_str())
                .build(),
        )
        .title(cut(&item.title, TITLE_MAX))
        .description(cut(&format!("Resolved: {reason}"), DESCRIPTION_MAX))
        .resources(resource(arn, &item.resource_type, &item.region))
        .record_state(RecordState::Archived)
        .finding_provider_fields(
            FindingProviderFields::builder()
                .severity(
                    FindingProviderSeverity::builder()
                        .label(label(item.severity))
                        .original(item.severity.as_str())
                        .build(),
                )
                .types(finding_type(&item.key.rule))
                .build(),
        )
        .product_fields("tripline/rule", &item.key.rule)
        .product_fields("tripline/transition", "resolved")
        .build()
}

fn put(o: &mut Map<String, Value>, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        o.insert(k.to_owned(), json!(v));
    }
}

/// The SDK value as ASFF JSON (every field [`finding`] and [`resolved`] set, with ASFF's names).
pub fn to_json(f: &AwsSecurityFinding) -> Value {
    let mut o = Map::new();
    put(&mut o, "SchemaVersion", f.schema_version());
    put(&mut o, "Id", f.id());
    put(&mut o, "ProductArn", f.product_arn());
    put(&mut o, "GeneratorId", f.generator_id());
    put(&mut o, "AwsAccountId", f.aws_account_id());
    put(&mut o, "Region", f.region());
    if !f.types().is_empty() {
        o.insert("Types".into(), json!(f.types()));
    }
    put(&mut o, "FirstObservedAt", f.first_observed_at());
    put(&mut o, "LastObservedAt", f.last_observed_at());
    put(&mut o, "CreatedAt", f.created_at());
    put(&mut o, "UpdatedAt", f.updated_at());
    if let Some(s) = f.severity() {
        let mut m = Map::new();
        put(&mut m, "Label", s.label().map(SeverityLabel::as_str));
        put(&mut m, "Original", s.original());
        o.insert("Severity".into(), Value::Object(m));
    }
    put(&mut o, "Title", f.title());
    put(&mut o, "Description", f.description());
    if let Some(r) = f.remediation().and_then(|r| r.recommendation()) {
        let mut m = Map::new();
        put(&mut m, "Text", r.text());
        put(&mut m, "Url", r.url());
        o.insert("Remediation".into(), json!({ "Recommendation": m }));
    }
    put(&mut o, "SourceUrl", f.source_url());
    if let Some(p) = f.product_fields() {
        let sorted: std::collections::BTreeMap<&String, &String> = p.iter().collect();
        o.insert("ProductFields".into(), json!(sorted));
    }
    let resources: Vec<Value> = f
        .resources()
        .iter()
        .map(|r| {
            let mut m = Map::new();
            put(&mut m, "Type", r.r#type());
            put(&mut m, "Id", r.id());
            put(&mut m, "Partition", r.partition().map(Partition::as_str));
            put(&mut m, "Region", r.region());
            Value::Object(m)
        })
        .collect();
    o.insert("Resources".into(), Value::Array(resources));
    if let Some(w) = f.workflow() {
        let mut m = Map::new();
        put(&mut m, "Status", w.status().map(WorkflowStatus::as_str));
        o.insert("Workflow".into(), Value::Object(m));
    }
    put(&mut o, "RecordState", f.record_state().map(RecordState::as_str));
    if let Some(p) = f.finding_provider_fields() {
        let mut m = Map::new();
        if let Some(s) = p.severity() {
            let mut sm = Map::new();
            put(&mut sm, "Label", s.label().map(SeverityLabel::as_str));
            put(&mut sm, "Original", s.original());
            m.insert("Severity".into(), Value::Object(sm));
        }
        if !p.types().is_empty() {
            m.insert("Types".into(), json!(p.types()));
        }
        o.insert("FindingProviderFields".into(), Value::Object(m));
    }
    Value::Object(o)
}
