"""Reads: tallies, results visibility, and the questions a consultation page shows."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import rules
from django.contrib.auth.models import AnonymousUser

from voting import protocol, services, tallies
from voting.ballots import BALLOTS_KEY
from voting.models import Ballot, BudgetMethod, Option, Participation, Question, TallyCount
from voting.shared_cache import cache

#: Kinds whose tally needs every ballot (computed with ``voting/tallies.py``, cached per ``tally_seq``).
BALLOT_KINDS = frozenset({"ranked"})


def _counts(question: Question) -> dict[str, int]:
    cached = getattr(question, "_counts", None)
    if cached is None:
        cached = dict(TallyCount.objects.filter(question_id=question.pk).values_list("key", "count"))
        question._counts = cached
    return cached


def _needs_ballots(question: Question) -> bool:
    return question.kind in BALLOT_KINDS or (
        question.kind == "budget" and question.method == BudgetMethod.EQUAL_SHARES  # type: ignore[attr-defined]
    )


def _ballot_data(question: Question) -> list[dict[str, Any]]:
    cached = getattr(question, "_ballot_data", None)
    if cached is None:
        cached = list(Ballot.objects.filter(question_id=question.pk).values_list("data", flat=True))
    return cached


def _result(question: Question) -> dict[str, Any]:
    order = [option.key for option in question.option_list]
    kind = question.kind
    if kind == "ranked":
        return tallies.instant_runoff([data["ranking"] for data in _ballot_data(question)], order)
    if kind == "budget" and question.method == BudgetMethod.EQUAL_SHARES:  # type: ignore[attr-defined]
        costs = {option.key: option.cost or 0 for option in question.option_list}
        return tallies.equal_shares(
            [data["projects"] for data in _ballot_data(question)],
            costs,
            question.budget,
            order,  # type: ignore[attr-defined]
        )
    counts = _counts(question)
    ballots = int(counts.get(BALLOTS_KEY, 0))
    if kind == "yes_no":
        return tallies.yes_no_result(counts)
    if kind == "single":
        return tallies.ranking_result(counts, order, ballots=ballots, method="plurality")
    if kind == "approval":
        return tallies.ranking_result(counts, order, ballots=ballots, method="approval")
    if kind == "score":
        distributions: dict[str, list[int]] = {key: [0] * len(tallies.SCORE_RANGE) for key in order}
        for key, count in counts.items():
            option, _sep, score = key.partition(":")
            if option in distributions and score.isdigit() and int(score) in tallies.SCORE_RANGE:
                distributions[option][int(score)] = int(count)
        return tallies.score_result(distributions, order, ballots=ballots)
    if kind == "budget":
        costs = {option.key: option.cost or 0 for option in question.option_list}
        return tallies.greedy_budget(counts, costs, question.budget, order, ballots=ballots)  # type: ignore[attr-defined]
    raise ValueError(f"No tally rule for kind {kind!r}")


def _count_sealed_after_close(question: Question) -> bool:
    """A secret question that reached its closing time with ballots still sealed has them mixed and
    counted by the first read of its results (nothing else runs at a closing time). Returns whether
    it did; the question's ``tally_seq`` and counts are then read again."""
    if not (question.secret and question.ballots_sealed and not question.is_open):
        return False
    services.secret_ballots_mix(question=question, everything=True)
    fresh = Question.objects.non_polymorphic().values("tally_seq", "ballots_sealed").get(pk=question.pk)
    question.tally_seq, question.ballots_sealed = fresh["tally_seq"], fresh["ballots_sealed"]
    for cached in ("_counts", "_ballot_data"):
        question.__dict__.pop(cached, None)
    return True


#: How long a page may show a ranked-choice or Equal Shares result computed for an earlier ballot:
#: one broadcast interval, the same delay live watchers have.
PAGE_MAX_AGE = protocol.BROADCAST_INTERVAL


