"""Fixtures shared by every test: people in each role, the Wagtail page tree, the home page."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from wagtail.models import Locale, Page, Site

from tests import factories


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits and lockouts live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def ensure_wagtail_tree() -> Page:
    """Wagtail's root page, default locale and site come from migrations, and transactional tests wipe
    them. Recreate them when missing, and return the root page."""
    Locale.objects.get_or_create(language_code="en")
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(title="Root", slug="root", locale=Locale.objects.get(language_code="en"))
    return root


@pytest.fixture
def wagtail_root(db) -> Page:
    return ensure_wagtail_tree()


@pytest.fixture
def home_page(wagtail_root):
    from cms.models import HomePage

    home = HomePage.objects.first()
    if home is None:
        home = HomePage(title="Home", slug="home-test", intro="<p>Welcome</p>")
        wagtail_root.add_child(instance=home)
        home.save_revision().publish()
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home, "site_name": "Townhall"},
    )
    return home


@pytest.fixture
def ward(db):
    return factories.WardFactory(prefixes=["TW1"])


@pytest.fixture
def resident(ward):
    return factories.ResidentFactory(ward=ward)


@pytest.fixture
def councillor(db):
    return factories.CouncillorFactory()


@pytest.fixture
def moderator(db):
    return factories.ModeratorFactory()


@pytest.fixture
def officer(db):
    return factories.OfficerFactory()


@pytest.fixture
def visitor_client(client):
    return client


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def run_jobs(db):
    """Run the queued background jobs (mail and more) now, in this process. Returns a function."""
    from tests.jobs import run_queued_jobs

    return run_queued_jobs
