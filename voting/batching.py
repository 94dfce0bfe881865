"""Socket votes written in batches: many ballots on one question, one transaction.

A room voting at once sends hundreds of ballots a second on the same question. Each needs the
question's lock (``voting.services``), so one transaction per ballot would make them queue one
behind the other, each paying for its own round trips. Instead each ASGI worker keeps, per question,
a queue of the votes its sockets have sent and a single writer that takes everything queued so far
and records it with ``ballots_cast`` in one transaction (group commit). Under light load a batch is
one vote, written at once; under heavy load the batches grow by themselves while the previous one is
being written, so the cost per vote falls as the load rises. No timer holds a vote back.

Every vote still gets every check of the form POST (the same service), on the voter as the database
has them now (``accounts.selectors.voters_by_id``), and its own answer: the ballot's ``seq`` for the
acknowledgement, or the ``BallotError`` that refused it. An acknowledgement is only sent once the
batch's transaction has committed, so an acknowledged vote is never lost.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async

from voting import errors
from voting.errors import BallotError
from voting.services import CastResult

logger = logging.getLogger("townhall.live")

#: The most votes one transaction takes; more wait for the next batch.
MAX_BATCH = 500
#: How long a writer keeps the question it read between batches (its open/closed state and the
#: kind of ballot are re-read under the lock in every batch; this saves reading its options and
#: consultation again for every batch).
QUESTION_TTL_SECONDS = 2.0


@dataclass
class _Vote:
    voter_id: int
    data: Any
    future: asyncio.Future


@dataclass
class _LoopState:
    queues: dict[int, list[_Vote]] = field(default_factory=dict)
    writers: dict[int, asyncio.Task] = field(default_factory=dict)
    #: question id -> (read at, question); kept by the writer between batches.
    questions: dict[int, tuple[float, Any]] = field(default_factory=dict)
    batches: int = 0
    votes: int = 0


def write_batch(
    question_id: int, votes: list[tuple[int, Any]], question: Any = None
) -> tuple[list[CastResult], Any]:
    """Record ``votes`` (voter id, ballot data) on a question. Synchronous: runs on a worker thread.

    Returns a result per vote and the question read, which the caller may pass back for its next
    batch.
    """
    from accounts.selectors import voters_by_id
    from voting.models import Question
    from voting.services import ballots_cast

    if question is None or question.pk != question_id:
        question = Question.objects.filter(pk=question_id).first()
    if question is None:
        gone = CastResult(error=BallotError(errors.QUESTION_CLOSED, "This question no longer exists."))
        return [gone] * len(votes), None
    voters = voters_by_id(voter_id for voter_id, _ in votes)
    results: dict[int, CastResult] = {}
    valid: list[tuple[int, Any, Mapping[str, Any]]] = []
    for index, (voter_id, data) in enumerate(votes):
        if isinstance(data, Mapping):
            # An unknown or deactivated voter is None here: the service refuses them as not eligible.
            valid.append((index, voters.get(voter_id), data))
        else:
            results[index] = CastResult(
                error=BallotError(errors.INVALID_BALLOT, "Send your ballot as an object in payload.data.")
            )
    if valid:
        cast = ballots_cast(question=question, votes=[(voter, data) for _, voter, data in valid])
        results.update((index, result) for (index, _, _), result in zip(valid, cast, strict=True))
    return [results[index] for index in range(len(votes))], question


class VoteBatcher:
    """Per event loop (one per ASGI worker): a queue and a writer per question."""

    def __init__(self, max_batch: int = MAX_BATCH):
        self.max_batch = max_batch
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState] = {}

    async def cast(self, *, question_id: int, voter_id: int, data: Any) -> CastResult:
        """Queue one vote and wait for its batch to commit (or for the reason it was refused).

        Raises whatever the database raised if the batch could not be written at all.
        """
        loop = asyncio.get_running_loop()
        state = self._state(loop)
        future: asyncio.Future = loop.create_future()
        state.queues.setdefault(question_id, []).append(_Vote(voter_id, data, future))
        writer = state.writers.get(question_id)
        if writer is None or writer.done():
            # A clean context: the caller's (a consumer's) must not leak into a task that outlives it.
            state.writers[question_id] = loop.create_task(
                self._write(state, question_id), context=contextvars.Context()
            )
        return await future

    def stats(self) -> dict[str, int]:
        return {
            "batches": sum(st.batches for st in self._loops.values()),
            "votes": sum(st.votes for st in self._loops.values()),
        }

    def _state(self, loop: asyncio.AbstractEventLoop) -> _LoopState:
        state = self._loops.get(loop)
        if state is None:
            # Forget loops that have closed (each test has its own).
            self._loops = {lp: st for lp, st in self._loops.items() if not lp.is_closed()}
            state = self._loops[loop] = _LoopState()
        return state

    async def _write(self, state: _LoopState, question_id: int) -> None:
        queue = state.queues[question_id]
        while queue:
            batch = queue[: self.max_batch]
            del queue[: self.max_batch]
            read_at, question = state.questions.get(question_id, (0.0, None))
            if time.monotonic() - read_at > QUESTION_TTL_SECONDS:
                question = None
            try:
                results, question = await database_sync_to_async(write_batch, thread_sensitive=False)(
                    question_id, [(vote.voter_id, vote.data) for vote in batch], question
                )
            except Exception as exc:  # the database failed: nothing of this batch was stored
                logger.exception("Could not write %d votes on question %s", len(batch), question_id)
                state.questions.pop(question_id, None)
                for vote in batch:
                    if not vote.future.done():
                        vote.future.set_exception(exc)
                continue
            closed = any(r.error is not None and r.error.code == errors.QUESTION_CLOSED for r in results)
            if question is None or closed:
                state.questions.pop(question_id, None)  # read it afresh next time (it may reopen)
            elif question_id not in state.questions or state.questions[question_id][1] is not question:
                state.questions[question_id] = (time.monotonic(), question)
            state.batches += 1
            state.votes += len(batch)
            for vote, result in zip(batch, results, strict=True):
                if not vote.future.done():  # the socket may have gone meanwhile; the ballot stands
                    vote.future.set_result(result)
        state.queues.pop(question_id, None)


batcher = VoteBatcher()
