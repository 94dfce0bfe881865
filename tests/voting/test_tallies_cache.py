"""Equal Shares results on pages: computed at most once per broadcast interval while ballots arrive,
always current for the broadcaster, and the completion and ties stated on the results page."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from tests import factories as base
from tests.voting.factories import BudgetQuestionFactory
from voting import selectors, tallies
from voting.models import BudgetMethod, Question, ResultsVisibility
from voting.services import ballot_cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def count_runs(monkeypatch):
    runs = []
    real = tallies.equal_shares

    def counted(*args, **kwargs):
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tallies, "equal_shares", counted)
    return runs


def _question(consultation, **kwargs):
    return BudgetQuestionFactory(
        consultation=consultation,
        method=BudgetMethod.EQUAL_SHARES,
        results_visibility=ResultsVisibility.LIVE,
        **kwargs,
    )


def _vote(question, ward, projects):
    voter = base.ResidentFactory(ward=ward)
    ballot_cast(question=question, voter=voter, data={"projects": projects})


def test_pages_reuse_a_result_for_one_broadcast_interval_and_the_broadcaster_always_gets_the_current_one(
    voting_consultation, ward, count_runs
):
    question = _question(voting_consultation)
    keys = [option.key for option in question.option_list]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _vote(question, ward, [keys[0]])
        first = selectors.tally_for(
            question=Question.objects.get(pk=question.pk), max_age=selectors.PAGE_MAX_AGE
        )
        assert len(count_runs) == 1
        for _ in range(5):
            _vote(question, ward, [keys[1]])
            again = selectors.tally_for(
                question=Question.objects.get(pk=question.pk), max_age=selectors.PAGE_MAX_AGE
            )
            assert again["seq"] == first["seq"]  # within the interval: the earlier result, no new count
        assert len(count_runs) == 1
        current = selectors.tally_for(question=Question.objects.get(pk=question.pk))
        assert current["seq"] == Question.objects.get(pk=question.pk).tally_seq
        assert current["result"]["ballots"] == 6
        assert len(count_runs) == 2
        _vote(question, ward, [keys[2]])
        clock.shift(selectors.PAGE_MAX_AGE + 0.01)
        later = selectors.tally_for(
            question=Question.objects.get(pk=question.pk), max_age=selectors.PAGE_MAX_AGE
        )
        assert later["result"]["ballots"] == 7
        assert len(count_runs) == 3
        # The same ballots are never counted twice, whoever asks.
        selectors.tally_for(question=Question.objects.get(pk=question.pk))
        assert len(count_runs) == 3


def test_results_page_states_the_share_how_the_completion_ended_and_which_rule_broke_each_tie(
    client, voting_consultation, ward
):
    question = _question(
        voting_consultation,
        budget=10_000,
        options=[("Play park", 4_000), ("Bike lane", 4_000), ("Benches", 9_000)],
    )
    park, lane, benches = (option.key for option in question.option_list)
    for projects in ([park, lane], [park, lane], [benches]):
        _vote(question, ward, projects)
    response = client.get(question.get_results_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert "How the money was shared out" in page
    assert "started with an equal share of the budget: £3,333.33" in page
    assert "Ties and how they were broken" in page
    assert "Round 1: Play park and Bike lane could be paid for at the same price per pound." in page
    assert "Play park was funded first because it is listed first on the ballot paper." in page
    assert "the cheaper one is funded first" in page
