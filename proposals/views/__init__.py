"""Thin views: parse, ask the rules, call a service, render. Every page works without JavaScript."""

from proposals.views.common import RATES
from proposals.views.moderation import (
    appeal_create,
    appeal_list,
    appeal_review,
    flag_item,
    moderation_item,
    moderation_log,
    moderation_queue,
    moderation_statistics,
    my_notices,
)
from proposals.views.proposals import (
    proposal_create,
    proposal_detail,
    proposal_list,
    proposal_new,
    proposal_status,
    proposal_support,
)
from proposals.views.threads import (
    comment_create,
    comment_delete,
    comment_edit,
    comment_history,
    comment_reply,
    consultation_thread,
)

__all__ = [
    "RATES",
    "appeal_create",
    "appeal_list",
    "appeal_review",
    "comment_create",
    "comment_delete",
    "comment_edit",
    "comment_history",
    "comment_reply",
    "consultation_thread",
    "flag_item",
    "moderation_item",
    "moderation_log",
    "moderation_queue",
    "moderation_statistics",
    "my_notices",
    "proposal_create",
    "proposal_detail",
    "proposal_list",
    "proposal_new",
    "proposal_status",
    "proposal_support",
]
