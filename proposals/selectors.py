"""Reads, each shaped for its page so templates never query.

A thread is fetched flat in one query and built into a tree in Python, so a page with 500
comments costs the same number of queries as a page with 5.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Least, TruncMonth
from django.utils import timezone

from consultations.models import ConsultationPage
from proposals.models import (
    DECIDED_STATUSES,
    ActionKind,
    Appeal,
    AppealStatus,
    Comment,
    CommentState,
    Flag,
    FlagOutcome,
    FlagReason,
    ModerationAction,
    Proposal,
    ProposalKind,
    Stance,
    Support,
    Visibility,
)

SORTS = {
    "supported": ("Most supported", ["-support_count", "-created_at", "-pk"]),
    "newest": ("Newest", ["-created_at", "-pk"]),
    "discussed": ("Most discussed", ["-comment_count", "-created_at", "-pk"]),
    "contested": ("Most contested", ["-contested_score", "-comment_count", "-pk"]),
}
DEFAULT_SORT = "supported"


def _kind_ctype_ids() -> dict[str, int]:
    from django.contrib.contenttypes.models import ContentType

    from proposals.models import KIND_MODELS

    return {kind: ContentType.objects.get_for_model(model).pk for kind, model in KIND_MODELS.items()}


def proposal_list(
    *,
    consultation: ConsultationPage,
    order: str = DEFAULT_SORT,
    kind: str = "",
    status: str = "",
    ward_id: int | None = None,
    user=None,
) -> QuerySet[Proposal]:
    """Visible proposals of a consultation, sorted and filtered; base rows only (no kind fields needed)."""
    qs = (
        Proposal.objects.non_polymorphic()
        .filter(consultation=consultation, visibility=Visibility.VISIBLE)
        .select_related("author", "ward")
        .annotate(contested_score=Least(F("for_count"), F("against_count")))
    )
    qs = _with_supported(qs, user)
    if kind in ProposalKind.values:
        qs = qs.filter(polymorphic_ctype_id=_kind_ctype_ids()[kind])
    if status:
        qs = qs.filter(status=status)
    if ward_id:
        qs = qs.filter(ward_id=ward_id)
    return qs.order_by(*SORTS.get(order, SORTS[DEFAULT_SORT])[1])


def _with_supported(qs: QuerySet, user) -> QuerySet:
    """Whether ``user`` supports each proposal, in the same query."""
    if user is None or not user.is_authenticated:
        return qs.annotate(supported_by_me=Value(False, output_field=BooleanField()))
    return qs.annotate(supported_by_me=Exists(Support.objects.filter(proposal=OuterRef("pk"), user=user)))


def pin_outcomes(consultation: ConsultationPage) -> ConsultationPage:
    """Fetch a consultation's outcomes once and keep them on the instance.

    ``ConsultationPage.outcome`` reads ``self.outcomes.all()`` each time the rules ask what the phase
    allows, and modelcluster's ``ParentalKey`` manager ignores ``prefetch_related``, so without this a
    thread would cost one query per comment. modelcluster serves ``_cluster_related_objects`` instead of
    querying; the instance is only read here, never saved.
    """
    from consultations.models import Outcome

    cache = dict(getattr(consultation, "_cluster_related_objects", None) or {})
    if "outcomes" not in cache:
        cache["outcomes"] = list(Outcome.objects.filter(consultation_id=consultation.pk))
        consultation._cluster_related_objects = cache
    return consultation


def proposal_detail(*, pk: int, user=None) -> Proposal:
    """One proposal as its kind, with author, ward, consultation (timeline and outcome, which the rules
    read), status history and whether ``user`` supports it: six queries whatever the proposal."""
    ctype_id = Proposal.objects.non_polymorphic().values_list("polymorphic_ctype_id", flat=True).get(pk=pk)
    from django.contrib.contenttypes.models import ContentType

    model = ContentType.objects.get_for_id(ctype_id).model_class() or Proposal
    qs = model.objects.non_polymorphic().select_related("consultation", "author", "ward", "hidden_by_action")
    proposal = _with_supported(qs, user).get(pk=pk)
    prefetch_related_objects([proposal], "status_changes__changed_by", "consultation__phases")
    pin_outcomes(proposal.consultation)
    return proposal


@dataclass
class ThreadNode:
    comment: Comment
    children: list[ThreadNode] = field(default_factory=list)


@dataclass
class Thread:
    roots: list[ThreadNode]
    by_id: dict[int, Comment]
    comment_count: int
    participant_count: int
    arguments_for: list[Comment]
    arguments_against: list[Comment]
    questions: list[Comment]

    def __iter__(self):
        """Depth-first, with each comment's depth, for templates that render a flat, indented list."""
        stack = list(reversed(self.roots))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def thread_for(*, proposal: Proposal | None = None, consultation: ConsultationPage | None = None) -> Thread:
    """The whole thread of a proposal or a consultation: one query, tree built in Python."""
    target = {"proposal_id": proposal.pk} if proposal is not None else {"consultation_id": consultation.pk}
    comments = list(
        Comment.objects.filter(**target)
        .select_related("author", "hidden_by_action")
        .order_by("created_at", "pk")
    )
    by_id = {c.pk: c for c in comments}
    nodes = {c.pk: ThreadNode(c) for c in comments}
    roots: list[ThreadNode] = []
    for comment in comments:
        node = nodes[comment.pk]
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        (parent.children if parent else roots).append(node)
        # Quotes point into the same thread; attach them without another query.
        comment.quoted_comment = by_id.get(comment.quoted_id) if comment.quoted_id else None
        # The target is known: set it so rules asked about a comment do not fetch it again.
        if proposal is not None:
            comment.proposal = proposal
        else:
            comment.consultation = consultation
    visible = [c for c in comments if c.state == CommentState.VISIBLE]
    return Thread(
        roots=roots,
        by_id=by_id,
        comment_count=len(visible),
        participant_count=len({c.author_id for c in visible if c.author_id}),
        arguments_for=[c for c in visible if c.stance == Stance.FOR],
        arguments_against=[c for c in visible if c.stance == Stance.AGAINST],
        questions=[c for c in visible if c.stance == Stance.QUESTION],
    )


