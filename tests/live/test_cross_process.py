"""Several ASGI workers behind one Redis channel layer: a ballot cast through one worker reaches the
watchers on another, and killing a worker mid-vote loses no acknowledged ballot.

These tests start two real daphne processes on the test database and talk to them with websocket
clients, as browsers behind a load balancer would. They need Redis (``REDIS_URL``), so they run in the
PostgreSQL + Redis leg of CI (``.ci/run``) and are skipped in the default SQLite, in-memory leg.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from tests import factories
from tests.live.conftest import session_cookie
from voting import live, protocol
from voting.models import Ballot, TallyCount

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="needs a Redis channel layer shared by two daphne workers: set REDIS_URL "
        "(the PostgreSQL + Redis leg of .ci/run does)",
    ),
]

ROOT = Path(settings.BASE_DIR)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Worker:
    def __init__(self, db_name: str):
        self.port = _free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log", delete=False)  # noqa: SIM115
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "TOWNHALL_LIVE_SERVER_DB": db_name,
            "TOWNHALL_LIVE_SERVER_MAIL_DIR": tempfile.mkdtemp(),
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter and arguments
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "config.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(Path(self.log.name).read_text()[-3000:]) from None
                time.sleep(0.2)

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def workers(live_db):
    db_name = str(connection.settings_dict["NAME"])
    started = [Worker(db_name), Worker(db_name)]
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
def open_question(live_db):
    host = factories.CouncillorFactory()
    session = live.live_session_create(host=host, title="Full council")
    question = live.live_session_add_question(session=session, title="Motion", kind="yes_no", options=[])
    live.live_session_open_question(session=session, item=question.live_item)
    return question


async def _connect(url: str, cookie: str | None = None):
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else None
    return await websockets.connect(
        url, origin="http://127.0.0.1", additional_headers=headers, proxy=None, open_timeout=10
    )


async def _next(ws, type_: str, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(
            await asyncio.wait_for(ws.recv(), timeout=max(0.01, deadline - time.monotonic()))
        )
        if message["type"] == type_:
            return message


def _yes(payload: dict) -> int:
    return {row["key"]: row["count"] for row in payload["tally"]["result"]["rows"]}["yes"]


async def test_a_ballot_cast_through_one_worker_reaches_watchers_on_another(workers, open_question):
    a, b = workers
    path = f"/ws/questions/{open_question.pk}/"
    watcher = await _connect(a.url(path))
    try:
        await _next(watcher, protocol.SNAPSHOT)
        resident = await sync_to_async(factories.ResidentFactory)()
        voter = await _connect(b.url(path), await sync_to_async(session_cookie)(resident))
        await _next(voter, protocol.SNAPSHOT)
        await voter.send(json.dumps({"type": "vote", "id": 1, "payload": {"data": {"choice": "yes"}}}))
        ack = await _next(voter, protocol.ACK)
        update = await _next(watcher, protocol.TALLY)
        assert update["payload"]["version"] >= ack["payload"]["seq"]
        assert _yes(update["payload"]) == 1
        await voter.close()
    finally:
        await watcher.close()


async def test_killing_a_worker_mid_vote_loses_no_acknowledged_ballot(workers, open_question):
    """Voters on worker B; B is killed while they vote; they and the watchers reconnect to A. Every
    acknowledged ballot is in the database, and every watcher shows the right tally within 2 s."""
    a, b = workers
    path = f"/ws/questions/{open_question.pk}/"
    residents = await sync_to_async(factories.ResidentFactory.create_batch)(20)
    cookies = [await sync_to_async(session_cookie)(r) for r in residents]
    watchers = [await _connect(w.url(path)) for w in (a, b, a, b)]
    for ws in watchers:
        await _next(ws, protocol.SNAPSHOT)
    acked: set[int] = set()
    first_ack = asyncio.Event()

    async def vote(index: int) -> None:
        try:
            ws = await _connect(b.url(path), cookies[index])
            await _next(ws, protocol.SNAPSHOT)
            await ws.send(json.dumps({"type": "vote", "id": index, "payload": {"data": {"choice": "yes"}}}))
            await _next(ws, protocol.ACK)
            acked.add(index)
            first_ack.set()
        except (OSError, websockets.exceptions.WebSocketException, TimeoutError):
            return

    first = [asyncio.create_task(vote(i)) for i in range(10)]
    await asyncio.wait_for(first_ack.wait(), timeout=10)  # votes are flowing: now the worker dies
    await sync_to_async(b.kill)()
    await asyncio.gather(*first)
    # Everyone on B reconnects through the load balancer, which now only has A.
    watchers = [ws if i % 2 == 0 else await _connect(a.url(path)) for i, ws in enumerate(watchers)]
    for i in range(10, 20):
        ws = await _connect(a.url(path), cookies[i])
        await _next(ws, protocol.SNAPSHOT)
        await ws.send(json.dumps({"type": "vote", "id": i, "payload": {"data": {"choice": "yes"}}}))
        await _next(ws, protocol.ACK)
        acked.add(i)
        await ws.close()

    stored = await sync_to_async(set)(
        Ballot.objects.filter(question=open_question).values_list("voter_id", flat=True)
    )
    assert {residents[i].pk for i in acked} <= stored
    total = await sync_to_async(lambda: TallyCount.objects.get(question=open_question, key="yes").count)()
    assert total == len(stored)

    deadline = time.monotonic() + 2.0
    for ws in watchers:
        seen = -1
        while seen != total:
            message = json.loads(
                await asyncio.wait_for(ws.recv(), timeout=max(0.01, deadline - time.monotonic()))
            )
            if message["type"] in (protocol.TALLY, protocol.SNAPSHOT) and "tally" in message["payload"]:
                seen = _yes(message["payload"])
        await ws.close()
