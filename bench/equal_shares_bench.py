"""Equal Shares with its completion (``voting.tallies.equal_shares``), timed by electorate, number of
projects and budget. Pure computation: no database, no Django.

    .venv/bin/python -m bench.equal_shares_bench              # the table in the README
    .venv/bin/python -m bench.equal_shares_bench --quick      # the smaller sizes only

Ballots are made by a seeded generator: each voter approves 1 to 10 projects, drawn with a skewed
popularity (a few projects are much more popular than most), and projects cost £5,000 to £200,000 in
steps of £1,000, so a budget of a few million pounds funds a few dozen of them. The budget is a fixed
amount per voter (``--per-voter``, £40 and £100 by default), because the number of £1 steps the
completion takes grows with the share each voter starts with.
"""

from __future__ import annotations

import argparse
import random
import time

from voting import tallies

SIZES = [(2_000, 25), (10_000, 50), (10_000, 150), (50_000, 150)]
QUICK = [(2_000, 25), (10_000, 50)]


def election(voters: int, projects: int, seed: int = 1) -> tuple[list[set[str]], dict[str, int], list[str]]:
    rng = random.Random(seed)
    order = [f"p{i}" for i in range(projects)]
    costs = {key: rng.randrange(5, 200) * 1_000 for key in order}
    popularity = [rng.random() ** 2 for _ in order]
    ballots = [set(rng.choices(order, weights=popularity, k=rng.randint(1, 10))) for _ in range(voters)]
    return ballots, costs, order


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="only the smaller sizes")
    parser.add_argument("--per-voter", type=int, nargs="+", default=[40, 100], help="budget per voter, £")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best is printed")
    args = parser.parse_args()
    print(
        f"{'voters':>7} {'projects':>8} {'budget':>12} {'share':>8} {'steps':>6} {'counts':>6} {'ended':>12} "
        f"{'funded':>6} {'spent':>12} {'best s':>7} {'worst s':>7}"
    )
    for voters, projects in QUICK if args.quick else SIZES:
        ballots, costs, order = election(voters, projects)
        for per_voter in args.per_voter:
            budget = per_voter * voters
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                result = tallies.equal_shares(ballots, costs, budget, order)
                times.append(time.perf_counter() - started)
            completion = result["completion"]
            print(
                f"{voters:>7,} {projects:>8} {'£' + format(budget, ','):>12} "
                f"{'£' + completion['start_share']:>8} {completion['steps']:>6} "
                f"{completion['counts_run']:>6} {completion['ended']:>12} "
                f"{len(result['funded']):>6} {'£' + format(result['spent'], ','):>12} "
                f"{min(times):>7.2f} {max(times):>7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
