"""Reads for questionnaires: the questionnaire a respondent may see, their response, where they are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from consultations.models import ConsultationPage
from questionnaires import definition as qdef
from questionnaires.models import Channel, Questionnaire, Response

SESSION_KEY = "questionnaire_responses"


def questionnaire_public(*, pk: int) -> Questionnaire | None:
    """A questionnaire whose consultation page is live and public, with its consultation's timeline."""
    consultations = ConsultationPage.objects.live().public()
    return (
        Questionnaire.objects.filter(pk=pk, consultation__in=consultations)
        .select_related("consultation", "consultation__panel")
        .prefetch_related("consultation__phases", "consultation__outcomes", "consultation__wards")
        .first()
    )


def questionnaire_for_consultation(*, consultation: ConsultationPage) -> Questionnaire | None:
    return (
        Questionnaire.objects.filter(consultation=consultation).only("pk", "title", "consultation_id").first()
    )


def _responses(questionnaire: Questionnaire) -> QuerySet[Response]:
    return Response.objects.filter(questionnaire=questionnaire).select_related("version")


def response_current(*, questionnaire: Questionnaire, user, session: Mapping[str, Any]) -> Response | None:
    """The response this visitor is working on: a signed-in person's own, else the one their browser
    session holds (by id and secret token, so a guessed id is useless)."""
    held = session.get(SESSION_KEY, {}).get(str(questionnaire.pk))
    response = None
    if held:
        response = _responses(questionnaire).filter(pk=held.get("r"), token=held.get("t")).first()
    if response is None and user.is_authenticated and questionnaire.signed_in_only:
        response = _responses(questionnaire).filter(user=user, channel=Channel.ONLINE).first()
    if response is not None:
        response.questionnaire = questionnaire
    return response


def remember(session, response: Response) -> None:
    held = dict(session.get(SESSION_KEY, {}))
    held[str(response.questionnaire_id)] = {"r": response.pk, "t": response.token}
    session[SESSION_KEY] = held


def forget(session, response: Response) -> None:
    held = dict(session.get(SESSION_KEY, {}))
    held.pop(str(response.questionnaire_id), None)
    session[SESSION_KEY] = held


def page_numbers(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> list[int]:
    """The page numbers the respondent sees, in order, given their answers so far."""
    return [number for number, _page, _items in qdef.visible(definition, answers)]


def page_after(definition: Mapping[str, Any], answers: Mapping[str, Any], number: int) -> int | None:
    return next((n for n in page_numbers(definition, answers) if n > number), None)


def page_before(definition: Mapping[str, Any], answers: Mapping[str, Any], number: int) -> int | None:
    return next((n for n in reversed(page_numbers(definition, answers)) if n < number), None)


def page_unseen(response: Response, *, after: int = 0) -> int | None:
    """The first visible page after ``after`` that the person has not saved yet; None when there is
    none (they go to check their answers). Where someone coming back carries on, and where a changed
    answer that reveals a new page leads."""
    saved = set(response.pages_saved)
    shown = page_numbers(response.version.definition, response.answers)
    return next((n for n in shown if n > after and n not in saved), None)


def answer_rows(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> list[dict]:
    """The visible questions with their answers as read, page by page, for check-your-answers and mail."""
    rows = []
    for number, _page, items in qdef.visible(definition, answers):
        for item in items:
            if item["kind"] == "information":
                continue
            rows.append(
                {
                    "page": number,
                    "code": item["code"],
                    "question": item["text"],
                    "answer": qdef.display(item, answers.get(item["code"])),
                }
            )
    return rows
