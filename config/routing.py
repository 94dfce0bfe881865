"""Every websocket route of the platform, gathered from the apps that serve them."""

from proposals.routing import websocket_urlpatterns as proposal_routes
from voting.routing import websocket_urlpatterns as voting_routes

websocket_urlpatterns = [*voting_routes, *proposal_routes]
