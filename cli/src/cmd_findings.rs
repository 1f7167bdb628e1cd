//! `tripline findings`: the findings store (the DynamoDB table the functions keep with
//! `TRIPLINE_FINDINGS_TABLE`) from the command line.
//!
//! - `init --table NAME`: creates the table as the template does (on-demand, `pk`/`sk`, TTL on
//!   `expires_at`; the template also encrypts it with Tripline's KMS key and turns on point-in-time
//!   recovery), for the emulator and quick starts. An existing table is left as it is.
//! - `list --table NAME [--state open|resolved|all] [--account ID] [--rule ID] [--format table|json]`
//! - `show --table NAME FINDING_ID`: one item (the lifecycle id, as printed by `list` and in every notice).
//!
//! Exit codes: 0 done (`show`: found), 1 `show` of an unknown id, 2 error.

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use tripline_aws::sdk::dynamodb::DynamoStore;
use tripline_aws::store::{FindingsStore, ListFilter};
use tripline_core::lifecycle::{LifecycleItem, LifecycleState};

use crate::io::{bad_input, print_json};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Cmd,
    /// Send every AWS request to this endpoint (same effect as `AWS_ENDPOINT_URL`), e.g. a local emulator.
    #[arg(long, value_name = "URL", global = true)]
    pub endpoint_url: Option<String>,
    /// Region (default: the SDK's region chain, then `us-east-1`).
    #[arg(long, global = true)]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    Open,
    Resolved,
    Suppressed,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Create the findings table as the template does (emulator, quick start).
    Init {
        #[arg(long, value_name = "NAME")]
        table: String,
    },
    /// List findings (default: open ones).
    List {
        #[arg(long, value_name = "NAME")]
        table: String,
        #[arg(long, value_enum, default_value_t = StateArg::Open)]
        state: StateArg,
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        #[arg(long, value_name = "ID")]
        rule: Option<String>,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Print one finding's stored lifecycle as JSON.
    Show {
        #[arg(long, value_name = "NAME")]
        table: String,
        #[arg(value_name = "FINDING_ID")]
        id: String,
    },
}

/// The SDK configuration of the CLI's AWS commands: the standard chain, `--endpoint-url`, `--region`
/// (default `us-east-1` when the chain has none).
pub async fn load_sdk(endpoint_url: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = tripline_aws::sdk_config_loader();
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_owned()));
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return sdk
            .into_builder()
            .region(aws_config::Region::from_static("us-east-1"))
            .build();
    }
    sdk
}

fn valid_table(name: &str) -> Result<(), String> {
    // DynamoDB table names: 3-255 characters of a-z, A-Z, 0-9, `_`, `-`, `.`.
    let ok = (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`--table` should be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .), found `{}`",
            tripline_core::text::quote(name)
        ))
    }
}

pub fn run(args: &Args) -> ExitCode {
    let table = match &args.command {
        Cmd::Init { table } | Cmd::List { table, .. } | Cmd::Show { table, .. } => table,
    };
    if let Err(e) = valid_table(table) {
        return bad_input(&e);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return bad_input(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async {
        let sdk = load_sdk(args.endpoint_url.as_deref(), args.region.as_deref()).await;
        let store = DynamoStore::new(&sdk, table);
        match &args.command {
            Cmd::Init { .. } => match store.create_table().await {
                Ok(true) => {
                    println!("created table `{table}` (on-demand, TTL on `expires_at`)");
                    ExitCode::SUCCESS
                }
                Ok(false) => {
                    println!("table `{table}` exists");
                    ExitCode::SUCCESS
                }
                Err(e) => bad_input(&e.to_string()),
            },
            Cmd::List {
                state,
                account,
                rule,
                format,
                ..
            } => {
                let filter = ListFilter {
                    state: match state {
                        StateArg::Open => Some(LifecycleState::Open),
                        StateArg::Resolved => Some(LifecycleState::Resolved),
                        StateArg::Suppressed => Some(LifecycleState::Suppressed),
                        StateArg::All => None,
                    },
                    account: account.clone(),
                    rule: rule.clone(),
                };
                match store.list(&filter).await {
                    Ok(items) => match format {
                        ListFormat::Json => print_json(&items),
                        ListFormat::Table => {
                            print!("{}", table_of(&items));
                            ExitCode::SUCCESS
                        }
                    },
                    Err(e) => bad_input(&e.to_string()),
                }
            }
            Cmd::Show { id, .. } => match store.find_by_id(id).await {
                Ok(Some(item)) => print_json(&item),
                Ok(None) => {
                    eprintln!(
                        "tripline: no finding `{}` in `{table}`",
                        tripline_core::text::quote(id)
                    );
                    ExitCode::from(1)
                }
                Err(e) => bad_input(&e.to_string()),
            },
        }
    })
}

/// The people's view of `list`.
pub fn table_of(items: &[LifecycleItem]) -> String {
    if items.is_empty() {
        return "No findings.\n".to_owned();
    }
    let mut rows: Vec<[String; 7]> = vec![[
        "ID".into(),
        "STATE".into(),
        "SEVERITY".into(),
        "RULE".into(),
        "RESOURCE".into(),
        "FIRST SEEN".into(),
        "LAST SEEN".into(),
    ]];
    for i in items {
        rows.push([
            i.id.clone(),
            i.state.as_str().to_owned(),
            i.severity.as_str().to_owned(),
            i.key.rule.clone(),
            i.key.resource_arn.clone(),
            i.first_seen.clone(),
            i.last_seen.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}", w = *w))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&format!("{} finding(s).\n", items.len()));
    out
}