def supported_ids(*, user, proposal_ids) -> set[int]:
    if not user.is_authenticated:
        return set()
    from proposals.models import Support

    return set(
        Support.objects.filter(user=user, proposal_id__in=list(proposal_ids)).values_list(
            "proposal_id", flat=True
        )
    )


@dataclass
class ConsultationSummary:
    proposal_count: int
    comment_count: int


def consultation_summary(*, consultation: ConsultationPage) -> ConsultationSummary:
    """Counts for the consultation page's proposals section, in one query."""
    row = ConsultationPage.objects.filter(pk=consultation.pk).aggregate(
        proposals=Count("proposals", filter=Q(proposals__visibility=Visibility.VISIBLE), distinct=True),
        comments=Count("comments", filter=Q(comments__state=CommentState.VISIBLE), distinct=True),
    )
    return ConsultationSummary(proposal_count=row["proposals"] or 0, comment_count=row["comments"] or 0)


def decided_proposals(*, consultation: ConsultationPage) -> list[Proposal]:
    """Proposals with a council decision, for the consultation's outcome: one query."""
    return list(
        Proposal.objects.non_polymorphic()
        .filter(consultation=consultation, visibility=Visibility.VISIBLE, status__in=DECIDED_STATUSES)
        .order_by("status", "-status_changed_at", "pk")
    )


# ---------------------------------------------------------------------------------------------------------
# Moderation


@dataclass
class QueueItem:
    item_type: str
    item: Comment | Proposal
    flags: list[Flag]
    urgency: float
    reasons: dict[str, int]

    @property
    def oldest(self):
        return min(f.created_at for f in self.flags)


def reporter_trust(reporter_ids) -> dict[int, float]:
    """How often a reporter's flags were upheld: (upheld + 1) / (decided + 2); a new reporter gets 0.5."""
    rows = (
        Flag.objects.filter(reporter_id__in=list(reporter_ids))
        .exclude(outcome=FlagOutcome.PENDING)
        .values("reporter_id")
        .annotate(upheld=Count("pk", filter=Q(outcome=FlagOutcome.UPHELD)), decided=Count("pk"))
    )
    trust = dict.fromkeys(reporter_ids, 0.5)
    for row in rows:
        trust[row["reporter_id"]] = (row["upheld"] + 1) / (row["decided"] + 2)
    return trust


