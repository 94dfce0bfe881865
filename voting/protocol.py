"""The live websocket protocol: envelope, message types, error codes, group names and limits.

Every frame is one JSON object ``{"type": ..., "id": ..., "payload": {...}}``; errors are
``{"type": "error", "id": ..., "code": ..., "message": ...}``. ``docs/websocket-protocol.md`` is the
reader's version of this module; the two change together.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from typing import Any

# Client -> server
VOTE = "vote"
SNAPSHOT_REQUEST = "snapshot.request"
PING = "ping"
CLIENT_TYPES = frozenset({VOTE, SNAPSHOT_REQUEST, PING})

# Server -> client
SNAPSHOT = "snapshot"  # the whole state, sent on connect and on request
TALLY = "tally"  # a coalesced tally update, with the next sequence number
ACK = "ack"  # a vote was stored
ERROR = "error"
PONG = "pong"
SESSION = "session"  # a live session's state changed (question opened, closed, session ended)

# Error codes. Frame-level problems keep the socket open unless said otherwise.
E_BAD_JSON = "bad_json"  # not a JSON object
E_BAD_MESSAGE = "bad_message"  # missing/invalid fields, or a binary frame
E_UNKNOWN_TYPE = "unknown_type"
E_TOO_LARGE = "too_large"  # over MAX_FRAME_BYTES: the socket is closed with CLOSE_TOO_LARGE
E_TOO_DEEP = "too_deep"  # JSON nested deeper than MAX_JSON_DEPTH: refused before it is parsed
E_RATE_LIMITED = "rate_limited"  # over the per-socket budget: the message is dropped
E_NOT_SIGNED_IN = "not_signed_in"  # a vote from an anonymous socket
E_NO_OPEN_QUESTION = "no_open_question"  # a vote on a live session with no question open
E_NOT_FOUND = "not_found"
E_UNAVAILABLE = "unavailable"  # the vote could not be written (database down): nothing stored, retry
# Votes refused by the voting service carry the service's own code (``voting.errors.BallotError.code``),
# for example "not_eligible", "closed", "invalid". See docs/websocket-protocol.md.

# Close codes. An application may only send 1000 or a code from 3000 to 4999: daphne refuses the
# other RFC 6455 codes (the socket then closes with 1011 and a traceback), so the standard 1008
# ("policy") and 1009 ("too big") are sent as 4008 and 4009. Every server delivers these.
CLOSE_NORMAL = 1000
CLOSE_POLICY = 4008  # flood: too many messages over the limit (1008 in RFC 6455)
CLOSE_TOO_LARGE = 4009  # a frame over MAX_FRAME_BYTES (1009 in RFC 6455)
CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_CODES = frozenset(
    {CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TOO_LARGE, CLOSE_SIGNED_OUT, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND}
)

# Limits.
MAX_FRAME_BYTES = 4096
#: The deepest a frame's JSON may nest (the deepest ballot needs 4 levels). A frame of 4,096 bytes
#: could nest 2,048 deep, past the parser's recursion limit.
MAX_JSON_DEPTH = 8
#: The longest ``id`` a client may send (and have echoed back), in characters.
MAX_ID_LENGTH = 64
#: Token bucket per socket: sustained messages per second and burst size.
RATE_PER_SECOND = 10.0
RATE_BURST = 20
#: After this many refused messages in a row the socket is closed (CLOSE_POLICY).
FLOOD_CLOSE_AFTER = 50
#: Coalescing: at most one tally broadcast per question per this many seconds, per worker.
BROADCAST_INTERVAL = 0.2
#: How often an open socket re-checks that its session is still signed in (seconds).
SESSION_RECHECK_SECONDS = 30.0

# Channel layer events (the "type" key names a consumer handler). Events for a session or auth group
# also carry the "group" they were sent to: each worker's fan-out hub hands them to its sockets in it.
EVENT_TALLY = "tally.broadcast"
EVENT_STATUS = "status.broadcast"
EVENT_SESSION = "session.broadcast"
EVENT_SIGNED_OUT = "auth.signed_out"
#: A person's password changed or their account was deactivated or deleted: each socket of theirs
#: checks its session again.
EVENT_AUTH_CHANGED = "auth.changed"


def tally_group(question_id: int) -> str:
    """Watchers allowed to see a question's tally."""
    return f"th.tally.{int(question_id)}"


