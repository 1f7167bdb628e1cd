//! `tripline assess` as a user runs it: exit 0 on every events/ sample, 2 with one line on stderr on bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn tripline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tripline"))
}

fn events() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .collect();
    files.sort();
    files
}

fn assess_stdin(input: &[u8]) -> Output {
    let mut child = tripline()
        .args(["assess", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A broken pipe is fine: the command may reject the input before reading all of it.
    let _ = child.stdin.take().unwrap().write_all(input);
    child.wait_with_output().unwrap()
}

fn assert_bad_input(case: &str, out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{case}: exit code; stderr: {stderr}");
    assert!(out.stdout.is_empty(), "{case}: nothing on stdout");
    assert_eq!(stderr.lines().count(), 1, "{case}: one line on stderr: {stderr}");
    assert!(stderr.starts_with("tripline: error: "), "{case}: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
}

#[test]
fn every_sample_exits_zero_with_json() {
    let files = events();
    assert!(files.len() >= 30, "found {} samples", files.len());
    for file in files {
        let out = tripline().arg("assess").arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {stderr}", file.display());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is not json: {e}", file.display()));
        let kind = json["intake"].as_str().unwrap_or_default();
        assert!(
            ["change", "ignored", "fetch_oversized"].contains(&kind),
            "{}: intake `{kind}`",
            file.display()
        );
    }
}

#[test]
fn stdin_reads_like_a_file() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/cloudtrail-s3-put-bucket-policy-public.json");
    let via_file = tripline().arg("assess").arg(&file).output().unwrap();
    let via_stdin = assess_stdin(&std::fs::read(&file).unwrap());
    assert_eq!(via_stdin.status.code(), Some(0));
    assert_eq!(via_stdin.stdout, via_file.stdout);
}

#[test]
fn ignored_event_exits_zero() {
    let out =
        assess_stdin(br#"{"version":"0","detail-type":"Scheduled Event","source":"aws.events","detail":{}}"#);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["intake"], "ignored");
}

#[test]
fn bad_input_exits_two_with_one_line() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let big = vec![b' '; 10 * 1024 * 1024];
    // (case, stdin, fragment of the error line)
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty input", vec![], "malformed json at line 1 column 0"),
        ("not json", b"PutBucketPolicy".to_vec(), "malformed json"),
        (
            "nested 10,000 deep",
            deep.into_bytes(),
            "recursion limit exceeded",
        ),
        ("10 mb of input", big, "exceeds the limit of 6291456 bytes"),
        (
            "top-level array",
            b"[1, 2]".to_vec(),
            "should be an object, found array",
        ),
        (
            "unknown shape",
            br#"{"hello": "world"}"#.to_vec(),
            "unrecognized payload",
        ),
        (
            "missing detail",
            br#"{"detail-type": "AWS API Call via CloudTrail"}"#.to_vec(),
            "missing field `detail`",
        ),
        (
            "wrong type",
            br#"{"detail-type": "AWS API Call via CloudTrail", "detail": {"eventSource": 1}}"#.to_vec(),
            "field `detail.eventSource`",
        ),
        (
            "broken invokingEvent",
            br#"{"invokingEvent": "{", "resultToken": "t"}"#.to_vec(),
            "field `invokingEvent`",
        ),
    ];
    for (case, input, fragment) in cases {
        let out = assess_stdin(&input);
        assert_bad_input(case, &out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(fragment), "{case}: `{stderr}` lacks `{fragment}`");
    }
}

#[test]
fn missing_file_exits_two() {
    let out = tripline()
        .args(["assess", "/nonexistent/tripline-event.json"])
        .output()
        .unwrap();
    assert_bad_input("missing file", &out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read `/nonexistent/tripline-event.json`"));
}

#[test]
fn help_explains_assess() {
    let out = tripline().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("assess"), "{help}");
    let out = tripline().args(["assess", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("standard input"));
}

/// `--format asff` and `--format ocsf`: one document per finding, ASFF built with the SDK's types (the
/// event's time as `UpdatedAt`: deterministic), OCSF a Detection Finding (schema-validated in
/// shared/core/tests/ocsf.rs).
#[cfg(feature = "aws")]
#[test]
fn asff_and_ocsf_formats() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let event = root.join("events/cloudtrail-s3-put-bucket-policy-public.json");
    let run = |format: &str| -> serde_json::Value {
        let out = tripline()
            .arg("assess")
            .arg(&event)
            .args(["--format", format])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let json = run("json");
    let n = json["findings"].as_array().unwrap().len();
    assert!(n > 0);
    let asff = run("asff");
    let asff = asff.as_array().unwrap();
    assert_eq!(asff.len(), n);
    let first = &json["findings"][0];
    let a = &asff[0];
    assert_eq!(a["SchemaVersion"], "2018-10-08");
    assert_eq!(
        a["GeneratorId"],
        format!("tripline/{}", first["rule"].as_str().unwrap()).as_str()
    );
    assert_eq!(a["AwsAccountId"], first["account"]);
    assert_eq!(a["UpdatedAt"], first["event"]["time"]);
    assert_eq!(a["Resources"][0]["Id"], first["resource"]["arn"]);
    assert_eq!(a["RecordState"], "ACTIVE");
    assert_eq!(a["ProductFields"]["tripline/finding_id"], first["id"]);
    assert_eq!(
        run("asff"),
        serde_json::Value::Array(asff.clone()),
        "deterministic"
    );
    let ocsf = run("ocsf");
    let o = &ocsf[0];
    assert_eq!(
        (o["class_uid"].as_u64(), o["category_uid"].as_u64()),
        (Some(2004), Some(2))
    );
    assert_eq!(o["metadata"]["version"], "1.5.0");
    assert_eq!(o["finding_info"]["uid"], first["id"]);
    assert_eq!(ocsf.as_array().unwrap().len(), n);
}
