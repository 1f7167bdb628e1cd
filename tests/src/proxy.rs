//! A fault-injecting HTTP/1.1 proxy in front of the emulator (or a [`crate::Recorder`]).
//!
//! The SDK talks to the proxy as to an endpoint override (`http://127.0.0.1:<port>`); the proxy forwards
//! each request on a fresh HTTP/1.0 connection to the upstream and answers the client on its keep-alive
//! connection. While enabled it replaces a configurable share (5-30%) of calls with a fault:
//!
//! | fault | what the client sees | reached the upstream |
//! |---|---|---|
//! | [`Fault::Throttle`] | the protocol's throttling answer: JSON 1.1 `ThrottlingException` (400), query `Throttling` (400, XML), EC2 `RequestLimitExceeded` (503, XML), S3 / S3 Control `SlowDown` (503, XML) | no |
//! | [`Fault::ServerError`] | 500 `InternalFailure` / `InternalError` in the protocol's format | no |
//! | [`Fault::Reset`] | half of the upstream's response, then the socket closes | yes |
//! | [`Fault::Delay`] | the upstream's response, after `delay` (past the client's attempt timeout) | yes |
//!
//! Decisions are deterministic by seed: the n-th call of an operation (`op`: the `X-Amz-Target`, the query
//! protocol's `Action`, or S3's method and sub-resource) gets the same decision in every run, whatever the
//! bucket names and the interleaving of concurrent calls. Every request is recorded (operation, path,
//! fault, whether it reached the upstream) so tests count the writes that landed.
//!
//! Bounded: at most [`MAX_CONNECTIONS`] connections and [`MAX_REQUESTS_PER_CONNECTION`] requests each, a
//! 30 s idle timeout per connection, request bodies up to 8 MiB; the accept loop stops on [`FaultProxy::stop`],
//! after [`MAX_LIFETIME`], or when the test's runtime ends.

// A test harness: failing loudly is its job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const MAX_CONNECTIONS: u64 = 10_000;
pub const MAX_REQUESTS_PER_CONNECTION: usize = 10_000;
pub const MAX_LIFETIME: Duration = Duration::from_secs(600);
const MAX_BODY: usize = 8 << 20;
const IDLE: Duration = Duration::from_secs(30);

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    Throttle,
    ServerError,
    Reset,
    Delay,
}

impl Fault {
    pub const ALL: [Fault; 4] = [Fault::Throttle, Fault::ServerError, Fault::Reset, Fault::Delay];
}

/// What to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultPlan {
    pub seed: u64,
    /// Share of calls that get a fault, in percent (the tests use 5-30).
    pub percent: u64,
    pub kinds: Vec<Fault>,
    /// How long [`Fault::Delay`] holds the response.
    pub delay: Duration,
}

/// One request the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRecord {
    pub op: String,
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub fault: Option<Fault>,
    /// Whether the request reached the upstream (it may have been applied there).
    pub forwarded: bool,
}

#[derive(Debug)]
struct Shared {
    upstream: String,
    plan: FaultPlan,
    enabled: AtomicBool,
    stopped: AtomicBool,
    records: Mutex<Vec<ProxyRecord>>,
    occurrences: Mutex<HashMap<String, u64>>,
}

/// A running proxy; see the module docs.
#[derive(Debug, Clone)]
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://host:port`) on a free loopback port, faults enabled.
    pub async fn start(upstream: &str, plan: FaultPlan) -> FaultProxy {
        assert!(plan.percent <= 100 && !plan.kinds.is_empty(), "{plan:?}");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let shared = Arc::new(Shared {
            upstream,
            plan,
            enabled: AtomicBool::new(true),
            stopped: AtomicBool::new(false),
            records: Mutex::new(Vec::new()),
            occurrences: Mutex::new(HashMap::new()),
        });
        let s = shared.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let connections = AtomicU64::new(0);
            while !s.stopped.load(Ordering::Relaxed)
                && started.elapsed() < MAX_LIFETIME
                && connections.fetch_add(1, Ordering::Relaxed) < MAX_CONNECTIONS
            {
                let Ok(Ok((sock, _))) =
                    tokio::time::timeout(Duration::from_millis(200), listener.accept()).await
                else {
                    connections.fetch_sub(1, Ordering::Relaxed);
                    continue;
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, s).await;
                });
            }
        });
        FaultProxy { url, shared }
    }

    /// Turns fault injection on or off (forwarding goes on).
    pub fn set_faults(&self, on: bool) {
        self.shared.enabled.store(on, Ordering::SeqCst);
    }

    /// Stops accepting connections.
    pub fn stop(&self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
    }

    pub fn records(&self) -> Vec<ProxyRecord> {
        self.shared.records.lock().unwrap().clone()
    }

    /// Faults injected so far, by kind (every kind listed, zero included).
    pub fn injected(&self) -> BTreeMap<Fault, usize> {
        let mut out: BTreeMap<Fault, usize> = Fault::ALL.iter().map(|f| (*f, 0)).collect();
        for r in self.records() {
            if let Some(f) = r.fault {
                *out.entry(f).or_default() += 1;
            }
        }
        out
    }
}

