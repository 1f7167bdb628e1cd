"""Shared helpers for the Tripline benchmarks: the emulator, timing, the machine description.

Runs under `.venv-bench/bin/python` (boto3 comes with c7n). Only the standard library plus boto3.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = Path(os.environ.get("TRIPLINE_BENCH_OUT", ROOT / "target" / "bench"))
MOTO_VENV = Path(os.environ.get("TRIPLINE_MOTO_VENV", ROOT / ".venv-moto"))
BENCH_VENV = Path(os.environ.get("TRIPLINE_BENCH_VENV", ROOT / ".venv-bench"))
REGION = "us-east-1"

# Fake credentials: the emulator accepts anything. Never real ones.
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    # No shared config/credentials files: the bench must not pick up anything from the machine.
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment minus anything AWS_*, plus fake credentials and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("TRIPLINE_")}
    env.update(FAKE_ENV)
    if extra:
        env.update(extra)
    return env


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_cpu_ns(pid: int) -> int | None:
    """CPU time of all live threads in nanoseconds (/proc/<pid>/task/*/schedstat, first field): precise,
    and unlike wall time barely affected by other load on the machine."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


def proc_status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Moto:
    """A moto_server on a free loopback port (the pinned emulator from scripts/emulator-venv.sh)."""

    def __init__(self, account_id: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = clean_env({
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
            # One bundled Amazon image, not moto's ~1,300 (whose snapshots it lists as the account's own).
            "MOTO_AMIS_PATH": str(ROOT / "tests" / "moto-amis.json"),
        })
        if account_id:
            env["MOTO_ACCOUNT_ID"] = account_id
        # moto_server with the wire-format correction of scripts/moto_server.py (scripts/emulator-venv.sh).
        exe = MOTO_VENV / "bin" / "tripline-moto-server"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=2):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.1)

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=30).read()

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "Moto":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class Timed:
    """One measured run of an external command."""

    wall_s: float
    cpu_s: float
    max_rss_kb: int
    exit_code: int
    stdout: str
    stderr: str
    emulator_cpu_s: float | None = None


def run_timed(argv: list[str], env: dict[str, str], moto: Moto | None = None, cwd: Path | None = None,
              timeout: float = 900) -> Timed:
    """Runs argv under GNU time (-f '%e %U %S %M'): wall, user+sys CPU, peak RSS (the largest process)."""
    tfile = tempfile.NamedTemporaryFile(delete=False)
    tfile.close()
    cpu0 = moto.cpu_seconds() if moto else None
    p = subprocess.run(
        ["/usr/bin/time", "-f", "%e %U %S %M", "-o", tfile.name, *argv],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )
    emu = (moto.cpu_seconds() - cpu0) if moto and cpu0 is not None else None
    raw = Path(tfile.name).read_text().strip().splitlines()
    os.unlink(tfile.name)
    # GNU time prints "Command exited with non-zero status N" first when the command fails.
    wall, user, sys_, rss = raw[-1].split()
    return Timed(float(wall), float(user) + float(sys_), int(rss), p.returncode, p.stdout, p.stderr, emu)


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass

    def cmd(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
        except OSError:
            return "unknown"

    return {
        "nproc": cmd("nproc"),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "rustc": cmd("rustc", "-V"),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def which(name: str) -> str | None:
    return shutil.which(name)

