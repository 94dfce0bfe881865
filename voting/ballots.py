"""Ballot data per kind: what ``ballot_cast`` accepts, how it is normalised, and the counts it feeds.

The same dictionary arrives from a form POST (see ``voting/forms.py``) and from a websocket message:

================ ===================================================================================
yes/no/abstain   ``{"choice": "yes" | "no" | "abstain"}``
single choice    ``{"choice": "<option id>"}``
approval         ``{"choices": ["<option id>", ...]}`` (at least one, at most the question's limit)
ranked choice    ``{"ranking": ["<option id>", ...]}`` most preferred first, or
                 ``{"ranks": {"<option id>": 1, "<option id>": 2, ...}}`` (ranks 1, 2, 3 ... without
                 gaps or repeats; options left out are unranked). At least one option ranked.
score            ``{"scores": {"<option id>": 0..5, ...}}`` (every option scored)
budget           ``{"projects": ["<option id>", ...]}`` (at least one, total cost within the budget)
================ ===================================================================================

Option ids may be strings or integers; the normalised ballot always uses strings, and lists are
sorted by ballot-paper order (a ranking keeps its preference order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voting import errors
from voting.errors import BallotError
from voting.models import SCORE_MAX, SCORE_MIN, Question
from voting.tallies import YES_NO_CHOICES

#: The count key that holds the number of ballots of a question.
BALLOTS_KEY = "_ballots"
_MAX_ITEMS = 500


def _option_keys(question: Question) -> dict[str, int]:
    """Option id (string) -> ballot-paper position."""
    return {option.key: i for i, option in enumerate(question.option_list)}


def _key(value: Any, known: Mapping[str, int]) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BallotError(errors.INVALID_BALLOT, "That is not an option on this ballot paper.")
    key = str(value).strip()
    if key not in known:
        raise BallotError(errors.UNKNOWN_OPTION, "One of the options you chose is not on this ballot paper.")
    return key


def _key_list(value: Any, known: Mapping[str, int], *, empty_message: str) -> list[str]:
    if not isinstance(value, list | tuple) or len(value) > _MAX_ITEMS:
        raise BallotError(errors.INVALID_BALLOT, empty_message)
    keys = [_key(item, known) for item in value]
    if not keys:
        raise BallotError(errors.INVALID_BALLOT, empty_message)
    return keys


def _mapping(data: Any, field: str, message: str) -> Any:
    if not isinstance(data, Mapping) or field not in data:
        raise BallotError(errors.INVALID_BALLOT, message)
    return data[field]


def _int(value: Any, message: str, code: str = errors.INVALID_BALLOT) -> int:
    if isinstance(value, bool):
        raise BallotError(code, message)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 12:
        return int(value.strip())
    raise BallotError(code, message)


def normalise(question: Question, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``data`` against the question's kind and return the ballot as it will be stored.

    Raises ``BallotError`` with the first problem found.
    """
    kind = question.kind
    if kind == "yes_no":
        choice = _mapping(data, "choice", "Choose yes, no or abstain.")
        if choice not in YES_NO_CHOICES:
            raise BallotError(errors.INVALID_BALLOT, "Choose yes, no or abstain.")
        return {"choice": choice}

    known = _option_keys(question)
    if kind == "single":
        choice = _mapping(data, "choice", "Choose one option.")
        return {"choice": _key(choice, known)}

    if kind == "approval":
        limit = int(question.max_choices)  # type: ignore[attr-defined]
        keys = _key_list(
            _mapping(data, "choices", "Choose at least one option."),
            known,
            empty_message="Choose at least one option.",
        )
        if len(set(keys)) != len(keys):
            raise BallotError(errors.INVALID_BALLOT, "Each option can be chosen only once.")
        if len(keys) > limit:
            raise BallotError(errors.TOO_MANY_CHOICES, f"Choose no more than {limit} options.")
        return {"choices": sorted(keys, key=known.__getitem__)}

    if kind == "ranked":
        return {"ranking": _ranking(data, known)}

    if kind == "score":
        scores = _mapping(data, "scores", "Give every option a score from 0 to 5.")
        if not isinstance(scores, Mapping) or len(scores) > _MAX_ITEMS:
            raise BallotError(errors.INVALID_BALLOT, "Give every option a score from 0 to 5.")
        normalised: dict[str, int] = {}
        for raw_key, raw_score in scores.items():
            key = _key(raw_key, known)
            score = _int(raw_score, "Scores must be whole numbers from 0 to 5.", errors.SCORE_OUT_OF_RANGE)
            if not SCORE_MIN <= score <= SCORE_MAX:
                raise BallotError(errors.SCORE_OUT_OF_RANGE, "Scores must be whole numbers from 0 to 5.")
            normalised[key] = score
        if set(normalised) != set(known):
            raise BallotError(errors.INVALID_BALLOT, "Give every option a score from 0 to 5.")
        return {"scores": {key: normalised[key] for key in sorted(normalised, key=known.__getitem__)}}

    if kind == "budget":
        keys = _key_list(
            _mapping(data, "projects", "Choose at least one project."),
            known,
            empty_message="Choose at least one project.",
        )
        if len(set(keys)) != len(keys):
            raise BallotError(errors.INVALID_BALLOT, "Each project can be chosen only once.")
        costs = {option.key: option.cost or 0 for option in question.option_list}
        budget = int(question.budget)  # type: ignore[attr-defined]
        total = sum(costs[key] for key in keys)
        if total > budget:
            raise BallotError(
                errors.OVER_BUDGET,
                f"The projects you chose cost £{total:,}, more than the £{budget:,} available. Remove some.",
            )
        return {"projects": sorted(keys, key=known.__getitem__)}

    raise BallotError(errors.INVALID_BALLOT, "This question does not take ballots.")


