"""Several ASGI workers behind one Redis channel layer: a ballot cast through one worker reaches the
watchers on another; killing a worker, or restarting Redis, mid-vote loses no acknowledged ballot and
every watcher is back on the right tally within 2 s.

These tests start two real worker processes on the test database, one daphne and one uvicorn (the
two servers docs/deployment.md describes, which may serve side by side), and talk to them with
websocket clients, as browsers behind a load balancer would (the Redis restart runs a Redis server of
its own).
They need Redis (``REDIS_URL``), so they run in the PostgreSQL + Redis leg of CI (``.ci/run``) and are
skipped in the default SQLite, in-memory leg.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, connections

from tests import factories
from tests.live.conftest import session_cookie
from voting import live, protocol
from voting.models import Ballot, TallyCount

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="needs a Redis channel layer shared by two workers: set REDIS_URL "
        "(the PostgreSQL + Redis leg of .ci/run does)",
    ),
]

ROOT = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: How each server is started: as docs/deployment.md says, on a port of the test's choosing.
SERVER_COMMANDS = {
    "daphne": ["-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", "config.asgi:application"],
    "uvicorn": [
        "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--loop", "uvloop", "--http", "httptools",
        "--ws", "websockets-sansio", "--ws-per-message-deflate", "false", "--no-access-log",
        "config.asgi:application",
    ],
}  # fmt: skip


class Worker:
    def __init__(self, db_name: str, redis_url: str | None = None, *, server: str = "daphne"):
        self.port = _free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log", delete=False)  # noqa: SIM115
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "TOWNHALL_LIVE_SERVER_DB": db_name,
            "TOWNHALL_LIVE_SERVER_MAIL_DIR": tempfile.mkdtemp(),
            "PYTHONUNBUFFERED": "1",
            **({"REDIS_URL": redis_url} if redis_url else {}),
        }
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter and arguments
            [sys.executable, *(arg.format(port=self.port) for arg in SERVER_COMMANDS[server])],
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
                    raise RuntimeError(_tail(self)) from None
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


def _tail(worker: Worker) -> str:
    """The end of a worker's log, for a failure message."""
    return Path(worker.log.name).read_text()[-3000:]


