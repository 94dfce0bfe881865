"""Proposals, comments and flags for tests, with hostile text. Bodies are stored sanitised, as services do."""

from __future__ import annotations

import factory

from cms.sanitiser import sanitise_html
from proposals.models import (
    BudgetProposal,
    Comment,
    Flag,
    FlagReason,
    IdeaProposal,
    PolicyProposal,
    ProposalStatus,
    Stance,
)
from tests.factories import HOSTILE, ResidentFactory


class _ProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    consultation = None  # pass one
    author = factory.SubFactory(ResidentFactory)
    title = factory.Sequence(lambda n: f"Proposal {n} {HOSTILE[:40]}")
    summary = f"Summary {HOSTILE}"
    body = factory.LazyFunction(lambda: sanitise_html(f"<p>{HOSTILE}</p>"))
    status = ProposalStatus.PUBLISHED


class IdeaProposalFactory(_ProposalFactory):
    class Meta:
        model = IdeaProposal

    who_benefits = HOSTILE


class BudgetProposalFactory(_ProposalFactory):
    class Meta:
        model = BudgetProposal

    estimated_cost_pence = 1_250_000
    location = f"Riverside {HOSTILE[:30]}"


class PolicyProposalFactory(_ProposalFactory):
    class Meta:
        model = PolicyProposal

    current_policy = HOSTILE
    proposed_change = HOSTILE


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment
        skip_postgeneration_save = True

    author = factory.SubFactory(ResidentFactory)
    body = factory.LazyFunction(lambda: sanitise_html(f"<p>{HOSTILE}</p>"))
    stance = Stance.NEUTRAL

    @factory.post_generation
    def counted(self, create, extracted, **kwargs):
        """Keep the proposal's counters true, as ``comment_add`` does."""
        if create and self.state == "visible":
            from proposals.services.threads import _count

            _count(self, +1)


class FlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flag

    reporter = factory.SubFactory(ResidentFactory)
    reason = FlagReason.SPAM
