"""Live sessions in a real browser: a councillor runs a meeting, a resident votes on a phone, and the
presenter screen and the other phones update without a reload. Every page passes axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import BrowserDriver
from tests.live.conftest import session_cookie
from voting import live
from voting.models import Ballot, LiveSession


def _signed_in(th, user):
    th.page.context.add_cookies([{"name": "sessionid", "value": session_cookie(user), "url": th.base_url}])


def _second_driver(browser, base_url, user=None, viewport=None):
    """Another person's browser (a phone by default), held to the same axe and console rules."""
    context = browser.new_context(viewport=viewport or {"width": 390, "height": 844}, locale="en-GB")
    if user is not None:
        context.add_cookies([{"name": "sessionid", "value": session_cookie(user), "url": base_url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    driver = BrowserDriver(page=page, base_url=base_url)
    page.on("load", driver._on_load)
    page.on("console", driver._on_console)
    page.on("pageerror", lambda exc: driver.console_errors.append(str(exc)))
    return driver


def _finish(driver):
    if driver.loaded:
        driver.axe()
    driver.page.context.close()
    assert not driver.skipped
    assert not driver.console_errors, driver.console_errors


def test_councillor_runs_a_session_and_the_presenter_screen_follows_a_phone_vote(th, browser):
    councillor = factories.CouncillorFactory(display_name="Cllr Siân Rhys")
    resident = factories.ResidentFactory()
    _signed_in(th, councillor)
    page = th.page

    # The councillor starts a session and queues a question, all with ordinary forms.
    th.goto("/voting/live/")
    page.get_by_label("Meeting name").fill("Full council, March")
    th.submit(page.get_by_role("button", name="Start a session"))
    session = LiveSession.objects.get(title="Full council, March")
    expect(page.get_by_role("heading", level=1)).to_have_text("Full council, March")

    # A mistake first: a choice question with one option is explained, nothing is queued.
    page.get_by_label("Question", exact=True).fill("Colour of the new benches?")
    page.get_by_label("Choose one option").check()
    page.get_by_label("Options (choose one only)").fill("Green")
    th.submit(page.get_by_role("button", name="Add to the queue"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("between 2 and 8 choices")
    page.get_by_label("Options (choose one only)").fill("Green\nOak brown")
    th.submit(page.get_by_role("button", name="Add to the queue"))
    th.submit(page.get_by_role("button", name=re.compile("^Open")))
    expect(page.get_by_text("Voting open")).to_be_visible()

    # The big screen: question, code and QR code in large type, and the live chart.
    th.goto(f"/voting/live/{session.code}/present/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Colour of the new benches?")
    expect(page.locator(".th-present__code")).to_have_text(session.code)
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    expect(page.locator("[data-live-total]")).to_have_text("0")

    # A resident joins by code on a phone and votes: the presenter chart moves without a reload.
    phone = _second_driver(browser, th.base_url, resident)
    phone.goto("/voting/live/")
    phone.page.get_by_label("Session code").fill(session.code.lower())
    phone.submit(phone.page.get_by_role("button", name="Join"))
    phone.page.get_by_label("Oak brown").check()
    phone.page.get_by_role("button", name="Send my vote").click()
    expect(phone.page.get_by_role("status")).to_contain_text("counted")
    expect(page.locator("[data-live-total]")).to_have_text("1")
    option = session.items.get().question.option_list[1]
    expect(page.locator(f'[data-live-count="{option.pk}"]')).to_have_text("1")
    # Screen readers hear it politely, once the throttle allows.
    expect(page.locator("[data-live-announce]")).to_contain_text("Oak brown 1", timeout=8_000)
    th.axe()
    assert Ballot.objects.filter(question=option.question).count() == 1

    # The host closes the question: the phone shows the final result after following the session.
    th.goto(f"/voting/live/{session.code}/host/")
    th.submit(page.get_by_role("button", name="Close voting"))
    expect(phone.page.get_by_text("Final result")).to_be_visible()
    phone.axe()
    _finish(phone)


def test_a_vote_on_one_phone_appears_on_another(th, browser):
    councillor = factories.CouncillorFactory()
    session = live.live_session_create(host=councillor, title="Ward forum")
    question = live.live_session_add_question(
        session=session, title="Close the road on Sundays?", kind="yes_no", options=[]
    )
    live.live_session_open_question(session=session, item=question.live_item)
    watcher = factories.ResidentFactory()
    voter = factories.ResidentFactory()
    _signed_in(th, watcher)
    th.goto(session.get_absolute_url())
    expect(th.page.locator('[data-live-count="yes"]')).to_have_text("0")

    other = _second_driver(browser, th.base_url, voter)
    other.goto(session.get_absolute_url())
    other.page.get_by_label("Yes").check()
    other.page.get_by_role("button", name="Send my vote").click()
    expect(other.page.get_by_role("status")).to_contain_text("counted")

    expect(th.page.locator('[data-live-count="yes"]')).to_have_text("1")
    expect(th.page.locator("[data-live-total]")).to_have_text("1")
    th.axe()
    other.axe()
    _finish(other)


def test_attendee_page_works_without_javascript(browser, daphne_server, live_db):
    councillor = factories.CouncillorFactory()
    resident = factories.ResidentFactory()
    session = live.live_session_create(host=councillor, title="Town meeting")
    question = live.live_session_add_question(
        session=session, title="Extend library hours?", kind="yes_no", options=[]
    )
    live.live_session_open_question(session=session, item=question.live_item)
    context = browser.new_context(java_script_enabled=False)
    context.add_cookies([{"name": "sessionid", "value": session_cookie(resident), "url": daphne_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    # axe-core needs JavaScript; these pages are checked by the journeys above.
    page.goto(daphne_server.url + session.get_absolute_url())
    with page.expect_navigation():
        page.get_by_role("button", name="Send my vote").click()  # nothing chosen
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    page.get_by_label("No").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send my vote").click()
    expect(page.get_by_text("Your vote has been counted")).to_be_visible()
    expect(page.locator('[data-live-count="no"]')).to_have_text("1")
    context.close()
