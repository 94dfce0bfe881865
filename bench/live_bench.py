"""Load generator for live voting: votes per second through the websocket path, fan-out latency to
thousands of watchers, memory per watcher, and the bare websockets baseline.

Runs real daphne workers (production settings) on 127.0.0.1 against PostgreSQL and the Redis channel
layer, as deployed (docs/deployment.md), with lean websocket clients (``bench/clients.py``: websockets'
Sans-I/O protocol on uvloop) in this process. Prints numbers, including the CPU the load generator
itself used while measuring; it is never run as a test.

    .venv/bin/python -m bench.live_bench              # the full run (about 10 minutes)
    .venv/bin/python -m bench.live_bench --quick      # a smaller, shorter run (about 2 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import psycopg
import uvloop

from bench import clients
from bench.baseline_ws import format_cpu, run_baseline
from bench.common import (
    HOST,
    ROOT,
    SERVERS,
    CpuMeter,
    bench_env,
    percentile,
    print_table,
    raise_open_files_limit,
    rss_bytes,
    start_workers,
)

CHOICES = ("yes", "no", "abstain")


# Setup ------------------------------------------------------------------------------------------
def prepare_database(database_url: str, env: dict[str, str], *, voters: int, questions: int) -> dict:
    """A fresh bench database, migrated and seeded. Returns the seed (cookies, question ids)."""
    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.seed", "--voters", str(voters), "--questions", str(questions)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def flush_redis(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


# Votes ------------------------------------------------------------------------------------------
@dataclass
class VoteStats:
    acks: int = 0
    errors: Counter = field(default_factory=Counter)
    last_choice: dict[tuple[int, int], str] = field(default_factory=dict)  # (user, question) -> choice
    ack_latencies: list[float] = field(default_factory=list)
    ack_seqs: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # question -> seqs


async def vote_load(
    workers, seed: dict, *, voters: int, duration: float, per_socket_rate: float
) -> tuple[VoteStats, float]:
    """``voters`` sockets, each voting (and changing its vote) as fast as acks and the per-socket
    limit allow, for ``duration`` seconds."""
    stats = VoteStats()
    questions = seed["vote_questions"]
    origin = f"http://{HOST}"
    stop = asyncio.Event()
    gate = asyncio.Semaphore(200)

    async def voter(index: int) -> None:
        question = questions[index % len(questions)]
        worker = workers[index % len(workers)]
        user = seed["user_ids"][index]
        async with gate:
            ws = await clients.connect(
                f"{worker.ws}/ws/questions/{question}/",
                origin,
                f"sessionid={seed['cookies'][index]}",
                record=False,  # a voter sees tallies too; it skips them cheaply
            )
        connected.append(index)
        if len(connected) == voters:
            all_connected.set()
        await ready.wait()
        rng = random.Random(index)
        interval = 1.0 / per_socket_rate
        n = 0
        try:
            while not stop.is_set():
                started = time.monotonic()
                n += 1
                choice = rng.choice(CHOICES)
                message = await ws.request({"type": "vote", "id": n, "payload": {"data": {"choice": choice}}})
                if message["type"] == "ack":
                    stats.acks += 1
                    stats.last_choice[(user, question)] = choice
                    stats.ack_latencies.append(time.monotonic() - started)
                    stats.ack_seqs[question].append(message["payload"]["seq"])
                else:
                    stats.errors[message["code"]] += 1
                wait = interval - (time.monotonic() - started)
                if wait > 0:
                    await asyncio.sleep(wait)
        finally:
            await ws.close()

    ready, all_connected, connected = asyncio.Event(), asyncio.Event(), []
    tasks = [asyncio.create_task(voter(i)) for i in range(voters)]
    # Every voter connected before the clock starts (a voter that fails to connect ends the run).
    waiter = asyncio.create_task(all_connected.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        for task in tasks:
            task.cancel()
        raise RuntimeError(f"A voter could not connect: {next(iter(done)).exception()!r}")
    started = time.monotonic()
    ready.set()
    await asyncio.sleep(duration)
    stop.set()
    await asyncio.gather(*tasks)
    return stats, time.monotonic() - started


def check_exactly_once(database_url: str, seed: dict, stats: VoteStats, seq_before: dict[int, int]) -> dict:
    """Ballots = tally = acknowledged votes: every acknowledged vote is exactly one ballot write
    (``tally_seq`` moves by one per write), and the counts equal the last acknowledged choices.

    Each ack carries its own write's ``seq`` (even when ballots are written in batches), so the acks'
    seqs of a question must be distinct (no two acks share a write) and lie in the range the run moved
    ``tally_seq`` through; with as many writes as acks, acks and writes then match one to one."""
    questions = seed["vote_questions"]
    with psycopg.connect(database_url) as conn:
        seq_after = dict(
            conn.execute(
                "SELECT id, tally_seq FROM voting_question WHERE id = ANY(%s)", (questions,)
            ).fetchall()
        )
        ballots = dict(
            conn.execute(
                "SELECT question_id, count(*) FROM voting_ballot"
                " WHERE question_id = ANY(%s) GROUP BY question_id",
                (questions,),
            ).fetchall()
        )
        counts = defaultdict(dict)
        for question_id, key, count in conn.execute(
            "SELECT question_id, key, count FROM voting_tallycount WHERE question_id = ANY(%s)", (questions,)
        ).fetchall():
            counts[question_id][key] = count
    writes = sum(seq_after[q] - seq_before[q] for q in questions)
    shared_seqs = sum(len(stats.ack_seqs[q]) - len(set(stats.ack_seqs[q])) for q in questions)
    outside = sum(
        1 for q in questions for seq in stats.ack_seqs[q] if not seq_before[q] < seq <= seq_after[q]
    )
    expected = defaultdict(Counter)
    for (_user, question), choice in stats.last_choice.items():
        expected[question][choice] += 1
    tally_ok = all(
        {c: counts[q].get(c, 0) for c in CHOICES} == {c: expected[q].get(c, 0) for c in CHOICES}
        and counts[q].get("_ballots", 0) == ballots.get(q, 0) == sum(expected[q].values())
        for q in questions
    )
    return {
        "acks": stats.acks,
        "writes": writes,
        "ballots": sum(ballots.values()),
        "voters_acked": len(stats.last_choice),
        "tally_total": sum(counts[q].get("_ballots", 0) for q in questions),
        "shared_seqs": shared_seqs,
        "seqs_outside": outside,
        "ok": writes == stats.acks and tally_ok and shared_seqs == 0 and outside == 0,
    }


def tally_seqs(database_url: str, questions: list[int]) -> dict[int, int]:
    with psycopg.connect(database_url) as conn:
        return dict(
            conn.execute(
                "SELECT id, tally_seq FROM voting_question WHERE id = ANY(%s)", (questions,)
            ).fetchall()
        )


# Fan-out ----------------------------------------------------------------------------------------
@dataclass
class _Vote:
    sent: float  # the vote left the generator
    committed: float  # its ballot's transaction committed (the ack's ``recorded_at``, server clock)
    acked: float  # the kernel took in the ack
    seq: int  # the question's tally_seq once it was written


async def fanout(
    workers,
    seed: dict,
    *,
    watchers: int,
    duration: float,
    rate: float,
    concurrency: int = clients.CONNECT_CONCURRENCY,
    sample: int = 1000,
) -> dict:
    """``watchers`` sockets on one question while ``rate`` votes a second flow; latency from each
    ballot's commit (its ack's ``recorded_at``) to each watcher's kernel receiving a tally that includes
    it, and from the vote being sent."""
    question = seed["fanout_question"]
    origin = f"http://{HOST}"
    urls = [f"{w.ws}/ws/questions/{question}/" for w in workers]
    rss_before = sum(rss_bytes(w.process.pid) for w in workers)
    pool, connected = await clients.open_watchers(urls, watchers, origin, concurrency=concurrency)
    await asyncio.sleep(2)
    rss_after = sum(rss_bytes(w.process.pid) for w in workers)
    for w in pool:
        w.received.clear()

    voter_count = 10
    sockets = [
        await clients.connect(
            urls[i % len(urls)], origin, f"sessionid={seed['cookies'][-1 - i]}", record=False
        )
        for i in range(voter_count)
    ]
    votes: list[_Vote] = []
    cpu = CpuMeter(server_pids=[w.process.pid for w in workers])
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < duration:
        ws = sockets[n % voter_count]
        n += 1
        t0 = time.time()
        message = await ws.request(
            {"type": "vote", "id": n, "payload": {"data": {"choice": CHOICES[(n // voter_count) % 2]}}}
        )
        if message["type"] == "ack":
            receipt = message["payload"]
            recorded = datetime.datetime.fromisoformat(receipt["recorded_at"]).timestamp()
            votes.append(_Vote(t0, recorded, ws.reply_arrival, receipt["seq"]))
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
    await asyncio.sleep(2)
    used = cpu.stop()
    frames_seen = sum(len(w.received) for w in pool)
    for ws in sockets:
        await ws.close()

    if os.environ.get("BENCH_DEBUG"):
        print("votes", votes[:5], votes[-3:])
        print("frames", [(round(t, 3), v) for t, v, _ in pool[0].received][:12])
    latencies: list[float] = []  # from the ballot's commit to the kernel taking in a tally with it
    from_send: list[float] = []  # from the vote being sent
    when_read: list[float] = []  # from the commit to the generator reading the tally
    delivered = 0
    sample_pool = pool if len(pool) <= sample else random.Random(1).sample(pool, sample)
    last_version = max(vote.seq for vote in votes) if votes else 0
    for watcher in pool:
        if any(v >= last_version for _, v, _ in watcher.received):
            delivered += 1
    for watcher in sample_pool:
        frames = sorted((v, t, read) for t, v, read in watcher.received)
        versions = [v for v, _, _ in frames]
        # first_arrival[i]: the earliest arrival among frames[i:], i.e. among the frames whose version
        # is at least versions[i]: the first frame (in arrival order) that includes such a ballot.
        first_arrival = _suffix_min([t for _, t, _ in frames])
        first_read = _suffix_min([read for _, _, read in frames])
        for vote in votes:
            i = bisect.bisect_left(versions, vote.seq)
            if i < len(frames):
                latencies.append(first_arrival[i] - vote.committed)
                from_send.append(first_arrival[i] - vote.sent)
                when_read.append(first_read[i] - vote.committed)
    broadcasts = max((len(w.received) for w in pool), default=0)
    await clients.close_watchers(pool)
    return {
        "watchers": watchers,
        "votes": len(votes),
        "broadcasts": broadcasts,
        "broadcasts_per_s": broadcasts / duration,
        "final_tally_reached": delivered / max(1, watchers),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "from_send": from_send,
        "read": when_read,
        "to_commit": [vote.committed - vote.sent for vote in votes],
        "to_ack": [vote.acked - vote.committed for vote in votes],
        "bytes_per_watcher": (rss_after - rss_before) / max(1, watchers),
        "connect_seconds": connected.seconds,
        "connect_retries": connected.retries,
        "frames": frames_seen,
        **used,
    }


# Main -------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs")
    parser.add_argument("--workers", type=int, default=2, help="ASGI workers (default 2)")
    parser.add_argument(
        "--server", choices=SERVERS, default="daphne", help="the ASGI server of the workers (default daphne)"
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sustained voting")
    parser.add_argument("--voters", type=int, default=400, help="voter sockets")
    parser.add_argument("--questions", type=int, default=8, help="questions the voters spread over")
    parser.add_argument("--per-socket-rate", type=float, default=8.0, help="most votes/s per socket")
    parser.add_argument("--watchers", default="1000,5000,10000", help="fan-out sizes, comma separated")
    parser.add_argument("--fanout-duration", type=float, default=20.0)
    parser.add_argument("--fanout-rate", type=float, default=10.0, help="votes/s while watchers watch")
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=clients.CONNECT_CONCURRENCY,
        help=f"watcher handshakes in flight (default {clients.CONNECT_CONCURRENCY})",
    )
    parser.add_argument("--skip-votes", action="store_true")
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/townhall_bench"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.voters, args.watchers, args.fanout_duration = 10.0, 200, "500,2000", 8.0
    args.watcher_sizes = [int(x) for x in args.watchers.split(",") if x.strip()]
    return args


async def run(args: argparse.Namespace) -> list[tuple[str, str]]:
    limit = raise_open_files_limit(65536)
    env = bench_env(args.database_url, args.redis_url)
    flush_redis(args.redis_url)
    print(f"Preparing {args.database_url} ({args.voters} voters) ...", flush=True)
    seed = prepare_database(args.database_url, env, voters=max(args.voters, 20), questions=args.questions)
    workers = start_workers(args.workers, env, server=args.server)
    rows: list[tuple[str, str]] = [
        ("machine", f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}"),
        (
            "workers",
            f"{args.workers} {args.server}, PostgreSQL, Redis ({env['CHANNEL_LAYER'] or 'list'}) layer",
        ),
        ("open files limit", str(limit)),
    ]
    try:
        if not args.skip_votes:
            print(f"Votes: {args.voters} sockets for {args.duration:.0f} s ...", flush=True)
            before = tally_seqs(args.database_url, seed["vote_questions"])
            stats, elapsed = await vote_load(
                workers,
                seed,
                voters=args.voters,
                duration=args.duration,
                per_socket_rate=args.per_socket_rate,
            )
            check = check_exactly_once(args.database_url, seed, stats, before)
            rows += [
                ("votes/s sustained (socket path)", f"{stats.acks / elapsed:,.0f} over {elapsed:.0f} s"),
                ("vote ack latency p50/p95/p99", _ms(stats.ack_latencies)),
                (
                    "acks = writes = ballots/tally",
                    (
                        f"{check['acks']:,} acks, {check['writes']:,} writes, {check['ballots']:,} ballots "
                        f"= {check['tally_total']:,} tallied ({check['voters_acked']:,} voters); "
                        f"acks sharing a seq: {check['shared_seqs']}, outside the run's seqs: "
                        f"{check['seqs_outside']}: " + ("EXACTLY ONCE" if check["ok"] else "MISMATCH")
                    ),
                ),
                ("vote errors", ", ".join(f"{k}={v}" for k, v in stats.errors.items()) or "none"),
            ]
        if not args.skip_fanout:
            for size in args.watcher_sizes:
                print(f"Fan-out: {size:,} watchers for {args.fanout_duration:.0f} s ...", flush=True)
                try:
                    result = await fanout(
                        workers,
                        seed,
                        watchers=size,
                        duration=args.fanout_duration,
                        rate=args.fanout_rate,
                        concurrency=args.connect_concurrency,
                    )
                except Exception as exc:  # report it in the table and go on with the other sizes
                    rows.append((f"fan-out {size:,} watchers", f"FAILED: {exc!r}"[:200]))
                    continue
                rows.append(
                    (
                        f"fan-out {size:,} watchers p50/p95/p99 (commit to tally)",
                        f"{_ms3(result)} "
                        f"({result['broadcasts_per_s']:.1f} broadcasts/s for {args.fanout_rate:.0f} votes/s; "
                        f"{result['final_tally_reached']:.1%} saw the final tally)",
                    )
                )
                rows.append(
                    (
                        f"  read by the generator ({size:,})",
                        f"{_ms(result['read'])} (the same, timed when this process read the frame: "
                        "one process reading thousands of sockets in turn lags behind their arrival)",
                    )
                )
                rows.append(
                    (
                        f"  from the vote being sent ({size:,})",
                        f"{_ms(result['from_send'])}; vote to commit {_ms(result['to_commit'])}, "
                        f"commit to its ack {_ms(result['to_ack'])}",
                    )
                )
                rows.append(
                    (f"memory per watcher ({size:,})", f"{result['bytes_per_watcher'] / 1024:.1f} KiB")
                )
                rows.append(
                    (
                        f"  cost ({size:,})",
                        f"{format_cpu(result)}; {_per_frame(result)}; connected in "
                        f"{result['connect_seconds']:.1f} s ({result['connect_retries']} retries)",
                    )
                )
                if not args.skip_baseline:
                    base = await run_baseline(
                        watchers=size,
                        duration=args.fanout_duration,
                        rate=max(1.0, result["broadcasts_per_s"]),
                        concurrency=args.connect_concurrency,
                    )
                    rows.append(
                        (
                            f"bare websockets {size:,} p50/p95/p99",
                            f"{_ms3(base)}; "
                            f"Townhall p95 / baseline p95 = {result['p95'] / max(base['p95'], 1e-9):.1f}x; "
                            f"{base['bytes_per_watcher'] / 1024:.1f} KiB per socket",
                        )
                    )
                    rows.append((f"  read by the generator ({size:,}, bare)", _ms(base["read"])))
                    rows.append((f"  cost ({size:,}, bare)", format_cpu(base)))
    finally:
        for worker in workers:
            worker.stop()
    return rows


def _suffix_min(values: list[float]) -> list[float]:
    """``out[i] = min(values[i:])``."""
    out = list(values)
    for i in range(len(out) - 2, -1, -1):
        out[i] = min(out[i], out[i + 1])
    return out


def _ms3(result: dict) -> str:
    return " / ".join(f"{result[p] * 1000:.0f}" for p in ("p50", "p95", "p99")) + " ms"


def _per_frame(result: dict) -> str:
    frames = result["frames"]
    if not frames:
        return "no frames"
    return f"{frames:,} frames received, {result['client_cpu'] / frames * 1e6:.0f} us of generator CPU each"


def _ms(values: list[float]) -> str:
    return " / ".join(f"{percentile(values, p) * 1000:.0f}" for p in (50, 95, 99)) + " ms"


def main(argv=None) -> None:
    args = parse_args(argv)
    rows = uvloop.run(run(args))
    print_table(rows, "Townhall live benchmarks")


if __name__ == "__main__":
    main()
