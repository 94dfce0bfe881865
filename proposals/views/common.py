"""Helpers every view module shares: rate limits, the consultation lookup, refusals in forms."""

from __future__ import annotations

import functools

import rules
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import ErrorDict
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_ratelimit.core import is_ratelimited

from cms import visibility
from cms.views import rate_limited
from consultations.models import ConsultationPage
from proposals import selectors
from proposals.forms import CommentForm
from proposals.models import (
    MAX_DEPTH,
    CommentState,
)
from proposals.services import ProposalError

#: Per person, on POST only. A flood is refused with the site's 429 page; nothing is stored.
RATES = {
    "proposal": getattr(settings, "TOWNHALL_RATE_PROPOSALS", "5/h"),
    "comment": getattr(settings, "TOWNHALL_RATE_COMMENTS", "30/h"),
    "flag": getattr(settings, "TOWNHALL_RATE_FLAGS", "20/h"),
}


def rate_limit(group: str):
    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.method == "POST" and is_ratelimited(
                request,
                group=f"proposals.{group}",
                key="user_or_ip",
                rate=RATES[group],
                method="POST",
                increment=True,
            ):
                return rate_limited(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _consultation(request: HttpRequest, pk: int) -> ConsultationPage:
    """The consultation, if this person may see it (published, and past its view restrictions)."""
    consultation = get_object_or_404(ConsultationPage.objects.prefetch_related("phases"), pk=pk)
    return selectors.pin_outcomes(_seen(request, consultation))


def _seen(request: HttpRequest, obj):
    """The object, or a 404 when this person may not see it (a draft, a restricted page, hidden)."""
    if not visibility.may_see(request, obj):
        raise Http404
    return obj


def _apply_errors(form, exc: ValidationError | ProposalError) -> None:
    """Show a service's refusal or validation errors on the form, next to the fields they concern."""
    if isinstance(exc, ProposalError):
        form.add_error(None, exc.message)
    elif hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _refuse(form, message: str) -> None:
    """Show a refusal in the form's error summary, whether or not the form was submitted."""
    if form.is_bound:
        form.add_error(None, message)
        return
    form._errors = ErrorDict({NON_FIELD_ERRORS: form.error_class([message], error_class="nonfield")})


def _thread_context(request: HttpRequest, thread, target) -> dict:
    user = request.user
    may_comment = rules.has_perm("proposals.add_comment", user, target)
    is_moderator = rules.has_perm("proposals.moderate", user)
    for comment in thread.by_id.values():
        if not user.is_authenticated:
            comment.perms = {}
            continue
        perms = {
            "reply": comment.depth + 1 < MAX_DEPTH
            and rules.has_perm("proposals.reply_comment", user, comment),
            "quote": may_comment and comment.state == CommentState.VISIBLE,
            "edit": rules.has_perm("proposals.edit_comment", user, comment),
            "delete": rules.has_perm("proposals.delete_comment", user, comment),
            "flag": rules.has_perm("proposals.flag", user, comment),
            "moderate": is_moderator,
        }
        perms["any"] = any(perms.values())
        perms["see_hidden"] = comment.state == CommentState.HIDDEN and rules.has_perm(
            "proposals.view_hidden", user, comment
        )
        comment.perms = perms
    return {
        "thread": thread,
        "may_comment": may_comment,
        "max_depth": MAX_DEPTH,
        "comment_form": CommentForm() if may_comment else None,
        "is_moderator": is_moderator,
        "sides": request.GET.get("view") == "sides",
        # Reversed once per page; comment.html appends "<pk>/<action>/" (checked by the view tests).
        "comment_base": reverse("proposals:comment_history", args=[0]).removesuffix("0/history/"),
        "report_base": reverse("proposals:flag", args=["comment", 0]).removesuffix("0/"),
        "moderate_base": reverse("proposals:moderation_item", args=["comment", 0]).removesuffix("0/"),
    }
