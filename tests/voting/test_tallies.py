"""Tally rules against published examples and, with hypothesis, against brute-force references."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from voting import tallies

# -- published examples --------------------------------------------------------------------------


def test_irv_reproduces_the_tennessee_capital_example():
    """The Tennessee capital election, Wikipedia "Instant-runoff voting" (Examples section):
    42% Memphis > Nashville > Chattanooga > Knoxville, 26% Nashville > Chattanooga > Knoxville > Memphis,
    15% Chattanooga > Knoxville > Nashville > Memphis, 17% Knoxville > Chattanooga > Nashville > Memphis.
    Published result: Chattanooga eliminated in round 1, Nashville in round 2, Knoxville wins 58 to 42."""
    order = ["memphis", "nashville", "chattanooga", "knoxville"]
    ballots = (
        [["memphis", "nashville", "chattanooga", "knoxville"]] * 42
        + [["nashville", "chattanooga", "knoxville", "memphis"]] * 26
        + [["chattanooga", "knoxville", "nashville", "memphis"]] * 15
        + [["knoxville", "chattanooga", "nashville", "memphis"]] * 17
    )
    result = tallies.instant_runoff(ballots, order)
    rounds = result["rounds"]
    assert [{c["key"]: c["count"] for c in r["counts"]} for r in rounds] == [
        {"memphis": 42, "nashville": 26, "chattanooga": 15, "knoxville": 17},
        {"memphis": 42, "nashville": 26, "knoxville": 32},
        {"memphis": 42, "knoxville": 58},
    ]
    assert [r["eliminated"] for r in rounds] == ["chattanooga", "nashville", None]
    assert rounds[0]["transfers"] == {
        "from": "chattanooga",
        "to": [{"key": "knoxville", "count": 15}],
        "exhausted": 0,
    }
    assert rounds[1]["transfers"] == {
        "from": "nashville",
        "to": [{"key": "knoxville", "count": 26}],
        "exhausted": 0,
    }
    assert result["winner"] == "knoxville"
    assert rounds[-1]["threshold"] == 51
    assert not any(r["tie_break_used"] for r in rounds)


def test_equal_shares_reproduces_the_red_and_blue_example():
    """Wikipedia "Method of equal shares" (Motivation), after Peters and Skowron: 51% of voters support
    10 red projects, 49% support 10 blue projects, money for 10 projects. Greedy (knapsack) voting
    picks the 10 red projects; the Method of Equal Shares picks 5 red and 5 blue. Here 100 voters,
    each project £10,000, budget £100,000; completion by "add one" as equalshares.net describes."""
    red = [f"red{i}" for i in range(10)]
    blue = [f"blue{i}" for i in range(10)]
    order = red + blue
    costs = dict.fromkeys(order, 10_000)
    ballots = [red] * 51 + [blue] * 49
    mes = tallies.equal_shares(ballots, costs, 100_000, order)
    funded = mes["funded"]
    assert sum(k.startswith("red") for k in funded) == 5
    assert sum(k.startswith("blue") for k in funded) == 5
    assert mes["spent"] == 100_000
    # Without completion: the reds' £51,000 pays for 5 projects, the blues' £49,000 for only 4.
    assert len(tallies.mes_fixed_share(ballots, costs, Fraction(1000), order)) == 9
    assert mes["completion"]["ended"] == "exhaustive"
    greedy = tallies.greedy_budget(
        Counter(k for b in ballots for k in b), costs, 100_000, order, ballots=len(ballots)
    )
    assert sorted(greedy["funded"]) == sorted(red)


def test_yes_no_abstentions_do_not_decide_and_a_tie_does_not_carry():
    assert tallies.yes_no_result({"yes": 3, "no": 2, "abstain": 10})["outcome"] == "yes"
    tie = tallies.yes_no_result({"yes": 2, "no": 2, "abstain": 1})
    assert tie["outcome"] == "tie" and not tie["carried"]
    assert tallies.yes_no_result({"abstain": 4})["outcome"] == "none"


def test_plurality_tie_is_shown_and_broken_by_ballot_order():
    result = tallies.ranking_result({"b": 2, "a": 2, "c": 1}, ["a", "b", "c"], ballots=5, method="plurality")
    assert result["winner"] == "a" and result["tied"] == ["a", "b"]


def test_irv_tie_for_last_uses_earlier_rounds_then_ballot_order():
    # Round 1: a 3, b 2, c 2, d 1 -> d eliminated, its ballot goes to c: a 3, b 2, c 3.
    # b is lowest alone -> eliminated; no tie. Build a real tie instead:
    ballots = [["a"]] * 3 + [["b"]] * 2 + [["c"]] * 2
    result = tallies.instant_runoff(ballots, ["a", "b", "c"])
    first = result["rounds"][0]
    assert first["tie_break_used"] and first["eliminated"] == "c"  # level throughout: listed last goes
    ballots = [["a"]] * 4 + [["b"]] * 2 + [["c"]] * 1 + [["d", "c"]] * 1 + [["e", "b"]] * 0
    result = tallies.instant_runoff(ballots, ["a", "b", "c", "d"])
    # Round 1: a4 b2 c1 d1: c and d tie on 1 with no earlier round -> d (listed last) eliminated.
    # Round 2: a4 b2 c2 -> b and c tie on 2; in round 1 c had 1, b had 2 -> c eliminated.
    assert [r["eliminated"] for r in result["rounds"][:2]] == ["d", "c"]
    assert result["rounds"][1]["tie_break_used"]


def test_irv_counts_exhausted_ballots():
    ballots = [["a"]] * 2 + [["b"]] * 2 + [["c", "b"]] + [["c"]]
    result = tallies.instant_runoff(ballots, ["a", "b", "c"])
    assert result["rounds"][0]["eliminated"] == "c"
    assert result["rounds"][0]["transfers"] == {"from": "c", "to": [{"key": "b", "count": 1}], "exhausted": 1}
    assert result["rounds"][1]["exhausted"] == 1
    assert result["winner"] == "b"


def test_empty_elections():
    assert tallies.instant_runoff([], ["a", "b"])["winner"] is None
    assert tallies.equal_shares([], {"a": 5}, 10, ["a"])["funded"] == []
    assert tallies.score_result({}, ["a"], ballots=0)["winner"] is None


def test_decimal_rounds_half_up_exactly():
    assert tallies._decimal(Fraction(1, 8)) == "0.13"
    assert tallies._decimal(Fraction(10, 3)) == "3.33"
    assert tallies._decimal(Fraction(5, 1)) == "5.00"


# -- brute-force references ----------------------------------------------------------------------

OPTIONS = ["a", "b", "c", "d", "e"]


def ref_irv(ballots, order):
    remaining = list(order)
    history = []
    while remaining:

        def first(ballot, remaining=remaining):
            for key in ballot:
                if key in remaining:
                    return key
            return None

        counts = {c: sum(1 for b in ballots if first(b) == c) for c in remaining}
        history.append(counts)
        active = sum(counts.values())
        if active == 0:
            return None, len(history)
        for c in remaining:
            if 2 * counts[c] > active:
                return c, len(history)
        if len(remaining) == 1:
            return remaining[0], len(history)
        low = min(counts.values())
        tied = [c for c in remaining if counts[c] == low]
        for past in reversed(history[:-1]):
            least = min(past[c] for c in tied)
            tied = [c for c in tied if past[c] == least]
        remaining.remove(max(tied, key=order.index))
    return None, len(history)


def ref_cap(money, backers, cost):
    """Brute force: try every set of supporters who pay everything they have."""
    best = None
    for size in range(len(backers)):
        for pay_all in combinations(backers, size):
            rest = [i for i in backers if i not in pay_all]
            cap = (Fraction(cost) - sum(money[i] for i in pay_all)) / len(rest)
            if all(money[i] <= cap for i in pay_all) and all(money[i] >= cap for i in rest):
                best = cap if best is None else min(best, cap)
    return best


def ref_mes_fixed(ballots, costs, share, order):
    money = [Fraction(share)] * len(ballots)
    supporters = {k: [i for i, b in enumerate(ballots) if k in b] for k in order}
    chosen = []
    while True:
        options = []
        for k in order:
            if k in chosen or not supporters[k] or sum(money[i] for i in supporters[k]) < costs[k]:
                continue
            cap = ref_cap(money, supporters[k], costs[k])
            options.append((cap / costs[k], costs[k], -len(supporters[k]), order.index(k), k, cap))
        if not options:
            return chosen
        *_rank, key, cap = min(options)
        for i in supporters[key]:
            money[i] -= min(money[i], cap)
        chosen.append(key)


orders = st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=5, unique=True)


@st.composite
def ranked_elections(draw):
    order = draw(orders)
    ballot = st.lists(st.sampled_from(order), max_size=len(order), unique=True)
    return order, draw(st.lists(ballot, max_size=12))


@st.composite
def approval_elections(draw):
    order = draw(orders)
    ballot = st.lists(st.sampled_from(order), min_size=1, max_size=len(order), unique=True)
    costs = {k: draw(st.integers(min_value=1, max_value=30)) for k in order}
    return order, draw(st.lists(ballot, min_size=0, max_size=6)), costs, draw(st.integers(1, 60))


@settings(max_examples=200, deadline=None)
@given(ranked_elections())
def test_irv_matches_a_brute_force_reference(election):
    order, ballots = election
    result = tallies.instant_runoff(ballots, order)
    winner, rounds = ref_irv(ballots, order)
    assert result["winner"] == winner
    assert len(result["rounds"]) == rounds
    for r in result["rounds"]:
        assert sum(c["count"] for c in r["counts"]) + r["exhausted"] == len(ballots)
        assert r["active"] == len(ballots) - r["exhausted"]
    for before, after in zip(result["rounds"], result["rounds"][1:], strict=False):
        assert after["exhausted"] >= before["exhausted"]
        moved = before["transfers"]
        assert sum(t["count"] for t in moved["to"]) + moved["exhausted"] == next(
            c["count"] for c in before["counts"] if c["key"] == moved["from"]
        )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(OPTIONS), max_size=30))
def test_plurality_matches_counting(ballots):
    order = OPTIONS
    counts = tallies.count_choices(ballots)
    assert counts == dict(Counter(ballots))
    result = tallies.ranking_result(counts, order, ballots=len(ballots), method="plurality")
    if ballots:
        best = max(Counter(ballots).values())
        expected = next(k for k in order if Counter(ballots)[k] == best)
        assert result["winner"] == expected
    else:
        assert result["winner"] is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(OPTIONS), st.integers(0, 5), min_size=1), max_size=20))
def test_score_means_match_brute_force(ballots):
    distributions = tallies.count_scores(ballots)
    result = tallies.score_result(distributions, OPTIONS, ballots=len(ballots))
    for row in result["rows"]:
        given_scores = [b[row["key"]] for b in ballots if row["key"] in b]
        assert row["scored"] == len(given_scores)
        if given_scores:
            assert (
                row["mean_exact"] == f"{Fraction(sum(given_scores), len(given_scores)).numerator}/"
                f"{Fraction(sum(given_scores), len(given_scores)).denominator}"
            )
        else:
            assert row["mean"] is None


@settings(max_examples=200, deadline=None)
@given(approval_elections())
def test_greedy_budget_matches_a_reference_and_stays_within_budget(election):
    order, ballots, costs, budget = election
    votes = tallies.count_selections(ballots)
    result = tallies.greedy_budget(votes, costs, budget, order, ballots=len(ballots))
    remaining, expected = budget, []
    for k in sorted(order, key=lambda k: (-votes.get(k, 0), costs[k], order.index(k))):
        if votes.get(k, 0) and costs[k] <= remaining:
            expected.append(k)
            remaining -= costs[k]
    assert result["funded"] == expected
    assert result["spent"] == sum(costs[k] for k in expected) <= budget


@settings(max_examples=150, deadline=None)
@given(approval_elections())
def test_equal_shares_matches_a_brute_force_reference(election):
    order, ballots, costs, budget = election
    if not ballots:
        return
    supporters = {k: [i for i, b in enumerate(ballots) if k in b] for k in order}
    share = Fraction(budget, len(ballots))
    assert tallies.mes_fixed_share(ballots, costs, share, order) == ref_mes_fixed(
        ballots, costs, share, order
    )
    full = tallies.equal_shares(ballots, costs, budget, order)
    assert full["spent"] == sum(costs[k] for k in full["funded"]) <= budget
    assert full["funded_by_equal_shares"] + full["funded_by_completion"] == full["funded"]
    # Every project funded by Equal Shares is supported by someone.
    assert all(supporters[k] for k in full["funded"])
