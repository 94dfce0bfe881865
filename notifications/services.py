"""Writes about mail: queueing a mail (once), delivering queued mail with retries, and each person's
mail settings. Every email Townhall sends goes through :func:`mail_enqueue` or
:func:`mails_enqueue_many`; the ``deliver_mails`` job sends them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from notifications import kinds
from notifications.models import MailStatus, MailWording, OutboundMail, Preference, UnsubscribeUse
from notifications.rendering import Branding, absolute_url, default_branding, render_mail
from notifications.selectors import moderators_on_duty
from notifications.tasks import deliver_mails

logger = logging.getLogger("townhall.notifications")

#: Mails queued per delivery job: one SMTP connection each.
BATCH_SIZE = 100


def settings_url() -> str:
    return absolute_url(reverse("notifications:settings"))


_UNSUBSCRIBE_SALT = "townhall.notifications.unsubscribe"
#: How long an unsubscribe link works.
UNSUBSCRIBE_MAX_AGE = timedelta(days=90)


class UnsubscribeError(Exception):
    """An unsubscribe link that cannot be used. ``code``: ``invalid``, ``expired`` or ``used``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def unsubscribe_token(*, user_id: int, kind: str, key: str) -> str:
    """A signed, timestamped token: this person, this kind of mail, this one mail (``key``)."""
    return signing.dumps({"u": user_id, "k": kind, "m": key}, salt=_UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, user_id: int, kind: str, key: str) -> str:
    token = unsubscribe_token(user_id=user_id, kind=kind, key=key)
    return absolute_url(reverse("notifications:unsubscribe", args=[token]))


