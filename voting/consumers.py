"""Live websocket consumers: one question's tally, or a live session (a council meeting).

Thin, as views are: parse the frame (``voting.protocol``), ask the rules through the selectors,
hand votes to the batch writer (``voting.batching``), which records them with the same service as the
form POST, send. The database stays the truth: a snapshot is sent on connect and on request, and
tally updates carry sequence numbers so a client that misses one asks again.

Origin is checked by ``AllowedHostsOriginValidator`` and the user comes from the session cookie
(``AuthMiddlewareStack``), both in ``config/asgi.py``. Signing out closes the browser session's
sockets (``voting.live.close_sockets_of_session`` on ``user_logged_out``), and a socket re-checks its
session before a vote at least every ``SESSION_RECHECK_SECONDS``.

Tally and status updates do not come through each socket's own channel: the worker's fan-out hub
(``voting.fanout``) holds one channel-layer subscription per question for all the sockets watching
it, writes each tally frame to the sockets whose ``tally_due`` accepts it, and hands status events to
``relay_status``. The hub carries the live-session and sign-out events too (``subscribe``), so a
socket has no channel of its own (``channel_layer_alias``).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Callable
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from voting import batching, broadcast, fanout, protocol
from voting.protocol import ProtocolError


def _session_still_signed_in(session_key: str | None, user_id: int) -> bool:
    from django.contrib.auth import SESSION_KEY, get_user_model

    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    if str(store.get(SESSION_KEY, "")) != str(user_id):
        return False
    return get_user_model().objects.filter(pk=user_id, is_active=True).exists()


def _sessions_that_exist(keys: list[str]) -> set[str]:
    """Which of these browser sessions still exist (signing out deletes one): a query per 500 keys with
    the database-backed session stores, one lookup per key with any other."""
    from django.utils import timezone

    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        return {key for key in keys if store().exists(key)}
    model, now, found = store.get_model_class(), timezone.now(), set()
    for start in range(0, len(keys), 500):
        found.update(
            model.objects.filter(session_key__in=keys[start : start + 500], expire_date__gt=now).values_list(
                "session_key", flat=True
            )
        )
    return found


class OnePassBatch:
    """Lookups asked in the same pass of the event loop, answered together by one call of ``fetch``
    (a function of the keys, run on the database thread, returning a value for each key it knows).

    After the channel layer recovers, every socket of a worker is told at once; thousands of sockets
    each reading the database on their own would queue thousands of queries on the worker's database
    thread, ahead of votes and snapshots. Through a batch they cost one call."""

    def __init__(self, fetch: Callable[[list[Any]], dict[Any, Any]]):
        self.fetch = fetch
        self._pending: dict[asyncio.AbstractEventLoop, dict[Any, asyncio.Future[Any]]] = {}

    async def get(self, key: Any) -> Any:
        loop = asyncio.get_running_loop()
        pending = self._pending.get(loop)
        if pending is None:
            self._pending = {lp: p for lp, p in self._pending.items() if not lp.is_closed()}
            pending = self._pending[loop] = {}
            loop.call_soon(self._answer, loop)
        answer = pending.get(key)
        if answer is None:
            answer = pending[key] = loop.create_future()
        return await asyncio.shield(answer)  # one waiter leaving does not cancel the others' answer

    def _answer(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = self._pending.pop(loop, {})

        async def answer() -> None:
            try:
                found = await database_sync_to_async(self.fetch)(list(pending))
            except Exception as exc:
                for future in pending.values():
                    if not future.done():
                        future.set_exception(exc)
                return
            for key, future in pending.items():
                if not future.done():
                    future.set_result(found.get(key))

        loop.create_task(answer(), context=contextvars.Context())


def _session_existence(keys: list[str]) -> dict[str, bool]:
    found = _sessions_that_exist(keys)
    return {key: key in found for key in keys}


#: Whether browser sessions still exist (after a recovery: a sign-out may have been missed).
session_exists = OnePassBatch(_session_existence)


def _session_states(codes: list[str]) -> dict[str, Any]:
    from voting.live import session_state

    return {code: session_state(code=code) for code in codes}


#: Live sessions' states by code (after a recovery: the host may have moved on).
session_states = OnePassBatch(_session_states)


def _question_view(question_id: int, user) -> dict[str, Any] | None:
    """Whether the question exists and whether this person may see its numbers now."""
    from voting.models import Question
    from voting.selectors import results_visible_to

    question = Question.objects.filter(pk=question_id).first()
    if question is None:
        return None
    return {"question": question.pk, "visible": bool(results_visible_to(question=question, user=user))}


class TokenBucket:
    def __init__(self, rate: float = protocol.RATE_PER_SECOND, burst: int = protocol.RATE_BURST):
        self.rate, self.capacity = rate, float(burst)
        self.tokens, self.updated = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class LiveConsumerBase(AsyncWebsocketConsumer):
    """What every live socket does: limits, errors, auth checks, tally delivery and snapshots."""

    #: No channel of its own: every event a live socket needs reaches it through its worker's fan-out
    #: hub. Channels opens a channel (and a task waiting on it) only when this alias names a configured
    #: layer; ``None`` names none.
    channel_layer_alias = None  # type: ignore[assignment]

    question_id: int | None = None
    visible: bool = False
    #: The question this socket is registered for with the fan-out hub.
    watched: int | None = None
    last_seq: tuple[str, int] | None = None
    #: The newest tally update that arrived before this socket's snapshot was sent.
    held_tally: dict | None = None

    async def __call__(self, scope, receive, send):
        #: The server's own send (``fanout.KeepServerSend``), for tally frames; Channels' ``base_send``
        #: where the application is mounted without it.
        self.frame_send = scope.get(fanout.SERVER_SEND) or send
        return await super().__call__(scope, receive, send)

    @functools.cached_property
    def handling(self) -> asyncio.Lock:
        return asyncio.Lock()

    async def dispatch(self, message: dict) -> None:
        """One handler at a time, as Channels runs them; the status events the fan-out hub relays from
        its own task (``relay_status``) wait their turn too."""
        async with self.handling:
            await super().dispatch(message)

    # Connection ----------------------------------------------------------------------------------
    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.bucket = TokenBucket()
        self.refused_in_a_row = 0
        self.last_seq: tuple[str, int] | None = None
        self.groups_joined: set[str] = set()
        self.session_checked_at = time.monotonic()
        if not await self.setup():
            await self.close(code=protocol.CLOSE_NOT_FOUND)
            return
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        if self.signed_in and self.session_key:
            await self.join(protocol.auth_group(self.session_key))
        await self.accept()
        await self.after_accept()

    async def disconnect(self, code: int) -> None:
        if self.watched is not None:
            await fanout.unwatch(self, self.watched)
            self.watched = None
        for group in list(self.groups_joined):
            await fanout.unsubscribe(self, group)
        self.groups_joined.clear()

    async def setup(self) -> bool:
        raise NotImplementedError

    async def after_accept(self) -> None:
        await self.send_snapshot(max_age=1.0)

    @property
    def signed_in(self) -> bool:
        return bool(self.user is not None and self.user.is_authenticated)

    async def join(self, group: str) -> None:
        """Subscribe to a group's events through the worker's hub (see ``relay_event``)."""
        if group not in self.groups_joined:
            await fanout.subscribe(self, group)
            self.groups_joined.add(group)

    async def leave(self, group: str) -> None:
        if group in self.groups_joined:
            await fanout.unsubscribe(self, group)
            self.groups_joined.discard(group)

    async def watch_question(self, question_id: int | None) -> bool:
        """Watch a question's status, and its tally when this person may see it.

        The socket registers with its worker's fan-out hub (``voting.fanout``), which joins the
        question's tally and status groups once for all the worker's sockets."""
        if self.watched is not None and self.watched != question_id:
            await fanout.unwatch(self, self.watched)
            self.watched = None
        self.question_id, self.visible, self.last_seq, self.held_tally = question_id, False, None, None
        if question_id is None:
            return True
        view = await database_sync_to_async(_question_view)(question_id, self.user)
        if view is None:
            if self.watched is not None:
                await fanout.unwatch(self, self.watched)
                self.watched = None
            self.question_id = None
            return False
        self.visible = view["visible"]
        # Register before reading the snapshot, so no update can fall between the two: this returns
        # once the hub's group join is complete (updates that arrive before the snapshot has gone
        # out are held, see ``tally_due``).
        await fanout.watch(self, question_id)
        self.watched = question_id
        return True

    # Frames in -------------------------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > protocol.MAX_FRAME_BYTES:
            await self.send(
                text_data=protocol.error_frame(
                    protocol.E_TOO_LARGE, f"Messages may be at most {protocol.MAX_FRAME_BYTES} bytes."
                )
            )
            await self.close(code=protocol.CLOSE_TOO_LARGE)
            return
        if not self.bucket.take():
            self.refused_in_a_row += 1
            if self.refused_in_a_row >= protocol.FLOOD_CLOSE_AFTER:
                await self.close(code=protocol.CLOSE_POLICY)
                return
            if self.refused_in_a_row == 1 or self.refused_in_a_row % 10 == 0:
                await self.send(
                    text_data=protocol.error_frame(
                        protocol.E_RATE_LIMITED, "Too many messages: slow down and try again in a moment."
                    )
                )
            return
        self.refused_in_a_row = 0
        try:
            message = protocol.parse(text_data, bytes_data)
        except ProtocolError as exc:
            await self.send(text_data=protocol.error_frame(exc.code, exc.message))
            return
        handler = {
            protocol.PING: self.on_ping,
            protocol.SNAPSHOT_REQUEST: self.on_snapshot_request,
            protocol.VOTE: self.on_vote,
        }[message["type"]]
        await handler(message)

    async def on_ping(self, message: dict) -> None:
        await self.send(text_data=protocol.frame(protocol.PONG, id=message["id"]))

    async def on_snapshot_request(self, message: dict) -> None:
        await self.send_snapshot(max_age=0.0, msg_id=message["id"], recheck=True)

    async def on_vote(self, message: dict) -> None:
        msg_id = message["id"]
        if not self.signed_in:
            await self.send_error(protocol.E_NOT_SIGNED_IN, "Sign in to vote.", msg_id)
            return
        if time.monotonic() - self.session_checked_at > protocol.SESSION_RECHECK_SECONDS:
            if not await database_sync_to_async(_session_still_signed_in)(self.session_key, self.user.pk):
                await self.send_error(protocol.E_NOT_SIGNED_IN, "You have signed out.", msg_id)
                await self.close(code=protocol.CLOSE_SIGNED_OUT)
                return
            self.session_checked_at = time.monotonic()
        question_id = self.vote_target(message["payload"])
        if question_id is None:
            await self.send_error(protocol.E_NO_OPEN_QUESTION, "No question is open for voting.", msg_id)
            return
        try:
            # Queued with the other votes on this question that reach this worker meanwhile and
            # written with them in one transaction; answered once that has committed.
            result = await batching.batcher.cast(
                question_id=question_id, voter_id=self.user.pk, data=message["payload"].get("data")
            )
        except Exception:
            await self.send_error(
                protocol.E_UNAVAILABLE, "Your vote was not recorded: please try again in a moment.", msg_id
            )
            return
        if result.error is not None:
            await self.send_error(result.error.code, result.error.message, msg_id)
            return
        receipt: dict[str, Any] = {"question": question_id}
        if result.seq is not None:  # none for secret ballots or hidden results (CastResult.seq)
            receipt["seq"] = result.seq
        if result.recorded_at is not None:
            receipt["recorded_at"] = result.recorded_at.isoformat()
        await self.send(text_data=protocol.frame(protocol.ACK, receipt, id=msg_id))

    def vote_target(self, payload: dict) -> int | None:
        return self.question_id

    async def send_error(self, code: str, message: str, msg_id: Any = None) -> None:
        await self.send(text_data=protocol.error_frame(code, message, id=msg_id))

    # Frames out ------------------------------------------------------------------------------------
    async def send_snapshot(self, *, max_age: float, msg_id: Any = None, recheck: bool = False) -> None:
        if self.question_id is None:
            await self.send(text_data=protocol.frame(protocol.SNAPSHOT, {"question": None}, id=msg_id))
            return
        if recheck:
            # A client asking again may have new rights (the question closed and results opened).
            await self.watch_question(self.question_id)
        result = await database_sync_to_async(broadcast.refresh)(self.question_id, max_age=max_age)
        broadcast.broadcaster.settle(self.question_id, result)
        payload, changed = result.payload, result.changed
        if payload is None:
            await self.send_error(protocol.E_NOT_FOUND, "This question no longer exists.", msg_id)
            return
        if changed:
            await broadcast.send_tally(payload)  # everyone else was behind too
        if self.visible:
            body = broadcast.public_payload(payload)
            self.last_seq = (payload["epoch"], payload["seq"])
        else:
            body = {"question": payload["question"], "open": payload["open"], "hidden": True}
        await self.send(text_data=protocol.frame(protocol.SNAPSHOT, body, id=msg_id))
        held, self.held_tally = self.held_tally, None
        if held is not None:
            await self.tally_broadcast(held)  # an update that arrived while the snapshot was read

    def tally_due(self, event: dict) -> bool:
        """Whether a tally update goes to this socket now; if so it becomes the last one sent.

        Asked by the fan-out hub for every watcher of the question, so it stays cheap and does not
        await. Before this socket's snapshot is out the newest update is held, not sent (the snapshot
        goes first; ``send_snapshot`` then sends the held update if it is newer)."""
        if event["question"] != self.question_id or not self.visible:
            return False
        last = self.last_seq
        if last is None:
            held = self.held_tally
            if held is None or held["epoch"] != event["epoch"] or event["seq"] > held["seq"]:
                self.held_tally = event
            return False
        if last[0] == event["epoch"] and event["seq"] <= last[1]:
            return False  # an older update arriving late from another worker
        self.last_seq = (event["epoch"], event["seq"])
        return True

    async def tally_broadcast(self, event: dict) -> None:
        """Send one tally update to this socket if it is due (the hub does the same for all at once)."""
        if self.tally_due(event):
            await self.frame_send({"type": "websocket.send", "text": event["text"]})

    def status_due(self, event: dict) -> bool:
        """Whether a status event concerns this socket (one that sees the tally learns it from there)."""
        return event["question"] == self.question_id and not self.visible

    async def relay_status(self, event: dict) -> None:
        """The hub's way in to ``status_broadcast``, in turn with this socket's other handlers."""
        async with self.handling:
            if self.watched == event["question"]:
                await self.status_broadcast(event)

    async def status_broadcast(self, event: dict) -> None:
        """A question opened or closed: send the new state (visibility may have changed)."""
        if event["question"] != self.question_id:
            return
        if self.visible:
            return  # the tally update that caused this event carries the new state
        await self.watch_question(self.question_id)  # closing may have made the results public
        await self.send_snapshot(max_age=5.0)

    async def relay_event(self, event: dict) -> None:
        """The hub's way in for the events of the groups this socket joined (``dispatch`` runs the
        handler its type names, in turn with this socket's other handlers)."""
        if event.get("group") not in self.groups_joined:
            return
        if event["type"] == fanout.EVENT_RECOVERED:
            await self.recovered(event)
        else:
            await self.dispatch(event)

    async def auth_signed_out(self, event: dict) -> None:
        await self.close(code=protocol.CLOSE_SIGNED_OUT)

    async def recovered(self, event: dict) -> None:
        """The channel layer was down and may have lost events for ``event["group"]``: a signed-out
        session's socket closes now rather than at its next vote. The lookup is made before taking
        this socket's turn, so that every socket of the worker asks in the same pass (``OnePassBatch``)."""
        key = self.session_key
        if not (self.signed_in and key and event["group"] == protocol.auth_group(key)):
            return
        if not await session_exists.get(key):
            async with self.handling:
                await self.close(code=protocol.CLOSE_SIGNED_OUT)


