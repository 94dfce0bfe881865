"""Ballots benchmark: the cost of an open ballot and of a secret one (sealed, then mixed), in-process.

For each kind of question (open ballot with live results, secret ballot) the script casts one ballot
per resident through ``ballots_cast``, once one ballot per call (a form POST) and once in batches (the
socket path, ``voting/batching.py``), and prints votes per second and queries per call. For secret
questions the mixes run as they do in production (after the commit that fills the pool), so their
cost is in the figures; the close, which counts the ballots still sealed, is timed on its own. It is a
measurement, not a test: it asserts nothing and is never collected by pytest.

    .venv/bin/python bench/ballots_bench.py                     # SQLite file in /tmp, new each run
    createdb -h 127.0.0.1 -U postgres townhall_ballots_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/townhall_ballots_bench \
        .venv/bin/python bench/ballots_bench.py

On PostgreSQL the database must exist; the script migrates it and adds its own residents and questions
on every run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=600, help="residents, one ballot each per question")
    parser.add_argument("--batch", type=int, default=100, help="ballots per call on the batched path")
    parser.add_argument("--mix-size", type=int, default=10, help="SECRET_BALLOT_MIX_SIZE")
    return parser.parse_args()


def setup(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["SECRET_BALLOT_MIX_SIZE"] = str(args.mix_size)
    if not os.environ.get("DATABASE_URL"):
        path = Path(tempfile.gettempdir()) / "townhall-ballots-bench.sqlite3"
        path.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def residents(n: int, tag: str) -> list:
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts import roles
    from accounts.models import User, Ward
    from accounts.selectors import voters_by_id

    ward, _ = Ward.objects.get_or_create(code="BALLOTS", defaults={"name": "Ballots bench ward"})
    now = timezone.now()
    users = User.objects.bulk_create(
        User(
            email=f"{tag}-{i}@ballots.bench.test", display_name=f"Voter {i}", ward=ward, email_verified_at=now
        )
        for i in range(n)
    )
    group = Group.objects.get_or_create(name=roles.RESIDENT)[0]
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=u.pk, group_id=group.pk) for u in users
    )
    fresh = voters_by_id(u.pk for u in users)
    return [fresh[u.pk] for u in users]


def question(host, *, secret: bool):
    from voting import live
    from voting.models import Question

    session = live.live_session_create(host=host, title="Ballots bench")
    item = live.live_session_add_question(session=session, title="Bench motion", kind="yes_no", options=[])
    if secret:
        Question.objects.filter(pk=item.pk).update(secret=True, final_once_cast=True)
    live.live_session_open_question(session=session, item=item.live_item)
    return Question.objects.get(pk=item.pk)


def run(label: str, q, people: list, batch: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from voting.models import Ballot, SealedBallot
    from voting.services import ballots_cast, question_close, tally_recount

    choices = ["yes", "no", "abstain"]
    calls = [people[i : i + batch] for i in range(0, len(people), batch)]
    queries, elapsed = 0, 0.0
    for n, chunk in enumerate(calls):
        votes = [(p, {"choice": choices[(n + i) % 3]}) for i, p in enumerate(chunk)]
        connection.queries_log.clear()  # it keeps at most 9,000: count each call on its own
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            results = ballots_cast(question=q, votes=votes)
            elapsed += time.perf_counter() - started
        queries += len(captured)
        assert all(r.error is None for r in results)
    waiting = SealedBallot.objects.filter(question=q).count()
    started = time.perf_counter()
    question_close(question=q)
    closing = time.perf_counter() - started
    report = tally_recount(question=q)
    stored = Ballot.objects.filter(question=q).count()
    print(
        f"{label:<34} {len(people) / elapsed:>8.0f} votes/s  {queries / len(calls):>6.1f} queries/call"
        f"  {1000 * elapsed / len(calls):>7.2f} ms/call  sealed at close {waiting:>3}"
        f"  close {1000 * closing:>6.1f} ms  ballots {stored}  recount {'ok' if report.ok else 'MISMATCH'}"
    )


def main() -> None:
    args = parse_args()
    setup(args)
    from django.db import connection

    from accounts import roles
    from accounts.models import User

    stamp = f"{time.time_ns()}"
    host = User.objects.create(email=f"host-{stamp}@ballots.bench.test", display_name="Bench host")
    roles.grant(host, roles.COUNCILLOR)
    print(f"{connection.vendor}: {args.voters} residents per question, mix size {args.mix_size}\n")
    for batch in (1, args.batch):
        for secret in (False, True):
            people = residents(args.voters, f"{stamp}-{batch}-{int(secret)}")
            label = f"{'secret' if secret else 'open, live results'}, {batch} per call"
            run(label, question(host, secret=secret), people, batch)


if __name__ == "__main__":
    main()
