"""Who may do what with questions and ballots.

``voting.vote_question`` (object: a ``Question``): the question is open, and either its consultation
grants ``consultations.vote`` (voting phase running, eligible on the track and ward) or, for a question
that belongs to no consultation (a live session's), the person is an active resident or a panel member
taking part in council business (council staff may vote too in a meeting).
``voting.view_results`` (object: a ``Question``): live results for everyone; hidden results until
close, except for councillors and officers.
``voting.manage_question``: councillors and officers create, edit and close questions in the admin;
the model permissions Wagtail asks for (``voting.add_<kind>question`` ...) come from the same rule.
"""

from __future__ import annotations

import rules

from accounts.rules import can_participate, is_active_resident, is_council_staff, is_officer
from cms import visibility
from cms.visibility import is_open_to, is_seen_by
from voting.models import Question

# The gate's view of a question: it belongs to its consultation, and takes votes while open.
visibility.register(Question, parent=lambda question: question.consultation, accepting=lambda q: q.is_open)


@rules.predicate
def question_is_open(user, question) -> bool:
    return question is not None and question.is_open


@rules.predicate
def may_vote_in_consultation(user, question) -> bool:
    if question is None:
        return False
    if question.consultation_id is None:
        return bool(can_participate(user) and (is_active_resident(user) or is_council_staff(user)))
    return user.has_perm("consultations.vote", question.consultation)


@rules.predicate
def results_are_live(user, question) -> bool:
    from voting.models import ResultsVisibility

    return question is not None and question.results_visibility == ResultsVisibility.LIVE


@rules.predicate
def question_is_closed(user, question) -> bool:
    return question is not None and question.is_closed


can_vote = question_is_open & is_open_to & may_vote_in_consultation

rules.add_perm("voting.vote_question", can_vote)
#: Who may see a question's numbers: anyone who may see the question, once they are public.
results_public = is_seen_by & (results_are_live | question_is_closed)
rules.add_perm("voting.view_results", results_public | (is_seen_by & is_council_staff))
#: A screen in a room (the presenter view) is public whoever opened it: only what the public may see.
rules.add_rule("voting.show_results_publicly", results_public)
rules.add_perm("voting.manage_question", is_council_staff)

# The model permissions the Wagtail admin checks for each kind of question.
_KINDS = [
    "question",
    "yesnoquestion",
    "singlechoicequestion",
    "approvalquestion",
    "rankedquestion",
    "scorequestion",
    "budgetquestion",
    "option",
]
for _kind in _KINDS:
    for _verb in ("add", "change", "delete", "view"):
        rules.add_perm(f"voting.{_verb}_{_kind}", is_council_staff)


# Live sessions: a councillor (or officer) hosts; only the host or an officer runs a session.
@rules.predicate
def is_session_host(user, session) -> bool:
    return bool(session is not None and user.is_authenticated and session.host_id == user.pk)


rules.add_perm("voting.host_live_session", is_council_staff)
rules.add_perm("voting.run_live_session", is_council_staff & (is_session_host | is_officer))
