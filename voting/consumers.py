"""Live websocket consumers: one question's tally, or a live session (a council meeting).

Thin, as views are: parse the frame (``voting.protocol``), ask the rules through the selectors,
hand votes to the batch writer (``voting.batching``), which records them with the same service as the
form POST, send. The database stays the truth: a snapshot is sent on connect and on request, and
tally updates carry sequence numbers so a client that misses one asks again.

Origin is checked by ``AllowedHostsOriginValidator`` and the user comes from the session cookie
(``AuthMiddlewareStack``), both in ``config/asgi.py``. The envelope, the limits and signing out
(a sign-out, a password change or a deactivation closes the person's sockets) are common to every
Townhall socket: ``voting.sockets.ProtocolConsumer``.

Tally and status updates do not come through each socket's own channel: the worker's fan-out hub
(``voting.fanout``) holds one channel-layer subscription per question for all the sockets watching
it, writes each tally frame to the sockets whose ``tally_due`` accepts it, and hands status events to
``relay_status``. The hub carries the live-session and sign-out events too (``subscribe``), so a
socket has no channel of its own (``channel_layer_alias``).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from cms import visibility
from voting import batching, broadcast, fanout, protocol
from voting.sockets import OnePassBatch, ProtocolConsumer


def _session_states(codes: list[str]) -> dict[str, Any]:
    from voting.live import session_state

    return {code: session_state(code=code) for code in codes}


#: Live sessions' states by code (after a recovery: the host may have moved on).
session_states = OnePassBatch(_session_states)


def _question_view(question_id: int, scope: dict, public_screen: bool = False) -> dict[str, Any] | None:
    """Whether the question exists and this person may see it (the visibility gate: a draft or
    restricted consultation's question is as good as missing), and whether they may see its numbers
    now (on a public screen: whether the public may)."""
    from voting.models import Question
    from voting.selectors import results_visible_to

    question = Question.objects.select_related("consultation").filter(pk=question_id).first()
    if question is None or not visibility.may_see(scope, question):
        return None
    user = visibility.looker(scope).user
    visible = results_visible_to(question=question, user=user, public_screen=public_screen)
    return {"question": question.pk, "visible": bool(visible)}


class LiveConsumerBase(ProtocolConsumer):
    """What every live socket does on top of the protocol's common ground: tally delivery, snapshots
    and votes."""

    handlers = {
        protocol.PING: "on_ping",
        protocol.SNAPSHOT_REQUEST: "on_snapshot_request",
        protocol.VOTE: "on_vote",
    }

    question_id: int | None = None
    visible: bool = False
    #: A screen in a room (``?screen=public``, the presenter view): it shows what the public may see.
    public_screen: bool = False
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

    # Connection ----------------------------------------------------------------------------------
    async def connect(self) -> None:
        self.start_protocol()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.public_screen = query.get("screen") == ["public"]
        self.last_seq: tuple[str, int] | None = None
        if not await self.setup():
            await self.close(code=protocol.CLOSE_NOT_FOUND)
            return
        await self.join_sign_in_groups()
        await self.accept()
        await self.after_accept()

    async def disconnect(self, code: int) -> None:
        if self.watched is not None:
            await fanout.unwatch(self, self.watched)
            self.watched = None
        await super().disconnect(code)

    async def setup(self) -> bool:
        raise NotImplementedError

    async def after_accept(self) -> None:
        await self.send_snapshot(max_age=1.0)

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
        view = await database_sync_to_async(_question_view)(question_id, self.scope, self.public_screen)
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
    async def on_snapshot_request(self, message: dict) -> None:
        await self.send_snapshot(max_age=0.0, msg_id=message["id"], recheck=True)

    async def on_vote(self, message: dict) -> None:
        msg_id = message["id"]
        if not self.signed_in:
            await self.send_error(protocol.E_NOT_SIGNED_IN, "Sign in to vote.", msg_id)
            return
        recheck_due = time.monotonic() - self.session_checked_at > protocol.SESSION_RECHECK_SECONDS
        if recheck_due and not await self.still_signed_in():
            await self.send_error(protocol.E_NOT_SIGNED_IN, "You have signed out.", msg_id)
            await self.close(code=protocol.CLOSE_SIGNED_OUT)
            return
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


class QuestionConsumer(LiveConsumerBase):
    """``/ws/questions/<id>/``: one question's tally, and votes on it."""

    async def setup(self) -> bool:
        return await self.watch_question(int(self.scope["url_route"]["kwargs"]["question_id"]))


def _unseen(state: dict) -> dict:
    """A session's state without its question, for a person the visibility gate does not let see it."""
    return {**state, "question": None, "question_title": "", "kind": None, "options": [], "accepting": False}


class LiveSessionConsumer(LiveConsumerBase):
    """``/ws/live/<code>/``: a live session. Follows the question the host has open."""

    async def setup(self) -> bool:
        from voting.live import session_state

        code = self.scope["url_route"]["kwargs"]["code"]
        self.state = await database_sync_to_async(session_state)(code=code)
        if self.state is None:
            return False
        await self.join(protocol.session_group(self.state["session"]))
        if not await self.watch_question(self.state["question"]):
            self.state = _unseen(self.state)
        return True

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
        if not await self.watch_question(state["question"]):
            state = _unseen(state)
        self.state = state
        await self.send(text_data=protocol.frame(protocol.SESSION, state))
        await self.send_snapshot(max_age=1.0)
