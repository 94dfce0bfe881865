"""Background jobs of the notifications app. Each is idempotent: run twice, it sends nothing twice."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_tasks import task

from notifications.delivery import mails_deliver

BACKEND = "background"


class MailDeliveryFailed(Exception):
    """Some mails of a delivery job were given up on; the job's error lists them."""


@task(backend=BACKEND)
def deliver_mails(mail_ids: list[int]) -> dict[str, int]:
    """Send these queued mails. Mails the server cannot take yet go into a new job that waits."""
    report = mails_deliver(mail_ids=mail_ids)
    if report.retry_ids:
        deliver_mails.using(run_after=report.retry_at).enqueue(report.retry_ids)
    if report.failed:
        raise MailDeliveryFailed(
            _("%(n)d mail(s) could not be delivered: %(list)s")
            % {"n": len(report.failed), "list": "; ".join(report.failed)}
        )
    return {"sent": report.sent, "retrying": report.retrying, "skipped": report.skipped}
