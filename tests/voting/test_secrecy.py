"""Secret ballots cannot be linked to their voters: sealed in the voter's transaction, counted in mixes.

What is measured here, on any database: the voter's transaction writes no ballot, no count and no new
tally version; ballots are opened and counted only in mixes of at least ``SECRET_BALLOT_MIX_SIZE``,
the last one (at close) included; seals all have one length and open only with the site's keys and
for their own question; the key order of ballots does not follow the voters'; nothing is lost when a
mix fails or the process dies between the steps. On PostgreSQL: no transaction id (``xmin``) is
shared by a participation and a ballot or a count, even after ``VACUUM FREEZE``, and neither the heap
(``ctid``) nor ``pg_dump`` lists ballots in the voters' order.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from accounts.selectors import voters_by_id
from tests import factories as base
from tests.voting.factories import FACTORIES, make_consultation
from voting import sealing, services
from voting.models import Ballot, Participation, Question, ResultsVisibility, SealedBallot, TallyCount
from voting.selectors import questions_for_consultation, tally_for
from voting.services import ballot_cast, question_close, secret_ballots_mix, tally_recount

ROOT = Path(__file__).resolve().parents[2]
K = 3


@pytest.fixture(autouse=True)
def mix_size(settings):
    settings.SECRET_BALLOT_MIX_SIZE = K
    return K


def counts(question) -> dict[str, int]:
    return {k: v for k, v in TallyCount.objects.filter(question=question).values_list("key", "count") if v}


def seq_of(question) -> int:
    return Question.objects.non_polymorphic().values_list("tally_seq", flat=True).get(pk=question.pk)


def residents(ward, n):
    people = base.ResidentFactory.create_batch(n, ward=ward)
    fresh = voters_by_id(p.pk for p in people)
    return [fresh[p.pk] for p in people]


def secret_question(consultation, kind="yes_no", **extra):
    extra.setdefault("results_visibility", ResultsVisibility.LIVE)
    return FACTORIES[kind](consultation=consultation, secret=True, final_once_cast=True, **extra)


def rankings(question, n):
    """``n`` different full rankings of the question's candidates: each ballot names its voter."""
    keys = [o.key for o in question.option_list]
    return [{"ranking": list(p)} for p in itertools.islice(itertools.permutations(keys), n)]


@pytest.fixture
def cast(django_capture_on_commit_callbacks):
    """Cast one ballot after another as separate requests would (the mix runs once each commits)."""

    def run(question, people, ballots):
        for person, data in zip(people, ballots, strict=True):
            with django_capture_on_commit_callbacks(execute=True):
                ballot_cast(question=question, voter=person, data=data)

    return run


# The two steps --------------------------------------------------------------------------------------
def test_a_secret_vote_moves_no_count_and_no_version_until_enough_are_waiting(
    voting_consultation, ward, cast
):
    question = secret_question(voting_consultation)
    before = seq_of(question)
    cast(question, residents(ward, 2 * K - 1), [{"choice": "yes"}] * (2 * K - 1))
    assert Participation.objects.filter(question=question).count() == 2 * K - 1
    assert SealedBallot.objects.filter(question=question).count() == 2 * K - 1
    assert not Ballot.objects.filter(question=question).exists()
    assert counts(question) == {}
    assert seq_of(question) == before  # the live tally has not moved either
    assert tally_recount(question=question).ok
    before = seq_of(question)  # a recount takes the lock as a writer does

    # One more: now twice the mix size wait, and all but the mix size of them are counted, at once.
    cast(question, residents(ward, 1), [{"choice": "yes"}])
    assert Ballot.objects.filter(question=question).count() == K
    assert SealedBallot.objects.filter(question=question).count() == K
    assert counts(question) == {"yes": K, "_ballots": K}
    assert seq_of(question) == before + 1
    assert Question.objects.get(pk=question.pk).ballots_sealed == K
    assert tally_recount(question=question).ok