def tally_for(*, question: Question, max_age: float = 0.0) -> dict[str, Any]:
    """The question's result as a JSON-serialisable dict.

    Simple kinds are read from the incremental counts (one query, none if a selector attached them);
    ranked choice and Equal Shares budgets are computed from the ballots by ``voting/tallies.py`` and
    cached per ``tally_seq``, so a burst of readers costs one computation per change. With
    ``max_age`` (pages pass ``PAGE_MAX_AGE``), an open question's latest computed result is used if
    it was computed less than ``max_age`` seconds ago, even if ballots have changed since: ballots
    arriving steadily then cost one computation per interval, not one per ballot. The result's
    ``seq`` says which ballots it counts. The broadcaster asks for the current result (it flushes at
    most once per interval itself) and shares it through the same cache.
    """
    if type(question) is Question:
        question = question.get_real_instance()
    _count_sealed_after_close(question)
    seq = int(question.tally_seq)
    cache_key = latest_key = None
    if _needs_ballots(question) and getattr(question, "_ballot_data", None) is None:
        cache_key = f"voting:tally:{question.pk}:{seq}"
        latest_key = f"voting:tally:{question.pk}:latest"
        hit = cache.get(cache_key)
        if hit is not None:
            return hit
        if max_age > 0 and question.is_open:
            latest = cache.get(latest_key)
            if latest is not None and latest["seq"] < seq and time.time() - latest["at"] < max_age:
                return latest["tally"]
    tally = {
        "question_id": question.pk,
        "kind": question.kind,
        "seq": seq,
        "status": question.status,
        "options": [
            {"key": option.key, "label": option.label, "cost": option.cost} for option in question.option_list
        ],
        "result": _result(question),
    }
    if cache_key is not None:
        cache.set(cache_key, tally, timeout=3600)
        latest = cache.get(latest_key)
        if latest is None or latest["seq"] <= seq:
            cache.set(latest_key, {"seq": seq, "at": time.time(), "tally": tally}, timeout=3600)
    return tally


def results_visible_to(*, question: Question, user: Any, public_screen: bool = False) -> bool:
    """The one rule for a question's numbers, knowing who is looking: live results for everyone who may
    see the question; hidden results only for councillors and officers until close. A public screen
    (the presenter view in a room) shows only what the public may see, whoever opened it."""
    if public_screen:
        return bool(rules.test_rule("voting.show_results_publicly", AnonymousUser(), question))
    return bool(user.has_perm("voting.view_results", question))


def questions_for_consultation(*, page: Any, user: Any) -> list[Question]:
    """The page's questions as their own kinds, with options, counts and the viewer's permissions
    attached, in a fixed number of queries however many questions, options or ballots there are."""
    questions = list(Question.objects.filter(consultation_id=page.pk).order_by("sort_order", "pk"))
    for question in questions:
        _count_sealed_after_close(question)  # before the counts are read below
    ids = [q.pk for q in questions]
    options: dict[int, list[Option]] = defaultdict(list)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    ballot_data: dict[int, list[dict[str, Any]]] = defaultdict(list)
    voted: set[int] = set()
    if ids:
        for option in Option.objects.filter(question_id__in=ids).order_by("sort_order", "pk"):
            options[option.question_id].append(option)
        for question_id, key, count in TallyCount.objects.filter(question_id__in=ids).values_list(
            "question_id", "key", "count"
        ):
            counts[question_id][key] = count
        heavy = [q.pk for q in questions if q.is_closed and _needs_ballots(q)]
        if heavy:
            for question_id, data in Ballot.objects.filter(question_id__in=heavy).values_list(
                "question_id", "data"
            ):
                ballot_data[question_id].append(data)
        if getattr(user, "is_authenticated", False):
            voted = set(
                Participation.objects.filter(question_id__in=ids, voter=user).values_list(
                    "question_id", flat=True
                )
            )
    for question in questions:
        question.consultation = page
        question._option_list = options[question.pk]
        question._counts = counts[question.pk]
        if question.pk in ballot_data or (question.is_closed and _needs_ballots(question)):
            question._ballot_data = ballot_data[question.pk]
        question.viewer_can_vote = user.has_perm("voting.vote_question", question)
        question.viewer_sees_results = results_visible_to(question=question, user=user)
        question.viewer_has_voted = question.pk in voted
    return questions


def question_detail(*, pk: int) -> Question | None:
    """A question as its own kind with its consultation, for the question and results pages."""
    question = Question.objects.select_related("consultation").filter(pk=pk).first()
    if question is None:
        return None
    question._option_list = list(Option.objects.filter(question_id=question.pk).order_by("sort_order", "pk"))
    return question


def has_voted(*, question: Question, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Participation.objects.filter(question_id=question.pk, voter=user).exists()


def own_ballot(*, question: Question, user: Any) -> Ballot | None:
    """The person's own open ballot (never a secret one: those name nobody)."""
    if not getattr(user, "is_authenticated", False) or question.secret:
        return None
    return Ballot.objects.filter(question_id=question.pk, voter=user).first()
