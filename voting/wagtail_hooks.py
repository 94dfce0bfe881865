"""Councillors and officers create and edit questions of every kind in the Wagtail admin.

Each kind is registered on its own (registering the polymorphic base would "add" bare base rows).
Ballots, participations and counts are deliberately not in the admin: no admin view may link a voter
to a choice, and counts change only through ``ballot_cast`` and ``tally_recount``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from voting.models import (
    ApprovalQuestion,
    BudgetQuestion,
    RankedQuestion,
    ScoreQuestion,
    SingleChoiceQuestion,
    YesNoQuestion,
)


def _viewset(model, icon: str) -> type[SnippetViewSet]:
    return type(
        f"{model.__name__}ViewSet",
        (SnippetViewSet,),
        {
            "model": model,
            "icon": icon,
            "list_display": ["title", "consultation", "opens_at", "closes_at"],
            "search_fields": ["title"],
            "ordering": ["-created_at"],
        },
    )


class VotingGroup(ViewSetGroup):
    menu_label = _("Votes")
    menu_icon = "tasks"
    menu_order = 230
    items = (
        _viewset(YesNoQuestion, "tick-inverse"),
        _viewset(SingleChoiceQuestion, "radio-full"),
        _viewset(ApprovalQuestion, "list-ul"),
        _viewset(RankedQuestion, "order"),
        _viewset(ScoreQuestion, "pick"),
        _viewset(BudgetQuestion, "form"),
    )


register_snippet(VotingGroup)
