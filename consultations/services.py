"""Writes about consultations: escalation requests, publishing, and the admin permissions."""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from wagtail.models import GroupPagePermission, Page

from accounts import roles
from consultations.models import (
    ConsultationIndexPage,
    ConsultationPage,
    EscalationNotice,
    EscalationRequest,
    Outcome,
    OutcomePublication,
    TrackChange,
)
from consultations.selectors import consultation_participant_ids, escalation_refusal

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
            transaction.on_commit(partial(_email_escalation_threshold, notice.pk))
    return request


def _email_escalation_threshold(notice_id: int) -> None:
    notice = EscalationNotice.objects.select_related("consultation__councillor").get(pk=notice_id)
    page = notice.consultation
    recipient = page.councillor.email if page.councillor else None
    if not recipient:
        recipient = page.contact_email or None
    if not recipient:
        logger.warning("Escalation threshold crossed on consultation %s, but it has nobody to tell.", page.pk)
        return
    context = {
        "page": page,
        "notice": notice,
        "page_url": page.get_full_url(),
        "admin_url": f"{settings.WAGTAILADMIN_BASE_URL}/admin/pages/{page.pk}/edit/",
    }
    send_mail(
        subject=_("Residents are asking for a wider say: %(title)s") % {"title": page.title},
        message=render_to_string("consultations/email/escalation_threshold.txt", context),
        from_email=None,
        recipient_list=[recipient],
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
            transaction.on_commit(partial(_email_outcome_published, outcome.pk))


def _email_outcome_published(outcome_id: int) -> None:
    outcome = Outcome.objects.select_related("consultation").get(pk=outcome_id)
    page = outcome.consultation
    ids = consultation_participant_ids(page)
    users = get_user_model().objects.filter(pk__in=ids, is_active=True).exclude(email="")
    context = {"page": page, "outcome": outcome, "page_url": page.get_full_url()}
    subject = _("You said, we did: %(title)s") % {"title": page.title}
    for user in users.iterator():
        send_mail(
            subject=subject,
            message=render_to_string("consultations/email/outcome_published.txt", {**context, "user": user}),
            from_email=None,
            recipient_list=[user.email],
        )
