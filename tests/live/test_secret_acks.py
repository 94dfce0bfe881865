"""Acknowledgements and live tallies tell a voter nothing about how anyone voted on a secret question,
nor how often a hidden tally moves."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from tests import factories
from tests.live.conftest import session_cookie
from voting import protocol
from voting.live import live_session_add_question, live_session_create, live_session_open_question
from voting.models import Ballot, Question, SealedBallot

pytestmark = pytest.mark.django_db(transaction=True)

K = 2


@pytest.fixture(autouse=True)
def mix_size(settings):
    settings.SECRET_BALLOT_MIX_SIZE = K


def _open_question(*, secret: bool, hide_results: bool = False):
    host = factories.CouncillorFactory()
    session = live_session_create(host=host, title="Full council")
    question = live_session_add_question(
        session=session, title="Should the library open on Sundays?", kind="yes_no", options=[],
        hide_results=hide_results,
    )  # fmt: skip
    if secret:
        Question.objects.filter(pk=question.pk).update(secret=True, final_once_cast=True)
    live_session_open_question(session=session, item=question.live_item)
    return question


async def receive(communicator, timeout=3):
    return json.loads(await communicator.receive_from(timeout=timeout))


async def vote(sockets, question, choice: str, msg_id: str) -> dict:
    voter = await sync_to_async(factories.ResidentFactory)()
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=await sync_to_async(session_cookie)(voter))
    await receive(socket)  # its snapshot
    await socket.send_json_to({"type": "vote", "id": msg_id, "payload": {"data": {"choice": choice}}})
    while (message := await receive(socket))["type"] != protocol.ACK:
        assert message["type"] != protocol.ERROR, message
    return message


async def test_a_secret_ballots_ack_has_no_seq_and_one_vote_moves_no_public_tally(sockets, live_db):
    question = await sync_to_async(_open_question)(secret=True)
    watcher = await sockets(f"/ws/questions/{question.pk}/")
    snapshot = await receive(watcher)
    assert snapshot["payload"]["tally"]["result"]["ballots"] == 0

    ack = await vote(sockets, question, "yes", "v1")
    assert set(ack["payload"]) == {"question", "recorded_at"}
    # Before, the ack's seq and the next tally (yes: 1) told the voter, and anyone who saw the ack,
    # which choice was theirs. Now the tally does not move for one vote.
    assert await watcher.receive_nothing(timeout=0.6)
    await watcher.send_json_to({"type": "snapshot.request", "id": "again"})
    again = await receive(watcher)
    assert again["payload"]["tally"]["result"]["ballots"] == 0
    assert again["payload"]["version"] == snapshot["payload"]["version"]
    assert await sync_to_async(SealedBallot.objects.filter(question_id=question.pk).count)() == 1


async def test_watchers_see_a_secret_tally_move_only_in_mixes_of_at_least_k(sockets, live_db):
    from voting.services import question_close

    question = await sync_to_async(_open_question)(secret=True)
    watcher = await sockets(f"/ws/questions/{question.pk}/")
    await receive(watcher)
    for n, choice in enumerate(["yes", "no", "yes", "abstain", "no"]):
        await vote(sockets, question, choice, f"v{n}")
    shown = [0]
    while len(shown) < 2:  # the mix after the fourth vote counts all but K of them
        message = await receive(watcher)
        assert message["type"] == protocol.TALLY
        shown.append(message["payload"]["tally"]["result"]["ballots"])
    assert shown == [0, 2 * K - K]
    assert await watcher.receive_nothing(timeout=0.6)  # the fifth vote moved nothing
    await sync_to_async(question_close)(question=question)
    final = await receive(watcher)
    assert final["payload"]["open"] is False
    assert final["payload"]["tally"]["result"]["ballots"] == 5  # the last step: 5 - 2 = 3 >= K
    assert await sync_to_async(Ballot.objects.filter(question_id=question.pk).count)() == 5


async def test_an_ack_on_a_question_whose_results_are_hidden_has_no_seq(sockets, live_db):
    question = await sync_to_async(_open_question)(secret=False, hide_results=True)
    ack = await vote(sockets, question, "no", "h1")
    assert set(ack["payload"]) == {"question", "recorded_at"}
    assert await sync_to_async(Ballot.objects.filter(question_id=question.pk).count)() == 1


async def test_an_ack_on_an_open_ballot_with_live_results_still_names_its_version(sockets, live_db):
    question = await sync_to_async(_open_question)(secret=False)
    ack = await vote(sockets, question, "no", "o1")
    seq = await sync_to_async(lambda: Question.objects.non_polymorphic().get(pk=question.pk).tally_seq)()
    assert ack["payload"]["seq"] == seq
