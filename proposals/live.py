"""Live moderation: the group, the message type and the broadcast of new flags.

The socket speaks the live protocol (``voting.protocol``, documented in
``docs/websocket-protocol.md``): the same envelope, error codes, limits and sign-out behaviour as the
live-tally sockets. Besides those, it sends ``flag.created`` for each new flag, and refuses anyone
who may not moderate with a ``forbidden`` error and close code ``4403``. Its only client message is
``ping``. The database stays the truth: a missed message costs a moderator nothing but a refresh of
the queue.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

GROUP = "moderation"
FLAG_CREATED = "flag.created"
E_FORBIDDEN = "forbidden"

#: The channel-layer event type; Channels calls the consumer's ``moderation_flag`` handler.
EVENT_FLAG = "moderation.flag"


def broadcast_flag(*, flag_id: int, payload: dict) -> None:
    """Tell connected moderators about a new flag. Called from ``transaction.on_commit``."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(
        GROUP, {"type": EVENT_FLAG, "group": GROUP, "id": flag_id, "payload": payload}
    )
