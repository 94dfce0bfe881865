"""Closing the loop: when an outcome is published, everyone who took part is told once, in their own
language, with links to the outcome and to what they contributed. Publishing only queues the work."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from consultations.models import ConsultationPage, EscalationRequest, Outcome
from consultations.selectors import consultation_participant_ids, consultation_participants
from notifications.models import MailWording, OutboundMail
from notifications.services import preference_update
from proposals.models import Support
from tests import factories
from tests.consultations.factories import make_consultation
from tests.proposals.factories import CommentFactory, IdeaProposalFactory
from tests.voting.factories import YesNoQuestionFactory
from voting.models import Participation


def _take_part(page, ward, n: int = 1):
    """n of each kind of participant: proposer, supporter, commenter, voter, asker."""
    question = YesNoQuestionFactory(consultation=page)
    people = {"proposer": [], "supporter": [], "commenter": [], "voter": [], "asker": []}
    for _ in range(n):
        proposal = IdeaProposalFactory(consultation=page, author=factories.ResidentFactory(ward=ward))
        people["proposer"].append((proposal.author, proposal))
        supporter = factories.ResidentFactory(ward=ward)
        Support.objects.create(proposal=proposal, user=supporter)
        people["supporter"].append(supporter)
        people["commenter"].append(
            CommentFactory(consultation=page, author=factories.ResidentFactory()).author
        )
        voter = factories.ResidentFactory(ward=ward)
        Participation.objects.create(question=question, voter=voter)
        people["voter"].append(voter)
        asker = factories.ResidentFactory(ward=ward)
        EscalationRequest.objects.create(consultation=page, user=asker)
        people["asker"].append(asker)
    return people


def _publish_outcome(page, decision="We will build the crossing"):
    page = ConsultationPage.objects.get(pk=page.pk)
    page.outcomes = [Outcome(decision=decision, reasons="<p>Because you said so</p>")]
    page.save_revision().publish()


@pytest.fixture
def page(index, ward):
    return make_consultation(index, wards=[ward], start=timezone.now() - timezone.timedelta(days=30))


def test_everyone_who_took_part_is_told_once_in_their_language_with_links(page, ward, run_jobs):
    people = _take_part(page, ward)
    welsh = people["voter"][0]
    preference_update(user=welsh, language="cy", muted_kinds=[])
    MailWording.objects.create(
        kind="outcome_published",
        language="cy",
        subject="Dywedoch chi, fe wnaethom ni: {{ consultation }}",
        body="Helo {{ name }}\n\n{{ decision }}\n\n{{ outcome_url }}",
    )
    _publish_outcome(page)
    assert not mail.outbox and not OutboundMail.objects.exists()  # the publish request only queued a job
    assert DBTaskResult.objects.filter(task_path="consultations.tasks.announce_outcome").count() == 1
    run_jobs()
    everyone = consultation_participant_ids(page)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        factories.UserFactory._meta.model.objects.filter(pk__in=everyone).values_list("email", flat=True)
    )
    by_to = {m.to[0]: m for m in mail.outbox}
    proposer, proposal = people["proposer"][0]
    text = by_to[proposer.email].body
    assert "We will build the crossing" in text
    assert f"http://127.0.0.1:8000{page.url}#outcome-heading" in text
    assert f"http://127.0.0.1:8000/proposals/p/{proposal.pk}/" in text
    assert "You proposed" in text
    assert "You supported 1 proposal." in by_to[people["supporter"][0].email].body
    assert "You took part in the discussion." in by_to[people["commenter"][0].email].body
    assert "You asked for a wider say." in by_to[people["asker"][0].email].body
    assert by_to[welsh.email].subject.startswith("Dywedoch chi, fe wnaethom ni:")
    # Run again (a worker restarted, an officer pressed "run again"): nobody is told twice.
    from consultations.tasks import announce_outcome

    announce_outcome.enqueue(Outcome.objects.get(consultation=page).pk)
    run_jobs()
    assert len(mail.outbox) == len(everyone)


def test_a_person_who_turned_outcome_mail_off_is_not_told(page, ward, run_jobs):
    people = _take_part(page, ward)
    quiet = people["asker"][0]
    preference_update(user=quiet, language="en", muted_kinds=["outcome_published"])
    _publish_outcome(page)
    run_jobs()
    assert quiet.email not in {m.to[0] for m in mail.outbox}
    assert len(mail.outbox) == len(consultation_participant_ids(page)) - 1


@pytest.mark.parametrize("n", [1, 5])
def test_finding_participants_takes_the_same_queries_at_any_size(page, ward, n, django_assert_num_queries):
    _take_part(page, ward, n)
    with django_assert_num_queries(5):
        people = consultation_participants(page)
    assert len(people) == 5 * n
    assert set(people) == consultation_participant_ids(page)
