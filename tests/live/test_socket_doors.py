"""The live sockets' side doors: bad paths, deep JSON, close codes every server delivers, and sockets
that close when the person behind them may no longer be signed in (a password change, a deactivation,
a deleted account), not only when they sign out."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from tests import factories
from tests.live.conftest import session_cookie, signed_in_client
from tests.live.test_consumers import _open_question
from voting import protocol
from voting.models import Ballot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def question(live_db):
    return _open_question()


async def receive(communicator, timeout=3):
    return json.loads(await communicator.receive_from(timeout=timeout))


# Paths --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/ws/questions/abc/",
        "/ws/questions/-1/",
        "/ws/questions/0/",
        f"/ws/questions/{2**63}/",
        "/ws/questions/1/extra/",
        "/ws/questions/",
        "/ws/live/K7P%00Q2/",
        "/ws/live/%00/",
        f"/ws/live/{'K' * 100}/",
        "/ws/nowhere/",
        "/",
        "/ws/moderation/%00/",
    ],
)
async def test_a_socket_to_a_malformed_or_unknown_path_is_refused_at_the_handshake(sockets, live_db, path):
    """Refused before it is accepted (daphne and uvicorn answer the upgrade request with 403), never a
    server error: ``connect`` would raise if the application failed."""
    communicator = await sockets(path)
    assert not communicator.accepted
    assert communicator.close_code == protocol.CLOSE_NOT_FOUND


def _hostile_socket_paths() -> list[str]:
    """Every websocket route with a parameter, generated from the routing, with each parameter set to
    each hostile value the HTTP routes are probed with (tests/security/test_hostile_urls.py)."""
    from config.routing import websocket_urlpatterns
    from tests.security.test_hostile_urls import HOSTILE, PARAMETER, _fill

    routes = [str(route.pattern) for route in websocket_urlpatterns if "<" in str(route.pattern)]
    assert routes, "the websocket routing has no parameterised routes"
    return [
        _fill(route, value, match.group("name"))
        for route in routes
        for match in PARAMETER.finditer(route)
        for value in HOSTILE.values()
    ]


async def test_every_parameterised_socket_route_refuses_hostile_parameters_at_the_handshake(sockets, live_db):
    for path in _hostile_socket_paths():
        communicator = await sockets(path)  # the communicator decodes %00, as servers do
        assert not communicator.accepted, path
        assert communicator.close_code == protocol.CLOSE_NOT_FOUND, path


async def test_a_live_session_code_is_found_whatever_its_case(sockets, question):
    session = await sync_to_async(lambda: question.live_item.session)()
    communicator = await sockets(f"/ws/live/{session.code.lower()}/")
    assert communicator.accepted


# Frames -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "frame",
    [
        "[" * 2000 + "]" * 2000,
        '{"type": "vote", "payload": {"data": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}}",
        '{"type": "ping", "id": 1, "payload": {"x": [[[[[[[[[1]]]]]]]]]}}',
    ],
    ids=["arrays", "objects-in-a-vote", "just-over-the-limit"],
)
async def test_deeply_nested_json_under_the_size_limit_gets_an_error_frame(sockets, question, voter, frame):
    assert len(frame.encode()) <= protocol.MAX_FRAME_BYTES
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=await sync_to_async(session_cookie)(voter))
    await receive(socket)
    await socket.send_to(text_data=frame)
    error = await receive(socket)
    assert error["type"] == protocol.ERROR and error["code"] == protocol.E_TOO_DEEP and error["message"]
    await socket.send_json_to({"type": "ping", "id": "still-open"})
    assert (await receive(socket))["id"] == "still-open"
    assert await sync_to_async(Ballot.objects.count)() == 0


def test_nesting_is_measured_outside_strings():
    assert not protocol.nests_deeper_than('{"a": "[[[[[[[[[[[[[[[[", "b": ["\\"[["]}', 2)
    assert protocol.nests_deeper_than('{"a": "]]", "b": [[{"c": "}"}]]}', 3)
    assert not protocol.nests_deeper_than("[[[]], {}, [[[]]]]", 4)
    assert protocol.nests_deeper_than("[[[]], {}, [[[[]]]]]", 4)
    assert protocol.parse('{"type": "ping", "id": "[[[[[[[[[[[[[[[[[[[[[["}', None)["id"].startswith("[")
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse('{"type": "ping", "payload": {"x": ' + "[" * 9 + "]" * 9 + "}}", None)
    assert refused.value.code == protocol.E_TOO_DEEP
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse("[" * 30, None)  # unbalanced: not JSON at all
    assert refused.value.code == protocol.E_BAD_JSON


# Close codes ----------------------------------------------------------------------------------------
def test_every_close_code_the_sockets_send_is_one_an_application_may_send():
    """Daphne refuses every close code but 1000 and 3000-4999 (RFC 6455 keeps the rest for the
    endpoints themselves); the socket would close with 1011 instead. See test_servers.py for the
    codes as the servers deliver them."""
    sent = {
        value
        for name, value in vars(protocol).items()
        if name.startswith("CLOSE_") and isinstance(value, int)
    }
    assert sent == protocol.CLOSE_CODES
    for code in sent:
        assert code == 1000 or 3000 <= code <= 4999, code


# Signing in is checked again --------------------------------------------------------------------------
@pytest.fixture
def voter(live_db):
    return factories.ResidentFactory()


async def test_a_password_change_closes_the_persons_sockets_in_every_browser(sockets, question, voter):
    """The person changes their password in one browser (which stays signed in, under a new session
    key): the sockets of their other browser close, and so does the changing browser's old socket; its
    page reconnects with its new session, which is still signed in."""
    elsewhere = await sockets(
        f"/ws/questions/{question.pk}/", cookie=await sync_to_async(session_cookie)(voter)
    )
    browser = await sync_to_async(signed_in_client)(voter)
    here = await sockets(f"/ws/questions/{question.pk}/", cookie=browser.cookies["sessionid"].value)
    for socket in (elsewhere, here):
        await receive(socket)

    def change_password():
        from django.contrib.auth import update_session_auth_hash
        from django.test import RequestFactory

        request = RequestFactory().get("/")
        request.session = browser.session
        request.user = voter
        voter.set_password("a brand new passphrase 2026")
        voter.save()
        update_session_auth_hash(request, voter)
        request.session.save()
        return request.session.session_key

    new_key = await sync_to_async(change_password)()
    for socket in (elsewhere, here):
        assert await socket.receive_output(timeout=3) == {
            "type": "websocket.close",
            "code": protocol.CLOSE_SIGNED_OUT,
        }

    again = await sockets(f"/ws/questions/{question.pk}/", cookie=new_key)
    await receive(again)
    await again.send_json_to({"type": "vote", "id": 1, "payload": {"data": {"choice": "yes"}}})
    assert (await receive(again))["type"] == protocol.ACK


async def test_deactivating_an_account_closes_its_sockets(sockets, question, voter):
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=await sync_to_async(session_cookie)(voter))
    await receive(socket)
    voter.is_active = False
    await sync_to_async(voter.save)()
    assert await socket.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": protocol.CLOSE_SIGNED_OUT,
    }


async def test_deleting_an_account_closes_its_sockets(sockets, question, voter):
    session = await sync_to_async(lambda: question.live_item.session)()
    socket = await sockets(f"/ws/live/{session.code}/", cookie=await sync_to_async(session_cookie)(voter))
    await receive(socket)
    await sync_to_async(voter.delete)()
    while (output := await socket.receive_output(timeout=3))["type"] != "websocket.close":
        pass
    assert output["code"] == protocol.CLOSE_SIGNED_OUT


async def test_other_changes_to_an_account_leave_its_sockets_open(sockets, question, voter):
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=await sync_to_async(session_cookie)(voter))
    await receive(socket)
    voter.first_name = "Siân"
    await sync_to_async(voter.save)()
    other = await sync_to_async(factories.ResidentFactory)()
    other.set_password("someone else's new passphrase")
    await sync_to_async(other.save)()
    assert await socket.receive_nothing(timeout=0.5)
    await socket.send_json_to({"type": "vote", "id": 1, "payload": {"data": {"choice": "yes"}}})
    assert (await receive(socket))["type"] == protocol.ACK


async def test_a_vote_rechecks_the_sessions_password_hash_not_only_that_it_exists(
    sockets, question, voter, monkeypatch
):
    """The password changed without any notice reaching the socket (written straight to the database,
    or the event lost): the session still exists, but its stored hash no longer matches, so the next
    vote after the re-check interval is refused and the socket closed, as a page would sign it out."""
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=await sync_to_async(session_cookie)(voter))
    await receive(socket)
    voter.set_password("changed behind the socket's back")
    await sync_to_async(type(voter).objects.filter(pk=voter.pk).update)(password=voter.password)
    monkeypatch.setattr(protocol, "SESSION_RECHECK_SECONDS", -1.0)
    await socket.send_json_to({"type": "vote", "id": 1, "payload": {"data": {"choice": "yes"}}})
    assert (await receive(socket))["code"] == protocol.E_NOT_SIGNED_IN
    assert (await socket.receive_output(timeout=3))["code"] == protocol.CLOSE_SIGNED_OUT
    assert await sync_to_async(Ballot.objects.count)() == 0
