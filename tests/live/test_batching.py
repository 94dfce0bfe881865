"""Socket votes written in batches (voting.batching): one transaction for the votes that arrive together,
an answer for each, and the voter's rights as the database has them now."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError
from django.utils import timezone

from tests import factories
from tests.live.conftest import session_cookie
from voting import batching, errors, protocol
from voting.live import live_session_add_question, live_session_create, live_session_open_question
from voting.models import Ballot, Question, TallyCount

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def question(live_db):
    session = live_session_create(host=factories.CouncillorFactory(), title="Full council")
    question = live_session_add_question(session=session, title="Adopt the plan?", kind="yes_no", options=[])
    live_session_open_question(session=session, item=question.live_item)
    return question


async def receive(communicator, timeout=3):
    return json.loads(await communicator.receive_from(timeout=timeout))


def _seq(question_id):
    return Question.objects.non_polymorphic().values_list("tally_seq", flat=True).get(pk=question_id)


async def test_votes_that_arrive_together_are_written_in_one_transaction_each_with_its_own_seq(question):
    people = await sync_to_async(factories.ResidentFactory.create_batch)(20)
    before = await sync_to_async(_seq)(question.pk)
    batcher = batching.VoteBatcher()
    choices = ["yes" if i % 3 else "no" for i in range(20)]
    results = await asyncio.gather(
        *(
            batcher.cast(question_id=question.pk, voter_id=person.pk, data={"choice": choice})
            for person, choice in zip(people, choices, strict=True)
        )
    )
    assert [r.error for r in results] == [None] * 20
    assert sorted(r.seq for r in results) == list(range(before + 1, before + 21))
    assert batcher.stats() == {"batches": 1, "votes": 20}
    assert await sync_to_async(_seq)(question.pk) == before + 20
    stored = await sync_to_async(dict)(
        TallyCount.objects.filter(question_id=question.pk).values_list("key", "count")
    )
    assert stored == {"yes": choices.count("yes"), "no": choices.count("no"), "_ballots": 20}


async def test_each_vote_in_a_batch_gets_its_own_refusal(question):
    ann, suspended = await sync_to_async(factories.ResidentFactory.create_batch)(2)
    suspended.suspended_until = timezone.now() + timezone.timedelta(days=3)
    await sync_to_async(suspended.save)()
    batcher = batching.VoteBatcher()
    results = await asyncio.gather(
        batcher.cast(question_id=question.pk, voter_id=ann.pk, data={"choice": "yes"}),
        batcher.cast(question_id=question.pk, voter_id=suspended.pk, data={"choice": "yes"}),
        batcher.cast(question_id=question.pk, voter_id=ann.pk, data=["yes"]),
        batcher.cast(question_id=question.pk, voter_id=987654, data={"choice": "yes"}),
        batcher.cast(question_id=987654, voter_id=ann.pk, data={"choice": "yes"}),
    )
    assert [r.error.code if r.error else "ok" for r in results] == [
        "ok",
        errors.NOT_ELIGIBLE,
        errors.INVALID_BALLOT,
        errors.NOT_ELIGIBLE,
        errors.QUESTION_CLOSED,
    ]
    assert await sync_to_async(Ballot.objects.filter(question_id=question.pk).count)() == 1


async def test_a_voter_suspended_while_connected_cannot_vote_on_the_open_socket(sockets, question):
    voter = await sync_to_async(factories.ResidentFactory)()
    cookie = await sync_to_async(session_cookie)(voter)
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=cookie)
    await receive(socket)  # snapshot
    await socket.send_json_to({"type": "vote", "id": 1, "payload": {"data": {"choice": "yes"}}})
    assert (await receive(socket))["type"] == protocol.ACK

    voter.suspended_until = timezone.now() + timezone.timedelta(days=7)
    await sync_to_async(voter.save)(update_fields=["suspended_until"])
    await socket.send_json_to({"type": "vote", "id": 2, "payload": {"data": {"choice": "no"}}})
    while (reply := await receive(socket))["type"] == protocol.TALLY:
        pass
    assert reply["type"] == protocol.ERROR and reply["id"] == 2
    assert reply["code"] == errors.NOT_ELIGIBLE
    ballot = await sync_to_async(Ballot.objects.get)(question_id=question.pk)
    assert ballot.data == {"choice": "yes"}


async def test_a_database_failure_is_answered_nothing_is_stored_and_the_next_vote_works(
    sockets, question, monkeypatch
):
    voter = await sync_to_async(factories.ResidentFactory)()
    cookie = await sync_to_async(session_cookie)(voter)
    socket = await sockets(f"/ws/questions/{question.pk}/", cookie=cookie)
    await receive(socket)
    real = batching.write_batch
    calls = []

    def failing_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(batching, "write_batch", failing_once)
    await socket.send_json_to({"type": "vote", "id": 1, "payload": {"data": {"choice": "yes"}}})
    reply = await receive(socket)
    assert reply["type"] == protocol.ERROR and reply["code"] == protocol.E_UNAVAILABLE and reply["id"] == 1
    assert not await sync_to_async(Ballot.objects.filter(question_id=question.pk).exists)()

    await socket.send_json_to({"type": "vote", "id": 2, "payload": {"data": {"choice": "no"}}})
    reply = await receive(socket)
    assert reply["type"] == protocol.ACK and reply["id"] == 2
    ballot = await sync_to_async(Ballot.objects.get)(question_id=question.pk)
    assert ballot.data == {"choice": "no"}
