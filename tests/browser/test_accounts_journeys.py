"""First journeys: a visitor reads the home page; a resident registers, confirms and signs in; a
councillor signs in to the Wagtail admin."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from accounts import roles
from accounts.models import PostcodePrefix, User, Ward
from tests import factories


def test_visitor_reads_the_home_page(th):
    response = th.goto("/")
    assert response.status == 200
    expect(th.page.get_by_role("heading", level=1)).to_be_visible()
    expect(th.page.get_by_role("link", name="Skip to main content")).to_be_attached()
    # Keyboard users reach the skip link first.
    th.page.keyboard.press("Tab")
    expect(th.page.get_by_role("link", name="Skip to main content")).to_be_focused()
    expect(th.page.get_by_role("heading", name="Open for your views")).to_be_visible()


def test_resident_registers_confirms_email_and_signs_in(th, daphne_server):
    ward = Ward.objects.create(code="W1", name="Afon")
    PostcodePrefix.objects.create(prefix="TH1", ward=ward)
    page = th.page
    th.goto("/accounts/register/")

    # A first attempt with mistakes: each field gets its own message, and the summary takes focus.
    page.get_by_label("Display name").fill("Siân")
    page.get_by_label("Email address").fill("not-an-email")
    page.get_by_label("Postcode").fill("ZZ9 9ZZ")
    page.get_by_label("Create a password").fill("short")
    th.submit(page.get_by_role("button", name="Create account"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter an email address in the correct format")
    expect(summary).to_contain_text("ZZ9 9ZZ is not in this council's area")
    expect(summary).to_contain_text("This password is too short")

    page.get_by_label("Email address").fill("sian@example.org")
    page.get_by_label("Postcode").fill("th1 4ab")
    page.get_by_label("Create a password").fill("river wharf lanterns")
    th.submit(page.get_by_role("button", name="Create account"))
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    user = User.objects.get(email="sian@example.org")
    assert user.ward == ward and user.postcode == "TH1 4AB" and user.email_verified_at is None
    assert roles.has_role(user, roles.RESIDENT)

    # Signing in before confirming is refused with a clear message.
    th.goto("/accounts/sign-in/")
    page.get_by_label("Email address").fill("sian@example.org")
    page.get_by_label("Password").fill("river wharf lanterns")
    th.submit(page.get_by_role("button", name="Sign in"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("You need to confirm your email address")

    mails = [m for m in daphne_server.emails() if m["To"] == "sian@example.org"]
    assert len(mails) == 1
    link = re.search(r"http://\S+/accounts/verify/\S+/", mails[0].get_payload(decode=True).decode())
    assert link is not None
    page.goto(link.group(0))
    th.axe()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your email address is confirmed")

    page.get_by_label("Email address").fill("sian@example.org")
    page.get_by_label("Password").fill("river wharf lanterns")
    th.submit(page.get_by_role("button", name="Sign in"))
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_text("Afon")).to_be_visible()


def _restore_role_groups():
    """Transactional tests flush the groups the migration made; make them again."""
    from importlib import import_module

    from django.apps import apps

    import_module("accounts.migrations.0002_role_groups").create_groups(apps, None)


def test_councillor_signs_in_to_the_admin(th):
    _restore_role_groups()
    factories.CouncillorFactory(email="cllr@example.org", display_name="Cllr Morgan", is_staff=True)
    page = th.page
    th.goto("/admin/login/")
    page.get_by_label("Email").fill("cllr@example.org")
    page.get_by_label("Password").fill("correct horse battery staple")
    th.submit(page.get_by_role("button", name="Sign in"))
    assert page.url.endswith("/admin/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Townhall")
    expect(page.get_by_role("button", name="cllr@example.org")).to_be_attached()
