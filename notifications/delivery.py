"""Delivering queued mail: each mail sent at most once, over one SMTP connection per batch, with
retries that wait longer each time."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from notifications.models import MailStatus, OutboundMail

#: A mail that cannot be sent is tried this many times in all, waiting longer each time.
MAX_ATTEMPTS = 8


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: 30 s, 1 min, 2 min ... at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: int = 0
    retry_ids: list[int] = field(default_factory=list)
    retry_at: datetime | None = None


def _headers(mail: OutboundMail) -> dict[str, str]:
    headers = {"Message-ID": f"<mail-{mail.pk}@townhall>"}
    if mail.unsubscribe_url:
        # RFC 8058 one-click unsubscribe: mail programs POST "List-Unsubscribe=One-Click" to the link.
        headers["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def _message(mail: OutboundMail, connection) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mail.to_email],
        connection=connection,
        headers=_headers(mail),
    )
    message.attach_alternative(mail.body_html, "text/html")
    return message


def _permanent(exc: Exception) -> bool:
    """A refusal the mail server says is final (a 5xx reply about the recipient)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500 and exc.smtp_code != 554


def mails_deliver(*, mail_ids: list[int]) -> DeliveryReport:
    """Send the queued mails among ``mail_ids`` that are due, each at most once.

    Each mail is sent while its row is locked and marked sent in the same transaction, so two workers
    never send it both, and a mail already sent is skipped when a job is run again. A mail the server
    cannot take now is to be tried again later (``retry_ids``, ``retry_at``; see :func:`retry_delay`);
    after ``MAX_ATTEMPTS`` tries, or a permanent refusal, it is marked failed (``failed``). A mail that
    was marked failed is tried once more when its job is run again from the admin.
    """
    report = DeliveryReport()
    connection = None
    retry_at = None
    retry_ids: list[int] = []
    for mail_id in mail_ids:
        with transaction.atomic():
            mail = (
                OutboundMail.objects.select_for_update(skip_locked=True)
                .filter(pk=mail_id, status__in=[MailStatus.QUEUED, MailStatus.FAILED])
                .first()
            )
            if mail is None or (mail.status == MailStatus.QUEUED and mail.next_attempt_at > timezone.now()):
                report.skipped += 1
                continue
            if connection is None:
                connection = get_connection()
            try:
                _message(mail, connection).send()
            except (smtplib.SMTPException, OSError) as exc:
                connection.close()
                connection = None
                mail.attempts += 1
                mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if _permanent(exc) or mail.attempts >= MAX_ATTEMPTS:
                    mail.status = MailStatus.FAILED
                    report.failed.append(f"{mail.pk} to {mail.to_email}: {mail.last_error}")
                else:
                    mail.status = MailStatus.QUEUED
                    mail.next_attempt_at = timezone.now() + retry_delay(mail.attempts)
                    retry_at = min(retry_at or mail.next_attempt_at, mail.next_attempt_at)
                    retry_ids.append(mail.pk)
                    report.retrying += 1
                mail.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            else:
                mail.status = MailStatus.SENT
                mail.sent_at = timezone.now()
                mail.attempts += 1
                mail.save(update_fields=["status", "sent_at", "attempts"])
                report.sent += 1
    if connection is not None:
        connection.close()
    report.retry_ids, report.retry_at = retry_ids, retry_at
    return report
