"""Proposal pages: list, submit, detail, support, status."""

from __future__ import annotations

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Ward
from cms import visibility
from proposals import selectors, services
from proposals.forms import (
    KIND_FORMS,
    KindChoiceForm,
    ListFilterForm,
    StatusForm,
)
from proposals.models import (
    Proposal,
    ProposalKind,
)
from proposals.services import ProposalError
from proposals.views.common import _apply_errors, _consultation, _refuse, _seen, _thread_context, rate_limit


@require_GET
def proposal_list(request: HttpRequest, consultation_id: int) -> HttpResponse:
    consultation = _consultation(request, consultation_id)
    wards = list(Ward.objects.all())
    form = ListFilterForm(request.GET or None, wards=wards, sorts=selectors.SORTS)
    params = form.cleaned_data if form.is_valid() else {}
    order = params.get("sort") or selectors.DEFAULT_SORT
    proposals = selectors.proposal_list(
        consultation=consultation,
        order=order,
        kind=params.get("kind") or "",
        status=params.get("status") or "",
        ward_id=params.get("ward"),
        user=request.user,
    )
    page = Paginator(proposals, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "proposals/proposal_list.html",
        {
            "consultation": consultation,
            "page_obj": page,
            "form": form,
            "order": order,
            "query": query.urlencode(),
            "can_propose": rules.has_perm("proposals.add_proposal", request.user, consultation),
            "filtered": any(params.get(k) for k in ("kind", "status", "ward")),
        },
        status=200,
    )


@login_required
@require_GET
def proposal_new(request: HttpRequest, consultation_id: int) -> HttpResponse:
    consultation = _consultation(request, consultation_id)
    if not rules.has_perm("proposals.add_proposal", request.user, consultation):
        return render(
            request,
            "proposals/not_allowed.html",
            {
                "consultation": consultation,
                "message": _(
                    "You cannot submit a proposal to this consultation now. Proposals are accepted only "
                    "during its proposals phase, from people who can take part in it."
                ),
            },
            status=403,
        )
    form = KindChoiceForm(request.GET or None)
    if request.GET and form.is_valid():
        return redirect("proposals:create", consultation_id=consultation.pk, kind=form.cleaned_data["kind"])
    return render(
        request,
        "proposals/proposal_kind.html",
        {"consultation": consultation, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@rate_limit("proposal")
@require_http_methods(["GET", "POST"])
def proposal_create(request: HttpRequest, consultation_id: int, kind: str) -> HttpResponse:
    consultation = _consultation(request, consultation_id)
    form_class = KIND_FORMS.get(kind)
    if form_class is None:
        raise Http404
    form = form_class(request.POST or None, initial={"ward": request.user.ward_id})
    allowed = rules.has_perm("proposals.add_proposal", request.user, consultation)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.proposal_submit(
                consultation=consultation,
                author=request.user,
                kind=kind,
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                body=form.cleaned_data["body"],
                ward=form.cleaned_data["ward"],
                **form.kind_fields(),
            )
        except (ProposalError, ValidationError) as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Your proposal has been submitted."))
            return redirect(proposal)
    if not allowed and not form.errors:
        _refuse(
            form,
            _(
                "You cannot submit a proposal to this consultation now. Proposals are accepted "
                "only during its proposals phase, from people who can take part in it."
            ),
        )
        status = 403
    else:
        status = 400 if form.errors else 200
    return render(
        request,
        "proposals/proposal_form.html",
        {
            "consultation": consultation,
            "form": form,
            "kind": kind,
            "kind_label": ProposalKind(kind).label,
            "allowed": allowed,
        },
        status=status,
    )


@require_GET
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        proposal = selectors.proposal_detail(pk=pk, user=request.user)
    except Proposal.DoesNotExist as exc:
        raise Http404 from exc
    _seen(request, proposal.consultation)
    user = request.user
    can_see = visibility.may_see(request, proposal)
    thread = selectors.thread_for(proposal=proposal) if can_see else None
    context = {
        "proposal": proposal,
        "consultation": proposal.consultation,
        "can_see": can_see,
        "supported": proposal.supported_by_me,
        "may_support": rules.has_perm("proposals.support_proposal", user, proposal),
        "may_flag": rules.has_perm("proposals.flag", user, proposal),
        "may_change_status": rules.has_perm("proposals.change_status", user, proposal),
        "is_author": user.is_authenticated and proposal.author_id == user.pk,
    }
    if thread is not None:
        context.update(_thread_context(request, thread, proposal))
    return render(request, "proposals/proposal_detail.html", context, status=200 if can_see else 404)


@login_required
@require_POST
def proposal_support(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _seen(
        request, get_object_or_404(Proposal.objects.non_polymorphic().select_related("consultation"), pk=pk)
    )
    try:
        added = services.support_add(proposal=proposal, user=request.user)
    except ProposalError as exc:
        messages.error(request, exc.message)
    else:
        if added:
            messages.success(request, _("You support this proposal."))
        else:
            messages.info(request, _("You already support this proposal. Each person can support it once."))
    return redirect("proposals:detail", pk=proposal.pk)


@login_required
@require_http_methods(["GET", "POST"])
def proposal_status(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _seen(request, get_object_or_404(Proposal.objects.select_related("consultation"), pk=pk))
    if not rules.has_perm("proposals.change_status", request.user, proposal):
        raise PermissionDenied
    form = StatusForm(request.POST or None, current=proposal.status)
    if request.method == "POST" and form.is_valid():
        try:
            services.proposal_change_status(
                proposal=proposal,
                by=request.user,
                to_status=form.cleaned_data["to_status"],
                reason=form.cleaned_data["reason"],
                response=form.cleaned_data["response"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The proposal's status has been changed."))
            return redirect(proposal)
    return render(
        request,
        "proposals/proposal_status.html",
        {"proposal": proposal, "form": form},
        status=400 if form.errors else 200,
    )
