"""ASGI entry point: HTTP goes to Django, websockets to the Channels consumers.

Websocket connections must come from the site's own origin (scheme, host and port: ``config.origin``)
and carry the session, so consumers know who is connected. ``KeepServerSend`` hands the tally fan-out
the server's own ``send`` (``voting.fanout``).
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.origin import SameOriginValidator  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from voting.fanout import KeepServerSend  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": KeepServerSend(
            SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Everything imported so far (Django, Wagtail and the project: some 200,000 objects) lives as long as
# the process. Frozen, the collector no longer walks it on every full collection, which otherwise stops
# the event loop ~100 ms longer each time (a worker holding thousands of sockets runs several a minute
# while they connect).
gc.freeze()
