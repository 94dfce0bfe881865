"""Close codes and refusals as browsers receive them from the two servers docs/deployment.md names.

The test communicator hands a consumer's close code straight back; a real server may refuse it.
Daphne sends only 1000 and 3000-4999 from an application (anything else becomes 1011, with a traceback
in its log), so each socket here goes through a real daphne and a real uvicorn process. One server
process of each kind serves the whole module, on the test database and the in-memory channel layer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.db import connection

from tests import factories
from tests.live.conftest import session_cookie
from tests.live.test_consumers import _open_question
from tests.live.test_cross_process import SERVER_COMMANDS, Worker, _tail
from voting import protocol

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", params=sorted(SERVER_COMMANDS))
def server(request, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        db_name = str(connection.settings_dict["NAME"])
    worker = Worker(db_name, redis_url=None, server=request.param)
    worker.kind = request.param
    log = Path(worker.log.name)
    yield worker
    worker.stop()
    assert "Traceback" not in log.read_text(), _tail(worker)


@pytest.fixture
def question(live_db):
    return _open_question()


async def _connect(server, path: str, cookie: str | None = None):
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else None
    # The page's origin is the server's own, port included (config.origin).
    return await websockets.connect(
        server.url(path),
        origin=f"http://127.0.0.1:{server.port}",
        additional_headers=headers,
        proxy=None,
        open_timeout=10,
    )


async def _next(ws, type_: str) -> dict:
    while (message := json.loads(await ws.recv()))["type"] != type_:
        pass
    return message


async def _closed_with(ws) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await ws.recv()
    assert closed.value.rcvd is not None, "the server sent no close frame"
    return closed.value.rcvd.code


async def test_an_oversize_frame_closes_with_the_documented_code(server, question):
    ws = await _connect(server, f"/ws/questions/{question.pk}/")
    await _next(ws, protocol.SNAPSHOT)
    await ws.send(json.dumps({"type": "ping", "pad": "x" * protocol.MAX_FRAME_BYTES}))
    assert (await _next(ws, protocol.ERROR))["code"] == protocol.E_TOO_LARGE
    assert await _closed_with(ws) == protocol.CLOSE_TOO_LARGE


async def test_a_flood_closes_with_the_documented_code(server, question):
    ws = await _connect(server, f"/ws/questions/{question.pk}/")
    await _next(ws, protocol.SNAPSHOT)
    for i in range(protocol.RATE_BURST + protocol.FLOOD_CLOSE_AFTER + 20):
        await ws.send(json.dumps({"type": "ping", "id": i}))
    assert await _closed_with(ws) == protocol.CLOSE_POLICY


async def test_an_unknown_question_is_refused_with_the_documented_code_or_at_the_handshake(server, live_db):
    with pytest.raises(websockets.InvalidStatus) as refused:
        await _connect(server, "/ws/questions/987654/")
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/ws/questions/abc/",
        "/ws/questions/-1/",
        f"/ws/questions/{2**63}/",
        "/ws/live/K7P%00Q2/",
        "/ws/nowhere/",
    ],
)
async def test_a_malformed_or_unknown_path_is_refused_at_the_handshake_with_a_client_error(
    server, live_db, path
):
    with pytest.raises(websockets.InvalidStatus) as refused:
        await _connect(server, path)
    assert 400 <= refused.value.response.status_code < 500


async def test_deeply_nested_json_gets_an_error_frame_and_the_socket_stays_open(server, question):
    resident = await sync_to_async(factories.ResidentFactory)()
    ws = await _connect(
        server, f"/ws/questions/{question.pk}/", await sync_to_async(session_cookie)(resident)
    )
    await _next(ws, protocol.SNAPSHOT)
    await ws.send("[" * 2000 + "]" * 2000)
    assert (await _next(ws, protocol.ERROR))["code"] == protocol.E_TOO_DEEP
    await ws.send(json.dumps({"type": "ping", "id": "still-open"}))
    assert (await _next(ws, protocol.PONG))["id"] == "still-open"
    await ws.close()
