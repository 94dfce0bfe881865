#!/usr/bin/env python3
"""Production smoke test: deploy Townhall as docs/deployment.md describes and fetch every public page type.

With ``config.settings.production``, PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``) this script

1. migrates the database and loads the demo council (``--fresh-database`` drops and recreates it first),
2. runs ``collectstatic`` (the manifest storage production uses),
3. starts two daphne workers on their own ports, as behind a load balancer,
4. fetches one page of every public type, in turn from each worker, as a TLS-terminating proxy would send
   them (``X-Forwarded-Proto: https`` and the public host name), then every static file those pages and
   their stylesheets name, and opens a live socket on each worker,

and prints each fetch. It fails on any 5xx, an unexpected status, a missing static file, a page without
its security headers, a socket that does not answer, or a traceback in a worker's log.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/townhall_smoke REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python scripts/smoke_production.py --fresh-database
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_HOST = "townhall.example.org"
SIGN_IN = "/accounts/sign-in/"


@dataclass(frozen=True)
class Check:
    """One URL to fetch and the statuses it may answer with (a redirect's target is checked too)."""

    kind: str
    path: str
    statuses: tuple[int, ...] = (200,)
    redirect_to: str = ""


@dataclass
class Run:
    ports: list[int]
    failures: list[str] = field(default_factory=list)
    fetched: int = 0
    turn: int = 0
    static_seen: set[str] = field(default_factory=set)

    def next_port(self) -> int:
        self.turn += 1
        return self.ports[self.turn % len(self.ports)]

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"  FAIL {message}", flush=True)


