"""Who may vote, see results and manage questions: roles x phases x tracks x question states."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from consultations.models import Track
from consultations.phases import PhaseKind
from tests import factories as base
from tests.voting.factories import FACTORIES, make_consultation
from voting.models import ResultsVisibility
from voting.selectors import results_visible_to

pytestmark = pytest.mark.django_db

ROLES = [
    "visitor",
    "resident",
    "other_ward",
    "unverified",
    "suspended",
    "councillor",
    "officer",
    "moderator",
    "panel_member",
]


@pytest.fixture
def people(ward, resident, councillor, officer, moderator):
    panel = base.PanelFactory()
    member = base.UserFactory(ward=ward)
    base.PanelMembershipFactory(panel=panel, user=member)
    return {
        "visitor": AnonymousUser(),
        "resident": resident,
        "other_ward": base.ResidentFactory(ward=base.WardFactory()),
        "unverified": base.ResidentFactory(ward=ward, email_verified_at=None),
        "suspended": base.ResidentFactory(ward=ward, suspended_until=timezone.now() + timedelta(days=2)),
        "councillor": councillor,
        "officer": officer,
        "moderator": moderator,
        "panel_member": member,
        "_panel": panel,
    }


WIDE_VOTERS = {"resident"}
PANEL_VOTERS = {"panel_member"}


@pytest.mark.parametrize("phase", [kind for kind, _label in PhaseKind.choices])
@pytest.mark.parametrize("role", ROLES)
def test_wide_track_vote_permission_by_role_and_phase(role, phase, people, home_page, ward):
    page = make_consultation(home_page, phase=phase, wards=[ward])
    question = FACTORIES["yes_no"](consultation=page)
    expected = role in WIDE_VOTERS and phase == PhaseKind.VOTING
    assert people[role].has_perm("voting.vote_question", question) is expected


@pytest.mark.parametrize("role", ROLES)
def test_panel_track_only_panel_members_vote(role, people, home_page, ward):
    page = make_consultation(home_page, wards=[ward], track=Track.PANEL, panel=people["_panel"])
    question = FACTORIES["approval"](consultation=page)
    assert people[role].has_perm("voting.vote_question", question) is (role in PANEL_VOTERS)


@pytest.mark.parametrize("state", ["upcoming", "open", "closed_by_time", "closed_early"])
def test_only_open_questions_take_votes(state, people, voting_consultation):
    now = timezone.now()
    question = FACTORIES["single"](consultation=voting_consultation)
    if state == "upcoming":
        question.opens_at, question.closes_at = now + timedelta(hours=1), now + timedelta(hours=3)
    elif state == "closed_by_time":
        question.opens_at, question.closes_at = now - timedelta(hours=3), now - timedelta(hours=1)
    elif state == "closed_early":
        question.closed_at = now - timedelta(seconds=1)
    question.save()
    assert question.status == ("closed" if state.startswith("closed") else state)
    assert people["resident"].has_perm("voting.vote_question", question) is (state == "open")


@pytest.mark.parametrize("visibility", [ResultsVisibility.LIVE, ResultsVisibility.AFTER_CLOSE])
@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("role", ROLES)
def test_results_visibility_matrix(role, closed, visibility, people, voting_consultation):
    now = timezone.now()
    question = FACTORIES["yes_no"](consultation=voting_consultation, results_visibility=visibility)
    if closed:
        question.opens_at, question.closes_at = now - timedelta(hours=3), now - timedelta(hours=1)
        question.save()
    expected = visibility == ResultsVisibility.LIVE or closed or role in {"councillor", "officer"}
    assert results_visible_to(question=question, user=people[role]) is expected


@pytest.mark.parametrize("role", ROLES)
def test_only_councillors_and_officers_manage_questions_of_every_kind(role, people):
    allowed = role in {"councillor", "officer"}
    user = people[role]
    assert user.has_perm("voting.manage_question") is allowed
    for model in (
        "yesnoquestion",
        "singlechoicequestion",
        "approvalquestion",
        "rankedquestion",
        "scorequestion",
        "budgetquestion",
    ):
        for verb in ("add", "change", "delete"):
            assert user.has_perm(f"voting.{verb}_{model}") is allowed