class QuestionConsumer(LiveConsumerBase):
    """``/ws/questions/<id>/``: one question's tally, and votes on it."""

    async def setup(self) -> bool:
        return await self.watch_question(int(self.scope["url_route"]["kwargs"]["question_id"]))


class LiveSessionConsumer(LiveConsumerBase):
    """``/ws/live/<code>/``: a live session. Follows the question the host has open."""

    async def setup(self) -> bool:
        from voting.live import session_state

        code = self.scope["url_route"]["kwargs"]["code"]
        self.state = await database_sync_to_async(session_state)(code=code)
        if self.state is None:
            return False
        await self.join(protocol.session_group(self.state["session"]))
        return await self.watch_question(self.state["question"])

    async def after_accept(self) -> None:
        await self.send(text_data=protocol.frame(protocol.SESSION, self.state))
        await self.send_snapshot(max_age=1.0)

    def vote_target(self, payload: dict) -> int | None:
        # A vote is only for the question open now; a stale page cannot vote on the previous one.
        wanted = payload.get("question")
        if self.question_id is None or not self.state.get("accepting"):
            return None
        if wanted is not None and str(wanted) != str(self.question_id):
            return None
        return self.question_id

    async def recovered(self, event: dict) -> None:
        """The host may have moved on while the channel layer was down: read the session again."""
        await super().recovered(event)
        if event["group"] != protocol.session_group(self.state["session"]):
            return
        state = await session_states.get(self.state["code"])
        if state is None:
            return
        async with self.handling:
            if state != self.state:
                await self.session_broadcast({"type": protocol.EVENT_SESSION, "state": state})

    async def session_broadcast(self, event: dict) -> None:
        """The host opened, closed or moved on: follow the session's current question."""
        state = event["state"]
        if state["status"] == "ended" and state["question"] is None:
            self.state = state
            await self.send(text_data=protocol.frame(protocol.SESSION, state))
            await self.watch_question(None)
            return
        self.state = state
        await self.send(text_data=protocol.frame(protocol.SESSION, state))
        await self.watch_question(state["question"])
        await self.send_snapshot(max_age=1.0)
