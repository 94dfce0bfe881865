"""Reads about mail settings and background jobs."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, QuerySet
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from notifications import kinds
from notifications.models import Preference

#: The statuses officers can list, in the order the tabs show them.
JOB_STATUSES: list[str] = [
    str(TaskResultStatus.FAILED),
    str(TaskResultStatus.READY),
    str(TaskResultStatus.RUNNING),
    str(TaskResultStatus.SUCCESSFUL),
]


def mail_settings_for(user) -> dict:
    preference = Preference.objects.filter(user=user).first()
    language = preference.language if preference else settings.LANGUAGE_CODE[:2]
    muted = set(preference.muted_kinds if preference else [])
    return {"language": language, "receive": [k.key for k in kinds.optional_kinds() if k.key not in muted]}


def job_counts() -> dict[str, int]:
    counts = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in JOB_STATUSES}


def job_list(*, status: str) -> QuerySet[DBTaskResult]:
    """Jobs in ``status``, newest first, without their arguments or return values (which can be big)."""
    order = (
        "-finished_at" if status in (TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL) else "-enqueued_at"
    )
    return (
        DBTaskResult.objects.filter(status=status)
        .defer("args_kwargs", "return_value")
        .order_by(order, "-enqueued_at")
    )


def language_for(user) -> str:
    """The language ``user`` reads mail in."""
    language = Preference.objects.filter(user=user).values_list("language", flat=True).first()
    return language or "en"


def moderators_on_duty(*, consultation_id: int | None) -> list:
    """Who hears about a new report on ``consultation_id``: its moderators on duty who are still
    moderators, or, when it has none, every active moderator."""
    from django.contrib.auth import get_user_model

    from accounts import roles
    from notifications.models import ModerationDuty

    moderators = get_user_model().objects.filter(is_active=True, groups__name=roles.MODERATOR)
    on_duty = moderators.filter(
        pk__in=ModerationDuty.objects.filter(consultation_id=consultation_id).values("moderator_id")
    )
    chosen = list(on_duty.order_by("pk")) if consultation_id else []
    return chosen or list(moderators.order_by("pk"))
