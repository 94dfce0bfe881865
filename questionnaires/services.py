"""Writes for questionnaires: versions, starting, saving, confirming and submitting responses.

Every check is inside the service (the views only parse and render): who may respond and whether the
questionnaire is open, that a response is still a draft, that hidden answers are discarded. Emails go
out on commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import rules
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from questionnaires import definition as qdef
from questionnaires.models import (
    Channel,
    ExportLog,
    Questionnaire,
    QuestionnaireVersion,
    Redaction,
    Respondents,
    RespondentType,
    Response,
    Status,
    new_reference,
)
from questionnaires.rules import is_open, respond_refusal
from questionnaires.selectors import answer_rows

RESUME_SALT = "questionnaires.resume"
STAFF_ONLY = "Only council officers and councillors can enter responses."


def resume_token(response: Response) -> str:
    return signing.dumps({"r": response.pk, "t": response.token}, salt=RESUME_SALT)


def resume_url(response: Response) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse(
        "questionnaires:resume", kwargs={"token": resume_token(response)}
    )


@transaction.atomic
def version_current(*, questionnaire: Questionnaire) -> QuestionnaireVersion:
    """The version new responses answer: the latest, or a new one when the questionnaire was edited."""
    locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    definition = locked.definition()
    latest = locked.versions.order_by("-number").first()
    if latest is not None and latest.definition == definition:
        return latest
    return QuestionnaireVersion.objects.create(
        questionnaire=locked, number=(latest.number + 1) if latest else 1, definition=definition
    )


def _refuse_unless_allowed(*, questionnaire: Questionnaire, user) -> None:
    refusal = respond_refusal(user, questionnaire)
    if refusal:
        raise ValidationError(refusal, code="refused")


@transaction.atomic
def response_start(
    *,
    questionnaire: Questionnaire,
    user,
    respondent_type: str,
    organisation_name: str = "",
    connection: list[str],
    publication_consent: str,
    email: str = "",
    name: str = "",
) -> Response:
    """Begin (or, for the same person, carry on) a response online.

    One response per account and one per email address: a signed-in person who started already gets
    their draft back with these details; an email address that started already gets its link again,
    and one that has submitted is told so by email (the page never says whether an address responded).
    """
    _refuse_unless_allowed(questionnaire=questionnaire, user=user)
    details = {
        "respondent_type": respondent_type,
        "organisation_name": organisation_name if respondent_type == RespondentType.ORGANISATION else "",
        "connection": list(connection),
        "publication_consent": publication_consent,
        "name": name,
    }
    if questionnaire.signed_in_only:
        existing = (
            Response.objects.select_for_update()
            .filter(questionnaire=questionnaire, user=user, channel=Channel.ONLINE)
            .first()
        )
        if existing is not None:
            if existing.submitted:
                raise ValidationError("You have already responded to this questionnaire.", code="duplicate")
            return _update(existing, details)
        return _create(questionnaire=questionnaire, user=user, email=user.email, confirmed=True, **details)
    if questionnaire.respondents == Respondents.EMAIL:
        email = email.strip().lower()
        existing = (
            Response.objects.select_for_update()
            .filter(questionnaire=questionnaire, email=email, channel=Channel.ONLINE)
            .first()
        )
        if existing is not None:
            if existing.submitted:
                _mail_on_commit(existing, "already_responded")
            else:
                _mail_on_commit(_update(existing, details), "confirm")
            return existing
        response = _create(questionnaire=questionnaire, user=None, email=email, confirmed=False, **details)
        _mail_on_commit(response, "confirm")
        return response
    return _create(
        questionnaire=questionnaire,
        user=user if user.is_authenticated else None,
        email="",
        confirmed=False,
        **details,
    )


@transaction.atomic
def response_enter(
    *,
    questionnaire: Questionnaire,
    officer,
    channel: str,
    received_on: dt.date,
    late_reason: str = "",
    respondent_type: str,
    organisation_name: str = "",
    connection: list[str],
    publication_consent: str,
    email: str = "",
    name: str = "",
) -> Response:
    """Begin keying in a response that arrived on paper, by email, by phone or at an event.

    Only council staff may. A response received after the consultation closed is accepted as late,
    and only with a reason; one dated in the future, or before the consultation opened, is refused.
    """
    if not rules.has_perm("questionnaires.enter_response", officer, questionnaire):
        raise ValidationError(STAFF_ONLY, code="refused")
    if channel not in Channel.values or channel == Channel.ONLINE:
        raise ValidationError({"channel": "Choose how the response arrived."})
    consultation = questionnaire.consultation
    today = timezone.localdate()
    opened = consultation.timeline[0].starts_at if consultation.timeline else None
    closes = consultation.participation_ends_at
    if received_on > today:
        raise ValidationError({"received_on": "The date received must be today or in the past."})
    if opened is not None and received_on < timezone.localtime(opened).date():
        raise ValidationError({"received_on": "The date received must be after the consultation opened."})
    late = closes is not None and received_on > timezone.localtime(closes).date()
    if late and not late_reason.strip():
        raise ValidationError(
            {"late_reason": "This response arrived after the consultation closed: say why it is accepted."}
        )
    return _create(
        questionnaire=questionnaire,
        user=None,
        email=email.strip().lower(),
        confirmed=False,
        respondent_type=respondent_type,
        organisation_name=organisation_name if respondent_type == RespondentType.ORGANISATION else "",
        connection=list(connection),
        publication_consent=publication_consent,
        name=name,
        channel=channel,
        keyed_by=officer,
        received_on=received_on,
        late=late,
        late_reason=late_reason.strip() if late else "",
    )


def _update(response: Response, details: Mapping[str, Any]) -> Response:
    for field, value in details.items():
        setattr(response, field, value)
    response.full_clean()
    response.save()
    return response


def _create(*, questionnaire: Questionnaire, user, email: str, confirmed: bool, **details) -> Response:
    response = Response(
        questionnaire=questionnaire,
        version=version_current(questionnaire=questionnaire),
        user=user,
        email=email,
        email_confirmed_at=timezone.now() if confirmed and email else None,
        **details,
    )
    response.full_clean()
    response.save()
    return response


def response_from_resume_token(token: str) -> Response:
    """The draft a resume (or confirmation) link names; ValidationError if tampered or expired.

    A link expires when the consultation closes; it is also refused once the response was submitted.
    """
    try:
        data = signing.loads(token, salt=RESUME_SALT)
        response = Response.objects.select_related("questionnaire__consultation", "version").get(
            pk=int(data["r"]), token=str(data["t"])
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError, Response.DoesNotExist):
        raise ValidationError(
            "This link is not valid. Check you copied the whole link.", code="invalid"
        ) from None
    if response.submitted:
        raise ValidationError("You have already sent this response. Thank you.", code="submitted")
    if not is_open(response.user, response.questionnaire):
        raise ValidationError("This link has expired: the consultation has closed.", code="expired")
    return response


@transaction.atomic
def response_confirm_email(*, response: Response) -> Response:
    locked = Response.objects.select_for_update().get(pk=response.pk)
    if locked.email and locked.email_confirmed_at is None:
        locked.email_confirmed_at = timezone.now()
        locked.save(update_fields=["email_confirmed_at", "updated_at"])
    return locked


def _locked_draft(response: Response, user) -> Response:
    """The response re-read under a row lock, still a draft, and still the person's to change.

    The questionnaire (with its consultation's timeline) and the version are the ones already read
    for the request: neither changes under a response.
    """
    locked = Response.objects.select_for_update().get(pk=response.pk)
    locked.questionnaire = response.questionnaire
    locked.version = response.version
    if locked.submitted:
        raise ValidationError("This response has already been sent.", code="submitted")
    if locked.channel != Channel.ONLINE:
        # Keyed in by staff: any officer or councillor may carry on, late or not.
        if not rules.has_perm("questionnaires.enter_response", user, locked.questionnaire):
            raise ValidationError(
                "Only council officers and councillors can enter responses.", code="refused"
            )
    else:
        if locked.user_id is not None and user.pk != locked.user_id:
            raise ValidationError("This response belongs to someone else.", code="refused")
        if locked.questionnaire.respondents == Respondents.EMAIL and locked.email_confirmed_at is None:
            raise ValidationError(
                "Confirm your email address first: use the link we sent you.", code="unconfirmed"
            )
        # Who may respond is checked again: the consultation may have closed since the last page.
        _refuse_unless_allowed(questionnaire=locked.questionnaire, user=user)
    return locked


@transaction.atomic
def response_save_page(*, response: Response, user, page_number: int, answers: Mapping[str, Any]) -> Response:
    """Store one page's answers (already cleaned by ``definition.clean_page``), replacing that page's
    earlier answers, then drop answers to questions the new answers hide."""
    locked = _locked_draft(response, user)
    definition = locked.version.definition
    pages = definition["pages"]
    if not 1 <= page_number <= len(pages):
        raise ValidationError("There is no such page.", code="invalid")
    page_codes = {item["code"] for item in pages[page_number - 1]["items"] if item["kind"] != "information"}
    merged = {code: value for code, value in locked.answers.items() if code not in page_codes}
    merged.update({code: value for code, value in answers.items() if code in page_codes})
    locked.answers = qdef.prune(definition, merged)
    if page_number not in locked.pages_saved:
        locked.pages_saved = sorted([*locked.pages_saved, page_number])
    locked.save(update_fields=["answers", "pages_saved", "updated_at"])
    return locked


@transaction.atomic
def response_submit(*, response: Response, user) -> Response:
    """Send the response: hidden answers discarded, every visible required question answered, a
    reference given, and a copy of the answers emailed on commit."""
    locked = _locked_draft(response, user)
    definition = locked.version.definition
    answers = qdef.prune(definition, locked.answers)
    missing = qdef.missing_required(definition, answers)
    if missing:
        names = ", ".join(f"“{q['text']}”" for _n, q in missing)
        raise ValidationError(
            f"Answer these questions before you send your response: {names}.", code="incomplete"
        )
    locked.answers = answers
    locked.status = Status.SUBMITTED
    locked.submitted_at = timezone.now()
    for _attempt in range(5):
        locked.reference = new_reference()
        try:
            with transaction.atomic():
                locked.save()
            break
        except IntegrityError:
            if Response.objects.filter(reference=locked.reference).exists():
                continue
            raise
    else:
        raise ValidationError("We could not give your response a reference. Try again.", code="reference")
    if locked.channel == Channel.ONLINE:
        _mail_on_commit(locked, "copy")
    return locked


def response_send_resume_link(*, response: Response, email: str = "") -> None:
    """Email the link that brings a draft back: to its confirmed address, or to one given now."""
    address = response.email if response.email_confirmed_at else email
    if address:
        _mail_on_commit(response, "resume", to=address)


def _recipient(response: Response) -> str:
    if response.email:
        return response.email
    return response.user.email if response.user_id and response.user else ""


def _mail_on_commit(response: Response, kind: str, *, to: str = "") -> None:
    address = to or _recipient(response)
    if not address:
        return
    context = {
        "response": response,
        "questionnaire": response.questionnaire,
        "consultation": response.questionnaire.consultation,
        "resume_url": resume_url(response) if not response.submitted else "",
        "rows": answer_rows(response.version.definition, response.answers) if kind == "copy" else [],
        "closes_at": response.questionnaire.consultation.participation_ends_at,
    }
    subject = {
        "confirm": "Confirm your email address to answer “{title}”",
        "already_responded": "You have already responded to “{title}”",
        "resume": "Come back to your answers to “{title}”",
        "copy": "Your response to “{title}”: reference {reference}",
    }[kind].format(title=response.questionnaire.title, reference=response.reference or "")
    body = render_to_string(f"questionnaires/email/{kind}.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [address]))


@transaction.atomic
def response_redact(*, response: Response, code: str, text: str, reason: str, by) -> Redaction:
    """Redact one answer for publication: the original stays in the response, this text is shown in
    its place, and who did it, when and why is kept."""
    if not rules.has_perm("questionnaires.redact_response", by, response.questionnaire):
        raise ValidationError("Only the council's officers can redact responses.", code="refused")
    if not response.submitted or code not in response.answers:
        raise ValidationError({"code": "Choose an answer this response gave."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why you are redacting this answer."})
    redaction = Redaction(
        response=response, code=code, text=text.strip(), reason=reason.strip(), redacted_by=by
    )
    redaction.full_clean()
    redaction.save()
    return redaction


def export_log_record(*, questionnaire: Questionnaire, user, format: str, what: str) -> ExportLog:
    """Record a download before it starts: the log says who took what, even if they stop half-way."""
    if not rules.has_perm("questionnaires.export_responses", user, questionnaire):
        raise ValidationError("Only the council's officers can export responses.", code="refused")
    return ExportLog.objects.create(questionnaire=questionnaire, user=user, format=format, what=what)
