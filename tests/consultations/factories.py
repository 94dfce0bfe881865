"""Consultations for tests: hostile text everywhere, phases built from offsets around a moment."""

from __future__ import annotations

from datetime import datetime, timedelta

import factory
from django.utils import timezone
from django.utils.html import escape

from consultations.models import ConsultationIndexPage, ConsultationPage, Outcome, Phase, Topic, Track
from consultations.phases import PhaseKind
from tests.factories import HOSTILE

#: Hostile text as the admin's rich text editor stores it: typed markup arrives escaped.
RICH_HOSTILE = f"<p>{escape(HOSTILE)}</p>"

FULL_TIMELINE = (
    PhaseKind.INFORMATION,
    PhaseKind.PROPOSALS,
    PhaseKind.DELIBERATION,
    PhaseKind.VOTING,
    PhaseKind.OUTCOME,
)


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Topic {n} {HOSTILE[:20]}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


def make_index(home, **kwargs) -> ConsultationIndexPage:
    index = ConsultationIndexPage(
        title=kwargs.pop("title", "Consultations"),
        slug=kwargs.pop("slug", "consultations"),
        intro=RICH_HOSTILE,
        **kwargs,
    )
    home.add_child(instance=index)
    index.save_revision().publish()
    return index


def timeline(start: datetime, days: int = 7, kinds=FULL_TIMELINE) -> list[Phase]:
    phases = []
    for kind in kinds:
        phases.append(
            Phase(kind=kind, starts_at=start, ends_at=start + timedelta(days=days), description=HOSTILE)
        )
        start += timedelta(days=days)
    return phases


_counter = iter(range(1, 10**9))


def make_consultation(
    index: ConsultationIndexPage,
    *,
    start: datetime | None = None,
    days: int = 7,
    kinds=FULL_TIMELINE,
    track: str = Track.WIDE,
    panel=None,
    wards=(),
    topics=(),
    publish: bool = True,
    outcome: str | None = None,
    **fields,
) -> ConsultationPage:
    n = next(_counter)
    start = start if start is not None else timezone.now() - timedelta(days=1)
    page = ConsultationPage(
        title=fields.pop("title", f"Consultation {n} {HOSTILE[:30]}"),
        slug=fields.pop("slug", f"consultation-{n}"),
        summary=fields.pop("summary", f"Summary {HOSTILE}"),
        track=track,
        panel=panel,
        live=publish,
        **fields,
    )
    page.phases = timeline(start, days, kinds)
    page.wards = list(wards)
    page.topics = list(topics)
    index.add_child(instance=page)
    if publish:
        page.save_revision().publish()
    if outcome:
        Outcome.objects.create(
            consultation=page, decision=outcome, reasons=RICH_HOSTILE, published_at=timezone.now()
        )
    return ConsultationPage.objects.get(pk=page.pk)
