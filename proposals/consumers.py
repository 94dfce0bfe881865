"""The moderators' live feed of new flags. Holds no rules: it asks ``proposals.moderate``.

Built on the common ground of every Townhall socket (``voting.sockets.ProtocolConsumer``): the
envelope, the limits, and closing when its moderator signs out or may no longer be signed in.
"""

from __future__ import annotations

import rules
from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from proposals import live
from voting import protocol
from voting.sockets import ProtocolConsumer


@database_sync_to_async
def _may_moderate(user) -> bool:
    return bool(user is not None and user.is_authenticated and rules.has_perm("proposals.moderate", user))


class ModerationConsumer(ProtocolConsumer):
    handlers = {protocol.PING: "on_ping"}

    async def connect(self) -> None:
        self.start_protocol()
        await self.accept()
        if not await _may_moderate(self.user):
            await self.send_error(live.E_FORBIDDEN, _("Only signed-in moderators can follow new flags."))
            await self.close(code=protocol.CLOSE_FORBIDDEN)
            return
        await self.join_sign_in_groups()
        await self.join(live.GROUP)

    async def moderation_flag(self, event: dict) -> None:
        await self.send(text_data=protocol.frame(live.FLAG_CREATED, event["payload"], id=event["id"]))
