"""The email settings page, and the officers' background jobs and mail wording in the admin."""

from __future__ import annotations

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from notifications.models import MailWording, Preference
from notifications.tasks import deliver_mails

pytestmark = pytest.mark.django_db


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/notifications/settings/")
    assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]


def test_a_person_chooses_the_language_and_which_emails(client, resident):
    client.force_login(resident)
    page = client.get("/notifications/settings/").content.decode()
    assert "Cymraeg" in page and "News about your proposals" in page
    assert "Moderation decisions" not in page  # not optional, so not offered
    response = client.post("/notifications/settings/", {"language": "cy", "receive": ["comment_reply"]})
    assert response.status_code == 302
    preference = Preference.objects.get(user=resident)
    assert preference.language == "cy"
    assert "proposal_status" in preference.muted_kinds and "comment_reply" not in preference.muted_kinds


@pytest.mark.parametrize(
    "data",
    [
        {"language": "fr"},
        {"language": "en", "receive": ["moderation_action"]},
        {"receive": ["comment_reply"]},
    ],
)
def test_unknown_values_are_refused_with_an_error_and_nothing_saved(client, resident, data):
    client.force_login(resident)
    response = client.post("/notifications/settings/", data)
    assert response.status_code == 400
    assert "govuk-error-summary" in response.content.decode()
    assert not Preference.objects.exists()


def _failed_job():
    result = DBTaskResult.objects.get(pk=deliver_mails.enqueue([123]).id)
    result.claim("w")
    result.set_failed(ConnectionRefusedError(111, "Connection refused"))
    return result


def test_officer_sees_failed_jobs_with_the_error_and_runs_one_again(client, officer):
    failed = _failed_job()
    client.force_login(officer)
    page = client.get("/admin/jobs/").content.decode()
    assert "deliver_mails" in page and "ConnectionRefusedError" in page and "Run again" in page
    response = client.post(f"/admin/jobs/{failed.pk}/retry/")
    assert response.status_code == 302
    again = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert again.args_kwargs["args"] == [[123]]
    queued = client.get("/admin/jobs/?status=READY").content.decode()
    assert str(again.pk) in queued
    # A tab that does not exist shows the failed jobs rather than an error.
    assert client.get("/admin/jobs/?status=NOPE").status_code == 200


def test_running_again_a_job_that_did_not_fail_says_so(client, officer):
    queued = deliver_mails.enqueue([1])
    client.force_login(officer)
    response = client.post(f"/admin/jobs/{queued.id}/retry/", follow=True)
    assert "Only a failed job can be run again." in response.content.decode()
    assert client.post("/admin/jobs/not-a-uuid/retry/", follow=True).status_code == 200


def test_residents_and_moderators_cannot_see_or_retry_jobs(client, resident, moderator):
    failed = _failed_job()
    for person in (resident, moderator):
        client.force_login(person)
        assert client.get("/admin/jobs/").status_code in (302, 403)
        assert client.post(f"/admin/jobs/{failed.pk}/retry/").status_code in (302, 403)
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()


def test_officer_edits_wording_and_a_syntax_error_is_refused_with_its_line(client, officer):
    client.force_login(officer)
    url = "/admin/snippets/notifications/mailwording/add/"
    bad = {"kind": "comment_reply", "language": "en", "subject": "Reply", "body": "Hi\n{% if replier %}"}
    response = client.post(url, bad)
    assert response.status_code == 200
    assert "Line 2" in response.content.decode()
    assert not MailWording.objects.exists()
    good = {**bad, "body": "{{ replier }} answered you:\n\n{{ excerpt }}\n\n{{ reply_url }}"}
    response = client.post(url, good)
    assert response.status_code == 302
    assert MailWording.objects.get().body.startswith("{{ replier }} answered you")


def test_officer_previews_the_mail_as_a_resident_would_get_it(client, officer, home_page):
    client.force_login(officer)
    url = "/admin/snippets/notifications/mailwording/preview/"
    data = {
        "kind": "comment_reply",
        "language": "en",
        "subject": "Reply from {{ replier }}",
        "body": "{{ excerpt }}",
    }
    assert client.post(url, data).json()["is_valid"]
    page = client.get(url).content.decode()
    assert "Reply from Dafydd" in page and "the crossing is dangerous" in page
    assert "Plain text version" in page
