"""Writes about consultations: escalation requests, publishing, and the admin permissions."""

from __future__ import annotations

import logging

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from wagtail.models import GroupPagePermission, Page

from accounts import roles
from consultations import mails
from consultations.models import (
    ConsultationIndexPage,
    ConsultationPage,
    EscalationNotice,
    EscalationRequest,
    Outcome,
    OutcomePublication,
    TrackChange,
)
from consultations.selectors import escalation_refusal
from consultations.tasks import announce_outcome
from notifications.rendering import absolute_url, page_url
from notifications.services import mail_enqueue

logger = logging.getLogger("townhall")

#: Wagtail page permissions granted on each consultation index, per role.
INDEX_PERMISSIONS = {
    roles.COUNCILLOR: ("add_page", "change_page"),
    roles.OFFICER: ("add_page", "change_page", "publish_page"),
}


@transaction.atomic
def consultation_index_grant_permissions(index: ConsultationIndexPage) -> None:
    """Councillors may create and edit consultations under ``index``; officers may also publish.

    Idempotent. Publishing otherwise goes through the "Moderators approval" workflow, whose task the
    Officers group approves.
    """
    page = index if isinstance(index, Page) else Page.objects.get(pk=index)
    for role, codenames in INDEX_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        for codename in codenames:
            permission = Permission.objects.get(content_type__app_label="wagtailcore", codename=codename)
            GroupPagePermission.objects.get_or_create(group=group, page=page, permission=permission)


@transaction.atomic
def escalation_request_create(*, consultation: ConsultationPage, user, reason: str = "") -> EscalationRequest:
    """Record that ``user`` wants wide engagement; tell the owner once when the threshold is reached."""
    refusal = escalation_refusal(consultation=consultation, user=user)
    if refusal:
        raise ValidationError(refusal, code="not_eligible")
    if EscalationRequest.objects.filter(consultation=consultation, user=user).exists():
        raise ValidationError(
            _("You have already asked for a wider say on this consultation."), code="duplicate"
        )
    request = EscalationRequest(consultation=consultation, user=user, reason=(reason or "").strip())
    request.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as exc:  # a second request from the same person, at the same moment
        raise ValidationError(
            _("You have already asked for a wider say on this consultation."), code="duplicate"
        ) from exc
    count = EscalationRequest.objects.filter(consultation=consultation).count()
    if count >= consultation.escalation_threshold:
        try:
            with transaction.atomic():
                notice = EscalationNotice.objects.create(
                    consultation=consultation, requests_at_the_time=count
                )
        except IntegrityError:
            pass  # already told
        else:
            _email_escalation_threshold(notice)
    return request


def _email_escalation_threshold(notice: EscalationNotice) -> None:
    page = notice.consultation
    recipient = page.councillor if page.councillor and page.councillor.email else (page.contact_email or None)
    if not recipient:
        logger.warning("Escalation threshold crossed on consultation %s, but it has nobody to tell.", page.pk)
        return
    mail_enqueue(
        kind=mails.ESCALATION_THRESHOLD.key,
        to=recipient,
        key=f"escalation:{notice.pk}",
        context={
            "consultation": page.title,
            "requests": notice.requests_at_the_time,
            "threshold": page.escalation_threshold,
            "page_url": page_url(page),
            "admin_url": absolute_url(reverse("wagtailadmin_pages:edit", args=[page.pk])),
        },
    )


@transaction.atomic
def consultation_record_publication(*, page: ConsultationPage, user=None) -> None:
    """After a consultation page is published: record its track history and publish its outcome.

    Called for every publication, whether an officer approved it in the workflow or published directly.
    """
    page = ConsultationPage.objects.get(pk=page.pk)
    last = TrackChange.objects.filter(consultation=page).order_by("-changed_at", "-pk").first()
    if last is None:
        reason = (
            page.triage_override_reason.strip()
            if not page.follows_triage
            else _("As the triage aid recommended.")
        )
        TrackChange.objects.create(
            consultation=page, from_track="", to_track=page.track, reason=reason, changed_by=user
        )
    elif last.to_track != page.track:
        TrackChange.objects.create(
            consultation=page,
            from_track=last.to_track,
            to_track=page.track,
            reason=page.track_change_reason.strip(),
            changed_by=user,
        )

    outcome = Outcome.objects.filter(consultation=page).first()
    if outcome is not None and outcome.decision and outcome.published_at is None:
        publication, created = OutcomePublication.objects.get_or_create(consultation=page)
        outcome.published_at = publication.published_at
        if outcome.decided_by_id is None:
            outcome.decided_by = user or page.councillor
        outcome.save(update_fields=["published_at", "decided_by"])
        if created:
            # Only queued here: the job tells every participant, however many, after this commits.
            announce_outcome.enqueue(outcome.pk)
