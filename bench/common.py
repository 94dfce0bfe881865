"""Shared pieces of the load generators: workers, limits, memory, percentiles, tables.

Everything binds to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def raise_open_files_limit(wanted: int = 65536) -> int:
    """Raise this process's open-files limit (children inherit it): to ``wanted`` where allowed (root
    may raise the hard limit too), else to the hard limit. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        # Not privileged: the hard limit is as far as we go.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU used by this process (the load generator) and by the server processes, from now to ``stop``:
    on a 2-core machine a generator near one core is competing with the server it measures."""

    def __init__(self, server_pids: list[int] | tuple[int, ...] = ()) -> None:
        self.server_pids = list(server_pids)
        self.wall = time.monotonic()
        self.client = own_cpu_seconds()
        self.server = sum(process_cpu_seconds(pid) for pid in self.server_pids)

    def stop(self) -> dict[str, float]:
        return {
            "client_cpu": own_cpu_seconds() - self.client,
            "server_cpu": sum(process_cpu_seconds(pid) for pid in self.server_pids) - self.server,
            "wall": time.monotonic() - self.wall,
            "cores": os.cpu_count() or 1,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def bench_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of the workers: production settings on loopback, PostgreSQL and Redis."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": HOST,
        # The load generator talks to each worker's own port with one Origin for all of them, where
        # browsers would reach every worker through one load balancer (one origin).
        "CSRF_TRUSTED_ORIGINS": f"http://{HOST}",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DATABASE_CONN_MAX_AGE": "600",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "ERROR"),
        "CHANNEL_LAYER": os.environ.get("CHANNEL_LAYER", "pubsub"),
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class Worker:
    port: int
    process: subprocess.Popen
    log: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_workers(count: int, env: dict[str, str], server: str = "daphne") -> list[Worker]:
    """Start ``count`` ASGI workers, each on its own port (a load balancer would sit in front).

    ``server`` is ``daphne`` (Townhall's default) or ``uvicorn`` (on uvloop, with websockets' Sans-I/O
    protocol): the same application, two servers docs/deployment.md allows.
    """
    workers = []
    for _ in range(count):
        port = free_port()
        log = tempfile.NamedTemporaryFile(prefix=f"bench-{server}-", suffix=".log", delete=False)  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            [sys.executable, "-c", _SERVERS[server], *_server_args(server, port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        workers.append(Worker(port=port, process=process, log=log.name))
    for worker in workers:
        wait_healthy(worker)
    return workers


ASGI_APP = "config.asgi:application"
SERVERS = ("daphne", "uvicorn")

# Each server with the open-files limit raised first (10,000 watchers need 10,000 sockets).
_RAISE_LIMIT = (
    "import resource, sys; s, h = resource.getrlimit(resource.RLIMIT_NOFILE); "
    "resource.setrlimit(resource.RLIMIT_NOFILE, (h, h)); "
)
_SERVERS = {
    "daphne": _RAISE_LIMIT
    + "from daphne.cli import CommandLineInterface as Cli; sys.argv[0] = 'daphne'; Cli.entrypoint()",
    "uvicorn": _RAISE_LIMIT + "from uvicorn.main import main; sys.argv[0] = 'uvicorn'; main()",
}


def _server_args(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [
            "--host", HOST, "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--ws", "websockets-sansio", "--ws-per-message-deflate", "false", "--no-access-log",
            "--backlog", "4096", "--log-level", "warning",
            ASGI_APP,
        ]  # fmt: skip
    # daphne's listen backlog through a Twisted endpoint (its -p option keeps the default of 50).
    return ["-e", f"tcp:port={port}:interface={HOST}:backlog=4096", ASGI_APP]


def wait_healthy(worker: Worker, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{worker.url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        if worker.process.poll() is not None or time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"daphne did not start:\n{Path(worker.log).read_text()[-3000:]}")
        time.sleep(0.2)


def print_table(rows: list[tuple[str, str]], title: str) -> None:
    width = max(len(name) for name, _ in rows)
    print()
    print(title)
    print("-" * (width + 24))
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    print("-" * (width + 24))
