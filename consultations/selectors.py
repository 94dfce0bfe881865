"""Reads about consultations: the listing, a consultation's page, the home page's sections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.rules import can_participate, has_ward, is_active_resident, is_panel_member, is_verified
from consultations.models import (
    ConsultationIndexPage,
    ConsultationPage,
    EscalationRequest,
    Outcome,
    Phase,
    Topic,
    Track,
)
from consultations.phases import Action, PhaseKind, Status

PAGE_SIZE = 20


def _card_prefetches(qs: QuerySet) -> QuerySet:
    """What a consultation card needs (timeline, status, topics, wards), fetched once per list."""
    return qs.prefetch_related(
        Prefetch("phases", queryset=Phase.objects.order_by("starts_at", "sort_order")),
        "outcomes",
        "topics",
        "wards",
    )


def consultations_open(*, limit: int | None = None) -> list[ConsultationPage]:
    """Live consultations people can take part in now, newest first."""
    qs = _card_prefetches(ConsultationPage.objects.live().public().with_status(Status.OPEN)).order_by(
        "-timeline_starts_at", "title"
    )
    return list(qs[:limit] if limit else qs)


def recent_outcomes(*, limit: int = 3) -> list[Outcome]:
    return list(
        Outcome.objects.filter(published_at__isnull=False, consultation__live=True)
        .select_related("consultation")
        .order_by("-published_at")[:limit]
    )


def consultation_participant_ids(consultation: ConsultationPage) -> set[int]:
    """Everyone who took part in ``consultation``, to tell them about its outcome: residents who asked
    for a wider say, proposed, supported a proposal, commented anywhere in it, or voted."""
    from proposals.models import Comment, Proposal, Support
    from voting.models import Participation

    sources = [
        EscalationRequest.objects.filter(consultation=consultation).values_list("user_id", flat=True),
        Proposal.objects.filter(consultation=consultation).values_list("author_id", flat=True),
        Support.objects.filter(proposal__consultation=consultation).values_list("user_id", flat=True),
        Comment.objects.filter(
            Q(consultation=consultation) | Q(proposal__consultation=consultation)
        ).values_list("author_id", flat=True),
        # Who voted is recorded for every ballot, secret or not; what they chose is not needed here.
        Participation.objects.filter(question__consultation=consultation).values_list("voter_id", flat=True),
    ]
    ids: set[int] = set()
    for source in sources:
        ids.update(pk for pk in source if pk is not None)
    return ids


@dataclass
class Participant:
    """Someone who took part in a consultation, with what they did (for the closing-the-loop mail)."""

    user_id: int
    proposals: list[tuple[int, str]]  # (id, title) of the proposals they wrote
    supported: int = 0
    commented: bool = False
    voted: int = 0
    asked_wider_say: bool = False


def consultation_participants(consultation: ConsultationPage) -> dict[int, Participant]:
    """Everyone who took part in ``consultation`` and what they did, in five queries whatever the
    numbers. The same people as :func:`consultation_participant_ids`."""
    from django.db.models import Count

    from proposals.models import Comment, Proposal, Support
    from voting.models import Participation

    people: dict[int, Participant] = {}

    def person(user_id: int) -> Participant:
        if user_id not in people:
            people[user_id] = Participant(user_id=user_id, proposals=[])
        return people[user_id]

    for user_id in EscalationRequest.objects.filter(consultation=consultation).values_list(
        "user_id", flat=True
    ):
        person(user_id).asked_wider_say = True
    for pk, author_id, title in (
        Proposal.objects.filter(consultation=consultation, author__isnull=False)
        .order_by("pk")
        .values_list("pk", "author_id", "title")
    ):
        person(author_id).proposals.append((pk, title))
    for user_id, n in (
        Support.objects.filter(proposal__consultation=consultation)
        .values_list("user_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        person(user_id).supported = n
    for user_id in (
        Comment.objects.filter(Q(consultation=consultation) | Q(proposal__consultation=consultation))
        .exclude(author__isnull=True)
        .values_list("author_id", flat=True)
        .distinct()
    ):
        person(user_id).commented = True
    # Who voted is recorded for every ballot, secret or not; what they chose is not needed here.
    for user_id, n in (
        Participation.objects.filter(question__consultation=consultation)
        .values_list("voter_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        person(user_id).voted = n
    return people


# --- the listing ---


@dataclass
class ListingFilters:
    status: str = ""
    topic: str = ""
    ward: str = ""
    q: str = ""
    errors: dict | None = None


def _parse_filters(params, *, topics: list[Topic], wards: list) -> ListingFilters:
    """Read the GET filters; an unknown value is ignored with a message, never an error page."""
    errors: dict[str, str] = {}
    status = (params.get("status") or "").strip()
    if status and status not in Status.values:
        errors["status"] = _("Choose a status from the list.")
        status = ""
    topic = (params.get("topic") or "").strip()
    if topic and topic not in {t.slug for t in topics}:
        errors["topic"] = _("Choose a topic from the list.")
        topic = ""
    ward = (params.get("ward") or "").strip()
    if ward and ward not in {str(w.pk) for w in wards}:
        errors["ward"] = _("Choose a ward from the list.")
        ward = ""
    q = " ".join((params.get("q") or "").split())[:200]
    return ListingFilters(status=status, topic=topic, ward=ward, q=q, errors=errors)


def consultation_listing(*, index: ConsultationIndexPage, params, when: datetime | None = None) -> dict:
    """The index page: filtered, searched and paginated consultations, each ready to render."""
    from accounts.models import Ward

    topics = list(Topic.objects.all())
    wards = list(Ward.objects.all())
    filters = _parse_filters(params, topics=topics, wards=wards)
    qs = ConsultationPage.objects.child_of(index).live().public()
    if filters.status:
        qs = qs.with_status(filters.status, when)
    if filters.topic:
        topic_links = ConsultationPage.topics.through.objects.filter(topic__slug=filters.topic)
        qs = qs.filter(pk__in=topic_links.values("consultationpage_id"))
    if filters.ward:
        # A consultation with no wards affects the whole area, so it concerns every ward.
        ward_links = ConsultationPage.wards.through.objects
        qs = qs.filter(
            Q(pk__in=ward_links.filter(ward_id=filters.ward).values("consultationpage_id"))
            | ~Q(pk__in=ward_links.values("consultationpage_id"))
        )
    terms = " ".join(re.findall(r"\w+", filters.q))  # words only: punctuation means nothing to search
    if filters.q:
        matches = (
            ConsultationPage.objects.child_of(index).live().public().search(terms, operator="and")
            if terms
            else []
        )
        qs = qs.filter(pk__in=[page.pk for page in matches])
    qs = _card_prefetches(qs.status_ordered(when))
    paginator = Paginator(qs, PAGE_SIZE)
    page_obj = paginator.get_page(params.get("page"))
    querystring = params.copy()
    querystring.pop("page", None)
    return {
        "consultations": page_obj.object_list,
        "page_obj": page_obj,
        "paginator": paginator,
        "filters": filters,
        "filter_topics": topics,
        "filter_wards": wards,
        "filter_statuses": Status.choices,
        "filter_querystring": querystring.urlencode(),
        "is_filtered": any([filters.status, filters.topic, filters.ward, filters.q]),
    }


# --- a consultation's page ---


@dataclass
class TimelineEntry:
    phase: Phase
    state: str  # "past", "current", "next", "later"


def _timeline_entries(page: ConsultationPage, when: datetime) -> list[TimelineEntry]:
    current = page.phase_at(when)
    upcoming = page.next_phase(when)
    entries = []
    for phase in page.timeline:
        if phase is current:
            state = "current"
        elif phase.ends_at <= when:
            state = "past"
        elif phase is upcoming:
            state = "next"
        else:
            state = "later"
        entries.append(TimelineEntry(phase=phase, state=state))
    return entries


def participation_help(*, page: ConsultationPage, user) -> str:
    """Who may take part, and if this person may not, why, in plain words."""
    ward_names = [w.name for w in page.wards.all()]
    if page.track == Track.PANEL:
        who = _("Members of the %(panel)s panel deliberate and vote. Everyone can read along.") % {
            "panel": page.panel.name if page.panel else _("expert")
        }
        if user.is_authenticated and can_participate(user) and is_panel_member(user, page.panel_id):
            return who + " " + _("You are a member of this panel.")
        return who
    if ward_names:
        who = _("Residents of %(wards)s can take part.") % {"wards": ", ".join(ward_names)}
    else:
        who = _("Every resident of the council area can take part.")
    if not user.is_authenticated:
        return who + " " + _("Sign in to take part.")
    if not is_verified(user):
        return who + " " + _("Confirm your email address to take part.")
    if not has_ward(user):
        return who + " " + _("Add your postcode to your account so we know your ward.")
    if not is_active_resident(user):
        return who + " " + _("Your account cannot take part at the moment.")
    if ward_names and user.ward_id not in {w.pk for w in page.wards.all()}:
        return who + " " + _("Your ward is not affected, but you can read everything.")
    return who


def escalation_refusal(*, consultation: ConsultationPage, user) -> str:
    """Why ``user`` may not ask for a wider say, in plain words; empty when they may."""
    if user.has_perm("consultations.request_escalation", consultation):
        return ""
    if consultation.track != Track.PANEL:
        return _("This consultation is already open to every eligible resident.")
    if consultation.status not in (Status.UPCOMING, Status.OPEN):
        return _("This consultation has closed, so it can no longer move to wide engagement.")
    if not user.is_authenticated:
        return _("Sign in to ask for a wider say.")
    wards = [w.name for w in consultation.wards.all()]
    if wards:
        return _("Only residents of %(wards)s, with a confirmed email address, can ask for a wider say.") % {
            "wards": ", ".join(wards)
        }
    return _("Only residents of the council area, with a confirmed email address, can ask for a wider say.")


def consultation_detail(*, page: ConsultationPage, user, when: datetime | None = None) -> dict:
    """Everything a consultation's page shows: timeline, what you can do now, track, escalation, outcome."""
    when = when or timezone.now()
    current = page.phase_at(when)
    perms = {action: user.has_perm(f"consultations.{action}", page) for action in Action.values}
    can_do = [Action(action).label for action in Action.values if perms[action]]
    escalation = None
    if page.track == Track.PANEL:
        count = page.escalation_requests.count()
        escalation = {
            "count": count,
            "threshold": page.escalation_threshold,
            "can_request": user.has_perm("consultations.request_escalation", page),
            "already": bool(user.is_authenticated and page.escalation_requests.filter(user=user).exists()),
            "refusal": escalation_refusal(consultation=page, user=user),
            "open": page.status in (Status.UPCOMING, Status.OPEN),
        }
    outcome = page.outcome
    return {
        "status": page.status_at(when),
        "current_phase": current,
        "next_phase": page.next_phase(when),
        "timeline_entries": _timeline_entries(page, when),
        "consultation_perms": perms,
        "can_do": can_do,
        "participation_help": participation_help(page=page, user=user),
        "recommendation": page.triage_recommendation,
        "track_changes": list(page.track_changes.select_related(None).all()),
        "escalation": escalation,
        "outcome": outcome if outcome is not None and outcome.published else None,
        "in_outcome_phase": bool(current and current.kind == PhaseKind.OUTCOME),
    }
