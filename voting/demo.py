"""Demo data: questions of every kind on the demo consultations, some open, some closed with results.

Ballots are written directly (the voting windows of closed questions are in the past, where
``ballot_cast`` would rightly refuse them) and the running counts are then rebuilt from them with
``tally_recount(repair=True)``, the same code the ``recount`` command uses. Deterministic and
idempotent: a question that exists (same consultation, same title) is left alone.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from cms.demo_support import DemoContext
from consultations.phases import PhaseKind
from voting.models import (
    ApprovalQuestion,
    Ballot,
    BudgetMethod,
    BudgetQuestion,
    Option,
    Participation,
    Question,
    RankedQuestion,
    ResultsVisibility,
    ScoreQuestion,
    SingleChoiceQuestion,
    YesNoQuestion,
)
from voting.services import tally_recount

HIGH_STREET = [
    # (model, title, options, extra fields, open?)
    (
        YesNoQuestion,
        "Should the high street close to through traffic on Saturdays?",
        [],
        {"results_visibility": ResultsVisibility.AFTER_CLOSE},
        True,
    ),
    (
        RankedQuestion,
        "Which crossing design should we build at the market square?",
        ["Zebra crossing", "Signal-controlled crossing", "Raised table", "Shared space"],
        {"results_visibility": ResultsVisibility.LIVE},
        True,
    ),
    (
        ApprovalQuestion,
        "Which improvements would make the high street safer for you?",
        ["Wider pavements", "More benches", "Better lighting", "Cycle parking", "Street trees"],
        {"results_visibility": ResultsVisibility.LIVE, "max_choices": 3},
        True,
    ),
    (
        ScoreQuestion,
        "How would you rate each option for Saturday deliveries?",
        ["Deliveries before 10am only", "Loading bays on side streets", "No change"],
        {"results_visibility": ResultsVisibility.LIVE},
        True,
    ),
    (
        SingleChoiceQuestion,
        "When should a Saturday closure start?",
        ["This spring", "This summer", "After a trial in the autumn"],
        {"results_visibility": ResultsVisibility.AFTER_CLOSE, "secret": True},
        False,
    ),
]

BUDGET_PROJECTS = [
    ("Play park for Green Lanes", 90_000),
    ("Bryn Castell community garden", 40_000),
    ("Safer routes to school", 75_000),
    ("Library makerspace", 30_000),
    ("Riverside benches", 12_000),
    ("Eastgate youth club kit", 25_000),
    ("Dolgoch bus shelter", 18_000),
    ("Harbour wall mural", 15_000),
]


def _pick_ballot(kind: str, keys: list[str], rng: random.Random, extra: dict[str, Any], costs=None) -> dict:
    weights = [len(keys) - i + rng.random() * 2 for i in range(len(keys))]
    if kind == "yes_no":
        return {"choice": rng.choices(["yes", "no", "abstain"], weights=[5, 4, 1])[0]}
    if kind == "single":
        return {"choice": rng.choices(keys, weights=weights)[0]}
    if kind == "approval":
        count = rng.randint(1, extra.get("max_choices", 3))
        chosen = sorted(rng.sample(keys, count), key=keys.index)
        return {"choices": chosen}
    if kind == "ranked":
        ranking = sorted(keys, key=lambda k: -weights[keys.index(k)] * rng.random())
        return {"ranking": ranking[: rng.randint(1, len(keys))]}
    if kind == "score":
        return {"scores": {k: rng.randint(0, 5) for k in keys}}
    if kind == "budget":
        budget = extra["budget"]
        chosen, total = [], 0
        for k in rng.sample(keys, len(keys)):
            if total + costs[k] <= budget and rng.random() < 0.6:
                chosen.append(k)
                total += costs[k]
        return {"projects": sorted(chosen or [min(keys, key=costs.get)], key=keys.index)}
    raise ValueError(kind)


def _question(model, page, title, options, extra, opens_at, closes_at, order) -> tuple[Question, bool]:
    existing = model.objects.filter(consultation=page, title=title).first()
    if existing is not None:
        return existing, False
    question = model(
        consultation=page,
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        sort_order=order,
        description="A demonstration question. Results are made up.",
        **extra,
    )
    question.save()
    for i, spec in enumerate(options):
        label, cost = spec if isinstance(spec, tuple) else (spec, None)
        Option.objects.create(question=question, label=label, cost=cost, sort_order=i)
    return question, True


def _fill(question: Question, voter_ids: list[int], rng: random.Random, extra: dict[str, Any]) -> int:
    keys = [o.key for o in question.options.all()]
    costs = {o.key: o.cost for o in question.options.all()}
    ballots, participations = [], []
    now = timezone.now()
    for pk in voter_ids:
        data = _pick_ballot(question.kind, keys, rng, extra, costs)
        secret = question.secret
        ballots.append(
            Ballot(
                question=question,
                voter_id=None if secret else pk,
                data=data,
                cast_at=None if secret else now,
                changed_at=None if secret else now,
            )
        )
        participations.append(Participation(question=question, voter_id=pk))
    rng.shuffle(ballots)
    Ballot.objects.bulk_create(ballots, batch_size=1000)
    Participation.objects.bulk_create(participations, batch_size=1000)
    tally_recount(question=question, repair=True)
    return len(ballots)


def _voting_window(page) -> tuple[Any, Any] | None:
    phase = next((p for p in page.phases.all() if p.kind == PhaseKind.VOTING), None)
    return (phase.starts_at, phase.ends_at) if phase else None


def seed(ctx: DemoContext) -> None:
    rng = ctx.child_rng("voting")
    consultations = ctx.made["consultations"]
    now = timezone.now().replace(second=0, microsecond=0)
    made = ballots = 0

    # Making the high street safer: voting now, for Eastgate residents.
    page = consultations["high-street-traffic"]
    window = _voting_window(page)
    if window:
        starts, ends = window
        ward_ids = [ward.pk for ward in page.wards.all()]
        voters = list(
            User.objects.filter(pk__in=ctx.made["resident_ids"], ward_id__in=ward_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for order, (model, title, options, extra, is_open) in enumerate(HIGH_STREET):
            opens = max(starts, now - timedelta(hours=6)) if is_open else starts
            closes = ends if is_open else min(starts + timedelta(hours=20), now - timedelta(minutes=5))
            if closes <= opens:
                opens = closes - timedelta(hours=1)
            question, created = _question(model, page, title, options, extra, opens, closes, order)
            made += created
            if created:
                # Open questions start part-voted, leaving people to try it; closed ones are complete.
                share = voters[: len(voters) * 2 // 3] if is_open else voters
                ballots += _fill(question, share, rng, extra)
        if voters:
            voter = User.objects.get(pk=voters[-1])
            ctx.logins.append(("voter", voter.email, f"vote on '{page.title}' (lives in {voter.ward})"))

    # Community budget 2027: its voting phase is over; the same ballots counted two ways.
    page = consultations["community-budget-2027"]
    window = _voting_window(page)
    if window:
        starts, ends = window
        voters = list(ctx.made["resident_ids"])
        for order, method in enumerate((BudgetMethod.EQUAL_SHARES, BudgetMethod.GREEDY)):
            label = "Method of Equal Shares" if method == BudgetMethod.EQUAL_SHARES else "most votes first"
            extra = {"budget": 250_000, "method": method, "results_visibility": ResultsVisibility.AFTER_CLOSE}
            question, created = _question(
                BudgetQuestion,
                page,
                f"Which projects should the £250,000 fund? ({label})",
                BUDGET_PROJECTS,
                extra,
                starts,
                ends,
                order,
            )
            made += created
            if created:
                ballots += _fill(question, voters, ctx.child_rng("voting:budget"), extra)
        question, created = _question(
            YesNoQuestion,
            page,
            "Should the council run a community budget every year?",
            [],
            {"secret": True, "results_visibility": ResultsVisibility.LIVE},
            starts,
            ends,
            3,
        )
        made += created
        if created:
            ballots += _fill(question, voters, rng, {})

    # Standards for shared housing: a panel vote, closed.
    page = consultations["housing-standards"]
    window = _voting_window(page)
    if window:
        starts, ends = window
        members = [m.user_id for m in page.panel.memberships.all()] if page.panel else []
        question, created = _question(
            ScoreQuestion,
            page,
            "How strongly does the panel support each licensing condition?",
            ["Minimum room sizes", "Annual fire safety checks", "Waste storage plans"],
            {"results_visibility": ResultsVisibility.AFTER_CLOSE},
            starts,
            ends,
            0,
        )
        made += created
        if created and members:
            ballots += _fill(question, members, rng, {})
    ctx.say(f"    {made} questions, {ballots} ballots")
