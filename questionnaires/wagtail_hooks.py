"""Councillors and officers build questionnaires in the Wagtail admin, as snippets."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from questionnaires.models import Questionnaire


class QuestionnaireViewSet(SnippetViewSet):
    model = Questionnaire
    icon = "form"
    menu_label = _("Questionnaires")
    menu_order = 240
    add_to_admin_menu = True
    list_display = ["title", "consultation", "respondents", "updated_at"]
    search_fields = ["title"]
    ordering = ["-updated_at"]


register_snippet(QuestionnaireViewSet)
