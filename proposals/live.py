"""Live moderation: the group, the message types and the broadcast. One module, so both ends agree.

Envelope: ``{"type": ..., "id": ..., "payload": {...}}``. Errors: ``{"type": "error", "code": ...,
"message": ...}`` with these codes:

- ``forbidden``: the connection is not from a signed-in moderator (sent, then the socket closes 4403);
- ``bad_json``: a message that is not a JSON object;
- ``unknown_type``: a message type the server does not know.

Client messages: ``{"type": "ping", "id": <anything>}`` is answered with ``{"type": "pong", "id": ...}``.
The database stays the truth: a missed message costs a moderator nothing but a refresh of the queue.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

GROUP = "moderation"
FLAG_CREATED = "flag.created"
PONG = "pong"
ERROR = "error"
CLOSE_FORBIDDEN = 4403

#: The channel-layer event type; Channels calls the consumer's ``moderation_flag`` handler.
EVENT_FLAG = "moderation.flag"


def envelope(type_: str, id_, payload: dict | None = None) -> dict:
    return {"type": type_, "id": id_, "payload": payload or {}}


def error(code: str, message: str) -> dict:
    return {"type": ERROR, "code": code, "message": message}


def broadcast_flag(*, flag_id: int, payload: dict) -> None:
    """Tell connected moderators about a new flag. Called from ``transaction.on_commit``."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(GROUP, {"type": EVENT_FLAG, "id": flag_id, "payload": payload})