def test_the_public_tally_of_a_secret_question_moves_only_in_steps_of_the_mix_size_or_more(
    voting_consultation, ward, cast
):
    question = secret_question(voting_consultation, kind="single")
    a, b, _c = (o.key for o in question.option_list)
    people = residents(ward, 6 * K + 1)
    seen = [0]
    for n, person in enumerate(people):
        cast(question, [person], [{"choice": a if n % 3 else b}])
        shown = tally_for(question=Question.objects.get(pk=question.pk))["result"]["ballots"]
        if shown != seen[-1]:
            seen.append(shown)
    question_close(question=question)
    final = tally_for(question=Question.objects.get(pk=question.pk))["result"]["ballots"]
    steps = [later - earlier for earlier, later in itertools.pairwise([*seen, final])]
    assert final == len(people)
    assert len(steps) >= 3 and min(steps) >= K, steps  # the last step, at close, too
    assert tally_recount(question=question).ok


def test_fewer_voters_than_twice_the_mix_size_are_counted_together_at_close(voting_consultation, ward, cast):
    question = secret_question(voting_consultation)
    cast(question, residents(ward, 2), [{"choice": "no"}, {"choice": "abstain"}])
    assert counts(question) == {}
    question_close(question=question)
    assert counts(question) == {"no": 1, "abstain": 1, "_ballots": 2}
    assert not SealedBallot.objects.filter(question=question).exists()
    assert Question.objects.get(pk=question.pk).ballots_sealed == 0


def test_a_secret_question_past_its_closing_time_is_counted_when_its_results_are_first_read(
    voting_consultation, ward, cast
):
    first = secret_question(voting_consultation)
    second = secret_question(voting_consultation)
    for question in (first, second):
        cast(question, residents(ward, 2), [{"choice": "yes"}, {"choice": "no"}])
    # Nothing runs at a closing time: the questions simply stop being open.
    past = timezone.now() - timedelta(seconds=1)
    Question.objects.filter(pk__in=[first.pk, second.pk]).update(
        opens_at=past - timedelta(hours=1), closes_at=past
    )
    tally = tally_for(question=Question.objects.get(pk=first.pk))
    assert tally["result"]["ballots"] == 2
    assert counts(first) == {"yes": 1, "no": 1, "_ballots": 2}
    # The consultation page reads the other one's counts after counting its sealed ballots.
    page = voting_consultation
    shown = {q.pk: q for q in questions_for_consultation(page=page, user=base.ResidentFactory(ward=ward))}
    assert shown[second.pk]._counts == {"yes": 1, "no": 1, "_ballots": 2}
    assert not SealedBallot.objects.filter(question__in=[first, second]).exists()


def test_an_open_question_is_never_counted_early_by_reading_it(voting_consultation, ward, cast):
    question = secret_question(voting_consultation)
    cast(question, residents(ward, 2), [{"choice": "yes"}, {"choice": "no"}])
    assert tally_for(question=Question.objects.get(pk=question.pk))["result"]["ballots"] == 0
    assert secret_ballots_mix(question=question) == 0  # fewer than twice the mix size wait
    assert SealedBallot.objects.filter(question=question).count() == 2


# Seals ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "short", "long"),
    [
        ("yes_no", lambda k: {"choice": "no"}, lambda k: {"choice": "abstain"}),
        ("approval", lambda k: {"choices": k[:1]}, lambda k: {"choices": k[:3]}),
        ("score", lambda k: {"scores": dict.fromkeys(k, 0)}, lambda k: {"scores": dict.fromkeys(k, 5)}),
        ("ranked", lambda k: {"ranking": k[:1]}, lambda k: {"ranking": k}),
        ("budget", lambda k: {"projects": k[:1]}, lambda k: {"projects": k}),
    ],
)
def test_every_seal_of_a_question_has_one_length_and_shows_nothing_of_the_ballot(
    voting_consultation, ward, kind, short, long
):
    extra = {"max_choices": 3} if kind == "approval" else {}
    if kind == "budget":
        extra["budget"] = 10**9
    question = secret_question(voting_consultation, kind=kind, **extra)
    keys = [o.key for o in question.option_list]
    ann, bob = residents(ward, 2)
    ballot_cast(question=question, voter=ann, data=short(keys))
    ballot_cast(question=question, voter=bob, data=long(keys))
    seals = [
        bytes(s) for s in SealedBallot.objects.filter(question=question).values_list("sealed", flat=True)
    ]
    assert len(seals) == 2 and len(seals[0]) == len(seals[1])
    for seal in seals:
        assert b"choice" not in seal and not any(f'"{key}"'.encode() in seal for key in keys)
    assert sorted(sealing.unseal(question.pk, s) == long(keys) for s in seals) == [False, True]


