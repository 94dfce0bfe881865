"""Tally fan-out: one channel-layer subscription per worker (per event loop) per question.

Without this module every watcher socket would join a question's tally and status groups, so one
broadcast to 10,000 watchers cost 10,000 channel-layer messages (10,000 Redis writes with
``RedisChannelLayer``) and 10,000 dispatches through Channels. Here each worker's event loop has one
``FanoutHub`` with one channel of its own. When the first local socket starts watching question q,
the hub adds its channel to ``tally_group(q)`` and ``status_group(q)``; when the last one stops, it
leaves them. One receive task reads the hub's channel and writes each tally frame, serialised once
by the broadcaster (``broadcast.tally_event``), straight to the ASGI ``send`` of every local watcher
whose ``tally_due`` says it wants it (the per-socket epoch/seq check that drops a late, older update).
Status events (a question opened or closed) go to each watcher's own handler in a task of its own,
as they read the database.

Frames go out through the server's own ``send`` (kept in the scope by ``KeepServerSend``), not the
one Channels' session middleware wraps: that wrapper reads the session on every message to decide
whether to save it, which it only ever does for an HTTP response, and it cost a fifth of a worker's
CPU with 5,000 watchers. The hub also lets the event loop run other work every ``YIELD_EVERY``
watchers, so that votes arriving during a broadcast to thousands of sockets are not held up until it
ends; meanwhile ``delivering`` tells the worker's broadcaster to leave that question's next flush
until the hub is done (otherwise the flushes those votes prompt pile up frames behind each other).

A slow client must not hold up the others. Daphne's ``send`` hands the frame to the transport and
returns; uvicorn's waits while that socket's write buffer is full (a phone on a bad connection). So
each send is started in place and, only if it has to wait, finished in a task of its own; while a
socket has a send waiting, later updates for it are not queued behind it: the newest one is kept and
sent when the socket drains (a tally is whole, so the older ones are of no use).

The hub carries the sockets' other group events too: a live session's "the host moved on"
(``protocol.session_group``) and a browser session's sign-out (``protocol.auth_group``). A socket
``subscribe``s to such a group, the hub joins it once for all its local members, and an event that
names its ``group`` is handed to each member's ``relay_event`` in a task of its own. So no socket needs
a channel of its own (``LiveConsumerBase`` opens none): each would cost a receive task waiting on the
layer (some 40 objects per socket for every garbage collection to walk, with 10,000 watchers) and a
second subscription in Redis, and would fail with the layer (a socket closed with 1011 while Redis
restarts). After the layer comes back the hub tells each member (``EVENT_RECOVERED``), since an event
may have been lost meanwhile.

``watch`` returns only once the hub's group join is complete, so a socket that registers and then
reads its snapshot cannot miss an update that falls between the two.

The channel layer may fail (Redis restarted: its queues and group memberships are gone). A receive
error, a heartbeat the hub cannot send to itself, or one that does not come back within
``HEARTBEAT_LOST_AFTER`` marks the hub as down. Once a message gets through again the hub re-joins
its groups and pushes every local watcher a tally read afresh from the database
(``broadcast.broadcaster.flush_now``), so clients are back on the right numbers about a second after
the layer is. Groups are also re-joined periodically (channels_redis expires them): the questions'
every ``REJOIN_SECONDS``, the others, which may number thousands, every ``GROUPS_RENEW_SECONDS``.

Hubs are kept per running event loop, as the broadcaster keeps its state: a daphne worker has one
loop; the tests start one per test, and hubs of closed loops are forgotten.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from types import CoroutineType
from typing import Any, Protocol

from voting import broadcast, protocol

logger = logging.getLogger("townhall.live")

#: A heartbeat to the hub's own channel this often while it has watchers (seconds) ...
HEARTBEAT_SECONDS = 0.5
#: ... and the hub counts as cut off from the layer when none has arrived for this long.
HEARTBEAT_LOST_AFTER = 3.0
#: Group memberships are renewed this often (channels_redis lets them expire): the questions' ...
REJOIN_SECONDS = 60.0
#: ... and the other groups' (a live session's, and one per signed-in browser: thousands in a big
#: meeting), well within channels_redis's default expiry of a day.
GROUPS_RENEW_SECONDS = 3600.0
#: How many of those group joins are in flight at once.
REJOIN_AT_ONCE = 100
#: Back-off between failed receives: first wait, doubled up to the maximum.
BACKOFF_FIRST = 0.05
BACKOFF_MAX = 0.5

#: The longest a closing hub waits for its tasks and for leaving its groups (seconds).
CLOSE_SECONDS = 2.0

EVENT_HEARTBEAT = "fanout.heartbeat"
#: Handed to every member of a subscribed group once the layer works again after a failure (events
#: sent meanwhile may be lost): ``{"type": EVENT_RECOVERED, "group": ...}``.
EVENT_RECOVERED = "fanout.recovered"

#: A broadcast lets the event loop run other callbacks after this many watchers.
YIELD_EVERY = 250

#: Where ``KeepServerSend`` puts the server's own ``send`` in a websocket's scope.
SERVER_SEND = "townhall.server_send"


class KeepServerSend:
    """ASGI middleware, outermost on websockets: keeps the server's ``send`` in the scope, where
    ``LiveConsumerBase`` finds it for the frames of tally broadcasts (see the module's docstring)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        return await self.inner({**scope, SERVER_SEND: send}, receive, send)


class Watcher(Protocol):
    """What the hub needs of a socket (``voting.consumers.LiveConsumerBase``)."""

    async def frame_send(self, message: dict[str, Any]) -> None:
        """Write a ``websocket.send`` message to this socket."""

    def tally_due(self, event: dict[str, Any]) -> bool:
        """Whether this tally event goes to this socket now; if so it is noted as the last sent."""

    def status_due(self, event: dict[str, Any]) -> bool:
        """Whether this socket has to act on a status event."""

    async def relay_status(self, event: dict[str, Any]) -> None: ...

    async def relay_event(self, event: dict[str, Any]) -> None:
        """Handle an event sent to a group this socket subscribed to."""


@dataclass(eq=False)
class _Group:
    members: dict[Any, None] = field(default_factory=dict)  # an ordered set
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # serialises joining and leaving
    joined: bool = False


@dataclass(eq=False)
class _Question(_Group):
    """A watched question: its watchers are the members; the hub joins its tally and status groups."""

    open: bool | None = None  # as last heard, to tell whether a recovery must announce a change


class FanoutHub:
    """One event loop's subscription to the channel layer, shared by all its watcher sockets."""

    def __init__(self, layer: Any):
        self.layer = layer
        self.channel: str | None = None
        self.questions: dict[int, _Question] = {}
        #: Other groups (live sessions, signed-in browser sessions) and their local members.
        self.groups: dict[str, _Group] = {}
        self._start_lock = asyncio.Lock()
        self._has_channel = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()
        self._recovering: asyncio.Task | None = None
        self.last_seen = time.monotonic()
        self.last_rejoin = self.last_groups_rejoin = time.monotonic()
        self.down_since: float | None = None
        self.failures = 0
        self.counts = {"broadcasts": 0, "frames": 0, "dropped": 0, "recoveries": 0, "waits": 0, "skipped": 0}
        #: Watchers with a send still waiting, and the newest frame to send them next (or None).
        self._waiting: dict[Any, dict[str, Any] | None] = {}
        #: Questions whose tally this hub is writing to its watchers right now.
        self.delivering: set[int] = set()

    # Registration -----------------------------------------------------------------------------
    async def watch(self, watcher: Watcher, question_id: int) -> None:
        """Deliver question ``question_id`` to ``watcher``; returns once the groups are joined. If the
        layer is down the socket still gets its snapshot from the database, and the recovery joins
        the question and pushes a fresh tally when the layer is back."""
        await self._enter(self.questions, question_id, _Question, watcher, lambda: self._join(question_id))

    async def unwatch(self, watcher: Watcher, question_id: int) -> None:
        await self._exit(self.questions, question_id, watcher, lambda: self._leave(question_id))

    def watcher_count(self, question_id: int | None = None) -> int:
        if question_id is not None:
            question = self.questions.get(question_id)
            return len(question.members) if question else 0
        return sum(len(q.members) for q in self.questions.values())

    async def subscribe(self, member: Watcher, group: str) -> None:
        """Hand ``member`` the events sent to ``group``; returns once the hub has joined it (if the
        layer is down, the recovery joins it and tells its members)."""
        await self._enter(
            self.groups, group, _Group, member, lambda: self.layer.group_add(group, self.channel)
        )

    async def unsubscribe(self, member: Watcher, group: str) -> None:
        await self._exit(self.groups, group, member, lambda: self.layer.group_discard(group, self.channel))

    async def _enter(
        self, entries: dict, key: Any, kind: type[_Group], member: Watcher, join: Callable[[], Awaitable[Any]]
    ) -> None:
        """Add ``member`` to ``entries[key]``; the first one in makes the hub join (once)."""
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = kind()
        entry.members[member] = None
        async with entry.lock:
            if entry.joined:
                return
            try:
                await self._start()
                await join()
                entry.joined = True
            except Exception:
                logger.warning("Could not join the group(s) of %s", key, exc_info=True)
                self._mark_down()

    async def _exit(
        self, entries: dict, key: Any, member: Watcher, leave: Callable[[], Awaitable[Any]]
    ) -> None:
        """Remove ``member`` from ``entries[key]``; the last one out makes the hub leave."""
        entry = entries.get(key)
        if entry is None or member not in entry.members:
            return
        del entry.members[member]
        if entry.members:
            return
        async with entry.lock:
            if entry.members:
                return  # someone came in again while we waited
            if entry.joined:
                entry.joined = False
                try:
                    await leave()
                except Exception:
                    logger.warning("Could not leave the group(s) of %s", key, exc_info=True)
            if not entry.members and entries.get(key) is entry:
                del entries[key]

    # Groups -----------------------------------------------------------------------------------
    async def _join(self, question_id: int) -> None:
        await self.layer.group_add(protocol.tally_group(question_id), self.channel)
        await self.layer.group_add(protocol.status_group(question_id), self.channel)

    async def _leave(self, question_id: int) -> None:
        await self.layer.group_discard(protocol.tally_group(question_id), self.channel)
        await self.layer.group_discard(protocol.status_group(question_id), self.channel)

    async def _rejoin(self, *, groups: bool = True) -> None:
        """Join every watched question's groups again, and with ``groups`` the other groups too (after
        a failure all of them; periodically the other groups only every GROUPS_RENEW_SECONDS)."""
        await self._start()
        for question_id, question in list(self.questions.items()):
            if question.members:
                await self._join(question_id)
                question.joined = True
        if groups:
            await self._rejoin_groups()
        self.last_rejoin = time.monotonic()

    async def _rejoin_groups(self) -> None:
        """Join the other groups again, up to ``REJOIN_AT_ONCE`` at a time (a big meeting has one per
        signed-in browser: one after the other, thousands of round trips to Redis would take seconds)."""
        entries = [(name, entry) for name, entry in self.groups.items() if entry.members]
        for start in range(0, len(entries), REJOIN_AT_ONCE):
            batch = entries[start : start + REJOIN_AT_ONCE]
            await asyncio.gather(*(self.layer.group_add(name, self.channel) for name, _ in batch))
            for _, entry in batch:
                entry.joined = True
        self.last_groups_rejoin = time.monotonic()

    # Lifecycle --------------------------------------------------------------------------------
    async def _start(self) -> None:
        """Make sure the tasks run and the hub has its channel (raises if the layer is down)."""
        if not self._tasks:
            loop = asyncio.get_running_loop()
            # Clean contexts: the caller's (a consumer's) context must not leak into long-lived tasks.
            self._tasks = [
                loop.create_task(self._receive_loop(), context=contextvars.Context()),
                loop.create_task(self._keep(), context=contextvars.Context()),
            ]
        if self.channel is not None:
            return
        async with self._start_lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.last_seen = time.monotonic()
                self._has_channel.set()

    async def close(self) -> None:
        """Stop the tasks and leave the groups (a worker shutting down, and the tests)."""
        tasks = [*self._tasks, *self._background]
        if self._recovering is not None:
            tasks.append(self._recovering)
        for task in tasks:
            task.cancel()
        if tasks:
            # Bounded: a shutting-down worker must not hang on a layer that does not answer.
            await asyncio.wait(tasks, timeout=CLOSE_SECONDS)
        self._tasks, self._background, self._recovering = [], set(), None
        self._waiting.clear()
        if self.channel is not None and (self.questions or self.groups):
            leaving = [asyncio.ensure_future(self._leave(q)) for q in list(self.questions)]
            leaving += [
                asyncio.ensure_future(self.layer.group_discard(name, self.channel))
                for name in list(self.groups)
            ]
            done, pending = await asyncio.wait(leaving, timeout=CLOSE_SECONDS)
            for task in pending:
                task.cancel()
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    logger.debug("Could not leave a group on close", exc_info=task.exception())
        self.questions.clear()
        self.groups.clear()
        self.channel = None
        self._has_channel.clear()

    def _spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # Receiving --------------------------------------------------------------------------------
    async def _receive_loop(self) -> None:
        await self._has_channel.wait()
        backoff = BACKOFF_FIRST
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.down_since is None:
                    logger.warning("Tally fan-out: the channel layer failed; retrying", exc_info=True)
                self._mark_down()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            backoff = BACKOFF_FIRST
            self.last_seen = time.monotonic()
            if self.down_since is not None and (self._recovering is None or self._recovering.done()):
                self._recovering = self._spawn(self._recover())
            try:
                await self._dispatch(event)
            except Exception:  # a bad event must never stop the fan-out
                logger.exception("Tally fan-out could not deliver %r", event.get("type"))

    async def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == protocol.EVENT_TALLY:
            await self.deliver_tally(event)
        elif kind == protocol.EVENT_STATUS:
            self.relay_status(event)
        elif event.get("group") in self.groups:  # heartbeats name no group
            self.relay_event(event)

    async def deliver_tally(self, event: dict[str, Any]) -> None:
        """Write one tally frame to every local watcher of its question that is due it."""
        question_id = event["question"]
        question = self.questions.get(question_id)
        if question is None:
            return
        if "open" in event:
            question.open = event["open"]
        self.counts["broadcasts"] += 1
        self.delivering.add(question_id)
        try:
            await self._write_tally(question, event)
        finally:
            self.delivering.discard(question_id)

    async def _write_tally(self, question: _Question, event: dict[str, Any]) -> None:
        message = {"type": "websocket.send", "text": event["text"]}
        waiting, sent = self._waiting, 0
        # This loop runs once per watcher per broadcast (10,000 times for a large audience), so the
        # send is stepped here rather than in a helper.
        for index, watcher in enumerate(tuple(question.members), start=1):
            if index % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            try:
                if not watcher.tally_due(event):
                    continue
                if waiting and watcher in waiting:
                    waiting[watcher] = message  # replaces an older frame it has not had yet
                    self.counts["skipped"] += 1
                    continue
                # Run the server's send up to its first wait ...
                steps = _steps(watcher.frame_send(message))
                try:
                    waiting_on = steps.send(None)
                except StopIteration:
                    sent += 1  # written (daphne, or uvicorn with room in the buffer)
                    continue
                # ... and if it has to wait, finish it in a task.
                sent += 1
                self.counts["waits"] += 1
                waiting[watcher] = None
                self._spawn(self._finish_send(watcher, _Rest(steps, waiting_on), event["question"]))
            except Exception:
                self._drop(watcher, event["question"])
        self.counts["frames"] += sent

    async def _finish_send(self, watcher: Watcher, rest: Awaitable[None], question_id: int) -> None:
        try:
            await rest
            while (newest := self._waiting.get(watcher)) is not None:
                self._waiting[watcher] = None
                await watcher.frame_send(newest)
        except asyncio.CancelledError:
            raise
        except Exception:
            self._drop(watcher, question_id)
        finally:
            self._waiting.pop(watcher, None)

    def _drop(self, watcher: Watcher, question_id: int) -> None:
        """A socket that cannot take a frame (closed under us) is no longer served."""
        logger.debug("Dropping a watcher of question %s", question_id, exc_info=True)
        self.counts["dropped"] += 1
        self._spawn(self.unwatch(watcher, question_id))

    def relay_status(self, event: dict[str, Any]) -> None:
        """A question opened or closed: each watcher that must act does so in a task of its own."""
        question = self.questions.get(event["question"])
        if question is None:
            return
        question.open = event.get("open", question.open)
        for watcher in tuple(question.members):
            try:
                due = watcher.status_due(event)
            except Exception:
                logger.exception("Status check failed for a watcher of question %s", event["question"])
                continue
            if due:
                self._spawn(self._hand_on(watcher.relay_status, event))

    def relay_event(self, event: dict[str, Any]) -> None:
        """An event sent to one of the other groups: each local member handles it in a task of its own
        (its ``relay_event`` takes its turn with the socket's other handlers)."""
        entry = self.groups.get(event["group"])
        for member in tuple(entry.members) if entry is not None else ():
            self._spawn(self._hand_on(member.relay_event, event))

    @staticmethod
    async def _hand_on(handle: Callable[[dict[str, Any]], Awaitable[None]], event: dict[str, Any]) -> None:
        """One socket's handling of a relayed event, in a task of its own: a failure stays with it."""
        try:
            await handle(event)
        except Exception:
            logger.debug("A socket could not handle %r", event.get("type"), exc_info=True)

    # Keeping the subscription alive -------------------------------------------------------------
    def _mark_down(self) -> None:
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.monotonic()

    async def _keep(self) -> None:
        """Heartbeats to our own channel, to notice a layer that lost us without an error (the pub/sub
        layer reconnects to Redis by itself), and the periodic re-join."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            now = time.monotonic()
            if not self.questions and not self.groups:
                self.last_seen = now  # nothing to watch: no heartbeats, nothing to miss
                continue
            try:
                await self._start()  # a channel, if the layer was down when the hub started
                await self.layer.send(self.channel, {"type": EVENT_HEARTBEAT})
            except Exception:
                if self.down_since is None:
                    logger.warning("Tally fan-out: cannot reach the channel layer", exc_info=True)
                self._mark_down()
                continue
            if now - self.last_seen > HEARTBEAT_LOST_AFTER:
                if self.down_since is None:
                    logger.warning("Tally fan-out: heartbeats stopped arriving; re-joining")
                self._mark_down()
            elif self.down_since is None and now - self.last_rejoin >= REJOIN_SECONDS:
                try:
                    await self._rejoin(groups=now - self.last_groups_rejoin >= GROUPS_RENEW_SECONDS)
                except Exception:
                    self._mark_down()

    async def _recover(self) -> None:
        """The layer works again: re-join, bring every local watcher back to the database's tally, then
        re-join the other groups (there may be thousands: the tallies go first) and tell their members."""
        failures = self.failures
        try:
            await self._rejoin(groups=False)
            for question_id in list(self.questions):
                payload = await broadcast.broadcaster.flush_now(question_id)
                if payload is None:
                    continue
                if payload.get("epoch") == "direct":
                    raise ConnectionError("the tally cache is still unreachable")
                event = broadcast.tally_event(payload)
                question = self.questions.get(question_id)
                known_open = question.open if question is not None else None
                await self.deliver_tally(event)
                if known_open is None or known_open != payload["open"]:
                    # It may have opened or closed while we could not hear: let the watchers that
                    # cannot see the tally re-check what they may see.
                    self.relay_status(
                        {"type": protocol.EVENT_STATUS, "question": question_id, "open": payload["open"]}
                    )
            await self._rejoin_groups()
            for name in list(self.groups):
                self.relay_event({"type": EVENT_RECOVERED, "group": name})
        except Exception:
            logger.warning("Tally fan-out: recovery failed; will try again", exc_info=True)
            self._mark_down()
            self.down_since = time.monotonic()
            return
        if self.failures == failures:
            self.down_since = None
            self.counts["recoveries"] += 1
            logger.warning("Tally fan-out: the channel layer is back; watchers refreshed")


# One hub per running event loop ------------------------------------------------------------------
_hubs: dict[asyncio.AbstractEventLoop, FanoutHub] = {}


def hub(layer: Any = None) -> FanoutHub | None:
    """The running loop's hub on ``layer`` (the default channel layer if not given)."""
    global _hubs
    if layer is None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return None
    loop = asyncio.get_running_loop()
    current = _hubs.get(loop)
    if current is not None and current.layer is layer:
        return current
    if current is None:
        # Forget loops that have closed (each test has its own).
        _hubs = {lp: h for lp, h in _hubs.items() if not lp.is_closed()}
    else:
        # The layer was replaced (settings changed in a test): the old hub's tasks stop.
        for task in current._tasks:
            task.cancel()
    created = _hubs[loop] = FanoutHub(layer)
    return created


def delivering(question_id: int) -> bool:
    """Whether this event loop's hub is still writing a tally of the question to its watchers (the
    broadcaster waits for it: see ``broadcast.Broadcaster``)."""
    current = _hubs.get(asyncio.get_running_loop())
    return current is not None and question_id in current.delivering


async def watch(watcher: Any, question_id: int) -> None:
    """Register a socket for a question's tally and status; see ``FanoutHub.watch``."""
    found = hub(getattr(watcher, "channel_layer", None))
    if found is not None:
        await found.watch(watcher, int(question_id))


async def unwatch(watcher: Any, question_id: int) -> None:
    found = _hubs.get(asyncio.get_running_loop())
    if found is not None:
        await found.unwatch(watcher, int(question_id))


async def subscribe(member: Any, group: str) -> None:
    """Hand a socket the events sent to a group; see ``FanoutHub.subscribe``."""
    found = hub(getattr(member, "channel_layer", None))
    if found is not None:
        await found.subscribe(member, group)


async def unsubscribe(member: Any, group: str) -> None:
    found = _hubs.get(asyncio.get_running_loop())
    if found is not None:
        await found.unsubscribe(member, group)


async def shutdown() -> None:
    """Close this loop's hub (tests, and a worker shutting down)."""
    found = _hubs.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.close()


def _steps(awaitable: Awaitable[Any]) -> Generator[Any, Any, Any]:
    """The awaitable as the generator the event loop drives (what ``await`` would step through).
    A coroutine is stepped as it is, without the wrapper its ``__await__`` would add."""
    if type(awaitable) is CoroutineType:
        return awaitable  # type: ignore[return-value]
    return awaitable.__await__()  # type: ignore[return-value]


class _Rest:
    """The rest of an awaitable whose first step has been taken and yielded ``waiting_on``.

    Awaiting it hands ``waiting_on`` to the running task and then passes the task's results and
    exceptions (a cancellation included) on to the awaitable, exactly as a plain ``await`` would
    have done from the start. Python 3.12's eager tasks do the same; this runs on 3.11.
    """

    def __init__(self, steps: Generator[Any, Any, Any], waiting_on: Any):
        self.steps, self.waiting_on = steps, waiting_on

    def __await__(self) -> Generator[Any, Any, Any]:
        pending = self.waiting_on
        while True:
            try:
                result = yield pending
            except BaseException as exc:  # handed on to the awaitable, as await does
                try:
                    pending = self.steps.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    pending = self.steps.send(result)
                except StopIteration as done:
                    return done.value
