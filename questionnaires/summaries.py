"""Per-question summaries of responses: pure functions, answers in, counts out (no ORM, no I/O).

Closed questions (single and multiple choice, agreement scale) count each option; ranking counts
first choices; numbers give count, lowest, median and highest; free-text questions count answers.
Percentages are of the people who answered the question, so they add up to 100 for single answers
(multiple choice may add up to more).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from questionnaires import definition as qdef


@dataclass
class OptionCount:
    label: str
    count: int
    percent: float


@dataclass
class Summary:
    code: str
    text: str
    kind: str
    answered: int = 0
    options: list[OptionCount] = field(default_factory=list)
    numbers: dict[str, str] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        return bool(self.options)


def summarise(definition: Mapping[str, Any], answer_sets: Iterable[Mapping[str, Any]]) -> list[Summary]:
    """Summaries of every question of ``definition`` over the answers given (one mapping per response)."""
    questions = qdef.questions(definition)
    counters: dict[str, Counter] = {q["code"]: Counter() for q in questions}
    answered: Counter = Counter()
    numbers: dict[str, list[Decimal]] = {q["code"]: [] for q in questions}
    kinds = {q["code"]: q["kind"] for q in questions}
    for answers in answer_sets:
        for code, value in answers.items():
            kind = kinds.get(code)
            if kind is None or value in (None, "", []):
                continue
            answered[code] += 1
            if kind in qdef.CHOICE_KINDS:
                for label in value.get("selected", []):
                    counters[code]["Other" if label == qdef.OTHER else label] += 1
            elif kind == "agreement":
                counters[code][value] += 1
            elif kind == "ranking":
                counters[code][value[0]] += 1
            elif kind == "number":
                numbers[code].append(Decimal(value))
    summaries = []
    for q in questions:
        code = q["code"]
        summary = Summary(code=code, text=q["text"], kind=q["kind"], answered=answered[code])
        if q["kind"] in (*qdef.CHOICE_KINDS, "agreement", "ranking"):
            labels = qdef.options_for(q) + (["Other"] if q.get("allow_other") else [])
            total = answered[code]
            summary.options = [
                OptionCount(
                    label=label,
                    count=counters[code][label],
                    percent=round(100 * counters[code][label] / total, 1) if total else 0.0,
                )
                for label in labels
            ]
        if q["kind"] == "number" and numbers[code]:
            values = numbers[code]
            summary.numbers = {
                "lowest": str(min(values)),
                "median": str(statistics.median(values)),
                "highest": str(max(values)),
            }
        summaries.append(summary)
    return summaries
