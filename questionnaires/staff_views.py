"""Pages for council staff: keying in responses that arrived on paper, by email, by phone or at an
event (through the same question pages and check-your-answers page as online responses); reading,
searching and redacting responses; downloading them as CSV with a codebook, every download logged."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from urllib.parse import urlencode

import rules
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from questionnaires import selectors, services
from questionnaires.forms import OfficerEntryForm, RedactionForm
from questionnaires.services import STAFF_ONLY
from questionnaires.views import _page_url, _questionnaire, _refused


@require_http_methods(["GET", "POST"])
def enter(request, pk: int):
    questionnaire = _questionnaire(request, pk)
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


def _staff(request, questionnaire, perm: str):
    """None if the person may, else the response that refuses them."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not rules.has_perm(perm, request.user, questionnaire):
        return _refused(
            request,
            questionnaire,
            "Only the council's officers and the consultation's councillor can see responses.",
        )
    return None


def responses(request, pk: int):
    questionnaire = _questionnaire(request, pk)
    refused = _staff(request, questionnaire, "questionnaires.read_responses")
    if refused:
        return refused
    search = request.GET.get("q", "").strip()[:200]
    paginator = Paginator(selectors.submitted_responses(questionnaire=questionnaire, search=search), 50)
    page_obj = paginator.get_page(request.GET.get("page"))
    context = {
        "questionnaire": questionnaire,
        "consultation": questionnaire.consultation,
        "page_obj": page_obj,
        "search": search,
        "querystring": urlencode({"q": search}) if search else "",
        "can_export": rules.has_perm("questionnaires.export_responses", request.user, questionnaire),
    }
    return render(request, "questionnaires/staff/responses.html", context)


@require_http_methods(["GET", "POST"])
def response_detail(request, pk: int, reference: str):
    questionnaire = _questionnaire(request, pk)
    refused = _staff(request, questionnaire, "questionnaires.read_responses")
    if refused:
        return refused
    response = selectors.response_for_staff(questionnaire=questionnaire, reference=reference)
    if response is None:
        raise Http404("No such response")
    response.questionnaire = questionnaire
    rows = selectors.staff_answer_rows(response)
    choices = [(row["code"], row["question"]) for row in rows if row["free_text"]]
    form = RedactionForm(request.POST if request.method == "POST" else None, choices=choices)
    if request.method == "POST":
        if not rules.has_perm("questionnaires.redact_response", request.user, questionnaire):
            return _refused(request, questionnaire, "Only the council's officers can redact responses.")
        if form.is_valid():
            try:
                services.response_redact(
                    response=response,
                    code=form.cleaned_data["code"],
                    text=form.cleaned_data["text"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The answer is redacted. The original is kept."))
                return HttpResponseRedirect(request.path)
    context = {
        "questionnaire": questionnaire,
        "consultation": questionnaire.consultation,
        "response": response,
        "rows": rows,
        "form": form if choices else None,
        "history": list(response.redactions.all()),
    }
    return render(request, "questionnaires/staff/response.html", context, status=400 if form.errors else 200)


class _Echo:
    """A file-like object the csv writer writes one line at a time into, for streaming."""

    def write(self, value: str) -> str:
        return value


def _csv_download(rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_csv(request, pk: int):
    questionnaire = _questionnaire(request, pk)
    refused = _staff(request, questionnaire, "questionnaires.export_responses")
    if refused:
        return refused
    services.export_log_record(
        questionnaire=questionnaire, user=request.user, format="csv", what="all submitted responses"
    )
    return _csv_download(
        selectors.export_rows(questionnaire=questionnaire), f"questionnaire-{questionnaire.pk}-responses.csv"
    )


def codebook_csv(request, pk: int):
    questionnaire = _questionnaire(request, pk)
    refused = _staff(request, questionnaire, "questionnaires.read_responses")
    if refused:
        return refused
    return _csv_download(
        selectors.codebook_rows(questionnaire=questionnaire), f"questionnaire-{questionnaire.pk}-codebook.csv"
    )


def results(request, pk: int):
    questionnaire = _questionnaire(request, pk)
    refused = _staff(request, questionnaire, "questionnaires.read_responses")
    if refused:
        return refused
    context = {
        "questionnaire": questionnaire,
        "consultation": questionnaire.consultation,
        "versions": selectors.question_summaries(questionnaire=questionnaire),
    }
    return render(request, "questionnaires/staff/results.html", context)
