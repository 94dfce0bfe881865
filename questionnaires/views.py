"""Answering a questionnaire the GOV.UK way, without JavaScript: about you, one page at a time, check
your answers, confirmation. Views parse, ask the rules, call a service and render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from cms.views import rate_limited
from questionnaires import definition as qdef
from questionnaires import selectors, services
from questionnaires.forms import AboutYouForm, ResumeLinkForm
from questionnaires.models import Channel, Connection, Questionnaire, Respondents, Response
from questionnaires.rules import respond_refusal

#: Starting anonymous responses from one address, per hour (the page says so).
ANONYMOUS_RATE = getattr(settings, "TOWNHALL_RATE_ANONYMOUS_RESPONSES", "10/h")
DONE_KEY = "questionnaire_done"


def _questionnaire(request, pk: int) -> Questionnaire:
    """The questionnaire if the visibility gate lets this person see it; 404 as for a page they may not."""
    questionnaire = selectors.questionnaire_public(pk=pk, who=request)
    if questionnaire is None:
        raise Http404("No such questionnaire")
    return questionnaire


def _url(name: str, questionnaire: Questionnaire, **kwargs) -> str:
    return reverse(f"questionnaires:{name}", kwargs={"pk": questionnaire.pk, **kwargs})


def _page_url(questionnaire: Questionnaire, number: int | None, *, change: bool = False) -> str:
    if number is None:
        return _url("check", questionnaire)
    url = _url("page", questionnaire, number=number)
    return url + "?change=1" if change else url


def _start_url(questionnaire: Questionnaire, response: Response) -> str:
    if response.channel != Channel.ONLINE:
        return _url("enter", questionnaire)
    return _url("start", questionnaire) + "?change=1"


def _refused(request, questionnaire: Questionnaire, message: str, status: int = 403):
    return render(
        request,
        "questionnaires/refused.html",
        {"questionnaire": questionnaire, "consultation": questionnaire.consultation, "message": message},
        status=status,
    )


def _draft(request, questionnaire: Questionnaire) -> Response | None:
    """The visitor's own response in progress, or None if they have not started (or cannot carry on)."""
    response = selectors.response_current(
        questionnaire=questionnaire, user=request.user, session=request.session
    )
    if response is None or response.submitted:
        return None
    if (
        response.channel == Channel.ONLINE
        and questionnaire.respondents == Respondents.EMAIL
        and response.email_confirmed_at is None
    ):
        return None
    return response


