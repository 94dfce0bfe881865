"""Where a consultation is in its timeline, and what the timeline allows now.

The one place that derives a consultation's status and allowed actions from its phases. Pure
functions over a sorted list of phases (anything with ``kind``, ``starts_at`` and ``ends_at``), so
they are easy to test at every moment of a timeline. ``ConsultationPage`` and the rules call these.

- **upcoming**: no phase has started (or there are no phases yet).
- **open**: between the start of the first phase and the end of the last phase in which people can
  take part (information, proposals, deliberation, voting). A gap the councillor intended is still open.
- **closed**: every phase in which people take part has ended; the council is deciding (outcome phase).
- **decided**: an outcome has been published, whatever the dates say.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from consultations.phases import ACTIONS_BY_PHASE, PhaseKind, Status


class PhaseLike(Protocol):
    kind: str
    starts_at: datetime
    ends_at: datetime


def ordered(phases: Sequence[PhaseLike]) -> list[PhaseLike]:
    return sorted(phases, key=lambda p: (p.starts_at, getattr(p, "sort_order", 0) or 0))


def phase_at(phases: Sequence[PhaseLike], when: datetime) -> PhaseLike | None:
    """The phase running at ``when`` (starts inclusive, ends exclusive), or None in a gap."""
    return next((p for p in phases if p.starts_at <= when < p.ends_at), None)


def next_phase(phases: Sequence[PhaseLike], when: datetime) -> PhaseLike | None:
    return next((p for p in phases if p.starts_at > when), None)


def participation_ends_at(phases: Sequence[PhaseLike]) -> datetime | None:
    """When the last phase in which people take part ends (the outcome phase does not count)."""
    ends = [p.ends_at for p in phases if p.kind != PhaseKind.OUTCOME]
    if not ends:
        ends = [p.ends_at for p in phases]
    return max(ends) if ends else None


def status_at(phases: Sequence[PhaseLike], when: datetime, *, decided: bool = False) -> str:
    if decided:
        return Status.DECIDED
    if not phases or when < min(p.starts_at for p in phases):
        return Status.UPCOMING
    end = participation_ends_at(phases)
    if end is not None and when >= end:
        return Status.CLOSED
    return Status.OPEN


def actions_at(phases: Sequence[PhaseLike], when: datetime, *, decided: bool = False) -> frozenset[str]:
    """What the timeline allows at ``when``; who may do it is the rules' business."""
    if status_at(phases, when, decided=decided) != Status.OPEN:
        return frozenset()
    phase = phase_at(phases, when)
    return ACTIONS_BY_PHASE[phase.kind] if phase else frozenset()
