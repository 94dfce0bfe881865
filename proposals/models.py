"""Proposals, deliberation threads and moderation.

State is held in ``TextChoices`` fields guarded by check constraints. Counters on a proposal
(supports, comments, arguments for and against) are kept by the services in the same transaction as
the rows they count, so lists sort and show them without counting.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from polymorphic.models import PolymorphicModel

# ---------------------------------------------------------------------------------------------------------
# Proposals


class ProposalStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    PUBLISHED = "published", _("Published")
    UNDER_REVIEW = "under_review", _("Under review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    IMPLEMENTED = "implemented", _("Implemented")


#: The lifecycle: where a proposal may go from each status. Every move needs a reason.
STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ProposalStatus.SUBMITTED: (ProposalStatus.PUBLISHED, ProposalStatus.REJECTED),
    ProposalStatus.PUBLISHED: (ProposalStatus.UNDER_REVIEW, ProposalStatus.ACCEPTED, ProposalStatus.REJECTED),
    ProposalStatus.UNDER_REVIEW: (ProposalStatus.ACCEPTED, ProposalStatus.REJECTED),
    ProposalStatus.ACCEPTED: (ProposalStatus.IMPLEMENTED, ProposalStatus.UNDER_REVIEW),
    ProposalStatus.REJECTED: (ProposalStatus.UNDER_REVIEW,),
    ProposalStatus.IMPLEMENTED: (),
}

#: Statuses in which residents may still support a proposal.
SUPPORTABLE_STATUSES = (ProposalStatus.SUBMITTED, ProposalStatus.PUBLISHED, ProposalStatus.UNDER_REVIEW)
#: Statuses that are a council decision (shown in the consultation's outcome).
DECIDED_STATUSES = (ProposalStatus.ACCEPTED, ProposalStatus.REJECTED, ProposalStatus.IMPLEMENTED)


class Visibility(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    HIDDEN = "hidden", _("Hidden by a moderator")


class ProposalKind(models.TextChoices):
    IDEA = "idea", _("Idea")
    BUDGET = "budget", _("Budget proposal")
    POLICY = "policy", _("Policy change")


def _choices_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class Proposal(PolymorphicModel):
    kind_code: str = ""

    consultation = models.ForeignKey(
        "consultations.ConsultationPage", on_delete=models.CASCADE, related_name="proposals"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    title = models.CharField(_("title"), max_length=120)
    summary = models.CharField(_("summary"), max_length=300)
    body = models.TextField(_("description"), blank=True, help_text=_("Sanitised HTML."))
    ward = models.ForeignKey(
        "accounts.Ward", null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    status = models.CharField(max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.SUBMITTED)
    status_reason = models.TextField(blank=True, help_text=_("Why the proposal has its current status."))
    status_changed_at = models.DateTimeField(null=True, blank=True)
    council_response = models.TextField(blank=True, help_text=_("Sanitised HTML."))
    council_response_at = models.DateTimeField(null=True, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE)
    hidden_by_action = models.ForeignKey(
        "proposals.ModerationAction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    support_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    for_count = models.PositiveIntegerField(default=0)
    against_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            _choices_check("status", ProposalStatus, "proposals_proposal_status_valid"),
            _choices_check("visibility", Visibility, "proposals_proposal_visibility_valid"),
        ]
        indexes = [
            models.Index(
                fields=["consultation", "visibility", "-support_count"], name="proposals_by_support"
            ),
            models.Index(fields=["consultation", "visibility", "-created_at"], name="proposals_by_newest"),
            models.Index(
                fields=["consultation", "visibility", "-comment_count"], name="proposals_by_comments"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("proposals:detail", args=[self.pk])

    @property
    def is_hidden(self) -> bool:
        return self.visibility == Visibility.HIDDEN

    @property
    def kind(self) -> str:
        """The kind's code, from the content type cache (no query once cached)."""
        return self.get_real_instance_class().kind_code or ProposalKind.IDEA

    @property
    def kind_label(self) -> str:
        return ProposalKind(self.kind).label

    @property
    def contested(self) -> int:
        return min(self.for_count, self.against_count)


class IdeaProposal(Proposal):
    kind_code = ProposalKind.IDEA

    who_benefits = models.CharField(
        _("who would benefit"),
        max_length=300,
        blank=True,
        help_text=_("Optional. For example: families with young children, people who cycle to work."),
    )

    class Meta:
        verbose_name = _("idea")


