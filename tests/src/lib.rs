//! Integration-test harness: the real AWS SDK against `moto_server`, plus loopback HTTP recorders.
//!
//! - [`emulator`] starts one `moto_server` per test binary (installed by `scripts/emulator-venv.sh` into
//!   `.venv-moto/`), on a free loopback port, with `MOTO_IAM_LOAD_MANAGED_POLICIES=true` (AWS managed
//!   policies such as AdministratorAccess exist), and waits until `GET /moto-api/data.json` answers.
//!   The server runs under a tiny `sh` wrapper that reads its standard input and kills the server at EOF:
//!   the pipe's write end lives in a static of the test process, so however the process ends (normal exit,
//!   panic, abort, SIGKILL) the kernel closes it and no emulator is left behind.
//! - Tests run in parallel and isolate themselves with a separate emulator account each
//!   ([`new_account`]): [`Emulator::sdk_config`] adds moto's `x-moto-account-id` header to every request.
//! - SDK retries are off, so a failure shows up at once.
//! - If the emulator cannot start the tests fail — never skip (in CI or not).
//! - [`Recorder`] is a loopback HTTP/1.1 server that records requests and answers from a script (Slack
//!   webhooks, AWS Config's `PutEvaluations`, which the emulator does not implement).
//!
//! Production code paths are used unchanged: the handlers get an `AwsClients` built by
//! `AwsClients::new(&SdkConfig)` exactly as in the functions (where `AWS_ENDPOINT_URL` would set the same
//! `endpoint_url`).

// A test harness: failing loudly is its job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod proxy;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tripline_aws::AwsClients;

/// The pinned emulator version (also in `scripts/emulator-venv.sh`).
pub const MOTO_VERSION: &str = "5.2.5";
pub const REGION: &str = "us-east-1";

/// A running `moto_server`.
#[derive(Debug)]
pub struct Emulator {
    /// `http://127.0.0.1:<port>`
    pub endpoint: String,
    pub log: PathBuf,
    /// The wrapper process and the write end of its stdin; never dropped (see the module docs).
    _guard: Mutex<(Child, ChildStdin)>,
}

static EMULATOR: OnceLock<Result<Emulator, String>> = OnceLock::new();

/// The emulator of this test binary, started on first use. Panics (fails the test) if it cannot start.
pub fn emulator() -> &'static Emulator {
    match EMULATOR.get_or_init(start_emulator) {
        Ok(e) => e,
        Err(msg) => panic!(
            "the AWS emulator (moto_server {MOTO_VERSION}) could not start: {msg}{}",
            if std::env::var_os("CI").is_some() {
                " (CI is set: failing, not skipping)"
            } else {
                ""
            }
        ),
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("binding a free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn http_get_ok(port: u16, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
    else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

fn start_emulator() -> Result<Emulator, String> {
    let root = workspace_root();
    let script = root.join("scripts/emulator-venv.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!("{} failed with {}", script.display(), out.status));
    }
    let server = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if server.is_empty() {
        return Err(format!("{} printed no moto_server path", script.display()));
    }
    let log_dir = root.join("target/moto-logs");
    std::fs::create_dir_all(&log_dir).map_err(|e| e.to_string())?;
    let mut last_err = String::new();
    for _ in 0..3 {
        let port = free_port()?;
        let log = log_dir.join(format!("moto-{}-{port}.log", std::process::id()));
        // The wrapper kills the server when its stdin reaches EOF, i.e. when this process is gone.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" -H 127.0.0.1 -p "$1" >"$2" 2>&1 & pid=$!; cat >/dev/null; kill "$pid" 2>/dev/null; wait "$pid""#)
            .arg(&server)
            .arg(port.to_string())
            .arg(&log)
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            // One bundled Amazon image instead of moto's ~1,300 per region (whose snapshots moto lists as
            // the account's own, so every sweep would read them): tests/moto-amis.json, one record of moto's
            // own ec2/resources/amis.json (Apache-2.0).
            .env("MOTO_AMIS_PATH", root.join("tests/moto-amis.json"))
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "true")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {server}: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin pipe")?;
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if http_get_ok(port, "/moto-api/data.json") {
                return Ok(Emulator {
                    endpoint: format!("http://127.0.0.1:{port}"),
                    log,
                    _guard: Mutex::new((child, stdin)),
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                last_err = format!("moto_server exited with {status}; log: {}", tail(&log));
                break;
            }
            if Instant::now() > deadline {
                drop(stdin);
                let _ = child.wait();
                last_err = format!("moto_server did not answer within 90 s; log: {}", tail(&log));
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Err(last_err)
}

fn tail(path: &PathBuf) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A fresh 12-digit emulator account for one test (isolation between parallel tests).
pub fn new_account() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:012}",
        200_000_000_000u64 + u64::from(std::process::id() % 10_000) * 10_000 + n
    )
}

/// Adds `x-moto-account-id` to every request of the wrapped client (when an account is given) and answers
/// `DescribeRegions` as an account with [`ENABLED_REGIONS`] enabled.
#[derive(Debug, Clone)]
struct AccountHeaderClient {
    inner: SharedHttpClient,
    /// `None`: no header (the account of the credentials), the regions answer only.
    account: Option<String>,
}

#[derive(Debug)]
struct AccountHeaderConnector {
    inner: SharedHttpConnector,
    account: Option<String>,
}

impl HttpClient for AccountHeaderClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(AccountHeaderConnector {
            inner: self.inner.http_connector(settings, components),
            account: self.account.clone(),
        })
    }
}

