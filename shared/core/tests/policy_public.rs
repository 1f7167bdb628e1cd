//! Data-driven cases for the "public" verdicts. One line per case; each cites the rule it encodes.
//! S3 = Amazon S3 User Guide, "Blocking public access", section "The meaning of 'public'"
//! (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use tripline_core::policy::{self, Policy, ResourceKind};

/// A one-statement 2012-10-17 bucket policy.
fn stmt(principal: Value, condition: Value) -> Value {
    let mut s = json!({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*"});
    if !condition.is_null() {
        s["Condition"] = condition;
    }
    json!({"Version": "2012-10-17", "Statement": [s]})
}

fn star(condition: Value) -> Value {
    stmt(json!("*"), condition)
}

#[test]
#[rustfmt::skip]
fn bucket_policy_cases() {
    // (name, document, expected public, a reason code the verdict must carry)
    let cases: Vec<(&str, Value, bool, &str)> = vec![
        // S3 example: Principal "*" with no condition is public.
        ("star no condition", star(Value::Null), true, "wildcard-principal"),
        // S3 definition: {"AWS": "*"} is a wildcard principal.
        ("aws star", stmt(json!({"AWS": "*"}), Value::Null), true, "wildcard-principal"),
        // S3 definition: a fixed AWS principal is non-public.
        ("fixed account", stmt(json!({"AWS": "arn:aws:iam::111122223333:root"}), Value::Null), false, "fixed-principal"),
        // S3 definition: a wildcard inside a principal value is not fixed.
        ("wildcard arn principal", stmt(json!({"AWS": "arn:aws:iam::*:root"}), Value::Null), true, "wildcard-principal"),
        // S3 definition: one wildcard value among fixed ones is enough.
        ("mixed principal list", stmt(json!({"AWS": ["111122223333", "*"]}), Value::Null), true, "wildcard-principal"),
        // S3 definition: a service principal is a fixed principal.
        ("service principal", stmt(json!({"Service": "cloudtrail.amazonaws.com"}), Value::Null), false, "fixed-principal"),
        // S3 example: Federated graph.facebook.com is public.
        ("federated facebook", stmt(json!({"Federated": "graph.facebook.com"}), Value::Null), true, "federated-principal"),
        // S3 definition: a policy variable is not a fixed value (2012-10-17 only).
        ("variable principal 2012", stmt(json!({"AWS": "arn:aws:iam::111122223333:user/${aws:username}"}), Value::Null), true, "variable-principal"),
        // S3 examples: StringEquals aws:SourceVpc vpc-91237329 non-public; StringLike vpc-* public.
        ("sourcevpc fixed", star(json!({"StringEquals": {"aws:SourceVpc": "vpc-91237329"}})), false, "limited-by-condition"),
        ("sourcevpc wildcard", star(json!({"StringLike": {"aws:SourceVpc": "vpc-*"}})), true, "wildcard-value"),
        // S3 list: aws:SourceVpce fixed; a wildcard vpce-* is not fixed.
        ("sourcevpce fixed", star(json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})), false, "limited-by-condition"),
        ("sourcevpce wildcard", star(json!({"StringLike": {"aws:SourceVpce": "vpce-*"}})), true, "wildcard-value"),
        // S3 note: aws:SourceIp broader than /8 (IPv4) is public; /8 and narrower is not.
        ("sourceip 0/1", star(json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}})), true, "cidr-too-broad"),
        ("sourceip /7", star(json!({"IpAddress": {"aws:SourceIp": "12.0.0.0/7"}})), true, "cidr-too-broad"),
        ("sourceip /8", star(json!({"IpAddress": {"aws:SourceIp": "12.0.0.0/8"}})), false, "limited-by-condition"),
        ("sourceip /24", star(json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7/32"]}})), false, "limited-by-condition"),
        ("sourceip one broad in list", star(json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}})), true, "cidr-too-broad"),
        // S3 note: RFC1918 ranges are not treated as public (10/8 is not broader than /8 either).
        ("sourceip rfc1918", star(json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}})), false, "limited-by-condition"),
        // S3 note: broader than /32 for IPv6 is public.
        ("sourceip v6 /31", star(json!({"IpAddress": {"aws:SourceIp": "2001:db8::/31"}})), true, "cidr-too-broad"),
        ("sourceip v6 /32", star(json!({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}})), false, "limited-by-condition"),
        // Conservative: NotIpAddress grants everyone else.
        ("not ip address", star(json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})), true, "operator-not-limiting"),
        // S3 list: aws:SourceArn, aws:SourceOwner, aws:SourceAccount fixed are non-public.
        ("sourcearn", star(json!({"ArnEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}})), false, "limited-by-condition"),
        ("sourceowner", star(json!({"StringEquals": {"aws:SourceOwner": "111122223333"}})), false, "limited-by-condition"),
        ("sourceaccount", star(json!({"StringEquals": {"aws:SourceAccount": "111122223333"}})), false, "limited-by-condition"),
        ("sourcearn wildcard", star(json!({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:111122223333:trail/*"}})), true, "wildcard-value"),
        // S3 list: aws:PrincipalOrgID (the page's principal example).
        ("principalorgid", star(json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})), false, "limited-by-condition"),
        ("principalorgid wildcard", star(json!({"StringLike": {"aws:PrincipalOrgID": "o-*"}})), true, "wildcard-value"),
        // S3 list (current page): aws:PrincipalAccount / aws:PrincipalArn are not on it.
        ("principalaccount not listed", star(json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}})), true, "key-not-limiting"),
        // S3 list: aws:userid fixed; "outside the pattern AROLEID:*" — that pattern does not limit.
        ("userid fixed", star(json!({"StringEquals": {"aws:userid": "AIDAEXAMPLE"}})), false, "limited-by-condition"),
        ("userid AROLEID:*", star(json!({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}})), true, "wildcard-value"),
        // S3 list + note: s3:DataAccessPointArn with a wildcard name but fixed account is non-public.
        ("access point fixed account", star(json!({"StringLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-west-2:123456789012:accesspoint/*"}})), false, "limited-by-condition"),
        ("access point any account", star(json!({"StringLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-west-2:*:accesspoint/*"}})), true, "wildcard-value"),
        // S3 list: s3:DataAccessPointAccount.
        ("access point account", star(json!({"StringEquals": {"s3:DataAccessPointAccount": "123456789012"}})), false, "limited-by-condition"),
        // Condition key names are case-insensitive (IAM condition element reference).
        ("case-changed key", star(json!({"StringEquals": {"AWS:SOURCEVPC": "vpc-91237329"}})), false, "limited-by-condition"),
        // Not a listed key: does not limit.
        ("unlisted key", star(json!({"StringEquals": {"aws:RequestedRegion": "us-east-1"}})), true, "key-not-limiting"),
        // Conservative: IfExists is true when the key is absent.
        ("if exists", star(json!({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-91237329"}})), true, "if-exists"),
        // Multi-valued keys page: ForAllValues is true when the key is absent.
        ("for all values", star(json!({"ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-91237329"}})), true, "for-all-values"),
        // Conservative: Null only requires presence, not a fixed value.
        ("null operator", star(json!({"Null": {"aws:SourceVpc": "false"}})), true, "operator-not-limiting"),
        // Conditions are ANDed: one limiting condition suffices.
        ("one limiting among others", star(json!({"StringEquals": {"aws:SourceVpc": "vpc-1"}, "Bool": {"aws:SecureTransport": "true"}})), false, "limited-by-condition"),
        // S3 definition: a policy variable is not a fixed value.
        ("variable condition value", star(json!({"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}})), true, "variable-value"),
        // NotPrincipal with Allow allows all but the named principals (IAM NotPrincipal reference).
        ("notprincipal allow", json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": "*"}]}), true, "not-principal-allow"),
        // S3 Access Analyzer note: an unsupported action such as s3:NotASupportedAction is still public.
        ("unsupported action", json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:NotASupportedAction", "Resource": "arn:aws:s3:::b/*"}]}), true, "wildcard-principal"),
        // Grammar: Statement may be a single object.
        ("statement object", json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}), true, "wildcard-principal"),
        // Version reference: under 2008-10-17 `${...}` is literal text, hence a fixed value.
        ("2008 variable literal", json!({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/${aws:username}"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}), false, "fixed-principal"),
        ("absent version variable literal", json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}}]}), false, "limited-by-condition"),
        // Conservative (page silent): a Deny carve-out is not credited.
        ("deny carve-out", json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}, {"Sid": "OnlyVpc", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}}]}), true, "deny-not-credited"),
        // A Deny alone grants nothing.
        ("deny only", json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}), false, "no-allow"),
    ];
    for (name, doc, expected, code) in cases {
        let p = Policy::parse(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = policy::bucket_policy_public(&p);
        assert_eq!(v.public, expected, "{name}: {v:?}");
        assert!(
            v.reasons.iter().any(|r| r.code == code),
            "{name}: expected reason {code}, got {v:?}"
        );
    }
}

/// S3 page, mixed policy example: "This policy qualifies as public because of the third statement."
#[test]
fn mixed_policy_public_because_of_third_statement() {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::b"},
        {"Sid": "Account-2", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::Account-2:root"},
         "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
    let v = policy::bucket_policy_public(&Policy::parse(&doc).unwrap());
    assert!(v.public);
    assert!(v.reasons.iter().all(|r| r.statement == "#2"), "{v:?}");
}

#[test]
#[rustfmt::skip]
fn other_resource_kinds() {
    let k = |doc: Value, kind| policy::resource_policy_public(&Policy::parse(&doc).unwrap(), kind).public;
    let svc = |cond: Value| {
        let mut s = json!({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sns:Publish", "Resource": "*"});
        if !cond.is_null() {
            s["Condition"] = cond;
        }
        json!({"Version": "2012-10-17", "Statement": [s]})
    };
    let trust = |principal: Value, cond: Value| {
        let mut s =
            json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRoleWithWebIdentity"});
        if !cond.is_null() {
            s["Condition"] = cond;
        }
        json!({"Version": "2012-10-17", "Statement": [s]})
    };
    let gh =
        json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"});
    let cases: Vec<(&str, Value, ResourceKind, bool)> = vec![
        // SNS/SQS/Lambda: a service principal without aws:SourceArn/aws:SourceAccount acts for any account.
        ("sns service unscoped", svc(Value::Null), ResourceKind::SnsTopic, true),
        ("sns service scoped", svc(json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::my-bucket"}})), ResourceKind::SnsTopic, false),
        ("sqs service account", svc(json!({"StringEquals": {"aws:SourceAccount": "111122223333"}})), ResourceKind::SqsQueue, false),
        ("lambda service unscoped", svc(Value::Null), ResourceKind::LambdaFunction, true),
        // S3: a service principal is fixed.
        ("s3 service", svc(Value::Null), ResourceKind::S3Bucket, false),
        // KMS: kms:CallerAccount pins the caller.
        ("kms caller account", star_kms(), ResourceKind::KmsKey, false),
        // Outside S3, aws:PrincipalAccount pins the caller.
        ("ecr principal account", star_cond(json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}})), ResourceKind::EcrRepository, false),
        ("secret star", star_cond(Value::Null), ResourceKind::SecretsManagerSecret, true),
        // Trust policy: a Service principal is not public.
        ("trust service", trust(json!({"Service": "ec2.amazonaws.com"}), Value::Null), ResourceKind::IamRoleTrust, false),
        ("trust star", trust(json!({"AWS": "*"}), Value::Null), ResourceKind::IamRoleTrust, true),
        ("trust star org", trust(json!({"AWS": "*"}), json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})), ResourceKind::IamRoleTrust, false),
        ("trust saml", trust(json!({"Federated": "arn:aws:iam::111122223333:saml-provider/Okta"}), Value::Null), ResourceKind::IamRoleTrust, false),
        // GitHub OIDC: aud alone is the same for everyone; sub must pin the owner.
        ("github no condition", trust(gh.clone(), Value::Null), ResourceKind::IamRoleTrust, true),
        ("github aud only", trust(gh.clone(), json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}})), ResourceKind::IamRoleTrust, true),
        ("github sub repo", trust(gh.clone(), json!({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:my-org/my-repo:*"}})), ResourceKind::IamRoleTrust, false),
        ("github sub any", trust(gh.clone(), json!({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}})), ResourceKind::IamRoleTrust, true),
        ("cognito aud", trust(json!({"Federated": "cognito-identity.amazonaws.com"}), json!({"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:1234-abcd"}})), ResourceKind::IamRoleTrust, false),
        ("google no condition", trust(json!({"Federated": "accounts.google.com"}), Value::Null), ResourceKind::IamRoleTrust, true),
    ];
    for (name, doc, kind, expected) in cases {
        assert_eq!(k(doc, kind), expected, "{name}");
    }
}

fn star_cond(cond: Value) -> Value {
    let mut s = json!({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"});
    if !cond.is_null() {
        s["Condition"] = cond;
    }
    json!({"Version": "2012-10-17", "Statement": [s]})
}

fn star_kms() -> Value {
    star_cond(json!({"StringEquals": {"kms:CallerAccount": "111122223333"}}))
}

#[test]
#[rustfmt::skip]
fn acl_cases() {
    let owner = json!({"ID": "abc", "DisplayName": "me"});
    let grant = |grantee: Value, perm: &str| json!({"Grantee": grantee, "Permission": perm});
    let all = json!({"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"});
    let auth = json!({"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"});
    let log = json!({"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"});
    let me = json!({"Type": "CanonicalUser", "ID": "abc"});
    // S3 "meaning of public" (ACLs): public iff any permission goes to AllUsers or AuthenticatedUsers.
    let cases: Vec<(&str, Value, bool)> = vec![
        ("owner only", json!({"Owner": owner, "Grants": [grant(me.clone(), "FULL_CONTROL")]}), false),
        ("all users read", json!({"Owner": owner, "Grants": [grant(me.clone(), "FULL_CONTROL"), grant(all.clone(), "READ")]}), true),
        ("authenticated users", json!({"Owner": owner, "Grants": [grant(auth.clone(), "READ_ACP")]}), true),
        ("log delivery", json!({"Owner": owner, "Grants": [grant(log.clone(), "WRITE")]}), false),
        ("no grants", json!({"Owner": owner, "Grants": []}), false),
        // CloudTrail PutBucketAcl shape: Grant as a single object, xsi:type grantee.
        ("cloudtrail object", json!({"bucketName": "b", "AccessControlPolicy": {"AccessControlList": {"Grant": {"Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}}, "Owner": {"ID": "abc"}}}), true),
        ("cloudtrail list private", json!({"AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"xsi:type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"}]}}}), false),
        // Canned ACLs (S3 "Canned ACL" table).
        ("canned public-read", json!({"bucketName": "b", "x-amz-acl": ["public-read"]}), true),
        ("canned private", json!({"x-amz-acl": "private"}), false),
    ];
    for (name, doc, expected) in cases {
        assert_eq!(policy::acl_public(&doc).unwrap().public, expected, "{name}");
    }
    for (name, public) in [
        ("public-read", true),
        ("public-read-write", true),
        ("authenticated-read", true),
        ("private", false),
        ("bucket-owner-full-control", false),
        ("log-delivery-write", false),
        ("aws-exec-read", false),
    ] {
        assert_eq!(policy::canned_acl_public(name).public, public, "{name}");
    }
    for bad in [
        json!([]),
        json!({"Owner": {}}),
        json!({"Grants": {}}),
        json!({"Grants": [{"Permission": "READ"}]}),
    ] {
        assert!(policy::acl_public(&bad).is_err(), "{bad}");
    }
}