def status_group(question_id: int) -> str:
    """Everyone watching a question: told when it opens or closes, never its numbers."""
    return f"th.status.{int(question_id)}"


def session_group(session_id: int) -> str:
    """Everyone in a live session: told when the host opens or closes a question."""
    return f"th.live.{int(session_id)}"


def auth_group(session_key: str) -> str:
    """The sockets of one signed-in browser session, closed when it signs out."""
    digest = hashlib.sha256(session_key.encode()).hexdigest()[:40]
    return f"th.auth.{digest}"


def user_group(user_id: int) -> str:
    """The sockets of one person, whichever browser they signed in with."""
    return f"th.user.{int(user_id)}"


def frame(type_: str, payload: dict[str, Any] | None = None, *, id: Any = None) -> str:
    return json.dumps({"type": type_, "id": id, "payload": payload or {}}, separators=(",", ":"))


def error_frame(code: str, message: str, *, id: Any = None) -> str:
    return json.dumps({"type": ERROR, "id": id, "code": code, "message": message}, separators=(",", ":"))


class ProtocolError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
#: For ``bytes.translate``: braces become square brackets (only the depth matters here) ...
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
#: ... and every other byte goes.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON in ``text`` nests deeper than ``limit``, measured before it is parsed.

    Done with string operations written in C, not a loop over the characters: strings are dropped,
    then everything but brackets, then each pass removes the innermost empty pairs. If pairs are still
    being removed after ``limit`` passes, it is deeper. (Brackets that no longer pair up are not JSON:
    the parser refuses those.)"""
    brackets = _STRINGS.sub("", text).encode().translate(_AS_SQUARE, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return b"[]" in brackets


def parse(
    text: str | None, bytes_data: bytes | None, *, types: Collection[str] = CLIENT_TYPES
) -> dict[str, Any]:
    """Turn a frame into a message dict with one of ``types``, or raise ``ProtocolError``."""
    if text is None:
        raise ProtocolError(E_BAD_MESSAGE, "Send text frames containing JSON.")
    too_deep = ProtocolError(E_TOO_DEEP, f"Messages may nest at most {MAX_JSON_DEPTH} levels deep.")
    # Counting brackets is cheap; only a frame with many is measured.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and nests_deeper_than(text, MAX_JSON_DEPTH):
        raise too_deep
    try:
        message = json.loads(text)
    except RecursionError:  # unpaired brackets past the parser's recursion limit
        raise too_deep from None
    except ValueError:
        raise ProtocolError(E_BAD_JSON, "The message is not valid JSON.") from None
    if not isinstance(message, dict):
        raise ProtocolError(E_BAD_JSON, "The message must be a JSON object.")
    type_ = message.get("type")
    if not isinstance(type_, str):
        raise ProtocolError(E_BAD_MESSAGE, "The message has no type.")
    if type_ not in types:
        raise ProtocolError(E_UNKNOWN_TYPE, f"Unknown message type: {type_[:40]}")
    msg_id = message.get("id")
    if msg_id is not None and not (
        isinstance(msg_id, (str, int)) and not isinstance(msg_id, bool) and len(str(msg_id)) <= MAX_ID_LENGTH
    ):
        raise ProtocolError(E_BAD_MESSAGE, "The id must be a short string or a number.")
    payload = message.get("payload", {})
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise ProtocolError(E_BAD_MESSAGE, "The payload must be a JSON object.")
    return {"type": type_, "id": msg_id, "payload": payload}