/// SplitMix64: a small, well-mixed deterministic hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The decision for the `n`-th call of `op`.
pub fn decide(plan: &FaultPlan, op: &str, n: u64) -> Option<Fault> {
    let h = mix(plan.seed ^ mix(hash_str(op) ^ mix(n)));
    (h % 100 < plan.percent).then(|| plan.kinds[((h >> 32) % plan.kinds.len() as u64) as usize])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Json,
    Query,
    /// EC2's query dialect (`Version=2016-11-15`): errors are `<Response><Errors><Error>`.
    Ec2,
    RestXml,
}

struct Request {
    method: String,
    target: String,
    /// (lower-cased name, value)
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn protocol(&self) -> Protocol {
        if self.header("x-amz-target").is_some() {
            Protocol::Json
        } else if self.query_action().is_some() {
            if String::from_utf8_lossy(&self.body).contains("Version=2016-11-15") {
                Protocol::Ec2
            } else {
                Protocol::Query
            }
        } else {
            Protocol::RestXml
        }
    }

    fn query_action(&self) -> Option<String> {
        if !self
            .header("content-type")
            .is_some_and(|c| c.contains("x-www-form-urlencoded"))
        {
            return None;
        }
        String::from_utf8_lossy(&self.body)
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned))
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The operation, without resource names (see the module docs).
    fn op(&self) -> String {
        if let Some(t) = self.header("x-amz-target") {
            return t.to_owned();
        }
        if let Some(a) = self.query_action() {
            return a;
        }
        let mut keys: Vec<&str> = self
            .target
            .split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .map(|kv| kv.split('=').next().unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default();
        keys.retain(|k| !k.is_empty() && *k != "x-id");
        keys.sort_unstable();
        let control = if self.path().starts_with("/v20180820/") {
            " s3control"
        } else {
            ""
        };
        let depth = self
            .path()
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .count();
        format!("{}{control} depth{depth} ?{}", self.method, keys.join("&"))
    }
}

async fn read_more(sock: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut chunk = [0u8; 16384];
    let n = tokio::time::timeout(IDLE, sock.read(&mut chunk))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

fn find(buf: &[u8], pat: &[u8]) -> Option<usize> {
    buf.windows(pat.len()).position(|w| w == pat)
}

/// Reads one request; `None` at a clean end of the connection.
async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 << 10 || read_more(sock, buf).await? == 0 {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let start = head_end + 4;
    buf.drain(..start);
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        // Kept encoded (forwarded with its header); read up to the last chunk.
        loop {
            if let Some(i) = find(buf, b"0\r\n\r\n") {
                break buf.drain(..i + 5).collect();
            }
            if buf.len() > MAX_BODY || read_more(sock, buf).await? == 0 {
                return Ok(None);
            }
        }
    } else {
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        if len > MAX_BODY {
            return Ok(None);
        }
        while buf.len() < len {
            if read_more(sock, buf).await? == 0 {
                return Ok(None);
            }
        }
        buf.drain(..len).collect()
    };
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

/// Sends the request to the upstream over HTTP/1.0 and returns the response re-framed for a keep-alive
/// HTTP/1.1 client (`Content-Length`, no `Connection`).
async fn forward(upstream: &str, req: &Request) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    let mut out = format!("{} {} HTTP/1.0\r\n", req.method, req.target).into_bytes();
    for (k, v) in &req.headers {
        if k == "connection" || k == "keep-alive" {
            continue;
        }
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(&req.body);
    up.write_all(&out).await?;
    let mut resp = Vec::new();
    loop {
        let mut chunk = [0u8; 16384];
        let n = tokio::time::timeout(IDLE, up.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "upstream idle"))??;
        if n == 0 {
            break;
        }
        resp.extend_from_slice(&chunk[..n]);
        if resp.len() > 64 << 20 || complete(&resp, req.method == "HEAD") {
            break;
        }
    }
    let Some(head_end) = find(&resp, b"\r\n\r\n") else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "no response head",
        ));
    };
    let head = String::from_utf8_lossy(&resp[..head_end]).into_owned();
    let mut body = resp[head_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line.split_once(' ').map_or("502 Bad Gateway", |(_, s)| s);
    let mut headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let lower = |k: &str| k.to_ascii_lowercase();
    let chunked = headers
        .iter()
        .any(|(k, v)| lower(k) == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    let is_head = req.method == "HEAD";
    headers.retain(|(k, _)| {
        let k = lower(k);
        k != "connection"
            && k != "keep-alive"
            && k != "transfer-encoding"
            && (is_head || k != "content-length")
    });
    let mut out = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for (k, v) in &headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !is_head {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
    } else {
        out.extend_from_slice(b"\r\n");
    }
    Ok(out)
}

/// Whether `resp` holds a whole response framed by `Content-Length` (an upstream that keeps the
/// connection open despite `Connection: close`, like the test recorder, is not waited on).
fn complete(resp: &[u8], head_only: bool) -> bool {
    let Some(head_end) = find(resp, b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&resp[..head_end]).to_ascii_lowercase();
    let len = head
        .split("\r\n")
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match len {
        _ if head_only => true,
        Some(len) => resp.len() >= head_end + 4 + len,
        None => false,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = find(b, b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..i])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 || b.len() < i + 2 + size {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + size]);
        b = &b[(i + 2 + size + 2).min(b.len())..];
    }
    out
}

