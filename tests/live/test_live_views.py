"""Live-session pages: join, host controls, attendee votes without JavaScript, presenter, QR code."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from voting import live
from voting.models import Ballot, LiveSession, LiveSessionQuestion, Question
from voting.services import ballot_cast


@pytest.fixture
def session(db, councillor):
    return live.live_session_create(host=councillor, title="Full council <script>x</script>")


def _queue(session, n=1, kind="yes_no"):
    return [
        live.live_session_add_question(
            session=session,
            title=f"Motion {i} Siân",
            kind=kind,
            options=["Red", "Green"] if kind == "single" else [],
        )
        for i in range(n)
    ]


def _open(session, question):
    return live.live_session_open_question(session=session, item=question.live_item)


def test_join_by_code_redirects_to_the_session(client, session):
    response = client.get(reverse("voting:live_index"), {"code": f" {session.code.lower()} "})
    assert response.status_code == 302
    assert response["Location"] == session.get_absolute_url()


@pytest.mark.parametrize("code", ["", "ABC", "ZZZZZZ", "<script>", "A" * 30])
def test_join_with_a_bad_code_explains_and_is_a_400(client, session, code):
    response = client.get(reverse("voting:live_index"), {"code": code})
    assert response.status_code == 400
    assert "govuk-error-summary" in response.content.decode()


ROLES = ["anonymous", "resident", "moderator", "councillor", "other_councillor", "officer"]


def _user(role, session):
    return {
        "anonymous": lambda: None,
        "resident": factories.ResidentFactory,
        "moderator": factories.ModeratorFactory,
        "councillor": lambda: session.host,
        "other_councillor": factories.CouncillorFactory,
        "officer": factories.OfficerFactory,
    }[role]()


@pytest.mark.parametrize(
    ("role", "start", "run"),
    [
        ("anonymous", False, False),
        ("resident", False, False),
        ("moderator", False, False),
        ("councillor", True, True),
        ("other_councillor", True, False),
        ("officer", True, True),
    ],
)
@pytest.mark.parametrize("action", ["start", "add", "open", "close", "end", "view_host"])
def test_access_matrix(client, session, role, start, run, action):
    user = _user(role, session)
    if user is not None:
        client_for(client, user)
    (question,) = _queue(session)
    host_url = reverse("voting:live_host", kwargs={"code": session.code})
    if action == "start":
        response = client.post(reverse("voting:live_create"), {"title": "Planning committee"})
        allowed = start
        created = LiveSession.objects.filter(title="Planning committee").exists()
        assert created == allowed
    elif action == "view_host":
        response = client.get(host_url)
        allowed = run
    else:
        data = {"action": action}
        if action == "add":
            data.update(title="New motion", kind="yes_no")
        if action == "open":
            data["item"] = question.live_item.pk
        response = client.post(host_url, data)
        allowed = run
    if allowed:
        assert response.status_code in (200, 302)
    elif user is None:
        assert response.status_code == 302 and "/accounts/" in response["Location"]
    else:
        assert response.status_code == 403
    if action == "open":
        question.refresh_from_db()
        assert question.is_open == allowed
    if action == "add":
        assert Question.objects.filter(title="New motion").exists() == allowed


def test_host_runs_questions_one_at_a_time(client, session):
    client_for(client, session.host)
    first, second = _queue(session, 2)
    url = reverse("voting:live_host", kwargs={"code": session.code})
    client.post(url, {"action": "open", "item": first.live_item.pk})
    first.refresh_from_db()
    assert first.is_open
    client.post(url, {"action": "open", "item": second.live_item.pk})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_closed and second.is_open
    session.refresh_from_db()
    assert session.current_id == second.live_item.pk
    client.post(url, {"action": "close"})
    second.refresh_from_db()
    assert second.is_closed
    client.post(url, {"action": "end"})
    session.refresh_from_db()
    assert session.status == "ended" and session.ended_at is not None


@pytest.mark.parametrize(
    "data",
    [
        {"action": "add", "title": "", "kind": "yes_no"},
        {"action": "add", "title": "Colour?", "kind": "single", "options": "Only one"},
        {"action": "add", "title": "Colour?", "kind": "single", "options": "Red\nred"},
        {"action": "add", "title": "Colour?", "kind": "ranked"},
        {"action": "add", "title": "x" * 300, "kind": "yes_no"},
        {"action": "open", "item": "999999"},
        {"action": "open", "item": "<script>"},
        {"action": "explode"},
    ],
)
def test_bad_host_input_is_explained_and_changes_nothing(client, session, data):
    client_for(client, session.host)
    before = (Question.objects.count(), LiveSessionQuestion.objects.count())
    response = client.post(reverse("voting:live_host", kwargs={"code": session.code}), data)
    assert response.status_code == 400
    assert "govuk-error-summary" in response.content.decode()
    assert (Question.objects.count(), LiveSessionQuestion.objects.count()) == before


def test_single_choice_question_is_queued_with_its_options(client, session):
    client_for(client, session.host)
    client.post(
        reverse("voting:live_host", kwargs={"code": session.code}),
        {
            "action": "add",
            "title": "Colour of the benches?",
            "kind": "single",
            "options": "Red\n\nGreen\nBlue",
        },
    )
    question = Question.objects.get(title="Colour of the benches?")
    assert [o.label for o in question.option_list] == ["Red", "Green", "Blue"]
    assert not question.is_open


def test_resident_votes_without_javascript_and_can_change_it(client, session, resident):
    (question,) = _queue(session)
    _open(session, question)
    client_for(client, resident)
    url = reverse("voting:live_vote", kwargs={"code": session.code})
    page = client.get(session.get_absolute_url())
    assert b"Send my vote" in page.content
    assert client.post(url, {"question": question.pk, "choice": "yes"}).status_code == 302
    assert client.post(url, {"question": question.pk, "choice": "no"}).status_code == 302
    ballot = Ballot.objects.get(question=question)
    assert ballot.data == {"choice": "no"}
    assert b"Change my vote" in client.get(session.get_absolute_url()).content


@pytest.mark.parametrize("choice", ["", "maybe", "<script>", "1" * 500])
def test_bad_vote_is_a_400_and_stores_nothing(client, session, resident, choice):
    (question,) = _queue(session)
    _open(session, question)
    client_for(client, resident)
    response = client.post(
        reverse("voting:live_vote", kwargs={"code": session.code}),
        {"question": question.pk, "choice": choice},
    )
    assert response.status_code == 400
    assert "govuk-error-summary" in response.content.decode()
    assert not Ballot.objects.exists()


def test_vote_for_a_question_no_longer_on_screen_is_not_counted(client, session, resident):
    first, second = _queue(session, 2)
    _open(session, first)
    _open(session, second)
    client_for(client, resident)
    response = client.post(
        reverse("voting:live_vote", kwargs={"code": session.code}), {"question": first.pk, "choice": "yes"}
    )
    assert response.status_code == 302
    assert not Ballot.objects.exists()


def test_anonymous_vote_is_sent_to_sign_in(client, session):
    (question,) = _queue(session)
    _open(session, question)
    response = client.post(
        reverse("voting:live_vote", kwargs={"code": session.code}), {"question": question.pk, "choice": "yes"}
    )
    assert response.status_code == 302 and "/accounts/" in response["Location"]
    assert not Ballot.objects.exists()


def test_hidden_results_are_not_on_the_attendee_or_presenter_page(client, session, resident):
    question = live.live_session_add_question(
        session=session, title="Secret count", kind="yes_no", options=[], hide_results=True
    )
    _open(session, question)
    for name in ("voting:live_session", "voting:live_present"):
        html = client.get(reverse(name, kwargs={"code": session.code})).content.decode()
        assert "data-live-chart" not in html
        assert "hidden until voting closes" in html
    client_for(client, session.host)
    assert (
        "data-live-chart"
        in client.get(reverse("voting:live_host", kwargs={"code": session.code})).content.decode()
    )


def test_presenter_view_shows_the_question_code_and_qr(client, session):
    (question,) = _queue(session)
    _open(session, question)
    html = client.get(reverse("voting:live_present", kwargs={"code": session.code})).content.decode()
    assert "Motion 0 Siân" in html and session.code in html and "qr.svg" in html
    assert "<script>x</script>" not in html


def test_qr_code_is_an_svg_without_inline_style(client, session):
    response = client.get(reverse("voting:live_qr", kwargs={"code": session.code}))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content and b"style" not in response.content


def test_unknown_session_is_a_404(client, db):
    for name in ("voting:live_session", "voting:live_present", "voting:live_qr"):
        assert client.get(reverse(name, kwargs={"code": "NOPE42"})).status_code == 404


def test_home_page_lists_sessions_live_now(client, home_page, session):
    html = client.get("/").content.decode()
    assert "Live now" in html and session.code in html


@pytest.mark.parametrize("name", ["voting:live_session", "voting:live_present", "voting:live_host"])
def test_live_pages_make_the_same_number_of_queries_however_long_the_queue(
    client, session, resident, django_assert_max_num_queries, name
):
    def measure():
        client_for(client, session.host if name == "voting:live_host" else resident)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(name, kwargs={"code": session.code})).status_code == 200
        return len(ctx.captured_queries)

    questions = _queue(session, 2, kind="single")
    _open(session, questions[0])
    measure()  # warm per-process caches (content types, permissions) so both sizes are measured alike
    small = measure()
    more = _queue(session, 12, kind="single")
    for voter in factories.ResidentFactory.create_batch(5):
        ballot_cast(question=questions[0], voter=voter, data={"choice": questions[0].option_list[0].key})
    large = measure()
    assert large == small, (small, large)
    with django_assert_max_num_queries(small):
        client.get(reverse(name, kwargs={"code": session.code}))
    assert len(more) == 12
