"""Moderation end to end in the browser: a resident reports a comment, the moderator sees it arrive live,
hides it with a reason, the author sees the reason and appeals, and a moderator decides the appeal.
Every page passes axe-core; the journey works with the keyboard-reachable controls people use."""

from __future__ import annotations

from playwright.sync_api import expect

from cms.sanitiser import sanitise_html
from consultations.phases import PhaseKind
from tests import factories
from tests.browser.conftest import BrowserDriver
from tests.consultations.factories import make_consultation, make_index
from tests.proposals.factories import CommentFactory, IdeaProposalFactory

PASSWORD = "correct horse battery staple"


def sign_in(driver: BrowserDriver, email: str) -> None:
    driver.goto("/accounts/sign-in/")
    driver.page.get_by_label("Email address").fill(email)
    driver.page.get_by_label("Password").fill(PASSWORD)
    driver.submit(driver.page.get_by_role("button", name="Sign in"))


def second_driver(browser, daphne_server) -> tuple[BrowserDriver, object]:
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    driver = BrowserDriver(page=page, base_url=daphne_server.url)
    page.on("load", driver._on_load)
    page.on("console", driver._on_console)
    page.on("pageerror", lambda exc: driver.console_errors.append(str(exc)))
    return driver, context


def test_flag_queue_hide_with_reason_author_sees_it_and_appeals(th, browser, daphne_server, live_db):
    from cms.models import StandardPage

    rules_page = StandardPage(title="House rules", slug="house-rules", summary="How we keep it civil.")
    live_db.add_child(instance=rules_page)
    rules_page.save_revision().publish()
    ward = factories.WardFactory(name="Afon", code="W-AFON")
    author = factories.ResidentFactory(ward=ward, email="awen@example.org", display_name="Awen")
    reporter = factories.ResidentFactory(ward=ward, email="rhys@example.org", display_name="Rhys")
    factories.ModeratorFactory(email="mo@example.org", display_name="Mo Moderator")
    consultation = make_consultation(
        make_index(live_db),
        wards=[ward],
        kinds=(PhaseKind.PROPOSALS, PhaseKind.OUTCOME),
        title="A new riverside park",
        summary="How should the wharf become a park?",
    )
    proposal = IdeaProposalFactory(
        consultation=consultation,
        title="Benches by the river",
        summary="Somewhere to rest.",
        body=sanitise_html("More benches."),
    )
    comment = CommentFactory(
        proposal=proposal, author=author, stance="against", body=sanitise_html("Only idiots want benches.")
    )
    del reporter

    # The moderator watches the queue.
    moderator, moderator_context = second_driver(browser, daphne_server)
    sign_in(moderator, "mo@example.org")
    moderator.goto("/proposals/moderation/")
    expect(moderator.page.get_by_text("Nothing is waiting")).to_be_visible()

    # A resident reports the comment.
    sign_in(th, "rhys@example.org")
    th.goto(f"/proposals/p/{proposal.pk}/")
    th.submit(th.page.get_by_role("link", name="Report this comment"))
    expect(th.page.locator("main").get_by_role("link", name="house rules", exact=True)).to_be_attached()
    th.submit(th.page.get_by_role("button", name="Send report"))
    expect(th.page.locator(".govuk-error-summary")).to_contain_text("Choose a reason")
    th.page.get_by_label("Abusive, threatening or hateful").check()
    th.submit(th.page.get_by_role("button", name="Send report"))
    expect(th.page.locator(".govuk-notification-banner")).to_contain_text("A moderator will look at this")

    # It arrives on the moderator's open queue without a reload.
    live = moderator.page.locator("#moderation-live")
    expect(live).to_contain_text("1 new report has arrived")
    moderator.submit(live.get_by_role("link", name="Refresh the queue"))
    moderator.submit(moderator.page.get_by_role("link", name="Comment: Only idiots want benches."))
    moderator.page.get_by_label("Hide it").check()
    moderator.page.get_by_label("Reason").select_option(label="Abusive, threatening or hateful")
    moderator.page.get_by_label("Explanation for the author").fill(
        "Calling people idiots breaks the house rule on respect. You are welcome to post again politely."
    )
    moderator.submit(moderator.page.get_by_role("button", name="Record decision"))
    expect(moderator.page.locator(".govuk-notification-banner")).to_contain_text("The author has been told")
    expect(moderator.page.get_by_text("Nothing is waiting")).to_be_visible()

    # Other people see that it was hidden, not why.
    th.goto(f"/proposals/p/{proposal.pk}/")
    expect(th.page.get_by_text("This comment was hidden by a moderator")).to_be_visible()
    expect(th.page.get_by_text("Calling people idiots")).to_have_count(0)

    # The author is told, by email and on their comment, and appeals once.
    mails = [m for m in daphne_server.emails() if m["To"] == "awen@example.org"]
    assert mails and "Calling people idiots" in daphne_server.text_of(mails[-1])
    th.page.context.clear_cookies()
    sign_in(th, "awen@example.org")
    th.goto(f"/proposals/p/{proposal.pk}/")
    notice = th.page.locator(f"#comment-{comment.pk} .th-moderation-notice")
    expect(notice).to_contain_text("Abusive, threatening or hateful")
    expect(notice).to_contain_text("Calling people idiots breaks the house rule on respect.")
    th.submit(notice.get_by_role("link", name="Appeal this decision"))
    th.submit(th.page.get_by_role("button", name="Send appeal"))
    expect(th.page.locator(".govuk-error-summary")).to_contain_text("Tell us why the decision should change")
    th.page.get_by_label("Why should this decision change?").fill("It was a joke between neighbours.")
    th.submit(th.page.get_by_role("button", name="Send appeal"))
    expect(th.page.get_by_text("Your appeal:")).to_be_visible()
    expect(th.page.get_by_text("Waiting for a moderator")).to_be_visible()

    # A moderator reviews the appeal; the decision stands, with a reason the author reads.
    moderator.goto("/proposals/moderation/appeals/")
    moderator.submit(moderator.page.get_by_role("link", name="Hidden, appealed by Awen"))
    moderator.page.get_by_label("The decision stands").check()
    moderator.page.get_by_label("Explanation for the person who appealed").fill("Jokes can still hurt.")
    moderator.submit(moderator.page.get_by_role("button", name="Record decision"))
    expect(moderator.page.get_by_text("No appeals are waiting")).to_be_visible()
    th.goto("/proposals/notices/")
    expect(th.page.get_by_text("Decision stands. Jokes can still hurt.")).to_be_visible()
    expect(th.page.get_by_role("link", name="Appeal this decision")).to_have_count(0)

    th.goto("/proposals/moderation/statistics/")
    expect(th.page.get_by_role("table")).to_contain_text("Abusive, threatening or hateful")

    assert not moderator.skipped and not moderator.console_errors, (
        moderator.skipped,
        moderator.console_errors,
    )
    moderator_context.close()
