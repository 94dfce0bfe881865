"""Every route of the site and every websocket route, classified for the route matrix
(``test_route_matrix.py``): what the URL points at, and what a POST to it would write.

A route missing here fails the matrix. To classify a new one, add ONE line to ``HTTP`` (or ``SOCKETS``)
keyed by its URL name (``"app:name"``), or by its pattern when it has no name:

    "notifications:settings": Route("none", writes=ACCOUNT),
    "questionnaires:answer": Route("consultation", {"page_id": "consultation"}, writes=PARTICIPATE, post=...),

``target`` is the world object (``tests/security/world.py``) the URL names, or ``"none"`` when it
names none; ``kwargs`` maps each URL argument to a world object (its ``pk``, or a session's
``code``) or to a fixed string; ``writes`` says who may still write when the target is not visible or
closed (see ``WRITES``); ``post`` is the form a POST sends. A route may have several variants (a list):
each is requested on its own. A whole third-party URL conf is exempted by its prefix in ``EXEMPT``,
with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from tests.security.world import RESPONSE_REFERENCE

#: Who may still write when the route's target is not visible (or closed), by state. A POST by anyone
#: else must store nothing.
PARTICIPATE = "participate"  # comment, reply, support, propose, vote, ask for a wider say: nobody
REPORT = "report"  # report, edit own words: nobody, except after close (reports still reach moderators)
OWN = "own"  # remove one's own contribution: its author, while they may see it
MODERATE = "moderate"  # the moderation tools: moderators, whatever the state
STAFF = "staff"  # a proposal's status: council staff, where they may see it
HOST = "host"  # a live session's controls: its host and officers
ENTER = "enter"  # keying in a response that arrived on paper (late ones too): staff, after close
ACCOUNT = "account"  # writes no consultation content (accounts, sessions): only read for leaks
READ = None  # GET only

WRITES: dict[str | None, dict[str, set[str]]] = {
    PARTICIPATE: {},
    REPORT: {"closed": {"resident", "other_resident"}},
    OWN: {"hidden": {"resident"}, "closed": {"resident"}},
    MODERATE: {state: {"moderator"} for state in ("hidden", "draft", "restricted", "deleted", "closed")},
    STAFF: {state: {"councillor", "officer"} for state in ("hidden", "draft", "closed")},
    HOST: {
        state: {"councillor", "officer"} for state in ("hidden", "draft", "restricted", "deleted", "closed")
    },
    ENTER: {"closed": {"councillor", "officer"}},
    ACCOUNT: {},
    READ: {},
}


def comment_form(world: Any) -> dict:
    return {"stance": "for", "body": "MKWRITE a new comment"}


def flag_form(world: Any) -> dict:
    return {"reason": "spam", "note": "MKWRITE"}


def idea_form(world: Any) -> dict:
    return {
        "title": "MKWRITE idea",
        "summary": "MKWRITE",
        "body": "MKWRITE",
        "ward": world.ward.pk,
        "who_benefits": "MKWRITE",
    }


def ballot_form(world: Any) -> dict:
    return {"question": world.question.pk, "choice": world.question.option_list[0].key}


def moderation_form(world: Any) -> dict:
    return {"action": "restore", "reason": "no_breach", "explanation": "MKWRITE", "days": ""}


def status_form(world: Any) -> dict:
    return {"to_status": "accepted", "reason": "MKWRITE", "response": "MKWRITE"}


def appeal_form(world: Any) -> dict:
    return {"statement": "MKWRITE"}


def appeal_review_form(world: Any) -> dict:
    return {"decision": "overturn", "note": "MKWRITE"}


def escalation_form(world: Any) -> dict:
    return {"reason": "MKWRITE"}


def host_form(world: Any) -> dict:
    return {"action": "close"}


def about_you_form(world: Any) -> dict:
    return {
        "name": "MKWRITE",
        "respondent_type": "individual",
        "connection": ["live"],
        "publication_consent": "private",
    }


def answer_form(world: Any) -> dict:
    return {"views": "MKWRITE an answer"}


def resume_link_form(world: Any) -> dict:
    return {"email": "mkwrite@example.com"}


def officer_entry_form(world: Any) -> dict:
    return {
        **about_you_form(world),
        "channel": "paper",
        "received_on": timezone.localdate().isoformat(),
        "late_reason": "MKWRITE posted before the closing date",
    }


def redaction_form(world: Any) -> dict:
    return {"code": "views", "text": "more buses", "reason": "MKWRITE"}


def empty(world: Any) -> dict:
    return {}


@dataclass(frozen=True)
class Route:
    target: str
    kwargs: dict[str, str] = field(default_factory=dict)
    writes: str | None = READ
    post: Callable[[Any], dict] | None = None
    #: A moderator's tool: moderators see every contribution in it, wherever it is (abuse is handled
    #: everywhere, drafts and restricted consultations included); nobody else gets in.
    moderator_tool: bool = False


#: Every HTTP route, by URL name (or pattern when unnamed).
HTTP: dict[str, Route | list[Route]] = {
    # Accounts: no consultation content.
    "accounts:register": Route("none", writes=ACCOUNT),
    "accounts:check_email": Route("none", writes=ACCOUNT),
    "accounts:resend_verification": Route("none", writes=ACCOUNT),
    "accounts:verify_email": Route("none", {"token": "not-a-token"}, writes=ACCOUNT),
    "accounts:login": Route("none", writes=ACCOUNT),
    "accounts:logout": Route("none", writes=ACCOUNT),
    "accounts:profile": Route("none", writes=ACCOUNT),
    "accounts:password_reset": Route("none", writes=ACCOUNT),
    "accounts:password_reset_done": Route("none", writes=ACCOUNT),
    "accounts:password_reset_confirm": Route(
        "none", {"uidb64": "MQ", "token": "set-password"}, writes=ACCOUNT
    ),
    "accounts:password_reset_complete": Route("none", writes=ACCOUNT),
    # Consultations.
    "consultations:escalate": Route(
        "consultation", {"page_id": "consultation"}, writes=PARTICIPATE, post=escalation_form
    ),
    # Proposals and threads.
    "proposals:list": Route("consultation", {"consultation_id": "consultation"}),
    "proposals:new": Route("consultation", {"consultation_id": "consultation"}),
    "proposals:create": Route(
        "consultation",
        {"consultation_id": "consultation", "kind": "idea"},
        writes=PARTICIPATE,
        post=idea_form,
    ),
    "proposals:thread": Route("consultation", {"consultation_id": "consultation"}),
    "proposals:detail": Route("proposal", {"pk": "proposal"}),
    "proposals:support": Route("proposal", {"pk": "proposal"}, writes=PARTICIPATE, post=empty),
    "proposals:status": Route("proposal", {"pk": "proposal"}, writes=STAFF, post=status_form),
    "proposals:comment_create": [
        Route("proposal", {"kind": "proposal", "pk": "proposal"}, writes=PARTICIPATE, post=comment_form),
        Route(
            "consultation",
            {"kind": "consultation", "pk": "consultation"},
            writes=PARTICIPATE,
            post=comment_form,
        ),
    ],
    "proposals:comment_reply": [
        Route("comment", {"pk": "comment"}, writes=PARTICIPATE, post=comment_form),
        Route("thread_comment", {"pk": "thread_comment"}, writes=PARTICIPATE, post=comment_form),
    ],
    "proposals:comment_edit": [
        Route("comment", {"pk": "comment"}, writes=REPORT, post=comment_form),
        Route("thread_comment", {"pk": "thread_comment"}, writes=REPORT, post=comment_form),
    ],
    "proposals:comment_delete": [
        Route("comment", {"pk": "comment"}, writes=OWN, post=empty),
        Route("thread_comment", {"pk": "thread_comment"}, writes=OWN, post=empty),
    ],
    "proposals:comment_history": [
        Route("comment", {"pk": "comment"}),
        Route("thread_comment", {"pk": "thread_comment"}),
    ],
    "proposals:flag": [
        Route("proposal", {"item_type": "proposal", "pk": "proposal"}, writes=REPORT, post=flag_form),
        Route("comment", {"item_type": "comment", "pk": "comment"}, writes=REPORT, post=flag_form),
        Route(
            "thread_comment", {"item_type": "comment", "pk": "thread_comment"}, writes=REPORT, post=flag_form
        ),
    ],
    "proposals:moderation_queue": Route("none", moderator_tool=True),
    "proposals:moderation_log": Route("none", moderator_tool=True),
    "proposals:appeal_list": Route("none", moderator_tool=True),
    "proposals:appeal_review": Route(
        "none", {"pk": "appeal"}, writes=MODERATE, post=appeal_review_form, moderator_tool=True
    ),
    "proposals:moderation_statistics": Route("none"),
    "proposals:moderation_item": [
        Route(
            "proposal",
            {"item_type": "proposal", "pk": "proposal"},
            writes=MODERATE,
            post=moderation_form,
            moderator_tool=True,
        ),
        Route(
            "thread_comment",
            {"item_type": "comment", "pk": "thread_comment"},
            writes=MODERATE,
            post=moderation_form,
            moderator_tool=True,
        ),
    ],
    "proposals:my_notices": Route("none"),
    "proposals:appeal_create": Route("none", {"action_id": "action"}, writes=OWN, post=appeal_form),
    # Voting and live sessions.
    "voting:question": Route("question", {"pk": "question"}, writes=PARTICIPATE, post=ballot_form),
    "voting:results": Route("question", {"pk": "question"}),
    "voting:live_index": Route("none"),
    "voting:live_create": Route("none", writes=ACCOUNT),
    "voting:live_session": Route("session", {"code": "session"}),
    "voting:live_vote": Route("session", {"code": "session"}, writes=PARTICIPATE, post=ballot_form),
    "voting:live_host": Route("session", {"code": "session"}, writes=HOST, post=host_form),
    "voting:live_present": Route("session", {"code": "session"}),
    "voting:live_qr": Route("session", {"code": "session"}),
    # Questionnaires: answered by the public, keyed in and read by staff.
    "questionnaires:start": Route(
        "questionnaire", {"pk": "questionnaire"}, writes=PARTICIPATE, post=about_you_form
    ),
    "questionnaires:page": Route(
        "questionnaire", {"pk": "questionnaire", "number": "1"}, writes=PARTICIPATE, post=answer_form
    ),
    "questionnaires:check": Route("questionnaire", {"pk": "questionnaire"}, writes=PARTICIPATE, post=empty),
    "questionnaires:saved": Route(
        "questionnaire", {"pk": "questionnaire"}, writes=PARTICIPATE, post=resume_link_form
    ),
    "questionnaires:done": Route("questionnaire", {"pk": "questionnaire"}),
    "questionnaires:resume": Route("none", {"token": "not-a-token"}),
    "questionnaires:enter": Route(
        "questionnaire", {"pk": "questionnaire"}, writes=ENTER, post=officer_entry_form
    ),
    "questionnaires:responses": Route("questionnaire", {"pk": "questionnaire"}),
    "questionnaires:results": Route("questionnaire", {"pk": "questionnaire"}),
    "questionnaires:response": Route(
        "questionnaire",
        {"pk": "questionnaire", "reference": RESPONSE_REFERENCE},
        writes=STAFF,
        post=redaction_form,
    ),
    "questionnaires:export_csv": Route("questionnaire", {"pk": "questionnaire"}),
    "questionnaires:codebook_csv": Route("questionnaire", {"pk": "questionnaire"}),
    # Notifications: a person's own mail settings, and the one-click unsubscribe.
    "notifications:settings": Route("none", writes=ACCOUNT),
    "notifications:unsubscribe": Route("none", {"token": "not-a-token"}, writes=ACCOUNT),
    # Site.
    "brand_css": Route("none"),
    "healthz": Route("none"),
    "favicon.ico": Route("none"),
    # Wagtail's page serving: the consultation pages themselves, and its password and sign-in forms.
    "wagtail_serve": [
        Route("consultation", {"page": "consultation"}),
        Route("voting_consultation", {"page": "voting_consultation"}),
        Route("none", {"page": "index"}),  # the consultations listed
        Route("none", {"page": "home"}),  # what the home page features
    ],
    "wagtailcore_authenticate_with_password": Route(
        "consultation", {"page_view_restriction_id": "restriction", "page_id": "consultation"}, writes=ACCOUNT
    ),
    "wagtailcore_login": Route("none", writes=ACCOUNT),
}

#: Third-party URL confs left out of the matrix, with the reason.
EXEMPT = {
    "admin/": "Wagtail's admin: council staff only, behind Wagtail's own permissions (the page editors).",
    "documents/": "Wagtail's documents: no consultation content; Wagtail applies its own restrictions.",
}

#: Every websocket route, by pattern.
SOCKETS: dict[str, Route] = {
    "ws/questions/<id:question_id>/": Route("question", {"question_id": "question"}, writes=PARTICIPATE),
    "ws/live/<code:code>/": Route("session", {"code": "session"}, writes=PARTICIPATE),
    "ws/moderation/": Route("none", writes=READ),
    "": Route("none", writes=READ),  # any other path: refused at the handshake
}
