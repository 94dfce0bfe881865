"""Residents' "I want a say" request on a panel-track consultation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from cms import visibility
from consultations.forms import EscalationRequestForm
from consultations.models import ConsultationPage
from consultations.selectors import escalation_refusal
from consultations.services import escalation_request_create


@require_http_methods(["GET", "POST"])
@ratelimit(key="user_or_ip", rate="20/h", method="POST", block=True)
def escalation_request(request, page_id: int):
    page = get_object_or_404(ConsultationPage.objects.specific(), pk=page_id)
    if not visibility.may_see(request, page):
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    refusal = escalation_refusal(consultation=page, user=request.user)
    if refusal:
        return render(
            request,
            "consultations/escalation_form.html",
            {"page": page, "refusal": refusal, "form": None},
            status=403,
        )
    form = EscalationRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            escalation_request_create(
                consultation=page, user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Thank you: we have recorded that you want a wider say."))
            return redirect(page.url + "#wider-say")
    status = 400 if request.method == "POST" else 200
    return render(request, "consultations/escalation_form.html", {"page": page, "form": form}, status=status)
