"""The site shell: home and standard pages, the council's branding, security headers, demo data."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from wagtail.models import Page, Site
from wagtail.test.utils import WagtailPageTestCase

from accounts.models import User, Ward
from cms.models import CouncilSettings, HomePage, StandardPage
from consultations.models import ConsultationIndexPage, ConsultationPage


@pytest.mark.django_db
def test_the_home_page_shows_the_council_and_what_is_open(client, home_page):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a href="#main-content" class="govuk-skip-link"' in html
    assert '<main class="govuk-main-wrapper" id="main-content"' in html
    assert "Open for your views" in html and "You said, we did" in html


@pytest.mark.django_db
def test_every_public_page_sends_a_strict_content_security_policy(client, home_page):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_no_public_page_has_inline_script_or_style(client, home_page):
    for url in ["/", "/accounts/register/", "/accounts/sign-in/"]:
        html = client.get(url).content.decode()
        assert "<script>" not in html
        assert " style=" not in html
        assert " onclick=" not in html


@pytest.mark.django_db
def test_the_brand_colour_comes_from_site_settings_as_a_stylesheet(client, home_page):
    council = CouncilSettings.for_site(Site.objects.get(is_default_site=True))
    council.brand_colour = "#123456"
    council.save()
    response = client.get("/brand.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert response.content.decode() == ":root{--th-brand:#123456;}\n"


@pytest.mark.django_db
def test_a_brand_colour_must_be_a_hex_colour():
    from django.core.exceptions import ValidationError

    council = CouncilSettings(brand_colour="red;}body{display:none")
    with pytest.raises(ValidationError):
        council.full_clean(exclude=["site"])


@pytest.mark.django_db
def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_an_unknown_page_gets_a_helpful_404(client, home_page):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
def test_standard_pages_render_their_body(client, home_page):
    page = StandardPage(
        title="House rules",
        slug="house-rules",
        summary="Be kind",
        body=[("heading", {"text": "Respect", "size": "h2"}), ("paragraph", "<p>No insults.</p>")],
    )
    home_page.add_child(instance=page)
    page.save_revision().publish()
    html = client.get("/house-rules/").content.decode()
    assert '<h2 class="govuk-heading-l">Respect</h2>' in html
    assert "No insults." in html


class TestPageTree(WagtailPageTestCase):
    def test_home_page_lives_at_the_root_and_holds_pages_and_consultations(self):
        self.assertAllowedParentPageTypes(HomePage, {Page})
        self.assertAllowedSubpageTypes(HomePage, {StandardPage, ConsultationIndexPage})

    def test_standard_pages_nest_under_home_or_each_other(self):
        self.assertAllowedParentPageTypes(StandardPage, {HomePage, StandardPage})
        self.assertAllowedSubpageTypes(StandardPage, {StandardPage})

    def test_consultations_live_under_the_index(self):
        self.assertAllowedParentPageTypes(ConsultationPage, {ConsultationIndexPage})
        self.assertAllowedParentPageTypes(ConsultationIndexPage, {HomePage})


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings, wagtail_root):
    settings.DEBUG = True
    call_command("seed_demo", "--quiet-logins", stdout=open(os.devnull, "w"))  # noqa: SIM115
    counts = (User.objects.count(), Ward.objects.count(), Page.objects.count())
    call_command("seed_demo", "--quiet-logins", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert (User.objects.count(), Ward.objects.count(), Page.objects.count()) == counts
    assert counts[0] >= 300 and counts[1] == 8


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off_unless_told(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing to load demo accounts"):
        call_command("seed_demo")


def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "a-long-random-value-for-this-test-only-9f8e7d6c5b4a3928171615141312",
        "ALLOWED_HOSTS": "townhall.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "ALLOWED_HOSTS": "x.org"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