/// The regions an emulator account has enabled (EC2 `DescribeRegions`, see [`enabled_regions_response`]).
pub const ENABLED_REGIONS: &[&str] = &["us-east-1", "eu-west-1", "us-west-2"];

/// moto answers `DescribeRegions` with every region of every partition (about 40), where a real account
/// lists the regions it has enabled in its own partition. The whole-account sweep reads every enabled
/// region, so against moto each test's sweep would read ~30 regions; the harness answers as an account with
/// [`ENABLED_REGIONS`] enabled, plus one region of another partition (`cn-north-1`), which the sweep must
/// leave out (ARCHITECTURE.md, emulator table).
fn enabled_regions_response() -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    let items: String = ENABLED_REGIONS
        .iter()
        .chain(["cn-north-1"].iter())
        .map(|r| {
            format!(
                "<item><regionName>{r}</regionName><regionEndpoint>ec2.{r}.amazonaws.com</regionEndpoint>\
                 <optInStatus>opt-in-not-required</optInStatus></item>"
            )
        })
        .collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeRegionsResponse \
         xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>tripline-tests</requestId>\
         <regionInfo>{items}</regionInfo></DescribeRegionsResponse>"
    );
    let mut response = aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(200u16).unwrap(),
        aws_sdk_s3::primitives::SdkBody::from(body),
    );
    response.headers_mut().insert("content-type", "text/xml");
    response
}

impl HttpConnector for AccountHeaderConnector {
    fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
        let describe_regions = request
            .body()
            .bytes()
            .is_some_and(|b| b.windows(22).any(|w| w == b"Action=DescribeRegions"));
        if describe_regions {
            return HttpConnectorFuture::ready(Ok(enabled_regions_response()));
        }
        if let Some(account) = &self.account {
            request.headers_mut().insert("x-moto-account-id", account.clone());
        }
        self.inner.call(request)
    }
}

/// The SDK configuration a test uses: fixed test credentials, [`REGION`], the given endpoint, retries
/// off, a 30 s operation timeout, and (when `account` is set) the moto account header.
pub async fn sdk_config_for(endpoint: &str, account: Option<&str>) -> SdkConfig {
    sdk_config_with(
        endpoint,
        account,
        RetryConfig::disabled(),
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_timeout(Duration::from_secs(30))
            .build(),
    )
    .await
}

/// [`sdk_config_for`] with the given retries and timeouts (the fault-injection tests use production's
/// retry rules with shorter timeouts: `tripline_aws::clients::CallBudget`).
pub async fn sdk_config_with(
    endpoint: &str,
    account: Option<&str>,
    retry: RetryConfig,
    timeouts: TimeoutConfig,
) -> SdkConfig {
    let base = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https();
    let client = SharedHttpClient::new(AccountHeaderClient {
        inner: base,
        account: account.map(str::to_owned),
    });

    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "tripline-tests",
        )))
        .endpoint_url(endpoint)
        .retry_config(retry)
        .timeout_config(timeouts)
        .http_client(client)
        .load()
        .await
}

