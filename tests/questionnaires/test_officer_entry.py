"""Officers key in responses received on paper, by email, by phone and at events, late ones too."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from questionnaires.models import Channel, Response
from tests import factories

pytestmark = pytest.mark.django_db

ABOUT = {"respondent_type": "individual", "connection": ["live"], "publication_consent": "private"}


def url(name: str, questionnaire, **kwargs) -> str:
    return reverse(f"questionnaires:{name}", kwargs={"pk": questionnaire.pk, **kwargs})


def entry(received_on: dt.date, **extra) -> dict:
    return {**ABOUT, "channel": "paper", "received_on": received_on.strftime("%d/%m/%Y"), **extra}


def test_an_officer_keys_in_a_paper_response_through_the_same_questions(client, questionnaire, officer):
    client.force_login(officer)
    assert "Enter a response received on paper" in client.get(questionnaire.consultation.url).content.decode()
    today = timezone.localdate()
    started = client.post(url("enter", questionnaire), entry(today, email="paper@example.org"))
    assert started["Location"] == url("page", questionnaire, number=1)
    client.post(url("page", questionnaire, number=1), {"q-travel": "Car"})
    client.post(url("page", questionnaire, number=3), {"q-comments": "Written in the margin"})
    check = client.get(url("check", questionnaire)).content.decode()
    assert "Paper form, " in check and "About the respondent" in check
    assert client.post(url("check", questionnaire))["Location"] == url("done", questionnaire)
    assert "Response recorded" in client.get(url("done", questionnaire)).content.decode()
    stored = Response.objects.get()
    assert stored.channel == Channel.PAPER and stored.keyed_by == officer and stored.received_on == today
    assert stored.submitted and stored.reference and not stored.late
    assert stored.answers["comments"] == "Written in the margin"
    assert mail.outbox == []  # keyed-in responses are not emailed


def test_a_late_response_is_accepted_only_with_a_reason(client, questionnaire, consultation, councillor):
    after = consultation.participation_ends_at + timedelta(days=2)
    with time_machine.travel(after):
        client.force_login(councillor)
        received = timezone.localdate()
        refused = client.post(url("enter", questionnaire), entry(received))
        assert refused.status_code == 400
        assert "arrived after the consultation closed" in refused.content.decode()
        assert not Response.objects.exists()
        client.post(
            url("enter", questionnaire), entry(received, late_reason="Posted on time, delayed by the post")
        )
        client.post(url("page", questionnaire, number=1), {"q-travel": "Bus"})
        client.post(url("page", questionnaire, number=2), {"q-bus-station": "Disagree"})
        client.post(url("page", questionnaire, number=3), {})
        client.post(url("check", questionnaire))
    stored = Response.objects.get()
    assert stored.submitted and stored.late and stored.late_reason == "Posted on time, delayed by the post"


def test_a_response_received_before_close_but_keyed_after_it_is_not_late(
    client, questionnaire, consultation, officer
):
    received = timezone.localdate()
    with time_machine.travel(consultation.participation_ends_at + timedelta(days=5)):
        client.force_login(officer)
        assert client.post(url("enter", questionnaire), entry(received)).status_code == 302
    assert Response.objects.get().late is False


def test_dates_in_the_future_or_before_opening_are_refused(client, questionnaire, officer):
    client.force_login(officer)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(url("enter", questionnaire), entry(tomorrow))
    assert response.status_code == 400 and "today or in the past" in response.content.decode()
    long_ago = timezone.localdate() - timedelta(days=400)
    response = client.post(url("enter", questionnaire), entry(long_ago))
    assert response.status_code == 400 and "after the consultation opened" in response.content.decode()
    response = client.post(url("enter", questionnaire), {**entry(timezone.localdate()), "channel": "online"})
    assert response.status_code == 400
    assert not Response.objects.exists()


def test_residents_cannot_key_in_responses(client, questionnaire, ward):
    resident = factories.ResidentFactory(ward=ward)
    client.force_login(resident)
    assert "Enter a response received" not in client.get(questionnaire.consultation.url).content.decode()
    assert client.get(url("enter", questionnaire)).status_code == 403
    assert client.post(url("enter", questionnaire), entry(timezone.localdate())).status_code == 403
    assert not Response.objects.exists()


def test_visitors_are_asked_to_sign_in(client, questionnaire):
    assert client.get(url("enter", questionnaire))["Location"].startswith(reverse("accounts:login"))
