"""The physical baseline: a bare ``websockets`` broadcast server, no Django, no channel layer.

``python -m bench.baseline_ws serve PORT`` runs the server: it broadcasts every frame that the
publisher connection (path ``/publish``) sends to every other connection. ``run_baseline`` starts it,
connects the watchers (the same lean clients as the Townhall fan-out), publishes tally-shaped frames
and returns the latency percentiles. Both sides run on uvloop.

    .venv/bin/python -m bench.baseline_ws 1000              # 1,000 watchers, 2 broadcasts/s for 5 s
    .venv/bin/python -m bench.baseline_ws 5000 --duration 10 --rate 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

import uvloop

from bench import clients
from bench.common import (
    HOST,
    ROOT,
    CpuMeter,
    free_port,
    percentile,
    raise_open_files_limit,
    rss_bytes,
)


async def serve(port: int) -> None:
    from websockets.asyncio.server import broadcast
    from websockets.asyncio.server import serve as ws_serve

    watchers: set = set()

    async def handler(ws):
        if ws.request.path == "/publish":
            async for message in ws:
                broadcast(watchers, message)
            return
        watchers.add(ws)
        try:
            await ws.wait_closed()
        finally:
            watchers.discard(ws)

    async with ws_serve(handler, HOST, port, ping_interval=None, compression=None, max_queue=None):
        await asyncio.Future()


def _frame(seq: int) -> str:
    """A frame shaped and sized like Townhall's tally broadcast (``voting.broadcast.tally_event``)."""
    payload = {
        "question": 1,
        "epoch": "baseline",
        "seq": seq,
        "version": seq,
        "open": True,
        "tally": {"seq": seq, "counts": {"yes": seq, "no": 0, "abstain": 0}, "ballots": seq},
    }
    return json.dumps({"type": "tally", "id": None, "payload": payload}, separators=(",", ":"))


async def run_baseline(
    *, watchers: int, duration: float, rate: float, concurrency: int = clients.CONNECT_CONCURRENCY
) -> dict:
    raise_open_files_limit()
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", "bench.baseline_ws", "serve", str(port)], cwd=ROOT
    )
    origin = f"http://{HOST}"
    try:
        url = f"ws://{HOST}:{port}"
        for _ in range(100):
            try:
                probe = await clients.connect(url + "/probe", origin, attempts=1)
                await probe.close()
                break
            except clients.RETRYABLE:
                await asyncio.sleep(0.1)
        rss_before = rss_bytes(process.pid)
        pool, connected = await clients.open_watchers(
            [url + "/watch"], watchers, origin, concurrency=concurrency
        )
        await asyncio.sleep(0.5)
        rss_after = rss_bytes(process.pid)
        publisher = await clients.connect(url + "/publish", origin, record=False)
        sent: dict[int, float] = {}
        cpu = CpuMeter(server_pids=[process.pid])
        started = time.monotonic()
        while time.monotonic() - started < duration:
            seq = len(sent) + 1
            sent[seq] = time.time()
            publisher.send_text(_frame(seq))
            await asyncio.sleep(max(0.0, started + seq / rate - time.monotonic()))
        await asyncio.sleep(2)
        used = cpu.stop()
        latencies = [t - sent[v] for w in pool for t, v, _ in w.received]
        when_read = [read - sent[v] for w in pool for _, v, read in w.received]
        received = sum(len(w.received) for w in pool)
        await publisher.close()
        await clients.close_watchers(pool)
        return {
            "watchers": watchers,
            "broadcasts": len(sent),
            "delivered": received / max(1, len(sent) * watchers),
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
            "read": when_read,
            "bytes_per_watcher": (rss_after - rss_before) / max(1, watchers),
            "connect_seconds": connected.seconds,
            "connect_retries": connected.retries,
            **used,
        }
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "serve":
        raise_open_files_limit()
        uvloop.run(serve(int(argv[1])))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("watchers", nargs="?", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of broadcasting")
    parser.add_argument("--rate", type=float, default=2.0, help="broadcasts per second")
    parser.add_argument(
        "--concurrency", type=int, default=clients.CONNECT_CONCURRENCY, help="handshakes in flight"
    )
    args = parser.parse_args(argv)
    result = uvloop.run(
        run_baseline(
            watchers=args.watchers, duration=args.duration, rate=args.rate, concurrency=args.concurrency
        )
    )
    print(
        f"{result['watchers']:,} watchers, {result['broadcasts']} broadcasts: p50/p95/p99 {ms3(result)}, "
        f"{result['delivered']:.1%} delivered; connected in {result['connect_seconds']:.1f} s "
        f"({result['connect_retries']} retries); "
        f"{result['bytes_per_watcher'] / 1024:.1f} KiB per socket in the server"
    )
    print(f"CPU while broadcasting: {format_cpu(result)}")


def ms3(result: dict) -> str:
    return " / ".join(f"{result[p] * 1000:.0f}" for p in ("p50", "p95", "p99")) + " ms"


def format_cpu(result: dict) -> str:
    return (
        f"load generator {result['client_cpu']:.2f} s, server {result['server_cpu']:.2f} s "
        f"over {result['wall']:.1f} s wall (generator {result['client_cpu'] / result['wall']:.0%} "
        f"of one core; the machine has {result['cores']})"
    )


if __name__ == "__main__":
    main()
