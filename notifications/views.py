"""Each person's email settings, and the officers' view of background jobs in the Wagtail admin."""

from __future__ import annotations

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_tasks import TaskResultStatus

from notifications import jobs, kinds, selectors, services
from notifications.forms import MailSettingsForm


@login_required
@require_http_methods(["GET", "POST"])
def mail_settings(request: HttpRequest) -> HttpResponse:
    if not rules.has_perm("notifications.change_own_settings", request.user):
        raise PermissionDenied
    form = MailSettingsForm(request.POST or None, initial=selectors.mail_settings_for(request.user))
    if request.method == "POST" and form.is_valid():
        receive = set(form.cleaned_data["receive"])
        muted = [key for key, _label in form.fields["receive"].choices if key not in receive]
        services.preference_update(
            user=request.user, language=form.cleaned_data["language"], muted_kinds=muted
        )
        messages.success(request, _("Your email settings are saved."))
        return redirect("notifications:settings")
    return render(request, "notifications/settings.html", {"form": form}, status=400 if form.errors else 200)


@csrf_exempt  # the signed link is the authority; mail programs POST to it without a form (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One-click unsubscribe, signed in or not. GET asks (link checkers must not unsubscribe anyone);
    POST, from the page's button or a mail program's one-click request, turns the kind of mail off."""
    try:
        _user_id, kind, _key = services.unsubscribe_read(token=token)
        if request.method == "POST":
            services.unsubscribe_with_token(token=token)
    except services.UnsubscribeError as exc:
        status = 409 if exc.code == "used" else 400
        return render(request, "notifications/unsubscribe.html", {"error": exc.message}, status=status)
    context = {"label": kinds.label(kind), "done": request.method == "POST"}
    return render(request, "notifications/unsubscribe.html", context)


def _require_jobs(request: HttpRequest, perm: str = "notifications.view_jobs") -> None:
    if not rules.has_perm(perm, request.user):
        raise PermissionDenied


def job_index(request: HttpRequest) -> HttpResponse:
    _require_jobs(request)
    failed = str(TaskResultStatus.FAILED)
    status = request.GET.get("status") or failed
    if status not in selectors.JOB_STATUSES:
        status = failed
    counts = selectors.job_counts()
    tabs = [
        {"status": s, "label": TaskResultStatus(s).label, "count": counts[s], "current": s == status}
        for s in selectors.JOB_STATUSES
    ]
    jobs_page = list(selectors.job_list(status=status)[:100])
    return render(
        request,
        "notifications/admin/jobs.html",
        {"tabs": tabs, "jobs": jobs_page, "status": status, "failed": status == failed},
    )


@require_POST
def job_retry(request: HttpRequest, result_id: str) -> HttpResponse:
    _require_jobs(request, "notifications.retry_job")
    try:
        jobs.job_retry(result_id=result_id)
    except jobs.JobError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The job is queued again."))
    return redirect("notifications_jobs")
