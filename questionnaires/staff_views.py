"""Pages for council staff: keying in responses that arrived on paper, by email, by phone or at an
event. They go through the same question pages and check-your-answers page as online responses."""

from __future__ import annotations

import rules
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from questionnaires import selectors, services
from questionnaires.forms import OfficerEntryForm
from questionnaires.services import STAFF_ONLY
from questionnaires.views import _page_url, _questionnaire, _refused


@require_http_methods(["GET", "POST"])
def enter(request, pk: int):
    questionnaire = _questionnaire(pk)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not rules.has_perm("questionnaires.enter_response", request.user, questionnaire):
        return _refused(request, questionnaire, STAFF_ONLY)
    form = OfficerEntryForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            response = services.response_enter(
                questionnaire=questionnaire,
                officer=request.user,
                channel=data["channel"],
                received_on=data["received_on"],
                late_reason=data["late_reason"],
                respondent_type=data["respondent_type"],
                organisation_name=data["organisation_name"].strip(),
                connection=data["connection"],
                publication_consent=data["publication_consent"],
                email=data["email"] or "",
                name=data["name"].strip(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            selectors.remember(request.session, response)
            first = selectors.page_after(response.version.definition, response.answers, 0)
            return HttpResponseRedirect(_page_url(questionnaire, first))
    context = {"questionnaire": questionnaire, "consultation": questionnaire.consultation, "form": form}
    return render(
        request, "questionnaires/enter.html", context, status=400 if request.method == "POST" else 200
    )
