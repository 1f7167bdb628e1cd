"""A counting reverse proxy in front of the emulator: every AWS call a function makes goes through it
(AWS_ENDPOINT_URL points here), and it records service, operation, start and end of each call.

The operation name is derived the way the protocols define it: `X-Amz-Target` (JSON protocols),
`Action=` in the query string or form body (query protocol: IAM, SNS, STS), and for S3's REST-XML
protocol the method plus the sub-resource key of the query string (`?policy`, `?acl`, ...).
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
       "content-length"}

S3_SUBRESOURCES = {
    "policy": "BucketPolicy", "acl": "BucketAcl", "publicAccessBlock": "PublicAccessBlock",
    "tagging": "BucketTagging", "policyStatus": "BucketPolicyStatus", "location": "BucketLocation",
    "ownershipControls": "BucketOwnershipControls", "versioning": "BucketVersioning",
    "website": "BucketWebsite", "logging": "BucketLogging", "encryption": "BucketEncryption",
    "lifecycle": "BucketLifecycleConfiguration", "replication": "BucketReplication",
    "notification": "BucketNotificationConfiguration", "cors": "BucketCors",
}
VERB = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "POST": "Post", "HEAD": "Head"}


@dataclass
class Call:
    service: str
    operation: str
    start: float
    end: float
    status: int

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


def operation_of(method: str, path: str, headers, body: bytes) -> tuple[str, str]:
    auth = headers.get("Authorization", "")
    service = "?"
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            service = scope[3]
    target = headers.get("X-Amz-Target")
    if target:
        return service, target.rsplit(".", 1)[-1]
    parsed = urllib.parse.urlsplit(path)
    query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
    if "Action" in query:
        return service, query["Action"][0]
    ctype = headers.get("Content-Type", "")
    if body and "x-www-form-urlencoded" in ctype:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return service, form["Action"][0]
    if service == "s3control" or parsed.path.startswith("/v20180820/"):
        # S3 Control signs as `s3` too; its REST paths live under /v20180820/.
        service = "s3control"
        last = parsed.path.rstrip("/").rsplit("/", 1)[-1]
        name = {"publicAccessBlock": "PublicAccessBlock"}.get(last, last)
        return service, VERB.get(method, method) + name
    if service == "s3":
        segments = [s for s in parsed.path.split("/") if s]
        verb = VERB.get(method, method)
        for key in query:
            if key in S3_SUBRESOURCES:
                return service, verb + S3_SUBRESOURCES[key]
        if not segments:
            return service, "ListBuckets" if method == "GET" else verb + "Service"
        if len(segments) == 1:
            return service, {"GET": "ListObjects", "PUT": "CreateBucket", "HEAD": "HeadBucket"}.get(
                method, verb + "Bucket")
        return service, verb + "Object"
    return service, f"{method} {parsed.path}"


class CountingProxy:
    def __init__(self, upstream: str):
        u = urllib.parse.urlsplit(upstream)
        self.upstream_host, self.upstream_port = u.hostname, u.port
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body go out in two segments: +40 ms (delayed ACK)

            def log_message(self, *args):
                pass

            def _forward(self):
                start = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if not hasattr(self, "_up"):
                    self._up = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP and k.lower() != "host"}
                # Clients sign for the proxy's host; the emulator does not check signatures, but it does
                # route on Host (e.g. S3 virtual-host style), so it must see its own address.
                headers["Host"] = f"{proxy.upstream_host}:{proxy.upstream_port}"
                headers["Content-Length"] = str(len(body))
                try:
                    self._up.request(self.command, self.path, body=body, headers=headers)
                    resp = self._up.getresponse()
                    data = resp.read()
                except (OSError, http.client.HTTPException):
                    self._up.close()
                    self._up = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
                    self._up.request(self.command, self.path, body=body, headers=headers)
                    resp = self._up.getresponse()
                    data = resp.read()
                self.send_response_only(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP:
                        self.send_header(k, v)
                if self.command == "HEAD":
                    self.send_header("Content-Length", resp.getheader("Content-Length") or "0")
                    self.end_headers()
                else:
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                self.wfile.flush()
                end = time.perf_counter()
                service, op = operation_of(self.command, self.path, self.headers, body)
                with proxy.lock:
                    proxy.calls.append(Call(service, op, start, end, resp.status))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_: None  # a client killed mid-request is expected here
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def between(self, t0: float, t1: float) -> list[Call]:
        with self.lock:
            # By start time: the proxy stamps `end` after flushing, which can race the handler's own
            # response to the runtime API by a few microseconds.
            return [c for c in self.calls if t0 <= c.start <= t1]

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
