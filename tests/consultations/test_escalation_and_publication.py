"""Escalation ("I want a say"), publication (track history, outcomes, emails) and admin permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from consultations.models import (
    ConsultationPage,
    EscalationNotice,
    EscalationRequest,
    Outcome,
    Track,
    TrackChange,
)
from consultations.selectors import consultation_participant_ids
from consultations.services import escalation_request_create
from tests import factories
from tests.consultations.factories import make_consultation


@pytest.fixture
def panel_page(index, ward, councillor):
    panel = factories.PanelFactory()
    return make_consultation(
        index,
        track=Track.PANEL,
        panel=panel,
        wards=[ward],
        escalation_threshold=2,
        councillor=councillor,
        triage_override_reason="Technical detail",
    )


def _url(page):
    return reverse("consultations:escalate", args=[page.pk])


def test_eligible_resident_asks_for_a_wider_say(
    client, panel_page, resident, django_capture_on_commit_callbacks
):
    client.force_login(resident)
    response = client.get(panel_page.url)
    assert b"I want a say" in response.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(panel_page), {"reason": "It is my street."})
    assert response.status_code == 302
    assert EscalationRequest.objects.get().reason == "It is my street."
    assert not mail.outbox  # threshold is 2
    page = client.get(panel_page.url)
    assert "You have asked for a wider say" in page.content.decode()


def test_asking_twice_is_refused_with_a_clear_message(client, panel_page, resident):
    client.force_login(resident)
    client.post(_url(panel_page), {})
    response = client.post(_url(panel_page), {})
    assert response.status_code == 400
    assert "You have already asked" in response.content.decode()
    assert EscalationRequest.objects.count() == 1


def test_the_database_refuses_a_second_request_by_the_same_person(panel_page, resident):
    EscalationRequest.objects.create(consultation=panel_page, user=resident)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        EscalationRequest.objects.create(consultation=panel_page, user=resident)


def test_a_reason_that_is_too_long_is_refused_and_nothing_stored(client, panel_page, resident):
    client.force_login(resident)
    response = client.post(_url(panel_page), {"reason": "x" * 501})
    assert response.status_code == 400
    assert "500 characters" in response.content.decode()
    assert not EscalationRequest.objects.exists()


@pytest.mark.parametrize("who", ["other_ward", "unverified", "suspended", "panel_member", "councillor"])
def test_people_who_are_not_eligible_are_refused(client, panel_page, ward, who):
    user = {
        "other_ward": lambda: factories.ResidentFactory(),
        "unverified": lambda: factories.ResidentFactory(ward=ward, email_verified_at=None),
        "suspended": lambda: factories.ResidentFactory(
            ward=ward, suspended_until=timezone.now() + timedelta(days=3)
        ),
        "panel_member": lambda: factories.PanelMembershipFactory(panel=panel_page.panel).user,
        "councillor": lambda: factories.CouncillorFactory(ward=ward),
    }[who]()
    client.force_login(user)
    response = client.post(_url(panel_page), {"reason": "Please"})
    assert response.status_code == 403
    assert "can ask for a wider say" in response.content.decode()
    assert not EscalationRequest.objects.exists()


def test_a_wide_track_consultation_cannot_be_escalated(client, index, resident):
    page = make_consultation(index, wards=[resident.ward])
    client.force_login(resident)
    response = client.post(_url(page), {})
    assert response.status_code == 403
    assert "already open to every eligible resident" in response.content.decode()
    assert b"I want a say" not in client.get(page.url).content


def test_a_closed_consultation_cannot_be_escalated(client, index, resident):
    page = make_consultation(
        index,
        track=Track.PANEL,
        panel=factories.PanelFactory(),
        wards=[resident.ward],
        start=timezone.now() - timedelta(days=60),
    )
    client.force_login(resident)
    response = client.post(_url(page), {})
    assert response.status_code == 403
    assert "has closed" in response.content.decode()


def test_visitors_are_sent_to_sign_in(client, panel_page):
    response = client.post(_url(panel_page), {})
    assert response.status_code == 302 and "/accounts/" in response["Location"]
    assert not EscalationRequest.objects.exists()


def test_unknown_consultation_is_404(client, resident):
    client.force_login(resident)
    assert client.post(reverse("consultations:escalate", args=[999999]), {}).status_code == 404


def test_crossing_the_threshold_emails_the_councillor_once(panel_page, ward, councillor, run_jobs):
    people = [factories.ResidentFactory(ward=ward) for _ in range(4)]
    escalation_request_create(consultation=panel_page, user=people[0])
    run_jobs()
    assert not mail.outbox
    escalation_request_create(consultation=panel_page, user=people[1])
    assert not mail.outbox  # queued, not sent in the request
    assert run_jobs() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [councillor.email]
    assert "2 residents have asked" in mail.outbox[0].body
    assert f"http://127.0.0.1:8000/admin/pages/{panel_page.pk}/edit/" in mail.outbox[0].body
    escalation_request_create(consultation=panel_page, user=people[2])
    escalation_request_create(consultation=panel_page, user=people[3])
    run_jobs()
    assert len(mail.outbox) == 1
    assert EscalationNotice.objects.get().requests_at_the_time == 2


def test_service_refuses_ineligible_people_with_a_reason(panel_page):
    with pytest.raises(ValidationError, match="can ask for a wider say"):
        escalation_request_create(consultation=panel_page, user=factories.ResidentFactory())


def test_moving_to_the_wide_track_is_recorded_with_its_reason_and_shown(client, panel_page):
    page = ConsultationPage.objects.get(pk=panel_page.pk)
    page.track = Track.WIDE
    page.track_change_reason = "Two hundred residents asked for a say."
    page.save_revision().publish()
    changes = list(
        TrackChange.objects.filter(consultation=page).values_list("from_track", "to_track", "reason")
    )
    assert changes == [
        ("", Track.PANEL, "As the triage aid recommended."),
        (Track.PANEL, Track.WIDE, "Two hundred residents asked for a say."),
    ]
    html = client.get(page.url).content.decode()
    assert "moved from Expert panel to Wide engagement" in html
    assert "Two hundred residents asked for a say." in html
    # Publishing again without a change records nothing new.
    ConsultationPage.objects.get(pk=page.pk).save_revision().publish()
    assert TrackChange.objects.filter(consultation=page).count() == 2


def test_publishing_an_outcome_sets_published_at_and_tells_participants_once(
    index, ward, django_capture_on_commit_callbacks, run_jobs
):
    page = make_consultation(
        index,
        track=Track.PANEL,
        panel=factories.PanelFactory(),
        wards=[ward],
        start=timezone.now() - timedelta(days=30),
        escalation_threshold=100,
    )
    asked = [factories.ResidentFactory(ward=ward) for _ in range(3)]
    for user in asked:
        EscalationRequest.objects.create(consultation=page, user=user)
    assert consultation_participant_ids(page) == {u.pk for u in asked}
    page = ConsultationPage.objects.get(pk=page.pk)
    page.outcomes = [Outcome(decision="We will widen the pavement", reasons="<p>Because you said so</p>")]
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
    outcome = Outcome.objects.get(consultation=page)
    assert outcome.published_at is not None
    assert ConsultationPage.objects.get(pk=page.pk).status == "decided"
    assert not mail.outbox  # publishing only queues the job that tells people
    run_jobs()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in asked)
    assert "We will widen the pavement" in mail.outbox[0].body
    first_published = outcome.published_at
    # An older revision (without published_at) published again keeps the date and emails nobody.
    with django_capture_on_commit_callbacks(execute=True):
        ConsultationPage.objects.get(pk=page.pk).get_latest_revision().publish()
    run_jobs()
    assert Outcome.objects.get(consultation=page).published_at == first_published
    assert len(mail.outbox) == 3


def test_a_draft_outcome_is_not_published(index):
    page = make_consultation(index, start=timezone.now() - timedelta(days=60), publish=True)
    page = ConsultationPage.objects.get(pk=page.pk)
    page.outcomes = [Outcome(decision="Draft decision", reasons="<p>x</p>")]
    page.save_revision()  # a draft, awaiting approval
    assert not Outcome.objects.filter(published_at__isnull=False).exists()
    assert ConsultationPage.objects.get(pk=page.pk).status == "closed"


def test_everyone_who_took_part_is_a_participant(home_page, ward):
    """Proposers, supporters, commenters (on the consultation or a proposal) and voters, and no one else."""
    from proposals.models import Support
    from tests.proposals.factories import CommentFactory, IdeaProposalFactory
    from tests.voting.factories import YesNoQuestionFactory
    from tests.voting.factories import make_consultation as make_voting_consultation
    from voting.models import Participation

    page = make_voting_consultation(home_page, wards=[ward])
    proposer, supporter, commenter, replier, voter, bystander = (
        factories.ResidentFactory(ward=ward) for _ in range(6)
    )
    proposal = IdeaProposalFactory(consultation=page, author=proposer)
    Support.objects.create(proposal=proposal, user=supporter)
    CommentFactory(consultation=page, author=commenter)
    CommentFactory(proposal=proposal, author=replier)
    question = YesNoQuestionFactory(consultation=page)
    Participation.objects.create(question=question, voter=voter)
    assert bystander.pk not in consultation_participant_ids(page)
    assert consultation_participant_ids(page) == {
        u.pk for u in (proposer, supporter, commenter, replier, voter)
    }
