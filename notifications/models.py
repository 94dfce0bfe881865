"""Outgoing mail, officers' wording for each kind of mail, each person's mail settings, and the
heartbeats that tell a live worker from a dead one."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.models import PreviewableMixin

from notifications import kinds
from notifications.rendering import check_template, render_mail

LANGUAGE_CHOICES = [(code, name) for code, name in settings.LANGUAGES]


class MailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent")


class OutboundMail(models.Model):
    """One email to one address, rendered when it was queued. ``key`` makes queueing idempotent: the
    same event queues the same mail for the same person at most once."""

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=60)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_email = models.EmailField()
    language = models.CharField(max_length=8, default="en")
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()
    #: The one-click unsubscribe link (RFC 8058), for the List-Unsubscribe header; empty when the kind
    #: cannot be turned off or the mail goes to an address without an account.
    unsubscribe_url = models.URLField(max_length=1000, blank=True)
    status = models.CharField(max_length=12, choices=MailStatus.choices, default=MailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notif_mail_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.status})"


class MailWording(PreviewableMixin, models.Model):
    """An officer's wording of one kind of mail in one language. Without one, the default applies."""

    kind = models.CharField(_("kind of mail"), max_length=60, choices=kinds.choices)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, default="en")
    subject = models.CharField(
        _("subject"),
        max_length=300,
        blank=True,
        help_text=_(
            "You can use the same {{ placeholders }} as the body. Leave empty to start from the default."
        ),
    )
    body = models.TextField(
        _("body"),
        blank=True,
        help_text=_(
            "Plain text. Leave a blank line between paragraphs. Placeholders in double curly brackets, "
            "such as {{ name }}, are filled in for each person; the list of placeholders is under the "
            "preview. Links are made clickable in the HTML version. Leave empty and save to start from "
            "the default wording."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    panels = [FieldPanel("kind"), FieldPanel("language"), FieldPanel("subject"), FieldPanel("body")]

    class Meta:
        verbose_name = _("mail wording")
        verbose_name_plural = _("mail wording")
        ordering = ["kind", "language"]
        constraints = [models.UniqueConstraint(fields=["kind", "language"], name="notif_wording_unique")]

    def __str__(self) -> str:
        return f"{kinds.label(self.kind)} ({self.get_language_display()})"

    def clean(self) -> None:
        kind = kinds.REGISTRY.get(self.kind)
        if kind is None:
            raise ValidationError({"kind": _("Choose a kind of mail from the list.")})
        if not (self.subject or "").strip():
            self.subject = str(kind.subject)
        if not (self.body or "").strip():
            self.body = str(kind.body)
        errors = {}
        for field in ("subject", "body"):
            problem = check_template(getattr(self, field), allowed=set(kind.placeholders))
            if problem:
                errors[field] = problem
        if errors:
            raise ValidationError(errors)

    # Wagtail's live preview: the mail as a resident would get it, with sample details.
    def get_preview_template(self, request, mode_name):
        return "notifications/admin/mail_preview.html"

    def get_preview_context(self, request, mode_name):
        context = super().get_preview_context(request, mode_name)
        kind = kinds.get(self.kind) if self.kind in kinds.REGISTRY else None
        allowed = set(kind.placeholders) if kind else None
        problem = check_template(self.subject or "", allowed) or check_template(self.body or "", allowed)
        context["problem"] = problem
        context["kind"] = kind
        if kind is not None and not problem:
            context["mail"] = render_mail(
                kind=kind,
                language=self.language,
                context=kind.sample_context(),
                wording=(self.subject or str(kind.subject), self.body or str(kind.body)),
                settings_url="https://example.org/notifications/settings/",
            )
        return context


class Preference(models.Model):
    """One person's mail settings: the language mail is written in, and the kinds they turned off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_preference"
    )
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, default="en")
    muted_kinds = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Mail settings of user {self.user_id}"


class WorkerHeartbeat(models.Model):
    """A running worker says it is alive every few seconds; a job whose worker stopped saying so is
    run again (jobs are idempotent)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.worker_id


class ModerationDuty(models.Model):
    """A moderator on duty for a consultation: they get the mail about new reports on it. A
    consultation with nobody on duty falls back to every moderator (never to every admin)."""

    consultation = models.ForeignKey(
        "consultations.ConsultationPage", on_delete=models.CASCADE, related_name="moderation_duties"
    )
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("consultation"), FieldPanel("moderator")]

    class Meta:
        verbose_name = _("moderator on duty")
        verbose_name_plural = _("moderators on duty")
        constraints = [
            models.UniqueConstraint(fields=["consultation", "moderator"], name="notif_one_duty_per_moderator")
        ]

    def __str__(self) -> str:
        return f"{self.moderator} on {self.consultation}"

    def clean(self) -> None:
        from accounts import roles

        if self.moderator_id and not roles.has_role(self.moderator, roles.MODERATOR):
            raise ValidationError({"moderator": _("Choose someone in the Moderators group.")})


class UnsubscribeUse(models.Model):
    """An unsubscribe link that has been used: each link works once (a replay changes nothing)."""

    key = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=60)
    used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} off for user {self.user_id}"
