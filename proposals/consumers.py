"""The moderators' live feed of new flags. Holds no rules: it asks ``proposals.moderate``."""

from __future__ import annotations

import json

import rules
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from proposals import live


@database_sync_to_async
def _may_moderate(user) -> bool:
    return bool(user is not None and user.is_authenticated and rules.has_perm("proposals.moderate", user))


class ModerationConsumer(AsyncWebsocketConsumer):
    joined = False

    async def connect(self) -> None:
        await self.accept()
        if not await _may_moderate(self.scope.get("user")):
            await self.send_json(
                live.error("forbidden", _("Only signed-in moderators can follow new flags."))
            )
            await self.close(code=live.CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(live.GROUP, self.channel_name)
        self.joined = True

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(live.GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
        except (TypeError, ValueError):
            message = None
        if not isinstance(message, dict):
            await self.send_json(live.error("bad_json", _("Messages must be JSON objects.")))
            return
        if message.get("type") == "ping":
            await self.send_json(live.envelope(live.PONG, message.get("id")))
            return
        await self.send_json(live.error("unknown_type", _("Unknown message type.")))

    async def moderation_flag(self, event: dict) -> None:
        await self.send_json(live.envelope(live.FLAG_CREATED, event["id"], event["payload"]))

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))
