//! The input contract every command shares (issue 15): at most 6 MiB (Lambda's invocation payload limit)
//! from a file, standard input or `--state`, never truncated; every error is one line on stderr that quotes
//! at most 200 characters of any value, with control characters escaped.
//!
//! Data-driven over the commands that read input (`policy public|acl|diff|escalation`, `assess`,
//! `assess --state`) and, for command-line values, over every command. Works whatever features the binary
//! was built with (no `scan`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

/// 6 MiB: `tripline_core::MAX_PAYLOAD_BYTES`, the limit the CLI shares with intake.
const LIMIT: usize = 6 * 1024 * 1024;

/// Where a command's document comes from.
#[derive(Clone, Copy, Debug)]
enum Via {
    File,
    Stdin,
}

/// One way to hand a document to a command: the arguments, with `DOC` standing for the document's path
/// (`-` when it comes on standard input).
struct Case {
    name: &'static str,
    args: Vec<String>,
    via: Via,
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("tripline-input-contract-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, bytes: &[u8]) -> String {
    let p = dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_string_lossy().into_owned()
}

fn sample(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(file)
        .to_string_lossy()
        .into_owned()
}

/// Runs the binary; standard input is written from a thread, and a broken pipe is fine (the command may
/// stop reading at the limit).
fn run(args: &[String], stdin: Option<Vec<u8>>, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tripline"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        if let Some(bytes) = stdin {
            let _ = pipe.write_all(&bytes);
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// `doc` followed by spaces up to exactly `size` bytes (JSON allows trailing whitespace).
fn padded(doc: &Value, size: usize) -> Vec<u8> {
    let mut bytes = doc.to_string().into_bytes();
    assert!(bytes.len() <= size);
    bytes.resize(size, b' ');
    bytes
}

fn policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})
}

/// Every input path, with a valid document for it.
fn cases() -> Vec<(Case, Value)> {
    let small = write("small-policy.json", policy().to_string().as_bytes());
    let event_path = sample("cloudtrail-s3-put-bucket-policy-public.json");
    let event: Value = serde_json::from_slice(&std::fs::read(&event_path).unwrap()).unwrap();
    let acl = json!({"Owner": {"ID": "abc"}, "Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]});
    let state = json!({"bucket": {"public_access_block": {"BlockPublicAcls": true}}});
    let s = |v: &[&str]| v.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let mut out = Vec::new();
    for via in [Via::File, Via::Stdin] {
        out.push((
            Case {
                name: "policy public",
                args: s(&["policy", "public", "DOC"]),
                via,
            },
            policy(),
        ));
        out.push((
            Case {
                name: "policy acl",
                args: s(&["policy", "acl", "DOC"]),
                via,
            },
            acl.clone(),
        ));
        out.push((
            Case {
                name: "policy escalation",
                args: s(&["policy", "escalation", "DOC"]),
                via,
            },
            policy(),
        ));
        out.push((
            Case {
                name: "policy diff (old)",
                args: s(&["policy", "diff", "DOC", &small]),
                via,
            },
            policy(),
        ));
        out.push((
            Case {
                name: "policy diff (new)",
                args: s(&["policy", "diff", &small, "DOC"]),
                via,
            },
            policy(),
        ));
        out.push((
            Case {
                name: "assess",
                args: s(&["assess", "DOC"]),
                via,
            },
            event.clone(),
        ));
    }
    // `--state` is a file only (the event may come on standard input).
    out.push((
        Case {
            name: "assess --state",
            args: s(&["assess", &event_path, "--state", "DOC"]),
            via: Via::File,
        },
        state,
    ));
    out
}

fn file_name(case: &Case, tag: &str) -> String {
    format!("{}-{tag}.json", case.name.replace([' ', '(', ')', '-'], "_"))
}

/// Runs `case` with `bytes` as its document.
fn run_case(case: &Case, tag: &str, bytes: Vec<u8>) -> Output {
    let (target, stdin) = match case.via {
        Via::File => (write(&file_name(case, tag), &bytes), None),
        Via::Stdin => ("-".to_owned(), Some(bytes)),
    };
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| if a == "DOC" { target.clone() } else { a.clone() })
        .collect();
    let out = run(&args, stdin, &[]);
    if matches!(case.via, Via::File) {
        // Up to 6 MiB each: do not leave them behind.
        let _ = std::fs::remove_file(&target);
    }
    out
}

/// Exit 2, nothing on stdout, exactly one line on stderr of fewer than `max_bytes` bytes, no raw control
/// character in it.
fn assert_one_line_error(what: &str, out: &Output, max_bytes: usize) -> String {
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: exit code; stderr: {stderr:.300}"
    );
    assert!(out.stdout.is_empty(), "{what}: stdout should be empty");
    assert!(stderr.starts_with("tripline: error: "), "{what}: {stderr:.300}");
    assert!(stderr.ends_with('\n'), "{what}: {stderr:.300}");
    let line = &stderr[..stderr.len() - 1];
    assert!(
        !line
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'),
        "{what}: raw control character in {line:?}"
    );
    assert!(
        stderr.len() < max_bytes,
        "{what}: {} bytes: {stderr:.300}",
        stderr.len()
    );
    stderr
}

