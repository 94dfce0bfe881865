"""Reads for questionnaires: the questionnaire a respondent may see, their response, where they are."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast

from cms import visibility
from consultations.models import ConsultationPage
from questionnaires import definition as qdef
from questionnaires import summaries
from questionnaires.models import Channel, Questionnaire, Redaction, Response, Status

SESSION_KEY = "questionnaire_responses"


def questionnaire_public(*, pk: int, who: Any) -> Questionnaire | None:
    """The questionnaire, with its consultation's timeline, if the visibility gate lets ``who`` (a
    request, a scope or a user) see it: exactly when they may see its consultation page."""
    questionnaire = (
        Questionnaire.objects.filter(pk=pk)
        .select_related("consultation", "consultation__panel")
        .prefetch_related("consultation__phases", "consultation__outcomes", "consultation__wards")
        .first()
    )
    return questionnaire if visibility.may_see(who, questionnaire) else None


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


# --- For council staff: responses, redactions, exports ------------------------------------------

RESPONSES_PER_PAGE = 50


def submitted_responses(*, questionnaire: Questionnaire, search: str = "") -> QuerySet[Response]:
    """Submitted responses, oldest first; ``search`` finds text anywhere in the answers or the
    organisation's name (case-insensitive)."""
    responses = (
        Response.objects.filter(questionnaire=questionnaire, status=Status.SUBMITTED)
        .select_related("keyed_by")
        .defer("answers", "pages_saved", "token")
    )
    if search:
        responses = responses.annotate(answers_text=Cast("answers", TextField())).filter(
            Q(answers_text__icontains=search)
            | Q(organisation_name__icontains=search)
            | Q(reference__iexact=search)
        )
    return responses.order_by("submitted_at", "pk")


def response_for_staff(*, questionnaire: Questionnaire, reference: str) -> Response | None:
    return (
        Response.objects.filter(questionnaire=questionnaire, reference=reference, status=Status.SUBMITTED)
        .select_related("version", "keyed_by")
        .prefetch_related(Prefetch("redactions", queryset=Redaction.objects.select_related("redacted_by")))
        .first()
    )


def latest_redactions(response: Response) -> dict[str, Redaction]:
    """The redaction in force for each answer (the latest), from a prefetch of ``redactions``."""
    latest: dict[str, Redaction] = {}
    for redaction in response.redactions.all():
        latest[redaction.code] = redaction
    return latest


def staff_answer_rows(response: Response) -> list[dict]:
    """The answers as staff see them: the redacted text where there is one, beside the original."""
    definition = response.version.definition
    redactions = latest_redactions(response)
    rows = answer_rows(definition, response.answers)
    questions = qdef.question_by_code(definition)
    for row in rows:
        row["redaction"] = redactions.get(row["code"])
        row["free_text"] = questions[row["code"]]["kind"] in ("short_text", "long_text") or bool(
            isinstance(response.answers.get(row["code"]), dict) and response.answers[row["code"]].get("other")
        )
        row["answered"] = row["code"] in response.answers
    return rows


def codebook_rows(*, questionnaire: Questionnaire) -> Iterator[list[str]]:
    """One row per question per version: what each export column means."""
    yield ["version", "question_id", "page", "kind", "question", "required", "options", "condition"]
    for version in questionnaire.versions.order_by("number"):
        for number, page in enumerate(version.definition["pages"], start=1):
            for item in page["items"]:
                if item["kind"] == "information":
                    continue
                condition = item.get("condition") or page.get("condition")
                yield [
                    str(version.number),
                    item["code"],
                    str(number),
                    item["kind"],
                    item["text"],
                    "yes" if item.get("required") else "no",
                    " | ".join(qdef.options_for(item)),
                    f"{condition['code']} {condition['op']} {condition['value']}" if condition else "",
                ]


EXPORT_FIELDS = [
    "reference",
    "version",
    "channel",
    "submitted_at",
    "received_on",
    "late",
    "late_reason",
    "respondent_type",
    "organisation_name",
    "connection",
    "publication_consent",
]


def export_rows(*, questionnaire: Questionnaire, chunk_size: int = 2000) -> Iterator[list[str]]:
    """Every submitted response as a row, a column per question id of every version (see the
    codebook), redactions applied. Read in chunks, so memory stays flat however many there are.
    Names and email addresses are not exported."""
    versions = {v.pk: v for v in questionnaire.versions.all()}
    codes: list[str] = []
    for version in sorted(versions.values(), key=lambda v: v.number):
        for q in qdef.questions(version.definition):
            if q["code"] not in codes:
                codes.append(q["code"])
    yield EXPORT_FIELDS + codes
    responses = (
        Response.objects.filter(questionnaire=questionnaire, status=Status.SUBMITTED)
        .order_by("pk")
        .prefetch_related("redactions")
        .only(
            "pk",
            "reference",
            "version_id",
            "channel",
            "submitted_at",
            "received_on",
            "late",
            "late_reason",
            "respondent_type",
            "organisation_name",
            "connection",
            "publication_consent",
            "answers",
        )
    )
    for response in responses.iterator(chunk_size=chunk_size):
        by_code = qdef.question_by_code(versions[response.version_id].definition)
        redactions = latest_redactions(response)
        row = [
            response.reference or "",
            str(versions[response.version_id].number),
            response.channel,
            response.submitted_at.isoformat() if response.submitted_at else "",
            response.received_on.isoformat() if response.received_on else "",
            "yes" if response.late else "no",
            response.late_reason,
            response.respondent_type,
            response.organisation_name,
            " | ".join(response.connection),
            response.publication_consent,
        ]
        for code in codes:
            if code in redactions:
                row.append(redactions[code].text)
            elif code in response.answers and code in by_code:
                row.append(qdef.display(by_code[code], response.answers[code]))
            else:
                row.append("")
        yield row


def question_summaries(*, questionnaire: Questionnaire) -> list[dict]:
    """Per-question summaries for each version that has submitted responses, newest version first.

    One query (plus one for the versions) however many responses there are: the answers are read in
    chunks and counted in Python by ``questionnaires.summaries``.
    """
    versions = {v.pk: v for v in questionnaire.versions.all()}
    by_version: dict[int, list[dict]] = {}
    rows = (
        Response.objects.filter(questionnaire=questionnaire, status=Status.SUBMITTED)
        .order_by()
        .values_list("version_id", "answers")
    )
    for version_id, answers in rows.iterator(chunk_size=5000):
        by_version.setdefault(version_id, []).append(answers)
    result = []
    for version_id in sorted(by_version, key=lambda pk: -versions[pk].number):
        answer_sets = by_version[version_id]
        result.append(
            {
                "version": versions[version_id],
                "responses": len(answer_sets),
                "summaries": summaries.summarise(versions[version_id].definition, answer_sets),
            }
        )
    return result
