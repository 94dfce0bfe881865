"""Every URL with a parameter, generated from the URL conf, answers hostile parameters with a 4xx.

A NUL byte, a word where a number belongs, a negative number or one too large for the database
reach the views through the URL converters; none may end in a server error (PostgreSQL refuses NUL
bytes in text and numbers beyond a bigint, SQLite numbers beyond 64 bits). A route added later is
covered without anyone listing it here.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from tests import factories

pytestmark = pytest.mark.django_db

#: What an attacker puts where a parameter goes (already %-encoded for the URL).
HOSTILE = {
    "nul": "%00",
    "nul-inside": "K7P%00Q2",
    "word": "abc",
    "negative": "-1",
    "huge": "9" * 30,
    "just-over-bigint": str(2**63),
}


#: Wagtail's own URL confs: the admin (staff only) and document serving are Wagtail's code, not ours.
WAGTAIL_INCLUDES = {"admin/", "documents/"}


def _routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every ``path()`` route of the URL conf, with its converters, joined with its includes' prefixes."""
    resolver = resolver or get_resolver()
    found: list[str] = []
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        if not isinstance(pattern, RoutePattern):
            continue  # regular expressions (Wagtail's admin and page serving) are probed below
        route = prefix + str(pattern)
        if route in WAGTAIL_INCLUDES:
            continue
        if isinstance(entry, URLResolver):
            found += _routes(entry, route)
        elif isinstance(entry, URLPattern) and "<" in route:
            found.append(route)
    return found


PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
ROUTES = sorted(set(_routes()))


def _fill(route: str, hostile: str, target: str) -> str:
    """The route with ``target`` set to the hostile value and every other parameter set to a harmless one."""

    def value(match: re.Match) -> str:
        if match.group("name") == target:
            return hostile
        return "1" if (match.group("converter") or "str") in {"int", "id"} else "comment"

    return "/" + PARAMETER.sub(value, route)


def _cases(route: str) -> list[str]:
    names = [match.group("name") for match in PARAMETER.finditer(route)]
    return [_fill(route, value, name) for name in names for value in HOSTILE.values()]


CASES = [pytest.param(_cases(route), id=route) for route in ROUTES]
#: Paths served by regular-expression routes (Wagtail's pages and admin).
CASES.append(
    pytest.param(
        ["/%00/", "/consultations%00/", f"/{'9' * 30}/", "/documents/%00/x.pdf", f"/documents/{2**63}/x.pdf"],
        id="wagtail",
    )
)


def test_the_url_conf_has_parameterised_routes_to_probe():
    assert any("live/" in route for route in ROUTES) and any("<" in route for route in ROUTES)


@pytest.mark.parametrize("paths", CASES)
@pytest.mark.parametrize("who", ["visitor", "superuser"])
def test_a_hostile_url_parameter_is_answered_with_a_client_error(client, home_page, paths, who):
    if who == "superuser":
        client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    failed = []
    for path in paths:
        for method in (client.get, client.post):
            try:
                status = method(path).status_code
            except Exception as exc:  # the test client re-raises a view's exception
                failed.append((method.__name__, path, type(exc).__name__))
                continue
            if status >= 500:
                failed.append((method.__name__, path, status))
    assert not failed
