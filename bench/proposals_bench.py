"""Proposals benchmark: the proposal list, a proposal page with its whole thread, and posting a support.

Workload (the adhocracy+ comparison): 1 consultation, 200 proposals, 2,000 comments, 500+ residents,
10,000 supports, built by ``manage.py seed_demo --scale 2`` into a database of its own. Each request
runs in-process through Django's test client (the full middleware and template stack, no network);
the script prints the median and 90th-percentile server time and the query count of each. It is a
measurement, not a test: it asserts nothing and is never collected by pytest.

    .venv/bin/python bench/proposals_bench.py                 # SQLite file in /tmp, built once
    .venv/bin/python bench/proposals_bench.py --rebuild       # start from an empty database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/townhall_bench .venv/bin/python bench/proposals_bench.py

Targets (issue 4): list and proposal page each <= 30 ms median and <= 15 queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument(
        "--db",
        default=str(Path(tempfile.gettempdir()) / "townhall-proposals-bench.sqlite3"),
        help="SQLite file to use when DATABASE_URL is not set.",
    )
    parser.add_argument("--scale", type=int, default=2, help="seed_demo --scale (2 = the issue's workload).")
    parser.add_argument("--rebuild", action="store_true", help="Delete the SQLite file and seed again.")
    return parser.parse_args()


def setup(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if not os.environ.get("DATABASE_URL"):
        if args.rebuild and os.path.exists(args.db):
            os.remove(args.db)
        os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    import django

    django.setup()
    from django.core.management import call_command

    from proposals.models import Proposal

    call_command("migrate", verbosity=0)
    if not Proposal.objects.exists():
        started = time.monotonic()
        try:
            call_command("seed_demo", scale=args.scale, allow_production=True, quiet_logins=True)
        except Exception as exc:
            # Each demo module commits on its own; the proposals workload stands if its step finished.
            if not Proposal.objects.exists():
                raise
            print(
                f"\nseed_demo stopped after the proposals step ({type(exc).__name__}: {exc});"
                " the proposals workload is complete."
            )
        print(f"Workload built in {time.monotonic() - started:.0f} s\n")


def measure(label: str, request, iterations: int) -> tuple[float, float, int]:
    """Median and p90 milliseconds over ``iterations`` calls, and the query count of one more call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        request(warm=True)
    times = []
    for _ in range(iterations):
        started = time.perf_counter()
        request(warm=False)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        request(warm=False)
    times.sort()
    median = statistics.median(times)
    p90 = times[int(len(times) * 0.9) - 1]
    print(f"  {label:<44} median {median:6.1f} ms   p90 {p90:6.1f} ms   {len(ctx):3d} queries")
    return median, p90, len(ctx)


def main() -> None:
    args = parse_args()
    setup(args)
    from django.db.models import Count
    from django.test import Client

    from accounts.models import User
    from consultations.models import ConsultationPage
    from proposals.models import Comment, Proposal, Support

    park = ConsultationPage.objects.get(slug="riverside-park")
    proposals = Proposal.objects.filter(consultation=park)
    residents = User.objects.filter(groups__name="Residents", suspended_until__isnull=True)
    print(f"Database: {os.environ['DATABASE_URL'].split('@')[-1]}")
    print(
        f"Workload: 1 consultation, {proposals.count()} proposals, "
        f"{Comment.objects.filter(proposal__consultation=park).count()} comments, "
        f"{residents.count()} residents, "
        f"{Support.objects.filter(proposal__consultation=park).count()} supports\n"
    )
    busiest = proposals.annotate(n=Count("comments")).order_by("-n").first()
    eligible = list(
        residents.filter(ward__in=park.wards.all())
        .exclude(supports__proposal=busiest)
        .exclude(pk=busiest.author_id)
        .order_by("pk")
    )

    visitor = Client()
    resident = Client()
    resident.force_login(eligible[0])
    list_url = f"/proposals/{park.pk}/"
    detail_url = f"/proposals/p/{busiest.pk}/"
    print(f"Proposal page: “{busiest.title}” with {busiest.n} comments in its thread")

    def get(client, url):
        def request(warm: bool) -> None:
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        return request

    # Supports go to the least-supported proposal, each from a resident who has not supported it yet,
    # so repeated runs on the same database still measure first supports.
    target = proposals.order_by("support_count", "pk").first()
    supporters = iter(
        residents.filter(ward__in=park.wards.all())
        .exclude(supports__proposal=target)
        .exclude(pk=target.author_id)
        .exclude(pk=eligible[0].pk)
        .order_by("pk")[: args.iterations + 5]
    )

    def support(warm: bool) -> None:
        client = Client()
        client.force_login(next(supporters))
        started = time.perf_counter()
        response = client.post(f"/proposals/p/{target.pk}/support/")
        support.elapsed = time.perf_counter() - started  # type: ignore[attr-defined]
        assert response.status_code == 302

    rows = {}
    print("\nAs a visitor:")
    rows["list (visitor)"] = measure(
        "proposal list, 20 per page, most supported", get(visitor, list_url), args.iterations
    )
    rows["detail (visitor)"] = measure(
        "proposal page with its whole thread", get(visitor, detail_url), args.iterations
    )
    print("As a signed-in resident:")
    rows["list (resident)"] = measure(
        "proposal list, 20 per page, most supported", get(resident, list_url), args.iterations
    )
    rows["list contested (resident)"] = measure(
        "proposal list, most contested, budget only",
        get(resident, list_url + "?sort=contested&kind=budget"),
        args.iterations,
    )
    rows["detail (resident)"] = measure(
        "proposal page with its whole thread", get(resident, detail_url), args.iterations
    )

    # Posting a support: each iteration is a different resident's first support (a real insert and
    # counter update); sign-in happens outside the timed part.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(args.iterations):
        support(warm=False)
        times.append(support.elapsed * 1000)  # type: ignore[attr-defined]
    client = Client()
    client.force_login(next(supporters))
    with CaptureQueriesContext(connection) as ctx:
        client.post(f"/proposals/p/{target.pk}/support/")
    times.sort()
    print(
        f"  {'posting a support (then redirect)':<44} median {statistics.median(times):6.1f} ms   "
        f"p90 {times[int(len(times) * 0.9) - 1]:6.1f} ms   {len(ctx):3d} queries"
    )
    print("\nTargets: list and proposal page <= 30 ms median, <= 15 queries.")


if __name__ == "__main__":
    main()