def test_a_seal_opens_only_for_its_own_question_and_with_the_sites_keys(settings):
    seal = sealing.seal(7, 0, {"choice": "yes"})
    assert sealing.unseal(7, seal) == {"choice": "yes"}
    with pytest.raises(sealing.SealError):
        sealing.unseal(8, seal)  # copied to another question
    damaged = seal[:-1] + bytes([seal[-1] ^ 1])
    with pytest.raises(sealing.SealError):
        sealing.unseal(7, damaged)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-for-the-site"
    with pytest.raises(sealing.SealError):
        sealing.unseal(7, seal)
    settings.SECRET_KEY_FALLBACKS = [old]  # rotated while a vote was open
    assert sealing.unseal(7, seal) == {"choice": "yes"}


# Nothing lost ---------------------------------------------------------------------------------------
def test_a_mix_that_fails_halfway_stores_nothing_and_the_next_mix_counts_every_ballot(
    voting_consultation, ward, cast, monkeypatch
):
    question = secret_question(voting_consultation)
    cast(question, residents(ward, 2 * K - 1), [{"choice": "yes"}] * (2 * K - 1))

    def fail(*args, **kwargs):  # after the ballots are inserted, before the counts move
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(services, "_apply_counts", fail)
        cast(question, residents(ward, 1), [{"choice": "no"}])  # the vote itself is stored
    assert Participation.objects.filter(question=question).count() == 2 * K
    assert SealedBallot.objects.filter(question=question).count() == 2 * K
    assert not Ballot.objects.filter(question=question).exists()
    assert counts(question) == {}
    assert tally_recount(question=question).ok

    question_close(question=question)
    assert counts(question) == {"yes": 2 * K - 1, "no": 1, "_ballots": 2 * K}
    assert tally_recount(question=question).ok


def test_a_seal_that_does_not_open_stops_the_mix_and_keeps_every_ballot(
    voting_consultation, ward, cast, settings, caplog
):
    question = secret_question(voting_consultation)
    cast(question, residents(ward, 2 * K - 1), [{"choice": "yes"}] * (2 * K - 1))
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "rotated-without-a-fallback"
    cast(question, residents(ward, 1), [{"choice": "no"}])
    assert "Could not mix the sealed ballots" in caplog.text
    assert SealedBallot.objects.filter(question=question).count() == 2 * K
    assert not Ballot.objects.filter(question=question).exists()
    settings.SECRET_KEY_FALLBACKS = [old]
    question_close(question=question)
    assert counts(question) == {"yes": 2 * K - 1, "no": 1, "_ballots": 2 * K}


def test_recount_reports_a_sealed_ballot_that_went_missing(voting_consultation, ward, cast):
    question = secret_question(voting_consultation)
    cast(question, residents(ward, 2), [{"choice": "yes"}, {"choice": "no"}])
    report = tally_recount(question=question)
    assert report.ok and (report.participations, report.ballots, report.sealed) == (2, 0, 2)
    SealedBallot.objects.filter(pk=SealedBallot.objects.filter(question=question).first().pk).delete()
    assert not tally_recount(question=question).ok


# Order ----------------------------------------------------------------------------------------------
def test_ballot_keys_do_not_follow_the_order_people_voted_in(voting_consultation, ward, cast):
    question = secret_question(voting_consultation, kind="ranked", options=["A", "B", "C", "D"])
    people = residents(ward, 12)
    ballots = rankings(question, 12)
    cast(question, people, ballots)
    question_close(question=question)
    voted = [
        ballots.index(b)
        for b in Ballot.objects.filter(question=question).order_by("pk").values_list("data", flat=True)
    ]
    assert sorted(voted) == list(range(12))
    # Participations follow the voters (their keys are a sequence); ballots do not (1 in 12! by chance).
    assert voted != list(range(12))
    assert list(
        Participation.objects.filter(question=question).order_by("pk").values_list("voter_id", flat=True)
    ) == [p.pk for p in people]


