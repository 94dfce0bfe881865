"""Mail through the job queue: queued once, sent once, retried with backoff, rendered in the
person's language with the council's branding and absolute links."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.template import TemplateDoesNotExist
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from notifications import delivery, jobs
from notifications.models import MailStatus, MailWording, OutboundMail, Preference, WorkerHeartbeat
from notifications.rendering import _fill, absolute_url
from notifications.services import mail_enqueue, preference_update
from tests import factories

FAILING = "tests.notifications.backends.FailingBackend"
REFUSING = "tests.notifications.backends.RefusingBackend"


def _proposal_status_context(**extra):
    return {
        "proposal": "A crossing <script>alert(1)</script>",
        "status": "accepted",
        "reason": "It fits the budget.",
        "proposal_url": absolute_url("/proposals/p/1/"),
        **extra,
    }


def test_a_queued_mail_is_sent_once_even_when_queued_and_run_twice(resident, run_jobs, home_page):
    first = mail_enqueue(kind="proposal_status", to=resident, key="k1", context=_proposal_status_context())
    again = mail_enqueue(kind="proposal_status", to=resident, key="k1", context=_proposal_status_context())
    assert first.pk == again.pk
    assert not mail.outbox  # queued, not sent
    run_jobs()
    assert len(mail.outbox) == 1
    # The same job run again (as after a worker restart) sends nothing more.
    from notifications.tasks import deliver_mails

    deliver_mails.enqueue([first.pk])
    run_jobs()
    assert len(mail.outbox) == 1
    sent = OutboundMail.objects.get()
    assert sent.status == MailStatus.SENT and sent.sent_at and sent.attempts == 1


def test_mail_has_html_and_text_with_branding_absolute_links_and_footer(resident, run_jobs, home_page):
    from cms.models import CouncilSettings

    council = CouncilSettings.for_site(home_page.get_site())
    council.council_name, council.brand_colour = "Cyngor Sir Ynys Môn", "#123456"
    council.save()
    mail_enqueue(kind="proposal_status", to=resident, key="k2", context=_proposal_status_context())
    run_jobs()
    message = mail.outbox[0]
    text = message.body
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    assert "http://127.0.0.1:8000/proposals/p/1/" in text
    assert "localhost" not in text and "localhost" not in html
    assert 'href="http://127.0.0.1:8000/proposals/p/1/"' in html
    assert "Cyngor Sir Ynys Môn" in text and "Cyngor Sir Ynys Môn" in html
    assert "#123456" in html
    assert "because you wrote the proposal" in text
    assert "http://127.0.0.1:8000/notifications/settings/" in text
    # What people typed is escaped in the HTML version.
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_smtp_down_mail_waits_and_is_retried_with_backoff_nothing_lost(resident, run_jobs, settings):
    settings.EMAIL_BACKEND = FAILING
    item = mail_enqueue(kind="proposal_status", to=resident, key="k3", context=_proposal_status_context())
    run_jobs()
    item.refresh_from_db()
    assert item.status == MailStatus.QUEUED and item.attempts == 1
    assert "Connection refused" in item.last_error
    assert item.next_attempt_at > timezone.now() + timedelta(seconds=25)
    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY).get()
    assert waiting.run_after == item.next_attempt_at
    assert run_jobs() == 0  # not due yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert run_jobs() == 1
    item.refresh_from_db()
    assert item.status == MailStatus.SENT and item.attempts == 2
    assert len(mail.outbox) == 1


def test_backoff_doubles_and_is_capped():
    assert [delivery.retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]


def test_a_mail_given_up_on_fails_its_job_and_the_officer_can_run_it_again(resident, run_jobs, settings):
    settings.EMAIL_BACKEND = FAILING
    item = mail_enqueue(kind="proposal_status", to=resident, key="k4", context=_proposal_status_context())
    now = timezone.now()
    for attempt in range(delivery.MAX_ATTEMPTS):
        with time_machine.travel(now + timedelta(hours=attempt + 1)):
            run_jobs()
    item.refresh_from_db()
    assert item.status == MailStatus.FAILED and item.attempts == delivery.MAX_ATTEMPTS
    failed = DBTaskResult.objects.get(status=TaskResultStatus.FAILED)
    assert failed.exception_class_path.endswith("MailDeliveryFailed")
    assert item.to_email in failed.traceback
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    jobs.job_retry(result_id=str(failed.pk))
    run_jobs()
    item.refresh_from_db()
    assert item.status == MailStatus.SENT and len(mail.outbox) == 1


def test_a_permanent_refusal_fails_at_once(resident, run_jobs, settings):
    settings.EMAIL_BACKEND = REFUSING
    item = mail_enqueue(kind="proposal_status", to=resident, key="k5", context=_proposal_status_context())
    run_jobs()
    item.refresh_from_db()
    assert item.status == MailStatus.FAILED and item.attempts == 1
    assert "550" in item.last_error


def test_only_failed_jobs_can_be_run_again(db):
    with pytest.raises(jobs.JobError) as missing:
        jobs.job_retry(result_id="00000000-0000-0000-0000-000000000000")
    assert missing.value.code == "not_found"
    from notifications.tasks import deliver_mails

    queued = deliver_mails.enqueue([])
    with pytest.raises(jobs.JobError) as not_failed:
        jobs.job_retry(result_id=queued.id)
    assert not_failed.value.code == "not_failed"


def test_the_job_of_a_stopped_worker_is_marked_failed_and_queued_again(db):
    from notifications.tasks import deliver_mails

    lost = DBTaskResult.objects.get(pk=deliver_mails.enqueue([1]).id)
    lost.claim("dead-worker")
    busy = DBTaskResult.objects.get(pk=deliver_mails.enqueue([2]).id)
    busy.claim("live-worker")
    WorkerHeartbeat.objects.create(worker_id="live-worker")
    WorkerHeartbeat.objects.create(worker_id="dead-worker", last_seen=timezone.now() - timedelta(minutes=5))
    assert jobs.jobs_recover_lost() == 1
    lost.refresh_from_db()
    busy.refresh_from_db()
    assert lost.status == TaskResultStatus.FAILED and "dead-worker stopped" in lost.traceback
    assert busy.status == TaskResultStatus.RUNNING
    again = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert again.args_kwargs == {"args": [[1]], "kwargs": {}}
    assert jobs.jobs_recover_lost() == 0  # once


def test_mail_is_rendered_in_the_persons_language_with_the_officers_wording(resident, run_jobs):
    welsh = factories.ResidentFactory(ward=resident.ward)
    preference_update(user=welsh, language="cy", muted_kinds=[])
    MailWording.objects.create(
        kind="proposal_status",
        language="cy",
        subject="Mae eich cynnig yn {{ status }}",
        body="Cynnig: {{ proposal }}",
    )
    mail_enqueue(
        kind="proposal_status", to=welsh, key="cy", context=_proposal_status_context(status="derbyniwyd")
    )
    mail_enqueue(kind="proposal_status", to=resident, key="en", context=_proposal_status_context())
    run_jobs()
    by_to = {m.to[0]: m for m in mail.outbox}
    assert by_to[welsh.email].subject == "Mae eich cynnig yn derbyniwyd"
    assert by_to[welsh.email].body.startswith("Cynnig: A crossing")
    assert 'lang="cy"' in by_to[welsh.email].alternatives[0][0]
    assert by_to[resident.email].subject == "Your proposal is now accepted"
    assert OutboundMail.objects.get(key="cy").language == "cy"


def test_a_kind_turned_off_is_not_queued_but_account_mail_always_is(resident, run_jobs):
    preference_update(user=resident, language="en", muted_kinds=["proposal_status"])
    assert (
        mail_enqueue(kind="proposal_status", to=resident, key="m1", context=_proposal_status_context())
        is None
    )
    with pytest.raises(ValidationError):
        preference_update(user=resident, language="en", muted_kinds=["moderation_action"])
    assert mail_enqueue(
        kind="appeal_decided",
        to=resident,
        key="m2",
        context={"outcome": "Upheld", "note": "", "notices_url": "/"},
    )
    run_jobs()
    assert [m.subject for m in mail.outbox] == ["Your appeal has been decided"]
    assert "cannot be turned off" in mail.outbox[0].body


def test_unknown_language_is_refused(resident):
    with pytest.raises(ValidationError):
        preference_update(user=resident, language="fr", muted_kinds=[])
    assert not Preference.objects.exists()


def test_an_address_without_an_account_gets_mail_too(db, run_jobs):
    mail_enqueue(
        kind="escalation_threshold",
        to="clerk@council.example",
        key="addr",
        context={
            "consultation": "Library",
            "requests": 3,
            "threshold": 3,
            "admin_url": "/admin/",
            "page_url": "/",
        },
    )
    run_jobs()
    assert mail.outbox[0].to == ["clerk@council.example"]


def test_wording_with_a_syntax_error_is_refused_with_its_line(db):
    wording = MailWording(
        kind="proposal_status", language="en", subject="Hi", body="Line one\n\n{% if status %}oops"
    )
    with pytest.raises(ValidationError) as error:
        wording.full_clean()
    assert "Line 3" in str(error.value.message_dict["body"])
    assert not MailWording.objects.exists()


def test_wording_with_an_unknown_placeholder_is_refused_with_its_line(db):
    wording = MailWording(kind="proposal_status", language="en", subject="Hi", body="Hello\n{{ password }}")
    with pytest.raises(ValidationError) as error:
        wording.full_clean()
    assert "Line 2" in error.value.message_dict["body"][0]
    assert "password" in error.value.message_dict["body"][0]


def test_wording_left_empty_starts_from_the_default(db):
    wording = MailWording(kind="comment_reply", language="cy")
    wording.full_clean()
    assert wording.subject == "New reply to your comment"
    assert "{{ replier }}" in wording.body


def test_wording_cannot_reach_templates_or_tag_libraries(db):
    with pytest.raises(ValidationError):
        MailWording(kind="comment_reply", language="en", subject="x", body="{% load static %}").full_clean()
    # An include compiles, but the wording engine has no templates to include.
    with pytest.raises(TemplateDoesNotExist):
        _fill('{% include "base.html" %}', {})


def test_immediate_backend_sends_at_once_in_tests_that_say_so(resident, settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
        "background": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    }
    mail_enqueue(kind="proposal_status", to=resident, key="now", context=_proposal_status_context())
    assert len(mail.outbox) == 1
