"""One-click unsubscribe (RFC 8058): works signed out, each link once; tampered, expired and replayed
links are refused with a clear page and change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications.models import Preference
from notifications.services import mail_enqueue, preference_update, unsubscribe_url
from tests import factories

pytestmark = pytest.mark.django_db

CONTEXT = {"replier": "Dafydd", "excerpt": "I agree.", "reply_url": "http://127.0.0.1:8000/proposals/p/1/"}


def _sent_mail(resident, run_jobs, key="reply:1"):
    mail_enqueue(kind="comment_reply", to=resident, key=key, context=CONTEXT)
    run_jobs()
    return mail.outbox[-1]


def _path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def test_mail_carries_the_one_click_headers_and_the_link_in_its_footer(resident, run_jobs):
    message = _sent_mail(resident, run_jobs)
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<http://127.0.0.1:8000/notifications/unsubscribe/") and header.endswith(">")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert header[1:-1] in message.body
    assert f'href="{header[1:-1]}"' in message.alternatives[0][0]


def test_account_mail_has_no_unsubscribe_header(resident, run_jobs):
    mail_enqueue(kind="appeal_decided", to=resident, key="a", context={"outcome": "Upheld", "note": ""})
    run_jobs()
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers


def test_a_mail_program_unsubscribes_with_one_post_signed_out(client, resident, run_jobs):
    link = _sent_mail(resident, run_jobs).extra_headers["List-Unsubscribe"][1:-1]
    response = client.post(_path(link), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You have unsubscribed" in response.content.decode()
    assert Preference.objects.get(user=resident).muted_kinds == ["comment_reply"]
    # No more of that kind.
    assert mail_enqueue(kind="comment_reply", to=resident, key="reply:2", context=CONTEXT) is None


def test_opening_the_link_only_asks(client, resident, run_jobs):
    link = _sent_mail(resident, run_jobs).extra_headers["List-Unsubscribe"][1:-1]
    page = client.get(_path(link))
    assert page.status_code == 200 and "Stop getting" in page.content.decode()
    assert not Preference.objects.exists()


def test_a_tampered_link_is_refused_and_changes_nothing(client, resident):
    link = _path(unsubscribe_url(user_id=resident.pk, kind="comment_reply", key="reply:9"))
    token = link.rstrip("/").rsplit("/", 1)[1]
    other = factories.ResidentFactory(ward=resident.ward)
    forged = token.replace(str(resident.pk), str(other.pk), 1)
    for bad in (token[:-3] + "abc", forged + "x", "nonsense"):
        response = client.post(f"/notifications/unsubscribe/{bad}/")
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    assert not Preference.objects.exists()


def test_an_expired_link_is_refused(client, resident):
    link = _path(unsubscribe_url(user_id=resident.pk, kind="comment_reply", key="reply:9"))
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        response = client.post(link)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not Preference.objects.exists()


def test_a_replayed_link_cannot_undo_a_later_choice(client, resident):
    link = _path(unsubscribe_url(user_id=resident.pk, kind="comment_reply", key="reply:9"))
    assert client.post(link).status_code == 200
    preference_update(user=resident, language="en", muted_kinds=[])  # turned back on
    replay = client.post(link)
    assert replay.status_code == 409
    assert "already been used" in replay.content.decode()
    assert Preference.objects.get(user=resident).muted_kinds == []


def test_a_link_for_mail_that_cannot_be_turned_off_is_refused(client, resident):
    link = _path(unsubscribe_url(user_id=resident.pk, kind="moderation_action", key="m"))
    assert client.post(link).status_code == 400
    assert not Preference.objects.exists()
