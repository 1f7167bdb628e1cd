//! Fetching exactly the [`StateNeed`]s a change's rules declare, concurrently.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::{AwsError, DutiesRead, IamRead, PolicyVersionInfo, S3Read};
use tripline_core::change::{Change, Payload};
use tripline_core::state::{BucketState, State, StateNeed};

/// The bucket a change is about: a `AWS::S3::Bucket` resource's name, else the name in its ARN, else
/// `requestParameters.bucketName`.
pub fn bucket_name(change: &Change) -> Option<String> {
    let from_resource = change
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::S3::Bucket")
        .find_map(|r| {
            r.name.clone().or_else(|| {
                r.arn
                    .as_deref()
                    .and_then(|a| a.rsplit(":::").next())
                    .map(str::to_owned)
            })
        });
    from_resource.or_else(|| match &change.payload {
        Payload::CloudTrail {
            request_parameters, ..
        } => request_parameters
            .get("bucketName")
            .and_then(Value::as_str)
            .map(str::to_owned),
        Payload::Config { configuration, .. } => configuration
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        Payload::Scheduled => None,
    })
}

/// The region of the bucket a change is about, when the change says: an S3 API call's `awsRegion` (S3
/// records bucket-level calls in the bucket's region) or a bucket configuration item's `awsRegion`.
/// IAM and other global events name no bucket region.
pub fn bucket_region(change: &Change) -> Option<&str> {
    let about_s3 = change.service == "s3.amazonaws.com"
        || change
            .resources
            .iter()
            .any(|r| r.resource_type == "AWS::S3::Bucket");
    let region = change.region.trim();
    let regional = !region.is_empty() && region != "global" && region != "aws-global";
    (about_s3 && regional).then_some(region)
}

/// The customer-managed policy a change is about: an `AWS::IAM::Policy` resource's ARN, else
/// `requestParameters.policyArn`.
pub fn policy_arn(change: &Change) -> Option<String> {
    let from_resource = change
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::IAM::Policy")
        .find_map(|r| {
            r.arn
                .clone()
                .or_else(|| r.name.clone().filter(|n| n.starts_with("arn:")))
        });
    from_resource.or_else(|| match &change.payload {
        Payload::CloudTrail {
            request_parameters, ..
        } => request_parameters
            .get("policyArn")
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    })
}

/// The role a change is about (`AWS::IAM::Role` resource name, else `requestParameters.roleName`).
pub fn role_name(change: &Change) -> Option<String> {
    let from_resource = change
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::IAM::Role")
        .find_map(|r| {
            r.name.clone().or_else(|| {
                r.arn
                    .as_deref()
                    .and_then(|a| a.rsplit('/').next())
                    .map(str::to_owned)
            })
        });
    from_resource.or_else(|| match &change.payload {
        Payload::CloudTrail {
            request_parameters, ..
        } => request_parameters
            .get("roleName")
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    })
}

/// The DB instance a change names: an `AWS::RDS::DBInstance` resource's name, else
/// `requestParameters.dBInstanceIdentifier`.
pub fn db_instance_id(change: &Change) -> Option<String> {
    change
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::RDS::DBInstance")
        .find_map(|r| r.name.clone())
        .or_else(|| match &change.payload {
            Payload::CloudTrail {
                request_parameters, ..
            } => request_parameters
                .get("dBInstanceIdentifier")
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        })
}

/// Orders version ids `v1 < v2 < v10` (numeric part), unknown shapes last.
fn version_number(id: &str) -> u64 {
    id.trim_start_matches(['v', 'V']).parse().unwrap_or(u64::MAX)
}

