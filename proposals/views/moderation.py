"""Flags, the moderation queue, decisions, notices, appeals and the public statistics."""

from __future__ import annotations

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from proposals import selectors, services
from proposals.forms import (
    AppealForm,
    AppealReviewForm,
    FlagForm,
    ModerationForm,
)
from proposals.models import (
    Appeal,
    Comment,
    ModerationAction,
    Proposal,
)
from proposals.services import ProposalError
from proposals.views.common import _apply_errors, _refuse, _seen, rate_limit


def _item(item_type: str, pk: int):
    if item_type == "comment":
        return get_object_or_404(Comment.objects.select_related("author", "proposal", "consultation"), pk=pk)
    if item_type == "proposal":
        return get_object_or_404(Proposal.objects.select_related("author", "consultation"), pk=pk)
    raise Http404


def _item_url(item) -> str:
    return item.get_absolute_url()


@login_required
@rate_limit("flag")
@require_http_methods(["GET", "POST"])
def flag_item(request: HttpRequest, item_type: str, pk: int) -> HttpResponse:
    item = _seen(request, _item(item_type, pk))
    form = FlagForm(request.POST or None)
    own = item.author_id == request.user.pk
    if request.method == "POST" and form.is_valid():
        try:
            services.flag_create(
                reporter=request.user,
                item=item,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except (ProposalError, ValidationError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("Thank you. A moderator will look at this; we do not share who reported it.")
            )
            return redirect(_item_url(item))
    allowed = not own and rules.has_perm("proposals.flag", request.user, item)
    if request.method == "GET" and own:
        _refuse(form, _("You cannot report your own contribution. You can edit or remove it instead."))
    elif request.method == "GET" and not allowed:
        _refuse(form, _("This cannot be reported now."))
    return render(
        request,
        "proposals/flag_form.html",
        {
            "form": form,
            "item": item,
            "item_type": item_type,
            "back": _item_url(item),
            "allowed": allowed,
        },
        status=400 if (form.errors and request.method == "POST") else (200 if allowed else 403),
    )


def _moderator_only(request: HttpRequest) -> None:
    if not request.user.is_authenticated or not rules.has_perm("proposals.moderate", request.user):
        raise PermissionDenied


@login_required
@require_GET
def moderation_queue(request: HttpRequest) -> HttpResponse:
    _moderator_only(request)
    return render(
        request,
        "proposals/moderation_queue.html",
        {
            "queue": selectors.moderation_queue(),
            "appeal_count": len(selectors.pending_appeals()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def moderation_item(request: HttpRequest, item_type: str, pk: int) -> HttpResponse:
    _moderator_only(request)
    item = _item(item_type, pk)
    form = ModerationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        common = {"by": request.user, "reason": data["reason"], "explanation": data["explanation"]}
        try:
            if data["action"] == "hide":
                services.item_hide(item=item, **common)
            elif data["action"] == "restore":
                services.item_restore(item=item, **common)
            elif data["action"] == "dismiss":
                services.flags_dismiss(item=item, by=request.user, explanation=data["explanation"])
            elif item.author is None:
                raise ProposalError(_("The author's account no longer exists."), "no_author")
            elif data["action"] == "warn":
                services.user_warn(user=item.author, item=item, **common)
            else:
                services.user_suspend(user=item.author, item=item, days=data["days"], **common)
        except (ProposalError, ValidationError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Done. The author has been told, with your reason."))
            return redirect("proposals:moderation_queue")
    flags = list((item.flags.select_related("reporter")).order_by("-created_at"))
    return render(
        request,
        "proposals/moderation_item.html",
        {
            "item": item,
            "item_type": item_type,
            "form": form,
            "flags": flags,
            "history": selectors.item_history(item=item),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def moderation_log(request: HttpRequest) -> HttpResponse:
    _moderator_only(request)
    return render(request, "proposals/moderation_log.html", {"actions": selectors.audit_log()})


@login_required
@require_GET
def my_notices(request: HttpRequest) -> HttpResponse:
    return render(request, "proposals/my_notices.html", {"actions": selectors.notices_for(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def appeal_create(request: HttpRequest, action_id: int) -> HttpResponse:
    action = get_object_or_404(ModerationAction.objects.select_related("comment", "proposal"), pk=action_id)
    if action.target_user_id != request.user.pk:
        raise PermissionDenied
    form = AppealForm(request.POST or None)
    allowed = rules.has_perm("proposals.appeal", request.user, action)
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_submit(action=action, by=request.user, statement=form.cleaned_data["statement"])
        except (ProposalError, ValidationError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("Your appeal has been sent. A moderator will review it and tell you.")
            )
            return redirect("proposals:my_notices")
    if not allowed and not form.errors:
        _refuse(form, _("This decision has already been appealed, or cannot be appealed."))
    return render(
        request,
        "proposals/appeal_form.html",
        {"action": action, "form": form, "allowed": allowed},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def appeal_list(request: HttpRequest) -> HttpResponse:
    _moderator_only(request)
    return render(request, "proposals/appeal_list.html", {"appeals": selectors.pending_appeals()})


@login_required
@require_http_methods(["GET", "POST"])
def appeal_review(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator_only(request)
    appeal = get_object_or_404(
        Appeal.objects.select_related(
            "action__comment", "action__proposal", "action__moderator", "appellant"
        ),
        pk=pk,
    )
    form = AppealReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_review(
                appeal=appeal,
                by=request.user,
                overturn=form.cleaned_data["decision"] == "overturn",
                note=form.cleaned_data["note"],
            )
        except (ProposalError, ValidationError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The appeal has been decided and the person told."))
            return redirect("proposals:appeal_list")
    return render(
        request,
        "proposals/appeal_review.html",
        {"appeal": appeal, "form": form},
        status=400 if form.errors else 200,
    )


@require_GET
def moderation_statistics(request: HttpRequest) -> HttpResponse:
    from proposals.models import ActionReason, FlagReason

    return render(
        request,
        "proposals/moderation_statistics.html",
        {
            "months": selectors.monthly_statistics(),
            "flag_reasons": FlagReason.choices,
            "hide_reasons": [
                (v, label) for v, label in ActionReason.choices if v not in ("no_breach", "appeal")
            ],
        },
    )
