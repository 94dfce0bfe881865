"""Live-session pages: join, attend, vote, host, present, QR code. Every page works without JavaScript
(a refresh shows the current state); ``static/js/live.js`` keeps them current over the websocket."""

from __future__ import annotations

import io
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from cms import visibility
from cms.forms import GovukFormMixin
from voting import live
from voting.errors import BallotError
from voting.models import JOIN_CODE_LENGTH, LiveSession, LiveSessionStatus
from voting.selectors import has_voted, results_visible_to, tally_for
from voting.services import ballot_cast

YES_NO_LABELS = {"yes": gettext_lazy("Yes"), "no": gettext_lazy("No"), "abstain": gettext_lazy("Abstain")}


# Forms ------------------------------------------------------------------------------------------
class JoinForm(GovukFormMixin, forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Session code"),
        help_text=gettext_lazy(
            "The 6 letters and numbers shown on the screen in the room, for example K7PQ2M."
        ),
        max_length=20,
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split()).upper()
        if not code.isalnum() or len(code) != JOIN_CODE_LENGTH:
            raise ValidationError(_("Enter the 6-character code shown on the screen."))
        if not LiveSession.objects.filter(code=code).exists():
            raise ValidationError(_("There is no session with that code. Check the code on the screen."))
        return code


class SessionForm(GovukFormMixin, forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Meeting name"),
        help_text=gettext_lazy("Shown to everyone who joins, for example “Full council, 3 March”."),
        max_length=200,
    )


class LiveQuestionForm(GovukFormMixin, forms.Form):
    title = forms.CharField(label=gettext_lazy("Question"), max_length=200)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of question"),
        choices=[
            ("yes_no", gettext_lazy("Yes, no or abstain")),
            ("single", gettext_lazy("Choose one option")),
        ],
        widget=forms.RadioSelect,
        initial="yes_no",
    )
    options = forms.CharField(
        label=gettext_lazy("Options (choose one only)"),
        help_text=gettext_lazy("One option per line, 2 to 8 options."),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=2000,
    )
    hide_results = forms.BooleanField(
        label=gettext_lazy("Hide the results until I close the question"),
        required=False,
    )


