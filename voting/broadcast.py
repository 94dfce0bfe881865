"""The tally broadcaster: coalesced, sequenced tally updates for every watcher of a question.

A committed ballot calls ``tally_changed(question_id)`` (through ``transaction.on_commit``). The
broadcaster does not send one update per ballot: each worker marks the question dirty and, at most
once every ``BROADCAST_INTERVAL`` seconds per question, reads the tally from the database (the
truth) and sends it whole to the question's tally group. A burst of thousands of ballots therefore
costs a few broadcasts per second per worker. The frame is serialised once here; in each worker, one
fan-out hub (``voting.fanout``) is the group's only member and writes it to that worker's watchers.

Sequence numbers. Each broadcast of a question carries ``seq``, one more than the last, shared by
every worker through the cache (Redis in production). A flush takes a short per-question lock,
increments ``seq`` and only then reads the tally, so a higher ``seq`` always carries a tally read
later, and a ballot acknowledged when ``seq`` was N shows in every tally with ``seq`` > N. The last
payload is kept in the cache, so a snapshot on connect costs one cache read. If the cache loses the
counter (Redis restarted) a new ``epoch`` starts; clients treat a new epoch as a fresh snapshot.

The channel layer may drop messages. A client that sees a gap in ``seq`` asks for a snapshot, which
re-reads the database; if that differs from the last broadcast it is broadcast to everyone too.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from asgiref.sync import SyncToAsync, async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from voting import fanout, protocol
from voting.shared_cache import live_cache as cache

logger = logging.getLogger("townhall.live")

#: How long a flush may hold a question's lock. A flush takes milliseconds; the bound matters when a
#: worker dies holding the lock: the others broadcast again once it expires.
LOCK_SECONDS = 2
#: How long the broadcaster waits for a lock another worker holds before trying again later.
BUSY_WAIT_SECONDS = 0.05
#: How long a mark asking the lock holder to flush once more is kept (it is cleared by the next flush).
PENDING_SECONDS = 60
#: How often the broadcaster looks again at a question whose last tally is still being written.
DELIVERY_RECHECK_SECONDS = 0.01


def _key(question_id: int, part: str) -> str:
    return f"th:tally:{int(question_id)}:{part}"


def read_question_state(question_id: int) -> dict[str, Any] | None:
    """The public state of a question, from the database: whether it is open, and its tally."""
    from voting.models import Question
    from voting.selectors import tally_for

    question = Question.objects.filter(pk=question_id).first()
    if question is None:
        return None
    tally = tally_for(question=question)
    return {"open": bool(question.is_open), "version": int(tally["seq"]), "tally": tally}


#: Replaced in unit tests; everything else reads the database through it.
state_reader: Callable[[int], dict[str, Any] | None] = read_question_state


def current_seq(question_id: int) -> int:
    """The last sequence number broadcast for the question (0 before the first)."""
    return int(cache.get(_key(question_id, "seq")) or 0)


def cached_payload(question_id: int) -> dict[str, Any] | None:
    return cache.get(_key(question_id, "payload"))


def _next_seq(question_id: int) -> tuple[str, int]:
    seq_key, epoch_key = _key(question_id, "seq"), _key(question_id, "epoch")
    if cache.add(seq_key, 0, timeout=None):
        # A new counter (first broadcast, or the cache lost it): a new epoch, so clients that
        # remember an old, higher seq accept this one.
        cache.set(epoch_key, uuid.uuid4().hex[:12], timeout=None)
    try:
        seq = cache.incr(seq_key)
    except ValueError:  # evicted between add and incr
        cache.set(seq_key, 1, timeout=None)
        cache.set(epoch_key, uuid.uuid4().hex[:12], timeout=None)
        seq = 1
    epoch = cache.get(epoch_key)
    if epoch is None:
        epoch = uuid.uuid4().hex[:12]
        cache.set(epoch_key, epoch, timeout=None)
    return epoch, int(seq)


class Refreshed(NamedTuple):
    """What a refresh found: the payload to show, whether it is news to broadcast, whether another
    worker held the question's lock (then ``payload`` is the last one cached and may be behind: the
    caller must try again later, because the holder may have read the database before our ballot), and
    whether someone asked for a flush while this one held the lock (``again``: flush once more)."""

    payload: dict[str, Any] | None
    changed: bool
    busy: bool = False
    again: bool = False


def refresh(question_id: int, *, max_age: float | None = None, wait: float = 1.0) -> Refreshed:
    """See ``_refresh``. If the cache (Redis) is unreachable, the database is read directly and the
    payload carries the epoch ``"direct"`` and seq 0: clients show the right numbers and resume
    numbering under a new epoch once the cache is back. Nothing is broadcast meanwhile."""
    try:
        return _refresh(question_id, max_age=max_age, wait=wait)
    except Exception:
        logger.warning(
            "Tally cache unreachable for question %s: reading the database", question_id, exc_info=True
        )
        state = state_reader(question_id)
        if state is None:
            return Refreshed(None, False)
        payload = {"question": int(question_id), "epoch": "direct", "seq": 0, "at": time.time(), **state}
        return Refreshed(payload, False)


def _refresh(question_id: int, *, max_age: float | None, wait: float) -> Refreshed:
    """Read the question from the database under its lock and store the result as the last payload.

    With ``max_age``, a cached payload younger than that is returned as it is. ``changed`` says the
    payload differs from the last broadcast and should be sent; ``busy`` that the lock was not ours.
    Synchronous: call it through ``database_sync_to_async``.
    """
    cached = cached_payload(question_id)
    if max_age is not None and cached is not None and time.time() - cached["at"] <= max_age:
        return Refreshed(cached, False)
    lock_key, pending_key, token = _key(question_id, "lock"), _key(question_id, "pending"), uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while not cache.add(lock_key, token, timeout=LOCK_SECONDS):
        if time.monotonic() > deadline:
            # Another worker is flushing this question, or died holding the lock (it expires).
            return Refreshed(cached_payload(question_id) or cached, False, busy=True)
        time.sleep(0.005)
    try:
        # What asked for a flush before this point is covered by the read below.
        cache.delete(pending_key)
        result = _read_and_number(question_id)
    finally:
        if cache.get(lock_key) == token:
            cache.delete(lock_key)
    # Checked after the lock is released: a caller that found it taken left this mark and went away
    # (``Broadcaster.tally_changed`` without an event loop), trusting the holder to flush once more.
    if cache.get(pending_key):
        result = result._replace(again=True)
    return result


def _read_and_number(question_id: int) -> Refreshed:
    """The body of ``_refresh``, run under the question's lock."""
    last = cached_payload(question_id)
    state = state_reader(question_id)
    if state is None:
        return Refreshed(None, False)
    if (
        last is not None
        and last.get("epoch") == cache.get(_key(question_id, "epoch"))
        and (last["open"], last["tally"]) == (state["open"], state["tally"])
    ):
        # Nothing changed since the last broadcast: no new seq, so clients see no gap.
        last = {**last, "at": time.time()}
        cache.set(_key(question_id, "payload"), last, timeout=None)
        return Refreshed(last, False)
    # Changed: take the next seq, then read again, so this payload holds every ballot
    # acknowledged before the seq moved (see the module docstring).
    epoch, seq = _next_seq(question_id)
    state = state_reader(question_id) or state
    payload = {
        "question": int(question_id),
        "epoch": epoch,
        "seq": seq,
        "at": time.time(),
        "status_changed": last is not None and last["open"] != state["open"],
        **state,
    }
    cache.set(_key(question_id, "payload"), payload, timeout=None)
    return Refreshed(payload, True)


