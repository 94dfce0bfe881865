"""Questions, ballots and the counts kept with them.

A ``Question`` is polymorphic: each kind (yes/no/abstain, single choice, approval, ranked choice,
score, budget allocation) is a subclass with its own ballot shape and tally rule. ``Option`` rows are
the choices, candidates or projects of the kinds that have them.

Ballots
    One ballot per person per question. For an open ballot the ``Ballot`` row names its voter and a
    unique constraint on (question, voter) makes a second row impossible. For a **secret** ballot the
    voter's transaction writes a ``Participation`` (unique on question and voter: who voted) and a
    ``SealedBallot`` (how, encrypted with a key that is not in the database). A later transaction, the
    mix, opens sealed ballots only once enough of them are waiting, and writes them, shuffled, as
    ``Ballot`` rows with no voter, no timestamp and a random 63-bit key; no row refers to another.
    See ``voting/README.md`` ("Secret ballots") for the design and what it protects against.

Counts
    ``TallyCount`` rows hold the incremental counts of the simple kinds, updated in the transaction
    that writes the ballot (the voter's for an open ballot, the mix's for a secret one);
    ``Question.tally_seq`` goes up by one with every open ballot written and with every mix, which
    both serialises writers on one question and lets a live client tell a fresh tally from a stale
    one.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from polymorphic.managers import PolymorphicManager
from polymorphic.models import PolymorphicModel
from polymorphic.query import PolymorphicQuerySet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable

SCORE_MIN = 0
SCORE_MAX = 5


def mix_size() -> int:
    """``SECRET_BALLOT_MIX_SIZE``, at least 2: the fewest secret ballots opened and counted together."""
    return max(2, int(getattr(settings, "SECRET_BALLOT_MIX_SIZE", 10)))


def random_ballot_id() -> int:
    """A random positive 63-bit key: ballots carry no insertion order."""
    return secrets.randbits(62) + 1


class QuestionStatus(models.TextChoices):
    UPCOMING = "upcoming", _("Not open yet")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ResultsVisibility(models.TextChoices):
    LIVE = "live", _("Live: everyone sees the results as votes come in")
    AFTER_CLOSE = "after_close", _("Hidden until the vote closes (councillors and officers see them live)")


class QuestionQuerySet(PolymorphicQuerySet):
    def open(self, when: datetime | None = None):
        when = when or timezone.now()
        return self.filter(
            models.Q(opens_at__lte=when),
            models.Q(closes_at__isnull=True) | models.Q(closes_at__gt=when),
            models.Q(closed_at__isnull=True) | models.Q(closed_at__gt=when),
        )


class Question(PolymorphicModel, ClusterableModel):
    consultation = models.ForeignKey(
        "consultations.ConsultationPage",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="questions",
        help_text=_("The consultation this question belongs to. People vote while its voting phase runs."),
    )
    title = models.CharField(max_length=200, help_text=_("The question, as residents will read it."))
    description = models.TextField(blank=True, help_text=_("Background in a few sentences (plain text)."))
    opens_at = models.DateTimeField(
        _("opens"), null=True, blank=True, help_text=_("Leave empty to keep the question closed for now.")
    )
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    closed_at = models.DateTimeField(
        _("closed early"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set when a councillor closes the question before its closing time."),
    )
    results_visibility = models.CharField(
        max_length=20, choices=ResultsVisibility.choices, default=ResultsVisibility.AFTER_CLOSE
    )
    secret = models.BooleanField(
        _("secret ballot"),
        default=False,
        help_text=_("Record who voted but never how. Secret ballots cannot be changed once cast."),
    )
    final_once_cast = models.BooleanField(
        _("ballots are final once cast"),
        default=False,
        help_text=_("If unticked, people can change their vote until the question closes."),
    )
    sort_order = models.PositiveIntegerField(default=0)
    tally_seq = models.PositiveBigIntegerField(default=0, editable=False)
    #: Secret ballots cast and sealed but not yet mixed into ``Ballot`` rows (see ``SealedBallot``).
    ballots_sealed = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PolymorphicManager.from_queryset(QuestionQuerySet)()

    #: Machine name of the kind (templates, JSON tallies, the websocket protocol).
    kind: ClassVar[str] = "question"
    kind_label: ClassVar[str] = "Question"
    #: Whether the kind has ``Option`` rows.
    has_options: ClassVar[bool] = True

    base_panels: ClassVar[list[Any]] = [
        FieldPanel("consultation"),
        FieldPanel("title"),
        FieldPanel("description"),
        MultiFieldPanel([FieldPanel("opens_at"), FieldPanel("closes_at")], heading=_("When people can vote")),
        MultiFieldPanel(
            [FieldPanel("results_visibility"), FieldPanel("secret"), FieldPanel("final_once_cast")],
            heading=_("Ballots and results"),
        ),
    ]

    class Meta:
        ordering = ["sort_order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens_at__isnull=True)
                | models.Q(closes_at__isnull=True)
                | models.Q(closes_at__gt=models.F("opens_at")),
                name="voting_question_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=models.Q(secret=False) | models.Q(final_once_cast=True),
                name="voting_question_secret_is_final",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.secret:
            # A secret ballot cannot be changed: there is no link back to it.
            self.final_once_cast = True
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("The closing time must be after the opening time.")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.secret:
            self.final_once_cast = True
        super().save(*args, **kwargs)

    def status_at(self, when: datetime | None = None) -> str:
        when = when or timezone.now()
        if self.closed_at is not None and self.closed_at <= when:
            return QuestionStatus.CLOSED
        if self.opens_at is None or when < self.opens_at:
            return QuestionStatus.UPCOMING
        if self.closes_at is not None and when >= self.closes_at:
            return QuestionStatus.CLOSED
        return QuestionStatus.OPEN

    @property
    def status(self) -> str:
        return self.status_at()

    @property
    def is_open(self) -> bool:
        return self.status == QuestionStatus.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == QuestionStatus.CLOSED

    @property
    def mix_size(self) -> int:
        """How many secret ballots are at least counted together (see ``voting/README.md``)."""
        return mix_size()

    def get_status_display(self) -> str:
        return str(QuestionStatus(self.status).label)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("voting:question", kwargs={"pk": self.pk})

    def get_results_url(self) -> str:
        from django.urls import reverse

        return reverse("voting:results", kwargs={"pk": self.pk})

    @property
    def option_list(self) -> list[Option]:
        """The options in ballot-paper order; selectors attach them to avoid a query per question."""
        cached = getattr(self, "_option_list", None)
        if cached is None:
            cached = list(self.options.all()) if self.has_options else []
            self._option_list = cached
        return cached


class YesNoQuestion(Question):
    kind = "yes_no"
    kind_label = "Yes, no or abstain"
    has_options = False
    panels = Question.base_panels

    class Meta:
        verbose_name = _("yes/no/abstain question")


class SingleChoiceQuestion(Question):
    kind = "single"
    kind_label = "Single choice"
    panels = [
        *Question.base_panels,
        InlinePanel("options", heading=_("Choices"), label=_("Choice"), min_num=2),
    ]

    class Meta:
        verbose_name = _("single choice question")


class ApprovalQuestion(Question):
    kind = "approval"
    kind_label = "Approval (choose up to a number)"
    max_choices = models.PositiveSmallIntegerField(
        _("most choices per person"),
        default=3,
        validators=[MinValueValidator(1)],
        help_text=_("How many options each person may choose."),
    )
    panels = [
        *Question.base_panels,
        FieldPanel("max_choices"),
        InlinePanel("options", heading=_("Choices"), label=_("Choice"), min_num=2),
    ]

    class Meta:
        verbose_name = _("approval question")


class RankedQuestion(Question):
    kind = "ranked"
    kind_label = "Ranked choice (instant runoff)"
    panels = [
        *Question.base_panels,
        InlinePanel("options", heading=_("Candidates"), label=_("Candidate"), min_num=2),
    ]

    class Meta:
        verbose_name = _("ranked choice question")


class ScoreQuestion(Question):
    kind = "score"
    kind_label = "Score (0 to 5)"
    panels = [
        *Question.base_panels,
        InlinePanel("options", heading=_("Options to score"), label=_("Option"), min_num=1),
    ]

    class Meta:
        verbose_name = _("score question")


class BudgetMethod(models.TextChoices):
    GREEDY = "greedy", _("Most votes first, while the money lasts")
    EQUAL_SHARES = "equal_shares", _("Method of Equal Shares (proportional)")


class BudgetQuestion(Question):
    kind = "budget"
    kind_label = "Budget allocation"
    budget = models.PositiveIntegerField(
        _("total budget (£)"), validators=[MinValueValidator(1)], help_text=_("In whole pounds.")
    )
    method = models.CharField(
        _("how winners are chosen"), max_length=20, choices=BudgetMethod.choices, default=BudgetMethod.GREEDY
    )
    panels = [
        *Question.base_panels,
        MultiFieldPanel([FieldPanel("budget"), FieldPanel("method")], heading=_("Budget")),
        InlinePanel("options", heading=_("Projects"), label=_("Project"), min_num=1),
    ]

    class Meta:
        verbose_name = _("budget allocation question")


class Option(Orderable):
    question = ParentalKey(Question, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    cost = models.PositiveIntegerField(
        _("cost (£)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10**12)],
        help_text=_("Projects in a budget allocation only, in whole pounds."),
    )

    panels = [FieldPanel("label"), FieldPanel("description"), FieldPanel("cost")]

    class Meta(Orderable.Meta):
        pass

    def __str__(self) -> str:
        return self.label

    @property
    def key(self) -> str:
        """The option's id as it appears in ballot data and tallies."""
        return str(self.pk)


