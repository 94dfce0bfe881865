"""The triage aid, exhaustively: every band of every factor, the threshold, and the statutory duty."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consultations.triage import WIDE_THRESHOLD, Reversibility, TriageInput, recommend

# (value, expected points) at each band's edges.
PEOPLE = [(0, 0), (99, 0), (100, 1), (999, 1), (1_000, 2), (9_999, 2), (10_000, 3), (5_000_000, 3)]
WARDS = [((1, False), 0), ((2, False), 1), ((3, False), 1), ((4, False), 2), ((7, False), 2), ((8, True), 3)]
BUDGET = [(0, 0), (9_999, 0), (10_000, 1), (99_999, 1), (100_000, 2), (999_999, 2), (1_000_000, 3)]
REVERSIBILITY = [(Reversibility.EASY, 0), (Reversibility.COSTLY, 1), (Reversibility.PERMANENT, 2)]
INTEREST = [(0, 0), (1, 1), (49, 1), (50, 2), (499, 2), (500, 3), (100_000, 3)]


def _input(
    people=0, wards=(1, False), budget=0, reversibility=Reversibility.EASY, statutory=False, interest=0
):
    return TriageInput(
        people_affected=people,
        wards_affected=wards[0],
        whole_area=wards[1],
        budget=Decimal(budget),
        reversibility=reversibility,
        statutory_duty=statutory,
        interest_signals=interest,
    )


@pytest.mark.parametrize(("value", "points"), PEOPLE)
def test_people_affected_bands(value, points):
    factor = recommend(_input(people=value)).factors[0]
    assert (factor.name, factor.points) == ("people_affected", points)


@pytest.mark.parametrize(("value", "points"), WARDS)
def test_ward_bands_and_whole_area(value, points):
    factor = recommend(_input(wards=value)).factors[1]
    assert (factor.name, factor.points) == ("wards", points)


@pytest.mark.parametrize(("value", "points"), BUDGET)
def test_budget_bands(value, points):
    assert recommend(_input(budget=value)).factors[2].points == points


@pytest.mark.parametrize(("value", "points"), REVERSIBILITY)
def test_reversibility(value, points):
    assert recommend(_input(reversibility=value)).factors[3].points == points


@pytest.mark.parametrize(("value", "points"), INTEREST)
def test_public_interest_bands(value, points):
    assert recommend(_input(interest=value)).factors[4].points == points


def test_every_combination_scores_the_sum_and_recommends_by_the_threshold():
    """All 8 x 6 x 7 x 3 x 7 x 2 combinations of band edges."""
    checked = 0
    for people, wards, budget, rev, interest, statutory in itertools.product(
        PEOPLE, WARDS, BUDGET, REVERSIBILITY, INTEREST, (False, True)
    ):
        result = recommend(_input(people[0], wards[0], budget[0], rev[0], statutory, interest[0]))
        expected = people[1] + wards[1] + budget[1] + rev[1] + interest[1]
        assert result.score == expected
        assert result.max_score == 14
        assert result.threshold == WIDE_THRESHOLD
        wide = statutory or expected >= WIDE_THRESHOLD
        assert result.track == ("wide" if wide else "panel")
        # Every factor explains itself in words, and the summary states the score.
        assert len(result.reasons) == (6 if statutory else 5)
        assert all(reason.strip() for reason in result.reasons)
        if not statutory:
            assert f"scores {expected} of 14" in result.summary
        checked += 1
    assert checked == 8 * 6 * 7 * 3 * 7 * 2


def test_statutory_duty_recommends_wide_whatever_the_score_and_says_so():
    result = recommend(_input(statutory=True))
    assert result.score == 0 and result.track == "wide"
    assert "statutory duty" in result.summary
    assert "The law requires the council to consult" in result.reasons[-1]


def test_threshold_edge():
    # 2 (people) + 2 (wards) + 1 (budget) = 5: panel; one more point: wide.
    below = recommend(_input(people=1_000, wards=(4, False), budget=10_000))
    assert (below.score, below.track) == (5, "panel")
    at = recommend(_input(people=1_000, wards=(4, False), budget=10_000, interest=1))
    assert (at.score, at.track) == (6, "wide")


@pytest.mark.parametrize("field", ["people", "budget", "interest"])
def test_negative_inputs_are_refused(field):
    with pytest.raises(ValueError, match="cannot be negative"):
        recommend(_input(**{field: -1}))


def test_unknown_reversibility_is_refused():
    with pytest.raises(ValueError):
        recommend(_input(reversibility="maybe"))


counts = st.integers(min_value=0, max_value=10**7)


@given(
    people=counts,
    extra=counts,
    budget=counts,
    interest=counts,
    wards=st.integers(1, 20),
    rev=st.sampled_from(list(Reversibility)),
)
def test_more_of_anything_never_makes_a_panel_more_likely(people, extra, budget, interest, wards, rev):
    base = recommend(_input(people, (wards, False), budget, rev, False, interest))
    for bigger in (
        _input(people + extra, (wards, False), budget, rev, False, interest),
        _input(people, (wards + 1, False), budget, rev, False, interest),
        _input(people, (wards, False), budget + extra, rev, False, interest),
        _input(people, (wards, False), budget, rev, False, interest + extra),
        _input(people, (wards, True), budget, rev, False, interest),
    ):
        result = recommend(bigger)
        assert result.score >= base.score
        if base.track == "wide":
            assert result.track == "wide"