def public_payload(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: payload[k] for k in ("question", "epoch", "seq", "version", "open", "tally")}


def tally_event(payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer event for a tally broadcast: the frame is serialised once, not per watcher."""
    text = json.dumps(
        {"type": protocol.TALLY, "id": None, "payload": public_payload(payload)}, separators=(",", ":")
    )
    return {
        "type": protocol.EVENT_TALLY,
        "question": payload["question"],
        "epoch": payload["epoch"],
        "seq": payload["seq"],
        "open": payload["open"],
        "text": text,
    }


async def send_tally(payload: dict[str, Any]) -> None:
    """Send a fresh payload to the question's watchers; tell everyone else when it opened or closed."""
    layer = get_channel_layer()
    if layer is None:
        return
    await layer.group_send(protocol.tally_group(payload["question"]), tally_event(payload))
    if payload.get("status_changed"):
        await layer.group_send(
            protocol.status_group(payload["question"]),
            {"type": protocol.EVENT_STATUS, "question": payload["question"], "open": payload["open"]},
        )


@dataclass
class _LoopState:
    dirty: dict[int, float] = field(default_factory=dict)  # question -> when first marked
    last_flush: dict[int, float] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    flushes: int = 0


class Broadcaster:
    """Coalesces ``tally_changed`` calls per question, per event loop (one per ASGI worker)."""

    def __init__(self, interval: float = protocol.BROADCAST_INTERVAL):
        self.interval = interval
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState] = {}

    # Entry points -----------------------------------------------------------------------------
    def tally_changed(self, question_id: int) -> None:
        """Called (from ``on_commit``) in any thread: schedule a coalesced broadcast."""
        loop = self._worker_loop()
        if loop is not None:
            loop.call_soon_threadsafe(self.mark, int(question_id), context=contextvars.Context())
            return
        # No ASGI event loop in this process (a management command, a plain test): broadcast now,
        # unless another thread or process is flushing the question: then leave it a mark and go. The
        # holder looks for the mark once it has released the lock and flushes again (``again``), so a
        # ballot it may have read too early for is still sent, and concurrent callers do not queue.
        question_id = int(question_id)
        cache.set(_key(question_id, "pending"), 1, timeout=PENDING_SECONDS)
        while True:
            result = refresh(question_id, wait=0)
            if result.payload is not None and result.changed:
                async_to_sync(send_tally)(result.payload)
            if not result.again:
                return

    def mark(self, question_id: int) -> None:
        """Mark a question dirty; must run on the worker's event loop."""
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            # Forget loops that have closed (each test has its own).
            self._loops = {lp: st for lp, st in self._loops.items() if not lp.is_closed()}
            state = self._loops[loop] = _LoopState()
        state.dirty.setdefault(question_id, time.monotonic())
        if state.task is None or state.task.done():
            # A clean context: the caller may be a sync_to_async thread, whose executor must not be inherited.
            state.task = loop.create_task(self._run(state), context=contextvars.Context())
        state.wake.set()

    async def flush_now(self, question_id: int, *, wait: float = 1.0) -> dict | None:
        """Read and broadcast at once (used by live-session changes and snapshot requests)."""
        result = await database_sync_to_async(refresh, thread_sensitive=False)(question_id, wait=wait)
        self.settle(question_id, result)
        if result.payload is not None and result.changed:
            await send_tally(result.payload)
        return result.payload

    def settle(self, question_id: int, result: Refreshed) -> None:
        """After a refresh on this loop: if another worker held the lock, or someone asked for a flush
        while this one held it, flush again later, so a ballot committed meanwhile (or after a worker
        died holding the lock) is still broadcast."""
        if result.busy or result.again:
            self.mark(int(question_id))

    async def shutdown(self) -> None:
        """Stop this loop's flusher (tests, and a worker shutting down)."""
        state = self._loops.pop(asyncio.get_running_loop(), None)
        if state is not None and state.task is not None and not state.task.done():
            state.task.cancel()
            # Bounded, like the fan-out hub's close: a flush stuck on the database or Redis is left
            # to end on its own rather than holding up the shutdown.
            await asyncio.wait({state.task}, timeout=2.0)

    def stats(self) -> dict[str, int]:
        return {"flushes": sum(st.flushes for st in self._loops.values())}

    # Internals --------------------------------------------------------------------------------
    @staticmethod
    def _worker_loop() -> asyncio.AbstractEventLoop | None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            pass
        # A thread started by sync_to_async (a sync view, or ORM work of a consumer) knows the
        # event loop that called it.
        loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
        if loop is not None and not loop.is_closed() and loop.is_running():
            return loop
        return None

    async def _run(self, state: _LoopState) -> None:
        while True:
            if not state.dirty:
                state.wake.clear()
                try:
                    await asyncio.wait_for(state.wake.wait(), timeout=30)
                except TimeoutError:
                    if not state.dirty:
                        return
                continue
            now = time.monotonic()
            # Not while this worker is still writing the question's last tally to its watchers: with
            # thousands of them that takes longer than the interval, and starting the next broadcast
            # meanwhile would only queue more frames behind it.
            due = [
                q
                for q in state.dirty
                if now - state.last_flush.get(q, 0.0) >= self.interval and not fanout.delivering(q)
            ]
            if not due:
                next_at = min(state.last_flush.get(q, 0.0) + self.interval for q in state.dirty)
                state.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        state.wake.wait(), timeout=max(DELIVERY_RECHECK_SECONDS, next_at - now)
                    )
                continue
            for question_id in due:
                state.dirty.pop(question_id, None)
                state.last_flush[question_id] = time.monotonic()
                try:
                    await self.flush_now(question_id, wait=BUSY_WAIT_SECONDS)
                    state.flushes += 1
                except Exception:  # a broadcast must never take the worker down
                    logger.exception("Tally broadcast for question %s failed", question_id)


broadcaster = Broadcaster()


def tally_changed(question_id: int) -> None:
    """What ``ballot_cast`` schedules with ``transaction.on_commit``."""
    broadcaster.tally_changed(question_id)
