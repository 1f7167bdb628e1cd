//! `tripline assess FILE|- [--state STATE.json] [--format json|text|slack|sns]`.
//!
//! Without `--format`: the intake outcome as JSON; for a change, with the rule evaluation's `findings` and
//! `errors` added to the same object. `--format json`: the evaluation `{findings, errors}`; `text`: the email
//! text of each finding; `slack`: a JSON array of Block Kit payloads; `sns`: a JSON array of SNS messages.
//! `--state`: the current state (`tripline_core::State` JSON) the Lambda shell would fetch; without it findings
//! are judged from the payload and marked "state not confirmed". The rule configuration comes from the same
//! `TRIPLINE_*` environment variables as the functions. Exit 0 whatever the verdict, 2 on bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::io;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The event file, or `-` for standard input.
    pub file: PathBuf,
    /// Current state as JSON (`tripline_core::State`: bucket policy/ACL/Block Public Access, account Block
    /// Public Access, previous policy version, tags); without it findings are marked "state not confirmed".
    #[arg(long, value_name = "STATE.json")]
    pub state: Option<PathBuf>,
    /// Output format: `json` (findings and errors), `text` (email text), `slack` (Block Kit), `sns` (publish
    /// requests), `asff` (Security Hub findings), `ocsf` (OCSF 1.5.0 Detection Findings). Default: the
    /// intake outcome with `findings` and `errors` added.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// Output formats of `assess`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Text,
    Slack,
    Sns,
    /// AWS Security Finding Format (built with the AWS SDK's Security Hub types): a JSON array.
    #[cfg(feature = "aws")]
    Asff,
    /// OCSF 1.5.0 Detection Findings (class_uid 2004): a JSON array.
    Ocsf,
}

fn read_state(path: &std::path::Path) -> Result<tripline_core::State, String> {
    let bytes = io::read_input(path)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "invalid state file {}: {}",
            io::input_name(path),
            tripline_core::text::quote(&e.to_string())
        )
    })
}

fn render(
    outcome: &tripline_core::Intake,
    state: Option<&tripline_core::State>,
    format: Option<Format>,
    config: &tripline_core::settings::RuleConfig,
) -> ExitCode {
    use tripline_core::render::{email, slack, sns};
    let evaluation = match outcome {
        tripline_core::Intake::Change(change) => tripline_core::rules::evaluate(change, state, config),
        _ => tripline_core::rules::Evaluation::default(),
    };
    match format {
        None => {
            let mut value = match serde_json::to_value(outcome) {
                Ok(v) => v,
                Err(e) => return io::bad_input(&format!("cannot render output: {e}")),
            };
            if let (serde_json::Value::Object(map), tripline_core::Intake::Change(_)) = (&mut value, outcome)
            {
                map.insert("findings".into(), serde_json::json!(evaluation.findings));
                map.insert("errors".into(), serde_json::json!(evaluation.errors));
            }
            io::print_json(&value)
        }
        Some(Format::Json) => io::print_json(&evaluation),
        Some(Format::Slack) => {
            io::print_json(&evaluation.findings.iter().map(slack::blocks).collect::<Vec<_>>())
        }
        #[cfg(feature = "aws")]
        Some(Format::Asff) => io::print_json(
            &evaluation
                .findings
                .iter()
                // The event's time stands for "now": the output is deterministic (no clock read).
                .map(|f| tripline_aws::asff::to_json(&tripline_aws::asff::finding(f, None, &f.event.time)))
                .collect::<Vec<_>>(),
        ),
        Some(Format::Ocsf) => io::print_json(
            &evaluation
                .findings
                .iter()
                .map(|f| tripline_core::render::ocsf::detection_finding(f, None))
                .collect::<Vec<_>>(),
        ),
        Some(Format::Sns) => {
            io::print_json(&evaluation.findings.iter().map(sns::message).collect::<Vec<_>>())
        }
        Some(Format::Text) => {
            if let tripline_core::Intake::Ignored { reason } = outcome {
                println!("ignored: {reason}");
            } else if evaluation.findings.is_empty() {
                println!("no findings");
            }
            for (i, f) in evaluation.findings.iter().enumerate() {
                if i > 0 {
                    println!("{}", "-".repeat(78));
                }
                print!("{}", email::text(f));
            }
            for e in &evaluation.errors {
                println!("rule `{}` failed: {}", e.rule, e.message);
            }
            ExitCode::SUCCESS
        }
    }
}

pub fn run(args: &Args) -> ExitCode {
    let bytes = match io::read_input(&args.file) {
        Ok(b) => b,
        Err(e) => return io::bad_input(&e),
    };
    let state = match args.state.as_deref().map(read_state).transpose() {
        Ok(s) => s,
        Err(e) => return io::bad_input(&e),
    };
    // The same `TRIPLINE_*` variables as the functions (trusted accounts, allow-list, name prefix...).
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    let config = match tripline_core::rules::config_from_env(&env) {
        Ok(c) => c,
        Err(e) => return io::bad_input(&e.to_string()),
    };
    match tripline_core::intake(&bytes) {
        Ok(outcome) => render(&outcome, state.as_ref(), args.format, &config),
        Err(e) => io::bad_input(&e.to_string()),
    }
}
