"""Writes: proposals, supports, comments, flags, moderation actions and appeals.

Every service is keyword-only, checks the rules itself (so a view, a consumer or a script cannot skip
them), validates with ``full_clean()``, keeps the proposal's counters in the same transaction, and
schedules emails and live broadcasts with ``transaction.on_commit``. Refusals raise
``ProposalError`` with a message meant for the person who tried.

One module per area: ``proposals`` (submitting, lifecycle, supports, counters), ``threads``
(comments), ``moderation`` (flags, moderators' actions, appeals); what they share is in ``common``.
Callers import from here.
"""

from proposals.services.common import BODY_MAX, COMMENT_MAX, ProposalError
from proposals.services.moderation import (
    SUSPENSION_MAX_DAYS,
    appeal_review,
    appeal_submit,
    flag_create,
    flags_dismiss,
    item_hide,
    item_restore,
    user_suspend,
    user_warn,
)
from proposals.services.proposals import (
    proposal_change_status,
    proposal_counters_recount,
    proposal_submit,
    support_add,
)
from proposals.services.threads import comment_add, comment_delete, comment_edit

__all__ = [
    "BODY_MAX",
    "COMMENT_MAX",
    "SUSPENSION_MAX_DAYS",
    "ProposalError",
    "appeal_review",
    "appeal_submit",
    "comment_add",
    "comment_delete",
    "comment_edit",
    "flag_create",
    "flags_dismiss",
    "item_hide",
    "item_restore",
    "proposal_change_status",
    "proposal_counters_recount",
    "proposal_submit",
    "support_add",
    "user_suspend",
    "user_warn",
]
