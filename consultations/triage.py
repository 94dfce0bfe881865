"""The triage aid: which track a consultation should take, from a transparent rubric.

A pure function. Each factor gives points towards wide engagement and says why in plain words; the
total against a published threshold gives the recommendation. A statutory duty to consult the public
decides on its own. The councillor chooses the track; choosing against the recommendation needs a
reason, shown publicly next to this explanation.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

#: A total of this many points or more recommends the wide track.
WIDE_THRESHOLD = 6


class Reversibility(models.TextChoices):
    EASY = "easy", _("Easy to change or undo later")
    COSTLY = "costly", _("Possible to undo, at a real cost")
    PERMANENT = "permanent", _("Permanent or very hard to undo")


@dataclass(frozen=True)
class TriageInput:
    people_affected: int
    wards_affected: int
    whole_area: bool
    budget: Decimal | int
    reversibility: str
    statutory_duty: bool
    interest_signals: int


@dataclass(frozen=True)
class Factor:
    name: str
    points: int
    max_points: int
    explanation: str


@dataclass(frozen=True)
class Recommendation:
    track: str  # "wide" or "panel", the values of consultations.models.Track
    score: int
    threshold: int
    max_score: int
    factors: tuple[Factor, ...]
    summary: str

    @property
    def reasons(self) -> list[str]:
        return [f.explanation for f in self.factors]


def _band(value: Decimal | int, bands: tuple[tuple[Decimal | int, int], ...]) -> int:
    """Points for the highest band whose lower bound ``value`` reaches."""
    points = 0
    for lower, band_points in bands:
        if value >= lower:
            points = band_points
    return points


def _people(n: int) -> Factor:
    points = _band(n, ((0, 0), (100, 1), (1_000, 2), (10_000, 3)))
    text = {
        0: _("Few people are affected (fewer than 100)."),
        1: _("Some people are affected (100 to 999)."),
        2: _("Many people are affected (1,000 to 9,999)."),
        3: _("A great many people are affected (10,000 or more)."),
    }[points]
    return Factor("people_affected", points, 3, str(text))


def _wards(count: int, whole_area: bool) -> Factor:
    if whole_area:
        return Factor("wards", 3, 3, str(_("The whole council area is affected.")))
    points = _band(count, ((0, 0), (2, 1), (4, 2)))
    text = {
        0: _("One ward is affected."),
        1: _("Two or three wards are affected."),
        2: _("Four or more wards are affected."),
    }[points]
    return Factor("wards", points, 3, str(text))


def _budget(amount: Decimal | int) -> Factor:
    points = _band(amount, ((0, 0), (10_000, 1), (100_000, 2), (1_000_000, 3)))
    text = {
        0: _("The budget is small (under £10,000)."),
        1: _("The budget is moderate (£10,000 to £99,999)."),
        2: _("The budget is large (£100,000 to £999,999)."),
        3: _("The budget is very large (£1 million or more)."),
    }[points]
    return Factor("budget", points, 3, str(text))


def _reversibility(value: str) -> Factor:
    points = {Reversibility.EASY: 0, Reversibility.COSTLY: 1, Reversibility.PERMANENT: 2}[
        Reversibility(value)
    ]
    text = {
        0: _("The decision is easy to change later."),
        1: _("The decision can be undone, but at a real cost."),
        2: _("The decision is permanent or very hard to undo."),
    }[points]
    return Factor("reversibility", points, 2, str(text))


def _interest(signals: int) -> Factor:
    points = _band(signals, ((0, 0), (1, 1), (50, 2), (500, 3)))
    text = {
        0: _("No early signs of public interest yet."),
        1: _("Some early signs of public interest (1 to 49 letters, emails or signatures)."),
        2: _("Clear public interest (50 to 499 letters, emails or signatures)."),
        3: _("Strong public interest (500 or more letters, emails or signatures)."),
    }[points]
    return Factor("interest", points, 3, str(text))


def recommend(data: TriageInput) -> Recommendation:
    """Recommend a track; raises ``ValueError`` on negative counts or an unknown reversibility."""
    if min(data.people_affected, data.wards_affected, data.interest_signals) < 0 or data.budget < 0:
        raise ValueError("Triage inputs cannot be negative.")
    factors = (
        _people(data.people_affected),
        _wards(data.wards_affected, data.whole_area),
        _budget(data.budget),
        _reversibility(data.reversibility),
        _interest(data.interest_signals),
    )
    score = sum(f.points for f in factors)
    max_score = sum(f.max_points for f in factors)
    if data.statutory_duty:
        factors = (
            *factors,
            Factor(
                "statutory_duty",
                0,
                0,
                str(
                    _(
                        "The law requires the council to consult the public on this, so wide engagement "
                        "is recommended whatever the score."
                    )
                ),
            ),
        )
        track, summary = "wide", _("Wide engagement: the council has a statutory duty to consult the public.")
    elif score >= WIDE_THRESHOLD:
        track = "wide"
        summary = _("Wide engagement: scores %(score)s of %(max)s; %(threshold)s or more recommends wide.")
    else:
        track = "panel"
        summary = _(
            "Expert panel: scores %(score)s of %(max)s; wide engagement is recommended from %(threshold)s."
        )
    summary = str(summary) % {"score": score, "max": max_score, "threshold": WIDE_THRESHOLD}
    return Recommendation(
        track=track,
        score=score,
        threshold=WIDE_THRESHOLD,
        max_score=max_score,
        factors=factors,
        summary=summary,
    )