class Ballot(models.Model):
    """One person's ballot. ``voter`` and the timestamps stay empty for secret ballots."""

    id = models.BigIntegerField(primary_key=True, default=random_ballot_id, editable=False)
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="ballots")
    # SET_NULL: when someone deletes their account their vote still counts, no longer linked to them.
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ballots"
    )
    data = models.JSONField(help_text=_("The normalised ballot, in the shape the question's kind documents."))
    cast_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "voter"], name="voting_one_ballot_per_voter"),
        ]

    def __str__(self) -> str:
        return f"Ballot on question {self.question_id}"


class Participation(models.Model):
    """That a person voted on a question (and nothing about how)."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="participations")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "voter"], name="voting_one_participation_per_voter"),
        ]

    def __str__(self) -> str:
        return f"Participation in question {self.question_id}"


class SealedBallot(models.Model):
    """A secret ballot as the voter's transaction stores it: encrypted (``voting.sealing``), waiting
    for the mix (``voting.services.secret_ballots_mix``) to open it, in another transaction and among
    others, as a ``Ballot``. The row is deleted when it is mixed."""

    id = models.BigIntegerField(primary_key=True, default=random_ballot_id, editable=False)
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="sealed_ballots")
    sealed = models.BinaryField()

    def __str__(self) -> str:
        return f"Sealed ballot on question {self.question_id}"


class TallyCount(models.Model):
    """An incremental count: ``key`` is a choice, an option id, or ``<option id>:<score>``."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="counts")
    key = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "key"], name="voting_one_count_per_key"),
            models.CheckConstraint(condition=models.Q(count__gte=0), name="voting_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.count}"


# Live sessions (a council meeting) ---------------------------------------------------------------
# Kept together at the end of the module: the session, and the questions it puts to the room.

#: Join codes avoid letters and digits that are easily confused when read off a screen (0/O, 1/I/L).
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 6


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


class LiveSessionStatus(models.TextChoices):
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")


class LiveSession(models.Model):
    """A meeting in which a councillor puts questions to the room one at a time."""

    title = models.CharField(max_length=200)
    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="live_sessions")
    code = models.CharField(max_length=12, unique=True, default=new_join_code, editable=False)
    status = models.CharField(
        max_length=10, choices=LiveSessionStatus.choices, default=LiveSessionStatus.LIVE
    )
    #: The question on screen now (open, or closed with its result showing); empty before the first.
    current = models.ForeignKey(
        "LiveSessionQuestion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="ended", ended_at__isnull=False)
                | models.Q(status="live", ended_at__isnull=True),
                name="voting_live_session_ended_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("voting:live_session", kwargs={"code": self.code})


class LiveSessionQuestion(models.Model):
    """A question queued in a live session, in the order the host will put it."""

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="items")
    question = models.OneToOneField(Question, on_delete=models.CASCADE, related_name="live_item")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.question_id}"


class BudgetQuestionForm(WagtailAdminModelForm):
    """Every project of a budget question needs a cost."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        formset = self.formsets.get("options")
        for form in formset.forms if formset is not None else []:
            data = getattr(form, "cleaned_data", None) or {}
            if data and not data.get("DELETE") and not data.get("cost"):
                form.add_error("cost", _("Give every project its cost in whole pounds."))
                valid = False
        return valid


BudgetQuestion.base_form_class = BudgetQuestionForm
