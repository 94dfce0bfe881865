"""The live-session socket: attendees follow the question the host opens, and vote on it only."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from tests import factories
from tests.live.conftest import session_cookie
from voting import live, protocol
from voting.models import Ballot

pytestmark = pytest.mark.django_db(transaction=True)


async def receive(communicator, timeout=3):
    return json.loads(await communicator.receive_from(timeout=timeout))


async def until(communicator, type_):
    while (message := await receive(communicator))["type"] != type_:
        pass
    return message


@pytest.fixture
def meeting(live_db):
    host = factories.CouncillorFactory()
    session = live.live_session_create(host=host, title="Full council")
    first = live.live_session_add_question(session=session, title="Motion one", kind="yes_no", options=[])
    second = live.live_session_add_question(
        session=session, title="Which colour?", kind="single", options=["Red", "Green"]
    )
    return session, first, second


async def test_attendee_follows_the_host_from_question_to_question(sockets, meeting):
    session, first, second = meeting
    attendee = await sockets(f"/ws/live/{session.code}/")
    assert attendee.accepted
    hello = await receive(attendee)
    assert hello["type"] == protocol.SESSION
    assert hello["payload"]["question"] is None and hello["payload"]["code"] == session.code
    assert (await receive(attendee))["payload"] == {"question": None}

    await sync_to_async(live.live_session_open_question)(session=session, item=first.live_item)
    state = await until(attendee, protocol.SESSION)
    assert state["payload"]["question"] == first.pk and state["payload"]["accepting"] is True
    snapshot = await until(attendee, protocol.SNAPSHOT)
    assert snapshot["payload"]["question"] == first.pk and snapshot["payload"]["open"] is True

    await sync_to_async(live.live_session_open_question)(session=session, item=second.live_item)
    state = await until(attendee, protocol.SESSION)
    assert state["payload"]["question"] == second.pk
    assert [o["label"] for o in state["payload"]["options"]] == ["Red", "Green"]


async def test_vote_over_the_session_socket_counts_for_the_open_question_only(sockets, meeting):
    session, first, second = meeting
    await sync_to_async(live.live_session_open_question)(session=session, item=first.live_item)
    resident = await sync_to_async(factories.ResidentFactory)()
    attendee = await sockets(
        f"/ws/live/{session.code}/", cookie=await sync_to_async(session_cookie)(resident)
    )
    await until(attendee, protocol.SNAPSHOT)

    await attendee.send_json_to(
        {"type": "vote", "id": 1, "payload": {"question": first.pk, "data": {"choice": "yes"}}}
    )
    ack = await until(attendee, protocol.ACK)
    assert ack["payload"]["question"] == first.pk

    # A page still showing the first question cannot vote on it once the host has moved on.
    await sync_to_async(live.live_session_open_question)(session=session, item=second.live_item)
    await until(attendee, protocol.SESSION)
    await attendee.send_json_to(
        {"type": "vote", "id": 2, "payload": {"question": first.pk, "data": {"choice": "no"}}}
    )
    error = await until(attendee, protocol.ERROR)
    assert error["code"] == protocol.E_NO_OPEN_QUESTION and error["id"] == 2
    ballots = await sync_to_async(list)(Ballot.objects.values_list("question_id", "data"))
    assert ballots == [(first.pk, {"choice": "yes"})]


async def test_no_votes_after_the_host_closes_the_question(sockets, meeting):
    session, first, _ = meeting
    await sync_to_async(live.live_session_open_question)(session=session, item=first.live_item)
    resident = await sync_to_async(factories.ResidentFactory)()
    attendee = await sockets(
        f"/ws/live/{session.code}/", cookie=await sync_to_async(session_cookie)(resident)
    )
    await until(attendee, protocol.SNAPSHOT)
    await sync_to_async(live.live_session_close_question)(session=session)
    state = await until(attendee, protocol.SESSION)
    assert state["payload"]["accepting"] is False
    await attendee.send_json_to({"type": "vote", "payload": {"data": {"choice": "yes"}}})
    assert (await until(attendee, protocol.ERROR))["code"] == protocol.E_NO_OPEN_QUESTION
    assert await sync_to_async(Ballot.objects.count)() == 0


async def test_ending_the_session_tells_everyone(sockets, meeting):
    session, first, _ = meeting
    await sync_to_async(live.live_session_open_question)(session=session, item=first.live_item)
    attendee = await sockets(f"/ws/live/{session.code}/")
    await until(attendee, protocol.SNAPSHOT)
    await sync_to_async(live.live_session_end)(session=session)
    state = await until(attendee, protocol.SESSION)
    assert state["payload"]["status"] == "ended" and state["payload"]["accepting"] is False


@pytest.mark.parametrize("code", ["NOPE42", "abc", "x" * 13])
async def test_unknown_session_code_is_refused(sockets, live_db, code):
    attendee = await sockets(f"/ws/live/{code}/")
    assert not attendee.accepted