def moderation_queue(*, now=None) -> list[QueueItem]:
    """Flagged items waiting for a moderator, most urgent first.

    Urgency = the reporters' trust summed (more flags from trusted people count more) x 10, plus one
    point per hour the oldest flag has waited (capped at three days), plus a weight for abuse and
    personal data, which can hurt someone while they wait.
    """
    now = now or timezone.now()
    flags = list(
        Flag.objects.filter(outcome=FlagOutcome.PENDING)
        .select_related(
            "reporter",
            "comment__author",
            "comment__proposal",
            "comment__consultation",
            "proposal__author",
            "proposal__consultation",
        )
        .order_by("created_at", "pk")
    )
    trust = reporter_trust({f.reporter_id for f in flags})
    grouped: dict[tuple[str, int], list[Flag]] = defaultdict(list)
    for flag in flags:
        key = ("comment", flag.comment_id) if flag.comment_id else ("proposal", flag.proposal_id)
        grouped[key].append(flag)
    items = []
    for (item_type, _pk), item_flags in grouped.items():
        reasons: dict[str, int] = defaultdict(int)
        for flag in item_flags:
            reasons[flag.reason] += 1
        hours = min((now - item_flags[0].created_at) / timedelta(hours=1), 72)
        harm = 5 * (reasons.get(FlagReason.ABUSE, 0) + reasons.get(FlagReason.PERSONAL_DATA, 0))
        urgency = 10 * sum(trust[f.reporter_id] for f in item_flags) + hours + harm
        items.append(
            QueueItem(
                item_type=item_type,
                item=item_flags[0].item,
                flags=item_flags,
                urgency=round(urgency, 1),
                reasons=dict(reasons),
            )
        )
    items.sort(key=lambda qi: (-qi.urgency, qi.oldest))
    return items


def item_history(*, item: Comment | Proposal) -> list[ModerationAction]:
    lookup = {"comment": item} if isinstance(item, Comment) else {"proposal": item}
    return list(ModerationAction.objects.filter(**lookup).select_related("moderator"))


def audit_log(*, limit: int = 200) -> list[ModerationAction]:
    return list(
        ModerationAction.objects.select_related("moderator", "target_user", "comment", "proposal")[:limit]
    )


def notices_for(*, user) -> list[ModerationAction]:
    """What moderators decided about a person's contributions, newest first, with any appeal."""
    actions = list(
        ModerationAction.objects.filter(target_user=user)
        .exclude(kind=ActionKind.DISMISS)
        .select_related("comment", "proposal", "appeal")
    )
    return actions


def pending_appeals() -> list[Appeal]:
    return list(
        Appeal.objects.filter(status=AppealStatus.PENDING).select_related(
            "action__moderator", "action__comment", "action__proposal", "appellant"
        )
    )


@dataclass
class MonthStats:
    month: object
    by_reason: dict[str, int]
    total: int


def monthly_statistics(*, months: int = 12) -> dict:
    """Public numbers: per month, flags received and items hidden, by reason. Two queries."""
    since = (timezone.now() - timedelta(days=31 * months)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    flags = (
        Flag.objects.filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "reason")
        .annotate(n=Count("pk"))
        .order_by("-month")
    )
    actions = (
        ModerationAction.objects.filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "kind", "reason")
        .annotate(n=Count("pk"))
        .order_by("-month")
    )
    table: dict = defaultdict(
        lambda: {
            "flags": defaultdict(int),
            "hidden": defaultdict(int),
            "flags_total": 0,
            "hidden_total": 0,
            "warnings": 0,
            "suspensions": 0,
            "restored": 0,
        }
    )
    for row in flags:
        month = table[row["month"].date() if hasattr(row["month"], "date") else row["month"]]
        month["flags"][row["reason"]] += row["n"]
        month["flags_total"] += row["n"]
    for row in actions:
        month = table[row["month"].date() if hasattr(row["month"], "date") else row["month"]]
        if row["kind"] == ActionKind.HIDE:
            month["hidden"][row["reason"]] += row["n"]
            month["hidden_total"] += row["n"]
        elif row["kind"] == ActionKind.WARN:
            month["warnings"] += row["n"]
        elif row["kind"] == ActionKind.SUSPEND:
            month["suspensions"] += row["n"]
        elif row["kind"] == ActionKind.RESTORE:
            month["restored"] += row["n"]
    return dict(sorted(table.items(), key=lambda kv: kv[0], reverse=True))


def flag_counts_since(*, since) -> dict[str, int]:
    return dict(Flag.objects.filter(created_at__gte=since).values_list("reason").annotate(n=Count("pk")))
