"""A resident chooses the language of their emails and which emails they want, from their account."""

from __future__ import annotations

from playwright.sync_api import expect

from notifications.models import Preference
from tests import factories
from tests.browser.test_proposals_moderation import PASSWORD, sign_in


def test_resident_sets_email_language_and_turns_a_kind_off(th):
    resident = factories.ResidentFactory(email="gwen@example.org", password=PASSWORD)
    page = th.page
    sign_in(th, resident.email)
    th.goto("/accounts/profile/")
    th.submit(page.get_by_role("link", name="Email settings: language and which emails you get"))
    expect(page.get_by_role("heading", name="Email settings", level=1)).to_be_visible()
    page.get_by_label("Cymraeg").check()
    page.get_by_label("News about your proposals").uncheck()
    th.submit(page.get_by_role("button", name="Save email settings"))
    expect(page.get_by_text("Your email settings are saved.")).to_be_visible()
    expect(page.get_by_label("Cymraeg")).to_be_checked()
    expect(page.get_by_label("News about your proposals")).not_to_be_checked()
    preference = Preference.objects.get(user=resident)
    assert preference.language == "cy" and "proposal_status" in preference.muted_kinds
