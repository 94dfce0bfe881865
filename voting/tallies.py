"""Tally rules: ballots (or counts) in, a result out. No ORM, no I/O, exact arithmetic.

Every function returns a JSON-serialisable ``dict``. Options are identified by strings (the option
ids in ballot data) and ``order`` is the ballot-paper order of the options, which the tie-breaking
rules use.

Tie-breaking rules (documented here, named in every result as ``tie_break``, shown on results pages):

* Yes/no/abstain: abstentions are counted and shown but do not decide. More "yes" than "no" carries
  the question; equal "yes" and "no" is reported as a tie and the question is **not** carried.
* Single choice, approval, score: options are ranked by their count (score: by exact mean, then by
  the number of people who scored it). Options still level are ranked in **ballot-paper order**, and
  the result lists everyone who shares the top place (``tied``) so the tie is visible.
* Ranked choice (instant runoff): when several options share the lowest total, the one with the
  fewest votes in the most recent earlier round where they differed is eliminated (backwards
  tie-break); if they were level in every round, the one **listed last on the ballot paper** goes.
* Budget, most votes first: projects in order of votes, then cheaper first, then ballot-paper order.
* Method of Equal Shares: the lowest price per pound of project wins the round; level prices go to
  the cheaper project, then the one with more supporters, then ballot-paper order. This is
  equalshares.net's recommendation, except that its last resort is a lot: Townhall uses the ballot
  paper's order instead, so that anyone recounting the ballots gets the same result. Every result
  says which of these rules decided each tie (``steps[].tie_rule``, ``fill_ties``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from gmpy2 import mpq

YES, NO, ABSTAIN = "yes", "no", "abstain"
YES_NO_CHOICES = (YES, NO, ABSTAIN)
SCORE_RANGE = range(0, 6)

TIE_BREAK_ORDER = "Options with equal results are listed in ballot-paper order."
TIE_BREAK_IRV = (
    "When options tie for fewest votes, the one with fewer votes in the latest earlier round where they "
    "differed is eliminated; if they were level in every round, the one listed last on the ballot paper."
)
TIE_BREAK_YES_NO = "Abstentions do not count towards the decision; a tie between yes and no does not carry."
TIE_BREAK_SCORE = (
    "Options with equal means are ranked by how many people scored them, then ballot-paper order."
)
TIE_BREAK_GREEDY = "Projects with equal votes are taken cheaper first, then in ballot-paper order."
TIE_BREAK_MES = (
    "Projects at an equal price per pound go to the cheaper project, then to the one with more supporters, "
    "then to the one listed first on the ballot paper. Money left over goes to the projects with most votes, "
    "cheaper first among equal votes."
)


def _percent(part: int, whole: int) -> float:
    """A display percentage, one decimal place; the exact counts are always given alongside."""
    return round(100 * part / whole, 1) if whole else 0.0


def _decimal(value: Fraction, places: int = 2) -> str:
    """An exact fraction written to ``places`` decimal places, rounding half up."""
    scaled = value * 10**places
    whole = int(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    sign = "-" if whole < 0 else ""
    whole = abs(whole)
    return f"{sign}{whole // 10**places}.{whole % 10**places:0{places}d}"


# -- counting ------------------------------------------------------------------------------------


def count_choices(ballots: Iterable[str]) -> dict[str, int]:
    """How many ballots name each choice (single choice, yes/no/abstain)."""
    counts: dict[str, int] = {}
    for choice in ballots:
        counts[choice] = counts.get(choice, 0) + 1
    return counts


def count_selections(ballots: Iterable[Collection[str]]) -> dict[str, int]:
    """How many ballots include each option (approval, budget projects)."""
    counts: dict[str, int] = {}
    for ballot in ballots:
        for option in set(ballot):
            counts[option] = counts.get(option, 0) + 1
    return counts


def count_scores(ballots: Iterable[Mapping[str, int]]) -> dict[str, list[int]]:
    """For each option, how many ballots gave it each score 0..5."""
    distributions: dict[str, list[int]] = {}
    for ballot in ballots:
        for option, score in ballot.items():
            distributions.setdefault(option, [0] * len(SCORE_RANGE))[score] += 1
    return distributions


# -- yes / no / abstain --------------------------------------------------------------------------


def yes_no_result(counts: Mapping[str, int]) -> dict[str, Any]:
    yes, no, abstain = (int(counts.get(k, 0)) for k in YES_NO_CHOICES)
    total = yes + no + abstain
    decisive = yes + no
    if decisive == 0:
        outcome = "none"
    elif yes > no:
        outcome = YES
    elif no > yes:
        outcome = NO
    else:
        outcome = "tie"
    return {
        "method": "yes_no",
        "ballots": total,
        "rows": [
            {
                "key": key,
                "count": count,
                "percent": _percent(count, total),
                "percent_of_decisive": _percent(count, decisive) if key != ABSTAIN else None,
            }
            for key, count in ((YES, yes), (NO, no), (ABSTAIN, abstain))
        ],
        "decisive": decisive,
        "outcome": outcome,
        "carried": outcome == YES,
        "tie_break": TIE_BREAK_YES_NO,
    }


# -- single choice and approval ------------------------------------------------------------------


def ranking_result(
    counts: Mapping[str, int], order: Sequence[str], *, ballots: int, method: str
) -> dict[str, Any]:
    """Options ranked by count, ballot-paper order among equals; everyone sharing first place listed."""
    position = {key: i for i, key in enumerate(order)}
    ranked = sorted(order, key=lambda key: (-int(counts.get(key, 0)), position[key]))
    values = {key: int(counts.get(key, 0)) for key in ranked}
    rows = [{"key": key, "count": values[key], "percent": _percent(values[key], ballots)} for key in ranked]
    top = values[ranked[0]] if ranked else 0
    tied = [key for key in ranked if values[key] == top] if top > 0 else []
    return {
        "method": method,
        "ballots": ballots,
        "rows": rows,
        "winner": ranked[0] if top > 0 else None,
        "tied": tied if len(tied) > 1 else [],
        "tie_break": TIE_BREAK_ORDER,
    }


# -- score ---------------------------------------------------------------------------------------


def score_result(
    distributions: Mapping[str, Sequence[int]], order: Sequence[str], *, ballots: int
) -> dict[str, Any]:
    """Mean score (exact) and distribution of every option, best mean first."""
    position = {key: i for i, key in enumerate(order)}
    stats: dict[str, tuple[Fraction | None, int, list[int]]] = {}
    for key in order:
        dist = [int(n) for n in distributions.get(key, [0] * len(SCORE_RANGE))]
        scored = sum(dist)
        mean = (
            Fraction(sum(s * n for s, n in zip(SCORE_RANGE, dist, strict=True)), scored) if scored else None
        )
        stats[key] = (mean, scored, dist)

    def sort_key(key: str) -> tuple[Fraction, int, int]:
        mean, scored, _dist = stats[key]
        return (-(mean if mean is not None else Fraction(-1)), -scored, position[key])

    ranked = sorted(order, key=sort_key)
    rows = []
    for key in ranked:
        mean, scored, dist = stats[key]
        rows.append(
            {
                "key": key,
                "mean": _decimal(mean) if mean is not None else None,
                "mean_exact": f"{mean.numerator}/{mean.denominator}" if mean is not None else None,
                "scored": scored,
                "distribution": dist,
            }
        )
    best = stats[ranked[0]][0] if ranked else None
    tied = [key for key in ranked if best is not None and stats[key][0] == best]
    return {
        "method": "score",
        "ballots": ballots,
        "rows": rows,
        "winner": ranked[0] if best is not None else None,
        "tied": tied if len(tied) > 1 else [],
        "tie_break": TIE_BREAK_SCORE,
    }


# -- ranked choice: instant runoff ---------------------------------------------------------------


def instant_runoff(ballots: Sequence[Sequence[str]], order: Sequence[str]) -> dict[str, Any]:
    """Instant-runoff voting with every round: counts, who was eliminated, where their votes went.

    A ballot counts for its highest-ranked option still in the race. An option with more than half
    of the ballots still in play wins; otherwise the option with fewest votes is eliminated (see the
    module's tie-break rule) and its ballots transfer. A ballot with no option left is exhausted.
    One option is eliminated per round.
    """
    position = {key: i for i, key in enumerate(order)}
    continuing = list(order)
    valid = [[key for key in ballot if key in position] for ballot in ballots]
    rounds: list[dict[str, Any]] = []
    history: list[dict[str, int]] = []
    winner: str | None = None
    pending_transfer: dict[str, Any] | None = None
    while continuing:
        alive = set(continuing)
        counts = dict.fromkeys(continuing, 0)
        exhausted = 0
        for ballot in valid:
            top = next((key for key in ballot if key in alive), None)
            if top is None:
                exhausted += 1
            else:
                counts[top] += 1
        active = len(valid) - exhausted
        round_info: dict[str, Any] = {
            "round": len(rounds) + 1,
            "counts": [
                {"key": key, "count": counts[key], "percent": _percent(counts[key], active)}
                for key in sorted(continuing, key=lambda k: (-counts[k], position[k]))
            ],
            "exhausted": exhausted,
            "active": active,
            "threshold": active // 2 + 1,
            "elected": None,
            "eliminated": None,
            "tie_break_used": False,
            "transfers": None,
        }
        if pending_transfer is not None:
            rounds[-1]["transfers"] = pending_transfer
        history.append(counts)
        if active == 0:
            rounds.append(round_info)
            break
        leader = min(continuing, key=lambda k: (-counts[k], position[k]))
        if counts[leader] * 2 > active or len(continuing) == 1:
            round_info["elected"] = leader
            winner = leader
            rounds.append(round_info)
            break
        fewest = min(counts.values())
        lowest = [key for key in continuing if counts[key] == fewest]
        if len(lowest) > 1:
            round_info["tie_break_used"] = True
            for earlier in reversed(history[:-1]):
                least = min(earlier[key] for key in lowest)
                narrowed = [key for key in lowest if earlier[key] == least]
                if len(narrowed) < len(lowest):
                    lowest = narrowed
                    if len(lowest) == 1:
                        break
        eliminated = max(lowest, key=lambda k: position[k])
        round_info["eliminated"] = eliminated
        rounds.append(round_info)
        # Where the eliminated option's ballots go next.
        continuing.remove(eliminated)
        still = set(continuing)
        moved: dict[str, int] = {}
        lost = 0
        for ballot in valid:
            top = next((key for key in ballot if key in alive), None)
            if top != eliminated:
                continue
            following = next((key for key in ballot if key in still), None)
            if following is None:
                lost += 1
            else:
                moved[following] = moved.get(following, 0) + 1
        pending_transfer = {
            "from": eliminated,
            "to": [{"key": key, "count": moved[key]} for key in sorted(moved, key=lambda k: position[k])],
            "exhausted": lost,
        }
    return {
        "method": "instant_runoff",
        "ballots": len(valid),
        "rounds": rounds,
        "winner": winner,
        "first_preferences": [dict(row) for row in rounds[0]["counts"]] if rounds else [],
        "tie_break": TIE_BREAK_IRV,
    }


# -- budget allocation ---------------------------------------------------------------------------


def greedy_budget(
    votes: Mapping[str, int], costs: Mapping[str, int], budget: int, order: Sequence[str], *, ballots: int
) -> dict[str, Any]:
    """Fund projects in order of votes while the money lasts; a project that no longer fits is
    skipped and cheaper ones further down may still be funded. Projects with no votes are not funded."""
    position = {key: i for i, key in enumerate(order)}
    ranked = sorted(order, key=lambda k: (-int(votes.get(k, 0)), costs[k], position[k]))
    remaining = budget
    rows = []
    funded: list[str] = []
    for key in ranked:
        count = int(votes.get(key, 0))
        if count > 0 and costs[key] <= remaining:
            remaining -= costs[key]
            funded.append(key)
            status = "funded"
        else:
            status = "no_votes" if count == 0 else "does_not_fit"
        rows.append(
            {
                "key": key,
                "count": count,
                "percent": _percent(count, ballots),
                "cost": costs[key],
                "status": status,
            }
        )
    return {
        "method": "greedy",
        "ballots": ballots,
        "budget": budget,
        "spent": budget - remaining,
        "rows": rows,
        "funded": funded,
        "tie_break": TIE_BREAK_GREEDY,
    }


# -- Method of Equal Shares ----------------------------------------------------------------------
#
# Money is exact throughout (``gmpy2.mpq``, GMP's rationals: the same arithmetic as ``Fraction``, in
# C; results are handed back as ``Fraction``). For speed, voters with the same ballot are counted once
# (with their number), and voters whose remaining money is the same are kept in one *class*: a
# funded project's supporters in a class all pay the same, so a class splits at most in two per
# round. Floating-point copies of the classes' money are used only to find, quickly, which classes
# need an exact look; every decision (can a project be paid for, what each supporter pays, which
# project is cheapest, ties) is made on the exact values. ``tests/voting/test_tallies*.py`` check
# the results against a plain exact implementation and against ``pabutools``.

#: Margin, as a fraction of the share, within which a floating-point comparison of money is settled
#: exactly instead. A class's money in floating point is the share less at most one rounded cap per
#: round (fewer than 10**4 rounds), so it is within 1e-12 of the share of the exact amount.
_FLOAT_MARGIN = 1e-9
#: Ties between projects at the same price per pound, in the order the rules are tried.
TIE_RULES = ("cost", "votes", "order")


@dataclass(frozen=True)
class _BudgetElection:
    """Approval ballots prepared once for many runs of Equal Shares at different shares."""

    order: tuple[str, ...]
    position: dict[str, int]
    costs: dict[str, int]
    voters: int
    votes: dict[str, int]
    #: For each project, the distinct ballots that approve it and how many voters cast each.
    ballots_of: dict[str, np.ndarray]
    weights_of: dict[str, np.ndarray]
    distinct: int
    #: Supported projects with a cost (counted by the method) and supported projects costing nothing.
    candidates: tuple[str, ...]
    free: tuple[str, ...]

    def tie_key(self, key: str) -> tuple[int, int, int]:
        return (self.costs[key], -self.votes[key], self.position[key])


def _prepare(
    ballots: Sequence[Collection[str]], costs: Mapping[str, int], order: Sequence[str]
) -> _BudgetElection:
    position = {key: i for i, key in enumerate(order)}
    multiplicity: dict[frozenset[str], int] = {}
    for ballot in ballots:
        approved = frozenset(key for key in ballot if key in position)
        if approved:
            multiplicity[approved] = multiplicity.get(approved, 0) + 1
    members: dict[str, list[int]] = {key: [] for key in order}
    counts: dict[str, list[int]] = {key: [] for key in order}
    for index, (approved, count) in enumerate(multiplicity.items()):
        for key in approved:
            members[key].append(index)
            counts[key].append(count)
    votes = {key: sum(counts[key]) for key in order}
    return _BudgetElection(
        order=tuple(order),
        position=position,
        costs={key: int(costs[key]) for key in order},
        voters=len(ballots),
        votes=votes,
        ballots_of={key: np.asarray(members[key], dtype=np.int64) for key in order},
        weights_of={key: np.asarray(counts[key], dtype=np.float64) for key in order},
        distinct=len(multiplicity),
        candidates=tuple(key for key in order if votes[key] > 0 and costs[key] > 0),
        free=tuple(key for key in order if votes[key] > 0 and costs[key] <= 0),
    )


@dataclass
class _MesRound:
    key: str
    #: The most any supporter paid (those with less left paid everything they had).
    max_payment: Fraction
    tied: list[str]
    tie_rule: str | None


class _MesRun:
    """One run of the Method of Equal Shares with a fixed share per voter (cost utilities).

    A voter who has always paid the full cap of the projects they supported has the share minus
    those caps left; one who could not has nothing. So a class's money is the share minus the caps
    of the rounds it paid in full (``paid_in``, one column per round), and every exact sum of money
    is the share times a number of voters minus a few caps times whole numbers.

    The run also finds ``limit``: a share up to which a run would go exactly the same way. Every
    amount in the run is, for shares near this one, the share times a slope plus a constant, as
    long as the same supporters pay everything they have for each project looked at; so the
    comparisons the run made (who pays everything, which project cannot be paid for, which is
    cheapest) can only change where one of these lines crosses another. ``limit`` is the first such
    crossing above the share (rounded down: it may be early, never late), and the completion skips
    the £1 steps below it, whose counts would all be this one.
    """

    def __init__(self, election: _BudgetElection, share: Fraction, *, track: bool = True):
        self.e = election
        self.share = mpq(share.numerator, share.denominator)
        self.at = float(share)
        self.margin = _FLOAT_MARGIN * self.at
        #: Without tracking, ``limit`` is the share itself: no step may be skipped.
        self.track = track
        self.limit = math.inf if track else self.at
        self.caps: list[Any] = []
        #: How fast each round's cap moves with the share.
        self.slopes: list[Any] = []
        # Class 0 holds the voters with nothing left; everyone starts in class 1 with the share.
        self.classes = 2
        self.paid_in = np.zeros((64, len(election.candidates)), dtype=np.uint8)
        self.float_money = np.zeros(64)
        self.float_money[1] = self.at
        self.float_slope = np.zeros(64)
        self.float_slope[1] = 1.0
        self.class_of = np.ones(election.distinct, dtype=np.int64)
        #: For each project looked at: the classes that would pay everything they have for it, and
        #: how fast its cap moves with the share.
        self.poor: dict[str, np.ndarray] = {}
        self.cap_slope: dict[str, Any] = {}

    def _money(self, c: int) -> Any:
        if c == 0:
            return mpq(0)
        return self.share - sum((self.caps[j] for j in np.flatnonzero(self.paid_in[c]).tolist()), mpq(0))

    def _sums(self, classes: np.ndarray, counts: np.ndarray) -> tuple[Any, Any]:
        """The exact money of ``counts`` voters in each of ``classes``, and how fast it moves with
        the share."""
        counts = counts.astype(np.int64)
        held = classes != 0
        rounds = counts[held] @ self.paid_in[classes[held]]
        voters = int(counts[held].sum())
        total = self.share * voters
        slope = mpq(voters)
        for j in np.flatnonzero(rounds).tolist():
            total -= self.caps[j] * int(rounds[j])
            if self.track:
                slope -= self.slopes[j] * int(rounds[j])
        return total, slope

    def _until(self, gap: float, rate: float) -> None:
        """Lower ``limit`` to where a quantity now ``gap`` on the safe side, moving towards the unsafe
        side at ``rate`` per pound of share (both already made pessimistic), reaches it."""
        if gap <= 0:
            self.limit = self.at
        elif rate > 0:
            self.limit = min(self.limit, self.at + gap / rate)

    def price(self, key: str) -> Any:
        """The smallest payment cap at which the project's supporters can pay for it (each paying
        the cap or everything they have left), or ``None`` if all their money is not enough."""
        e = self.e
        cost = e.costs[key]
        counts = np.bincount(self.class_of[e.ballots_of[key]], weights=e.weights_of[key])
        present = np.flatnonzero(counts)
        counts = counts[present]
        money = self.float_money[present]
        slope = self.float_slope[present]
        supporters = int(counts.sum())
        total = float(counts @ money)
        if total < cost - self.margin * supporters or (
            total <= cost + self.margin * supporters and self._sums(present, counts)[0] < cost
        ):
            # It stays out of reach while its supporters' money stays below its cost.
            if self.track:
                steep = _FLOAT_MARGIN * supporters * (1 + float(np.abs(slope).max()))
                self._until(cost - total - self.margin * supporters, float(counts @ slope) + steep)
            return None
        # Poorest first: while the equal split is more than a class has, that class pays everything
        # and the rest is split among the others. Found in floating point, then checked exactly.
        ranked = np.argsort(money, kind="stable")
        sorted_money = money[ranked]
        sorted_counts = counts[ranked]
        before_n = np.concatenate(([0.0], np.cumsum(sorted_counts)[:-1]))
        before_paid = np.concatenate(([0.0], np.cumsum(sorted_counts * sorted_money)[:-1]))
        splits = (cost - before_paid) / (supporters - before_n)
        stops = np.flatnonzero(splits <= sorted_money)
        if not len(stops):
            return self._price_exact(key, present, counts)
        poor = np.zeros(len(present), dtype=bool)
        poor[ranked[: stops[0]]] = True
        cap, cap_slope = self._cap(cost, present, counts, poor)
        float_cap = float(cap)
        for index in np.flatnonzero(np.abs(money - float_cap) <= self.margin).tolist():
            amount = self._money(int(present[index]))
            if (amount > cap) if poor[index] else (amount < cap):
                return self._price_exact(key, present, counts)
        self._keep(key, present, poor, money, slope, float_cap, cap_slope)
        return cap

    def _cap(self, cost: int, present: np.ndarray, counts: np.ndarray, poor: np.ndarray) -> tuple[Any, Any]:
        paid, paid_slope = self._sums(present[poor], counts[poor])
        left = int(counts.sum()) - int(counts[poor].sum())
        return (cost - paid) / left, -paid_slope / left

    def _keep(
        self,
        key: str,
        present: np.ndarray,
        poor: np.ndarray,
        money: np.ndarray,
        slope: np.ndarray,
        float_cap: float,
        cap_slope: Any,
    ) -> None:
        """Remember who pays everything, and lower ``limit`` to where that could change: where a
        class that pays everything would have more than the cap, or one that pays the cap less."""
        self.poor[key] = present[poor]
        self.cap_slope[key] = cap_slope
        if not self.track:
            return
        towards = slope - float(cap_slope)  # how fast each class's money moves away from the cap
        steep = _FLOAT_MARGIN * (1 + abs(float(cap_slope)) + float(np.abs(slope).max()))
        gaps = np.where(poor, float_cap - money, money - float_cap) - self.margin
        rates = np.where(poor, towards, -towards).clip(min=0) + steep
        self._until(float((gaps / rates).min()) * (1 - _FLOAT_MARGIN), 1.0)

    def _price_exact(self, key: str, present: np.ndarray, counts: np.ndarray) -> Any:
        """The same as ``price``, every class's money computed exactly (used only near a tie)."""
        cost = self.e.costs[key]
        pairs = sorted((self._money(c), i) for i, c in enumerate(present.tolist()))
        paid = mpq(0)
        left = int(counts.sum())
        for index, (amount, _i) in enumerate(pairs):
            cap = (cost - paid) / left
            if cap <= amount:
                poor = np.zeros(len(present), dtype=bool)
                poor[[i for _a, i in pairs[:index]]] = True
                cap, cap_slope = self._cap(cost, present, counts, poor)
                money = self.float_money[present]
                self._keep(key, present, poor, money, self.float_slope[present], float(cap), cap_slope)
                return cap
            n = int(counts[pairs[index][1]])
            paid += n * amount
            left -= n
        self.limit = self.at  # unaffordable by a hair: take no step for granted
        return None

    def fund(self, key: str, cap: Any) -> None:
        """Every supporter pays ``cap``, or everything they have if that is less (then nothing is left)."""
        column = len(self.caps)
        self.caps.append(cap)
        self.slopes.append(self.cap_slope[key])
        members = self.e.ballots_of[key]
        classes = self.class_of[members]
        present = np.unique(classes)
        rich = np.setdiff1d(present, self.poor[key], assume_unique=True)
        first, last = self.classes, self.classes + len(rich)
        if last > len(self.float_money):
            grow = max(last, 2 * len(self.float_money)) - len(self.float_money)
            self.paid_in = np.concatenate([self.paid_in, np.zeros((grow, self.paid_in.shape[1]), np.uint8)])
            self.float_money = np.concatenate([self.float_money, np.zeros(grow)])
            self.float_slope = np.concatenate([self.float_slope, np.zeros(grow)])
        self.paid_in[first:last] = self.paid_in[rich]
        self.paid_in[first:last, column] = 1
        self.float_money[first:last] = self.float_money[rich] - float(cap)
        self.float_slope[first:last] = self.float_slope[rich] - float(self.cap_slope[key])
        self.classes = last
        mapping = np.zeros(first, dtype=np.int64)
        mapping[rich] = np.arange(first, last)
        self.class_of[members] = mapping[classes]

    def run(self) -> list[_MesRound]:
        e = self.e
        remaining = list(e.candidates)
        # A project's price per pound never falls as others are funded, so last round's price is a
        # lower bound: projects are looked at cheapest-known first and the search stops early.
        # Each known price is kept with how fast it moves with the share.
        known: dict[str, tuple[Any, Any]] = {key: (mpq(1, e.votes[key]), mpq(0)) for key in remaining}
        rounds: list[_MesRound] = []
        while remaining:
            remaining.sort(key=lambda k: (known[k][0], e.tie_key(k)))
            best: Any = None
            tied: list[str] = []
            caps: dict[str, Any] = {}
            for key in list(remaining):
                if best is not None and known[key][0] > best:
                    break
                cap = self.price(key)
                if cap is None:
                    remaining.remove(key)  # money only shrinks: it will never be affordable
                    continue
                caps[key] = cap
                known[key] = (cap / e.costs[key], self.cap_slope[key] / e.costs[key])
                if best is None or known[key][0] < best:
                    best, tied = known[key][0], [key]
                elif known[key][0] == best:
                    tied.append(key)
            if not tied:
                break
            winner, rule = break_tie(tied, e.tie_key)
            # The winner stays the winner while every other project's price (or the lower bound
            # known for it) stays above its own, or level with it and behind it in the tie-break.
            price, moves = known[winner]
            for key in remaining if self.track else ():
                other, other_moves = known[key]
                if key == winner or other_moves >= moves:
                    continue
                if other == price:
                    self.limit = self.at
                else:
                    self.limit = min(self.limit, float(self.share + (other - price) / (moves - other_moves)))
            self.fund(winner, caps[winner])
            remaining.remove(winner)
            cap = caps[winner]
            exact = Fraction(int(cap.numerator), int(cap.denominator))
            rounds.append(_MesRound(winner, exact, sorted(tied, key=e.tie_key), rule))
        return rounds


