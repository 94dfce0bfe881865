"""The route matrix: every HTTP and websocket route x every state of the content x every role.

The routes come from the URL conf (``get_resolver()``) and the websocket routing, not from a list
written by hand: a route that ``tests/security/routes.py`` does not classify fails
``test_every_route_is_classified``. For each state (``tests/security/world.py``) and role, each route
is requested (GET, and POST for the routes that write); no response body or socket frame may carry a
marker of content the role may not see, and a POST about content nobody may take part on now stores
nothing (the council's tables are fingerprinted before and after).
"""

from __future__ import annotations

import json
import re

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from wagtail.models import PageViewRestriction

from config.routing import websocket_urlpatterns
from proposals.models import Appeal, Comment, CommentRevision, Flag, ModerationAction, Proposal, Support
from questionnaires.models import Redaction, Response
from tests.security import routes
from tests.security.world import ROLES, STATES, World, build_world
from voting.models import Ballot, Participation

MATRIX: dict[str, int] = {}


def http_routes() -> list[tuple[str, str]]:
    """(key, pattern) of every HTTP route: its namespaced name, or its pattern when unnamed."""

    def walk(resolver, prefix: str = "", namespace: str = ""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry, prefix + str(entry.pattern), inner)
            else:
                pattern = prefix + str(entry.pattern)
                yield (f"{namespace}{entry.name}" if entry.name else pattern), pattern

    return list(walk(get_resolver()))


def socket_routes() -> list[str]:
    return [str(entry.pattern) for entry in websocket_urlpatterns]


def matrix_routes() -> list[tuple[str, str]]:
    found = [(key, pattern) for key, pattern in http_routes() if not _exempt(pattern)]
    return found


def _exempt(pattern: str) -> bool:
    return any(pattern.startswith(prefix) for prefix in routes.EXEMPT)


def _variants(entry) -> list[routes.Route]:
    return entry if isinstance(entry, list) else [entry]


def test_every_route_is_classified():
    missing = [key for key, _pattern in matrix_routes() if key not in routes.HTTP]
    missing += [pattern for pattern in socket_routes() if pattern not in routes.SOCKETS]
    assert not missing, (
        "Classify these routes in tests/security/routes.py (one line each, see its docstring): "
        + ", ".join(missing)
    )
    stale = set(routes.HTTP) - {key for key, _pattern in matrix_routes()}
    stale |= set(routes.SOCKETS) - set(socket_routes())
    assert not stale, f"Routes classified but no longer in the URL conf: {sorted(stale)}"


def test_matrix_size_is_reported():
    keys = [key for key, _pattern in matrix_routes() if key in routes.HTTP]
    variants = sum(len(_variants(routes.HTTP[key])) for key in keys) + len(socket_routes())
    MATRIX.update(
        routes=len(keys) + len(socket_routes()), variants=variants, states=len(STATES), roles=len(ROLES)
    )
    assert MATRIX["routes"] * len(STATES) * len(ROLES) >= 300


# --- HTTP -------------------------------------------------------------------------------------------------


def _object(world: World, name: str):
    return getattr(world, name)


def _url(world: World, key: str, route: routes.Route) -> str:
    if key == "wagtail_serve":
        return _object(world, route.kwargs["page"]).url
    if key == "favicon.ico":
        return "/favicon.ico"
    kwargs = {}
    for name, value in route.kwargs.items():
        if value == "restriction":  # only the restricted state has one: elsewhere, one that does not exist
            restriction = world.objects.get("restriction")
            kwargs[name] = restriction.pk if restriction is not None else 987654
        elif value in World.__dataclass_fields__:
            obj = getattr(world, value)
            kwargs[name] = getattr(obj, "code", None) or obj.pk
        else:
            kwargs[name] = value
    return reverse(key, kwargs=kwargs)


def fingerprint() -> tuple:
    """What the council has been told: contributions, reports, votes, questionnaire responses,
    decisions, and their words."""
    return (
        Proposal.objects.count(),
        Comment.objects.count(),
        CommentRevision.objects.count(),
        Support.objects.count(),
        Flag.objects.count(),
        ModerationAction.objects.count(),
        Appeal.objects.count(),
        Ballot.objects.count(),
        Participation.objects.count(),
        Response.objects.count(),
        Redaction.objects.count(),
        tuple(Response.objects.order_by("pk").values_list("pk", "status", "answers", "pages_saved")),
        tuple(Comment.objects.order_by("pk").values_list("pk", "state", "body")),
        tuple(Proposal.objects.order_by("pk").values_list("pk", "visibility", "status", "support_count")),
    )


class _Undo(Exception):
    """Raised to roll back what a POST stored, so that every cell starts from the same world."""


def _client(world: World, role: str) -> Client:
    client = Client(raise_request_exception=False)
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client


