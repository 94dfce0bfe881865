"""A new report is mailed to the moderators on duty for its consultation, once per item, and to
every moderator only when nobody is on duty; never to officers or administrators as such."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from notifications.models import ModerationDuty
from proposals.models import FlagReason
from proposals.services import flag_create
from tests import factories


@pytest.fixture
def moderators(db):
    return factories.ModeratorFactory(), factories.ModeratorFactory()


def test_a_report_is_mailed_to_the_moderators_on_duty_once(
    comment, consultation, moderators, other_resident, ward, run_jobs
):
    on_duty, _off_duty = moderators
    ModerationDuty.objects.create(consultation=consultation, moderator=on_duty)
    factories.OfficerFactory(is_superuser=True)
    flag_create(reporter=other_resident, item=comment, reason=FlagReason.SPAM)
    flag_create(reporter=factories.ResidentFactory(ward=ward), item=comment, reason=FlagReason.ABUSE)
    run_jobs()
    assert [m.to for m in mail.outbox] == [[on_duty.email]]
    body = mail.outbox[0].body
    assert f"http://127.0.0.1:8000/proposals/moderation/comment/{comment.pk}/" in body
    assert "because you moderate" in body


def test_with_nobody_on_duty_every_moderator_is_told(proposal, moderators, other_resident, run_jobs):
    officer = factories.OfficerFactory()
    flag_create(reporter=other_resident, item=proposal, reason=FlagReason.SPAM)
    run_jobs()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in moderators)
    assert officer.email not in {m.to[0] for m in mail.outbox}


def test_only_a_moderator_can_be_put_on_duty(consultation, resident):
    with pytest.raises(ValidationError):
        ModerationDuty(consultation=consultation, moderator=resident).full_clean()
