"""The Wagtail admin's Content-Security-Policy, and the admin pages that keep to it.

The admin is served with its own policy (``ADMIN_CONTENT_SECURITY_POLICY``, chosen by
``cms.middleware``): scripts only from the site itself, so an injected script cannot run there either.
Wagtail's own inline scripts are replaced by inert elements (``cms.admin_scripts``); every admin page
reached here must carry none, nor any inline event handler.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from wagtail.snippets.models import get_snippet_models

from consultations.models import ConsultationIndexPage, ConsultationPage
from tests import factories

INERT_SCRIPT_TYPES = {"application/json", "text/template", "application/ld+json"}


class InlineCode(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, _value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
        if tag == "script" and not values.get("src") and (values.get("type") or "") not in INERT_SCRIPT_TYPES:
            self._in_script = True

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"<script>{data.strip()[:80]}</script>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def admin_paths_without_arguments() -> list[str]:
    """Every admin URL that takes no argument, from the URL conf."""
    paths = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern) and not re.search(r"[<(\[]", route):
                paths.append("/" + (prefix + route).replace("^", "").replace("$", "").replace("\\Z", ""))

    admin = next(p for p in get_resolver().url_patterns if str(p.pattern) == "admin/")
    walk(admin.url_patterns, "admin/")
    # Wagtail's own "does error reporting work" page raises on purpose.
    return sorted(set(paths) - {"/admin/failwhale/"})


@pytest.fixture
def superuser_client(client, home_page):
    user = factories.OfficerFactory(is_superuser=True, is_staff=True)
    client.force_login(user)
    return client


def test_the_admin_is_served_with_a_policy_that_allows_no_inline_script(client, home_page):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    policy = dict(part.split(" ", 1) for part in response["Content-Security-Policy"].split("; "))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["form-action"] == "'self'"
    assert policy["frame-ancestors"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]


def test_the_public_site_keeps_its_own_stricter_policy(client, home_page):
    policy = client.get("/")["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "blob:" not in policy


@pytest.mark.django_db
def test_every_admin_page_without_arguments_has_no_inline_script(superuser_client):
    paths = admin_paths_without_arguments()
    assert len(paths) > 30
    checked = 0
    for path in paths:
        response = superuser_client.get(path)
        assert response.status_code < 500, path
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            assert inline_code(response.content.decode()) == [], path
            checked += 1
    assert checked > 20


@pytest.mark.django_db
def test_every_add_form_of_townhalls_pages_and_snippets_has_no_inline_script(superuser_client, home_page):
    index = ConsultationIndexPage(title="Consultations", slug="consultations-policy")
    home_page.add_child(instance=index)
    consultation = ConsultationPage(title="Bus lanes", slug="bus-lanes", summary="Bus lanes.")
    index.add_child(instance=consultation)
    urls = [
        reverse("wagtailadmin_pages:add", args=["consultations", "consultationpage", index.pk]),
        reverse("wagtailadmin_pages:add", args=["consultations", "consultationindexpage", home_page.pk]),
        reverse("wagtailadmin_pages:add", args=["cms", "standardpage", home_page.pk]),
        reverse("wagtailadmin_pages:edit", args=[consultation.pk]),
        reverse("wagtailadmin_pages:edit", args=[home_page.pk]),
        reverse("wagtailsettings:edit", args=["cms", "councilsettings"]),
    ]
    for model in get_snippet_models():
        urls.append(model.snippet_viewset.get_url_name("add"))
    for url in urls:
        path = url if url.startswith("/") else reverse(url)
        response = superuser_client.get(path, follow=True)
        assert response.status_code == 200, path
        assert inline_code(response.content.decode()) == [], path
