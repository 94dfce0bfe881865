"""The live sockets: snapshots, tally updates, votes over the socket, and every kind of bad input."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from tests import factories
from tests.live.conftest import session_cookie, signed_in_client
from voting import protocol
from voting.live import live_session_add_question, live_session_create, live_session_open_question
from voting.models import Ballot, ResultsVisibility, TallyCount

pytestmark = pytest.mark.django_db(transaction=True)


def _open_question(*, hide_results: bool = False, kind: str = "yes_no"):
    host = factories.CouncillorFactory()
    session = live_session_create(host=host, title="Full council <b>meeting</b>")
    question = live_session_add_question(
        session=session,
        title="Should the library open on Sundays?",
        kind=kind,
        options=["Red", "Green"] if kind == "single" else [],
        hide_results=hide_results,
    )
    live_session_open_question(session=session, item=question.live_item)
    return question


@pytest.fixture
def question(live_db):
    return _open_question()


@pytest.fixture
def hidden_question(live_db):
    return _open_question(hide_results=True)


@pytest.fixture
def voter(live_db):
    return factories.ResidentFactory()


def counts(payload: dict) -> dict[str, int]:
    return {row["key"]: row["count"] for row in payload["tally"]["result"]["rows"]}


async def receive(communicator, timeout=3):
    return json.loads(await communicator.receive_from(timeout=timeout))


async def test_watcher_gets_a_snapshot_with_the_tally_on_connect(sockets, question):
    watcher = await sockets(f"/ws/questions/{question.pk}/")
    assert watcher.accepted
    message = await receive(watcher)
    assert message["type"] == protocol.SNAPSHOT
    payload = message["payload"]
    assert payload["question"] == question.pk
    assert payload["open"] is True
    assert payload["tally"]["kind"] == "yes_no"
    assert payload["seq"] >= 1 and payload["epoch"]


@pytest.mark.parametrize(
    "origin",
    [(b"origin", b"http://evil.example"), (b"origin", b"null"), None],
    ids=["foreign", "null", "missing"],
)
async def test_socket_from_a_foreign_or_missing_origin_is_refused(sockets, question, origin):
    communicator = await sockets(f"/ws/questions/{question.pk}/", origin=origin)
    assert not communicator.accepted


async def test_socket_for_a_question_that_does_not_exist_is_refused(sockets, live_db):
    communicator = await sockets("/ws/questions/987654/")
    assert not communicator.accepted


async def test_vote_over_the_socket_is_acknowledged_and_reaches_another_watcher(sockets, question, voter):
    watcher = await sockets(f"/ws/questions/{question.pk}/")
    first = await receive(watcher)
    cookie = await sync_to_async(session_cookie)(voter)
    voting = await sockets(f"/ws/questions/{question.pk}/", cookie=cookie)
    await receive(voting)  # its snapshot

    sent_at = timezone.now()
    await voting.send_json_to({"type": "vote", "id": "v1", "payload": {"data": {"choice": "yes"}}})
    ack = await receive(voting)
    assert ack["type"] == protocol.ACK and ack["id"] == "v1"
    assert ack["payload"]["question"] == question.pk
    ballot_seq = ack["payload"]["seq"]
    # The receipt: when the ballot's transaction committed, after the ballot's own timestamp.
    recorded_at = datetime.fromisoformat(ack["payload"]["recorded_at"])
    ballot = await Ballot.objects.aget(question=question, voter=voter)
    assert sent_at <= ballot.changed_at <= recorded_at <= timezone.now()

    update = await receive(watcher)
    assert update["type"] == protocol.TALLY
    assert update["payload"]["seq"] == first["payload"]["seq"] + 1
    assert update["payload"]["version"] >= ballot_seq
    assert counts(update["payload"])["yes"] == 1
    assert await sync_to_async(Ballot.objects.filter(question_id=question.pk).count)() == 1


async def test_changed_vote_moves_the_tally_and_keeps_one_ballot(sockets, question, voter):
    cookie = await sync_to_async(session_cookie)(voter)
    voting = await sockets(f"/ws/questions/{question.pk}/", cookie=cookie)
    await receive(voting)
    seqs = []
    for choice in ("yes", "no"):
        await voting.send_json_to({"type": "vote", "id": choice, "payload": {"data": {"choice": choice}}})
        while (message := await receive(voting))["type"] != protocol.ACK:
            pass
        seqs.append(message["payload"]["seq"])
    question_seq = await sync_to_async(lambda: type(question).objects.get(pk=question.pk).tally_seq)()
    assert seqs == [question_seq - 1, question_seq]  # each ack names its own write
    stored = await sync_to_async(dict)(
        TallyCount.objects.filter(question_id=question.pk).values_list("key", "count")
    )
    assert stored.get("no") == 1 and stored.get("yes", 0) == 0
    assert await sync_to_async(Ballot.objects.filter(question_id=question.pk).count)() == 1


async def test_anonymous_vote_is_refused_and_the_socket_stays_open(sockets, question):
    socket = await sockets(f"/ws/questions/{question.pk}/")
    await receive(socket)
    await socket.send_json_to({"type": "vote", "id": 7, "payload": {"data": {"choice": "yes"}}})
    error = await receive(socket)
    assert error == {
        "type": "error",
        "id": 7,
        "code": protocol.E_NOT_SIGNED_IN,
        "message": error["message"],
    }
    await socket.send_json_to({"type": "ping", "id": "p"})
    assert (await receive(socket))["type"] == protocol.PONG
    assert await sync_to_async(Ballot.objects.count)() == 0


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"choice": "perhaps"}, "invalid_ballot"),
        ({}, "invalid_ballot"),
        ("yes", "invalid_ballot"),
        (None, "invalid_ballot"),
        ([1, 2], "invalid_ballot"),
    ],
)
async def test_invalid_ballot_gets_the_service_error_code_and_stores_nothing(
    sockets, question, voter, data, code
):
    cookie = await sync_to_async(session_cookie)(voter)
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=cookie)
    await receive(socket)
    await socket.send_json_to({"type": "vote", "id": "x", "payload": {"data": data}})
    error = await receive(socket)
    assert error["type"] == "error" and error["code"] == code and error["id"] == "x"
    assert await sync_to_async(Ballot.objects.count)() == 0


async def test_vote_on_a_closed_question_is_refused(sockets, live_db, voter):
    from voting.services import question_close

    question = await sync_to_async(_open_question)()
    cookie = await sync_to_async(session_cookie)(voter)
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=cookie)
    await receive(socket)
    await sync_to_async(question_close)(question=question)
    await socket.send_json_to({"type": "vote", "payload": {"data": {"choice": "yes"}}})
    while (message := await receive(socket))["type"] != "error":
        pass
    assert message["code"] == "question_closed"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", protocol.E_BAD_JSON),
        ("[1, 2, 3]", protocol.E_BAD_JSON),
        ('"vote"', protocol.E_BAD_JSON),
        ('{"payload": {}}', protocol.E_BAD_MESSAGE),
        ('{"type": 5}', protocol.E_BAD_MESSAGE),
        ('{"type": "vote", "payload": [1]}', protocol.E_BAD_MESSAGE),
        ('{"type": "ping", "id": {"a": 1}}', protocol.E_BAD_MESSAGE),
        ('{"type": "drop.tables"}', protocol.E_UNKNOWN_TYPE),
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_stays_open(sockets, question, frame, code):
    socket = await sockets(f"/ws/questions/{question.pk}/")
    await receive(socket)
    await socket.send_to(text_data=frame)
    error = await receive(socket)
    assert error["type"] == "error" and error["code"] == code and error["message"]
    await socket.send_json_to({"type": "ping", "id": 1})
    assert (await receive(socket))["type"] == protocol.PONG


async def test_binary_frame_is_refused(sockets, question):
    socket = await sockets(f"/ws/questions/{question.pk}/")
    await receive(socket)
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await receive(socket))["code"] == protocol.E_BAD_MESSAGE


async def test_oversize_frame_is_answered_and_the_socket_closed(sockets, question):
    socket = await sockets(f"/ws/questions/{question.pk}/")
    await receive(socket)
    await socket.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * protocol.MAX_FRAME_BYTES}))
    error = await receive(socket)
    assert error["code"] == protocol.E_TOO_LARGE
    closed = await socket.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": protocol.CLOSE_TOO_LARGE}


async def test_flood_is_throttled_then_closed(sockets, question):
    socket = await sockets(f"/ws/questions/{question.pk}/")
    await receive(socket)
    total = protocol.RATE_BURST + protocol.FLOOD_CLOSE_AFTER + 20
    for i in range(total):
        await socket.send_json_to({"type": "ping", "id": i})
    pongs, limited = 0, 0
    while True:
        output = await socket.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            assert output["code"] == protocol.CLOSE_POLICY
            break
        message = json.loads(output["text"])
        if message["type"] == protocol.PONG:
            pongs += 1
        else:
            assert message["code"] == protocol.E_RATE_LIMITED
            limited += 1
    assert protocol.RATE_BURST <= pongs < protocol.RATE_BURST + 10
    assert limited >= 1


async def test_hidden_until_close_question_pushes_nothing_to_the_public(sockets, hidden_question, voter):
    public = await sockets(f"/ws/questions/{hidden_question.pk}/")
    snapshot = await receive(public)
    assert snapshot["payload"] == {"question": hidden_question.pk, "open": True, "hidden": True}
    councillor = await sync_to_async(factories.CouncillorFactory)()
    staff_cookie = await sync_to_async(session_cookie)(councillor)
    staff = await sockets(f"/ws/questions/{hidden_question.pk}/", cookie=staff_cookie)
    assert "tally" in (await receive(staff))["payload"]

    cookie = await sync_to_async(session_cookie)(voter)
    voting = await sockets(f"/ws/questions/{hidden_question.pk}/", cookie=cookie)
    await receive(voting)
    await voting.send_json_to({"type": "vote", "id": 1, "payload": {"data": {"choice": "no"}}})
    assert (await receive(voting))["type"] == protocol.ACK
    assert counts((await receive(staff))["payload"])["no"] == 1
    assert await public.receive_nothing(timeout=0.5)
    await public.send_json_to({"type": "snapshot.request", "id": "s"})
    again = await receive(public)
    assert again["type"] == protocol.SNAPSHOT and "tally" not in again["payload"]


async def test_results_reach_the_public_when_a_hidden_question_closes(sockets, hidden_question):
    from voting.services import question_close

    public = await sockets(f"/ws/questions/{hidden_question.pk}/")
    await receive(public)
    await sync_to_async(question_close)(question=hidden_question)
    message = await receive(public)
    assert message["type"] == protocol.SNAPSHOT
    assert message["payload"]["open"] is False and "tally" in message["payload"]


async def test_snapshot_request_returns_the_database_state(sockets, question, voter):
    from voting.services import ballot_cast

    socket = await sockets(f"/ws/questions/{question.pk}/")
    await receive(socket)
    await sync_to_async(ballot_cast)(question=question, voter=voter, data={"choice": "abstain"})
    await socket.send_json_to({"type": "snapshot.request", "id": "again"})
    while (message := await receive(socket))["type"] != protocol.SNAPSHOT:
        pass
    assert message["id"] == "again"
    assert counts(message["payload"])["abstain"] == 1


async def test_signing_out_closes_the_sessions_sockets(sockets, question, voter):
    client = await sync_to_async(signed_in_client)(voter)
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=client.cookies["sessionid"].value)
    await receive(socket)
    await sync_to_async(client.post)("/accounts/sign-out/")
    output = await socket.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": protocol.CLOSE_SIGNED_OUT}


async def test_a_socket_whose_session_ended_elsewhere_cannot_vote(sockets, question, voter, monkeypatch):
    from django.contrib.sessions.models import Session

    cookie = await sync_to_async(session_cookie)(voter)
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=cookie)
    await receive(socket)
    await sync_to_async(Session.objects.filter(session_key=cookie).delete)()
    monkeypatch.setattr(protocol, "SESSION_RECHECK_SECONDS", -1.0)
    await socket.send_json_to({"type": "vote", "id": 1, "payload": {"data": {"choice": "yes"}}})
    assert (await receive(socket))["code"] == protocol.E_NOT_SIGNED_IN
    assert (await socket.receive_output(timeout=3))["code"] == protocol.CLOSE_SIGNED_OUT
    assert await sync_to_async(Ballot.objects.count)() == 0


async def test_visibility_setting_is_respected_for_staff_and_public(live_db):
    question = await sync_to_async(_open_question)(hide_results=True)
    assert question.results_visibility == ResultsVisibility.AFTER_CLOSE