def _body(response) -> str:
    """The whole body, streamed ones (the CSV downloads) included."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def _leaks(body: str, world: World) -> list[str]:
    return [mark for mark in world.secrets if mark in body]


@pytest.fixture
def no_rate_limits(settings):
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False


@pytest.mark.parametrize("state", STATES)
def test_http_route_matrix(state, db, no_rate_limits):
    world = build_world(state)
    if state == "restricted":
        world.objects["restriction"] = PageViewRestriction.objects.filter(page=world.consultation).first()
    failures: list[str] = []
    cells = 0
    for key, _pattern in matrix_routes():
        for route in _variants(routes.HTTP[key]):
            url = _url(world, key, route)
            seers = world.seers | ({"moderator"} if route.moderator_tool else set())
            for role in ROLES:
                cells += 1
                client = _client(world, role)
                response = client.get(url)
                body = _body(response)
                if response.status_code >= 500:
                    failures.append(f"{role} GET {url}: {response.status_code}")
                if role not in seers and (leaked := _leaks(body, world)):
                    failures.append(f"{role} GET {url} shows {leaked}")
                if route.writes in (routes.READ, routes.ACCOUNT) or route.post is None:
                    continue
                before = fingerprint()
                try:
                    with transaction.atomic():
                        response = client.post(url, route.post(world))
                        after = fingerprint()
                        raise _Undo
                except _Undo:
                    pass
                body = _body(response)
                if response.status_code >= 500:
                    failures.append(f"{role} POST {url}: {response.status_code}")
                if role not in seers and (leaked := _leaks(body, world)):
                    failures.append(f"{role} POST {url} shows {leaked}")
                may_write = role in routes.WRITES[route.writes].get(state, set())
                if world.blocked(route.target) and not may_write and after != before:
                    failures.append(f"{role} POST {url} stored a write ({route.writes}, {route.target})")
    assert cells
    assert not failures, f"{len(failures)} failures in state {state!r}:\n" + "\n".join(failures)


def test_the_matrix_sees_content_where_it_is_visible(db, no_rate_limits):
    """The markers do reach the pages when the content is visible, so their absence elsewhere means
    something."""
    world = build_world("visible")
    client = _client(world, "visitor")
    pages = {
        "proposals:detail": ("MKPROPOSALTITLE", "MKCOMMENTONE"),
        "proposals:thread": ("MKCOMMENTTWO",),
        "voting:question": ("MKQUESTIONTITLE",),
        "voting:results": ("MKQUESTIONTITLE", "MKOPTIONLABEL"),
        "voting:live_session": ("MKQUESTIONTITLE",),
    }
    for key, marks in pages.items():
        body = client.get(_url(world, key, _variants(routes.HTTP[key])[0])).content.decode()
        for mark in marks:
            assert mark in body, (key, mark)
    history = _url(world, "proposals:comment_history", _variants(routes.HTTP["proposals:comment_history"])[0])
    assert "MKREVISIONONE" in client.get(history).content.decode()
    assert "MKPAGEONE" in client.get(world.consultation.url).content.decode()


def test_the_matrix_sees_the_questionnaire_where_it_is_visible(db, no_rate_limits):
    """A visitor who starts the questionnaire stores a response and reads its question; an officer reads
    the answer sent. So the markers' absence, and nothing stored, elsewhere mean something."""
    world = build_world("visible")
    visitor = _client(world, "visitor")
    start = _url(world, "questionnaires:start", routes.HTTP["questionnaires:start"])
    before = Response.objects.count()
    assert visitor.post(start, routes.about_you_form(world)).status_code == 302
    assert Response.objects.count() == before + 1
    page = _url(world, "questionnaires:page", routes.HTTP["questionnaires:page"])
    assert "MKQUESTIONNAIRETEXT" in visitor.get(page).content.decode()
    detail = _url(world, "questionnaires:response", routes.HTTP["questionnaires:response"])
    assert "MKANSWER" in _client(world, "officer").get(detail).content.decode()


# --- Websockets -------------------------------------------------------------------------------------------


def _socket_path(world: World, pattern: str, route: routes.Route) -> str:
    path = pattern.strip("^$")
    for name, value in route.kwargs.items():
        obj = _object(world, value)
        replacement = str(getattr(obj, "code", None) or obj.pk)
        path = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", replacement, path)
    return "/" + path


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    assert client.session[SESSION_KEY] == str(user.pk)
    return client.cookies["sessionid"].value


async def _drain(communicator, frames: list[str], quiet: float) -> bool:
    """Collect the frames a socket sends until it is quiet for ``quiet`` seconds; False once it closed."""
    while not await communicator.receive_nothing(timeout=quiet):
        message = await communicator.receive_output(timeout=1)
        if message["type"] == "websocket.close":
            return False
        frames.append(message.get("text") or "")
    return True


@pytest.mark.parametrize("state", STATES)
async def test_socket_route_matrix(state, sockets, live_db):
    world = await sync_to_async(build_world)(state)
    choice = await sync_to_async(lambda: world.question.option_list[0].key)()
    cookies = {
        role: (await sync_to_async(_session_cookie)(user) if user is not None else None)
        for role, user in world.users.items()
    }
    failures: list[str] = []
    for pattern, route in routes.SOCKETS.items():
        path = _socket_path(world, pattern, route)
        for role in ROLES:
            communicator = await sockets(path, cookie=cookies[role])
            frames: list[str] = []
            open_now = communicator.accepted and await _drain(communicator, frames, 0.3)
            if open_now and route.writes == routes.PARTICIPATE:
                before = await sync_to_async(fingerprint)()
                vote = {"question": world.question.pk, "data": {"choice": choice}}
                await communicator.send_to(text_data=json.dumps({"type": "vote", "id": 1, "payload": vote}))
                await _drain(communicator, frames, 0.5)
                after = await sync_to_async(fingerprint)()
                if world.blocked(route.target) and after != before:
                    failures.append(f"{role} vote on {path} was stored")
            leaked = [mark for mark in world.secrets if any(mark in frame for frame in frames)]
            if role not in world.seers and leaked:
                failures.append(f"{role} {path} frames show {leaked}")
    assert not failures, f"{len(failures)} failures in state {state!r}:\n" + "\n".join(failures)
    if state == "visible":  # the votes would be stored where nothing stops them
        assert await sync_to_async(Participation.objects.filter(question=world.question).count)() >= 1
