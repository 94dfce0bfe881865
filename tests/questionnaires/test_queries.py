"""Query counts of the answering pages do not grow with the responses already stored."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from questionnaires.models import Response
from questionnaires.services import version_current

pytestmark = pytest.mark.django_db

#: The visibility gate reads the consultation page's view restrictions (and its ancestors') in one query.
MAX_QUERIES = 14


def add_responses(questionnaire, n: int) -> None:
    version = version_current(questionnaire=questionnaire)
    Response.objects.bulk_create(
        Response(
            questionnaire=questionnaire,
            version=version,
            email=f"r{i}@example.org",
            respondent_type="individual",
            connection=["live"],
            publication_consent="private",
            answers={"travel": {"selected": ["Bus"], "other": ""}, "bus-station": "Agree"},
            pages_saved=[1, 2],
        )
        for i in range(n)
    )


def counts(client, questionnaire) -> dict[str, int]:
    client.post(
        reverse("questionnaires:start", kwargs={"pk": questionnaire.pk}),
        {"respondent_type": "individual", "connection": ["live"], "publication_consent": "named"},
    )
    paths = {
        "start": reverse("questionnaires:start", kwargs={"pk": questionnaire.pk}),
        "page": reverse("questionnaires:page", kwargs={"pk": questionnaire.pk, "number": 3}),
        "check": reverse("questionnaires:check", kwargs={"pk": questionnaire.pk}),
    }
    result = {}
    for name, path in paths.items():
        client.get(path)  # first-use caches (content types, the site) are not the page's own cost
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        result[name] = len(captured)
    with CaptureQueriesContext(connection) as captured:
        assert client.post(paths["page"], {"q-comments": "Fine"}).status_code == 302
    result["answer a page"] = len(captured)
    return result


@pytest.mark.parametrize("respondents", ["anonymous", "residents"])
def test_answering_pages_do_not_grow_with_the_responses(client, consultation, ward, respondents):
    from tests import factories
    from tests.questionnaires.factories import make_questionnaire

    questionnaire = make_questionnaire(consultation, respondents=respondents)
    if respondents == "residents":
        client.force_login(factories.ResidentFactory(ward=ward))
    add_responses(questionnaire, 5)
    small = counts(client, questionnaire)
    Response.objects.filter(questionnaire=questionnaire).delete()
    client.cookies.clear()
    if respondents == "residents":
        client.force_login(factories.ResidentFactory(ward=ward))
    add_responses(questionnaire, 500)
    large = counts(client, questionnaire)
    assert small == large, (small, large)
    assert max(large.values()) <= MAX_QUERIES, large
