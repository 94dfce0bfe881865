"""Websocket routes of this app.

The converters (``cms/converters.py``) match only what could exist: any other path falls through to
the last route of ``config.routing``, which refuses it at the handshake.
"""

from django.urls import path

from voting import consumers

websocket_urlpatterns: list = [
    path("ws/questions/<id:question_id>/", consumers.QuestionConsumer.as_asgi()),
    path("ws/live/<code:code>/", consumers.LiveSessionConsumer.as_asgi()),
]
