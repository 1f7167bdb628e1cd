//! The zone of trust's member accounts listed through Organizations (issue 19, `shared/aws/src/org_members.rs`)
//! against the emulator's Organizations: a grant to a listed member is inside the zone, a grant to an account
//! the organization does not list is reported as outside (and says nothing about unknown membership), and a
//! listing that fails (an account in no organization) leaves membership unknown, which the finding says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use tripline_aws::app::DetectorConfig;
use tripline_aws::org_members::OrgMembers;
use tripline_core::{intake, rules, Intake};
use tripline_integration::{emulator, new_account, rewrite, sample};

const RULE: &str = "sqs-queue-cross-account-access";
/// The account the sample's queue policy grants (events/cloudtrail-sqs-set-queue-attributes-policy-account.json).
const GRANTED: &str = "444455556666";

fn detector(org_id: &str) -> DetectorConfig {
    let env: BTreeMap<String, String> = [("TRIPLINE_ORGANIZATION_ID", org_id)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    DetectorConfig {
        alert_topic_arn: "arn:aws:sns:us-east-1:111122223333:alerts".into(),
        rules: rules::config_from_env(&env).unwrap(),
    }
}

/// The sample judged with `cfg`, its queue policy granting `grantee`: the cross-account finding's reasons.
fn judge(cfg: &DetectorConfig, grantee: &str) -> Option<Vec<String>> {
    let event = rewrite(
        &sample("cloudtrail-sqs-set-queue-attributes-policy-account.json"),
        &[(GRANTED, grantee)],
    );
    let Intake::Change(change) = intake(&serde_json::to_vec(&event).unwrap()).unwrap() else {
        panic!("not a change")
    };
    rules::evaluate(&change, None, &cfg.rules)
        .findings
        .into_iter()
        .find(|f| f.rule == RULE)
        .map(|f| f.evidence.reasons)
}

#[tokio::test]
async fn members_listed_through_organizations_are_inside_the_zone_of_trust() {
    let management = new_account();
    let sdk = emulator().sdk_config(&management).await;
    let org = aws_sdk_organizations::Client::new(&sdk);
    let created = org
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let org_id = created.organization().unwrap().id().unwrap().to_owned();
    let member = org
        .create_account()
        .account_name("member")
        .email("member@example.com")
        .send()
        .await
        .unwrap()
        .create_account_status
        .unwrap()
        .account_id
        .unwrap();
    let outsider = new_account();

    let members = OrgMembers::new(org.clone());
    let listed = members.members().await.expect("listed");
    assert!(
        listed.contains(&member) && listed.contains(&management),
        "{listed:?}"
    );
    assert!(!listed.contains(&outsider));

    let base = detector(&org_id);
    // Without the listing: a grant to the member is reported, saying membership is unknown.
    let unknown = judge(&base, &member).expect("reported while membership is unknown");
    assert!(
        unknown.iter().any(|r| r.contains("membership is unknown")),
        "{unknown:?}"
    );
    // With it: the member is inside the zone; the outsider is outside, and nothing says "unknown".
    let cfg = members.config(&base).await;
    assert_eq!(judge(&cfg, &member), None);
    let outside = judge(&cfg, &outsider).expect("an account the organization does not list");
    assert!(
        outside.iter().all(|r| !r.contains("membership is unknown")),
        "{outside:?}"
    );
    assert!(outside.iter().any(|r| r.contains(&outsider)), "{outside:?}");
}

#[tokio::test]
async fn a_failed_listing_leaves_membership_unknown() {
    // AWS refuses ListAccounts outside the management and delegated-administrator accounts
    // (AccessDeniedException, AWSOrganizationsNotInUseException); moto answers an empty list instead, so
    // the failure here is Organizations being unreachable (a closed loopback port).
    let sdk = emulator()
        .sdk_config(&new_account())
        .await
        .into_builder()
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let members = OrgMembers::new(aws_sdk_organizations::Client::new(&sdk));
    assert!(members.members().await.is_none());
    let base = detector("o-a1b2c3d4e5");
    let cfg = members.config(&base).await;
    assert_eq!(cfg, base);
    let reasons = judge(&cfg, &new_account()).expect("reported");
    assert!(
        reasons.iter().any(|r| r.contains("membership is unknown")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn configuration_of_the_listing() {
    let sdk = emulator().sdk_config(&new_account()).await;
    let vars = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let on = vars(&[("TRIPLINE_ORGANIZATION_MEMBERS", "organizations")]);
    assert!(OrgMembers::from_env_map(&on, &sdk, "t").await.unwrap().is_some());
    assert!(OrgMembers::from_env_map(&vars(&[]), &sdk, "t")
        .await
        .unwrap()
        .is_none());
    // A list given in the environment wins: nothing is listed.
    let given = vars(&[
        ("TRIPLINE_ORGANIZATION_MEMBERS", "organizations"),
        ("TRIPLINE_ORGANIZATION_ACCOUNT_IDS", "111100001111"),
    ]);
    assert!(OrgMembers::from_env_map(&given, &sdk, "t")
        .await
        .unwrap()
        .is_none());
    let bad = vars(&[("TRIPLINE_ORGANIZATION_MEMBERS", "yes")]);
    let e = OrgMembers::from_env_map(&bad, &sdk, "t").await.unwrap_err();
    assert!(e.to_string().contains("TRIPLINE_ORGANIZATION_MEMBERS"), "{e}");
}
