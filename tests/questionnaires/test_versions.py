"""A questionnaire is frozen for its respondents: edits after the first response make a new version."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from questionnaires.models import QuestionnaireVersion, Response
from questionnaires.services import version_current
from tests.questionnaires.conftest import CommitClient
from tests.questionnaires.factories import page, question, standard_pages

pytestmark = pytest.mark.django_db

ABOUT = {"respondent_type": "individual", "connection": ["live"], "publication_consent": "private"}


def start(client: Client, questionnaire) -> None:
    client.post(reverse("questionnaires:start", kwargs={"pk": questionnaire.pk}), ABOUT)


def test_an_unchanged_questionnaire_keeps_its_version(questionnaire):
    first = version_current(questionnaire=questionnaire)
    assert version_current(questionnaire=questionnaire) == first
    assert first.number == 1 and first.definition == questionnaire.definition()


def test_edits_after_responses_began_make_a_new_version_and_each_response_keeps_its_own(consultation):
    from questionnaires.models import Respondents
    from tests.questionnaires.factories import make_questionnaire

    questionnaire = make_questionnaire(consultation, respondents=Respondents.ANONYMOUS)
    early = CommitClient()
    start(early, questionnaire)

    pages = standard_pages()
    pages[0] = page(question("short_text", "travel", "Where do you travel from?", required=True))
    questionnaire.pages = pages
    questionnaire.full_clean()
    questionnaire.save()

    late = CommitClient()
    start(late, questionnaire)
    first, second = Response.objects.order_by("pk")
    assert (first.version.number, second.version.number) == (1, 2)
    assert QuestionnaireVersion.objects.filter(questionnaire=questionnaire).count() == 2

    page_1 = reverse("questionnaires:page", kwargs={"pk": questionnaire.pk, "number": 1})
    assert "How do you usually travel to the town centre?" in early.get(page_1).content.decode()
    assert "Where do you travel from?" in late.get(page_1).content.decode()
    # Each answers the questions of its own version.
    early.post(page_1, {"q-travel": "Car"})
    late.post(page_1, {"q-travel": "Cardiff"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.answers == {"travel": {"selected": ["Car"], "other": ""}}
    assert second.answers == {"travel": "Cardiff"}
