"""One council's content in one state, with a person in every role: what the route matrix and the
visibility-gate tests look at.

Everything that belongs to the consultations carries a marker (``MK...``) in its text, so a test can
tell whether any of it reached a response body or a socket frame. ``build_world(state)`` puts the
content in one of ``STATES``; ``World.secrets`` are the markers of what is then not visible, and
``World.seers`` the roles that may still see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.utils import timezone
from wagtail.models import BaseViewRestriction, PageViewRestriction, Site

from cms.models import HomePage
from cms.sanitiser import sanitise_html
from consultations.models import ConsultationPage
from consultations.phases import PhaseKind
from proposals import services
from proposals.models import ActionReason, CommentRevision, FlagReason
from questionnaires import services as questionnaire_services
from questionnaires.models import Consent, Respondents, RespondentType, Response
from questionnaires.models import Status as ResponseStatus
from tests import factories
from tests.conftest import ensure_wagtail_tree
from tests.consultations.factories import make_consultation, make_index
from tests.proposals.factories import CommentFactory, IdeaProposalFactory
from tests.questionnaires.factories import make_questionnaire, page
from tests.questionnaires.factories import question as questionnaire_question
from tests.voting.factories import SingleChoiceQuestionFactory
from voting.models import LiveSession, LiveSessionQuestion, ResultsVisibility

ROLES = ("visitor", "resident", "other_resident", "moderator", "councillor", "officer")
STATES = ("visible", "hidden", "draft", "restricted", "deleted", "closed")

#: The markers of each object (its title, body, options, earlier versions).
MARKS = {
    "consultation": ("MKPAGEONE",),
    "voting_consultation": ("MKPAGETWO",),
    "proposal": ("MKPROPOSALTITLE", "MKPROPOSALBODY"),
    "comment": ("MKCOMMENTONE", "MKREVISIONONE"),
    "thread_comment": ("MKCOMMENTTWO",),
    "question": ("MKQUESTIONTITLE", "MKOPTIONLABEL"),
    # The consultation's questionnaire: its question text, and an answer someone sent.
    "questionnaire": ("MKQUESTIONNAIRETEXT", "MKANSWER"),
}

#: The reference of the response sent to the world's questionnaire (the staff pages name it).
RESPONSE_REFERENCE = "GATE-0001"

#: In each state, the objects that are not visible (nobody takes part on them), and who may still see
#: them. Questions and consultation pages are not moderated: hiding or removing a contribution leaves
#: them as they were.
BLOCKED = {
    "visible": (),
    "hidden": ("proposal", "comment", "thread_comment"),
    "draft": (*MARKS, "session"),
    "restricted": (*MARKS, "session"),
    "deleted": ("comment", "thread_comment"),
    "closed": (),
}
SEERS = {
    "visible": set(ROLES),
    "hidden": {"resident", "moderator", "councillor", "officer"},  # the author, moderators, staff
    "draft": {"councillor", "officer"},  # council staff preview a draft
    "restricted": set(),  # a page password nobody here has given, and a group nobody here is in
    "deleted": set(),  # the words are gone
    "closed": set(ROLES),
}
#: Closed: everything is visible, and nobody takes part any more.
CLOSED_FOR_PARTICIPATION = {"closed": (*MARKS, "session")}


@dataclass
class World:
    state: str
    users: dict[str, Any]
    consultation: ConsultationPage
    voting_consultation: ConsultationPage
    proposal: Any
    comment: Any
    thread_comment: Any
    question: Any
    questionnaire: Any
    response: Any
    session: LiveSession
    action: Any
    appeal: Any
    ward: Any
    home: Any
    index: Any
    objects: dict[str, Any] = field(default_factory=dict)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(mark for name in BLOCKED[self.state] for mark in MARKS.get(name, ()))

    @property
    def seers(self) -> set[str]:
        return SEERS[self.state]

    def blocked(self, target: str) -> bool:
        """Whether nobody may take part on ``target`` now (not visible, or closed)."""
        return target in BLOCKED[self.state] or target in CLOSED_FOR_PARTICIPATION.get(self.state, ())


def build_world(state: str) -> World:
    assert state in STATES, state
    home = _home()
    ward = factories.WardFactory(prefixes=["GW1"])
    users: dict[str, Any] = {
        "visitor": None,
        "resident": factories.ResidentFactory(ward=ward),
        "other_resident": factories.ResidentFactory(ward=ward),
        "moderator": factories.ModeratorFactory(),
        "councillor": factories.CouncillorFactory(),
        "officer": factories.OfficerFactory(),
    }
    author = users["resident"]
    index = make_index(home, slug="gate-consultations")
    closed = state == "closed"
    start = timezone.now() - timedelta(days=30 if closed else 1)
    consultation = make_consultation(
        index, start=start, kinds=(PhaseKind.PROPOSALS, PhaseKind.OUTCOME), wards=[ward], title="MKPAGEONE"
    )
    voting_consultation = make_consultation(
        index, start=start, kinds=(PhaseKind.VOTING, PhaseKind.OUTCOME), wards=[ward], title="MKPAGETWO"
    )
    proposal = IdeaProposalFactory(
        consultation=consultation,
        author=author,
        title="MKPROPOSALTITLE",
        summary="MKPROPOSALTITLE summary",
        body=sanitise_html("<p>MKPROPOSALBODY</p>"),
        who_benefits="MKPROPOSALBODY",
    )
    comment = CommentFactory(proposal=proposal, author=author, body=sanitise_html("<p>MKCOMMENTONE</p>"))
    CommentRevision.objects.create(
        comment=comment, body=sanitise_html("<p>MKREVISIONONE</p>"), written_at=timezone.now()
    )
    thread_comment = CommentFactory(
        consultation=consultation, author=author, body=sanitise_html("<p>MKCOMMENTTWO</p>")
    )
    question = SingleChoiceQuestionFactory(
        consultation=voting_consultation,
        title="MKQUESTIONTITLE",
        description="About the question",
        results_visibility=ResultsVisibility.LIVE,
        options=["MKOPTIONLABEL one", "MKOPTIONLABEL two"],
    )
    questionnaire, response = _questionnaire(consultation, author)
    session = LiveSession.objects.create(title="Full council", host=users["councillor"])
    session.current = LiveSessionQuestion.objects.create(session=session, question=question, position=1)
    session.save(update_fields=["current"])
    services.flag_create(reporter=users["other_resident"], item=proposal, reason=FlagReason.SPAM)
    services.flag_create(reporter=users["other_resident"], item=thread_comment, reason=FlagReason.SPAM)
    action = services.user_warn(
        user=author,
        by=users["moderator"],
        reason=ActionReason.OFF_TOPIC,
        explanation="Stay on topic.",
        item=None,
    )
    appeal = services.appeal_submit(action=action, by=author, statement="I was on topic.")
    world = World(
        state=state,
        users=users,
        consultation=consultation,
        voting_consultation=voting_consultation,
        proposal=proposal,
        comment=comment,
        thread_comment=thread_comment,
        question=question,
        questionnaire=questionnaire,
        response=response,
        session=session,
        action=action,
        appeal=appeal,
        ward=ward,
        home=home,
        index=index,
    )
    _apply(world, state)
    return world


def _questionnaire(consultation, author):
    """Anyone may answer it (no email to confirm), so a POST that is let through stores a response."""
    questionnaire = make_questionnaire(
        consultation,
        respondents=Respondents.ANONYMOUS,
        title="Town centre questionnaire",
        pages=[
            page(
                questionnaire_question(
                    "long_text", "views", "MKQUESTIONNAIRETEXT what do you think?", max_length=500
                ),
                title="Your views",
            )
        ],
    )
    response = Response.objects.create(
        questionnaire=questionnaire,
        version=questionnaire_services.version_current(questionnaire=questionnaire),
        status=ResponseStatus.SUBMITTED,
        user=author,
        respondent_type=RespondentType.INDIVIDUAL,
        connection=["live"],
        publication_consent=Consent.PRIVATE,
        answers={"views": "MKANSWER more buses"},
        pages_saved=[1],
        reference=RESPONSE_REFERENCE,
        submitted_at=timezone.now(),
    )
    return questionnaire, response


def _home():
    root = ensure_wagtail_tree()
    home = HomePage.objects.first()
    if home is None:
        home = HomePage(title="Home", slug="home-gate", intro="<p>Welcome</p>")
        root.add_child(instance=home)
        home.save_revision().publish()
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home, "site_name": "Townhall"},
    )
    return home


def _apply(world: World, state: str) -> None:
    moderator = world.users["moderator"]
    pages = [world.consultation, world.voting_consultation]
    if state == "hidden":
        for item in (world.proposal, world.thread_comment):
            services.item_hide(item=item, by=moderator, reason=ActionReason.ABUSE, explanation="Abusive.")
    elif state == "draft":
        for page in pages:
            page.unpublish()
    elif state == "restricted":
        PageViewRestriction.objects.create(
            page=world.consultation, restriction_type=BaseViewRestriction.PASSWORD, password="gate-secret"
        )
        restriction = PageViewRestriction.objects.create(
            page=world.voting_consultation, restriction_type=BaseViewRestriction.GROUPS
        )
        restriction.groups.add(Group.objects.create(name="Planning committee"))
    elif state == "deleted":
        for item in (world.comment, world.thread_comment):
            services.comment_delete(comment=item, by=world.users["resident"])
    elif state == "closed":
        world.question.closed_at = timezone.now() - timedelta(minutes=1)
        world.question.save(update_fields=["closed_at"])
    for obj in (*pages, world.proposal, world.comment, world.thread_comment, world.question):
        obj.refresh_from_db()
    world.questionnaire.refresh_from_db()
    world.questionnaire.consultation = world.consultation
