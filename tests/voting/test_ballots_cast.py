"""ballots_cast: many ballots on one question in one transaction, each with its own answer.

The batch must be indistinguishable from the same votes cast one by one: same ballots, same counts,
same refusals, and ``tally_seq`` moving by one per ballot written with each ballot's own ``seq``.
"""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.selectors import voters_by_id
from tests import factories as base
from tests.voting.factories import FACTORIES, valid_data
from voting import errors
from voting.errors import BallotError
from voting.models import Ballot, Participation, Question, ResultsVisibility, SealedBallot, TallyCount
from voting.services import ballot_cast, ballots_cast, question_close, tally_recount

pytestmark = pytest.mark.django_db


def counts(question) -> dict[str, int]:
    return {k: v for k, v in TallyCount.objects.filter(question=question).values_list("key", "count") if v}


def seq_of(question) -> int:
    return Question.objects.non_polymorphic().values_list("tally_seq", flat=True).get(pk=question.pk)


def residents(ward, n):
    people = base.ResidentFactory.create_batch(n, ward=ward)
    fresh = voters_by_id(p.pk for p in people)
    return [fresh[p.pk] for p in people]


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_a_batch_stores_every_ballot_with_its_own_seq(kind, voting_consultation, ward):
    question = FACTORIES[kind](consultation=voting_consultation, results_visibility=ResultsVisibility.LIVE)
    people = residents(ward, 5)
    before = seq_of(question)
    results = ballots_cast(question=question, votes=[(p, valid_data(question)) for p in people])
    assert [r.error for r in results] == [None] * 5
    assert [r.seq for r in results] == list(range(before + 1, before + 6))
    assert seq_of(question) == before + 5
    assert Ballot.objects.filter(question=question).count() == 5
    assert Participation.objects.filter(question=question).count() == 5
    assert tally_recount(question=question).ok


def test_ballots_on_a_question_with_hidden_results_tell_no_seq(voting_consultation, ward):
    """The seq of an ack would tell a voter how often a tally that is hidden until close moves."""
    question = FACTORIES["yes_no"](
        consultation=voting_consultation, results_visibility=ResultsVisibility.AFTER_CLOSE
    )
    before = seq_of(question)
    results = ballots_cast(question=question, votes=[(p, {"choice": "yes"}) for p in residents(ward, 3)])
    assert [(r.error, r.seq) for r in results] == [(None, None)] * 3
    assert seq_of(question) == before + 3  # the version still moves for those who may see it
    assert counts(question) == {"yes": 3, "_ballots": 3}


def test_refusals_in_a_batch_store_nothing_for_them_and_do_not_stop_the_others(
    voting_consultation, ward, other_ward_resident
):
    question = FACTORIES["single"](
        consultation=voting_consultation, results_visibility=ResultsVisibility.LIVE
    )
    a, b, _c = (o.key for o in question.option_list)
    ann, bob = residents(ward, 2)
    outsider = voters_by_id([other_ward_resident.pk])[other_ward_resident.pk]
    results = ballots_cast(
        question=question,
        votes=[
            (ann, {"choice": a}),
            (outsider, {"choice": a}),  # lives elsewhere
            (bob, {"choice": "not-an-option"}),
            (None, {"choice": a}),  # an unknown or deactivated account
            (bob, {"choice": b}),
            (ann, {"choice": b}),  # changes her vote, later in the same batch
        ],
    )
    assert [r.error.code if r.error else "ok" for r in results] == [
        "ok",
        errors.NOT_ELIGIBLE,
        errors.UNKNOWN_OPTION,
        errors.NOT_ELIGIBLE,
        "ok",
        "ok",
    ]
    assert results[0].ballot.pk == results[5].ballot.pk  # one ballot for Ann, changed
    assert dict(Ballot.objects.filter(question=question).values_list("voter_id", "data")) == {
        ann.pk: {"choice": b},
        bob.pk: {"choice": b},
    }
    assert counts(question) == {b: 2, "_ballots": 2}
    assert [r.seq for r in results if r.error is None] == [1, 2, 3]
    assert tally_recount(question=question).ok


def test_a_batch_changes_ballots_cast_earlier_and_keeps_one_per_person(voting_consultation, ward):
    question = FACTORIES["approval"](consultation=voting_consultation, max_choices=2)
    a, b, c = (o.key for o in question.option_list)
    ann, bob = residents(ward, 2)
    ballot_cast(question=question, voter=ann, data={"choices": [a, b]})
    results = ballots_cast(question=question, votes=[(ann, {"choices": [c]}), (bob, {"choices": [a, c]})])
    assert all(r.error is None for r in results)
    assert Ballot.objects.filter(question=question).count() == 2
    assert counts(question) == {a: 1, c: 2, "_ballots": 2}
    assert tally_recount(question=question).ok


def test_final_once_cast_refuses_the_second_ballot_in_the_same_batch(voting_consultation, ward):
    question = FACTORIES["yes_no"](consultation=voting_consultation, final_once_cast=True)
    (ann,) = residents(ward, 1)
    results = ballots_cast(question=question, votes=[(ann, {"choice": "yes"}), (ann, {"choice": "no"})])
    assert results[0].error is None
    assert results[1].error.code == errors.FINAL_ONCE_CAST
    assert counts(question) == {"yes": 1, "_ballots": 1}


