"""What every Townhall websocket does, whatever it follows: the envelope, the limits and signing out.

The live sockets (``voting.consumers``) and the moderators' socket (``proposals.consumers``) are
built on ``ProtocolConsumer``, so they answer bad frames with the same error codes, throttle and
close floods the same way, and close when the person behind them may no longer be signed in:

- signing out closes the sockets opened with that browser session (``protocol.auth_group``);
- a password change, a deactivation or a deleted account makes every socket of that person check
  its session again (``protocol.user_group``): a session whose stored password hash no longer
  matches the account's, or whose account is inactive or gone, is closed (``CLOSE_SIGNED_OUT``);
- a vote re-checks the session the same way at least every ``SESSION_RECHECK_SECONDS``;
- after the channel layer was down (events may be lost), every signed-in socket checks its session.

Group events reach a socket through its worker's fan-out hub (``voting.fanout``): no socket has a
channel of its own. ``docs/websocket-protocol.md`` is the reader's version of this module.
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
from django.utils.crypto import constant_time_compare

from voting import fanout, protocol
from voting.protocol import ProtocolError


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


# Who a browser session is signed in as -----------------------------------------------------------
def _session_data(keys: list[str]) -> dict[str, dict[str, Any]]:
    """The stored data of those browser sessions that still exist and have not expired: a query per
    500 keys with the database-backed session stores, one lookup per key with any other."""
    from django.utils import timezone

    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        found = {}
        for key in keys:
            session = store(session_key=key)
            data = dict(session.items())
            if data:
                found[key] = data
        return found
    model, now, found = store.get_model_class(), timezone.now(), {}
    decoder = store()
    for start in range(0, len(keys), 500):
        rows = model.objects.filter(session_key__in=keys[start : start + 500], expire_date__gt=now)
        for key, data in rows.values_list("session_key", "session_data"):
            found[key] = decoder.decode(data)
    return found


def signed_in_users(keys: list[str]) -> dict[str, Any]:
    """For each browser session key, the primary key of the person it is still validly signed in as,
    or None: the session exists, its account is active, and the password hash the session stored at
    sign-in still matches the account's (a password change elsewhere invalidates it), as Django
    checks on every page (``django.contrib.auth.get_user``)."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model

    sessions = _session_data(keys)
    user_ids = {str(data[SESSION_KEY]) for data in sessions.values() if data.get(SESSION_KEY)}
    model = get_user_model()
    users = {str(user.pk): user for user in model._default_manager.filter(pk__in=user_ids, is_active=True)}
    answers: dict[str, Any] = {}
    for key in keys:
        data = sessions.get(key, {})
        user = users.get(str(data.get(SESSION_KEY, "")))
        stored = data.get(HASH_SESSION_KEY) or ""
        if user is not None and stored and _hash_matches(user, stored):
            answers[key] = user.pk
        else:
            answers[key] = None
    return answers


def _hash_matches(user: Any, stored: str) -> bool:
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return True
    # A session signed with a key since rotated (SECRET_KEY_FALLBACKS) is still valid, as on pages.
    fallbacks = getattr(user, "get_session_auth_fallback_hash", None)
    return bool(fallbacks and any(constant_time_compare(stored, h) for h in fallbacks()))


#: Who browser sessions are signed in as, asked together (after a recovery, every signed-in socket of
#: a worker asks at once).
signed_in_as = OnePassBatch(signed_in_users)


# Limits ------------------------------------------------------------------------------------------
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