@require_http_methods(["GET", "POST"])
def start(request, pk: int):
    questionnaire = _questionnaire(request, pk)
    consultation = questionnaire.consultation
    refusal = respond_refusal(request.user, questionnaire)
    context = {"questionnaire": questionnaire, "consultation": consultation, "refusal": refusal}
    if refusal:
        if (
            not request.user.is_authenticated
            and questionnaire.signed_in_only
            and refusal == "Sign in to respond."
        ):
            if request.method == "POST":
                return redirect_to_login(request.get_full_path())
            return render(request, "questionnaires/start.html", {**context, "form": None})
        return render(request, "questionnaires/start.html", {**context, "form": None}, status=403)
    response = selectors.response_current(
        questionnaire=questionnaire, user=request.user, session=request.session
    )
    if response is not None and response.submitted:
        return render(request, "questionnaires/start.html", {**context, "form": None, "already": response})
    initial = {}
    if response is not None:
        initial = {
            "respondent_type": response.respondent_type,
            "organisation_name": response.organisation_name,
            "connection": response.connection,
            "publication_consent": response.publication_consent,
            "name": response.name,
        }
    form = AboutYouForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        respondents=questionnaire.respondents,
    )
    context.update(form=form, draft=response)
    if request.method == "POST" and form.is_valid():
        if questionnaire.respondents == Respondents.ANONYMOUS and is_ratelimited(
            request,
            group="questionnaires.anonymous",
            key="ip",
            rate=ANONYMOUS_RATE,
            method="POST",
            increment=True,
        ):
            return rate_limited(request)
        data = form.cleaned_data
        try:
            started = services.response_start(
                questionnaire=questionnaire,
                user=request.user,
                respondent_type=data["respondent_type"],
                organisation_name=data["organisation_name"].strip(),
                connection=data["connection"],
                publication_consent=data["publication_consent"],
                email=data.get("email", ""),
                name=data["name"].strip(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if questionnaire.respondents == Respondents.EMAIL:
                return render(
                    request,
                    "questionnaires/check_email.html",
                    {**context, "email": data["email"]},
                )
            selectors.remember(request.session, started)
            definition = started.version.definition
            if response is not None and request.GET.get("change"):
                return HttpResponseRedirect(_url("check", questionnaire))
            return HttpResponseRedirect(
                _page_url(questionnaire, selectors.page_after(definition, started.answers, 0))
            )
    return render(
        request, "questionnaires/start.html", context, status=400 if request.method == "POST" else 200
    )


def _question_views(items: list[dict], values: dict[str, list[str]], errors: dict[str, str]) -> list[dict]:
    """What the page template needs for each item: names, ids, what is filled in or chosen, the error."""

    def one(name: str) -> str:
        got = values.get(name) or [""]
        return got[-1]

    shown: list[dict[str, Any]] = []
    for item in items:
        if item["kind"] == "information":
            shown.append({"item": item})
            continue
        name = qdef.field_name(item)
        selected = values.get(name) or []
        options = [
            {
                "value": option,
                "id": f"{name}-{i}",
                "checked": option in selected,
                "rank_name": qdef.field_name(item, str(i)),
                "rank": one(qdef.field_name(item, str(i))),
            }
            for i, option in enumerate(qdef.options_for(item))
        ]
        kind = item["kind"]
        if kind in ("single_choice", "multiple_choice", "agreement"):
            anchor = f"{name}-0"
        elif kind == "ranking":
            anchor = qdef.field_name(item, "0")
        elif kind == "date":
            anchor = qdef.field_name(item, "day")
        else:
            anchor = name
        shown.append(
            {
                "item": item,
                "name": name,
                "anchor": anchor,
                "text": one(name),
                "options": options,
                "ranks": [str(n) for n in range(1, len(options) + 1)],
                "other_value": qdef.OTHER,
                "other_checked": qdef.OTHER in selected,
                "other_name": qdef.field_name(item, "other"),
                "other_text": one(qdef.field_name(item, "other")),
                "day": one(qdef.field_name(item, "day")),
                "month": one(qdef.field_name(item, "month")),
                "year": one(qdef.field_name(item, "year")),
                "error": errors.get(item["code"], ""),
            }
        )
    return shown


@require_http_methods(["GET", "POST"])
def page(request, pk: int, number: int):
    questionnaire = _questionnaire(request, pk)
    response = _draft(request, questionnaire)
    if response is None:
        return HttpResponseRedirect(_url("start", questionnaire))
    definition = response.version.definition
    if not 1 <= number <= len(definition["pages"]):
        raise Http404("No such page")
    visible = {n: (p, items) for n, p, items in qdef.visible(definition, response.answers)}
    if number not in visible:
        return HttpResponseRedirect(
            _page_url(questionnaire, selectors.page_after(definition, response.answers, number))
        )
    page_def, items = visible[number]
    change = bool(request.GET.get("change"))
    errors: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for item in items:
        if item["kind"] != "information":
            for key, value in qdef.form_values(item, response.answers.get(item["code"])).items():
                values[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if request.method == "POST":
        answers, errors = qdef.clean_page(items, request.POST)
        later = "save_later" in request.POST
        try:
            if later or not errors:
                response = services.response_save_page(
                    response=response, user=request.user, page_number=number, answers=answers
                )
        except ValidationError as exc:
            return _refused(request, questionnaire, " ".join(exc.messages))
        if later:
            return HttpResponseRedirect(_url("saved", questionnaire))
        if not errors:
            answers_now = response.answers
            if change:
                target = selectors.page_unseen(response, after=number)
                return HttpResponseRedirect(_page_url(questionnaire, target, change=True))
            return HttpResponseRedirect(
                _page_url(questionnaire, selectors.page_after(definition, answers_now, number))
            )
        values = dict(request.POST.lists())
    previous = selectors.page_before(definition, response.answers, number)
    questions = [i for i in items if i["kind"] != "information"]
    shown = _question_views(items, values, errors)
    context = {
        "questionnaire": questionnaire,
        "consultation": questionnaire.consultation,
        "page_def": page_def,
        "number": number,
        "total": len(definition["pages"]),
        "as_heading": len(items) == 1 and len(questions) == 1 and not page_def.get("title"),
        "questions": shown,
        "errors": [(q["anchor"], q["error"]) for q in shown if q.get("error")],
        "back_url": _url("check", questionnaire)
        if change
        else (_page_url(questionnaire, previous) if previous else _url("start", questionnaire) + "?change=1"),
        "change": change,
    }
    return render(request, "questionnaires/page.html", context, status=400 if errors else 200)


@require_http_methods(["GET", "POST"])
def check(request, pk: int):
    questionnaire = _questionnaire(request, pk)
    response = _draft(request, questionnaire)
    if response is None:
        return HttpResponseRedirect(_url("start", questionnaire))
    error = ""
    if request.method == "POST":
        try:
            submitted = services.response_submit(response=response, user=request.user)
        except ValidationError as exc:
            if exc.code in ("refused", "submitted"):
                return _refused(request, questionnaire, " ".join(exc.messages))
            error = " ".join(exc.messages)
        else:
            selectors.forget(request.session, submitted)
            done = dict(request.session.get(DONE_KEY, {}))
            done[str(questionnaire.pk)] = {
                "reference": submitted.reference,
                "keyed": submitted.channel != Channel.ONLINE,
            }
            request.session[DONE_KEY] = done
            return HttpResponseRedirect(_url("done", questionnaire))
    definition = response.version.definition
    rows = selectors.answer_rows(definition, response.answers)
    for row in rows:
        row["change_url"] = _page_url(questionnaire, row["page"], change=True)
    last = selectors.page_numbers(definition, response.answers)
    context = {
        "questionnaire": questionnaire,
        "consultation": questionnaire.consultation,
        "response": response,
        "rows": rows,
        "error": error,
        "error_list": [("", error)] if error else [],
        "connection_labels": [Connection(c).label for c in response.connection if c in Connection.values],
        "back_url": _page_url(questionnaire, last[-1]) if last else _url("start", questionnaire),
        "about_url": _url("start", questionnaire) + "?change=1",
    }
    return render(request, "questionnaires/check.html", context, status=400 if error else 200)


def done(request, pk: int):
    questionnaire = _questionnaire(request, pk)
    done = request.session.get(DONE_KEY, {}).get(str(pk))
    if not done:
        return HttpResponseRedirect(_url("start", questionnaire))
    context = {"questionnaire": questionnaire, "consultation": questionnaire.consultation, **done}
    return render(request, "questionnaires/done.html", context)


@require_http_methods(["GET", "POST"])
def saved(request, pk: int):
    questionnaire = _questionnaire(request, pk)
    response = _draft(request, questionnaire)
    if response is None:
        return HttpResponseRedirect(_url("start", questionnaire))
    form = None
    sent_to = ""
    if questionnaire.respondents == Respondents.EMAIL and request.method == "GET":
        services.response_send_resume_link(response=response)
        sent_to = response.email
    elif questionnaire.respondents == Respondents.ANONYMOUS:
        form = ResumeLinkForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            services.response_send_resume_link(response=response, email=form.cleaned_data["email"])
            sent_to = form.cleaned_data["email"]
            form = None
    context = {
        "questionnaire": questionnaire,
        "consultation": questionnaire.consultation,
        "response": response,
        "form": form,
        "sent_to": sent_to,
        "resume_url": services.resume_url(response)
        if questionnaire.respondents == Respondents.ANONYMOUS
        else "",
        "closes_at": questionnaire.consultation.participation_ends_at,
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "questionnaires/saved.html", context, status=status)


def resume(request, token: str):
    try:
        response = services.response_from_resume_token(token)
    except ValidationError as exc:
        status = {"expired": 410, "submitted": 409}.get(exc.code or "", 400)
        return render(
            request, "questionnaires/link_problem.html", {"message": " ".join(exc.messages)}, status=status
        )
    questionnaire = response.questionnaire
    if response.user_id is not None and request.user.pk != response.user_id:
        return redirect_to_login(request.get_full_path())
    if response.email and response.email_confirmed_at is None:
        response = services.response_confirm_email(response=response)
    selectors.remember(request.session, response)
    return HttpResponseRedirect(_page_url(questionnaire, selectors.page_unseen(response)))
