"""Websocket routes of this app."""

from django.urls import path, re_path

from voting import consumers

websocket_urlpatterns: list = [
    path("ws/questions/<int:question_id>/", consumers.QuestionConsumer.as_asgi()),
    # Any code reaches the consumer, which refuses unknown ones (a routing error would be a server error).
    re_path(r"^ws/live/(?P<code>[^/]{1,64})/$", consumers.LiveSessionConsumer.as_asgi()),
]
