"""Demo data: proposals of each kind, threads with replies and stances, decisions, and flags to moderate.

Scales with ``--scale``: the riverside park consultation gets 100 x scale proposals, 1,000 x scale
comments and 5,000 x scale supports (``--scale 2`` is the benchmark workload: 200 proposals, 2,000
comments, 10,000 supports, 600 residents). Deterministic from the seed and idempotent.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from cms.demo_support import DemoContext
from cms.sanitiser import sanitise_html
from proposals import services
from proposals.models import (
    ActionKind,
    ActionReason,
    BudgetProposal,
    Comment,
    Flag,
    FlagReason,
    IdeaProposal,
    ModerationAction,
    PolicyProposal,
    Proposal,
    ProposalStatus,
    Stance,
    Support,
)

IDEAS = [
    (
        "A playground by the old wharf",
        "Families in Afon have nowhere for small children to play near the river.",
    ),
    ("Wildflower meadow instead of mown grass", "Let part of the park grow wild for bees and butterflies."),
    ("Outdoor gym equipment", "Free fitness equipment that anyone can use, any time."),
    ("Community orchard", "Fruit trees planted and looked after by local volunteers and schools."),
    (
        "Quiet garden for reflection",
        "A sheltered corner with benches, away from the paths and the play area.",
    ),
    ("Dog-free picnic lawn", "An area where people can sit on the grass without worrying about dogs."),
]
BUDGETS = [
    (
        "Lighting along the river path",
        "Solar lights so the path is safe to walk after dark.",
        4_500_000,
        "River path between the bridge and the wharf",
    ),
    (
        "Accessible toilets and changing places",
        "A fully accessible toilet block with a hoist and bench.",
        12_000_000,
        "Next to the car park on Heol y Cei",
    ),
    (
        "Benches every hundred metres",
        "Resting places for older people and anyone who needs them.",
        850_000,
        "Throughout the park",
    ),
    ("Water refill station", "Free drinking water to cut plastic bottles.", 320_000, "By the main gate"),
]
POLICIES = [
    (
        "Allow community events without a fee",
        "Every event in the park needs a £75 permit.",
        "Events run by residents' groups for free should not pay for a permit.",
    ),
    (
        "Ban pesticides in the park",
        "The council sprays glyphosate on paths twice a year.",
        "Use hand weeding and hot foam instead, as other councils do.",
    ),
]
REMARKS = {
    Stance.FOR: [
        "This would make a real difference for families on our street.",
        "Yes please. I walk here every day and this is exactly what is missing.",
        "Good value for money compared with the other ideas.",
        "Our school would gladly help look after it.",
    ],
    Stance.AGAINST: [
        "I worry about the cost of looking after it every year.",
        "This would bring more traffic and parking problems to Heol y Cei.",
        "The money would be better spent on the path, which floods every winter.",
        "Not here: the ground by the wharf is too wet.",
    ],
    Stance.QUESTION: [
        "Who would maintain this once it is built?",
        "Has anyone asked the people who live right next to the park?",
        "How does this fit with the flood plan for the river?",
    ],
    Stance.NEUTRAL: [
        "Interesting idea. It would help to see a map.",
        "There was something similar in Bryn Castell; worth asking how it went.",
        "See the council's parks strategy for background: https://example.org/parks",
    ],
}
STANCES = [Stance.FOR, Stance.FOR, Stance.AGAINST, Stance.QUESTION, Stance.NEUTRAL, Stance.AGAINST]


def _sanitised_remarks() -> dict[str, list[str]]:
    return {stance: [sanitise_html(text) for text in texts] for stance, texts in REMARKS.items()}


def _make_proposals(
    ctx: DemoContext, consultation, count: int, author_ids: list[int], wards
) -> list[Proposal]:
    rng = ctx.child_rng(f"proposals:{consultation.slug}")
    now = timezone.now()
    ctypes = {
        model: ContentType.objects.get_for_model(model)
        for model in (IdeaProposal, BudgetProposal, PolicyProposal)
    }
    made = []
    for i in range(count):
        round_ = f" ({i // 12 + 1})" if i >= 12 else ""
        common = {
            "consultation": consultation,
            "author_id": rng.choice(author_ids),
            "ward": rng.choice(wards),
            "created_at": now - timedelta(hours=rng.randint(1, 24 * 6)),
            "status": rng.choice(
                [ProposalStatus.SUBMITTED, ProposalStatus.PUBLISHED, ProposalStatus.PUBLISHED]
            ),
        }
        slot = i % 12
        if slot < 6:
            title, summary = IDEAS[slot]
            model, extra = IdeaProposal, {"who_benefits": "Families, older people and dog walkers"}
        elif slot < 10:
            title, summary, cost, where = BUDGETS[slot - 6]
            model, extra = BudgetProposal, {"estimated_cost_pence": cost, "location": where}
        else:
            title, now_text, change = POLICIES[slot - 10]
            summary = change
            model, extra = PolicyProposal, {"current_policy": now_text, "proposed_change": change}
        made.append(
            model.objects.create(
                title=f"{title}{round_}",
                summary=summary,
                polymorphic_ctype=ctypes[model],
                body=sanitise_html(f"{summary}\n\nWe would like the council to consider this for the park."),
                **common,
                **extra,
            )
        )
    return made


def _make_threads(
    ctx: DemoContext, proposals: list[Proposal], total: int, author_ids: list[int]
) -> list[Comment]:
    """``total`` comments spread over the proposals: a third top-level, then replies down to depth 3."""
    rng = ctx.child_rng("proposals:threads")
    remarks = _sanitised_remarks()
    now = timezone.now()
    made: list[Comment] = []
    level: list[Comment] = []
    depth = 0
    while len(made) < total:
        batch = []
        size = min(total - len(made), max(1, total // 3) if depth == 0 else max(1, len(level)))
        for i in range(size):
            parent = level[i % len(level)] if depth and level else None
            proposal = proposals[rng.randrange(len(proposals))] if parent is None else None
            stance = rng.choice(STANCES)
            created = (
                parent.created_at if parent else now - timedelta(hours=rng.randint(24, 120))
            ) + timedelta(minutes=rng.randint(5, 600))
            batch.append(
                Comment(
                    proposal_id=parent.proposal_id if parent else proposal.pk,
                    parent=parent,
                    depth=parent.depth + 1 if parent else 0,
                    author_id=rng.choice(author_ids),
                    stance=stance,
                    body=rng.choice(remarks[stance]),
                    created_at=min(created, now),
                )
            )
        Comment.objects.bulk_create(batch, batch_size=1000)
        made.extend(batch)
        level = batch
        depth = depth + 1 if depth < 3 else 0
        if depth == 0:
            level = []
    return made


def _make_supports(ctx: DemoContext, proposals: list[Proposal], count: int, user_ids: list[int]) -> None:
    rng = ctx.child_rng("proposals:supports")
    pairs: set[tuple[int, int]] = set()
    limit = min(count, len(proposals) * len(user_ids))
    # Popular proposals attract more support: weight by position.
    weights = [1 / (i + 1) ** 0.6 for i in range(len(proposals))]
    while len(pairs) < limit:
        proposal = rng.choices(proposals, weights=weights)[0]
        user_id = rng.choice(user_ids)
        if proposal.author_id != user_id:
            pairs.add((proposal.pk, user_id))
    Support.objects.bulk_create(
        [Support(proposal_id=p, user_id=u) for p, u in sorted(pairs)], batch_size=2000
    )


def seed(ctx: DemoContext) -> None:
    consultations = ctx.made["consultations"]
    park = consultations["riverside-park"]
    if Proposal.objects.filter(consultation=park).exists():
        ctx.say("    proposals already loaded")
        return
    staff = ctx.made["staff"]
    resident_ids: list[int] = ctx.made["resident_ids"]
    wards = ctx.made["wards"]
    park_wards = list(park.wards.all()) or wards
    park_residents = (
        list(
            type(staff["resident"])
            .objects.filter(pk__in=resident_ids, ward__in=park_wards)
            .values_list("pk", flat=True)
        )
        or resident_ids
    )
    authors = [*park_residents, staff["resident"].pk]

    proposals = _make_proposals(ctx, park, 100 * ctx.scale, authors, park_wards)
    comments = _make_threads(ctx, proposals, 1000 * ctx.scale, authors)
    _make_supports(ctx, proposals, 5000 * ctx.scale, park_residents)

    # The demo resident has a proposal and a thread to read, and one comment hidden with a reason to appeal.
    own = IdeaProposal.objects.create(
        consultation=park,
        author=staff["resident"],
        ward=staff["resident"].ward,
        status=ProposalStatus.PUBLISHED,
        title="Free summer concerts on the wharf",
        summary="Local bands on Sunday afternoons in July and August.",
        body=sanitise_html("Musicians from the town would play for free; the council would provide a stage."),
        who_benefits="Everyone",
    )
    remarks = _sanitised_remarks()
    first = Comment.objects.create(
        proposal=own, author_id=park_residents[0], stance=Stance.FOR, body=remarks[Stance.FOR][1]
    )
    Comment.objects.create(
        proposal=own,
        parent=first,
        depth=1,
        author=staff["resident"],
        stance=Stance.NEUTRAL,
        body=sanitise_html("Thank you! We could start small, with two concerts."),
    )
    question = Comment.objects.create(
        proposal=own, author_id=park_residents[1], stance=Stance.QUESTION, body=remarks[Stance.QUESTION][0]
    )
    rude = Comment.objects.create(
        proposal=own,
        parent=question,
        depth=1,
        author=staff["resident"],
        stance=Stance.AGAINST,
        body=sanitise_html("Only an idiot would ask that."),
    )
    services.proposal_counters_recount(proposals=Proposal.objects.filter(pk=own.pk))
    services.item_hide(
        item=rude,
        by=staff["moderator"],
        reason=ActionReason.ABUSE,
        explanation="Calling someone an idiot breaks the house rule on respect. Please rephrase.",
    )

    # Flags waiting in the queue: several reasons, some items flagged by many people.
    rng = ctx.child_rng("proposals:flags")
    flagged = rng.sample(comments, min(len(comments), 6 + 2 * ctx.scale))
    reasons = list(FlagReason.values)
    flags = []
    for n, comment in enumerate(flagged):
        for reporter in rng.sample(park_residents, min(len(park_residents), 1 + n % 4)):
            if reporter != comment.author_id:
                flags.append(
                    Flag(
                        comment=comment,
                        reporter_id=reporter,
                        reason=reasons[n % len(reasons)],
                        created_at=timezone.now() - timedelta(hours=n * 3 + 1),
                    )
                )
    Flag.objects.bulk_create(flags)
    flagged_proposal = proposals[-1]
    Flag.objects.create(
        proposal=flagged_proposal,
        reporter_id=park_residents[2],
        reason=FlagReason.SPAM,
        note="Looks like an advert for a gym chain.",
    )

    # Decisions on earlier consultations, for their outcomes.
    decided = 0
    councillor = staff["councillor"]
    for slug, status_path in (
        (
            "community-budget-2027",
            [ProposalStatus.PUBLISHED, ProposalStatus.ACCEPTED, ProposalStatus.IMPLEMENTED],
        ),
        ("high-street-traffic", [ProposalStatus.PUBLISHED, ProposalStatus.UNDER_REVIEW]),
    ):
        consultation = consultations.get(slug)
        if consultation is None:
            continue
        for i, (title, summary) in enumerate(IDEAS[:3]):
            proposal = IdeaProposal.objects.create(
                consultation=consultation,
                author_id=authors[i],
                title=title,
                summary=summary,
                body=sanitise_html(summary),
                status=ProposalStatus.SUBMITTED,
            )
            path = status_path if i != 2 else [ProposalStatus.REJECTED]
            for step in path:
                services.proposal_change_status(
                    proposal=proposal,
                    by=councillor,
                    to_status=step,
                    reason={
                        ProposalStatus.PUBLISHED: "Checked and published.",
                        ProposalStatus.UNDER_REVIEW: "Officers are costing this.",
                        ProposalStatus.ACCEPTED: "Well supported and within budget.",
                        ProposalStatus.IMPLEMENTED: "Completed in the spring.",
                        ProposalStatus.REJECTED: "The site is needed for flood defences.",
                    }[step],
                    response="<p>Thank you to everyone who took part. This is what we decided and why.</p>",
                )
                proposal.refresh_from_db()
            decided += 1

    services.proposal_counters_recount(proposals=Proposal.objects.all())
    hidden = ModerationAction.objects.filter(kind=ActionKind.HIDE).count()
    waiting = Flag.objects.filter(outcome="pending").count()
    ctx.say(
        f"    {Proposal.objects.count()} proposals, {Comment.objects.count()} comments, "
        f"{Support.objects.count()} supports, {waiting} flags waiting, "
        f"{hidden} hidden with a reason, {decided} decided proposals"
    )