class AssetLinks(HTMLParser):
    """The same-site URLs a page loads as it renders: stylesheets, icons, scripts and images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url = None
        if tag == "link" and (values.get("rel") or "") in {
            "stylesheet",
            "icon",
            "apple-touch-icon",
            "manifest",
        }:
            url = values.get("href")
        elif tag in {"script", "img"}:
            url = values.get("src")
        if url and url.startswith("/") and not url.startswith("//"):
            self.urls.append(url)


CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


def production_environment() -> dict[str, str]:
    env = dict(os.environ)
    database_url = env.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (production runs on PostgreSQL).")
    if not env.get("REDIS_URL"):
        sys.exit("Set REDIS_URL (production runs its channel layer and cache on Redis).")
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS=PUBLIC_HOST,
        WAGTAILADMIN_BASE_URL=f"https://{PUBLIC_HOST}",
        # Nothing here should send mail; if something tries, it is printed, not sent.
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        PYTHONUNBUFFERED="1",
    )
    return env


def recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"Database {name} created afresh.", flush=True)


def manage(env: dict[str, str], *arguments: str) -> None:
    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, check=True)  # noqa: S603
    print(f"manage.py {' '.join(arguments)}: {time.monotonic() - started:.1f} s", flush=True)


def start_workers(env: dict[str, str], ports: list[int], log_dir: Path) -> list[subprocess.Popen]:
    workers = []
    for port in ports:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        with (log_dir / f"worker-{port}.log").open("wb") as log:
            worker = subprocess.Popen(  # noqa: S603
                [*command, "config.asgi:application"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        workers.append(worker)
    return workers


def wait_until_ready(workers: list[subprocess.Popen], ports: list[int], log_dir: Path) -> None:
    deadline = time.monotonic() + 60
    for port, worker in zip(ports, workers, strict=True):
        while True:
            if worker.poll() is not None:
                log = (log_dir / f"worker-{port}.log").read_text(errors="replace")
                raise SystemExit(f"The worker on port {port} stopped:\n{log[-4000:]}")
            try:
                if request(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"The worker on port {port} did not answer /healthz within 60 s.")
            time.sleep(0.2)


def request(port: int, path: str, *, https: bool = True) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` from one worker as the proxy in front of it would send it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": PUBLIC_HOST, "User-Agent": "townhall-smoke"}
    if https:
        headers["X-Forwarded-Proto"] = "https"
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def fetch(run: Run, kind: str, path: str, statuses: tuple[int, ...]) -> tuple[int, dict[str, str], bytes]:
    port = run.next_port()
    started = time.monotonic()
    status, headers, body = request(port, path)
    run.fetched += 1
    took = (time.monotonic() - started) * 1000
    print(f"  {status} {path}  [{kind}, worker :{port}, {took:.0f} ms, {len(body):,} bytes]", flush=True)
    if status >= 500 or status not in statuses:
        run.fail(f"{path} ({kind}) answered {status}, expected {' or '.join(map(str, statuses))}")
    return status, headers, body


def check_page(run: Run, check: Check) -> None:
    status, headers, body = fetch(run, check.kind, check.path, check.statuses)
    if 300 <= status < 400:
        location = headers.get("location", "")
        if check.redirect_to and not urlsplit(location).path.startswith(check.redirect_to):
            run.fail(f"{check.path} redirected to {location!r}, expected {check.redirect_to}")
        elif urlsplit(location).path.startswith("/static/"):
            check_static(run, location)
        return
    if "text/html" not in headers.get("content-type", ""):
        return
    if "strict-transport-security" not in headers:
        run.fail(f"{check.path} has no Strict-Transport-Security header")
    if "content-security-policy" not in headers:
        run.fail(f"{check.path} has no Content-Security-Policy header")
    parser = AssetLinks()
    parser.feed(body.decode("utf-8", errors="replace"))
    for url in parser.urls:
        check_static(run, url)


def check_static(run: Run, url: str) -> None:
    path = urlsplit(url).path
    if path in run.static_seen:
        return
    run.static_seen.add(path)
    status, headers, body = fetch(run, "static", path, (200,))
    if status == 200 and not body:
        run.fail(f"{path} is empty")
    if status == 200 and headers.get("content-type", "").startswith("text/css"):
        for ref in CSS_URL.findall(body.decode("utf-8", errors="replace")):
            if ref.startswith(("data:", "#", "http:", "https:", "//")):
                continue
            check_static(run, urljoin(path, ref))


def check_socket(run: Run, port: int, question_id: int) -> None:
    from websockets.sync.client import connect

    path = f"/ws/questions/{question_id}/"
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        with connect(
            f"ws://{PUBLIC_HOST}{path}",
            sock=sock,
            origin=f"https://{PUBLIC_HOST}",
            additional_headers={"X-Forwarded-Proto": "https"},
            open_timeout=10,
        ) as ws:
            first = json.loads(ws.recv(timeout=10))
            ws.send(json.dumps({"type": "ping", "id": "smoke"}))
            reply = json.loads(ws.recv(timeout=10))
            while reply.get("type") != "pong":
                reply = json.loads(ws.recv(timeout=10))
    except Exception as exc:  # every way a socket can fail is a failure of the smoke test
        run.fail(f"websocket {path} on worker :{port}: {exc!r}")
        return
    finally:
        sock.close()
    run.fetched += 1
    print(f"  101 {path}  [live socket, worker :{port}, first frame {first.get('type')!r}, pong]", flush=True)


def public_checks() -> tuple[list[Check], int | None]:
    """One URL of every public page type, found in the demo council (read with production settings)."""
    import django

    django.setup()
    import rules
    from django.contrib.auth.models import AnonymousUser
    from wagtail.models import Page

    from cms.models import HomePage, StandardPage
    from consultations.models import ConsultationIndexPage, ConsultationPage
    from proposals.models import Comment, CommentState, Proposal, Visibility
    from voting.models import LiveSession, LiveSessionStatus, Question

    def first_url(model: type[Page]) -> str:
        page = model.objects.live().public().first()
        if page is None:
            raise SystemExit(f"The demo council has no published {model.__name__}.")
        return page.url

    checks = [
        Check("home page", first_url(HomePage)),
        Check("consultation index", first_url(ConsultationIndexPage)),
        *[Check("standard page", page.url) for page in StandardPage.objects.live().public()],
    ]
    consultations = ConsultationPage.objects.live().public()
    checks += [Check(f"consultation ({c.track}, {c.title[:30]})", c.url) for c in consultations[:4]]

    proposals = Proposal.objects.filter(visibility=Visibility.VISIBLE, consultation__in=consultations)
    proposal = proposals.first()
    if proposal is None:
        raise SystemExit("The demo council has no visible proposal.")
    cid = proposal.consultation_id
    checks += [
        Check("proposal list", f"/proposals/{cid}/"),
        Check("consultation thread", f"/proposals/{cid}/thread/"),
        Check("new proposal (sign in first)", f"/proposals/{cid}/new/", (302,), SIGN_IN),
    ]
    seen_kinds: set[str] = set()
    for item in proposals.order_by("pk")[:200]:
        if item.kind not in seen_kinds:
            seen_kinds.add(item.kind)
            checks.append(Check(f"proposal ({item.kind})", f"/proposals/p/{item.pk}/"))
    report = f"/proposals/report/proposal/{proposal.pk}/"
    checks.append(Check("report a proposal (sign in first)", report, (302,), SIGN_IN))
    edited = (
        Comment.objects.filter(state=CommentState.VISIBLE, proposal__in=proposals, revisions__isnull=False)
        .order_by("pk")
        .first()
    )
    if edited is not None:
        checks.append(Check("comment history", f"/proposals/comments/{edited.pk}/history/"))

    questions = Question.objects.filter(consultation__in=consultations).order_by("pk")
    seen_question_kinds: set[str] = set()
    open_question = None
    for question in questions:
        kind = type(question).__name__
        if open_question is None and question.is_open:
            open_question = question.pk
        if kind in seen_question_kinds:
            continue
        seen_question_kinds.add(kind)
        # Results hidden until close are refused to the public with a page that says so.
        public = rules.has_perm("voting.view_results", AnonymousUser(), question)
        checks += [
            Check(f"question ({kind})", f"/voting/questions/{question.pk}/"),
            Check(
                f"results ({kind}{'' if public else ', hidden until close'})",
                f"/voting/questions/{question.pk}/results/",
                (200,) if public else (403,),
            ),
        ]
    session = LiveSession.objects.filter(status=LiveSessionStatus.LIVE).first() or LiveSession.objects.first()
    checks.append(Check("live sessions: join", "/voting/live/"))
    if session is not None:
        checks += [
            Check("live session", f"/voting/live/{session.code}/"),
            Check("live session presenter screen", f"/voting/live/{session.code}/present/"),
            Check("live session QR code", f"/voting/live/{session.code}/qr.svg"),
            Check("live session host (sign in first)", f"/voting/live/{session.code}/host/", (302,), SIGN_IN),
        ]
    checks += [
        Check("register", "/accounts/register/"),
        Check("check your email", "/accounts/register/check-email/"),
        Check("sign in", SIGN_IN),
        Check("resend confirmation", "/accounts/verify/resend/"),
        Check("confirmation link not valid", "/accounts/verify/not-a-token/", (400,)),
        Check("reset password", "/accounts/password-reset/"),
        Check("reset password: sent", "/accounts/password-reset/sent/"),
        Check("profile (sign in first)", "/accounts/profile/", (302,), SIGN_IN),
        Check("Wagtail admin sign-in", "/admin/login/"),
        Check("Wagtail admin (sign in first)", "/admin/", (302,), "/admin/login/"),
        Check("council brand stylesheet", "/brand.css"),
        Check("health check", "/healthz"),
        Check("favicon", "/favicon.ico", (301,), "/static/"),
        Check("page not found", "/no-such-page/", (404,)),
    ]
    return checks, open_question


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh-database", action="store_true", help="Drop and recreate DATABASE_URL first.")
    parser.add_argument("--workers", type=int, default=2, help="How many daphne workers (default 2).")
    parser.add_argument("--port", type=int, default=8701, help="The first worker's port (default 8701).")
    args = parser.parse_args()
    started = time.monotonic()
    env = production_environment()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    os.environ.update(env)

    if args.fresh_database:
        recreate_database(env["DATABASE_URL"])
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "seed_demo", "--allow-production", "--quiet-logins")
    manage(env, "collectstatic", "--noinput", "--clear", "--verbosity", "0")
    manage(env, "check", "--deploy", "--fail-level", "WARNING")

    ports = [args.port + i for i in range(args.workers)]
    checks, open_question = public_checks()
    run = Run(ports=ports)
    with tempfile.TemporaryDirectory(prefix="townhall-smoke-") as logs:
        log_dir = Path(logs)
        workers = start_workers(env, ports, log_dir)
        try:
            wait_until_ready(workers, ports, log_dir)
            print(f"\n{len(workers)} production workers on ports {', '.join(map(str, ports))}; fetching:")
            status, headers, _ = request(ports[0], "/", https=False)
            print(f"  {status} / over plain HTTP -> {headers.get('location', '')}  [redirected to HTTPS]")
            if status != 301 or not headers.get("location", "").startswith(f"https://{PUBLIC_HOST}/"):
                run.fail(f"plain HTTP answered {status} {headers.get('location', '')}, expected 301 to https")
            for check in checks:
                check_page(run, check)
            if open_question is not None:
                for port in ports:
                    check_socket(run, port, open_question)
            else:
                run.fail("the demo council has no open question to watch over a socket")
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            for log in sorted(log_dir.glob("worker-*.log")):
                text = log.read_text(errors="replace")
                if "Traceback" in text:
                    run.fail(f"{log.name} has a traceback:\n{text[-4000:]}")

    summary = f"{run.fetched} fetches ({len(checks)} page checks, {len(run.static_seen)} static files)"
    if run.failures:
        print(f"\nProduction smoke test FAILED: {len(run.failures)} problem(s) in {summary}.")
        return 1
    print(f"\nProduction smoke test passed: {summary} in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
