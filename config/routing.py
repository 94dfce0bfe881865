"""Every websocket route of the platform, gathered from the apps that serve them. A path none of them
serves (or with a parameter its converter refuses) is refused at the handshake, not a server error."""

from django.urls import re_path

from proposals.routing import websocket_urlpatterns as proposal_routes
from voting.routing import websocket_urlpatterns as voting_routes
from voting.sockets import refuse

websocket_urlpatterns = [*voting_routes, *proposal_routes, re_path(r"", refuse)]
