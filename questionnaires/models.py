"""Questionnaires attached to consultations, their frozen versions, and the responses to them.

A ``Questionnaire`` is edited in the Wagtail admin as a StreamField of pages. Respondents never
answer the StreamField itself: each response answers a ``QuestionnaireVersion``, a frozen copy of the
definition taken when the first response to it began. Editing the questionnaire after that makes a
new version for later respondents; every response keeps the version it answered.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField

from questionnaires.blocks import QuestionnaireBlock, definition_from_stream

#: Letters and digits nobody confuses when reading a reference out on the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_reference() -> str:
    return "TH-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


class Respondents(models.TextChoices):
    EMAIL = "email", _("Anyone, with an email address confirmed by a link")
    ANONYMOUS = "anonymous", _("Anyone, without giving an email address (anonymous)")
    RESIDENTS = "residents", _("Residents of the consultation's wards, signed in")
    PANEL = "panel", _("Members of the consultation's panel, signed in")


class Questionnaire(models.Model):
    consultation = models.OneToOneField(
        "consultations.ConsultationPage",
        on_delete=models.CASCADE,
        related_name="questionnaire",
        help_text=_(
            "The consultation this questionnaire belongs to. It is open while the consultation is open."
        ),
    )
    title = models.CharField(max_length=200, help_text=_("For example “Have your say on the bus station”."))
    intro = models.TextField(
        max_length=2000,
        blank=True,
        help_text=_("Shown before the first question: what it is about, how long it takes."),
    )
    respondents = models.CharField(
        _("who may respond"),
        max_length=20,
        choices=Respondents.choices,
        default=Respondents.EMAIL,
        help_text=_(
            "Anonymous responses cannot be checked for duplicates except by rate limits; choose it only if "
            "the council accepts that."
        ),
    )
    pages = StreamField(
        QuestionnaireBlock(),
        help_text=_(
            "Pages of questions, in order. Once someone has started answering, your changes make a new "
            "version: people who already answered keep the version they saw."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    panels = [
        FieldPanel("consultation"),
        FieldPanel("title"),
        FieldPanel("intro"),
        FieldPanel("respondents"),
        MultiFieldPanel([FieldPanel("pages")], heading=_("Pages")),
    ]

    class Meta:
        verbose_name = _("questionnaire")

    def __str__(self) -> str:
        return self.title

    def definition(self) -> dict:
        return definition_from_stream(self.pages)

    @property
    def signed_in_only(self) -> bool:
        return self.respondents in (Respondents.RESIDENTS, Respondents.PANEL)


class QuestionnaireVersion(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["questionnaire", "number"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "number"], name="questionnaires_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire_id} v{self.number}"


class RespondentType(models.TextChoices):
    INDIVIDUAL = "individual", _("As an individual")
    ORGANISATION = "organisation", _("On behalf of an organisation")


class Connection(models.TextChoices):
    LIVE = "live", _("I live here")
    WORK = "work", _("I work here")
    STUDY = "study", _("I study here")
    BUSINESS = "business", _("I run a business here")
    VISIT = "visit", _("I visit")
    OTHER = "other", _("Other")


class Consent(models.TextChoices):
    NAMED = "named", _("Publish my response with my name (or my organisation's name)")
    ANONYMOUS = "anonymous", _("Publish my response without my name")
    PRIVATE = "private", _("Do not publish my response")


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    PAPER = "paper", _("Paper form")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    EVENT = "event", _("Event")


class Status(models.TextChoices):
    DRAFT = "draft", _("In progress")
    SUBMITTED = "submitted", _("Submitted")


class Response(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="responses")
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="responses")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    #: The secret in a resume link; a new one is never needed, the link expires with the consultation.
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(blank=True)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    respondent_type = models.CharField(max_length=20, choices=RespondentType.choices)
    organisation_name = models.CharField(max_length=200, blank=True)
    connection = models.JSONField(default=list, blank=True)
    publication_consent = models.CharField(max_length=20, choices=Consent.choices)
    answers = models.JSONField(default=dict, blank=True)
    #: The page numbers saved so far: a person coming back, or a change that reveals a page, goes to
    #: the first page they have not seen.
    pages_saved = models.JSONField(default=list, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    #: Responses received on paper, by email, by phone or at an event: who keyed it in, and when it
    #: arrived. One received after the consultation closed is late, with the officer's reason.
    keyed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_on = models.DateField(null=True, blank=True)
    late = models.BooleanField(default=False)
    late_reason = models.TextField(max_length=1000, blank=True)
    reference = models.CharField(max_length=16, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # Duplicate protection: one response per account, and one online response per email address.
            models.UniqueConstraint(
                fields=["questionnaire", "user"],
                condition=models.Q(user__isnull=False, channel="online"),
                name="questionnaires_one_response_per_account",
            ),
            models.UniqueConstraint(
                fields=["questionnaire", "email"],
                condition=~models.Q(email="") & models.Q(channel="online"),
                name="questionnaires_one_response_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | models.Q(reference__isnull=False, submitted_at__isnull=False),
                name="questionnaires_submitted_has_reference",
            ),
            models.CheckConstraint(
                condition=models.Q(channel="online", keyed_by__isnull=True)
                | (~models.Q(channel="online") & models.Q(keyed_by__isnull=False, received_on__isnull=False)),
                name="questionnaires_keyed_in_offline_only",
            ),
            models.CheckConstraint(
                condition=models.Q(late=False) | ~models.Q(late_reason=""),
                name="questionnaires_late_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(respondent_type="organisation") | ~models.Q(organisation_name=""),
                name="questionnaires_organisation_named",
            ),
        ]
        indexes = [
            models.Index(fields=["questionnaire", "status"]),
            # The staff list: submitted responses in the order they arrived.
            models.Index(
                fields=["questionnaire", "status", "submitted_at", "id"], name="questionnaires_list_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"draft {self.pk}"

    @property
    def submitted(self) -> bool:
        return self.status == Status.SUBMITTED


class Redaction(models.Model):
    """An officer's redaction of one free-text answer before publication.

    The response's own answer is never changed: the latest redaction of an answer is what is shown
    and exported in its place, and every redaction stays here with who made it, when and why.
    """

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="redactions")
    code = models.CharField(max_length=40)
    text = models.TextField(max_length=20_000)
    reason = models.CharField(max_length=500)
    redacted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    redacted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["redacted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.response_id}/{self.code} at {self.redacted_at:%Y-%m-%d %H:%M}"


class ExportLog(models.Model):
    """Every download of a questionnaire's responses: who, when, what."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="exports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=10)
    what = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.format} {self.created_at:%Y-%m-%d %H:%M}"