# The consumers' common ground --------------------------------------------------------------------
class ProtocolConsumer(AsyncWebsocketConsumer):
    """One socket speaking ``voting.protocol``: frames in through the limits and the parser, errors
    out as error frames, group events in through the fan-out hub, and closed when its person signs
    out or may no longer be signed in.

    A subclass names the client message types it answers in ``handlers`` (type -> method name), calls
    ``start_protocol`` first thing in ``connect`` and ``join_sign_in_groups`` once it accepts."""

    #: No channel of its own: every event a socket needs reaches it through its worker's fan-out
    #: hub. Channels opens a channel (and a task waiting on it) only when this alias names a configured
    #: layer; ``None`` names none.
    channel_layer_alias = None  # type: ignore[assignment]

    handlers: dict[str, str] = {protocol.PING: "on_ping"}

    user: Any = None
    session_key: str | None = None
    #: Set by the first ``close``: frames already received are then ignored and no second close is sent
    #: (uvicorn refuses a second ``websocket.close`` with an error).
    closing: bool = False

    @functools.cached_property
    def handling(self) -> asyncio.Lock:
        return asyncio.Lock()

    async def dispatch(self, message: dict) -> None:
        """One handler at a time, as Channels runs them; the events the fan-out hub relays from its
        own task wait their turn too."""
        async with self.handling:
            await super().dispatch(message)

    # Connection ----------------------------------------------------------------------------------
    def start_protocol(self) -> None:
        self.user = self.scope.get("user")
        self.bucket = TokenBucket()
        self.refused_in_a_row = 0
        self.groups_joined: set[str] = set()
        self.session_checked_at = time.monotonic()
        self.session_key = getattr(self.scope.get("session"), "session_key", None)

    @property
    def signed_in(self) -> bool:
        return bool(self.user is not None and self.user.is_authenticated)

    async def join_sign_in_groups(self) -> None:
        """A signed-in socket hears its browser session signing out and its account changing."""
        if self.signed_in and self.session_key:
            await self.join(protocol.auth_group(self.session_key))
            await self.join(protocol.user_group(self.user.pk))

    async def disconnect(self, code: int) -> None:
        for group in list(getattr(self, "groups_joined", ())):
            await fanout.unsubscribe(self, group)
        if hasattr(self, "groups_joined"):
            self.groups_joined.clear()

    async def join(self, group: str) -> None:
        """Subscribe to a group's events through the worker's hub (see ``relay_event``)."""
        if group not in self.groups_joined:
            await fanout.subscribe(self, group)
            self.groups_joined.add(group)

    async def leave(self, group: str) -> None:
        if group in self.groups_joined:
            await fanout.unsubscribe(self, group)
            self.groups_joined.discard(group)

    async def close(self, code=None, reason=None) -> None:
        if self.closing:
            return
        self.closing = True
        await super().close(code=code, reason=reason)

    # Frames in -------------------------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > protocol.MAX_FRAME_BYTES:
            await self.send_error(
                protocol.E_TOO_LARGE, f"Messages may be at most {protocol.MAX_FRAME_BYTES} bytes."
            )
            await self.close(code=protocol.CLOSE_TOO_LARGE)
            return
        if not self.bucket.take():
            self.refused_in_a_row += 1
            if self.refused_in_a_row >= protocol.FLOOD_CLOSE_AFTER:
                await self.close(code=protocol.CLOSE_POLICY)
                return
            if self.refused_in_a_row == 1 or self.refused_in_a_row % 10 == 0:
                await self.send_error(
                    protocol.E_RATE_LIMITED, "Too many messages: slow down and try again in a moment."
                )
            return
        self.refused_in_a_row = 0
        try:
            message = protocol.parse(text_data, bytes_data, types=self.handlers)
        except ProtocolError as exc:
            await self.send_error(exc.code, exc.message)
            return
        await getattr(self, self.handlers[message["type"]])(message)

    async def on_ping(self, message: dict) -> None:
        await self.send(text_data=protocol.frame(protocol.PONG, id=message["id"]))

    async def send_error(self, code: str, message: str, msg_id: Any = None) -> None:
        await self.send(text_data=protocol.error_frame(code, message, id=msg_id))

    # Signing out -----------------------------------------------------------------------------------
    async def still_signed_in(self) -> bool:
        """Whether this socket's browser session is still validly signed in as its person (read now)."""
        if not (self.signed_in and self.session_key):
            return False
        found = await database_sync_to_async(signed_in_users)([self.session_key])
        self.session_checked_at = time.monotonic()
        return found.get(self.session_key) == self.user.pk

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

    async def auth_changed(self, event: dict) -> None:
        """This person's password changed or their account was deactivated or deleted: close unless
        this socket's session is still valid (the browser where the password was changed stays
        signed in under a new session key: its page reconnects)."""
        key = self.session_key
        if not (self.signed_in and key):
            return
        if await signed_in_as.get(key) != self.user.pk:
            await self.close(code=protocol.CLOSE_SIGNED_OUT)

    async def recovered(self, event: dict) -> None:
        """The channel layer was down and may have lost events for ``event["group"]``: a socket whose
        session signed out or was invalidated meanwhile closes now rather than at its next vote. The
        lookup is made before taking this socket's turn, so that every socket of the worker asks in
        the same pass (``OnePassBatch``)."""
        key = self.session_key
        if not (self.signed_in and key and event["group"] == protocol.auth_group(key)):
            return
        if await signed_in_as.get(key) != self.user.pk:
            async with self.handling:
                await self.close(code=protocol.CLOSE_SIGNED_OUT)


async def refuse(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The websocket route of last resort: a path no consumer serves is refused at the handshake (the
    server answers the upgrade request with 403), never with a server error."""
    if scope["type"] != "websocket":
        return
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": protocol.CLOSE_NOT_FOUND})