#[test]
fn exactly_6_mib_is_read_and_judged() {
    for (case, doc) in cases() {
        let what = format!("{} via {:?}, {LIMIT} bytes", case.name, case.via);
        let out = run_case(&case, "limit", padded(&doc, LIMIT));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{what}: {stderr:.300}");
        let json: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: stdout is not json: {e}"));
        assert!(json.is_object(), "{what}: {json}");
    }
}

#[test]
fn one_byte_over_6_mib_is_refused_on_one_line() {
    for (case, doc) in cases() {
        let what = format!("{} via {:?}, {} bytes", case.name, case.via, LIMIT + 1);
        let out = run_case(&case, "over", padded(&doc, LIMIT + 1));
        let stderr = assert_one_line_error(&what, &out, 512);
        assert!(
            stderr.contains("exceeds the limit of 6291456 bytes"),
            "{what}: {stderr}"
        );
        // The error names the input.
        let named = match case.via {
            Via::Stdin => "standard input".to_owned(),
            Via::File => format!("{}`", file_name(&case, "over")),
        };
        assert!(
            stderr.contains(&named),
            "{what}: `{stderr}` does not name `{named}`"
        );
    }
}

#[test]
fn far_larger_input_is_refused_without_reading_it_all() {
    // 65 MiB on standard input: refused after 6 MiB + 1 byte (this used to be truncated at 64 MiB and parsed).
    let args: Vec<String> = ["policy", "public", "-"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let out = run(&args, Some(padded(&policy(), 65 * 1024 * 1024)), &[]);
    let stderr = assert_one_line_error("65 MiB on stdin", &out, 512);
    assert!(
        stderr.contains("standard input exceeds the limit of 6291456 bytes"),
        "{stderr}"
    );
}

/// Documents (or arguments, or environment variables) that put `value` where the error quotes it.
enum Carrier {
    Doc(Case, fn(&str) -> Value),
    Arg(Vec<String>),
    Env(&'static str, Vec<String>),
}

fn carriers(value: &str) -> Vec<(&'static str, Carrier)> {
    let small = write("good-policy.json", policy().to_string().as_bytes());
    let event = sample("cloudtrail-s3-put-bucket-policy-public.json");
    let s = |v: &[&str]| v.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let bad_effect: fn(&str) -> Value =
        |v| json!({"Statement": [{"Effect": v, "Action": "*", "Resource": "*"}]});
    let mut out: Vec<(&'static str, Carrier)> = Vec::new();
    for via in [Via::File, Via::Stdin] {
        out.push((
            "policy public: Effect",
            Carrier::Doc(
                Case {
                    name: "public",
                    args: s(&["policy", "public", "DOC"]),
                    via,
                },
                bad_effect,
            ),
        ));
        out.push((
            "policy public: unknown field",
            Carrier::Doc(
                Case {
                    name: "public-key",
                    args: s(&["policy", "public", "DOC"]),
                    via,
                },
                |v| {
                    let mut doc = policy();
                    doc[v] = json!(1);
                    doc
                },
            ),
        ));
        out.push((
            "policy escalation: Effect",
            Carrier::Doc(
                Case {
                    name: "escalation",
                    args: s(&["policy", "escalation", "DOC"]),
                    via,
                },
                bad_effect,
            ),
        ));
        out.push((
            "policy diff: Effect of OLD",
            Carrier::Doc(
                Case {
                    name: "diff-old",
                    args: s(&["policy", "diff", "DOC", &small]),
                    via,
                },
                bad_effect,
            ),
        ));
        out.push((
            "policy diff: Condition of NEW",
            Carrier::Doc(Case { name: "diff-new", args: s(&["policy", "diff", &small, "DOC"]), via }, |v| {
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {v: "x"}}]})
            }),
        ));
        out.push((
            "policy acl: grant header",
            Carrier::Doc(
                Case {
                    name: "acl",
                    args: s(&["policy", "acl", "DOC"]),
                    via,
                },
                |v| json!({"x-amz-grant-read": v}),
            ),
        ));
        out.push((
            "assess: top-level key",
            Carrier::Doc(
                Case {
                    name: "assess-key",
                    args: s(&["assess", "DOC"]),
                    via,
                },
                |v| json!({v: 1}),
            ),
        ));
        out.push((
            "assess: s3BucketLocation",
            Carrier::Doc(Case { name: "assess-location", args: s(&["assess", "DOC"]), via }, |v| {
                json!({"messageType": "OversizedConfigurationItemChangeNotification", "s3DeliverySummary": {"s3BucketLocation": v}})
            }),
        ));
    }
    out.push((
        "assess --state: a boolean",
        Carrier::Doc(
            Case {
                name: "state",
                args: s(&["assess", &event, "--state", "DOC"]),
                via: Via::File,
            },
            |v| json!({"bucket": {"public_access_block": {"BlockPublicAcls": v}}}),
        ),
    ));
    // Command-line values and environment variables: at most 128 KiB each (Linux's MAX_ARG_STRLEN).
    let arg: String = value.chars().take(100_000).collect();
    out.push((
        "assess: environment",
        Carrier::Env("TRIPLINE_REMEDIATION_MODE", s(&["assess", &event])),
    ));
    out.push((
        "policy public: path",
        Carrier::Arg(vec![
            "policy".into(),
            "public".into(),
            format!("/nonexistent/{arg}"),
        ]),
    ));
    out.push((
        "assess: path",
        Carrier::Arg(vec!["assess".into(), format!("/nonexistent/{arg}")]),
    ));
    out.push((
        "policy public --kind",
        Carrier::Arg(vec![
            "policy".into(),
            "public".into(),
            "--kind".into(),
            arg.clone(),
        ]),
    ));
    out.push((
        "policy acl: extra argument",
        Carrier::Arg(vec!["policy".into(), "acl".into(), "-".into(), arg.clone()]),
    ));
    out.push((
        "policy diff: extra argument",
        Carrier::Arg(vec![
            "policy".into(),
            "diff".into(),
            small.clone(),
            small.clone(),
            arg.clone(),
        ]),
    ));
    out.push((
        "policy escalation: flag",
        Carrier::Arg(vec!["policy".into(), "escalation".into(), format!("--{arg}")]),
    ));
    out.push((
        "assess --format",
        Carrier::Arg(vec![
            "assess".into(),
            event.clone(),
            "--format".into(),
            arg.clone(),
        ]),
    ));
    out.push(("rules: argument", Carrier::Arg(vec!["rules".into(), arg.clone()])));
    out.push((
        "patterns: flag",
        Carrier::Arg(vec!["patterns".into(), format!("--{arg}")]),
    ));
    out.push(("unknown command", Carrier::Arg(vec![arg])));
    out
}

