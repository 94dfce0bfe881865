"""Question and results pages. Voting is a plain form POST; JavaScript is never needed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_ratelimit.decorators import ratelimit

from cms import visibility
from voting import selectors
from voting.errors import BallotError
from voting.forms import ballot_form_for, initial_from_ballot
from voting.models import Question
from voting.presentation import present
from voting.services import ballot_cast


def _question_or_404(request: HttpRequest, pk: int) -> Question:
    question = selectors.question_detail(pk=pk)
    if question is None or not visibility.may_see(request, question):
        raise Http404
    return question


def _context(request: HttpRequest, question: Question, form=None) -> dict:
    user = request.user
    can_vote = user.has_perm("voting.vote_question", question)
    voted = selectors.has_voted(question=question, user=user)
    own = selectors.own_ballot(question=question, user=user)
    can_change = can_vote and not (voted and question.final_once_cast)
    if form is None and can_change:
        form = ballot_form_for(question, initial=initial_from_ballot(question, own.data if own else None))
    return {
        "question": question,
        "page": question.consultation,
        "form": form if can_change else None,
        "can_vote": can_vote,
        "has_voted": voted,
        "own_ballot": own,
        "results_visible": selectors.results_visible_to(question=question, user=user),
    }


@ratelimit(key="user_or_ip", rate="30/m", method="POST", block=True)
def question_detail(request: HttpRequest, pk: int) -> HttpResponse:
    question = _question_or_404(request, pk)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        form = ballot_form_for(question, request.POST)
        if form.is_valid():
            try:
                ballot_cast(question=question, voter=request.user, data=form.ballot_data())
            except BallotError as error:
                form.add_ballot_error(error)
            else:
                messages.success(request, _("Your vote has been recorded."))
                return redirect(question.get_absolute_url())
        context = _context(request, question, form=form)
        if context["form"] is None:
            # Closed or no longer eligible: show the reason with the form's error.
            context["refusal"] = form
        return render(request, "voting/question.html", context, status=400)
    return render(request, "voting/question.html", _context(request, question))


def results(request: HttpRequest, pk: int) -> HttpResponse:
    question = _question_or_404(request, pk)
    visible = selectors.results_visible_to(question=question, user=request.user)
    context = {"question": question, "page": question.consultation, "results_visible": visible}
    if visible:
        tally = selectors.tally_for(question=question, max_age=selectors.PAGE_MAX_AGE)
        context.update(tally=tally, view=present(tally))
    return render(request, "voting/results.html", context, status=200 if visible else 403)
