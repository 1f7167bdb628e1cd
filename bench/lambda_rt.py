"""A fake Lambda Runtime API on loopback, to start real function binaries the way Lambda does.

Measures, per process: time from process start (just before fork/exec) to the first
`GET /2018-06-01/runtime/invocation/next` (the cold-start proxy), peak RSS (VmHWM from /proc), and, when
events are queued, the time from handing an event out to the `POST .../response` (or `.../error`).

Protocol reference: AWS Lambda Developer Guide, "Using the Lambda runtime API for custom runtimes"
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): next-invocation headers
Lambda-Runtime-Aws-Request-Id, Lambda-Runtime-Deadline-Ms, Lambda-Runtime-Invoked-Function-Arn,
Lambda-Runtime-Trace-Id; the function answers with POST /runtime/invocation/{id}/response or /error,
or POST /runtime/init/error when initialisation fails.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import proc_cpu_ns, proc_cpu_seconds, proc_status_kb

PREFIX = "/2018-06-01/runtime"


@dataclass
class Invocation:
    request_id: str
    sent_at: float
    done_at: float | None = None
    sent_wall: float = 0.0  # the same instants on the wall clock (time.time), to match log timestamps
    done_wall: float | None = None
    status: str | None = None  # response | error
    body: bytes = b""

    @property
    def ms(self) -> float | None:
        return None if self.done_at is None else (self.done_at - self.sent_at) * 1000


@dataclass
class RuntimeState:
    events: list[bytes] = field(default_factory=list)
    polls: list[float] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)
    init_error: bytes | None = None
    cond: threading.Condition = field(default_factory=threading.Condition)
    closing: bool = False


class FakeRuntime:
    def __init__(self, function_name: str = "bench"):
        self.state = RuntimeState()
        self.function_name = function_name
        state = self.state
        fn_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body go out in two segments: +40 ms (delayed ACK)

            def log_message(self, *args):  # quiet
                pass

            def _reply(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                now = time.perf_counter()
                if self.path != f"{PREFIX}/invocation/next":
                    return self._reply(404)
                with state.cond:
                    state.polls.append(now)
                    state.cond.notify_all()
                    while not state.events and not state.closing:
                        state.cond.wait()
                    if state.closing:
                        return self._reply(410)
                    event = state.events.pop(0)
                    inv = Invocation(str(uuid.uuid4()), 0.0)
                    state.invocations.append(inv)
                deadline = int(time.time() * 1000) + 900_000
                headers = {
                    "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn": fn_arn,
                    "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                }
                inv.sent_at, inv.sent_wall = time.perf_counter(), time.time()
                self._reply(200, event, headers)

            def do_POST(self):
                now, now_wall = time.perf_counter(), time.time()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = self.path[len(PREFIX):].strip("/").split("/")
                with state.cond:
                    if parts[:2] == ["init", "error"]:
                        state.init_error = body
                    elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                        for inv in state.invocations:
                            if inv.request_id == parts[1]:
                                inv.done_at, inv.status, inv.body = now, parts[2], body
                                inv.done_wall = now_wall
                    state.cond.notify_all()
                self._reply(202, b'{"status":"OK"}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_: None  # a client killed mid-request is expected here
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        with self.state.cond:
            self.state.closing = True
            self.state.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()


def lambda_env(function_name: str, runtime_api: str, memory_mb: int = 128) -> dict[str, str]:
    """The variables the Lambda execution environment sets and lambda_runtime reads."""
    return {
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "LAMBDA_TASK_ROOT": "/var/task",
    }


@dataclass
class RunResult:
    first_poll_ms: float | None
    vmhwm_kb: int | None
    invocations: list[dict]
    init_error: str | None
    exit_code: int | None
    stderr_tail: str
    cpu_s: float | None = None
    cpu_ms_at_end: float | None = None  # precise CPU time (schedstat) when the run was stopped
    log: str = ""  # the whole stdout + stderr when run_function(keep_log=True)


def run_function(binary: Path, env: dict[str, str], events: list[bytes] | None = None,
                 timeout: float = 60.0, name: str = "bench", keep_log: bool = False) -> RunResult:
    """Starts `binary` under a fresh fake runtime, serves `events` one per poll, then stops it."""
    rt = FakeRuntime(name)
    events = list(events or [])
    rt.state.events.extend(events)
    full_env = dict(env)
    full_env.update(lambda_env(name, rt.address))
    stderr_path = Path(f"/tmp/tripline-bench-{uuid.uuid4().hex}.stderr")
    errf = stderr_path.open("wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(binary)], env=full_env, stdout=errf, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    hwm = None
    cpu = None
    cpu_ns = None
    try:
        with rt.state.cond:
            # Wait for the poll that follows the last event (or the first poll when there are none),
            # or an init error, or the process dying.
            want = len(events) + 1
            while (len(rt.state.polls) < want and rt.state.init_error is None and proc.poll() is None
                   and time.monotonic() < deadline):
                rt.state.cond.wait(timeout=0.05)
        hwm = proc_status_kb(proc.pid, "VmHWM")
        cpu_ns = proc_cpu_ns(proc.pid)
        try:
            cpu = proc_cpu_seconds(proc.pid)
        except OSError:
            cpu = None
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        rt.close()
        errf.close()
    first = (rt.state.polls[0] - t0) * 1000 if rt.state.polls else None
    invs = [{"ms": i.ms, "status": i.status, "body": i.body.decode("utf-8", "replace")[:2000],
             "sent_at": i.sent_at, "done_at": i.done_at, "sent_wall": i.sent_wall, "done_wall": i.done_wall}
            for i in rt.state.invocations]
    full = stderr_path.read_text(errors="replace")
    tail = full[-4000:]
    stderr_path.unlink(missing_ok=True)
    return RunResult(first, hwm, invs, rt.state.init_error.decode("utf-8", "replace") if rt.state.init_error
                     else None, proc.returncode, tail, cpu, cpu_ns / 1e6 if cpu_ns is not None else None,
                     full if keep_log else "")


if __name__ == "__main__":
    import sys

    from common import clean_env

    r = run_function(Path(sys.argv[1]), clean_env(), [json.dumps({"x": 1}).encode()] * int(sys.argv[2] if len(sys.argv) > 2 else 0))
    print(json.dumps(r.__dict__, indent=2, default=str))
