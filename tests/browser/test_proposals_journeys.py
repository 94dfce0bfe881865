"""A resident's journey through proposals, in the browser with axe-core on every page: choose a kind,
fix a mistake, submit, find it in the sorted and filtered list, support someone else's proposal, argue
for and against in the thread, reply, quote, edit, and read the arguments side by side."""

from __future__ import annotations

from playwright.sync_api import expect

from cms.sanitiser import sanitise_html
from consultations.phases import PhaseKind
from tests import factories
from tests.browser.test_proposals_moderation import sign_in
from tests.consultations.factories import make_consultation, make_index
from tests.proposals.factories import BudgetProposalFactory


def test_resident_proposes_supports_and_deliberates(th, live_db):
    ward = factories.WardFactory(name="Afon", code="W-AFON2")
    factories.ResidentFactory(ward=ward, email="sian@example.org", display_name="Siân")
    consultation = make_consultation(
        make_index(live_db),
        wards=[ward],
        kinds=(PhaseKind.PROPOSALS, PhaseKind.OUTCOME),
        title="A new riverside park",
        summary="How should the wharf become a park?",
    )
    other = BudgetProposalFactory(
        consultation=consultation,
        title="Lights on the river path",
        summary="Solar lights.",
        body=sanitise_html("Safer after dark."),
        support_count=3,
        ward=ward,
    )
    page = th.page
    sign_in(th, "sian@example.org")

    th.goto(f"/proposals/{consultation.pk}/")
    expect(page.get_by_text("1 proposal")).to_be_visible()
    th.submit(page.get_by_role("link", name="Submit a proposal"))
    page.get_by_label("Budget proposal").check()
    th.submit(page.get_by_role("button", name="Continue"))
    page.get_by_label("Title").fill("Benches every hundred metres")
    page.get_by_label("Summary").fill("Places to rest for older people.")
    page.get_by_label("Estimated cost, in pounds").fill("lots")
    page.get_by_label("Where?").fill("Along the river path")
    th.submit(page.get_by_role("button", name="Submit proposal"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the cost as a number of pounds")
    page.get_by_label("Estimated cost, in pounds").fill("8500")
    th.submit(page.get_by_role("button", name="Submit proposal"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Benches every hundred metres")
    expect(page.get_by_text("£8,500")).to_be_visible()

    # Sort and filter with a plain GET form.
    th.goto(f"/proposals/{consultation.pk}/")
    page.get_by_label("Kind").select_option(label="Budget proposal")
    page.get_by_label("Sort by").select_option(label="Newest")
    th.submit(page.get_by_role("button", name="Show proposals"))
    expect(page.get_by_role("heading", level=2).filter(has_text="Benches")).to_be_visible()

    # Support someone else's proposal, twice: the second is a clear no-op.
    th.goto(f"/proposals/p/{other.pk}/")
    th.submit(page.get_by_role("button", name="Support this proposal"))
    expect(page.locator(".th-support-box")).to_contain_text("You support this proposal.")
    expect(page.get_by_text("4 supporters")).to_be_visible()

    # Argue in the thread: a comment, a reply, a quote, an edit.
    page.get_by_label("For", exact=True).check()
    page.get_by_label("Your comment").fill("Lights would make the path usable in winter.")
    th.submit(page.get_by_role("button", name="Post comment"))
    expect(page.get_by_text("Your comment has been added.")).to_be_visible()
    th.submit(page.get_by_role("link", name="Reply to this comment"))
    page.get_by_label("Against").check()
    page.get_by_label("Your comment").fill("But the light would disturb the bats.")
    th.submit(page.get_by_role("button", name="Post comment"))
    th.submit(page.get_by_role("link", name="Quote this comment").last)
    page.get_by_label("Question").check()
    page.get_by_label("Your comment").fill("Are there bat-friendly lights?")
    th.submit(page.get_by_role("button", name="Post comment"))
    expect(page.locator(".th-quote")).to_contain_text("disturb the bats")
    th.submit(page.get_by_role("link", name="Edit your comment").first)
    page.get_by_label("Your comment").fill("Lights would make the path usable all winter.")
    th.submit(page.get_by_role("button", name="Save changes"))
    expect(page.get_by_text("usable all winter")).to_be_visible()
    expect(page.get_by_text("3 comments")).to_be_visible()
    expect(page.get_by_text("from 1 person")).to_be_visible()

    th.submit(page.get_by_role("link", name="Show arguments for and against side by side"))
    expect(page.get_by_role("heading", name="For (1)")).to_be_visible()
    expect(page.get_by_role("heading", name="Against (1)")).to_be_visible()
    th.goto(f"/proposals/p/{other.pk}/")
    th.submit(page.get_by_role("link", name="edited"))
    expect(page.get_by_role("heading", name="Comment history")).to_be_visible()
    expect(page.get_by_text("usable in winter")).to_be_visible()