class BudgetProposal(Proposal):
    kind_code = ProposalKind.BUDGET

    estimated_cost_pence = models.PositiveBigIntegerField(_("estimated cost (pence)"))
    location = models.CharField(_("location"), max_length=200)

    class Meta:
        verbose_name = _("budget proposal")
        constraints = [
            models.CheckConstraint(
                condition=Q(estimated_cost_pence__gt=0), name="proposals_budget_cost_positive"
            ),
        ]

    @property
    def estimated_cost_pounds(self) -> str:
        pounds, pence = divmod(self.estimated_cost_pence, 100)
        return f"£{pounds:,}" + (f".{pence:02d}" if pence else "")


class PolicyProposal(Proposal):
    kind_code = ProposalKind.POLICY

    current_policy = models.TextField(_("what happens now"), max_length=2000)
    proposed_change = models.TextField(_("what should change"), max_length=2000)

    class Meta:
        verbose_name = _("policy change")


KIND_MODELS: dict[str, type[Proposal]] = {
    ProposalKind.IDEA: IdeaProposal,
    ProposalKind.BUDGET: BudgetProposal,
    ProposalKind.POLICY: PolicyProposal,
}


class ProposalStatusChange(models.Model):
    """One step of a proposal's lifecycle, with its reason. Written only by ``proposal_change_status``."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=ProposalStatus.choices)
    to_status = models.CharField(max_length=20, choices=ProposalStatus.choices)
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            _choices_check("from_status", ProposalStatus, "proposals_statuschange_from_valid"),
            _choices_check("to_status", ProposalStatus, "proposals_statuschange_to_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="proposals_statuschange_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.from_status} → {self.to_status}"


class Support(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supports")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="proposals_one_support_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} supports {self.proposal_id}"


# ---------------------------------------------------------------------------------------------------------
# Deliberation threads


class Stance(models.TextChoices):
    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    QUESTION = "question", _("Question")
    NEUTRAL = "neutral", _("Neutral")


class CommentState(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    HIDDEN = "hidden", _("Hidden by a moderator")
    REMOVED = "removed", _("Removed by its author")


#: Replies nest this many levels deep at most (a top-level comment is level 1).
MAX_DEPTH = 4


class Comment(models.Model):
    """A comment in the thread of a consultation or of a proposal (exactly one of the two)."""

    consultation = models.ForeignKey(
        "consultations.ConsultationPage",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="comments",
    )
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    quoted = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    depth = models.PositiveSmallIntegerField(default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="comments"
    )
    stance = models.CharField(max_length=10, choices=Stance.choices, default=Stance.NEUTRAL)
    body = models.TextField(help_text=_("Sanitised HTML."))
    state = models.CharField(max_length=10, choices=CommentState.choices, default=CommentState.VISIBLE)
    hidden_by_action = models.ForeignKey(
        "proposals.ModerationAction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(consultation__isnull=False) & Q(proposal__isnull=True))
                | (Q(consultation__isnull=True) & Q(proposal__isnull=False)),
                name="proposals_comment_exactly_one_target",
            ),
            models.CheckConstraint(condition=Q(depth__lt=MAX_DEPTH), name="proposals_comment_depth_limit"),
            _choices_check("stance", Stance, "proposals_comment_stance_valid"),
            _choices_check("state", CommentState, "proposals_comment_state_valid"),
        ]
        indexes = [
            models.Index(fields=["proposal", "created_at"], name="proposals_comment_by_proposal"),
            models.Index(fields=["consultation", "created_at"], name="proposals_comment_by_consult"),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk}"

    def get_absolute_url(self) -> str:
        if self.proposal_id:
            return reverse("proposals:detail", args=[self.proposal_id]) + f"#comment-{self.pk}"
        return reverse("proposals:thread", args=[self.consultation_id]) + f"#comment-{self.pk}"

    @property
    def target(self):
        return self.proposal if self.proposal_id else self.consultation

    @property
    def is_visible(self) -> bool:
        return self.state == CommentState.VISIBLE


class CommentRevision(models.Model):
    """The text a comment had before an edit."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    stance = models.CharField(max_length=10, choices=Stance.choices)
    written_at = models.DateTimeField(help_text=_("When this version was written."))
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-replaced_at", "-pk"]

    def __str__(self) -> str:
        return f"Revision of comment {self.comment_id}"


# ---------------------------------------------------------------------------------------------------------
# Moderation


