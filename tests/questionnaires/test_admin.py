"""Councillors build questionnaires in the Wagtail admin; conditions are checked when they save."""

from __future__ import annotations

import pytest
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from questionnaires.models import Questionnaire
from tests import factories

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/snippets/questionnaires/questionnaire/add/"
NO_CONDITION = {"code": "", "op": "is", "value": ""}


def options(*labels: str) -> dict:
    data = {str(i): {"value": label, "deleted": "", "order": str(i)} for i, label in enumerate(labels)}
    data["count"] = str(len(labels))
    return data


def question(code: str, text: str, condition=None, **extra) -> dict:
    return {"code": code, "text": text, "hint": "", "condition": condition or NO_CONDITION, **extra}


def admin_post(consultation, pages) -> dict:
    return nested_form_data(
        {
            "consultation": str(consultation.pk),
            "title": "Bus station questionnaire",
            "intro": "Five minutes.",
            "respondents": "email",
            "pages": streamfield(pages),
        }
    )


def stream_errors(response) -> list[str]:
    """The questionnaire-wide errors the admin shows above the pages."""
    (error,) = response.context["form"].errors.as_data()["pages"]
    return [str(message) for e in error.non_block_errors.as_data() for message in e.messages]


def page(items, title="", condition=None) -> tuple:
    return ("page", {"title": title, "condition": condition or NO_CONDITION, "items": streamfield(items)})


def sound_pages() -> list:
    return [
        page(
            [
                ("information", rich_text("<p>About the bus station.</p>")),
                (
                    "single_choice",
                    question(
                        "travel",
                        "How do you travel?",
                        required="on",
                        options=options("Bus", "Car"),
                        allow_other="on",
                    ),
                ),
            ]
        ),
        page(
            [("long_text", question("why", "Why?", max_length="300"))],
            title="Buses",
            condition={"code": "travel", "op": "is", "value": "Bus"},
        ),
        page(
            [
                ("agreement", question("agree", "The station should open in 2027")),
                ("ranking", question("rank", "Rank these", options=options("Cost", "Speed"))),
                ("number", question("visits", "Visits a month", min="0", max="60", whole="on")),
                ("date", question("when", "When did you last go?")),
                ("postcode", question("postcode", "Your postcode")),
                ("multiple_choice", question("improve", "Improve what?", options=options("Seats", "Lights"))),
                ("short_text", question("else", "Anything else?")),
            ]
        ),
    ]


def test_a_councillor_builds_a_questionnaire_with_a_condition(client, councillor, consultation):
    client.force_login(councillor)
    assert client.get(ADD_URL).status_code == 200
    response = client.post(ADD_URL, admin_post(consultation, sound_pages()))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    questionnaire = Questionnaire.objects.get(consultation=consultation)
    definition = questionnaire.definition()
    assert [len(p["items"]) for p in definition["pages"]] == [2, 1, 7]
    assert definition["pages"][1]["condition"] == {"code": "travel", "op": "is", "value": "Bus"}
    travel = definition["pages"][0]["items"][1]
    assert travel["options"] == ["Bus", "Car"] and travel["allow_other"] and travel["required"]
    assert definition["pages"][2]["items"][2] == {
        "kind": "number",
        "code": "visits",
        "text": "Visits a month",
        "hint": "",
        "required": False,
        "condition": None,
        "min": "0",
        "max": "60",
        "whole": True,
    }


def test_a_cycle_of_conditions_is_refused_at_save_with_the_questions_named(client, councillor, consultation):
    client.force_login(councillor)
    pages = [
        page([("short_text", question("a", "A?", condition={"code": "c", "op": "is", "value": "x"}))]),
        page([("short_text", question("b", "B?", condition={"code": "a", "op": "is", "value": "x"}))]),
        page([("short_text", question("c", "C?", condition={"code": "b", "op": "is", "value": "x"}))]),
    ]
    response = client.post(ADD_URL, admin_post(consultation, pages))
    assert response.status_code == 200
    (problem,) = stream_errors(response)
    assert problem == "These questions depend on each other in a circle: “a” → “c” → “b” → “a”."
    assert not Questionnaire.objects.exists()


def test_a_condition_on_a_later_question_is_refused_at_save(client, councillor, consultation):
    client.force_login(councillor)
    pages = [
        page(
            [
                (
                    "short_text",
                    question("first", "First?", condition={"code": "second", "op": "is", "value": "x"}),
                )
            ]
        ),
        page([("short_text", question("second", "Second?"))]),
    ]
    response = client.post(ADD_URL, admin_post(consultation, pages))
    assert response.status_code == 200
    (problem,) = stream_errors(response)
    assert problem.startswith("Question “first” depends on question “second”, which comes after it.")
    assert not Questionnaire.objects.exists()


def test_residents_cannot_build_questionnaires(client, consultation, ward):
    client.force_login(factories.ResidentFactory(ward=ward))
    assert client.get(ADD_URL).status_code in (302, 403)
    client.post(ADD_URL, admin_post(consultation, sound_pages()))
    assert not Questionnaire.objects.exists()
