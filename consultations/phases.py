"""Phases of a consultation and what each lets people do.

This is the one table the other apps ask: a proposal may be submitted only while a proposals phase
runs, a ballot cast only in a voting phase, and so on.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PhaseKind(models.TextChoices):
    INFORMATION = "information", _("Information")
    PROPOSALS = "proposals", _("Proposals")
    DELIBERATION = "deliberation", _("Deliberation")
    VOTING = "voting", _("Voting")
    OUTCOME = "outcome", _("Outcome")


class Action(models.TextChoices):
    PROPOSE = "propose", _("Submit a proposal")
    SUPPORT = "support", _("Support a proposal")
    COMMENT = "comment", _("Comment")
    VOTE = "vote", _("Vote")


ACTIONS_BY_PHASE: dict[str, frozenset[str]] = {
    PhaseKind.INFORMATION: frozenset({Action.COMMENT}),
    PhaseKind.PROPOSALS: frozenset({Action.PROPOSE, Action.SUPPORT, Action.COMMENT}),
    PhaseKind.DELIBERATION: frozenset({Action.SUPPORT, Action.COMMENT}),
    PhaseKind.VOTING: frozenset({Action.VOTE, Action.COMMENT}),
    PhaseKind.OUTCOME: frozenset(),
}

PHASE_ORDER = [kind for kind, _label in PhaseKind.choices]


class Status(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    DECIDED = "decided", _("Decided")