/// Which version was the default before the change, and which is the default now.
///
/// - `CreatePolicyVersion` with `setAsDefault`: the new version (`responseElements.policyVersion.versionId`)
///   replaced the newest older version; without `setAsDefault` the default did not change (previous =
///   current).
/// - `SetDefaultPolicyVersion` (`requestParameters.versionId`): IAM does not record the previous default;
///   the newest other version is taken (the usual case: the latest version was the default).
/// - Anything else: previous = current.
pub fn previous_and_current_default(
    change: &Change,
    versions: &[PolicyVersionInfo],
) -> (Option<String>, Option<String>) {
    let current = versions
        .iter()
        .find(|v| v.is_default)
        .map(|v| v.version_id.clone());
    let (req, resp) = match &change.payload {
        Payload::CloudTrail {
            request_parameters,
            response_elements,
            ..
        } => (request_parameters, response_elements),
        _ => return (current.clone(), current),
    };
    let newest_other = |exclude: &str| {
        let mut others: Vec<&PolicyVersionInfo> =
            versions.iter().filter(|v| v.version_id != exclude).collect();
        others.sort_by(|a, b| {
            (a.create_date.as_str(), version_number(&a.version_id))
                .cmp(&(b.create_date.as_str(), version_number(&b.version_id)))
        });
        others.last().map(|v| v.version_id.clone())
    };
    let previous = match change.event_name.as_str() {
        "CreatePolicyVersion" => {
            let set_default = req.get("setAsDefault").and_then(Value::as_bool).unwrap_or(false);
            let new_id = resp
                .get("policyVersion")
                .and_then(|p| p.get("versionId"))
                .and_then(Value::as_str);
            match (set_default, new_id) {
                (true, Some(id)) => newest_other(id),
                _ => current.clone(),
            }
        }
        "SetDefaultPolicyVersion" => match req.get("versionId").and_then(Value::as_str) {
            Some(id) => newest_other(id),
            None => current.clone(),
        },
        _ => current.clone(),
    };
    (previous, current)
}

