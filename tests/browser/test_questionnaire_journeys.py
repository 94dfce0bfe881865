"""Questionnaire journeys in a real browser.

A resident on a phone with JavaScript switched off answers a questionnaire, leaves, comes back by the
emailed link, checks their answers and gets a receipt; a business owner without an account responds
for their business, with axe-core checking every page on the way (errors, check your answers, the
confirmation and the saved page included).
"""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from questionnaires.models import ExportLog, Questionnaire, Respondents, Response
from tests import factories
from tests.browser.test_consultations_journeys import _admin_sign_in, _restore_roles_and_workflow
from tests.consultations.factories import make_consultation, make_index
from tests.live.conftest import session_cookie
from tests.questionnaires.factories import make_questionnaire


def _questionnaire(home, respondents=Respondents.EMAIL):
    index = make_index(home)
    consultation = make_consultation(index, title="Town centre buses", slug="town-centre-buses", days=3)
    return consultation, make_questionnaire(
        consultation, respondents=respondents, title="Buses questionnaire"
    )


def _link(message) -> str:
    body = message.get_payload(decode=True).decode()
    match = re.search(r"https?://\S+?(/questionnaires/resume/\S+/)", body)
    assert match, body
    return match.group(1)


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"]))).replace("\n", "")


def _about_you(page, *, organisation: str = "", email: str = "") -> None:
    if email:
        page.get_by_label("Email address").fill(email)
    if organisation:
        page.get_by_label("On behalf of an organisation").check()
        page.get_by_label("Organisation name").fill(organisation)
        page.get_by_label("I run a business here").check()
    else:
        page.get_by_label("As an individual").check()
        page.get_by_label("I live here").check()
    page.get_by_label("Publish my response without my name").check()


def test_resident_on_a_phone_without_javascript_answers_leaves_comes_back_and_gets_a_receipt(
    browser, daphne_server, live_db
):
    consultation, _ = _questionnaire(live_db)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    base = daphne_server.url

    page.goto(base + consultation.url)
    with page.expect_navigation():
        page.get_by_role("link", name="Respond to the questionnaire").click()
    expect(page.get_by_text("one response for each email address")).to_be_visible()
    _about_you(page, email="resident@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Start now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    page.goto(base + _link(daphne_server.emails()[-1]))
    expect(page.get_by_role("heading", level=1)).to_have_text("How do you usually travel to the town centre?")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()  # nothing chosen
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select an answer.")
    page.get_by_label("Bus", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The bus station")
    page.get_by_label("Agree", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save and come back later").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been saved")
    context.close()

    # Later, on the same phone with a fresh browser: the emailed link brings the answers back.
    resume = daphne_server.emails()[-1]
    assert "Come back to your answers" in _subject(resume)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base + _link(resume))
    expect(page.get_by_role("heading", level=1)).to_have_text("Improving the centre")
    with page.expect_navigation():
        page.get_by_role("link", name="Back").click()
    expect(page.get_by_label("Agree", exact=True)).to_be_checked()
    page.get_by_label("Why do you say that?").fill("Fewer cars in the square")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    page.get_by_label("Lighting").check()
    page.get_by_label("Day", exact=True).fill("3")
    page.get_by_label("Month", exact=True).fill("11")
    page.get_by_label("Year", exact=True).fill("2026")
    page.get_by_label("What is your postcode?").fill("tw1 1aa")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before sending your response"
    )
    expect(page.locator("main")).to_contain_text("Fewer cars in the square")
    # Change an answer from the check page and come straight back.
    with page.expect_navigation():
        page.get_by_role("link", name="Change your answer to “What is your postcode?”").click()
    page.get_by_label("What is your postcode?").fill("TW1 2AB")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    expect(page.locator("body")).to_contain_text("TW1 2AB")
    with page.expect_navigation():
        page.get_by_role("button", name="Accept and send").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Response sent")
    stored = Response.objects.get()
    expect(page.locator(".govuk-panel__body")).to_contain_text(stored.reference)
    copy = daphne_server.emails()[-1]
    assert stored.reference in _subject(copy)
    assert stored.answers["postcode"] == "TW1 2AB" and stored.answers["bus-why"] == "Fewer cars in the square"
    context.close()


