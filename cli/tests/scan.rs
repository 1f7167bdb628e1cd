//! `tripline scan` errors: exit 2 with one line on stderr naming the problem, never a panic. The sweep itself
//! (exit 0 on a clean account, 1 with findings) runs against the emulator in the demo test
//! (demo/tests/demo.rs) and in bench/sweep.py.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

/// Arguments, extra environment, exit code, what stderr must contain.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], i32, &'a str);

#[test]
fn scan_errors_exit_2_with_one_line() {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    let dead = "http://127.0.0.1:1";
    let cases: &[Case] = &[
        (
            &["--endpoint-url", dead],
            &[],
            2,
            "cannot identify the account (sts:GetCallerIdentity)",
        ),
        (
            &["--endpoint-url", dead, "--account", "1234"],
            &[],
            2,
            "`--account` should be a 12-digit account id, found `1234`",
        ),
        (
            &["--endpoint-url", dead, "--account", "123456789012"],
            &[],
            2,
            "cannot list the account",
        ),
        (
            &["--endpoint-url", dead],
            &[("TRIPLINE_SWEEP_CONCURRENCY", "0")],
            2,
            "TRIPLINE_SWEEP_CONCURRENCY",
        ),
        (
            &["--endpoint-url", dead],
            &[("TRIPLINE_TRUSTED_ACCOUNT_IDS", "nope")],
            2,
            "TRIPLINE_TRUSTED_ACCOUNT_IDS",
        ),
        (&["--format", "xml"], &[], 2, "invalid value 'xml'"),
        (&["--concurrency", "0"], &[], 2, "--concurrency"),
    ];
    for (args, env, code, want) in cases {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripline"));
        cmd.arg("scan").args(*args);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("TRIPLINE_")) {
            cmd.env_remove(k);
        }
        cmd.envs([
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_MAX_ATTEMPTS", "1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ]);
        cmd.envs(env.iter().copied());
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?} {env:?}: {stderr}");
        assert!(
            stderr.contains(want),
            "{args:?} {env:?}: stderr {stderr:?} lacks {want:?}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: no output on error");
    }
}