def _ranking(data: Mapping[str, Any], known: Mapping[str, int]) -> list[str]:
    if isinstance(data, Mapping) and "ranking" in data:
        keys = _key_list(data["ranking"], known, empty_message="Rank at least one option.")
        if len(set(keys)) != len(keys):
            raise BallotError(errors.DUPLICATE_RANK, "Each option can be ranked only once.")
        return keys
    ranks = _mapping(data, "ranks", "Rank at least one option.")
    if not isinstance(ranks, Mapping) or len(ranks) > _MAX_ITEMS:
        raise BallotError(errors.INVALID_BALLOT, "Rank at least one option.")
    by_rank: dict[int, str] = {}
    for raw_key, raw_rank in ranks.items():
        key = _key(raw_key, known)
        if raw_rank in (None, ""):
            continue
        rank = _int(raw_rank, "Ranks must be whole numbers: 1 for your first choice, 2 for your second.")
        if rank < 1 or rank > len(known):
            raise BallotError(errors.INVALID_BALLOT, f"Ranks must be between 1 and {len(known)}.")
        if rank in by_rank:
            raise BallotError(errors.DUPLICATE_RANK, f"You gave rank {rank} to more than one option.")
        by_rank[rank] = key
    if not by_rank:
        raise BallotError(errors.INVALID_BALLOT, "Rank at least one option.")
    expected = list(range(1, len(by_rank) + 1))
    if sorted(by_rank) != expected:
        missing = next(r for r in expected if r not in by_rank)
        raise BallotError(
            errors.RANK_GAP, f"Your ranks skip number {missing}. Number your choices 1, 2, 3 in order."
        )
    return [by_rank[rank] for rank in expected]


def count_keys(kind: str, data: Mapping[str, Any]) -> list[str]:
    """The incremental counts a normalised ballot adds to (none for ranked ballots)."""
    if kind in ("yes_no", "single"):
        return [str(data["choice"])]
    if kind == "approval":
        return [str(k) for k in data["choices"]]
    if kind == "budget":
        return [str(k) for k in data["projects"]]
    if kind == "score":
        return [f"{key}:{score}" for key, score in data["scores"].items()]
    return []
