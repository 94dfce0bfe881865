"""Websocket routes of this app."""

from django.urls import path

from proposals.consumers import ModerationConsumer

websocket_urlpatterns: list = [
    path("ws/moderation/", ModerationConsumer.as_asgi()),
]
