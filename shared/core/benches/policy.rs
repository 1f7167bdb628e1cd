//! Policy engine benchmarks (issue 3 goals): public check on a 20-statement policy (< 20 µs), diff of two
//! 50-statement policies (< 1 ms), action catalog load.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use tripline_core::policy::{self, actions::Catalog, Policy};

fn bucket_policy(n: usize) -> Value {
    let statements: Vec<Value> = (0..n)
        .map(|i| match i % 4 {
            0 => json!({"Sid": format!("Svc{i}"), "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::bucket/AWSLogs/{i}/*"),
                "Condition": {"StringEquals": {"aws:SourceArn": format!("arn:aws:cloudtrail:us-east-1:111122223333:trail/t{i}")}}}),
            1 => json!({"Sid": format!("Acct{i}"), "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{:012}:root", 100000000000u64 + i as u64)},
                "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]}),
            2 => json!({"Sid": format!("Vpc{i}"), "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bucket/*", "Condition": {"StringEquals": {"aws:SourceVpce": format!("vpce-{i:08x}")}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}),
            _ => json!({"Sid": format!("Deny{i}"), "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": "arn:aws:s3:::bucket/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn identity_policy(n: usize, shift: usize) -> Policy {
    const ACTIONS: &[&str] = &[
        "s3:Get*",
        "s3:PutObject",
        "dynamodb:Query",
        "sqs:SendMessage",
        "iam:PassRole",
        "lambda:InvokeFunction",
        "ec2:Describe*",
        "kms:Decrypt",
        "logs:PutLogEvents",
        "sns:Publish",
    ];
    let statements: Vec<Value> = (0..n)
        .map(|i| {
            let k = i + shift;
            let mut s = json!({"Sid": format!("S{i}"), "Effect": if i % 10 == 9 { "Deny" } else { "Allow" },
                "Action": [ACTIONS[k % ACTIONS.len()], ACTIONS[(k * 7 + 3) % ACTIONS.len()]],
                "Resource": [format!("arn:aws:s3:::bucket-{}/*", k % 17), format!("arn:aws:dynamodb:us-east-1:111122223333:table/t{}", k % 13)]});
            if i % 5 == 0 {
                s["Condition"] = json!({"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}});
            }
            s
        })
        .collect();
    Policy::parse(&json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
}

fn benches(c: &mut Criterion) {
    let p20 = Policy::parse(&bucket_policy(20)).unwrap();
    c.bench_function("public check, 20-statement bucket policy", |b| {
        b.iter(|| policy::bucket_policy_public(black_box(&p20)))
    });
    let doc20 = bucket_policy(20);
    c.bench_function("parse + public check, 20-statement bucket policy", |b| {
        b.iter(|| policy::bucket_policy_public(&Policy::parse(black_box(&doc20)).unwrap()))
    });
    let old = identity_policy(50, 0);
    let new = identity_policy(50, 1);
    let _ = policy::actions::catalog(); // loaded once, outside the measurement
    c.bench_function("diff, two 50-statement policies", |b| {
        b.iter(|| policy::diff(black_box(&old), black_box(&new)))
    });
    c.bench_function("diff, 50-statement policy with itself", |b| {
        b.iter(|| policy::diff(black_box(&old), black_box(&old)))
    });
    c.bench_function("action catalog load (parse + index)", |b| {
        b.iter(Catalog::load_fresh)
    });
}

fn pieces(c: &mut Criterion) {
    use tripline_core::policy::glob::{self, Glob};
    let cat = policy::actions::catalog();
    c.bench_function("catalog expand ec2:Describe*", |b| {
        b.iter(|| cat.expand(black_box("ec2:Describe*")))
    });
    let globs: Vec<Glob> = (0..17)
        .map(|k| Glob::parse(&format!("arn:aws:s3:::bucket-{k}/*"), true))
        .chain((0..13).map(|k| {
            Glob::parse(
                &format!("arn:aws:dynamodb:us-east-1:111122223333:table/t{k}"),
                true,
            )
        }))
        .collect();
    let refs: Vec<&Glob> = globs.iter().collect();
    c.bench_function("glob atoms, 30 resource patterns", |b| {
        b.iter(|| glob::atoms(black_box(&refs)))
    });
}

criterion_group!(policy_benches, benches);
criterion_group!(piece_benches, pieces);
criterion_main!(policy_benches, piece_benches);
