"""Who may do what with proposals, threads and moderation. Built on the consultation's permissions.

Objects: ``add_proposal`` and ``add_comment`` take the target (a ``ConsultationPage`` or a
``Proposal``); ``support_proposal`` and ``change_status`` a ``Proposal``; ``reply_comment``,
``edit_comment``, ``delete_comment`` a ``Comment``; ``flag`` a ``Comment`` or ``Proposal``;
``appeal`` a ``ModerationAction``. ``moderate`` takes no object.
"""

from __future__ import annotations

import rules

from accounts.rules import can_participate, is_council_staff, is_moderator
from cms import visibility
from cms.visibility import is_open_to, is_seen_by
from consultations.models import ConsultationPage
from consultations.phases import Action
from consultations.rules import is_eligible, phase_allows
from proposals.models import (
    APPEALABLE_KINDS,
    SUPPORTABLE_STATUSES,
    Comment,
    CommentState,
    Proposal,
)

_COMMENT_STATES = {
    CommentState.VISIBLE: visibility.State.VISIBLE,
    CommentState.HIDDEN: visibility.State.HIDDEN,
    CommentState.REMOVED: visibility.State.REMOVED,
}

visibility.register(
    Proposal,
    parent=lambda proposal: proposal.consultation,
    state=lambda proposal: visibility.State.HIDDEN if proposal.is_hidden else visibility.State.VISIBLE,
)
visibility.register(
    Comment,
    parent=lambda comment: comment.proposal if comment.proposal_id else comment.consultation,
    state=lambda comment: _COMMENT_STATES[comment.state],
)


def _consultation(target) -> ConsultationPage | None:
    if isinstance(target, ConsultationPage):
        return target
    if isinstance(target, Proposal):
        return target.consultation
    if isinstance(target, Comment):
        return target.proposal.consultation if target.proposal_id else target.consultation
    return None


@rules.predicate
def may_propose_in(user, consultation) -> bool:
    return isinstance(consultation, ConsultationPage) and rules.has_perm(
        "consultations.propose", user, consultation
    )


@rules.predicate
def may_support_in(user, proposal) -> bool:
    return rules.has_perm("consultations.support", user, proposal.consultation)


_comment_phase = phase_allows(Action.COMMENT)


@rules.predicate
def may_comment_in(user, target) -> bool:
    """Eligible people may comment while the phase allows it; council staff may answer in any such phase."""
    consultation = _consultation(target)
    if consultation is None or not can_participate(user):
        return False
    # Asked once per comment when a thread renders; the answer is the same for the whole consultation
    # within one request (the objects live only that long), so remember it on the consultation.
    memo = consultation.__dict__.setdefault("_townhall_may_comment", {})
    if user.pk not in memo:
        memo[user.pk] = bool(
            _comment_phase(user, consultation) and (is_eligible(user, consultation) or is_council_staff(user))
        )
    return memo[user.pk]


@rules.predicate
def target_is_visible(user, target) -> bool:
    if isinstance(target, Proposal):
        return not target.is_hidden
    if isinstance(target, Comment):
        return target.state == CommentState.VISIBLE and (
            not target.proposal_id or not target.proposal.is_hidden
        )
    return target is not None


@rules.predicate
def is_supportable(user, proposal) -> bool:
    return proposal.status in SUPPORTABLE_STATUSES and not proposal.is_hidden


@rules.predicate
def is_author(user, item) -> bool:
    return bool(user and user.is_authenticated and item is not None and item.author_id == user.pk)


@rules.predicate
def comment_not_removed(user, comment) -> bool:
    return comment.state != CommentState.REMOVED


@rules.predicate
def is_action_subject(user, action) -> bool:
    return bool(user and user.is_authenticated and action.target_user_id == user.pk)


@rules.predicate
def is_appealable(user, action) -> bool:
    return action.kind in APPEALABLE_KINDS and not hasattr_appeal(action)


def hasattr_appeal(action) -> bool:
    try:
        return action.appeal is not None
    except action.__class__.appeal.RelatedObjectDoesNotExist:
        return False


@rules.predicate
def can_see_hidden(user, item) -> bool:
    return bool(is_moderator(user) or is_council_staff(user) or is_author(user, item))


rules.add_perm("proposals.add_proposal", may_propose_in)
rules.add_perm("proposals.support_proposal", is_supportable & ~is_author & is_open_to & may_support_in)
rules.add_perm("proposals.add_comment", target_is_visible & is_open_to & may_comment_in)
rules.add_perm("proposals.reply_comment", target_is_visible & is_open_to & may_comment_in)
rules.add_perm("proposals.edit_comment", is_author & can_participate & target_is_visible & is_seen_by)
rules.add_perm("proposals.delete_comment", is_author & comment_not_removed)
rules.add_perm("proposals.flag", can_participate & ~is_author & target_is_visible & is_seen_by)
rules.add_perm("proposals.view_hidden", can_see_hidden)
rules.add_perm("proposals.moderate", is_moderator & can_participate)
# The same check as a plain rule, for the header's "Moderation" link: asking it does not consult
# Django's model permissions (two queries on every signed-in page).
rules.add_rule("proposals.moderate", is_moderator & can_participate)
rules.add_perm("proposals.change_status", is_council_staff)
rules.add_perm("proposals.appeal", is_action_subject & is_appealable)
rules.add_perm("proposals.review_appeal", is_moderator & can_participate)
