"""Questionnaires benchmark: answering a page, the staff response list, and the CSV export.

Builds (once) a consultation whose 12-question questionnaire has ``--responses`` submitted responses
(100,000 by default) in a database of its own, then measures in-process with Django's test client
(the full middleware, view and template stack, no network): answering a question page, the first and
a middle page of the officers' response list, and streaming the CSV export of every response (in a
fresh process, so its peak memory is the export's own). It prints numbers and asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/townhall_bench \
        .venv/bin/python bench/questionnaires_bench.py
    .venv/bin/python bench/questionnaires_bench.py --responses 20000     # SQLite file in /tmp

Targets (issue 13): answering a page in-process median <= 20 ms; the response list <= 100 ms a page;
the CSV export of 100,000 responses <= 30 s with peak RSS under 300 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TITLE = "Bench questionnaire"
CHANNELS = ["online", "paper", "email", "phone", "event"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument(
        "--db", default=str(Path(tempfile.gettempdir()) / "townhall-questionnaires-bench.sqlite3")
    )
    parser.add_argument("--export-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def setup(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    import django

    django.setup()


def page(*items, title="", condition=None) -> dict:
    return {"type": "page", "value": {"title": title, "condition": condition or {}, "items": list(items)}}


def q(kind: str, code: str, text: str, **extra) -> dict:
    value = {"code": code, "text": text, "hint": "", "required": False, "condition": {}}
    if "options" in extra:
        extra["options"] = [{"type": "item", "value": o} for o in extra["options"]]
    value.update(extra)
    return {"type": kind, "value": value}


def twelve_questions() -> list[dict]:
    return [
        page(
            q(
                "single_choice",
                "travel",
                "How do you travel?",
                options=["Bus", "Car", "Walk"],
                allow_other=True,
            ),
            q("agreement", "agree", "The plan is right for the town"),
            q("multiple_choice", "improve", "What should improve?", options=["Seats", "Lights", "Paths"]),
            q("long_text", "why", "Why?", max_length=1200),
        ),
        page(
            q(
                "agreement",
                "bus",
                "The bus station should move",
            ),
            q("long_text", "bus-why", "Why do you say that?", max_length=1200),
            title="Buses",
            condition={"code": "travel", "op": "is", "value": "Bus"},
        ),
        page(
            q("ranking", "rank", "Rank these", options=["Cost", "Speed", "Safety"]),
            q("number", "visits", "Visits a month", min="0", max="100", whole=True),
            q("date", "last", "Last visit"),
            q("postcode", "postcode", "Postcode"),
            q("short_text", "name-it", "One word for the centre"),
            q("long_text", "else", "Anything else?", max_length=2000),
        ),
    ]


def build(n: int):
    from django.core.management import call_command
    from django.utils import timezone
    from wagtail.models import Page, Site

    from cms.models import HomePage
    from consultations.models import ConsultationIndexPage, ConsultationPage, Phase
    from questionnaires.models import Questionnaire, Response, Status
    from questionnaires.services import version_current

    call_command("migrate", verbosity=0)
    questionnaire = Questionnaire.objects.filter(title=TITLE).select_related("consultation").first()
    if questionnaire is None:
        root = Page.get_first_root_node()
        home = HomePage.objects.first()
        if home is None:
            home = root.add_child(instance=HomePage(title="Home", slug="bench-home", intro="<p>Bench</p>"))
            Site.objects.update_or_create(
                is_default_site=True, defaults={"hostname": "testserver", "root_page": home}
            )
        index = home.add_child(
            instance=ConsultationIndexPage(title="Consultations", slug="bench-consultations")
        )
        start = timezone.now() - timezone.timedelta(days=1)
        consultation = ConsultationPage(
            title="Bench consultation", slug="bench-consultation", summary="Bench"
        )
        consultation.phases = [
            Phase(kind="information", starts_at=start, ends_at=start + timezone.timedelta(days=300))
        ]
        index.add_child(instance=consultation)
        consultation.save_revision().publish()
        questionnaire = Questionnaire(
            consultation=consultation, title=TITLE, respondents="anonymous", pages=twelve_questions()
        )
        questionnaire.full_clean()
        questionnaire.save()
    have = Response.objects.filter(questionnaire=questionnaire, status=Status.SUBMITTED).count()
    if have < n:
        version = version_current(questionnaire=questionnaire)
        keyer = officer()
        today = timezone.localdate()
        started = time.monotonic()
        now = timezone.now()
        batch = []
        for i in range(have, n):
            answers = {
                "travel": {"selected": [["Bus", "Car", "Walk"][i % 3]], "other": ""},
                "agree": ["Agree", "Disagree", "Strongly agree", "Don't know"][i % 4],
                "improve": {"selected": ["Seats", "Lights"][: 1 + i % 2], "other": ""},
                "why": f"Because of reason {i % 97}: the square is busy on market day, the paths narrow.",
                "rank": ["Cost", "Speed", "Safety"],
                "visits": str(i % 30),
                "postcode": "TW1 1AA",
                "else": "More trees, fewer cars, better lighting by the river walk. " * 3,
            }
            if i % 3 == 0:
                answers.update({"bus": "Agree", "bus-why": "It is too far from the station."})
            batch.append(
                Response(
                    questionnaire=questionnaire,
                    version=version,
                    status=Status.SUBMITTED,
                    reference=f"TH-B{i:07d}",
                    submitted_at=now,
                    respondent_type="individual",
                    connection=["live"],
                    publication_consent="anonymous",
                    answers=answers,
                    channel=CHANNELS[i % 5],
                    keyed_by=keyer if i % 5 else None,
                    received_on=today if i % 5 else None,
                    pages_saved=[1, 3],
                )
            )
            if len(batch) == 5000:
                Response.objects.bulk_create(batch)
                batch = []
        Response.objects.bulk_create(batch)
        print(f"stored {n - have:,} responses in {time.monotonic() - started:.1f} s")
    from django.db import connection

    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum would gather soon after a bulk load.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE questionnaires_response")
    return questionnaire


def officer():
    from accounts import roles
    from accounts.models import User

    user, _ = User.objects.get_or_create(
        email="bench-officer@example.org", defaults={"display_name": "Bench officer"}
    )
    roles.grant(user, roles.OFFICER)
    return user


def timed(fn, iterations: int) -> tuple[float, float]:
    times = []
    for _ in range(iterations):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


def measure(questionnaire, iterations: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    pk = questionnaire.pk
    client = Client()
    client.post(
        reverse("questionnaires:start", kwargs={"pk": pk}),
        {"respondent_type": "individual", "connection": ["live"], "publication_consent": "private"},
    )
    answer_url = reverse("questionnaires:page", kwargs={"pk": pk, "number": 3})
    data = {
        "q-rank-0": "1",
        "q-rank-1": "2",
        "q-rank-2": "3",
        "q-visits": "4",
        "q-last-day": "1",
        "q-last-month": "11",
        "q-last-year": "2026",
        "q-postcode": "TW1 1AA",
        "q-else": "More trees",
    }

    def answer():
        assert client.post(answer_url, data).status_code == 302

    staff = Client()
    staff.force_login(officer())
    list_url = reverse("questionnaires:responses", kwargs={"pk": pk})

    rows = []
    for name, fn in [
        ("answering a question page (POST)", answer),
        ("response list, first page (officer)", lambda: staff.get(list_url)),
        ("response list, page 1,000 (officer)", lambda: staff.get(list_url + "?page=1000")),
    ]:
        fn()
        with CaptureQueriesContext(connection) as captured:
            fn()
        queries = len(captured)  # before more requests: each one starts by resetting the query log
        median, p90 = timed(fn, iterations)
        rows.append((name, median, p90, queries))
    print(f"{'request':40} {'median ms':>10} {'p90 ms':>8} {'queries':>8}")
    for name, median, p90, queries in rows:
        print(f"{name:40} {median:10.1f} {p90:8.1f} {queries:8d}")


def export_only(args) -> None:
    setup(args)
    from django.test import Client
    from django.urls import reverse

    from questionnaires.models import Questionnaire

    questionnaire = Questionnaire.objects.get(title=TITLE)
    client = Client()
    client.force_login(officer())
    started = time.monotonic()
    response = client.get(reverse("questionnaires:export_csv", kwargs={"pk": questionnaire.pk}))
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"CSV export: {lines - 1:,} responses, {size / 1e6:.1f} MB in {elapsed:.1f} s; peak RSS {peak:.0f} MB"
    )


def main() -> None:
    args = parse_args()
    if args.export_only:
        export_only(args)
        return
    setup(args)
    from django.db import connection

    questionnaire = build(args.responses)
    print(f"database: {connection.vendor}, responses: {questionnaire.responses.count():,}")
    measure(questionnaire, args.iterations)
    subprocess.run([sys.executable, __file__, "--export-only", "--db", args.db], check=True, env=os.environ)  # noqa: S603


if __name__ == "__main__":
    main()
