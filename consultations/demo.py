"""Demo data: the consultations index and consultations in every status, on both tracks.

Upcoming, open in each phase, closed (the council deciding) and decided with a published outcome;
a panel consultation close to its escalation threshold; triage rubrics that sometimes disagree with
the councillor's choice, with the reason shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from accounts import roles
from accounts.models import User
from cms.demo_support import DemoContext
from consultations.models import (
    ConsultationIndexPage,
    ConsultationPage,
    EscalationRequest,
    Outcome,
    Phase,
    Topic,
    Track,
)
from consultations.phases import PhaseKind
from consultations.services import consultation_index_grant_permissions
from consultations.triage import Reversibility

TOPICS = [
    ("Transport", "transport"),
    ("Parks and green spaces", "parks"),
    ("Housing", "housing"),
    ("Budget", "budget"),
    ("Town centre", "town-centre"),
]


@dataclass
class Spec:
    slug: str
    title: str
    summary: str
    track: str
    panel: str | None
    topic: str
    wards: list[int]
    offset: int  # days from now to the first phase
    days: int  # days per phase
    rubric: dict = field(default_factory=dict)
    override: str = ""
    outcome: tuple[str, str] | None = None
    threshold: int = 50
    escalations: int = 0


SPECS = [
    Spec(
        "riverside-park",
        "A new riverside park for Afon",
        "How should the old wharf land by the river become a park?",
        Track.WIDE,
        None,
        "parks",
        [0, 1],
        -8,
        7,
        {
            "people_affected": 6000,
            "budget": 400_000,
            "reversibility": Reversibility.PERMANENT,
            "interest_signals": 120,
        },
    ),
    Spec(
        "high-street-traffic",
        "Making the high street safer",
        "Should the high street close to through traffic on Saturdays?",
        Track.WIDE,
        None,
        "transport",
        [4],
        -22,
        7,
        {
            "people_affected": 15000,
            "budget": 60_000,
            "reversibility": Reversibility.EASY,
            "interest_signals": 700,
        },
    ),
    Spec(
        "school-streets",
        "School streets in Dolgoch",
        "Should the roads outside two primary schools close to cars at drop-off and pick-up?",
        Track.WIDE,
        None,
        "transport",
        [3],
        -16,
        7,
        {
            "people_affected": 900,
            "budget": 15_000,
            "reversibility": Reversibility.EASY,
            "interest_signals": 40,
        },
        override="Parents and neighbours live with this every school day; we want to hear from all of them.",
    ),
    Spec(
        "bus-lane-review",
        "Reviewing the Ffordd Newydd bus lane",
        "A technical review of the bus lane's hours and enforcement.",
        Track.PANEL,
        "transport",
        "transport",
        [5],
        -3,
        6,
        {
            "people_affected": 3000,
            "budget": 20_000,
            "reversibility": Reversibility.EASY,
            "interest_signals": 10,
        },
        threshold=25,
        escalations=22,
    ),
    Spec(
        "community-budget-2027",
        "Community budget 2027",
        "Decide together how to spend £250,000 on local projects.",
        Track.WIDE,
        None,
        "budget",
        [],
        -30,
        7,
        {
            "people_affected": 40000,
            "budget": 250_000,
            "reversibility": Reversibility.COSTLY,
            "statutory_duty": False,
            "interest_signals": 300,
        },
    ),
    Spec(
        "library-hours",
        "Library opening hours",
        "When should the central library open from next spring?",
        Track.WIDE,
        None,
        "town-centre",
        [],
        10,
        7,
        {
            "people_affected": 12000,
            "budget": 30_000,
            "reversibility": Reversibility.EASY,
            "statutory_duty": True,
            "interest_signals": 60,
        },
    ),
    Spec(
        "tree-strategy",
        "Street tree species for the next decade",
        "Which tree species should the council plant along streets, given drought and disease?",
        Track.PANEL,
        "budget",
        "parks",
        [],
        5,
        7,
        {
            "people_affected": 40000,
            "budget": 80_000,
            "reversibility": Reversibility.COSTLY,
            "interest_signals": 5,
        },
        override="Choosing species is a question for arboriculture experts; residents will be asked where "
        "trees go in a separate wide consultation.",
    ),
    Spec(
        "housing-standards",
        "Standards for shared housing",
        "Expert advice on licensing conditions for houses in multiple occupation.",
        Track.PANEL,
        "budget",
        "housing",
        [2, 3],
        -60,
        8,
        {"people_affected": 2500, "budget": 0, "reversibility": Reversibility.COSTLY, "interest_signals": 12},
        outcome=(
            "New licences will require a working smoke alarm in every bedroom and a named local manager.",
            "<p>The panel heard from landlords, tenants and the fire service. Tenants asked for faster "
            "repairs; we will publish response times for every licensed house.</p>",
        ),
    ),
    Spec(
        "play-areas",
        "Refurbishing play areas",
        "Which four play areas should be refurbished first?",
        Track.WIDE,
        None,
        "parks",
        [0, 6, 7],
        -70,
        7,
        {
            "people_affected": 8000,
            "budget": 320_000,
            "reversibility": Reversibility.PERMANENT,
            "interest_signals": 210,
        },
        outcome=(
            "Parc Afon, Green Lanes, Llys Hen and Heol y Bont will be refurbished in 2027.",
            "<p>1,204 residents voted. The four play areas with most support were chosen; accessible "
            "swings, which many of you asked for, are included in all four.</p>",
        ),
    ),
]

PANEL_REPORT = (
    "<p>The panel met four times between June and August, with two landlords, two tenants' representatives, "
    "an environmental health officer and the fire service.</p>"
    "<p>It recommends a smoke alarm in every bedroom, a named local manager for every licensed house, "
    "and published repair response times.</p>"
)

KINDS = (
    PhaseKind.INFORMATION,
    PhaseKind.PROPOSALS,
    PhaseKind.DELIBERATION,
    PhaseKind.VOTING,
    PhaseKind.OUTCOME,
)


def _timeline(start, days_each):
    """Consecutive phases, each running ``days_each`` days from ``start``."""
    phases = []
    for kind in KINDS:
        phases.append(Phase(kind=kind, starts_at=start, ends_at=start + timedelta(days=days_each)))
        start += timedelta(days=days_each)
    return phases


def seed(ctx: DemoContext) -> None:
    home = ctx.made["home"]
    index = ConsultationIndexPage.objects.first()
    if index is None:
        index = ConsultationIndexPage(
            title="Consultations",
            slug="consultations",
            show_in_menus=True,
            intro="<p>Everything the council is asking residents about, open and closed.</p>",
        )
        home.add_child(instance=index)
        index.save_revision().publish()
    consultation_index_grant_permissions(index)
    ctx.made["consultation_index"] = index
    topics = {
        slug: Topic.objects.get_or_create(slug=slug, defaults={"name": name})[0] for name, slug in TOPICS
    }
    wards = ctx.made["wards"]
    staff = ctx.made["staff"]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    made = {}
    for spec in SPECS:
        page = ConsultationPage.objects.filter(slug=spec.slug).first()
        if page is None:
            page = ConsultationPage(
                title=spec.title,
                slug=spec.slug,
                summary=spec.summary,
                track=spec.track,
                panel=ctx.made["panels"][spec.panel] if spec.panel else None,
                councillor=staff["councillor"],
                contact_email="haveyoursay@aberhafren.example",
                body=[("paragraph", f"<p>{spec.summary} We want to hear from everyone affected.</p>")],
                triage_override_reason=spec.override,
                escalation_threshold=spec.threshold,
                **spec.rubric,
            )
            page.phases = _timeline(now + timedelta(days=spec.offset), spec.days)
            if spec.outcome:
                report = PANEL_REPORT if spec.track == Track.PANEL else ""
                page.outcomes = [
                    Outcome(decision=spec.outcome[0], reasons=spec.outcome[1], panel_report=report)
                ]
            index.add_child(instance=page)
            page.topics.set([topics[spec.topic]])
            page.wards.set([wards[i] for i in spec.wards])
            page.save_revision(user=staff["councillor"]).publish()
        if spec.escalations:
            _escalations(page, wards[spec.wards[0]], spec.escalations)
        made[spec.slug] = page
    ctx.made["consultations"] = made
    ctx.say(f"    {len(made)} consultations in every status on both tracks, {len(topics)} topics")


def _escalations(page: ConsultationPage, ward, count: int) -> None:
    """Residents of the ward asking for a wider say, short of the threshold."""
    have = EscalationRequest.objects.filter(consultation=page).count()
    if have >= count:
        return
    residents = (
        User.objects.filter(ward=ward, groups__name=roles.RESIDENT, email_verified_at__isnull=False)
        .exclude(pk__in=EscalationRequest.objects.filter(consultation=page).values("user_id"))
        .order_by("email")[: count - have]
    )
    EscalationRequest.objects.bulk_create(
        [EscalationRequest(consultation=page, user=user) for user in residents], ignore_conflicts=True
    )
