"""Factories for voting: consultations in their voting phase, questions of every kind, options."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from consultations.models import ConsultationIndexPage, ConsultationPage, Phase, Track
from consultations.phases import PhaseKind
from tests.factories import HOSTILE
from voting.models import (
    ApprovalQuestion,
    BudgetQuestion,
    Option,
    RankedQuestion,
    ScoreQuestion,
    SingleChoiceQuestion,
    YesNoQuestion,
)


def consultation_index(home):
    index = ConsultationIndexPage.objects.first()
    if index is None:
        index = ConsultationIndexPage(title="Consultations", slug="consultations")
        home.add_child(instance=index)
        index.save_revision().publish()
    return index


def make_consultation(
    home, *, phase=PhaseKind.VOTING, wards=(), track=Track.WIDE, panel=None, slug=None, live=True
):
    """A published consultation whose ``phase`` runs now (other phases around it)."""
    now = timezone.now()
    index = consultation_index(home)
    page = ConsultationPage(
        title=f"Consultation {HOSTILE}",
        slug=slug or f"c-{ConsultationPage.objects.count() + 1}-{now:%H%M%S%f}",
        summary=f"What to do {HOSTILE}",
        track=track,
        panel=panel,
    )
    page.phases = [
        Phase(kind=phase, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=6)),
        Phase(kind=PhaseKind.OUTCOME, starts_at=now + timedelta(days=6), ends_at=now + timedelta(days=12)),
    ]
    index.add_child(instance=page)
    page.wards.set(list(wards))
    if live:
        page.save_revision().publish()
    else:
        page.live = False
        page.save()
    return page


class QuestionFactory(factory.django.DjangoModelFactory):
    title = factory.Sequence(lambda n: f"Question {n} {HOSTILE}")
    description = HOSTILE
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))

    @factory.post_generation
    def options(self, create, extracted, **kwargs):
        if not create or not self.has_options:
            return
        specs = extracted if extracted is not None else [f"Option {c} {HOSTILE[:20]}" for c in "ABC"]
        for i, spec in enumerate(specs):
            label, cost = spec if isinstance(spec, tuple) else (spec, None)
            Option.objects.create(question=self, label=label, cost=cost, sort_order=i)


class YesNoQuestionFactory(QuestionFactory):
    class Meta:
        model = YesNoQuestion
        skip_postgeneration_save = True


class SingleChoiceQuestionFactory(QuestionFactory):
    class Meta:
        model = SingleChoiceQuestion
        skip_postgeneration_save = True


class ApprovalQuestionFactory(QuestionFactory):
    class Meta:
        model = ApprovalQuestion
        skip_postgeneration_save = True

    max_choices = 2


class RankedQuestionFactory(QuestionFactory):
    class Meta:
        model = RankedQuestion
        skip_postgeneration_save = True


class ScoreQuestionFactory(QuestionFactory):
    class Meta:
        model = ScoreQuestion
        skip_postgeneration_save = True


class BudgetQuestionFactory(QuestionFactory):
    class Meta:
        model = BudgetQuestion
        skip_postgeneration_save = True

    budget = 100_000
    options = factory.PostGeneration(lambda q, create, extracted, **kw: _budget_options(q, create, extracted))


def _budget_options(question, create, extracted):
    if not create:
        return
    specs = (
        extracted
        if extracted is not None
        else [("Play park", 60_000), ("Bike lane", 50_000), ("Benches", 10_000)]
    )
    for i, (label, cost) in enumerate(specs):
        Option.objects.create(question=question, label=label, cost=cost, sort_order=i)


FACTORIES = {
    "yes_no": YesNoQuestionFactory,
    "single": SingleChoiceQuestionFactory,
    "approval": ApprovalQuestionFactory,
    "ranked": RankedQuestionFactory,
    "score": ScoreQuestionFactory,
    "budget": BudgetQuestionFactory,
}


def valid_data(question) -> dict:
    """A valid ballot for any kind (the first option(s))."""
    keys = [o.key for o in question.option_list]
    return {
        "yes_no": {"choice": "yes"},
        "single": {"choice": keys[0] if keys else ""},
        "approval": {"choices": keys[:1]},
        "ranked": {"ranking": keys[:2]},
        "score": {"scores": dict.fromkeys(keys, 3)},
        "budget": {"projects": keys[:1]},
    }[question.kind]