def test_business_owner_without_an_account_responds_for_their_business(th, daphne_server, live_db):
    consultation, _ = _questionnaire(live_db)
    page = th.page
    th.goto(consultation.url)
    th.submit(page.get_by_role("link", name="Respond to the questionnaire"))
    page.get_by_label("On behalf of an organisation").check()
    th.submit(page.get_by_role("button", name="Start now"))  # no email, no organisation name
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your email address")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the name of your organisation")
    _about_you(page, organisation="Bryn Café", email="owner@bryn.example")
    th.submit(page.get_by_role("button", name="Start now"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    th.goto(_link(daphne_server.emails()[-1]))
    page.get_by_label("Other", exact=True).check()
    th.submit(page.get_by_role("button", name="Continue"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say what your other answer is.")
    page.get_by_label("If you chose “Other”, please say").fill("Delivery van")
    th.submit(page.get_by_role("button", name="Continue"))
    # Not a bus user: the bus station page is skipped.
    expect(page.get_by_role("heading", level=1)).to_have_text("Improving the centre")
    page.get_by_label("Safety").select_option("1")
    page.get_by_label("Cost").select_option("1")
    page.get_by_label("How many times a month do you visit?").fill("200")
    th.submit(page.get_by_role("button", name="Continue"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Give each option a different rank.")
    expect(summary).to_contain_text("Enter a number of 100 or less.")
    page.get_by_label("Cost").select_option("2")
    page.get_by_label("Speed").select_option("3")
    page.get_by_label("How many times a month do you visit?").fill("20")
    th.submit(page.get_by_role("button", name="Save and come back later"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been saved")
    th.submit(page.get_by_role("link", name="Carry on now"))
    expect(page.locator("body")).to_contain_text("On behalf of an organisation: Bryn Café")
    expect(page.locator("body")).to_contain_text("Other: Delivery van")
    th.submit(page.get_by_role("button", name="Accept and send"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Response sent")
    stored = Response.objects.get()
    assert stored.organisation_name == "Bryn Café" and stored.answers["priorities"] == [
        "Safety",
        "Cost",
        "Speed",
    ]
    assert "bus-station" not in stored.answers


def test_anonymous_respondent_keeps_the_link_on_the_saved_page(th, live_db):
    _consultation, questionnaire = _questionnaire(live_db, respondents=Respondents.ANONYMOUS)
    page = th.page
    th.goto(f"/questionnaires/{questionnaire.pk}/")
    expect(page.locator("body")).to_contain_text("only a limited number of responses can be started")
    _about_you(page)
    th.submit(page.get_by_role("button", name="Start now"))
    page.get_by_label("Walking").check()
    th.submit(page.get_by_role("button", name="Save and come back later"))
    expect(page.locator("body")).to_contain_text("/questionnaires/resume/")
    page.get_by_label("Email address").fill("not an email")
    th.submit(page.get_by_role("button", name="Send me the link"))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter an email address in the correct format"
    )


def test_officer_keys_in_a_paper_response_redacts_one_and_downloads_the_csv(th, daphne_server, live_db):
    consultation, _ = _questionnaire(live_db)
    officer = factories.OfficerFactory(display_name="Olwen Officer")
    th.page.context.add_cookies([{"name": "sessionid", "value": session_cookie(officer), "url": th.base_url}])
    page = th.page
    th.goto(consultation.url)
    th.submit(
        page.get_by_role("link", name="Enter a response received on paper, by email, by phone or at an event")
    )
    page.get_by_label("Paper form").check()
    page.get_by_label("Date received").fill("1/1/2020")
    page.get_by_label("As an individual").check()
    page.get_by_label("I live here").check()
    page.get_by_label("Publish my response without my name").check()
    th.submit(page.get_by_role("button", name="Continue to the questions"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("after the consultation opened")
    page.get_by_label("Date received").fill(timezone.localdate().strftime("%d/%m/%Y"))
    th.submit(page.get_by_role("button", name="Continue to the questions"))
    page.get_by_label("Bus", exact=True).check()
    th.submit(page.get_by_role("button", name="Continue"))
    page.get_by_label("Strongly disagree").check()
    page.get_by_label("Why do you say that?").fill("Ask Mr Jones at 12 High Street")
    th.submit(page.get_by_role("button", name="Continue"))
    th.submit(page.get_by_role("button", name="Continue"))
    expect(page.locator("main")).to_contain_text("Paper form")
    th.submit(page.get_by_role("button", name="Accept and send"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Response recorded")
    stored = Response.objects.get()
    assert stored.channel == "paper" and stored.keyed_by == officer

    th.goto(consultation.url)
    th.submit(page.get_by_role("link", name="Read, search, redact and download the responses"))
    page.get_by_label("Search the answers").fill("High Street")
    th.submit(page.get_by_role("button", name="Search"))
    th.submit(page.get_by_role("link", name=stored.reference))
    page.get_by_label("Answer to redact").select_option("bus-why")
    page.get_by_label("The answer as it should be published").fill("Ask [redacted]")
    th.submit(page.get_by_role("button", name="Redact"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why you are redacting this answer")
    page.get_by_label("Answer to redact").select_option("bus-why")
    page.get_by_label("The answer as it should be published").fill("Ask [redacted]")
    page.get_by_label("Why are you redacting it?").fill("Names and addresses")
    th.submit(page.get_by_role("button", name="Redact"))
    expect(page.locator("main")).to_contain_text("Reason: Names and addresses")
    th.submit(page.get_by_role("link", name="Back to the responses"))
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download every response (CSV)").click()
    path = download_info.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert stored.reference in text and "Ask [redacted]" in text and "12 High Street" not in text
    assert ExportLog.objects.get().user == officer
    th.submit(page.get_by_role("link", name="Results: every question summarised"))
    expect(page.locator("main")).to_contain_text("Version 1: 1 response")
    expect(page.get_by_role("table").first).to_contain_text("Bus")


def test_councillor_builds_a_questionnaire_with_a_condition_in_the_admin(th, live_db):
    _restore_roles_and_workflow(live_db)
    index = make_index(live_db)
    consultation = make_consultation(index, title="Town centre buses", slug="town-centre-buses", days=3)
    factories.CouncillorFactory(email="cllr@example.org")
    _admin_sign_in(th, "cllr@example.org")
    th.goto("/admin/snippets/questionnaires/questionnaire/add/")
    page = th.page
    # The consultation is picked with Wagtail's own page chooser; its hidden input takes the page's id.
    page.locator("#id_consultation").evaluate("(input, pk) => { input.value = pk; }", str(consultation.pk))
    page.locator("#id_title").fill("Buses questionnaire")
    page.locator("#id_respondents").select_option("email")
    add = page.get_by_role("button", name="Insert a block")
    add.first.click()  # page 1
    add.nth(1).click()
    page.get_by_role("option", name="Short text").click()
    page.locator("#pages-0-value-items-0-value-code").fill("bus")
    page.locator("#pages-0-value-items-0-value-text").fill("Do you use the bus?")
    add.last.click()  # page 2
    add.nth(add.count() - 2).click()
    page.get_by_role("option", name="Short text").click()
    page.locator("#pages-1-value-items-0-value-code").fill("why")
    page.locator("#pages-1-value-items-0-value-text").fill("Why not?")
    # First, a mistake: the first question depends on a later one.
    page.locator("#pages-0-value-items-0-value-condition-code").fill("why")
    page.locator("#pages-0-value-items-0-value-condition-value").fill("x")
    th.submit(page.get_by_role("button", name="Save", exact=True))
    expect(page.locator("main")).to_contain_text(
        "Question “bus” depends on question “why”, which comes after it."
    )
    page.locator("#pages-0-value-items-0-value-condition-code").fill("")
    page.locator("#pages-0-value-items-0-value-condition-value").fill("")
    page.locator("#pages-1-value-condition-code").fill("bus")
    page.locator("#pages-1-value-condition-op").select_option("is_not")
    page.locator("#pages-1-value-condition-value").fill("yes")
    th.submit(page.get_by_role("button", name="Save", exact=True))
    questionnaire = Questionnaire.objects.get(consultation=consultation)
    definition = questionnaire.definition()
    assert definition["pages"][1]["condition"] == {"code": "bus", "op": "is_not", "value": "yes"}
    assert [p["items"][0]["code"] for p in definition["pages"]] == ["bus", "why"]