@pytest.fixture(autouse=True)
async def _close_orm_thread_connection():
    """The ORM work these tests do through ``sync_to_async`` runs on asgiref's one thread for
    thread-sensitive code; its database connection is closed after each test, or it would outlive the
    run and keep the test database from being dropped."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def workers(live_db):
    db_name = str(connection.settings_dict["NAME"])
    started = [Worker(db_name, server="daphne"), Worker(db_name, server="uvicorn")]
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
    # The page's origin is the server's own, port included (config.origin).
    origin = "http://" + urlsplit(url).netloc
    return await websockets.connect(
        url, origin=origin, additional_headers=headers, proxy=None, open_timeout=10
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


async def test_the_host_moving_on_and_a_sign_out_reach_sockets_on_every_worker(workers, open_question):
    """Live-session and sign-out events travel as tallies do: once to each worker's hub, which hands
    them to its own sockets (no socket has a channel of its own)."""
    from tests.live.conftest import signed_in_client

    a, b = workers
    session = await sync_to_async(lambda: open_question.live_item.session)()
    second = await sync_to_async(live.live_session_add_question)(
        session=session, title="Motion two", kind="yes_no", options=[]
    )
    resident = await sync_to_async(factories.ResidentFactory)()
    client = await sync_to_async(signed_in_client)(resident)
    path = f"/ws/live/{session.code}/"
    visitor = await _connect(a.url(path))
    signed_in = await _connect(b.url(path), client.cookies["sessionid"].value)
    try:
        for ws in (visitor, signed_in):
            await _next(ws, protocol.SNAPSHOT)

        await sync_to_async(live.live_session_open_question)(session=session, item=second.live_item)
        for ws in (visitor, signed_in):
            state = await _next(ws, protocol.SESSION)
            assert state["payload"]["question"] == second.pk

        await sync_to_async(client.post)("/accounts/sign-out/")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _next(signed_in, protocol.SESSION)
        assert closed.value.rcvd.code == protocol.CLOSE_SIGNED_OUT
        await visitor.send(json.dumps({"type": "ping", "id": "still-here"}))
        assert (await _next(visitor, protocol.PONG))["id"] == "still-here"
    finally:
        await visitor.close()
        await signed_in.close()


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


class RedisServer:
    """A Redis server of this test's own, without persistence: a restart loses everything, as a
    crashed Redis without a disk does (group memberships, tally counters, queued messages)."""

    def __init__(self):
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - Debian's redis-server, our arguments
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                tempfile.gettempdir(),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis():
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed (.ci/run installs it)")
    server = RedisServer()
    yield server
    server.kill()


class Follower:
    """A watcher that behaves as ``static/js/live.js``: keeps the newest tally by epoch and seq, asks
    for a snapshot when it sees a gap, and reconnects half a second after its socket closes."""

    def __init__(self, url: str):
        self.url, self.yes, self.epoch, self.seq, self.reconnects = url, None, None, 0, 0
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                ws = await _connect(self.url)
                async for text in ws:
                    await self._on(ws, json.loads(text))
            except (OSError, websockets.exceptions.WebSocketException, TimeoutError):
                pass
            self.reconnects += 1
            await asyncio.sleep(0.5)

    async def _on(self, ws, message: dict) -> None:
        payload = message.get("payload") or {}
        if message["type"] not in (protocol.TALLY, protocol.SNAPSHOT) or "tally" not in payload:
            return
        if message["type"] == protocol.TALLY and payload["epoch"] == self.epoch:
            if payload["seq"] <= self.seq:
                return
            if payload["seq"] > self.seq + 1:
                await ws.send(json.dumps({"type": "snapshot.request", "id": None, "payload": {}}))
        self.epoch, self.seq, self.yes = payload["epoch"], payload["seq"], _yes(payload)
        self.changed.set()

    async def shows(self, total: int, deadline: float) -> bool:
        while self.yes != total:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                return self.yes == total
        return True

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def test_restarting_redis_mid_vote_loses_no_acknowledged_ballot(live_db, own_redis, open_question):
    """Redis is killed while residents vote through two workers and comes back empty. Votes cast
    meanwhile are kept (the database is the truth) and every watcher shows the right tally within 2 s
    of Redis being back, with no further vote to prompt a broadcast."""
    db_name = str(connection.settings_dict["NAME"])
    workers = [
        Worker(db_name, own_redis.url, server="daphne"),
        Worker(db_name, own_redis.url, server="uvicorn"),
    ]
    try:
        path = f"/ws/questions/{open_question.pk}/"
        residents = await sync_to_async(factories.ResidentFactory.create_batch)(24)
        cookies = [await sync_to_async(session_cookie)(r) for r in residents]
        followers = [Follower(w.url(path)) for w in (*workers, *workers)]
        for follower in followers:
            assert await follower.shows(0, time.monotonic() + 10)
        acked: set[int] = set()
        refused: list[str] = []

        async def vote(index: int) -> None:
            try:
                ws = await _connect(workers[index % 2].url(path), cookies[index])
                await _next(ws, protocol.SNAPSHOT)
                await ws.send(
                    json.dumps({"type": "vote", "id": index, "payload": {"data": {"choice": "yes"}}})
                )
                while True:
                    reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                    if reply["type"] == protocol.ACK:
                        acked.add(index)
                        break
                    if reply["type"] == protocol.ERROR:
                        refused.append(reply["payload"]["code"])
                        break
                await ws.close()
            except (OSError, websockets.exceptions.WebSocketException, TimeoutError):
                return

        await asyncio.gather(*(vote(i) for i in range(8)))
        assert len(acked) == 8  # before the fault everything goes through
        await sync_to_async(own_redis.kill)()
        await asyncio.gather(*(vote(i) for i in range(8, 16)))
        await asyncio.sleep(1)  # Redis stays down a while: heartbeats go missing
        await sync_to_async(own_redis.start)()
        back = time.monotonic()
        # No vote now: only the recovery can bring the watchers to the database's numbers.
        stored = await sync_to_async(set)(
            Ballot.objects.filter(question=open_question).values_list("voter_id", flat=True)
        )
        assert {residents[i].pk for i in acked} <= stored
        total = await sync_to_async(lambda: TallyCount.objects.get(question=open_question, key="yes").count)()
        assert total == len(stored)
        shown = [await follower.shows(total, back + 2.0) for follower in followers]
        assert all(shown), ([f.yes for f in followers], total, refused)
        # And the platform carries on as before: votes after the restart reach everyone.
        await asyncio.gather(*(vote(i) for i in range(16, 24)))
        after = sorted(i for i in acked if i >= 16)
        assert after == list(range(16, 24)), (refused, [_tail(w) for w in workers])
        total = await sync_to_async(lambda: TallyCount.objects.get(question=open_question, key="yes").count)()
        shown = [await follower.shows(total, time.monotonic() + 2.0) for follower in followers]
        assert all(shown), ([f.yes for f in followers], total)
        for follower in followers:
            await follower.stop()
    finally:
        for worker in workers:
            worker.stop()


async def test_a_password_change_closes_the_persons_sockets_on_every_worker(workers, open_question):
    """The notice goes to the person's group, as a sign-out goes to the browser session's: each worker's
    hub hands it to its sockets of that person, which find their sessions' password hash stale."""
    path = f"/ws/questions/{open_question.pk}/"
    resident = await sync_to_async(factories.ResidentFactory)()
    cookie = await sync_to_async(session_cookie)(resident)
    opened = [await _connect(worker.url(path), cookie) for worker in workers]
    bystander = await _connect(workers[0].url(path))
    try:
        for ws in (*opened, bystander):
            await _next(ws, protocol.SNAPSHOT)

        def change_password():
            resident.set_password("a new passphrase after a breach")
            resident.save()

        await sync_to_async(change_password)()
        for ws in opened:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await _next(ws, protocol.PONG)
            assert closed.value.rcvd.code == protocol.CLOSE_SIGNED_OUT
        await bystander.send(json.dumps({"type": "ping", "id": "still-here"}))
        assert (await _next(bystander, protocol.PONG))["id"] == "still-here"
    finally:
        for ws in (*opened, bystander):
            await ws.close()