def unsubscribe_read(*, token: str) -> tuple[int, str, str]:
    """(user id, kind, mail key) of a valid token; raises ``UnsubscribeError`` otherwise."""
    try:
        data = signing.loads(token, salt=_UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise UnsubscribeError(
            "expired", _("This link has expired. You can choose which emails you get in your email settings.")
        ) from exc
    except signing.BadSignature as exc:
        raise UnsubscribeError("invalid", _("This link is not valid. Check you copied all of it.")) from exc
    if not isinstance(data, dict) or {"u", "k", "m"} - set(data) or data["k"] not in kinds.REGISTRY:
        raise UnsubscribeError("invalid", _("This link is not valid. Check you copied all of it."))
    return int(data["u"]), str(data["k"]), str(data["m"])


@transaction.atomic
def unsubscribe_with_token(*, token: str) -> str:
    """Turn off the kind of mail a one-click unsubscribe link names, without signing in. Each link
    works once: used again (replayed) it changes nothing, so it cannot undo a later choice to turn
    that mail back on. Returns the kind."""
    user_id, kind, key = unsubscribe_read(token=token)
    if not kinds.get(kind).optional:
        raise UnsubscribeError("invalid", _("This link is not valid. Check you copied all of it."))
    User = get_user_model()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise UnsubscribeError("invalid", _("This link is not valid. Check you copied all of it."))
    try:
        with transaction.atomic():
            UnsubscribeUse.objects.create(key=key, user=user, kind=kind)
    except IntegrityError as exc:
        raise UnsubscribeError(
            "used", _("This link has already been used. Nothing has changed; check your email settings.")
        ) from exc
    preference, _created = Preference.objects.select_for_update().get_or_create(user=user)
    if kind not in preference.muted_kinds:
        preference.muted_kinds = sorted({*preference.muted_kinds, kind})
        preference.save(update_fields=["muted_kinds", "updated_at"])
    return kind


@dataclass
class Recipient:
    """Who a mail goes to, with what it says about them. ``user_id`` None for an address only."""

    email: str
    context: dict[str, str]
    key: str
    user_id: int | None = None
    language: str = "en"


@dataclass
class _Renderer:
    """Renders many mails of one kind, looking up each language's wording and the branding once."""

    kind: kinds.MailKind
    branding: Branding = field(default_factory=default_branding)
    _wording: dict[str, tuple[str, str] | None] = field(default_factory=dict)

    def __call__(self, language: str, context: dict[str, str], unsubscribe: str = ""):
        if language not in self._wording:
            row = MailWording.objects.filter(kind=self.kind.key, language=language).first()
            self._wording[language] = (row.subject, row.body) if row else None
        return render_mail(
            kind=self.kind,
            language=language,
            context=context,
            wording=self._wording[language],
            settings_url=settings_url(),
            unsubscribe_url=unsubscribe,
            branding=self.branding,
        )


def _language_and_muted(user_ids: Iterable[int]) -> dict[int, tuple[str, list[str]]]:
    return {
        p["user_id"]: (p["language"], p["muted_kinds"] or [])
        for p in Preference.objects.filter(user_id__in=list(user_ids)).values(
            "user_id", "language", "muted_kinds"
        )
    }


def _enqueue_delivery(mail_ids: list[int]) -> None:
    for start in range(0, len(mail_ids), BATCH_SIZE):
        deliver_mails.enqueue(mail_ids[start : start + BATCH_SIZE])


@transaction.atomic
def mail_enqueue(*, kind: str, to: Any, context: dict[str, Any], key: str) -> OutboundMail | None:
    """Queue one mail of ``kind`` to ``to`` (a user, or an email address). The mail and its delivery
    job are written in the caller's transaction: both exist once it commits, or neither. ``key`` names
    the event: queueing the same key twice queues one mail. A user gets it in their language; nothing
    is queued for a kind they turned off, or for an inactive account.

    This is the service other apps call, for example::

        mail_enqueue(kind="questionnaire_copy", to=user, context={...}, key=f"answers:{response.pk}")
    """
    mail_kind = kinds.get(kind)
    existing = OutboundMail.objects.filter(key=key).first()
    if existing is not None:
        return existing
    user_id = None
    if isinstance(to, str):
        email, language = to, settings.LANGUAGE_CODE[:2]
    else:
        if not to.is_active or not to.email:
            return None
        email, user_id = to.email, to.pk
        language, muted = _language_and_muted([to.pk]).get(to.pk, ("en", []))
        if mail_kind.optional and kind in muted:
            return None
    unsubscribe = (
        unsubscribe_url(user_id=user_id, kind=kind, key=key) if user_id and mail_kind.optional else ""
    )
    rendered = _Renderer(mail_kind)(language, {k: str(v) for k, v in context.items()}, unsubscribe)
    mail = OutboundMail(
        key=key,
        kind=kind,
        user_id=user_id,
        to_email=email,
        language=language,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        unsubscribe_url=unsubscribe,
    )
    mail.full_clean(validate_unique=False, validate_constraints=False)
    mail.save()
    _enqueue_delivery([mail.pk])
    return mail


def mails_enqueue_many(*, kind: str, recipients: Iterable[Recipient], chunk: int = 500) -> int:
    """Queue one mail of ``kind`` per recipient, skipping keys already queued and people who turned
    ``kind`` off. For large audiences (every participant of a consultation): each chunk is its own
    transaction, so a job stopped half-way and run again queues only what is missing. Returns how
    many mails were newly queued."""
    mail_kind = kinds.get(kind)
    render = _Renderer(mail_kind)
    queued = 0
    batch: list[Recipient] = []

    def flush() -> int:
        keys = [r.key for r in batch]
        with transaction.atomic():
            done = set(OutboundMail.objects.filter(key__in=keys).values_list("key", flat=True))
            prefs = _language_and_muted(r.user_id for r in batch if r.user_id)
            rows = []
            for r in batch:
                if r.key in done:
                    continue
                language, muted = prefs.get(r.user_id, (r.language, [])) if r.user_id else (r.language, [])
                if mail_kind.optional and kind in muted:
                    continue
                unsubscribe = (
                    unsubscribe_url(user_id=r.user_id, kind=kind, key=r.key)
                    if r.user_id and mail_kind.optional
                    else ""
                )
                rendered = render(language, r.context, unsubscribe)
                rows.append(
                    OutboundMail(
                        key=r.key,
                        kind=kind,
                        user_id=r.user_id,
                        to_email=r.email,
                        language=language,
                        subject=rendered.subject,
                        body_text=rendered.text,
                        body_html=rendered.html,
                        unsubscribe_url=unsubscribe,
                    )
                )
            OutboundMail.objects.bulk_create(rows, ignore_conflicts=True)
            ids = list(
                OutboundMail.objects.filter(key__in=[r.key for r in rows], status=MailStatus.QUEUED)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            _enqueue_delivery(ids)
        return len(rows)

    for recipient in recipients:
        batch.append(recipient)
        if len(batch) >= chunk:
            queued += flush()
            batch = []
    if batch:
        queued += flush()
    return queued


@transaction.atomic
def preference_update(*, user, language: str, muted_kinds: list[str]) -> Preference:
    """Save a person's mail language and the kinds of mail they turned off."""
    languages = {code for code, _name in settings.LANGUAGES}
    if language not in languages:
        raise ValidationError({"language": _("Choose a language from the list.")})
    optional = {k.key for k in kinds.optional_kinds()}
    unknown = [k for k in muted_kinds if k not in optional]
    if unknown:
        raise ValidationError({"muted_kinds": _("Choose kinds of email from the list.")})
    preference, _created = Preference.objects.select_for_update().get_or_create(user=user)
    preference.language = language
    preference.muted_kinds = sorted(set(muted_kinds))
    preference.full_clean()
    preference.save()
    return preference


def moderators_notify(*, consultation_id: int | None, kind: str, key: str, context: dict[str, Any]) -> int:
    """Queue ``kind`` to the moderators on duty for the consultation (see
    ``selectors.moderators_on_duty``), once per moderator for ``key``. Returns how many were queued."""
    queued = 0
    for moderator in moderators_on_duty(consultation_id=consultation_id):
        if mail_enqueue(kind=kind, to=moderator, key=f"{key}:{moderator.pk}", context=context):
            queued += 1
    return queued