def test_secret_batch_records_who_voted_apart_from_how_and_refuses_a_second_ballot(voting_consultation, ward):
    question = FACTORIES["yes_no"](consultation=voting_consultation, secret=True, final_once_cast=True)
    people = residents(ward, 4)
    ballot_cast(question=question, voter=people[0], data={"choice": "no"})
    votes = [(p, {"choice": "yes"}) for p in people] + [(people[1], {"choice": "no"})]
    results = ballots_cast(question=question, votes=votes)
    assert [r.error.code if r.error else "ok" for r in results] == [
        errors.FINAL_ONCE_CAST,
        "ok",
        "ok",
        "ok",
        errors.FINAL_ONCE_CAST,
    ]
    assert Participation.objects.filter(question=question).count() == 4
    assert SealedBallot.objects.filter(question=question).count() == 4
    assert all(r.seq is None for r in results)  # no version of the tally includes them yet
    assert tally_recount(question=question).ok
    question_close(question=question)
    assert not Ballot.objects.filter(question=question, voter__isnull=False).exists()
    assert not Ballot.objects.filter(question=question, cast_at__isnull=False).exists()
    assert counts(question) == {"yes": 3, "no": 1, "_ballots": 4}
    assert tally_recount(question=question).ok


def test_a_batch_on_a_question_closed_meanwhile_stores_nothing_and_leaves_the_seq(voting_consultation, ward):
    question = FACTORIES["yes_no"](consultation=voting_consultation)
    people = residents(ward, 3)
    # Read while open; closed before the batch takes the lock (the lock re-reads the state).
    stale = Question.objects.get(pk=question.pk)
    question_close(question=question)
    before = seq_of(question)
    results = ballots_cast(question=stale, votes=[(p, {"choice": "yes"}) for p in people])
    assert {r.error.code for r in results} == {errors.QUESTION_CLOSED}
    assert seq_of(question) == before
    assert not Ballot.objects.filter(question=question).exists()


def test_a_batch_costs_the_same_number_of_queries_whatever_its_size(voting_consultation, ward):
    question = FACTORIES["single"](consultation=voting_consultation)
    a, b, _c = (o.key for o in question.option_list)
    small, large = residents(ward, 3), residents(ward, 60)
    # Warm per-process caches (content types, the consultation's wards) so both are measured alike.
    ballots_cast(question=question, votes=[(residents(ward, 1)[0], {"choice": a})])

    def measure(people, choice):
        question_now = Question.objects.get(pk=question.pk)
        with CaptureQueriesContext(connection) as queries:
            results = ballots_cast(question=question_now, votes=[(p, {"choice": choice}) for p in people])
        assert all(r.error is None for r in results)
        return len(queries)

    new_small, new_large = measure(small, a), measure(large, a)
    changed_small, changed_large = measure(small, b), measure(large, b)
    assert new_small == new_large
    assert changed_small == changed_large
    # One of them reads the consultation's view restrictions (the visibility gate, ``cms.visibility``).
    assert max(new_large, changed_large) <= 17
    assert counts(question) == {a: 1, b: 63, "_ballots": 64}


def test_random_batches_end_where_the_same_votes_one_by_one_end(home_page, ward):
    """Fifty rounds of random votes (changes, repeats, invalid ballots) by six people, cast once in
    random batches and once one at a time on a twin question: the stored ballots and counts agree."""
    from tests.voting.factories import make_consultation

    consultation = make_consultation(home_page, wards=[ward])
    batched = FACTORIES["approval"](consultation=consultation, max_choices=2)
    single = FACTORIES["approval"](consultation=consultation, max_choices=2)
    people = residents(ward, 6)
    keys_b = [o.key for o in batched.option_list]
    keys_s = [o.key for o in single.option_list]
    rng = random.Random(2026)
    for _round in range(50):
        votes = []
        for _ in range(rng.randint(1, 8)):
            person = rng.choice(people)
            picks = rng.sample(range(3), rng.choice([1, 1, 2, 3]))  # three choices is over the limit
            votes.append((person, picks))
        results = ballots_cast(
            question=batched, votes=[(p, {"choices": [keys_b[i] for i in picks]}) for p, picks in votes]
        )
        for (person, picks), result in zip(votes, results, strict=True):
            try:
                ballot_cast(question=single, voter=person, data={"choices": [keys_s[i] for i in picks]})
                assert result.error is None
            except BallotError as exc:
                assert result.error is not None and result.error.code == exc.code
    translate = dict(zip(keys_s, keys_b, strict=True)) | {"_ballots": "_ballots"}
    assert counts(batched) == {translate[k]: v for k, v in counts(single).items()}
    assert tally_recount(question=batched).ok and tally_recount(question=single).ok
    stored = lambda q: dict(Ballot.objects.filter(question=q).values_list("voter_id", "data"))  # noqa: E731
    assert stored(batched) == {
        voter: {"choices": [translate[k] for k in data["choices"]]} for voter, data in stored(single).items()
    }
    assert seq_of(batched) == seq_of(single)
