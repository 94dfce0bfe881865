"""Consultations: Wagtail pages with a timeline of phases, an engagement track and an outcome."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, PageManager
from wagtail.query import PageQuerySet
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from cms.blocks import RICH_TEXT_FEATURES, BodyBlock
from consultations import timeline, triage
from consultations.forms import ConsultationPageForm
from consultations.panels import TriagePanel
from consultations.phases import ACTIONS_BY_PHASE, PHASE_ORDER, PhaseKind, Status  # noqa: F401 (re-exported)


@register_snippet
class Topic(models.Model):
    name = models.CharField(max_length=80, unique=True, help_text=_("A short name residents will recognise."))
    slug = models.SlugField(max_length=80, unique=True, help_text=_("Used in web addresses and filters."))

    panels = [FieldPanel("name"), FieldPanel("slug")]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConsultationIndexPage(Page):
    intro = RichTextField(
        features=["bold", "italic", "link"],
        blank=True,
        help_text=_("A sentence or two above the list: what residents will find here."),
    )

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["consultations.ConsultationPage"]

    def get_context(self, request, *args, **kwargs):
        from consultations.selectors import consultation_listing

        context = super().get_context(request, *args, **kwargs)
        context.update(consultation_listing(index=self, params=request.GET))
        return context


class Track(models.TextChoices):
    WIDE = "wide", _("Wide engagement")
    PANEL = "panel", _("Expert panel")


class ConsultationPageQuerySet(PageQuerySet):
    """Status filters in the database, matching ``consultations.timeline.status_at``."""

    def with_timeline_bounds(self):
        first_start = Phase.objects.filter(consultation=models.OuterRef("pk")).order_by("starts_at")
        last_participation = (
            Phase.objects.filter(consultation=models.OuterRef("pk"))
            .exclude(kind=PhaseKind.OUTCOME)
            .order_by("-ends_at")
        )
        last_any = Phase.objects.filter(consultation=models.OuterRef("pk")).order_by("-ends_at")
        decided = Outcome.objects.filter(consultation=models.OuterRef("pk"), published_at__isnull=False)
        return self.annotate(
            timeline_starts_at=models.Subquery(first_start.values("starts_at")[:1]),
            participation_end=models.functions.Coalesce(
                models.Subquery(last_participation.values("ends_at")[:1]),
                models.Subquery(last_any.values("ends_at")[:1]),
            ),
            is_decided=models.Exists(decided),
        )

    def with_status(self, status: str, when: datetime | None = None):
        when = when or timezone.now()
        qs = self.with_timeline_bounds()
        if status == Status.DECIDED:
            return qs.filter(is_decided=True)
        qs = qs.filter(is_decided=False)
        if status == Status.UPCOMING:
            return qs.filter(
                models.Q(timeline_starts_at__isnull=True) | models.Q(timeline_starts_at__gt=when)
            )
        if status == Status.OPEN:
            return qs.filter(timeline_starts_at__lte=when, participation_end__gt=when)
        if status == Status.CLOSED:
            return qs.filter(participation_end__lte=when)
        raise ValueError(f"Unknown status {status!r}")

    def status_ordered(self, when: datetime | None = None):
        """Open first, then upcoming, closed and decided; newest first within each."""
        when = when or timezone.now()
        rank = models.Case(
            models.When(is_decided=True, then=3),
            models.When(
                models.Q(timeline_starts_at__isnull=True) | models.Q(timeline_starts_at__gt=when), then=1
            ),
            models.When(participation_end__lte=when, then=2),
            default=0,
            output_field=models.IntegerField(),
        )
        return (
            self.with_timeline_bounds()
            .annotate(status_rank=rank)
            .order_by("status_rank", models.F("timeline_starts_at").desc(nulls_last=True), "title")
        )


ConsultationPageManager = PageManager.from_queryset(ConsultationPageQuerySet)


class ConsultationPage(Page):
    # About
    summary = models.CharField(
        max_length=300, help_text=_("One sentence: what is being decided and why it matters.")
    )
    body = StreamField(BodyBlock(), blank=True, help_text=_("The background residents need to take part."))
    topics = ParentalManyToManyField(
        Topic,
        blank=True,
        related_name="consultations",
        help_text=_("Residents can filter the list of consultations by topic."),
    )
    wards = ParentalManyToManyField(
        "accounts.Ward",
        blank=True,
        related_name="consultations",
        help_text=_(
            "Wards affected. Leave empty if the whole council area is affected. On the wide track, "
            "residents of these wards take part."
        ),
    )
    councillor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"groups__name": "Councillors"},
        help_text=_(
            "The councillor responsible for this consultation. They are told when residents ask "
            "for wide engagement."
        ),
    )
    contact_email = models.EmailField(blank=True, help_text=_("Where residents can send questions."))

    # Triage rubric
    people_affected = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(10_000_000)],
        help_text=_("Roughly how many people the decision affects: residents, businesses, visitors."),
    )
    budget = models.DecimalField(
        max_digits=12,
        decimal_places=0,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("The money at stake, in whole pounds. 0 if none."),
    )
    reversibility = models.CharField(
        max_length=10,
        choices=triage.Reversibility.choices,
        default=triage.Reversibility.EASY,
        help_text=_("How hard it would be to change the decision later."),
    )
    statutory_duty = models.BooleanField(
        default=False,
        help_text=_(
            "Tick if the law requires the council to consult the public on this. The triage aid "
            "then recommends wide engagement."
        ),
    )
    interest_signals = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(10_000_000)],
        help_text=_(
            "Early signs of public interest so far: letters, emails, petition signatures, "
            "questions at meetings. A rough count is fine."
        ),
    )

    # Track
    track = models.CharField(
        max_length=10,
        choices=Track.choices,
        default=Track.WIDE,
        help_text=_(
            "Wide: every eligible resident of the affected wards takes part. Panel: a named expert "
            "panel deliberates and votes; everyone can read, and the panel publishes a report."
        ),
    )
    panel = models.ForeignKey(
        "accounts.Panel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consultations",
        help_text=_("Required on the panel track: the panel whose members deliberate and vote."),
    )
    triage_override_reason = models.TextField(
        blank=True,
        max_length=1000,
        help_text=_(
            "Required only if you choose a different track from the triage aid's recommendation. "
            "Say why in plain words: it is shown publicly on the consultation."
        ),
    )
    track_change_reason = models.TextField(
        blank=True,
        max_length=1000,
        help_text=_(
            "Required only when you move a published consultation to the other track (for example "
            "after residents asked for wide engagement). Shown publicly in the track history."
        ),
    )
    escalation_threshold = models.PositiveIntegerField(
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        help_text=_(
            "Panel track only: when this many residents ask for wide engagement, the responsible "
            "councillor is emailed once so they can decide whether to move it to the wide track."
        ),
    )

    objects = ConsultationPageManager()

    base_form_class = ConsultationPageForm
    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldPanel("summary"),
                FieldPanel("body"),
                FieldPanel("topics", widget=forms.CheckboxSelectMultiple),
                FieldPanel("wards", widget=forms.CheckboxSelectMultiple),
                FieldPanel("councillor"),
                FieldPanel("contact_email"),
            ],
            heading=_("About"),
        ),
        InlinePanel(
            "phases",
            heading=_("Timeline"),
            label=_("Phase"),
            min_num=1,
            help_text=_(
                "Phases run one after another: each starts when the previous one ends, unless you tick "
                "“gap intended”. Residents see where we are, what happens next and when."
            ),
        ),
        MultiFieldPanel(
            [
                FieldPanel("people_affected"),
                FieldPanel("budget"),
                FieldPanel("reversibility"),
                FieldPanel("statutory_duty"),
                FieldPanel("interest_signals"),
                TriagePanel(heading=_("Recommendation")),
                FieldPanel("track"),
                FieldPanel("panel", widget=forms.Select),
                FieldPanel("triage_override_reason"),
                FieldPanel("escalation_threshold"),
                FieldPanel("track_change_reason"),
            ],
            heading=_("Track"),
            help_text=_(
                "The triage aid weighs the rubric below and recommends a track. The number of wards "
                "comes from “wards affected” above."
            ),
        ),
        InlinePanel(
            "outcomes",
            heading=_("Outcome"),
            label=_("Outcome"),
            min_num=0,
            max_num=1,
            help_text=_(
                "“You said, we did”: add the decision once the consultation has closed. It is "
                "published with the page, and everyone who took part is emailed."
            ),
        ),
    ]

    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
        index.RelatedFields("topics", [index.SearchField("name")]),
        index.RelatedFields("wards", [index.SearchField("name")]),
        index.FilterField("track"),
    ]

    parent_page_types = ["consultations.ConsultationIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("consultation")

    # --- Timeline (see consultations.timeline) ---
    @cached_property
    def timeline(self) -> list[Phase]:
        return timeline.ordered(list(self.phases.all()))

    def _decided(self) -> bool:
        outcome = self.outcome
        return outcome is not None and outcome.published

    def phase_at(self, when: datetime | None = None) -> Phase | None:
        return timeline.phase_at(self.timeline, when or timezone.now())

    @property
    def current_phase(self) -> Phase | None:
        return self.phase_at()

    def next_phase(self, when: datetime | None = None) -> Phase | None:
        return timeline.next_phase(self.timeline, when or timezone.now())

    def status_at(self, when: datetime | None = None) -> str:
        return timeline.status_at(self.timeline, when or timezone.now(), decided=self._decided())

    @property
    def status(self) -> str:
        return self.status_at()

    def get_status_display(self) -> str:
        return Status(self.status).label

    def actions_at(self, when: datetime | None = None) -> frozenset[str]:
        """What the timeline allows now (who may do it is the rules' business)."""
        return timeline.actions_at(self.timeline, when or timezone.now(), decided=self._decided())

    @property
    def participation_ends_at(self) -> datetime | None:
        return timeline.participation_ends_at(self.timeline)

    # --- Outcome ---
    @property
    def outcome(self) -> Outcome | None:
        """The consultation's outcome (at most one), or None.

        Read once per instance (the rules ask for it on every permission check); a prefetch of
        ``outcomes`` makes it free.
        """
        if "_outcome" not in self.__dict__:
            self.__dict__["_outcome"] = next(iter(self.outcomes.all()), None)
        return self.__dict__["_outcome"]

    # --- Triage ---
    def ward_count(self) -> tuple[int, bool]:
        """(wards affected, whole area): no wards chosen means the whole council area."""
        count = len(self.wards.all())
        if count:
            return count, False
        from accounts.models import Ward

        return Ward.objects.count(), True

    def triage_input(
        self, *, wards_affected: int | None = None, whole_area: bool | None = None
    ) -> triage.TriageInput:
        if wards_affected is None or whole_area is None:
            wards_affected, whole_area = self.ward_count()
        return triage.TriageInput(
            people_affected=self.people_affected or 0,
            wards_affected=wards_affected,
            whole_area=whole_area,
            budget=self.budget or 0,
            reversibility=self.reversibility or triage.Reversibility.EASY,
            statutory_duty=bool(self.statutory_duty),
            interest_signals=self.interest_signals or 0,
        )

    @cached_property
    def triage_recommendation(self) -> triage.Recommendation:
        return triage.recommend(self.triage_input())

    @property
    def follows_triage(self) -> bool:
        return self.triage_recommendation.track == self.track

    def clean(self) -> None:
        super().clean()
        if self.track == Track.PANEL and not self.panel_id:
            raise ValidationError(
                {
                    "panel": _(
                        "Choose the expert panel that will deliberate and vote, or choose the wide track."
                    )
                }
            )

    def get_context(self, request, *args, **kwargs):
        from consultations.selectors import consultation_detail

        context = super().get_context(request, *args, **kwargs)
        context.update(consultation_detail(page=self, user=request.user))
        return context


class PhaseQuerySet(models.QuerySet):
    def active(self, when: datetime | None = None):
        when = when or timezone.now()
        return self.filter(starts_at__lte=when, ends_at__gt=when)

    def upcoming(self, when: datetime | None = None):
        return self.filter(starts_at__gt=when or timezone.now())


class Phase(Orderable):
    consultation = ParentalKey(ConsultationPage, on_delete=models.CASCADE, related_name="phases")
    kind = models.CharField(
        max_length=20,
        choices=PhaseKind.choices,
        help_text=_(
            "Information: people read and ask questions. Proposals: residents suggest ideas. "
            "Deliberation: discuss and support. Voting: decide. Outcome: the council decides and reports."
        ),
    )
    starts_at = models.DateTimeField(_("starts"), help_text=_("When this phase opens."))
    ends_at = models.DateTimeField(
        _("ends"), help_text=_("When this phase closes. The next phase should start then.")
    )
    gap_intended = models.BooleanField(
        _("gap intended"),
        default=False,
        help_text=_(
            "Tick only if you mean this phase to start later than the previous one ends (for example "
            "a pause over the holidays). Without it, a gap is refused as a likely mistake."
        ),
    )
    description = models.CharField(
        max_length=300, blank=True, help_text=_("What happens in this phase, in one sentence.")
    )

    objects = PhaseQuerySet.as_manager()

    panels = [
        FieldPanel("kind"),
        FieldPanel("starts_at"),
        FieldPanel("ends_at"),
        FieldPanel("gap_intended"),
        FieldPanel("description"),
    ]

    class Meta(Orderable.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="consultations_phase_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.starts_at:%d %b} to {self.ends_at:%d %b %Y})"


class Outcome(models.Model):
    """ "You said, we did": what the council decided and why.

    Edited with the page (panel "Outcome"), so it goes through the same approval as the page. It is
    published when the page carrying it is published: ``published_at`` is set then, once, and kept.
    """

    consultation = ParentalKey(ConsultationPage, on_delete=models.CASCADE, related_name="outcomes")
    decision = models.CharField(max_length=300, help_text=_("The decision in one sentence, in plain words."))
    reasons = RichTextField(
        features=RICH_TEXT_FEATURES,
        help_text=_("Why: what people told us, what the evidence said, and what we could not do and why."),
    )
    panel_report = RichTextField(
        features=RICH_TEXT_FEATURES,
        blank=True,
        help_text=_(
            "Panel track: the expert panel's report, published with the decision. Leave empty on the "
            "wide track."
        ),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    panels = [FieldPanel("decision"), FieldPanel("reasons"), FieldPanel("panel_report")]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consultation"], name="consultations_one_outcome"),
        ]

    def __str__(self) -> str:
        return self.decision

    def save(self, *args, **kwargs) -> None:
        # Page revisions carry a copy of this row, and publishing one replaces the row; the first
        # publication is kept in OutcomePublication, which revisions never touch.
        if self.published_at is None and self.consultation_id:
            self.published_at = (
                OutcomePublication.objects.filter(consultation_id=self.consultation_id)
                .values_list("published_at", flat=True)
                .first()
            )
        super().save(*args, **kwargs)

    @property
    def published(self) -> bool:
        return self.published_at is not None


class TrackChange(models.Model):
    """The public history of a consultation's track: the first choice and every move since."""

    consultation = models.ForeignKey(ConsultationPage, on_delete=models.CASCADE, related_name="track_changes")
    from_track = models.CharField(max_length=10, choices=Track.choices, blank=True)
    to_track = models.CharField(max_length=10, choices=Track.choices)
    reason = models.TextField(max_length=1000, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_track or '-'} → {self.to_track}"


class EscalationRequest(models.Model):
    """A resident asking for wide engagement on a panel-track consultation ("I want a say")."""

    consultation = models.ForeignKey(
        ConsultationPage, on_delete=models.CASCADE, related_name="escalation_requests"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(
        _("why this matters to you (optional)"),
        max_length=500,
        blank=True,
        help_text=_("Optional. Up to 500 characters. The councillor reads these; they are not published."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "user"], name="consultations_escalation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.consultation_id}"


class EscalationNotice(models.Model):
    """That the owner was told the threshold was crossed: one row per consultation, so they are told once."""

    consultation = models.OneToOneField(
        ConsultationPage, on_delete=models.CASCADE, related_name="escalation_notice"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    requests_at_the_time = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.consultation_id}: {self.requests_at_the_time}"


class OutcomePublication(models.Model):
    """When a consultation's outcome was first published: one row, so participants are told once."""

    consultation = models.OneToOneField(
        ConsultationPage, on_delete=models.CASCADE, related_name="outcome_publication"
    )
    published_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.consultation_id} at {self.published_at:%Y-%m-%d %H:%M}"
