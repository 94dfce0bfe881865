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
  the project with more supporters, then ballot-paper order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

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
#: Upper bound on the "add one" completion of the Method of Equal Shares (each step reruns the count).
MAX_SHARE_INCREMENTS = 500

TIE_BREAK_MES = (
    "Projects at equal price per pound go to the one with more supporters, then ballot-paper order."
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


def _mes_fixed(
    supporters: Mapping[str, Sequence[int]],
    costs: Mapping[str, int],
    share: Fraction,
    voters: int,
    order: Sequence[str],
) -> tuple[list[str], list[dict[str, Any]]]:
    """Method of Equal Shares with a fixed share per voter, cost utilities, exact fractions."""
    position = {key: i for i, key in enumerate(order)}
    money = [share] * voters
    candidates = [key for key in order if costs[key] > 0 and supporters.get(key)]
    chosen: list[str] = []
    steps: list[dict[str, Any]] = []
    while True:
        best: tuple[Fraction, int, int] | None = None
        best_key: str | None = None
        best_cap = Fraction(0)
        for key in list(candidates):
            cost = costs[key]
            backers = supporters[key]
            if sum(money[i] for i in backers) < cost:
                candidates.remove(key)  # shares only shrink: it will never become affordable
                continue
            # The smallest cap such that supporters paying min(their money, cap) cover the cost.
            paid = Fraction(0)
            left = len(backers)
            cap = Fraction(0)
            for available in sorted(money[i] for i in backers):
                cap = (cost - paid) / left
                if cap <= available:
                    break
                paid += available
                left -= 1
            rank = (cap / cost, -len(backers), position[key])
            if best is None or rank < best:
                best, best_key, best_cap = rank, key, cap
        if best_key is None:
            break
        for i in supporters[best_key]:
            money[i] -= min(money[i], best_cap)
        candidates.remove(best_key)
        chosen.append(best_key)
        steps.append(
            {"key": best_key, "max_payment": _decimal(best_cap), "supporters": len(supporters[best_key])}
        )
    return chosen, steps


def equal_shares(
    ballots: Sequence[Collection[str]], costs: Mapping[str, int], budget: int, order: Sequence[str]
) -> dict[str, Any]:
    """Method of Equal Shares for approval ballots, with cost utilities and "add one" completion.

    Each voter gets an equal share of the budget. Round by round the project is funded whose
    supporters can pay for it with the lowest price per pound of project, each paying the same amount
    or, if they have less left, everything they have. When no project can be paid for that way, each
    voter's share is raised by £1 and the count is run again, as long as the outcome stays within
    the budget ("add one" completion, as recommended by equalshares.net); money still left is then
    spent on the remaining projects with most votes that fit (utilitarian completion).
    """
    position = {key: i for i, key in enumerate(order)}
    voters = len(ballots)
    supporters: dict[str, list[int]] = {key: [] for key in order}
    for index, ballot in enumerate(ballots):
        for key in set(ballot):
            if key in supporters:
                supporters[key].append(index)
    votes = {key: len(supporters[key]) for key in order}
    chosen: list[str] = []
    steps: list[dict[str, Any]] = []
    share = Fraction(budget, voters) if voters else Fraction(0)
    increments = 0
    if voters:
        chosen, steps = _mes_fixed(supporters, costs, share, voters, order)
        spent = sum(costs[k] for k in chosen)
        # "Add one": raise every share by £1 while the outcome still fits the budget and could grow.
        start = Fraction(budget, voters)
        trial = Fraction(int(start)) + 1
        while increments < MAX_SHARE_INCREMENTS and any(
            k not in chosen and votes[k] > 0 and spent + costs[k] <= budget for k in order
        ):
            outcome, outcome_steps = _mes_fixed(supporters, costs, trial, voters, order)
            outcome_cost = sum(costs[k] for k in outcome)
            if outcome_cost > budget:
                break
            chosen, steps, spent, share = outcome, outcome_steps, outcome_cost, trial
            increments += 1
            trial += 1
    by_mes = list(chosen)
    spent = sum(costs[k] for k in chosen)
    completion: list[str] = []
    for key in sorted(order, key=lambda k: (-votes[k], costs[k], position[k])):
        if key not in chosen and votes[key] > 0 and spent + costs[key] <= budget:
            chosen.append(key)
            completion.append(key)
            spent += costs[key]
    rows = []
    for key in order:
        status = (
            "funded"
            if key in by_mes
            else "completion"
            if key in completion
            else ("no_votes" if votes[key] == 0 else "not_funded")
        )
        rows.append(
            {
                "key": key,
                "count": votes[key],
                "percent": _percent(votes[key], voters),
                "cost": costs[key],
                "status": status,
            }
        )

    def row_order(row: dict[str, Any]) -> tuple[int, int]:
        key = str(row["key"])
        return (0, chosen.index(key)) if key in chosen else (1, position[key])

    rows.sort(key=row_order)
    return {
        "method": "equal_shares",
        "ballots": voters,
        "budget": budget,
        "spent": spent,
        "share_per_voter": _decimal(Fraction(budget, voters)) if voters else "0.00",
        "final_share_per_voter": _decimal(share),
        "share_increments": increments,
        "rows": rows,
        "funded": chosen,
        "funded_by_equal_shares": by_mes,
        "funded_by_completion": completion,
        "steps": steps,
        "tie_break": TIE_BREAK_MES,
    }