def break_tie(tied: Sequence[str], key: Callable[[str], tuple[int, ...]]) -> tuple[str, str | None]:
    """The first of ``tied`` by ``key`` and the name of the rule (``TIE_RULES``, one per part of
    the key) that separated it from the others, or ``None`` if there was no tie."""
    ranked = sorted(tied, key=key)
    if len(ranked) == 1:
        return ranked[0], None
    first = key(ranked[0])
    level = ranked
    for part, rule in enumerate(TIE_RULES):
        level = [k for k in level if key(k)[part] == first[part]]
        if len(level) == 1:
            return ranked[0], rule
    return ranked[0], TIE_RULES[-1]


def mes_fixed_share(
    ballots: Sequence[Collection[str]], costs: Mapping[str, int], share: Fraction, order: Sequence[str]
) -> list[str]:
    """The projects one run of Equal Shares funds with ``share`` per voter, in the order funded
    (supported projects costing nothing first)."""
    election = _prepare(ballots, costs, order)
    if not election.voters:
        return []
    return list(election.free) + [r.key for r in _MesRun(election, share).run()]


def equal_shares(
    ballots: Sequence[Collection[str]],
    costs: Mapping[str, int],
    budget: int,
    order: Sequence[str],
    *,
    skip_unchanged: bool = True,
) -> dict[str, Any]:
    """Method of Equal Shares for approval ballots (Peters and Skowron; equalshares.net), cost
    utilities, with the "add one" completion and then a most-votes fill-up.

    Each voter gets an equal share B/n of the budget. Round by round the project is funded whose
    supporters can pay for it at the lowest price per pound of project, each paying the same amount
    or, if they have less left, everything they have (ties: ``TIE_RULES``). Supported projects that
    cost nothing are funded first. When no project can be paid for that way and another would still
    fit the money left, the count is run again with every share raised by £1 (B/n + 1, B/n + 2, ...)
    for as long as its outcome costs no more than the budget, and stops when it no longer would or
    no other project fits. There is no limit on the number of steps: at a share of the sum of all
    costs every supported project is funded, so the completion always ends. Money still left then
    goes to the remaining projects with most votes that fit (utilitarian fill-up).

    The completion does not run the count for a step whose outcome it can prove to be the same as
    the last one's (see ``_MesRun``); ``skip_unchanged=False`` runs every step, for tests that
    check the two agree.
    """
    election = _prepare(ballots, costs, order)
    voters = election.voters
    votes = election.votes
    position = election.position
    start = Fraction(budget, voters) if voters else Fraction(0)
    rounds: list[_MesRound] = []
    steps = 0
    counts_run = 0
    ended = "no_votes"
    over: dict[str, Any] | None = None

    def spent_on(keys: Iterable[str]) -> int:
        return sum(election.costs[k] for k in keys)

    def fits_more(funded: set[str], spent: int) -> bool:
        return any(k not in funded and spent + election.costs[k] <= budget for k in election.candidates)

    if voters:
        run = _MesRun(election, start, track=skip_unchanged)
        rounds = run.run()
        counts_run = 1
        idle = 0
        ended = "not_needed"
        while True:
            funded = set(election.free) | {r.key for r in rounds}
            if not fits_more(funded, spent_on(funded)):
                if steps:
                    ended = "exhaustive"
                break
            # Every £1 step below the run's limit would count exactly as this one did: go straight
            # to the first step at or above it.
            following = steps + 1
            if run.track and math.isfinite(run.limit):
                following = max(following, math.ceil(run.limit * (1 - _FLOAT_MARGIN) - float(start) - 1e-9))
            # Working out the limit costs about a third of a count. With many voters it is nearly
            # always the next step; after two counts in a row that skipped nothing, stop looking.
            idle = idle + 1 if following == steps + 1 else 0
            run = _MesRun(election, start + following, track=skip_unchanged and idle < 2)
            trial = run.run()
            counts_run += 1
            trial_cost = spent_on(election.free) + spent_on(r.key for r in trial)
            if trial_cost > budget:
                ended = "over_budget"
                over = {"share": _decimal(start + following), "cost": trial_cost}
                if following - 1 > steps:
                    # The same projects in the same order as the last count, but what each
                    # supporter pays depends on the share: count once more at the share used.
                    steps = following - 1
                    rounds = _MesRun(election, start + steps).run()
                    counts_run += 1
                break
            rounds = trial
            steps = following
    by_mes = list(election.free) + [r.key for r in rounds]
    chosen = list(by_mes)
    spent = spent_on(chosen)
    fill: list[str] = []
    fill_ties: list[dict[str, Any]] = []
    ranked = sorted(order, key=lambda k: (-votes[k], costs[k], position[k]))
    available: dict[str, int] = {}
    for key in ranked:
        if key not in chosen and votes[key] > 0 and spent + costs[key] <= budget:
            available[key] = budget - spent
            chosen.append(key)
            fill.append(key)
            spent += costs[key]
    for key in fill:
        # The tie mattered if a project with as many votes, looked at later, fitted then and was left out.
        beaten = [
            k
            for k in ranked[ranked.index(key) + 1 :]
            if k not in chosen and votes[k] == votes[key] and costs[k] <= available[key]
        ]
        if beaten:
            fill_ties.append(
                {"key": key, "over": beaten, "rule": "cost" if costs[beaten[0]] != costs[key] else "order"}
            )
    rows = []
    for key in order:
        if key in by_mes:
            status = "funded"
        elif key in fill:
            status = "completion"
        else:
            status = "no_votes" if votes[key] == 0 else "not_funded"
        rows.append(
            {
                "key": key,
                "count": votes[key],
                "percent": _percent(votes[key], voters),
                "cost": costs[key],
                "status": status,
            }
        )
    place = {key: (0, i) for i, key in enumerate(chosen)}
    rows.sort(key=lambda row: place.get(str(row["key"]), (1, position[str(row["key"])])))
    final_share = start + steps
    return {
        "method": "equal_shares",
        "ballots": voters,
        "budget": budget,
        "spent": spent,
        "share_per_voter": _decimal(start),
        "final_share_per_voter": _decimal(final_share),
        "share_increments": steps,
        "completion": {
            "ended": ended,
            "steps": steps,
            "step": "1.00",
            "start_share": _decimal(start),
            "final_share": _decimal(final_share),
            "over_budget": over,
            "counts_run": counts_run,
        },
        "rows": rows,
        "funded": chosen,
        "funded_by_equal_shares": by_mes,
        "funded_by_completion": fill,
        "funded_free": list(election.free),
        "steps": [
            {
                "key": r.key,
                "max_payment": _decimal(r.max_payment),
                "supporters": votes[r.key],
                "tied": r.tied if r.tie_rule else [],
                "tie_rule": r.tie_rule,
            }
            for r in rounds
        ],
        "fill_ties": fill_ties,
        "tie_break": TIE_BREAK_MES,
    }