/// The protocol's own answer for an injected throttle or server error.
fn fault_response(req: &Request, fault: Fault, n: u64) -> Vec<u8> {
    let id = format!("tripline-fault-{n}");
    let (status, content_type, body) = match (req.protocol(), fault) {
        (Protocol::Json, Fault::Throttle) => (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned(),
        ),
        (Protocol::Json, _) => (
            "500 Internal Server Error",
            "application/x-amz-json-1.1",
            r#"{"__type":"InternalFailure","message":"injected server error"}"#.to_owned(),
        ),
        (Protocol::Query, Fault::Throttle) => (
            "400 Bad Request",
            "text/xml",
            format!("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{id}</RequestId></ErrorResponse>"),
        ),
        (Protocol::Query, _) => (
            "500 Internal Server Error",
            "text/xml",
            format!("<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>injected server error</Message></Error><RequestId>{id}</RequestId></ErrorResponse>"),
        ),
        // EC2 API Reference, "Error codes": `RequestLimitExceeded` (503) when requests are throttled,
        // `InternalError` (500); the body is `<Response><Errors><Error>...</Errors><RequestID>`.
        (Protocol::Ec2, Fault::Throttle) => (
            "503 Service Unavailable",
            "text/xml;charset=UTF-8",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>{id}</RequestID></Response>"),
        ),
        (Protocol::Ec2, _) => (
            "500 Internal Server Error",
            "text/xml;charset=UTF-8",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InternalError</Code><Message>An internal error has occurred.</Message></Error></Errors><RequestID>{id}</RequestID></Response>"),
        ),
        (Protocol::RestXml, Fault::Throttle) => (
            "503 Slow Down",
            "application/xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>{id}</RequestId></Error>"),
        ),
        (Protocol::RestXml, _) => (
            "500 Internal Server Error",
            "application/xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>{id}</RequestId></Error>"),
        ),
    };
    let body = if req.method == "HEAD" { String::new() } else { body };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nx-amzn-RequestId: {id}\r\nx-amz-request-id: {id}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve(mut sock: TcpStream, s: Arc<Shared>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        let Some(req) = read_request(&mut sock, &mut buf).await? else {
            return Ok(());
        };
        let op = req.op();
        let n = {
            let mut occ = s.occurrences.lock().unwrap();
            let c = occ.entry(op.clone()).or_default();
            *c += 1;
            *c
        };
        let fault = if s.enabled.load(Ordering::SeqCst) {
            decide(&s.plan, &op, n)
        } else {
            None
        };
        let forwarded = !matches!(fault, Some(Fault::Throttle | Fault::ServerError));
        s.records.lock().unwrap().push(ProxyRecord {
            op,
            method: req.method.clone(),
            path: req.path().to_owned(),
            fault,
            forwarded,
        });
        match fault {
            Some(f @ (Fault::Throttle | Fault::ServerError)) => {
                sock.write_all(&fault_response(&req, f, n)).await?;
            }
            Some(Fault::Reset) => {
                let resp = forward(&s.upstream, &req).await?;
                sock.write_all(&resp[..resp.len() / 2]).await?;
                sock.flush().await?;
                // Dropping the socket closes the connection mid-response.
                return Ok(());
            }
            Some(Fault::Delay) => {
                let resp = forward(&s.upstream, &req).await?;
                tokio::time::sleep(s.plan.delay).await;
                sock.write_all(&resp).await?;
            }
            None => {
                let resp = forward(&s.upstream, &req).await?;
                sock.write_all(&resp).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_deterministic_and_near_the_rate() {
        let plan = FaultPlan {
            seed: 15,
            percent: 20,
            kinds: Fault::ALL.to_vec(),
            delay: Duration::from_millis(1),
        };
        let a: Vec<_> = (0..1000).map(|n| decide(&plan, "GetBucketPolicy", n)).collect();
        let b: Vec<_> = (0..1000).map(|n| decide(&plan, "GetBucketPolicy", n)).collect();
        assert_eq!(a, b);
        let hits = a.iter().filter(|d| d.is_some()).count();
        assert!((150..=250).contains(&hits), "{hits}");
        for k in Fault::ALL {
            assert!(a.contains(&Some(k)), "{k:?}");
        }
        let other = FaultPlan { seed: 16, ..plan };
        let c: Vec<_> = (0..1000).map(|n| decide(&other, "GetBucketPolicy", n)).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn dechunks() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }
}