class FlagReason(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    ABUSE = "abuse", _("Abusive, threatening or hateful")
    OFF_TOPIC = "off_topic", _("Off-topic")
    PERSONAL_DATA = "personal_data", _("Shares personal details")


class FlagOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting for a moderator")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


def _exactly_one_item(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(comment__isnull=False) & Q(proposal__isnull=True))
        | (Q(comment__isnull=True) & Q(proposal__isnull=False)),
        name=name,
    )


class Flag(models.Model):
    """Someone reporting a comment or a proposal to the moderators."""

    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags_made"
    )
    reason = models.CharField(max_length=20, choices=FlagReason.choices)
    note = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=10, choices=FlagOutcome.choices, default=FlagOutcome.PENDING)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            _exactly_one_item("proposals_flag_exactly_one_item"),
            _choices_check("reason", FlagReason, "proposals_flag_reason_valid"),
            _choices_check("outcome", FlagOutcome, "proposals_flag_outcome_valid"),
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                condition=Q(comment__isnull=False),
                name="proposals_one_flag_per_person_per_comment",
            ),
            models.UniqueConstraint(
                fields=["reporter", "proposal"],
                condition=Q(proposal__isnull=False),
                name="proposals_one_flag_per_person_per_proposal",
            ),
        ]

    def __str__(self) -> str:
        return f"Flag {self.pk} ({self.reason})"

    @property
    def item(self):
        return self.comment if self.comment_id else self.proposal


class ActionKind(models.TextChoices):
    HIDE = "hide", _("Hidden")
    RESTORE = "restore", _("Restored")
    DISMISS = "dismiss", _("Flags dismissed")
    WARN = "warn", _("Warning")
    SUSPEND = "suspend", _("Suspension")
    LIFT_SUSPENSION = "lift_suspension", _("Suspension lifted")


class ActionReason(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    ABUSE = "abuse", _("Abusive, threatening or hateful")
    OFF_TOPIC = "off_topic", _("Off-topic")
    PERSONAL_DATA = "personal_data", _("Shares personal details")
    NO_BREACH = "no_breach", _("Does not break the house rules")
    APPEAL = "appeal", _("Decided on appeal")
    OTHER = "other", _("Other breach of the house rules")


#: Actions an author may appeal.
APPEALABLE_KINDS = (ActionKind.HIDE, ActionKind.WARN, ActionKind.SUSPEND)


class ModerationActionQuerySet(models.QuerySet):
    """The audit log has no update path: bulk updates are refused too."""

    def update(self, **kwargs):
        raise ValidationError(_("Moderation actions are an audit log and cannot be changed."))


class ModerationAction(models.Model):
    """Who did what, to what, when and why. Written once, never changed."""

    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    reason = models.CharField(max_length=20, choices=ActionReason.choices)
    explanation = models.TextField(help_text=_("What the author is told, in plain words."))
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_actions",
    )
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    suspended_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ModerationActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            _choices_check("kind", ActionKind, "proposals_action_kind_valid"),
            _choices_check("reason", ActionReason, "proposals_action_reason_valid"),
            models.CheckConstraint(condition=~Q(explanation=""), name="proposals_action_has_explanation"),
            models.CheckConstraint(
                condition=~Q(kind="suspend") | Q(suspended_until__isnull=False),
                name="proposals_action_suspension_has_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_reason_display()})"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValidationError(_("Moderation actions are an audit log and cannot be changed."))
        super().save(*args, **kwargs)

    @property
    def item(self):
        return self.comment or self.proposal


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a moderator")
    UPHELD = "upheld", _("Decision stands")
    OVERTURNED = "overturned", _("Decision overturned")


class Appeal(models.Model):
    """An author's one appeal against a moderation action."""

    action = models.OneToOneField(ModerationAction, on_delete=models.CASCADE, related_name="appeal")
    appellant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appeals")
    statement = models.TextField(max_length=2000)
    status = models.CharField(max_length=12, choices=AppealStatus.choices, default=AppealStatus.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            _choices_check("status", AppealStatus, "proposals_appeal_status_valid"),
            models.CheckConstraint(
                condition=Q(status="pending") | (Q(reviewed_at__isnull=False) & ~Q(review_note="")),
                name="proposals_appeal_reviewed_with_note",
            ),
        ]

    def __str__(self) -> str:
        return f"Appeal {self.pk} ({self.status})"
