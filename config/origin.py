"""Websocket handshakes only from the site's own pages: the Origin must be this site's origin.

Browsers send a websocket handshake with the visitor's cookies whatever page opened it, so the Origin
header is the only thing telling Townhall's own pages from another site's. An origin is a scheme, a
host and a port; Channels' ``AllowedHostsOriginValidator`` compares the host name alone, so a page
served from another port of the same host (another application, a test server) could open sockets as
the visitor. Here the Origin must equal the origin the socket was opened on, the same rule Django's
CSRF check applies to form posts:

- its host is the request's ``Host`` (which must be in ``ALLOWED_HOSTS``), and so is its port: the
  port the ``Host`` header names, or the scheme's default (80, 443) when it names none;
- its scheme is ``https`` exactly when the socket is secure (``wss``, or ``SECURE_PROXY_SSL_HEADER``
  says the proxy in front received it over TLS);
- or it is listed in ``CSRF_TRUSTED_ORIGINS`` (for a front end on another origin).

A handshake without an Origin, or with any other, is refused (HTTP 403 from the server).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return ""


def _secure(scope: dict) -> bool:
    if scope.get("scheme") == "wss":
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if not proxy_header:
        return False
    name, expected = proxy_header
    header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
    return _header(scope, header).split(",")[0].strip() == expected


def origin_allowed(scope: dict) -> bool:
    origin = _header(scope, b"origin").strip()
    if not origin or origin == "null":
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    try:
        parts = urlsplit(origin)
        origin_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    if parts.scheme != ("https" if _secure(scope) else "http") or not parts.hostname:
        return False
    host = _header(scope, b"host").lower()
    if host:
        domain, port = split_domain_port(host)
        if not port:
            expected_port = DEFAULT_PORTS[parts.scheme]
        elif port.isdigit():
            expected_port = int(port)
        else:
            return False
    else:
        # No Host header: only test clients that skip HTTP do this (browsers and servers always send it).
        domain, expected_port = parts.hostname, DEFAULT_PORTS[parts.scheme]
    return bool(
        domain
        and domain == parts.hostname.lower()
        and origin_port == expected_port
        and validate_host(domain, settings.ALLOWED_HOSTS)
    )


class SameOriginValidator:
    """ASGI middleware for websockets: refuse the handshake unless ``origin_allowed``."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
