"""Websocket handshakes from the site's own origin only: scheme, host and port (config.origin).

A page on another port of the same host is another origin (another application on the machine, a
developer's server): its sockets would carry the visitor's cookies, so they are refused."""

from __future__ import annotations

import pytest
from django.test import override_settings

from config.origin import origin_allowed
from tests import factories
from voting.live import live_session_add_question, live_session_create, live_session_open_question


def scope(origin: str | None, host: str | None = None, *, scheme: str = "ws", proto: str | None = None):
    headers = []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if host is not None:
        headers.append((b"host", host.encode()))
    if proto is not None:
        headers.append((b"x-forwarded-proto", proto.encode()))
    return {"type": "websocket", "scheme": scheme, "headers": headers}


ALLOWED = ["townhall.example.org", "testserver"]


@pytest.mark.parametrize(
    ("case", "allowed"),
    [
        (scope("http://townhall.example.org", "townhall.example.org"), True),
        (scope("http://townhall.example.org:8000", "townhall.example.org:8000"), True),
        (scope("https://townhall.example.org", "townhall.example.org", scheme="wss"), True),
        (scope("https://townhall.example.org:443", "townhall.example.org", scheme="wss"), True),
        (scope("HTTP://Townhall.Example.org", "TOWNHALL.example.org"), True),
        # Another port of the same host is another origin.
        (scope("http://townhall.example.org:8001", "townhall.example.org:8000"), False),
        (scope("http://townhall.example.org:8001", "townhall.example.org"), False),
        (scope("http://townhall.example.org", "townhall.example.org:8000"), False),
        (scope("https://townhall.example.org:8443", "townhall.example.org", scheme="wss"), False),
        # Another scheme: a page over plain HTTP opening a secure socket, and the reverse.
        (scope("http://townhall.example.org", "townhall.example.org", scheme="wss"), False),
        (scope("https://townhall.example.org", "townhall.example.org"), False),
        # Another host, or a host Townhall does not serve.
        (scope("http://evil.example", "townhall.example.org"), False),
        (scope("http://evil.example", "evil.example"), False),
        (scope("http://townhall.example.org.evil.example", "townhall.example.org"), False),
        # Nothing, or nonsense.
        (scope(None, "townhall.example.org"), False),
        (scope("null", "townhall.example.org"), False),
        (scope("http://townhall.example.org:99999", "townhall.example.org:99999"), False),
        (scope("http://townhall.example.org:x", "townhall.example.org:x"), False),
        (scope("townhall.example.org", "townhall.example.org"), False),
    ],
)
def test_the_origin_must_be_the_sites_own_scheme_host_and_port(case, allowed):
    with override_settings(ALLOWED_HOSTS=ALLOWED, CSRF_TRUSTED_ORIGINS=[]):
        assert origin_allowed(case) is allowed


def test_behind_a_tls_proxy_the_forwarded_scheme_counts_when_the_settings_trust_it():
    behind_proxy = scope("https://townhall.example.org", "townhall.example.org", proto="https")
    with override_settings(ALLOWED_HOSTS=ALLOWED, CSRF_TRUSTED_ORIGINS=[]):
        assert not origin_allowed(behind_proxy)
        with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
            assert origin_allowed(behind_proxy)
            assert not origin_allowed(scope("https://townhall.example.org", "townhall.example.org"))


def test_a_trusted_origin_may_differ_from_the_host():
    case = scope("https://app.example.org:4443", "townhall.example.org")
    with override_settings(ALLOWED_HOSTS=ALLOWED, CSRF_TRUSTED_ORIGINS=["https://app.example.org:4443"]):
        assert origin_allowed(case)
    with override_settings(ALLOWED_HOSTS=ALLOWED, CSRF_TRUSTED_ORIGINS=["https://app.example.org"]):
        assert not origin_allowed(case)


def test_a_wildcard_allowed_hosts_still_requires_the_sockets_own_origin():
    with override_settings(ALLOWED_HOSTS=["*"], CSRF_TRUSTED_ORIGINS=[]):
        assert origin_allowed(scope("http://anything.example:8000", "anything.example:8000"))
        assert not origin_allowed(scope("http://evil.example", "townhall.example.org"))


@pytest.fixture
def question(live_db):
    session = live_session_create(host=factories.CouncillorFactory(), title="Full council")
    item = live_session_add_question(session=session, title="Sunday opening?", kind="yes_no", options=[])
    live_session_open_question(session=session, item=item.live_item)
    return item


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("origin", "host", "accepted"),
    [
        (b"http://testserver:8000", b"testserver:8000", True),
        (b"http://testserver:8001", b"testserver:8000", False),
        (b"http://testserver:8001", b"testserver", False),
    ],
    ids=["same-port", "other-port", "port-on-origin-only"],
)
async def test_a_socket_from_another_port_of_the_same_host_is_refused(
    sockets, question, origin, host, accepted
):
    communicator = await sockets(
        f"/ws/questions/{question.pk}/", origin=(b"origin", origin), headers=[(b"host", host)]
    )
    assert communicator.accepted is accepted
