"""The moderators' live feed: only moderators connect; new flags arrive after commit, in the envelope."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from config.asgi import application
from proposals import live, services
from tests import factories
from tests.proposals.factories import CommentFactory, IdeaProposalFactory
from voting import fanout, protocol

pytestmark = pytest.mark.django_db(transaction=True)


async def connect_as(user) -> WebsocketCommunicator:
    from channels.auth import AuthMiddlewareStack  # noqa: F401 - the stack reads the session cookie
    from django.test import Client

    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        client = Client()
        await sync_to_async(client.force_login)(user)
        cookie = f"sessionid={client.cookies['sessionid'].value}"
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, "/ws/moderation/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.fixture
async def sockets():
    opened: list[WebsocketCommunicator] = []
    yield opened
    # The fan-out hub first: it holds the only receive on the channel layer (see tests/live/conftest.py).
    await fanout.shutdown()
    for communicator in opened:
        await communicator.disconnect()
    channel_layers.backends.clear()


async def test_moderator_sees_a_new_flag_live(sockets):
    moderator = await sync_to_async(factories.ModeratorFactory)()
    socket = await connect_as(moderator)
    sockets.append(socket)

    def make_flag():
        from tests.conftest import ensure_wagtail_tree
        from tests.consultations.factories import make_consultation, make_index

        ensure_wagtail_tree()
        from cms.models import HomePage

        home = HomePage(title="Home", slug="home-ws")
        from wagtail.models import Page

        Page.get_first_root_node().add_child(instance=home)
        consultation = make_consultation(make_index(home))
        comment = CommentFactory(proposal=IdeaProposalFactory(consultation=consultation))
        return services.flag_create(reporter=factories.ResidentFactory(), item=comment, reason="abuse")

    flag = await sync_to_async(make_flag)()
    message = await socket.receive_json_from(timeout=3)
    assert message["type"] == live.FLAG_CREATED and message["id"] == flag.pk
    assert message["payload"]["reason"] == "abuse" and message["payload"]["item_type"] == "comment"
    assert message["payload"]["flags"] == 1


@pytest.mark.parametrize("who", ["visitor", "resident"])
async def test_others_are_refused_with_an_error_and_closed(who):
    user = None if who == "visitor" else await sync_to_async(factories.ResidentFactory)()
    socket = await connect_as(user)
    message = await socket.receive_json_from(timeout=3)
    assert message == {"type": "error", "id": None, "code": "forbidden", "message": message["message"]}
    closed = await socket.receive_output(timeout=3)
    assert closed["type"] == "websocket.close" and closed["code"] == protocol.CLOSE_FORBIDDEN
    await socket.disconnect()


async def test_bad_messages_get_error_codes(sockets):
    moderator = await sync_to_async(factories.ModeratorFactory)()
    socket = await connect_as(moderator)
    sockets.append(socket)
    await socket.send_to(text_data="not json")
    assert (await socket.receive_json_from(timeout=3))["code"] == "bad_json"
    await socket.send_to(text_data="[1, 2]")
    assert (await socket.receive_json_from(timeout=3))["code"] == "bad_json"
    await socket.send_json_to({"type": "launch"})
    assert (await socket.receive_json_from(timeout=3))["code"] == "unknown_type"
    await socket.send_json_to({"type": "ping", "id": 7})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong", "id": 7, "payload": {}}


# The same protocol, limits and sign-out behaviour as the live sockets ------------------------------
async def moderator_socket(sockets):
    """A signed-in moderator's socket and the browser (test client) it was opened from."""
    from django.test import Client

    moderator = await sync_to_async(factories.ModeratorFactory)()
    client = Client()
    await sync_to_async(client.force_login)(moderator)
    headers = [
        (b"origin", b"http://localhost"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]
    communicator = WebsocketCommunicator(application, "/ws/moderation/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    sockets.append(communicator)
    return communicator, client, moderator


async def test_an_id_is_echoed_only_when_short(sockets):
    socket, _, _ = await moderator_socket(sockets)
    await socket.send_json_to({"type": "ping", "id": "x" * protocol.MAX_ID_LENGTH})
    assert (await socket.receive_json_from(timeout=3))["id"] == "x" * protocol.MAX_ID_LENGTH
    await socket.send_json_to({"type": "ping", "id": "x" * (protocol.MAX_ID_LENGTH + 1)})
    error = await socket.receive_json_from(timeout=3)
    assert error["code"] == protocol.E_BAD_MESSAGE and error["id"] is None


async def test_an_oversize_frame_is_answered_and_the_socket_closed(sockets):
    socket, _, _ = await moderator_socket(sockets)
    await socket.send_to(text_data='{"type": "ping", "id": "' + "x" * protocol.MAX_FRAME_BYTES + '"}')
    assert (await socket.receive_json_from(timeout=3))["code"] == protocol.E_TOO_LARGE
    assert await socket.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": protocol.CLOSE_TOO_LARGE,
    }


async def test_a_deeply_nested_frame_gets_an_error_and_the_socket_stays_open(sockets):
    socket, _, _ = await moderator_socket(sockets)
    await socket.send_to(text_data="[" * 2000 + "]" * 2000)
    assert (await socket.receive_json_from(timeout=3))["code"] == protocol.E_TOO_DEEP
    await socket.send_json_to({"type": "ping", "id": 2})
    assert (await socket.receive_json_from(timeout=3))["type"] == "pong"


async def test_a_flood_is_throttled_then_closed(sockets):
    socket, _, _ = await moderator_socket(sockets)
    for i in range(protocol.RATE_BURST + protocol.FLOOD_CLOSE_AFTER + 20):
        await socket.send_json_to({"type": "ping", "id": i})
    pongs, limited = 0, 0
    while (output := await socket.receive_output(timeout=3))["type"] != "websocket.close":
        message = json.loads(output["text"])
        if message["type"] == "pong":
            pongs += 1
        else:
            assert message["code"] == protocol.E_RATE_LIMITED
            limited += 1
    assert output["code"] == protocol.CLOSE_POLICY
    assert protocol.RATE_BURST <= pongs < protocol.RATE_BURST + 10 and limited >= 1


async def test_signing_out_closes_the_moderators_socket(sockets):
    socket, client, _ = await moderator_socket(sockets)
    await sync_to_async(client.post)("/accounts/sign-out/")
    assert await socket.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": protocol.CLOSE_SIGNED_OUT,
    }


async def test_a_password_change_closes_the_moderators_socket(sockets):
    socket, _, moderator = await moderator_socket(sockets)

    def change_password():
        moderator.set_password("a new passphrase for the moderator")
        moderator.save()

    await sync_to_async(change_password)()
    assert await socket.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": protocol.CLOSE_SIGNED_OUT,
    }
