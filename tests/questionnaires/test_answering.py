"""Answering online: about you, pages, conditions, check your answers, receipt, save and come back."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from questionnaires.models import Respondents, Response, Status
from questionnaires.services import response_from_resume_token, resume_token
from tests import factories
from tests.questionnaires.factories import make_questionnaire

pytestmark = pytest.mark.django_db

ABOUT = {
    "name": "Siân Jones",
    "respondent_type": "individual",
    "connection": ["live", "work"],
    "publication_consent": "anonymous",
}


def url(name: str, questionnaire, **kwargs) -> str:
    return reverse(f"questionnaires:{name}", kwargs={"pk": questionnaire.pk, **kwargs})


def link_from(message) -> str:
    match = re.search(r"https?://[^\s]+/questionnaires/resume/[^\s]+/", message.body)
    assert match, message.body
    return match.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def start_by_email(client, questionnaire, email="sian@example.org"):
    response = client.post(url("start", questionnaire), {**ABOUT, "email": email})
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    return response


def confirm(client, questionnaire):
    link = link_from(mail.outbox[-1])
    return client.get(link)


def answer(client, questionnaire, number, data, *, follow=False, change=False):
    target = url("page", questionnaire, number=number) + ("?change=1" if change else "")
    return client.post(target, data, follow=follow)


BUS_PAGE_3 = {
    "q-improve": ["Lighting", "__other__"],
    "q-improve-other": "Benches <b>please</b>",
    "q-priorities-0": "2",
    "q-priorities-1": "1",
    "q-priorities-2": "3",
    "q-visits": "4",
    "q-last-visit-day": "1",
    "q-last-visit-month": "11",
    "q-last-visit-year": "2026",
    "q-postcode": "tw1 1aa",
    "q-comments": "More buses",
}


def test_anyone_answers_with_a_confirmed_email_and_gets_a_reference_and_a_copy(client, questionnaire):
    page = client.get(url("start", questionnaire))
    assert page.status_code == 200
    assert "one response for each email address" in page.content.decode()
    start_by_email(client, questionnaire)
    (message,) = mail.outbox
    assert "Confirm your email address" in message.subject
    # Before the link is used, the pages send people back to the start.
    assert client.get(url("page", questionnaire, number=1))["Location"] == url("start", questionnaire)

    first = confirm(client, questionnaire)
    assert first["Location"] == url("page", questionnaire, number=1)
    body = client.get(first["Location"]).content.decode()
    assert '<h1 class="govuk-fieldset__heading">How do you usually travel to the town centre?</h1>' in body
    assert answer(client, questionnaire, 1, {"q-travel": "Bus"})["Location"] == url(
        "page", questionnaire, number=2
    )
    response = answer(client, questionnaire, 2, {"q-bus-station": "Agree", "q-bus-why": "Less traffic"})
    assert response["Location"] == url("page", questionnaire, number=3)
    assert answer(client, questionnaire, 3, BUS_PAGE_3)["Location"] == url("check", questionnaire)

    check = client.get(url("check", questionnaire)).content.decode()
    for shown in [
        "Bus",
        "Agree",
        "Lighting, Other: Benches &lt;b&gt;please&lt;/b&gt;",
        "1. Cost; 2. Safety; 3. Speed",
        "1 November 2026",
        "TW1 1AA",
        "Publish my response without my name",
        "I live here, I work here",
    ]:
        assert shown in check, shown
    assert check.count(">Change<") >= 10

    sent = client.post(url("check", questionnaire))
    assert sent["Location"] == url("done", questionnaire)
    stored = Response.objects.get()
    assert stored.status == Status.SUBMITTED and re.fullmatch(r"TH-[A-Z2-9]{8}", stored.reference)
    assert stored.email == "sian@example.org" and stored.email_confirmed_at is not None
    assert stored.answers["visits"] == "4" and stored.answers["priorities"] == ["Cost", "Safety", "Speed"]
    done = client.get(url("done", questionnaire)).content.decode()
    assert stored.reference in done
    copy = mail.outbox[-1]
    assert copy.to == ["sian@example.org"] and stored.reference in copy.subject
    assert "Benches <b>please</b>" in copy.body and "The new bus station should open in 2027" in copy.body


def test_answers_hidden_by_a_changed_answer_are_discarded(client, questionnaire):
    start_by_email(client, questionnaire)
    confirm(client, questionnaire)
    answer(client, questionnaire, 1, {"q-travel": "Bus"})
    answer(client, questionnaire, 2, {"q-bus-station": "Agree", "q-bus-why": "Less traffic"})
    answer(client, questionnaire, 3, {"q-comments": "ok"})
    # Changing the first answer hides page 2: its answers go, and the change goes back to the check page.
    changed = answer(client, questionnaire, 1, {"q-travel": "Car"}, change=True)
    assert changed["Location"] == url("check", questionnaire)
    assert set(Response.objects.get().answers) == {"travel", "comments"}
    assert client.get(url("page", questionnaire, number=2))["Location"] == url(
        "page", questionnaire, number=3
    )
    # Tampering: posting the hidden page's fields to a visible page stores nothing of them.
    answer(client, questionnaire, 3, {"q-comments": "ok", "q-bus-station": "Agree"})
    client.post(url("check", questionnaire))
    assert Response.objects.get().answers == {"travel": {"selected": ["Car"], "other": ""}, "comments": "ok"}


def test_changing_an_answer_that_reveals_a_page_goes_there_next(client, questionnaire):
    start_by_email(client, questionnaire)
    confirm(client, questionnaire)
    answer(client, questionnaire, 1, {"q-travel": "Car"})
    answer(client, questionnaire, 3, {})
    revealed = answer(client, questionnaire, 1, {"q-travel": "Bus"}, change=True)
    assert revealed["Location"] == url("page", questionnaire, number=2) + "?change=1"


def test_errors_are_summarised_and_nothing_is_saved(client, questionnaire):
    start_by_email(client, questionnaire)
    confirm(client, questionnaire)
    response = answer(client, questionnaire, 1, {"q-travel": "Tram"})
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        "There is a problem" in body and '<a href="#q-travel-0">Select one of the answers listed.</a>' in body
    )
    assert body.count("<title>Error:") == 1
    assert Response.objects.get().answers == {}


def test_submitting_with_a_required_answer_missing_is_refused(client, questionnaire):
    start_by_email(client, questionnaire)
    confirm(client, questionnaire)
    response = client.post(url("check", questionnaire))
    assert response.status_code == 400
    assert "How do you usually travel to the town centre?" in response.content.decode()
    assert Response.objects.get().status == Status.DRAFT


def test_save_and_come_back_by_the_emailed_link_in_a_new_browser(client, questionnaire, django_user_model):
    from django.test import Client

    start_by_email(client, questionnaire)
    confirm(client, questionnaire)
    saved = answer(client, questionnaire, 1, {"q-travel": "Bus", "save_later": ""})
    assert saved["Location"] == url("saved", questionnaire)
    page = client.get(url("saved", questionnaire))
    assert "We have sent a link" in page.content.decode()
    resume = mail.outbox[-1]
    assert "Come back to your answers" in resume.subject
    other = Client()
    back = other.get(link_from(resume))
    assert back["Location"] == url("page", questionnaire, number=2)
    assert 'value="Bus" checked' in other.get(url("page", questionnaire, number=1)).content.decode()


def test_save_later_keeps_the_valid_answers_of_a_page_with_errors(client, questionnaire):
    start_by_email(client, questionnaire)
    confirm(client, questionnaire)
    answer(client, questionnaire, 1, {"q-travel": "Bus"})
    answer(client, questionnaire, 2, {"q-bus-station": "Nope", "q-bus-why": "Kept", "save_later": ""})
    assert Response.objects.get().answers["bus-why"] == "Kept"


def test_starting_again_with_the_same_email_resends_the_link_to_the_same_response(client, questionnaire):
    start_by_email(client, questionnaire)
    start_by_email(client, questionnaire, email="SIAN@Example.org")
    assert Response.objects.count() == 1
    tokens = [link_from(message).rstrip("/").rsplit("/", 1)[1] for message in mail.outbox]
    assert {response_from_resume_token(token).pk for token in tokens} == {Response.objects.get().pk}


def test_an_email_that_responded_already_is_told_by_email_only(client, questionnaire):
    start_by_email(client, questionnaire)
    confirm(client, questionnaire)
    answer(client, questionnaire, 1, {"q-travel": "Car"})
    client.post(url("check", questionnaire))
    again = start_by_email(client.__class__(), questionnaire)
    assert "You have already responded" not in again.content.decode()
    assert "You have already responded" in mail.outbox[-1].subject
    assert Response.objects.count() == 1


def test_tampered_and_expired_links_are_refused(client, questionnaire, consultation):
    start_by_email(client, questionnaire)
    link = link_from(mail.outbox[-1])
    tampered = client.get(link[:-3] + "xx/")
    assert tampered.status_code == 400 and "not valid" in tampered.content.decode()
    stored = Response.objects.get()
    stored.token = "changed"
    stored.save()
    assert client.get(link).status_code == 400
    stored = Response.objects.get()
    with time_machine.travel(consultation.participation_ends_at + timedelta(minutes=1)):
        expired = client.get(reverse("questionnaires:resume", kwargs={"token": resume_token(stored)}))
    assert expired.status_code == 410 and "closed" in expired.content.decode()


def test_answering_after_close_is_refused_and_nothing_is_stored(client, questionnaire, consultation):
    start_by_email(client, questionnaire)
    confirm(client, questionnaire)
    with time_machine.travel(consultation.participation_ends_at + timedelta(minutes=1)):
        refused = answer(client, questionnaire, 1, {"q-travel": "Bus"})
        assert refused.status_code == 403
        assert "not open" in refused.content.decode()
        assert client.post(url("check", questionnaire)).status_code == 403
        start = client.get(url("start", questionnaire))
        assert start.status_code == 403
    assert Response.objects.get().answers == {}


def test_organisations_must_be_named(client, questionnaire):
    response = client.post(
        url("start", questionnaire), {**ABOUT, "respondent_type": "organisation", "email": "a@example.org"}
    )
    assert response.status_code == 400
    assert "Enter the name of your organisation" in response.content.decode()
    assert Response.objects.count() == 0


def test_a_business_without_an_account_responds_anonymously(client, consultation):
    questionnaire = make_questionnaire(consultation, respondents=Respondents.ANONYMOUS)
    start = client.post(
        url("start", questionnaire),
        {
            **ABOUT,
            "respondent_type": "organisation",
            "organisation_name": "Bryn Café",
            "connection": ["business"],
        },
    )
    assert start["Location"] == url("page", questionnaire, number=1)
    answer(client, questionnaire, 1, {"q-travel": "Walking", "save_later": ""})
    saved = client.get(url("saved", questionnaire)).content.decode()
    assert "/questionnaires/resume/" in saved
    emailed = client.post(url("saved", questionnaire), {"email": "owner@example.org"})
    assert emailed.status_code == 200 and mail.outbox[-1].to == ["owner@example.org"]
    client.get(url("page", questionnaire, number=3))
    client.post(url("check", questionnaire))
    stored = Response.objects.get()
    assert stored.submitted and stored.organisation_name == "Bryn Café" and stored.email == ""


def test_anonymous_starts_are_rate_limited_per_connection(client, consultation, settings):
    questionnaire = make_questionnaire(consultation, respondents=Respondents.ANONYMOUS)
    for _ in range(10):
        assert client.post(url("start", questionnaire), ABOUT).status_code == 302
    assert client.post(url("start", questionnaire), ABOUT).status_code == 429
    assert Response.objects.count() == 10


def test_residents_of_the_wards_respond_once_signed_in_and_resume_from_their_account(
    client, consultation, ward
):
    questionnaire = make_questionnaire(consultation, respondents=Respondents.RESIDENTS)
    start = client.get(url("start", questionnaire))
    assert start.status_code == 200 and "Sign in" in start.content.decode()
    outsider = factories.ResidentFactory(ward=factories.WardFactory())
    client.force_login(outsider)
    assert client.get(url("start", questionnaire)).status_code == 403
    assert client.post(url("start", questionnaire), ABOUT).status_code == 403
    resident = factories.ResidentFactory(ward=ward)
    client.force_login(resident)
    assert client.post(url("start", questionnaire), ABOUT)["Location"] == url("page", questionnaire, number=1)
    answer(client, questionnaire, 1, {"q-travel": "Car"})
    client.logout()
    client.force_login(resident)
    # A new session: the draft comes back from the account.
    assert client.get(url("page", questionnaire, number=3)).status_code == 200
    client.post(url("check", questionnaire))
    assert Response.objects.get(user=resident).submitted
    again = client.get(url("start", questionnaire)).content.decode()
    assert "You have already responded" in again
    repeat = client.post(url("start", questionnaire), ABOUT)
    assert "You have already responded" in repeat.content.decode()
    assert "Start now" not in repeat.content.decode()
    assert Response.objects.count() == 1
    assert mail.outbox[-1].to == [resident.email]


def test_someone_elses_draft_cannot_be_reached_by_guessing(client, questionnaire):
    start_by_email(client, questionnaire)
    confirm(client, questionnaire)
    stranger = client.__class__()
    session = stranger.session
    session["questionnaire_responses"] = {
        str(questionnaire.pk): {"r": Response.objects.get().pk, "t": "guess"}
    }
    session.save()
    assert stranger.get(url("page", questionnaire, number=1))["Location"] == url("start", questionnaire)


def test_an_unpublished_consultations_questionnaire_is_not_found(client, index):
    from tests.consultations.factories import make_consultation

    hidden = make_consultation(index, publish=False)
    questionnaire = make_questionnaire(hidden)
    assert client.get(url("start", questionnaire)).status_code == 404


def test_the_consultation_page_links_to_its_questionnaire(client, questionnaire, consultation):
    body = client.get(consultation.url).content.decode()
    assert url("start", questionnaire) in body


def test_the_upcoming_consultation_is_not_open_for_responses(client, index):
    from tests.consultations.factories import make_consultation

    upcoming = make_consultation(index, start=timezone.now() + timedelta(days=3))
    questionnaire = make_questionnaire(upcoming)
    assert client.post(url("start", questionnaire), {**ABOUT, "email": "a@example.org"}).status_code == 403
    assert Response.objects.count() == 0
