"""Votes are counted exactly once under concurrent requests, on real separate database connections."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from accounts.models import User
from tests import factories as base
from tests.voting.factories import FACTORIES, make_consultation
from voting.errors import BallotError
from voting.models import Ballot, Participation, SealedBallot, TallyCount, mix_size
from voting.services import ballot_cast, question_close, tally_recount


def _fire(question, voter_ids, repeats, workers):
    """Every voter casts the same ballot ``repeats`` times; all requests race on ``workers`` threads,
    each with its own database connection. Returns (successes, refusals by code, other errors)."""
    choice = question.option_list[0].key
    tasks = [pk for pk in voter_ids for _ in range(repeats)]
    random.Random(5).shuffle(tasks)
    start = threading.Barrier(workers)
    lock = threading.Lock()
    outcome = {"ok": 0, "refused": {}, "errors": []}
    per_worker = [tasks[i::workers] for i in range(workers)]

    def work(chunk):
        try:
            voters = {pk: User.objects.get(pk=pk) for pk in set(chunk)}
            start.wait()
            for pk in chunk:
                try:
                    ballot_cast(question=question, voter=voters[pk], data={"choice": choice})
                    with lock:
                        outcome["ok"] += 1
                except BallotError as error:
                    with lock:
                        outcome["refused"][error.code] = outcome["refused"].get(error.code, 0) + 1
                except Exception as error:
                    with lock:
                        outcome["errors"].append(repr(error))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(work, per_worker))
    return outcome


def _run(home_page, ward, *, residents, repeats, workers, secret):
    page = make_consultation(home_page, wards=[ward])
    question = FACTORIES["single"](consultation=page, secret=secret)
    question.option_list  # noqa: B018 - load the options once, before the threads share the question
    voter_ids = [base.ResidentFactory(ward=ward).pk for _ in range(residents)]
    began = time.perf_counter()
    outcome = _fire(question, voter_ids, repeats, workers)
    elapsed = time.perf_counter() - began
    assert outcome["errors"] == []
    if secret:
        # Mixes ran while the votes raced; those still sealed (at most twice the mix size, less one)
        # are counted at close.
        waiting = SealedBallot.objects.filter(question=question).count()
        assert Ballot.objects.filter(question=question).count() + waiting == residents
        assert waiting < 2 * mix_size()
        assert tally_recount(question=question).ok
        question_close(question=question)
    assert Ballot.objects.filter(question=question).count() == residents
    assert Participation.objects.filter(question=question).count() == residents
    key = question.option_list[0].key
    counts = dict(TallyCount.objects.filter(question=question).values_list("key", "count"))
    assert counts == {key: residents, "_ballots": residents}
    report = tally_recount(question=question)
    assert report.ok, report.mismatches
    if secret:
        assert outcome["ok"] == residents
        assert outcome["refused"] == {"final_once_cast": residents * (repeats - 1)}
    else:
        assert outcome["ok"] == residents * repeats and outcome["refused"] == {}
    print(
        f"\n{connection.vendor}: {residents} residents x {repeats} identical ballots on {workers} connections"
        f" ({'secret' if secret else 'open'} ballot): {residents * repeats} requests in {elapsed:.2f} s"
        f" ({residents * repeats / elapsed:.0f}/s); {residents} ballots;"
        f" refused {outcome['refused']}; recount matches"
    )


@pytest.mark.postgres
@pytest.mark.parametrize("secret", [False, True], ids=["open", "secret"])
def test_fifty_residents_firing_twenty_identical_ballots_at_once_make_fifty_ballots(
    transactional_db, home_page, ward, secret
):
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs PostgreSQL: real concurrent connections (set DATABASE_URL to a PostgreSQL database)."
        )
    _run(home_page, ward, residents=50, repeats=20, workers=40, secret=secret)


@pytest.mark.parametrize("secret", [False, True], ids=["open", "secret"])
def test_concurrent_identical_ballots_make_one_ballot_each_on_any_database(
    transactional_db, home_page, ward, secret
):
    """The same race with fewer threads, so it runs on SQLite too (one writer at a time there)."""
    _run(home_page, ward, residents=8, repeats=5, workers=4, secret=secret)
