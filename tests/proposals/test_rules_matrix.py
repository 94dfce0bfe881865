"""Who may do what, in every phase: roles x actions x phases, from the rules (never re-derived)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import rules
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from consultations.phases import PhaseKind
from tests import factories
from tests.proposals.factories import IdeaProposalFactory

ROLES = ["visitor", "resident", "resident_elsewhere", "unverified", "suspended", "moderator", "councillor"]
PHASES = [
    PhaseKind.INFORMATION,
    PhaseKind.PROPOSALS,
    PhaseKind.DELIBERATION,
    PhaseKind.VOTING,
    PhaseKind.OUTCOME,
]
COMMENT_PHASES = {PhaseKind.INFORMATION, PhaseKind.PROPOSALS, PhaseKind.DELIBERATION, PhaseKind.VOTING}
PARTICIPANTS = {"resident", "resident_elsewhere", "moderator", "councillor"}


def expected(role: str, action: str, phase: str) -> bool:
    if action == "add_proposal":
        return role == "resident" and phase == PhaseKind.PROPOSALS
    if action == "support_proposal":
        return role == "resident" and phase in {PhaseKind.PROPOSALS, PhaseKind.DELIBERATION}
    if action == "add_comment":
        return role in {"resident", "councillor"} and phase in COMMENT_PHASES
    if action == "flag":
        return role in PARTICIPANTS
    if action == "moderate":
        return role == "moderator"
    if action == "change_status":
        return role == "councillor"
    raise AssertionError(action)


def make_user(role: str, ward):
    if role == "visitor":
        return AnonymousUser()
    if role == "resident":
        return factories.ResidentFactory(ward=ward)
    if role == "resident_elsewhere":
        return factories.ResidentFactory()
    if role == "unverified":
        return factories.ResidentFactory(ward=ward, email_verified_at=None)
    if role == "suspended":
        return factories.ResidentFactory(ward=ward, suspended_until=timezone.now() + timedelta(days=3))
    if role == "moderator":
        return factories.ModeratorFactory()
    return factories.CouncillorFactory()


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(role, phase, make_in_phase, ward):
    consultation = make_in_phase(phase)
    proposal = IdeaProposalFactory(consultation=consultation)
    user = make_user(role, ward)
    objects = {
        "add_proposal": consultation,
        "support_proposal": proposal,
        "add_comment": proposal,
        "flag": proposal,
        "moderate": None,
        "change_status": proposal,
    }
    got = {action: rules.has_perm(f"proposals.{action}", user, obj) for action, obj in objects.items()}
    want = {action: expected(role, action, phase) for action in objects}
    assert got == want


def test_panel_track_lets_members_propose_and_not_residents(make_in_phase, ward):
    panel = factories.PanelFactory()
    member = factories.PanelMembershipFactory(panel=panel).user
    consultation = make_in_phase(PhaseKind.PROPOSALS, track="panel", panel=panel)
    assert rules.has_perm("proposals.add_proposal", member, consultation)
    assert not rules.has_perm("proposals.add_proposal", factories.ResidentFactory(ward=ward), consultation)


def test_nobody_supports_their_own_proposal(consultation, resident):
    own = IdeaProposalFactory(consultation=consultation, author=resident)
    assert not rules.has_perm("proposals.support_proposal", resident, own)
    assert not rules.has_perm("proposals.flag", resident, own)


def test_hidden_proposal_takes_no_comments_supports_or_flags(consultation, resident):
    hidden = IdeaProposalFactory(consultation=consultation, visibility="hidden")
    for action in ("add_comment", "support_proposal", "flag"):
        assert not rules.has_perm(f"proposals.{action}", resident, hidden)


@pytest.mark.parametrize("status", ["accepted", "rejected", "implemented"])
def test_decided_proposals_take_no_more_supports(consultation, resident, status):
    decided = IdeaProposalFactory(consultation=consultation, status=status)
    assert not rules.has_perm("proposals.support_proposal", resident, decided)
