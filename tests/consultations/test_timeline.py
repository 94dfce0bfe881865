"""Status and allowed actions at each moment of a timeline, with the clock frozen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from consultations import timeline
from consultations.models import Outcome, Phase
from consultations.phases import Action, PhaseKind, Status
from tests.consultations.factories import make_consultation

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _phases(*spec):
    """spec: (kind, start day, end day) relative to T0."""
    return [Phase(kind=k, starts_at=T0 + s * DAY, ends_at=T0 + e * DAY) for k, s, e in spec]


FULL = _phases(
    (PhaseKind.INFORMATION, 0, 7),
    (PhaseKind.PROPOSALS, 7, 14),
    (PhaseKind.DELIBERATION, 14, 21),
    (PhaseKind.VOTING, 21, 28),
    (PhaseKind.OUTCOME, 28, 35),
)

MOMENTS = [
    # (offset from T0, status, phase kind running, actions)
    (-DAY, Status.UPCOMING, None, set()),
    (-timedelta(seconds=1), Status.UPCOMING, None, set()),
    (timedelta(0), Status.OPEN, PhaseKind.INFORMATION, {Action.COMMENT}),
    (3 * DAY, Status.OPEN, PhaseKind.INFORMATION, {Action.COMMENT}),
    (7 * DAY - timedelta(seconds=1), Status.OPEN, PhaseKind.INFORMATION, {Action.COMMENT}),
    (7 * DAY, Status.OPEN, PhaseKind.PROPOSALS, {Action.PROPOSE, Action.SUPPORT, Action.COMMENT}),
    (14 * DAY, Status.OPEN, PhaseKind.DELIBERATION, {Action.SUPPORT, Action.COMMENT}),
    (21 * DAY, Status.OPEN, PhaseKind.VOTING, {Action.VOTE, Action.COMMENT}),
    (28 * DAY - timedelta(seconds=1), Status.OPEN, PhaseKind.VOTING, {Action.VOTE, Action.COMMENT}),
    (28 * DAY, Status.CLOSED, PhaseKind.OUTCOME, set()),
    (35 * DAY, Status.CLOSED, None, set()),
    (400 * DAY, Status.CLOSED, None, set()),
]


@pytest.mark.parametrize(("offset", "status", "kind", "actions"), MOMENTS)
def test_pure_timeline_at_each_moment(offset, status, kind, actions):
    when = T0 + offset
    assert timeline.status_at(FULL, when) == status
    phase = timeline.phase_at(FULL, when)
    assert (phase.kind if phase else None) == kind
    assert timeline.actions_at(FULL, when) == actions


def test_a_published_outcome_makes_it_decided_and_stops_every_action():
    assert timeline.status_at(FULL, T0 + 22 * DAY, decided=True) == Status.DECIDED
    assert timeline.actions_at(FULL, T0 + 22 * DAY, decided=True) == frozenset()


def test_no_phases_is_upcoming():
    assert timeline.status_at([], T0) == Status.UPCOMING
    assert timeline.participation_ends_at([]) is None


def test_an_intended_gap_is_open_with_nothing_to_do_and_says_what_comes_next():
    phases = _phases((PhaseKind.INFORMATION, 0, 7), (PhaseKind.VOTING, 10, 14))
    when = T0 + 8 * DAY
    assert timeline.status_at(phases, when) == Status.OPEN
    assert timeline.phase_at(phases, when) is None
    assert timeline.actions_at(phases, when) == frozenset()
    assert timeline.next_phase(phases, when).kind == PhaseKind.VOTING


def test_a_timeline_with_only_an_outcome_phase_closes_when_it_ends():
    phases = _phases((PhaseKind.OUTCOME, 0, 7))
    assert timeline.status_at(phases, T0 + DAY) == Status.OPEN
    assert timeline.status_at(phases, T0 + 7 * DAY) == Status.CLOSED


@pytest.mark.parametrize(("offset", "status", "kind", "actions"), MOMENTS)
def test_page_status_and_actions_with_frozen_clock(index, offset, status, kind, actions):
    page = make_consultation(index, start=T0, days=7)
    with time_machine.travel(T0 + offset, tick=False):
        page = type(page).objects.get(pk=page.pk)
        assert page.status == status
        assert (page.current_phase.kind if page.current_phase else None) == kind
        assert page.actions_at() == actions


@pytest.mark.parametrize(
    ("status", "offset"),
    [
        (Status.UPCOMING, -DAY),
        (Status.OPEN, 10 * DAY),
        (Status.CLOSED, 30 * DAY),
    ],
)
def test_database_status_filter_matches_the_timeline(index, status, offset):
    pages = {
        Status.UPCOMING: make_consultation(index, start=T0 + DAY, days=7),
        Status.OPEN: make_consultation(index, start=T0 - 5 * DAY, days=7),
        Status.CLOSED: make_consultation(index, start=T0 - 40 * DAY, days=7),
        Status.DECIDED: make_consultation(index, start=T0 - 60 * DAY, days=7),
    }
    Outcome.objects.create(
        consultation=pages[Status.DECIDED], decision="Done", reasons="<p>Why</p>", published_at=T0 - DAY
    )
    when = T0 + offset
    from consultations.models import ConsultationPage

    for wanted in Status.values:
        found = set(ConsultationPage.objects.with_status(wanted, when).values_list("pk", flat=True))
        expected = {
            p.pk for p in pages.values() if ConsultationPage.objects.get(pk=p.pk).status_at(when) == wanted
        }
        assert found == expected, wanted