/// Fetches the union of `needs` for `change`, concurrently. Pieces whose resource cannot be named from the
/// change stay unfetched (`None`), so the rules mark their findings "state not confirmed"; a resource that
/// no longer exists is also left unfetched. Any other failure is returned (retryable or not).
pub async fn fetch_state<D: S3Read + IamRead + DutiesRead>(
    aws: &D,
    change: &Change,
    needs: &BTreeSet<StateNeed>,
) -> Result<State, AwsError> {
    let need = |n: StateNeed| needs.contains(&n);
    let bucket = bucket_name(change);
    let policy = policy_arn(change);
    let role = role_name(change);
    // S3 answers bucket calls only in the bucket's region: tell the client where this one is.
    if let (Some(b), Some(region)) = (bucket.as_deref(), bucket_region(change)) {
        aws.note_bucket_region(b, region);
    }

    let bucket_fut = async {
        let Some(b) = bucket.as_deref() else {
            return Ok(None);
        };
        let wants_bucket = need(StateNeed::BucketPolicy)
            || need(StateNeed::BucketAcl)
            || need(StateNeed::BucketPublicAccessBlock)
            || need(StateNeed::BucketTags);
        if !wants_bucket {
            return Ok(None);
        }
        let res = futures::try_join!(
            async {
                match need(StateNeed::BucketPolicy) {
                    true => aws.bucket_policy(b).await,
                    false => Ok(None),
                }
            },
            async {
                match need(StateNeed::BucketAcl) {
                    true => aws.bucket_acl(b).await.map(Some),
                    false => Ok(None),
                }
            },
            async {
                match need(StateNeed::BucketPublicAccessBlock) {
                    true => aws.bucket_public_access_block(b).await,
                    false => Ok(None),
                }
            },
            async {
                match need(StateNeed::BucketTags) || need(StateNeed::ResourceTags) {
                    true => aws.bucket_tags(b).await,
                    false => Ok(BTreeMap::new()),
                }
            },
        );
        match res {
            Ok((policy, acl, public_access_block, tags)) => Ok(Some(BucketState {
                policy,
                acl,
                public_access_block,
                tags,
            })),
            Err(e) if e.has_code("NoSuchBucket") => Ok(None),
            Err(e) => Err(e),
        }
    };

    let account_fut = async {
        match need(StateNeed::AccountPublicAccessBlock) {
            // An absent configuration is all off.
            true => aws
                .account_public_access_block(&change.account)
                .await
                .map(|b| Some(b.unwrap_or_default())),
            false => Ok(None),
        }
    };

    let versions_fut = async {
        let Some(arn) = policy.as_deref().filter(|_| need(StateNeed::PolicyVersions)) else {
            return Ok((None, None));
        };
        let versions = match aws.list_policy_versions(arn).await {
            Ok(v) => v,
            Err(e) if e.is_not_found() => return Ok((None, None)),
            Err(e) => return Err(e),
        };
        let (previous, current) = previous_and_current_default(change, &versions);
        let fetch = |id: Option<String>| async move {
            match id {
                Some(id) => aws.policy_version_document(arn, &id).await.map(Some),
                None => Ok(None),
            }
        };
        if previous == current {
            let doc = fetch(current).await?;
            Ok((doc.clone(), doc))
        } else {
            futures::try_join!(fetch(previous), fetch(current))
        }
    };

    let tags_fut = async {
        if !need(StateNeed::ResourceTags) {
            return Ok(None);
        }
        let primary = change.resources.first().map(|r| r.resource_type.as_str());
        let res = match primary {
            Some("AWS::S3::Bucket") => match bucket.as_deref() {
                Some(b) => aws.bucket_tags(b).await.map(Some),
                None => Ok(None),
            },
            Some("AWS::IAM::Role") => match role.as_deref() {
                Some(r) => aws.role_tags(r).await.map(Some),
                None => Ok(None),
            },
            Some("AWS::IAM::Policy") => match policy.as_deref() {
                Some(p) => aws.policy_tags(p).await.map(Some),
                None => Ok(None),
            },
            _ => Ok(None),
        };
        match res {
            Err(e) if e.is_not_found() => Ok(None),
            other => other,
        }
    };

    let db_fut = async {
        let Some(id) = db_instance_id(change).filter(|_| need(StateNeed::DbInstance)) else {
            return Ok(None);
        };
        // Absent (`DBInstanceNotFound`) stays unfetched: the rules judge from the record.
        aws.db_instance(&change.region, &id).await
    };

    let (bucket_state, account_pab, (previous_doc, current_doc), resource_tags, db_instance) =
        futures::try_join!(bucket_fut, account_fut, versions_fut, tags_fut, db_fut)?;
    Ok(State {
        bucket: bucket_state,
        account_public_access_block: account_pab,
        previous_policy_document: previous_doc,
        current_policy_document: current_doc,
        resource_tags,
        db_instance,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fakes::{FakeAws, FakeBucket};
    use serde_json::json;
    use tripline_core::change::{Actor, ChangeSource, Outcome, Resource};

    fn change(event: &str, req: Value, resp: Value) -> Change {
        Change {
            event_id: "e".into(),
            time: "2026-01-01T00:00:00Z".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            source: ChangeSource::CloudTrail,
            actor: Actor::default(),
            service: "iam.amazonaws.com".into(),
            event_name: event.into(),
            outcome: Outcome::Success,
            resources: vec![Resource {
                resource_type: "AWS::IAM::Policy".into(),
                arn: Some("arn:aws:iam::111122223333:policy/p".into()),
                name: None,
            }],
            payload: Payload::CloudTrail {
                request_parameters: req,
                response_elements: resp,
                extra: Value::Null,
            },
        }
    }

    fn versions(defaults: &[(&str, bool)]) -> Vec<PolicyVersionInfo> {
        defaults
            .iter()
            .enumerate()
            .map(|(i, (id, d))| PolicyVersionInfo {
                version_id: (*id).into(),
                is_default: *d,
                create_date: format!("2026-01-0{}T00:00:00Z", i + 1),
            })
            .collect()
    }

    #[test]
    fn previous_default_table() {
        let new_v3 = json!({"policyVersion": {"versionId": "v3"}});
        // (event, request, response, versions, expected previous, expected current)
        type Case<'a> = (
            &'a str,
            Value,
            Value,
            Vec<PolicyVersionInfo>,
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: Vec<Case> = vec![
            (
                "CreatePolicyVersion",
                json!({"setAsDefault": true}),
                new_v3.clone(),
                versions(&[("v1", false), ("v2", false), ("v3", true)]),
                Some("v2"),
                Some("v3"),
            ),
            (
                "CreatePolicyVersion",
                json!({"setAsDefault": false}),
                new_v3.clone(),
                versions(&[("v1", false), ("v2", true), ("v3", false)]),
                Some("v2"),
                Some("v2"),
            ),
            (
                "SetDefaultPolicyVersion",
                json!({"versionId": "v1"}),
                Value::Null,
                versions(&[("v1", true), ("v2", false)]),
                Some("v2"),
                Some("v1"),
            ),
            (
                "CreatePolicyVersion",
                json!({"setAsDefault": true}),
                json!({"policyVersion": {"versionId": "v1"}}),
                versions(&[("v1", true)]),
                None,
                Some("v1"),
            ),
            (
                "DeletePolicyVersion",
                json!({}),
                Value::Null,
                versions(&[("v2", true)]),
                Some("v2"),
                Some("v2"),
            ),
        ];
        for (event, req, resp, vs, prev, cur) in cases {
            let c = change(event, req.clone(), resp);
            let (p, cu) = previous_and_current_default(&c, &vs);
            assert_eq!((p.as_deref(), cu.as_deref()), (prev, cur), "{event} {req}");
        }
    }

    #[test]
    fn bucket_region_from_change() {
        // S3 records bucket-level API calls in the bucket's region; AWS Config's `awsRegion` of an
        // `AWS::S3::Bucket` item is the bucket's region. IAM events (us-east-1) say nothing about buckets.
        let bucket = Resource {
            resource_type: "AWS::S3::Bucket".into(),
            arn: Some("arn:aws:s3:::b".into()),
            name: Some("b".into()),
        };
        // (service, resources are the bucket, region, expected)
        let cases: &[(&str, bool, &str, Option<&str>)] = &[
            ("s3.amazonaws.com", true, "eu-west-1", Some("eu-west-1")),
            (
                "s3.amazonaws.com",
                false,
                "ap-southeast-2",
                Some("ap-southeast-2"),
            ),
            ("config.amazonaws.com", true, "eu-central-1", Some("eu-central-1")),
            ("iam.amazonaws.com", false, "us-east-1", None),
            ("s3.amazonaws.com", true, "", None),
            ("s3.amazonaws.com", true, "global", None),
        ];
        for (service, is_bucket, region, want) in cases {
            let mut c = change("PutBucketPolicy", json!({"bucketName": "b"}), Value::Null);
            c.service = (*service).into();
            c.region = (*region).into();
            if *is_bucket {
                c.resources = vec![bucket.clone()];
            }
            assert_eq!(bucket_region(&c), *want, "{service} {is_bucket} {region}");
        }
    }

    /// [`FakeAws`] plus a record of the region hints it was given.
    struct Hinted {
        aws: FakeAws,
        hints: std::sync::Mutex<Vec<(String, String)>>,
    }

    macro_rules! delegate {
        ($( fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
            $( async fn $name(&self $(, $arg: $ty)*) -> $ret { self.aws.$name($($arg),*).await } )*
        };
    }

    impl S3Read for Hinted {
        delegate! {
            fn list_buckets(&self) -> Result<Vec<String>, AwsError>;
            fn bucket_policy(&self, bucket: &str) -> Result<Option<Value>, AwsError>;
            fn bucket_acl(&self, bucket: &str) -> Result<Value, AwsError>;
            fn bucket_public_access_block(&self, bucket: &str) -> Result<Option<tripline_core::state::PublicAccessBlock>, AwsError>;
            fn bucket_tags(&self, bucket: &str) -> Result<BTreeMap<String, String>, AwsError>;
            fn account_public_access_block(&self, account_id: &str) -> Result<Option<tripline_core::state::PublicAccessBlock>, AwsError>;
        }
        fn note_bucket_region(&self, bucket: &str, region: &str) {
            self.hints.lock().unwrap().push((bucket.into(), region.into()));
        }
    }

    impl IamRead for Hinted {
        delegate! {
            fn list_policy_versions(&self, policy_arn: &str) -> Result<Vec<PolicyVersionInfo>, AwsError>;
            fn policy_version_document(&self, policy_arn: &str, version_id: &str) -> Result<Value, AwsError>;
            fn policy_tags(&self, policy_arn: &str) -> Result<BTreeMap<String, String>, AwsError>;
            fn role_trust_policy(&self, role_name: &str) -> Result<Value, AwsError>;
            fn role_tags(&self, role_name: &str) -> Result<BTreeMap<String, String>, AwsError>;
            fn list_local_policies(&self) -> Result<Vec<crate::ManagedPolicyInfo>, AwsError>;
            fn list_roles(&self) -> Result<Vec<crate::RoleInfo>, AwsError>;
            fn attached_policies(&self, principal: &crate::PrincipalRef) -> Result<Vec<String>, AwsError>;
        }
    }

    impl crate::AccountStateRead for Hinted {
        delegate! {
            fn trails(&self, region: &str) -> Result<Vec<Value>, AwsError>;
            fn configuration_recorders(&self, region: &str) -> Result<Vec<Value>, AwsError>;
            fn guardduty_detectors(&self, region: &str) -> Result<Vec<Value>, AwsError>;
            fn ebs_encryption_by_default(&self, region: &str) -> Result<Option<bool>, AwsError>;
            fn security_groups(&self, region: &str) -> Result<Vec<Value>, AwsError>;
        }
    }

    impl crate::DutiesRead for Hinted {
        delegate! {
            fn account_password_policy(&self) -> Result<Option<Value>, AwsError>;
            fn enabled_regions(&self) -> Result<Vec<String>, AwsError>;
            fn network_acls(&self, region: &str) -> Result<Vec<Value>, AwsError>;
            fn db_instances(&self, region: &str) -> Result<Vec<Value>, AwsError>;
            fn db_instance(&self, region: &str, identifier: &str) -> Result<Option<Value>, AwsError>;
            fn db_clusters(&self, region: &str) -> Result<Vec<Value>, AwsError>;
            fn patch_compliance_items(&self, region: &str) -> Result<Vec<Value>, AwsError>;
        }
    }

    #[test]
    fn db_instance_is_read_when_an_rds_rule_needs_it() {
        // RDS API Reference, DescribeDBInstances: `DBInstanceNotFound` for an unknown identifier (the fake
        // answers `None`): left unfetched, the rules judge from the record.
        let aws = FakeAws::new();
        let instance = json!({"DBInstanceIdentifier": "orders-db-2", "PubliclyAccessible": true});
        aws.world()
            .duties
            .db_instances
            .insert("us-east-1".into(), vec![instance.clone()]);
        let mut c = change(
            "CreateDBInstance",
            json!({"dBInstanceIdentifier": "orders-db-2"}),
            Value::Null,
        );
        c.service = "rds.amazonaws.com".into();
        c.resources.clear();
        let needs: BTreeSet<StateNeed> = [StateNeed::DbInstance].into();
        let state = crate::block_on(fetch_state(&aws, &c, &needs)).unwrap();
        assert_eq!(state.db_instance, Some(instance));
        assert!(aws
            .world()
            .calls
            .contains(&"rds:DescribeDBInstances us-east-1 orders-db-2".to_owned()));
        let mut gone = c.clone();
        gone.payload = Payload::CloudTrail {
            request_parameters: json!({"dBInstanceIdentifier": "deleted-db"}),
            response_elements: Value::Null,
            extra: Value::Null,
        };
        assert_eq!(
            crate::block_on(fetch_state(&aws, &gone, &needs))
                .unwrap()
                .db_instance,
            None
        );
        // Not needed: not read.
        let before = aws.world().calls.len();
        crate::block_on(fetch_state(&aws, &c, &BTreeSet::new())).unwrap();
        assert_eq!(aws.world().calls.len(), before);
    }

    #[test]
    fn state_reads_are_told_the_bucket_region_before_any_call() {
        let aws = Hinted {
            aws: FakeAws::new(),
            hints: std::sync::Mutex::new(Vec::new()),
        };
        aws.aws.add_bucket("b", FakeBucket::default());
        let needs = BTreeSet::from([StateNeed::BucketPolicy, StateNeed::BucketAcl]);
        let run = |c: &Change| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(fetch_state(&aws, c, &needs))
                .unwrap()
        };
        let mut c = change("PutBucketPolicy", json!({"bucketName": "b"}), Value::Null);
        c.service = "s3.amazonaws.com".into();
        c.region = "eu-west-1".into();
        c.resources.clear();
        assert!(run(&c).bucket.is_some());
        assert_eq!(
            *aws.hints.lock().unwrap(),
            [("b".to_owned(), "eu-west-1".to_owned())]
        );
        // An IAM change names no bucket: no hint.
        aws.hints.lock().unwrap().clear();
        let iam = change("CreatePolicyVersion", json!({}), Value::Null);
        run(&iam);
        assert!(aws.hints.lock().unwrap().is_empty());
    }

    #[test]
    fn resource_names_from_change() {
        let mut c = change("PutBucketPolicy", json!({"bucketName": "from-req"}), Value::Null);
        c.resources.clear();
        assert_eq!(bucket_name(&c).as_deref(), Some("from-req"));
        c.resources.push(Resource {
            resource_type: "AWS::S3::Bucket".into(),
            arn: Some("arn:aws:s3:::from-arn".into()),
            name: None,
        });
        assert_eq!(bucket_name(&c).as_deref(), Some("from-arn"));
        let c = change("CreatePolicyVersion", json!({}), Value::Null);
        assert_eq!(
            policy_arn(&c).as_deref(),
            Some("arn:aws:iam::111122223333:policy/p")
        );
        let c = change("UpdateAssumeRolePolicy", json!({"roleName": "r"}), Value::Null);
        assert_eq!(role_name(&c).as_deref(), Some("r"));
    }
}