impl Emulator {
    /// SDK configuration for one emulator account.
    pub async fn sdk_config(&self, account: &str) -> SdkConfig {
        sdk_config_for(&self.endpoint, Some(account)).await
    }

    /// Production clients (`AwsClients::new`) for one emulator account.
    pub async fn clients(&self, account: &str) -> AwsClients {
        AwsClients::new(&self.sdk_config(account).await)
    }
}

/// One request a [`Recorder`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Lower-cased header names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A scripted answer: status, extra headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn new(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}

/// A loopback HTTP/1.1 server that records every request and answers with the scripted replies in order
/// (the last one repeats). Runs on the current tokio runtime until the runtime ends.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
    pub async fn start(replies: Vec<Reply>) -> Recorder {
        Self::start_answering(Answers::Scripted(Arc::new(replies))).await
    }

    /// A recorder whose answer is computed from each request (e.g. by `X-Amz-Target` and the region in the
    /// signature): a fake service behind the real SDK.
    pub async fn routed(answer: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Recorder {
        Self::start_answering(Answers::Routed(Arc::new(answer))).await
    }

    async fn start_answering(replies: Answers) -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let replies = Arc::new(replies);
        let reqs = requests.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let reqs = reqs.clone();
                let replies = replies.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, reqs, replies).await;
                });
            }
        });
        Recorder { url, requests }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

/// How a [`Recorder`] answers: scripted replies in order, or computed per request.
#[derive(Clone)]
enum Answers {
    Scripted(Arc<Vec<Reply>>),
    Routed(Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>),
}

async fn serve(
    mut sock: tokio::net::TcpStream,
    reqs: Arc<Mutex<Vec<Recorded>>>,
    replies: Arc<Answers>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 8192];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let method = first.next().unwrap_or_default().to_owned();
        let path = first.next().unwrap_or_default().to_owned();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let body_start = head_end + 4;
        while buf.len() < body_start + len {
            let mut chunk = [0u8; 8192];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = buf[body_start..body_start + len].to_vec();
        buf.drain(..body_start + len);
        let recorded = Recorded {
            method,
            path,
            headers,
            body,
        };
        let index = {
            let mut r = reqs.lock().unwrap();
            r.push(recorded.clone());
            r.len() - 1
        };
        let reply = match replies.as_ref() {
            Answers::Scripted(replies) => replies
                .get(index)
                .or(replies.last())
                .cloned()
                .unwrap_or(Reply::new(200, "")),
            Answers::Routed(answer) => answer(&recorded),
        };
        let mut out = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
            reply.status,
            reply.body.len()
        );
        for (k, v) in &reply.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&reply.body);
        sock.write_all(out.as_bytes()).await?;
    }
}

/// Reads an `events/` sample as JSON.
pub fn sample(name: &str) -> serde_json::Value {
    let path = workspace_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Replaces every occurrence of each `(from, to)` string in a JSON document (values and keys).
pub fn rewrite(doc: &serde_json::Value, pairs: &[(&str, &str)]) -> serde_json::Value {
    let mut text = doc.to_string();
    for (from, to) in pairs {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap()
}

/// A new alert topic (`alerts-<unique>`) in the client's account; its ARN.
pub async fn alert_topic(sns: &aws_sdk_sns::Client) -> String {
    sns.create_topic()
        .name(unique("alerts"))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap()
}

/// A name unique within this test binary run: `<prefix>-<pid>-<n>` (lowercase, S3-safe).
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// An alert topic with an SQS subscriber (raw delivery off: the queue receives SNS's JSON envelope with
/// the message attributes, as a real subscriber does).
pub struct Topic {
    pub arn: String,
    pub queue_url: String,
    pub sqs: aws_sdk_sqs::Client,
}

pub async fn topic_with_queue(account: &str) -> Topic {
    let sdk = emulator().sdk_config(account).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let name = unique("tripline-alerts");
    let arn = sns
        .create_topic()
        .name(&name)
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn = attrs.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    sns.subscribe()
        .topic_arn(&arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    Topic { arn, queue_url, sqs }
}

impl Topic {
    /// Every SNS envelope delivered so far (removed from the queue).
    pub async fn drain(&self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        loop {
            let resp = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let msgs = resp.messages.unwrap_or_default();
            if msgs.is_empty() {
                return out;
            }
            for m in msgs {
                out.push(serde_json::from_str(m.body().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}
