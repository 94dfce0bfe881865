"""Who may do what on a consultation, now. Every other app asks these permissions.

``consultations.<action>`` with a ``ConsultationPage`` as the object: the phase running now must
allow the action, and the person must be eligible on the consultation's track.
"""

from __future__ import annotations

import rules

from accounts.rules import can_participate, is_active_resident, is_council_staff, is_panel_member
from cms import visibility
from cms.visibility import is_open_to, is_seen_by
from consultations.models import ConsultationPage, Track
from consultations.phases import Action, Status

# The gate's view of a consultation: people take part only while it is open.
visibility.register(ConsultationPage, accepting=lambda page: page.status == Status.OPEN)


def _ward_ids(consultation) -> frozenset[int]:
    ward_ids = getattr(consultation, "_ward_ids", None)
    if ward_ids is None:
        ward_ids = frozenset(w.pk for w in consultation.wards.all())
        consultation._ward_ids = ward_ids
    return ward_ids


@rules.predicate
def lives_in_affected_ward(user, consultation) -> bool:
    """An active resident of an affected ward (any ward when none is set)."""
    if consultation is None or not is_active_resident(user):
        return False
    ward_ids = _ward_ids(consultation)
    return not ward_ids or user.ward_id in ward_ids


@rules.predicate
def is_panel_track(user, consultation) -> bool:
    return consultation is not None and consultation.track == Track.PANEL


@rules.predicate
def is_eligible(user, consultation) -> bool:
    """Eligible to take part: panel members on the panel track; residents of the wards on the wide track."""
    if consultation is None or not can_participate(user):
        return False
    if consultation.track == Track.PANEL:
        return is_panel_member(user, consultation.panel_id)
    return lives_in_affected_ward(user, consultation)


def phase_allows(action: str):
    @rules.predicate(name=f"phase_allows_{action}")
    def predicate(user, consultation) -> bool:
        return consultation is not None and action in consultation.actions_at()

    return predicate


@rules.predicate
def not_yet_closed(user, consultation) -> bool:
    return consultation is not None and consultation.status in (Status.UPCOMING, Status.OPEN)


@rules.predicate
def is_owner(user, consultation) -> bool:
    return bool(consultation is not None and user.is_authenticated and consultation.councillor_id == user.pk)


rules.add_perm("consultations.propose", is_open_to & is_eligible & phase_allows(Action.PROPOSE))
rules.add_perm("consultations.support", is_open_to & is_eligible & phase_allows(Action.SUPPORT))
rules.add_perm("consultations.comment", is_open_to & is_eligible & phase_allows(Action.COMMENT))
rules.add_perm("consultations.vote", is_open_to & is_eligible & phase_allows(Action.VOTE))
rules.add_perm("consultations.manage", is_council_staff)
#: "I want a say": residents who would take part on the wide track ask to move a panel consultation there.
rules.add_perm(
    "consultations.request_escalation",
    is_seen_by & is_panel_track & not_yet_closed & lives_in_affected_ward,
)