fn check_value(value: &str, escaped: &str, max_bytes: usize) {
    for (what, carrier) in carriers(value) {
        let out = match carrier {
            Carrier::Doc(case, doc) => run_case(&case, "value", doc(value).to_string().into_bytes()),
            Carrier::Arg(args) => run(&args, None, &[]),
            Carrier::Env(var, args) => {
                let v: String = value.chars().take(100_000).collect();
                run(&args, None, &[(var, &v)])
            }
        };
        let stderr = assert_one_line_error(what, &out, max_bytes);
        assert!(stderr.contains(escaped), "{what}: `{stderr}` lacks `{escaped}`");
        assert!(
            !stderr.contains(&"A".repeat(201)),
            "{what}: more than 200 characters quoted: {stderr}"
        );
    }
}

#[test]
fn a_1_mb_value_gives_a_bounded_line() {
    let value = format!("evil\nline two\u{1b}[31m\t{}", "A".repeat(1_000_000));
    check_value(&value, "evil\\nline two\\u{1b}[31m\\t", 1024);
    // Cut on a character boundary, and marked as cut.
    let value = format!("é{}", "日".repeat(300_000));
    for (what, carrier) in carriers(&value) {
        let Carrier::Doc(case, doc) = carrier else {
            continue;
        };
        let out = run_case(&case, "multibyte", doc(&value).to_string().into_bytes());
        let stderr = assert_one_line_error(what, &out, 2048);
        assert!(
            stderr.contains("é日日") && stderr.contains('…'),
            "{what}: {stderr}"
        );
        assert!(!stderr.contains(&"日".repeat(201)), "{what}: {stderr}");
    }
}

#[test]
fn control_characters_are_escaped() {
    check_value(
        "a\nb\r\nc\td\u{1b}[2Je\u{7}f\u{85}g\u{2028}h",
        "a\\nb\\r\\nc\\td\\u{1b}[2Je\\u{7}f\\u{85}g\\u{2028}h",
        1024,
    );
}

#[test]
fn diff_reads_standard_input_once() {
    let args: Vec<String> = ["policy", "diff", "-", "-"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let out = run(&args, Some(policy().to_string().into_bytes()), &[]);
    let stderr = assert_one_line_error("diff - -", &out, 512);
    assert!(stderr.contains("standard input"), "{stderr}");
}
