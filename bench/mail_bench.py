"""Closing the loop at scale: publish an outcome to N participants and deliver every mail.

    .venv/bin/python bench/mail_bench.py [--participants 50000] [--workers 2]

On PostgreSQL (``--database-url``, a database of its own that is dropped and created again), with an
SMTP sink (aiosmtpd) in this process that counts what each address receives. Steps:

1. seed N residents who each asked for a wider say on one consultation (bulk inserts);
2. publish the consultation's outcome as an officer's publish does (revision publish, the publication
   hook), timed: it only queues the announcement job;
3. start ``--workers`` ``manage.py townhall_worker`` processes; once a third of the mails have reached
   the sink, kill one worker with SIGKILL and start a new one;
4. wait until every mail is sent, then count at the sink: every participant exactly one mail.

Prints a table. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Sink:
    """An SMTP server on 127.0.0.1 that accepts everything and counts messages per recipient."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.first = 0.0
        self.last = 0.0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        now = time.monotonic()
        with self.lock:
            if any(r.lower().endswith("@bench.example") for r in envelope.rcpt_tos):
                self.first = self.first or now
                self.last = now
            for rcpt in envelope.rcpt_tos:
                self.counts[rcpt.lower()] += 1
        return "250 OK"

    def total(self) -> int:
        """Mails to the bench's participants (the demo council's own mail is not counted)."""
        with self.lock:
            return sum(c for rcpt, c in self.counts.items() if rcpt.endswith("@bench.example"))


def _django(database_url: str, port: int) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        DATABASE_URL=database_url,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        LOG_LEVEL="ERROR",
        DEBUG="false",
    )
    import django

    django.setup()


def _recreate_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _seed(n: int):
    from django.utils import timezone

    from accounts.models import User
    from consultations.models import ConsultationIndexPage, EscalationRequest
    from tests.consultations.factories import make_consultation

    index = ConsultationIndexPage.objects.first()
    start = timezone.now() - timezone.timedelta(days=60)
    page = make_consultation(index, start=start, title="Bench crossing")
    batch = 5000
    for start in range(0, n, batch):
        users = User.objects.bulk_create(
            [
                User(email=f"p{i}@bench.example", display_name=f"Person {i}", password="!")  # noqa: S106
                for i in range(start, min(n, start + batch))
            ]
        )
        EscalationRequest.objects.bulk_create([EscalationRequest(consultation=page, user=u) for u in users])
    return page


def _start_worker(env: dict[str, str], name: str, log_dir: Path) -> subprocess.Popen:
    with open(log_dir / f"{name}.log", "w") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "manage.py", "townhall_worker", "--worker-id", name, "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--participants", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/townhall_mail_bench"
        ),
    )
    parser.add_argument("--no-kill", action="store_true", help="Do not kill a worker mid-run.")
    args = parser.parse_args(argv)

    from aiosmtpd.controller import Controller

    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()

    _recreate_database(args.database_url)
    _django(args.database_url, port)
    from django.core.management import call_command

    t0 = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, allow_production=True)
    page = _seed(args.participants)
    seed_s = time.monotonic() - t0

    from django.db import connection
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from consultations.models import ConsultationPage, Outcome
    from notifications.models import MailStatus, OutboundMail

    page = ConsultationPage.objects.get(pk=page.pk)
    decision = "We will build the crossing by the school."
    page.outcomes = [Outcome(decision=decision, reasons="<p>You asked.</p>")]
    revision = page.save_revision()
    t0 = time.monotonic()
    revision.publish()
    publish_ms = (time.monotonic() - t0) * 1000
    key_prefix = f"outcome:{Outcome.objects.get(consultation=page).pk}:"
    connection.close()

    env = {**os.environ}
    log_dir = Path(tempfile.mkdtemp(prefix="townhall-mail-bench-"))
    workers = [_start_worker(env, f"bench-{i}", log_dir) for i in range(args.workers)]
    killed_at = None
    started = time.monotonic()
    deadline = started + 3600
    n = args.participants
    while time.monotonic() < deadline:
        time.sleep(0.5)
        total = sink.total()
        if not args.no_kill and killed_at is None and total >= n // 3:
            victim = workers[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed_at = total
            time.sleep(1.0)
            workers[0] = _start_worker(env, "bench-restarted", log_dir)
        if total >= n:
            sent = OutboundMail.objects.filter(status=MailStatus.SENT, key__startswith=key_prefix).count()
            if sent >= n:
                break
            connection.close()
    elapsed = time.monotonic() - started
    time.sleep(2)  # let anything still in flight arrive, to count duplicates honestly
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    controller.stop()

    announce = DBTaskResult.objects.filter(task_path="consultations.tasks.announce_outcome").order_by(
        "enqueued_at"
    )
    runs = list(announce.values_list("status", "started_at", "finished_at"))
    successful = [r for r in runs if r[0] == "SUCCESSFUL" and r[1] and r[2]]
    announce_s = (successful[-1][2] - successful[-1][1]).total_seconds() if successful else float("nan")
    statuses = dict(
        OutboundMail.objects.filter(key__startswith=key_prefix)
        .values_list("status")
        .annotate(c=Count("pk"))
        .order_by()
    )
    expected = {f"p{i}@bench.example" for i in range(n)}
    bench_counts = {rcpt: c for rcpt, c in sink.counts.items() if rcpt.endswith("@bench.example")}
    received = set(bench_counts)
    duplicates = sum(c - 1 for c in bench_counts.values() if c > 1)
    missing = len(expected - received)
    delivery_s = (sink.last - sink.first) if sink.first else float("nan")
    rate = sink.total() / delivery_s if delivery_s and delivery_s == delivery_s else float("nan")
    lost_jobs = DBTaskResult.objects.filter(exception_class_path__endswith="WorkerLost").count()

    workers_label = str(args.workers)
    if killed_at is not None:
        workers_label += f" (one killed with SIGKILL at {killed_at:,} mails, a new one started 1 s later)"
    rows = [
        ("participants", f"{n:,}"),
        ("seeding (not part of the measure)", f"{seed_s:.1f} s"),
        ("publish (revision publish + publication hook)", f"{publish_ms:.0f} ms"),
        ("announce job: render and queue every mail", f"{announce_s:.1f} s"),
        ("workers", workers_label),
        ("first to last mail at the sink", f"{delivery_s:.1f} s"),
        ("delivery rate at the sink", f"{rate:.0f} mails/s"),
        ("publish to last mail", f"{elapsed:.1f} s"),
        ("mails received / distinct addresses", f"{sink.total():,} / {len(received):,}"),
        ("addresses with no mail", f"{missing:,}"),
        ("duplicate mails", f"{duplicates:,}"),
        ("jobs re-run after the kill (WorkerLost)", f"{lost_jobs}"),
        ("mail rows by status", ", ".join(f"{k}={v:,}" for k, v in sorted(statuses.items()))),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"Closing the loop, {os.cpu_count()} cores, PostgreSQL, aiosmtpd sink in the bench process")
    print("-" * (width + 40))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print("-" * (width + 40))


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    main()