class LiveVoteForm(GovukFormMixin, forms.Form):
    choice = forms.ChoiceField(label=gettext_lazy("Your vote"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, question: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if question.kind == "yes_no":
            self.fields["choice"].choices = list(YES_NO_LABELS.items())
        else:
            self.fields["choice"].choices = [(o.key, o.label) for o in question.option_list]
        self.fields["choice"].label = question.title
        self.fields["choice"].error_messages["required"] = _("Choose an answer before you send your vote.")
        # GovukFormMixin validated once to wire up errors before the choices were known: validate again.
        self._errors = None


class HostActionForm(forms.Form):
    """Carries the error of a host action (open, close, end) to the error summary."""


# Helpers ----------------------------------------------------------------------------------------
def chart_rows(question: Any, tally: dict[str, Any], *, big: bool = False) -> list[dict[str, Any]]:
    """Rows of the live chart, in ballot-paper order: label, count, percent of ballots."""
    counts = {row["key"]: row for row in tally["result"].get("rows", [])}
    if question.kind == "yes_no":
        labels = [(key, str(label)) for key, label in YES_NO_LABELS.items()]
    else:
        labels = [(o.key, o.label) for o in question.option_list]
    pitch, label_y, bar_y, bar_h = (120, 44, 62, 44) if big else (64, 20, 28, 28)
    rows = []
    for index, (key, label) in enumerate(labels):
        row = counts.get(key, {})
        percent = float(row.get("percent") or 0)
        rows.append(
            {
                "key": key,
                "label": label,
                "count": int(row.get("count", 0)),
                "percent": percent,
                "y_label": index * pitch + label_y,
                "y_bar": index * pitch + bar_y,
                "bar_height": bar_h,
                "pitch": pitch,
            }
        )
    return rows


def _session_or_404(request: HttpRequest, code: str) -> LiveSession:
    """The session, its queue holding only the questions this person may see (the visibility gate)."""
    session = live.live_session_detail(code=code)
    if session is None:
        raise Http404(_("There is no live session with that code."))
    session.item_list = [item for item in session.item_list if visibility.may_see(request, item.question)]
    if session.current_item not in session.item_list:
        session.current_item = None
    return session


def _may_run(request: HttpRequest, session: LiveSession) -> None:
    if not request.user.has_perm("voting.run_live_session", session):
        raise PermissionDenied


def _screen_context(
    request: HttpRequest, session: LiveSession, *, big: bool = False, public_screen: bool = False
) -> dict[str, Any]:
    """What the attendee, host and presenter pages show: the question on screen and, if allowed, its
    chart. The presenter's big screen is a public screen: it shows what the public may see."""
    item = session.current_item
    question = item.question if item else None
    context: dict[str, Any] = {"session": session, "question": question, "tally": None, "rows": []}
    if question is not None:
        context["accepting"] = question.is_open and session.status == LiveSessionStatus.LIVE
        if results_visible_to(question=question, user=request.user, public_screen=public_screen):
            tally = tally_for(question=question)
            rows = chart_rows(question, tally, big=big)
            context.update(tally=tally, rows=rows, chart_height=sum(row["pitch"] for row in rows))
    context["join_url"] = request.build_absolute_uri(
        reverse("voting:live_session", kwargs={"code": session.code})
    )
    return context


# Views ------------------------------------------------------------------------------------------
@require_GET
def live_index(request: HttpRequest) -> HttpResponse:
    """Join a session by code; council staff start one here."""
    form = JoinForm(request.GET or None)
    if request.GET and form.is_valid():
        return redirect("voting:live_session", code=form.cleaned_data["code"])
    context = {
        "form": form,
        "sessions": live.live_sessions_now(limit=10),
        "session_form": SessionForm() if request.user.has_perm("voting.host_live_session") else None,
        "hosted": live.live_sessions_hosted_by(user=request.user) if request.user.is_authenticated else [],
    }
    return render(request, "voting/live/index.html", context, status=400 if request.GET else 200)


@require_POST
@login_required
@ratelimit(key="user", rate="30/h", method="POST", block=True)
def live_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("voting.host_live_session"):
        raise PermissionDenied
    form = SessionForm(request.POST)
    if not form.is_valid():
        context = {
            "form": JoinForm(),
            "session_form": form,
            "sessions": live.live_sessions_now(limit=10),
            "hosted": live.live_sessions_hosted_by(user=request.user),
        }
        return render(request, "voting/live/index.html", context, status=400)
    session = live.live_session_create(host=request.user, title=form.cleaned_data["title"])
    messages.success(request, _("Your session is ready. Add the questions you will put to the room."))
    return redirect("voting:live_host", code=session.code)


@never_cache
@require_GET
def live_session(request: HttpRequest, code: str) -> HttpResponse:
    """The attendee's page: the question on screen, the vote form, and the live result."""
    session = _session_or_404(request, code)
    context = _screen_context(request, session)
    question = context["question"]
    if question is not None and context.get("accepting"):
        context["form"] = LiveVoteForm(question=question)
        context["can_vote"] = request.user.has_perm("voting.vote_question", question)
        context["has_voted"] = has_voted(question=question, user=request.user)
    return render(request, "voting/live/session.html", context)


@require_POST
@ratelimit(key="user_or_ip", rate="60/m", method="POST", block=True)
def live_vote(request: HttpRequest, code: str) -> HttpResponse:
    """The no-JavaScript vote: the same service as the websocket vote."""
    session = _session_or_404(request, code)
    context = _screen_context(request, session)
    question = context["question"]
    if question is None or not context.get("accepting") or str(question.pk) != request.POST.get("question"):
        messages.error(request, _("That question is no longer open. Here is the question on screen now."))
        return redirect("voting:live_session", code=session.code)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={session.get_absolute_url()}")
    form = LiveVoteForm(request.POST, question=question)
    if form.is_valid():
        try:
            ballot_cast(question=question, voter=request.user, data={"choice": form.cleaned_data["choice"]})
        except BallotError as exc:
            form.add_error("choice", exc.message)
        else:
            messages.success(
                request, _("Your vote has been counted. You can change it until the question closes.")
            )
            return redirect("voting:live_session", code=session.code)
    context.update(form=form, can_vote=True, has_voted=has_voted(question=question, user=request.user))
    return render(request, "voting/live/session.html", context, status=400)


@never_cache
@login_required
def live_host(request: HttpRequest, code: str) -> HttpResponse:
    """The host's controls: queue questions, open and close them one at a time, end the session."""
    session = _session_or_404(request, code)
    _may_run(request, session)
    form = LiveQuestionForm()
    action_form = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add":
                form = LiveQuestionForm(request.POST)
                if form.is_valid():
                    data = form.cleaned_data
                    live.live_session_add_question(
                        session=session,
                        title=data["title"],
                        kind=data["kind"],
                        options=data["options"].splitlines(),
                        hide_results=data["hide_results"],
                    )
                    messages.success(request, _("Question added to the queue."))
                    return redirect("voting:live_host", code=session.code)
            elif action == "open":
                item = next((i for i in session.item_list if str(i.pk) == request.POST.get("item")), None)
                if item is None:
                    raise ValidationError(_("Choose a question from the queue."))
                live.live_session_open_question(session=session, item=item)
                messages.success(
                    request, _("“%(title)s” is open for votes.") % {"title": item.question.title}
                )
                return redirect("voting:live_host", code=session.code)
            elif action == "close":
                live.live_session_close_question(session=session)
                messages.success(request, _("Voting is closed. The result stays on screen."))
                return redirect("voting:live_host", code=session.code)
            elif action == "end":
                live.live_session_end(session=session)
                messages.success(request, _("The session has ended."))
                return redirect("voting:live_host", code=session.code)
            else:
                raise ValidationError(_("Choose what to do."))
        except ValidationError as exc:
            action_form = HostActionForm(request.POST)
            action_form.is_valid()
            if form.is_bound and hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                action_form.add_error(None, exc.messages)
        session = _session_or_404(request, code)
    context = _screen_context(request, session)
    context.update(form=form, action_form=action_form, host_view=True)
    status = 400 if request.method == "POST" else 200
    return render(request, "voting/live/host.html", context, status=status)


@never_cache
@require_GET
def live_present(request: HttpRequest, code: str) -> HttpResponse:
    """The big screen in the room: the question, the join code and QR code, and the live chart."""
    session = _session_or_404(request, code)
    context = _screen_context(request, session, big=True, public_screen=True)
    return render(request, "voting/live/present.html", context)


@require_GET
def live_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The join link as an SVG QR code (paths only: no inline style)."""
    session = _session_or_404(request, code)
    url = request.build_absolute_uri(reverse("voting:live_session", kwargs={"code": session.code}))
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=3600"
    return response


urlpatterns = [
    path("live/", live_index, name="live_index"),
    path("live/start/", live_create, name="live_create"),
    path("live/<code:code>/", live_session, name="live_session"),
    path("live/<code:code>/vote/", live_vote, name="live_vote"),
    path("live/<code:code>/host/", live_host, name="live_host"),
    path("live/<code:code>/present/", live_present, name="live_present"),
    path("live/<code:code>/qr.svg", live_qr, name="live_qr"),
]
