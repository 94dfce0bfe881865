"""ballot_cast: every kind, changing a ballot, secret ballots, and every way a ballot is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories as base
from tests.voting.factories import FACTORIES, valid_data
from voting import errors
from voting.errors import BallotError
from voting.models import Ballot, Participation, Question, SealedBallot, TallyCount
from voting.selectors import tally_for
from voting.services import ballot_cast, question_close, tally_recount

pytestmark = pytest.mark.django_db


def counts(question) -> dict[str, int]:
    return dict(TallyCount.objects.filter(question=question).values_list("key", "count"))


def assert_nothing_stored(question):
    assert not Ballot.objects.filter(question=question).exists()
    assert not Participation.objects.filter(question=question).exists()
    assert not TallyCount.objects.filter(question=question).exists()


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_resident_casts_a_valid_ballot_of_every_kind_and_the_tally_agrees_with_a_recount(
    kind, voting_consultation, resident
):
    question = FACTORIES[kind](consultation=voting_consultation)
    ballot = ballot_cast(question=question, voter=resident, data=valid_data(question))
    assert ballot.voter == resident
    assert Participation.objects.filter(question=question, voter=resident).count() == 1
    tally = tally_for(question=Question.objects.get(pk=question.pk))
    assert tally["kind"] == kind
    assert tally["result"]["ballots"] == 1
    assert tally_recount(question=question).ok


def test_changing_a_ballot_moves_the_counts(voting_consultation, resident):
    question = FACTORIES["single"](consultation=voting_consultation)
    a, b, _c = (o.key for o in question.option_list)
    ballot_cast(question=question, voter=resident, data={"choice": a})
    ballot_cast(question=question, voter=resident, data={"choice": b})
    assert Ballot.objects.filter(question=question).count() == 1
    assert counts(question) == {a: 0, b: 1, "_ballots": 1}
    assert tally_recount(question=question).ok


def test_score_ballot_counts_distribution(voting_consultation, resident):
    question = FACTORIES["score"](consultation=voting_consultation)
    a, b, c = (o.key for o in question.option_list)
    ballot_cast(question=question, voter=resident, data={"scores": {a: 5, b: "0", c: 2}})
    assert counts(question) == {f"{a}:5": 1, f"{b}:0": 1, f"{c}:2": 1, "_ballots": 1}
    rows = tally_for(question=question)["result"]["rows"]
    assert [r["key"] for r in rows] == [a, c, b]
    assert rows[0]["mean"] == "5.00"


def test_ranks_are_normalised_to_a_ranking(voting_consultation, resident):
    question = FACTORIES["ranked"](consultation=voting_consultation)
    a, b, c = (o.key for o in question.option_list)
    ballot = ballot_cast(question=question, voter=resident, data={"ranks": {a: "2", b: "1", c: ""}})
    assert ballot.data == {"ranking": [b, a]}


def test_final_once_cast_refuses_a_second_ballot(voting_consultation, resident):
    question = FACTORIES["yes_no"](consultation=voting_consultation, final_once_cast=True)
    ballot_cast(question=question, voter=resident, data={"choice": "yes"})
    with pytest.raises(BallotError) as caught:
        ballot_cast(question=question, voter=resident, data={"choice": "no"})
    assert caught.value.code == errors.FINAL_ONCE_CAST
    assert counts(question) == {"yes": 1, "_ballots": 1}


def test_secret_ballot_records_participation_and_a_sealed_ballot_counted_at_close(
    voting_consultation, resident
):
    question = FACTORIES["yes_no"](consultation=voting_consultation, secret=True)
    question.refresh_from_db()
    assert question.final_once_cast  # secret implies final
    ballot = ballot_cast(question=question, voter=resident, data={"choice": "no"})
    assert ballot.pk is None and ballot.data == {"choice": "no"}  # not stored as it is
    assert Participation.objects.filter(question=question, voter=resident).exists()
    field_names = {f.name for f in Participation._meta.get_fields()}
    assert "ballot" not in field_names
    # Sealed, not yet a ballot, and nothing counted: one vote never moves the tally on its own.
    (sealed,) = SealedBallot.objects.filter(question=question)
    assert b"no" not in bytes(sealed.sealed)
    assert not Ballot.objects.filter(question=question).exists()
    assert counts(question) == {}
    with pytest.raises(BallotError) as caught:
        ballot_cast(question=question, voter=resident, data={"choice": "yes"})
    assert caught.value.code == errors.FINAL_ONCE_CAST
    assert tally_recount(question=question).ok  # one participation: one sealed ballot

    question_close(question=question)
    stored = Ballot.objects.get(question=question)
    assert stored.voter is None and stored.cast_at is None and stored.changed_at is None
    assert stored.data == {"choice": "no"}
    assert not SealedBallot.objects.filter(question=question).exists()
    assert counts(question) == {"no": 1, "_ballots": 1}


def _bad(kind, question):
    keys = [o.key for o in question.option_list]
    return keys


BAD_INPUT = [
    # kind, data builder, expected code
    ("yes_no", lambda k: {"choice": "maybe"}, errors.INVALID_BALLOT),
    ("yes_no", lambda k: {}, errors.INVALID_BALLOT),
    ("yes_no", lambda k: ["yes"], errors.INVALID_BALLOT),
    ("single", lambda k: {"choice": "999999"}, errors.UNKNOWN_OPTION),
    ("single", lambda k: {"choice": None}, errors.INVALID_BALLOT),
    ("single", lambda k: {"choice": [k[0]]}, errors.INVALID_BALLOT),
    ("approval", lambda k: {"choices": k}, errors.TOO_MANY_CHOICES),
    ("approval", lambda k: {"choices": []}, errors.INVALID_BALLOT),
    ("approval", lambda k: {"choices": [k[0], k[0]]}, errors.INVALID_BALLOT),
    ("approval", lambda k: {"choices": [k[0], "abc"]}, errors.UNKNOWN_OPTION),
    ("approval", lambda k: {"choices": k[0]}, errors.INVALID_BALLOT),
    ("ranked", lambda k: {"ranking": [k[0], k[0]]}, errors.DUPLICATE_RANK),
    ("ranked", lambda k: {"ranks": {k[0]: 1, k[1]: 1}}, errors.DUPLICATE_RANK),
    ("ranked", lambda k: {"ranks": {k[0]: 1, k[1]: 3}}, errors.RANK_GAP),
    ("ranked", lambda k: {"ranks": {k[0]: 2}}, errors.RANK_GAP),
    ("ranked", lambda k: {"ranks": {k[0]: 0}}, errors.INVALID_BALLOT),
    ("ranked", lambda k: {"ranks": {k[0]: "first"}}, errors.INVALID_BALLOT),
    ("ranked", lambda k: {"ranks": {}}, errors.INVALID_BALLOT),
    ("ranked", lambda k: {"ranking": ["-1"]}, errors.UNKNOWN_OPTION),
    ("score", lambda k: {"scores": dict.fromkeys(k, 6)}, errors.SCORE_OUT_OF_RANGE),
    ("score", lambda k: {"scores": dict.fromkeys(k, -1)}, errors.SCORE_OUT_OF_RANGE),
    ("score", lambda k: {"scores": dict.fromkeys(k, 2.5)}, errors.SCORE_OUT_OF_RANGE),
    ("score", lambda k: {"scores": dict.fromkeys(k, True)}, errors.SCORE_OUT_OF_RANGE),
    ("score", lambda k: {"scores": {k[0]: 3}}, errors.INVALID_BALLOT),
    ("score", lambda k: {"scores": {**dict.fromkeys(k, 3), "12345678": 3}}, errors.UNKNOWN_OPTION),
    ("budget", lambda k: {"projects": k}, errors.OVER_BUDGET),
    ("budget", lambda k: {"projects": []}, errors.INVALID_BALLOT),
    ("budget", lambda k: {"projects": ["nope"]}, errors.UNKNOWN_OPTION),
    ("budget", lambda k: {"projects": [k[2], k[2]]}, errors.INVALID_BALLOT),
]


@pytest.mark.parametrize(("kind", "build", "code"), BAD_INPUT)
def test_bad_ballots_are_refused_with_a_clear_code_and_nothing_stored(
    kind, build, code, voting_consultation, resident
):
    question = FACTORIES[kind](consultation=voting_consultation)
    with pytest.raises(BallotError) as caught:
        ballot_cast(question=question, voter=resident, data=build([o.key for o in question.option_list]))
    assert caught.value.code == code
    assert caught.value.message
    assert_nothing_stored(question)


def test_a_bad_change_keeps_the_previous_ballot(voting_consultation, resident):
    question = FACTORIES["approval"](consultation=voting_consultation)
    a, b, c = (o.key for o in question.option_list)
    ballot_cast(question=question, voter=resident, data={"choices": [a]})
    with pytest.raises(BallotError):
        ballot_cast(question=question, voter=resident, data={"choices": [a, b, c]})
    assert Ballot.objects.get(question=question).data == {"choices": [a]}
    assert counts(question) == {a: 1, "_ballots": 1}


@pytest.mark.parametrize("when", ["before", "after", "closed_early"])
def test_ballot_for_a_question_that_is_not_open_is_refused(when, voting_consultation, resident):
    now = timezone.now()
    question = FACTORIES["yes_no"](consultation=voting_consultation)
    if when == "before":
        question.opens_at, question.closes_at = now + timedelta(hours=1), now + timedelta(hours=2)
        question.save()
    elif when == "after":
        question.opens_at, question.closes_at = now - timedelta(hours=2), now - timedelta(hours=1)
        question.save()
    else:
        question_close(question=question)
    with pytest.raises(BallotError) as caught:
        ballot_cast(question=question, voter=resident, data={"choice": "yes"})
    assert caught.value.code == errors.QUESTION_CLOSED
    assert not Ballot.objects.filter(question=question).exists()


def test_people_who_are_not_eligible_are_refused(voting_consultation, other_ward_resident, councillor, db):
    from django.contrib.auth.models import AnonymousUser

    question = FACTORIES["yes_no"](consultation=voting_consultation)
    unverified = base.ResidentFactory(ward=voting_consultation.wards.first(), email_verified_at=None)
    suspended = base.ResidentFactory(
        ward=voting_consultation.wards.first(), suspended_until=timezone.now() + timedelta(days=1)
    )
    for person in (other_ward_resident, councillor, unverified, suspended, AnonymousUser(), None):
        with pytest.raises(BallotError) as caught:
            ballot_cast(question=question, voter=person, data={"choice": "yes"})
        assert caught.value.code == errors.NOT_ELIGIBLE
    assert_nothing_stored(question)


def test_recount_reports_and_repairs_a_tampered_count(voting_consultation, resident):
    question = FACTORIES["single"](consultation=voting_consultation)
    a = question.option_list[0].key
    ballot_cast(question=question, voter=resident, data={"choice": a})
    TallyCount.objects.filter(question=question, key=a).update(count=7)
    report = tally_recount(question=question)
    assert not report.ok and report.mismatches == {a: (7, 1)}
    report = tally_recount(question=question, repair=True)
    assert report.repaired
    assert tally_recount(question=question).ok
