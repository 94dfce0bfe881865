"""The demo data: every kind, threads with replies and stances, flags waiting, a hidden comment to appeal."""

from __future__ import annotations

import io

from cms.demo_support import DemoContext
from proposals.models import (
    BudgetProposal,
    Comment,
    Flag,
    IdeaProposal,
    ModerationAction,
    PolicyProposal,
    Proposal,
)


def seed_up_to_proposals(scale: int = 1) -> DemoContext:
    import importlib

    ctx = DemoContext(seed=2026, scale=scale, out=io.StringIO())
    for name in ("accounts.demo", "cms.demo", "consultations.demo", "proposals.demo"):
        importlib.import_module(name).seed(ctx)
    return ctx


def test_demo_has_everything_to_try_and_is_idempotent(wagtail_root):
    seed_up_to_proposals()
    assert (
        IdeaProposal.objects.exists() and BudgetProposal.objects.exists() and PolicyProposal.objects.exists()
    )
    assert Comment.objects.filter(parent__isnull=False).exists()
    assert set(Comment.objects.values_list("stance", flat=True)) == {"for", "against", "question", "neutral"}
    assert Flag.objects.filter(outcome="pending").count() >= 5
    assert ModerationAction.objects.filter(kind="hide", target_user__email__startswith="resident@").exists()
    assert Proposal.objects.filter(status__in=["accepted", "implemented", "rejected"]).exists()
    for proposal in Proposal.objects.non_polymorphic()[:20]:
        visible = proposal.comments.filter(state="visible")
        assert proposal.comment_count == visible.count()
        assert proposal.support_count == proposal.supports.count()
    counts = (Proposal.objects.count(), Comment.objects.count())
    seed_up_to_proposals()
    assert (Proposal.objects.count(), Comment.objects.count()) == counts
