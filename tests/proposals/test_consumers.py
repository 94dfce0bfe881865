"""The moderators' live feed: only moderators connect; new flags arrive after commit, in the envelope."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from proposals import live, services
from tests import factories
from tests.proposals.factories import CommentFactory, IdeaProposalFactory

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
    for communicator in opened:
        await communicator.disconnect()


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
    assert message == {"type": "error", "code": "forbidden", "message": message["message"]}
    closed = await socket.receive_output(timeout=3)
    assert closed["type"] == "websocket.close" and closed["code"] == live.CLOSE_FORBIDDEN
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
