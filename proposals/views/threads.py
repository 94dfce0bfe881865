"""Thread pages: the consultation's thread, comments, replies, edits, removal, history."""

from __future__ import annotations

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cms import visibility
from cms.sanitiser import html_to_editable
from proposals import selectors, services
from proposals.forms import CommentForm
from proposals.models import (
    MAX_DEPTH,
    Comment,
    CommentState,
    Proposal,
)
from proposals.services import ProposalError
from proposals.views.common import _apply_errors, _consultation, _refuse, _seen, _thread_context, rate_limit


@require_GET
def consultation_thread(request: HttpRequest, consultation_id: int) -> HttpResponse:
    consultation = _consultation(request, consultation_id)
    thread = selectors.thread_for(consultation=consultation)
    context = {"consultation": consultation, **_thread_context(request, thread, consultation)}
    return render(request, "proposals/consultation_thread.html", context)


def _comment_target(request: HttpRequest, kind: str, pk: int):
    if kind == "proposal":
        return _seen(
            request,
            get_object_or_404(Proposal.objects.non_polymorphic().select_related("consultation"), pk=pk),
        )
    if kind == "consultation":
        return _consultation(request, pk)
    raise Http404


def _quotable(request: HttpRequest, raw: str | None, target) -> Comment | None:
    """The comment asked to be quoted, only if it is visible, this person may see it, and it belongs
    to the same discussion; anything else is ignored (its words are never shown)."""
    if not raw or not str(raw).isdigit():
        return None
    quoted = Comment.objects.select_related("author", "proposal__consultation", "consultation").filter(
        pk=int(raw)
    )
    quoted = quoted.first()
    if quoted is None or quoted.state != CommentState.VISIBLE or not visibility.may_see(request, quoted):
        return None
    if isinstance(target, Proposal):
        return quoted if quoted.proposal_id == target.pk else None
    return quoted if quoted.consultation_id == target.pk else None


def _comment(request: HttpRequest, pk: int) -> Comment:
    """The comment, or a 404 when this person may not see it."""
    related = Comment.objects.select_related("author", "proposal", "consultation")
    return _seen(request, get_object_or_404(related, pk=pk))


def _target_url(target) -> str:
    if isinstance(target, Proposal):
        return reverse("proposals:detail", args=[target.pk])
    return reverse("proposals:thread", args=[target.pk])


@login_required
@rate_limit("comment")
@require_http_methods(["GET", "POST"])
def comment_create(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    target = _comment_target(request, kind, pk)
    quoted = _quotable(request, request.POST.get("quote") or request.GET.get("quote"), target)
    form = CommentForm(request.POST or None, initial={"quote": quoted.pk if quoted else None})
    if request.method == "POST" and form.is_valid():
        try:
            comment = services.comment_add(
                author=request.user,
                target=target,
                body=form.cleaned_data["body"],
                stance=form.cleaned_data["stance"],
                quoted=quoted,
            )
        except (ProposalError, ValidationError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Your comment has been added."))
            return redirect(comment.get_absolute_url())
    may = rules.has_perm("proposals.add_comment", request.user, target)
    return render(
        request,
        "proposals/comment_form.html",
        {
            "form": form,
            "target": target,
            "back": _target_url(target),
            "quoted": quoted if may else None,
            "allowed": may,
            "heading": _("Add a comment"),
            "action": request.path,
        },
        status=400 if form.errors else (200 if may else 403),
    )


@login_required
@rate_limit("comment")
@require_http_methods(["GET", "POST"])
def comment_reply(request: HttpRequest, pk: int) -> HttpResponse:
    parent = _comment(request, pk)
    back = parent.get_absolute_url()
    form = CommentForm(request.POST or None)
    too_deep = parent.depth + 1 >= MAX_DEPTH
    if request.method == "POST" and form.is_valid():
        try:
            comment = services.comment_add(
                author=request.user,
                parent=parent,
                body=form.cleaned_data["body"],
                stance=form.cleaned_data["stance"],
            )
        except (ProposalError, ValidationError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Your reply has been added."))
            return redirect(comment.get_absolute_url())
    allowed = rules.has_perm("proposals.reply_comment", request.user, parent) and not too_deep
    if not allowed and not form.errors:
        _refuse(
            form,
            _(
                "Replies can only go %(n)s levels deep, so they stay readable. Reply to the "
                "comment above this one instead, or quote this one."
            )
            % {"n": MAX_DEPTH}
            if too_deep
            else _("You cannot reply to this comment now."),
        )
    return render(
        request,
        "proposals/comment_form.html",
        {
            "form": form,
            "parent": parent,
            "back": back,
            "allowed": allowed,
            "heading": _("Reply to a comment"),
            "action": request.path,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _comment(request, pk)
    if not rules.has_perm("proposals.edit_comment", request.user, comment):
        raise PermissionDenied
    form = CommentForm(
        request.POST or None, initial={"body": html_to_editable(comment.body), "stance": comment.stance}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_edit(
                comment=comment,
                by=request.user,
                body=form.cleaned_data["body"],
                stance=form.cleaned_data["stance"],
            )
        except (ProposalError, ValidationError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("Your comment has been updated. Earlier versions stay in its history.")
            )
            return redirect(comment.get_absolute_url())
    return render(
        request,
        "proposals/comment_form.html",
        {
            "form": form,
            "editing": comment,
            "back": comment.get_absolute_url(),
            "allowed": True,
            "heading": _("Edit your comment"),
            "action": request.path,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def comment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _comment(request, pk)
    if not rules.has_perm("proposals.delete_comment", request.user, comment):
        raise PermissionDenied
    if request.method == "POST":
        services.comment_delete(comment=comment, by=request.user)
        messages.success(request, _("Your comment has been removed. Replies to it stay."))
        return redirect(comment.get_absolute_url())
    return render(request, "proposals/comment_delete.html", {"comment": comment})


@require_GET
def comment_history(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _comment(request, pk)
    visible = comment.state == CommentState.VISIBLE or rules.has_perm("proposals.moderate", request.user)
    revisions = list(comment.revisions.all()) if visible else []
    return render(
        request,
        "proposals/comment_history.html",
        {"comment": comment, "revisions": revisions, "visible": visible},
    )
