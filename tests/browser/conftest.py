"""Browser journeys: a real daphne server, real headless Chromium, axe-core on every page.

Every test here is marked ``browser`` and runs in its own pytest invocation (``make test`` does
this), because Playwright's sync API and the async websocket tests do not share a process well.

The server is a daphne child process reading the same test database; tests create their data
with ``live_db`` (a transactional database, so the server sees it). The ``th`` fixture drives the
page: every document that loads must pass axe-core (WCAG 2.2 A and AA rules) before the test moves
on, and any console error (a CSP violation, a script error) fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import ensure_wagtail_tree

ROOT = Path(settings.BASE_DIR)
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


_AXE_SOURCE: list[str] = []


_SETTLE_ANIMATIONS = """async () => {
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  for (const animation of document.getAnimations()) {
    if (Number.isFinite(animation.effect.getComputedTiming().endTime)) animation.finish();
  }
}"""


def _axe_source() -> str:
    if not _AXE_SOURCE:
        _AXE_SOURCE.append(AXE_PATH.read_text(encoding="utf-8") + "\n;true")
    return _AXE_SOURCE[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    mail_dir: Path
    process: subprocess.Popen
    env: dict[str, str]

    @staticmethod
    def text_of(message) -> str:
        """The plain-text body of a mail, whether it is plain text alone or has an HTML alternative."""
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        raise AssertionError(f"No plain-text part in the mail {message['Subject']!r}")

    def deliver(self) -> None:
        """Run the queued background jobs (mail among them) as a deployed worker would, until none is
        left: ``make run`` starts a worker beside the web server, and so does this, on demand."""
        subprocess.run(
            [sys.executable, "manage.py", "townhall_worker", "--batch", "--interval", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def emails(self) -> list:
        """Emails the server has sent, oldest first, as ``email.message.Message`` objects (after its
        queued mail has been delivered)."""
        self.deliver()
        files = sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
        messages = []
        for path in files:
            raw = path.read_bytes()
            for chunk in raw.split(b"-" * 79):
                if chunk.strip():
                    messages.append(message_from_bytes(chunk.strip()))
        return messages


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """A daphne server on a free port, on the test database. Started once per test run."""
    with django_db_blocker.unblock():
        db_name = str(connection.settings_dict["NAME"])
    mail_dir = tmp_path_factory.mktemp("mail")
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TOWNHALL_LIVE_SERVER_DB": db_name,
        "TOWNHALL_LIVE_SERVER_MAIL_DIR": str(mail_dir),
        "PYTHONUNBUFFERED": "1",
    }
    log = tempfile.NamedTemporaryFile(prefix="daphne-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"daphne did not start:\n{Path(log.name).read_text()[-4000:]}")
        time.sleep(0.2)
    yield LiveServer(url=url, mail_dir=mail_dir, process=process, env=env)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def live_db(transactional_db, daphne_server):
    """A committed database the live server can read, with the Wagtail tree and a home page."""
    from cms.models import HomePage

    # The server's own cache (rate limits, lockouts, cached links) starts empty for every test.
    with urllib.request.urlopen(f"{daphne_server.url}/__live-server__/reset", timeout=10) as response:  # noqa: S310
        assert response.status == 200
    root = ensure_wagtail_tree()
    from wagtail.models import Site

    home = HomePage(title="Home", slug="home-live", intro="<p>Have your say on what happens next.</p>")
    root.add_child(instance=home)
    home.save_revision().publish()
    Site.objects.all().delete()
    Site.objects.create(
        hostname="127.0.0.1", port=80, root_page=home, is_default_site=True, site_name="Townhall"
    )
    return home


@dataclass
class BrowserDriver:
    """A Playwright page that insists on an axe-core check of every document it loads."""

    page: object
    base_url: str
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    checked: int = 0

    def _on_load(self, _page=None) -> None:
        if self.loaded:
            # A new document arrived before the previous one was checked.
            self.skipped.extend(self.loaded)
        self.loaded = [self.page.url]

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        # A form answered with 400 (its errors shown) is expected; the browser logs it as an error.
        if message.text.startswith("Failed to load resource: the server responded with a status of 4") and (
            message.location.get("url") == self.page.url
        ):
            return
        self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        self.axe()
        return response

    def axe(self) -> None:
        """Run axe-core on the current document; any WCAG 2.2 A/AA violation fails the test."""
        self.page.wait_for_load_state("load")
        # Check the page as people read it once it has settled: a message still fading in (the Wagtail
        # admin's "saved" banner takes half a second) is blended with the page behind it and would be
        # measured at a contrast nobody sees. Finite animations and transitions jump to their end;
        # endless ones (spinners) are left alone.
        self.page.evaluate(_SETTLE_ANIMATIONS)
        # Evaluated through the DevTools protocol, which the page's strict CSP does not govern
        # (a <script> tag would be refused, as it should be).
        self.page.evaluate(_axe_source())
        result = self.page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']})",
            AXE_TAGS,
        )
        violations = result["violations"]
        if violations:
            lines = [f"axe-core found {len(violations)} violation(s) on {self.page.url}:"]
            for v in violations:
                targets = [node["target"] for node in v["nodes"][:5]]
                lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} -> {json.dumps(targets)}")
            pytest.fail("\n".join(lines))
        self.checked += 1
        self.loaded = []

    def submit(self, locator) -> None:
        """Click something that loads a new document, wait for it, then check it."""
        with self.page.expect_navigation():
            locator.click()
        self.axe()


@pytest.fixture
def browser(daphne_server):
    """A function-scoped headless Chromium (Debian's build)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: apt-get install chromium (the .ci/run script does this).")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def th(browser, daphne_server, live_db):
    """The page driver most journeys want: a fresh context on the live server, axe on every page."""
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    driver = BrowserDriver(page=page, base_url=daphne_server.url)
    page.on("load", driver._on_load)
    page.on("console", driver._on_console)
    page.on("pageerror", lambda exc: driver.console_errors.append(str(exc)))
    yield driver
    if driver.loaded:
        driver.axe()
    context.close()
    assert not driver.skipped, f"Pages loaded without an axe-core check: {driver.skipped}"
    assert not driver.console_errors, (
        f"Console errors (CSP violations or script errors): {driver.console_errors}"
    )
