"""Who may do what, when: roles x actions x phases, on both tracks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import roles
from consultations.models import ConsultationPage, Outcome, Track
from consultations.phases import Action, PhaseKind
from tests import factories
from tests.consultations.factories import make_consultation

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
#: A moment inside each phase of a 7-day-per-phase timeline starting at T0, plus before and after.
MOMENTS = {
    "before": T0 - DAY,
    PhaseKind.INFORMATION: T0 + 1 * DAY,
    PhaseKind.PROPOSALS: T0 + 8 * DAY,
    PhaseKind.DELIBERATION: T0 + 15 * DAY,
    PhaseKind.VOTING: T0 + 22 * DAY,
    PhaseKind.OUTCOME: T0 + 29 * DAY,
    "after": T0 + 40 * DAY,
}
ALLOWED = {
    "before": set(),
    PhaseKind.INFORMATION: {Action.COMMENT},
    PhaseKind.PROPOSALS: {Action.PROPOSE, Action.SUPPORT, Action.COMMENT},
    PhaseKind.DELIBERATION: {Action.SUPPORT, Action.COMMENT},
    PhaseKind.VOTING: {Action.VOTE, Action.COMMENT},
    PhaseKind.OUTCOME: set(),
    "after": set(),
}
PERSONS = [
    "visitor",
    "resident_in_ward",
    "resident_elsewhere",
    "unverified_resident",
    "suspended_resident",
    "panel_member",
    "panel_member_suspended",
    "councillor",
    "moderator",
    "officer",
]
#: Who is eligible on each track (before the phase is considered).
ELIGIBLE = {
    Track.WIDE: {"resident_in_ward"},
    Track.PANEL: {"panel_member"},
}


@pytest.fixture
def world(index, ward):
    other_ward = factories.WardFactory()
    panel = factories.PanelFactory()
    people = {
        "visitor": None,
        "resident_in_ward": factories.ResidentFactory(ward=ward),
        "resident_elsewhere": factories.ResidentFactory(ward=other_ward),
        "unverified_resident": factories.ResidentFactory(ward=ward, email_verified_at=None),
        "suspended_resident": factories.ResidentFactory(ward=ward, suspended_until=T0 + 1000 * DAY),
        "panel_member": factories.UserFactory(ward=other_ward),
        "panel_member_suspended": factories.UserFactory(ward=other_ward, suspended_until=T0 + 1000 * DAY),
        "councillor": factories.CouncillorFactory(ward=ward),
        "moderator": factories.ModeratorFactory(ward=ward),
        "officer": factories.OfficerFactory(ward=ward),
    }
    for key in ("panel_member", "panel_member_suspended"):
        factories.PanelMembershipFactory(panel=panel, user=people[key])
    pages = {
        Track.WIDE: make_consultation(index, start=T0, track=Track.WIDE, wards=[ward]),
        Track.PANEL: make_consultation(index, start=T0, track=Track.PANEL, panel=panel, wards=[ward]),
    }
    return people, pages


def _user(people, key):
    from django.contrib.auth.models import AnonymousUser

    user = people[key]
    return AnonymousUser() if user is None else type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize("track", [Track.WIDE, Track.PANEL])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_matrix(world, track, moment):
    people, pages = world
    with time_machine.travel(MOMENTS[moment], tick=False):
        page = ConsultationPage.objects.get(pk=pages[track].pk)
        failures = []
        for person in PERSONS:
            user = _user(people, person)
            for action in Action.values:
                expected = person in ELIGIBLE[track] and action in ALLOWED[moment]
                if user.has_perm(f"consultations.{action}", page) != expected:
                    failures.append((person, action, expected))
        assert not failures


def test_whole_area_consultation_lets_any_active_resident_take_part(world, index):
    people, _pages = world
    page = make_consultation(index, start=timezone.now() - timedelta(days=8))  # proposals phase, no wards
    assert _user(people, "resident_elsewhere").has_perm("consultations.propose", page)
    assert not _user(people, "unverified_resident").has_perm("consultations.propose", page)


def test_a_published_outcome_closes_every_action(world):
    people, pages = world
    with time_machine.travel(MOMENTS[PhaseKind.VOTING], tick=False):
        Outcome.objects.create(
            consultation=pages[Track.WIDE],
            decision="Decided early",
            reasons="<p>x</p>",
            published_at=timezone.now(),
        )
        page = ConsultationPage.objects.get(pk=pages[Track.WIDE].pk)
        assert not _user(people, "resident_in_ward").has_perm("consultations.vote", page)


@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("track", [Track.WIDE, Track.PANEL])
def test_who_may_ask_for_a_wider_say(world, track, moment):
    people, pages = world
    with time_machine.travel(MOMENTS[moment], tick=False):
        page = ConsultationPage.objects.get(pk=pages[track].pk)
        allowed = {p for p in PERSONS if _user(people, p).has_perm("consultations.request_escalation", page)}
    still_open = moment not in (PhaseKind.OUTCOME, "after")
    expected = {"resident_in_ward"} if track == Track.PANEL and still_open else set()
    assert allowed == expected


@pytest.mark.parametrize("person", PERSONS)
def test_manage_is_for_council_staff_only(world, person):
    people, pages = world
    assert _user(people, person).has_perm("consultations.manage", pages[Track.WIDE]) == (
        person in {"councillor", "officer"}
    )


def test_residents_group_is_required_for_wide_participation(world, ward):
    _people, pages = world
    outsider = factories.UserFactory(ward=ward)  # verified, in the ward, but not a resident account
    with time_machine.travel(MOMENTS[PhaseKind.PROPOSALS], tick=False):
        page = ConsultationPage.objects.get(pk=pages[Track.WIDE].pk)
        assert not type(outsider).objects.get(pk=outsider.pk).has_perm("consultations.propose", page)
        roles.grant(outsider, roles.RESIDENT)
        assert type(outsider).objects.get(pk=outsider.pk).has_perm("consultations.propose", page)