# A process that dies between the steps -----------------------------------------------------------------
DIE = """
import os, django
django.setup()
from accounts.selectors import voters_by_id
from voting import services
from voting.models import Question

def die(*args, **kwargs):
    os._exit(9)

setattr(services, os.environ["DIE_IN"], die)
question = Question.objects.get(pk=int(os.environ["QUESTION"]))
voters = voters_by_id(int(pk) for pk in os.environ["VOTERS"].split(","))
for pk in os.environ["VOTERS"].split(","):
    services.ballot_cast(question=question, voter=voters[int(pk)], data={"choice": "yes"})
os._exit(0)
"""


@pytest.mark.parametrize(
    "die_in",
    ["_mix_after_commit", "_apply_counts"],
    ids=["after-the-vote-commits-before-the-mix", "in-the-middle-of-the-mix"],
)
def test_no_vote_is_lost_when_the_process_dies_between_the_steps(transactional_db, home_page, ward, die_in):
    page = make_consultation(home_page, wards=[ward])
    question = secret_question(page)
    people = base.ResidentFactory.create_batch(2 * K, ward=ward)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TOWNHALL_LIVE_SERVER_DB": connection.settings_dict["NAME"],
        "TOWNHALL_LIVE_SERVER_MAIL_DIR": tempfile.mkdtemp(),
        "SECRET_BALLOT_MIX_SIZE": str(K),
        "DIE_IN": die_in,
        "QUESTION": str(question.pk),
        "VOTERS": ",".join(str(p.pk) for p in people),
    }
    done = subprocess.run(  # noqa: S603 - our interpreter and our script
        [sys.executable, "-c", DIE], cwd=ROOT, env=env, capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 9, done.stderr.decode()[-2000:]
    # Every vote was committed before the process died (the last one triggered the mix it died in).
    assert Participation.objects.filter(question=question).count() == 2 * K
    assert SealedBallot.objects.filter(question=question).count() == 2 * K
    assert not Ballot.objects.filter(question=question).exists()
    assert counts(question) == {}
    assert tally_recount(question=question).ok
    # The next mix (here the close) counts every one of them, once.
    question_close(question=question)
    assert counts(question) == {"yes": 2 * K, "_ballots": 2 * K}
    assert Ballot.objects.filter(question=question).count() == 2 * K
    assert tally_recount(question=question).ok


# PostgreSQL: system columns and dumps ------------------------------------------------------------------
def _column(sql: str, *params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _xmins(table: str, question_id: int) -> set[str]:
    return set(_column(f"SELECT xmin::text FROM {table} WHERE question_id = %s", question_id))  # noqa: S608


def _vote_and_close(home_page, ward):
    page = make_consultation(home_page, wards=[ward])
    question = secret_question(page, kind="ranked", options=["A", "B", "C", "D"])
    people = residents(ward, 12)
    ballots = rankings(question, 12)
    for person, data in zip(people, ballots, strict=True):
        ballot_cast(question=question, voter=person, data=data)  # each commits, then mixes when due
    assert Ballot.objects.filter(question=question).exists()  # some were mixed while voting was open
    question_close(question=question)
    return question, people, ballots


@pytest.mark.postgres
def test_no_transaction_id_joins_a_participation_to_a_ballot_or_a_count_even_after_vacuum_freeze(
    transactional_db, home_page, ward
):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL (set DATABASE_URL to a PostgreSQL database).")
    question, _people, ballots = _vote_and_close(home_page, ward)

    def check():
        participations = _xmins("voting_participation", question.pk)
        assert len(participations) == 12  # one transaction per voter
        assert participations.isdisjoint(_xmins("voting_ballot", question.pk))
        assert participations.isdisjoint(_xmins("voting_tallycount", question.pk))
        question_xmin = _column("SELECT xmin::text FROM voting_question WHERE id = %s", question.pk)
        assert participations.isdisjoint(question_xmin)
        # Heap order: the ballots are not stored in the order people voted.
        voted = [
            ballots.index(json.loads(data) if isinstance(data, str) else data)
            for data in _column(
                "SELECT data FROM voting_ballot WHERE question_id = %s ORDER BY ctid", question.pk
            )
        ]
        assert sorted(voted) == list(range(12)) and voted != list(range(12))

    check()
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM FREEZE voting_participation, voting_ballot, voting_tallycount, voting_question"
        )
    check()  # frozen rows keep their xmin: still nothing in common
    print(
        f"\nxmin after VACUUM FREEZE: 12 participations in {len(_xmins('voting_participation', question.pk))}"
        f" transactions, 12 ballots in {len(_xmins('voting_ballot', question.pk))} mix transactions,"
        f" count rows last written by {len(_xmins('voting_tallycount', question.pk))} transaction(s);"
        " none shared"
    )


@pytest.mark.postgres
def test_a_dump_lists_ballots_in_no_order_of_the_voters_and_no_sealed_ballot_after_close(
    transactional_db, home_page, ward
):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL (set DATABASE_URL to a PostgreSQL database).")
    question, people, ballots = _vote_and_close(home_page, ward)
    settings_dict = connection.settings_dict
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("Needs pg_dump (Debian's postgresql-client).")
    dump = subprocess.run(  # noqa: S603 - Debian's pg_dump, our arguments
        [
            pg_dump, "--data-only", "--table=voting_ballot", "--table=voting_participation",
            "--table=voting_sealedballot", "-h", settings_dict["HOST"] or "127.0.0.1",
            "-p", str(settings_dict["PORT"] or 5432), "-U", settings_dict["USER"], settings_dict["NAME"],
        ],
        capture_output=True, check=True, timeout=60,
    ).stdout.decode()  # fmt: skip
    tables = _copy_sections(dump)
    rows = [row for row in tables["voting_ballot"] if row["question_id"] == str(question.pk)]
    assert len(rows) == 12
    assert all(row["voter_id"] == row["cast_at"] == row["changed_at"] == "\\N" for row in rows)
    voted = [ballots.index(json.loads(row["data"])) for row in rows]
    assert sorted(voted) == list(range(12)) and voted != list(range(12))
    # Participations are dumped in the order people voted, which the ballots' order does not share.
    participants = [
        int(row["voter_id"])
        for row in tables["voting_participation"]
        if row["question_id"] == str(question.pk)
    ]
    assert participants == [p.pk for p in people]
    assert tables["voting_sealedballot"] == []


def _copy_sections(dump: str) -> dict[str, list[dict[str, str]]]:
    """The rows of each table in a plain ``pg_dump``, in the order the dump lists them."""
    tables: dict[str, list[dict[str, str]]] = {}
    current, columns = None, []
    for line in dump.splitlines():
        if line.startswith("COPY "):
            name = line.split()[1].split(".")[-1]
            columns = [c.strip() for c in line[line.index("(") + 1 : line.index(")")].split(",")]
            current = tables.setdefault(name, [])
        elif line == "\\.":
            current = None
        elif current is not None:
            current.append(dict(zip(columns, line.split("\t"), strict=True)))
    return tables


# Pages, admin and logs --------------------------------------------------------------------------------
def test_a_secret_questions_page_says_votes_are_counted_in_groups(client, voting_consultation, resident):
    question = secret_question(voting_consultation)
    ballot_cast(question=question, voter=resident, data={"choice": "abstain"})
    client.force_login(resident)
    page = client.get(question.get_absolute_url()).content.decode()
    assert f"Votes are counted in groups of at least {K}" in page
    assert "stored sealed and counted together with others" in page
    assert 'value="abstain" checked' not in page


def test_no_admin_lists_ballots_participations_seals_or_counts():
    from django.contrib import admin
    from wagtail.snippets.models import get_snippet_models

    for model in (Ballot, Participation, SealedBallot, TallyCount):
        assert model not in admin.site._registry
        assert model not in get_snippet_models()


def test_the_sql_of_a_secret_vote_names_the_voter_but_never_the_choice(voting_consultation, ward, caplog):
    """With every statement logged (``django.db.backends`` at DEBUG), the voter's transaction shows who
    voted and a sealed blob, never how."""
    question = secret_question(voting_consultation)
    (ann,) = residents(ward, 1)
    caplog.set_level("DEBUG", logger="django.db.backends")
    connection.force_debug_cursor = True
    try:
        ballot_cast(question=question, voter=ann, data={"choice": "abstain"})
    finally:
        connection.force_debug_cursor = False
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "voting_participation" in logged and "voting_sealedballot" in logged
    assert "abstain" not in logged
    assert "voting_ballot" not in logged.replace("voting_sealedballot", "")
