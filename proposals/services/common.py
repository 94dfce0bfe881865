"""What every write service shares: the refusal it raises, the rule check, cleaning rich text, and
and mail queued in the same transaction."""

from __future__ import annotations

from typing import Any

import rules
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cms.sanitiser import is_blank_html, sanitise_html
from notifications.services import mail_enqueue


class ProposalError(Exception):
    """A refusal, with a message for the person and a short code for tests and websockets."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _require(perm: str, user: User, obj: Any, message: str, code: str = "forbidden") -> None:
    if not rules.has_perm(perm, user, obj):
        if user.is_authenticated and getattr(user, "is_suspended", False):
            until = timezone.localtime(user.suspended_until)
            raise ProposalError(
                _("Your account is suspended until %(until)s. You can read, but not take part.")
                % {"until": until.strftime("%-d %B %Y, %H:%M")},
                "suspended",
            )
        raise ProposalError(message, code)


def _clean_rich(raw: str, *, field: str, max_length: int, required: bool = True) -> str:
    if raw and len(raw) > max_length:
        raise ValidationError({field: _("Keep this to %(n)s characters or fewer.") % {"n": max_length}})
    body = sanitise_html(raw)
    if required and is_blank_html(body):
        raise ValidationError({field: _("Write something here.")})
    return body


def _mail(*, kind: str, to: User | None, key: str, context: dict[str, Any]) -> None:
    """Queue a mail (see notifications.services.mail_enqueue); sent by a worker once this commits."""
    if to is not None:
        mail_enqueue(kind=kind, to=to, key=key, context=context)


#: The longest a proposal's body and a comment may be, in characters as typed.
BODY_MAX = 10_000
COMMENT_MAX = 5_000
