"""Pages and forms: bad input gets a clear message and changes nothing; hostile text never becomes markup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from consultations.phases import PhaseKind
from proposals import services
from proposals.models import (
    Appeal,
    Comment,
    CommentState,
    Flag,
    ModerationAction,
    Proposal,
    Support,
    Visibility,
)
from tests import factories
from tests.factories import HOSTILE
from tests.proposals.factories import (
    BudgetProposalFactory,
    CommentFactory,
    IdeaProposalFactory,
    PolicyProposalFactory,
)


def text(response) -> str:
    return response.content.decode()


def assert_no_live_markup(html: str) -> None:
    assert '<script>alert("x")</script>' not in html
    assert "<script>alert" not in html


# --- proposals -------------------------------------------------------------------------------------------


def test_list_sorts_and_filters_with_plain_get_forms(client, consultation, ward):
    popular = IdeaProposalFactory(consultation=consultation, title="Benches", support_count=9)
    new = BudgetProposalFactory(consultation=consultation, title="Bike racks", ward=ward)
    talked = PolicyProposalFactory(consultation=consultation, title="Lighting", comment_count=20)
    contested = IdeaProposalFactory(consultation=consultation, title="Trees", for_count=5, against_count=5)
    IdeaProposalFactory(
        consultation=consultation, title="Hidden", visibility=Visibility.HIDDEN, support_count=99
    )
    url = f"/proposals/{consultation.pk}/"

    def titles(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        body = text(response)
        order = [p for p in ("Benches", "Bike racks", "Lighting", "Trees") if f">{p}<" in body]
        return sorted(order, key=lambda t: body.index(f">{t}<"))

    assert titles(sort="supported")[0] == "Benches"
    assert titles(sort="newest")[0] == "Trees"
    assert titles(sort="discussed")[0] == "Lighting"
    assert titles(sort="contested")[0] == "Trees"
    assert titles(kind="budget") == ["Bike racks"]
    assert titles(kind="policy") == ["Lighting"]
    assert titles(ward=ward.pk) == ["Bike racks"]
    assert titles(status="accepted") == []
    # Nonsense parameters fall back to the defaults instead of failing.
    assert client.get(url, {"sort": "<script>", "ward": "abc", "kind": "x", "page": "999"}).status_code == 200
    assert ">Hidden<" not in text(client.get(url))
    del popular, new, talked, contested


def test_list_pages_link_to_their_neighbours_and_keep_the_filters(client, consultation):
    IdeaProposalFactory.create_batch(101, consultation=consultation)  # six pages of 20
    url = f"/proposals/{consultation.pk}/"
    body = text(client.get(url, {"kind": "idea", "page": 3}))
    shown = [n for n in range(1, 7) if f'aria-label="Page {n}"' in body]
    assert shown == [1, 2, 3, 4, 5, 6]  # few enough pages to show them all
    assert "kind=idea&amp;page=2" in body and 'rel="prev"' in body and 'rel="next"' in body
    assert 'aria-label="Page 3" aria-current="page"' in body


def test_list_of_a_missing_consultation_is_404(client, db):
    assert client.get("/proposals/999999/").status_code == 404


def test_resident_submits_a_budget_proposal_through_the_form(client, consultation, resident):
    client.force_login(resident)
    response = client.get(f"/proposals/{consultation.pk}/new/", {"kind": "budget"})
    assert response.status_code == 302 and response.url.endswith("/new/budget/")
    response = client.post(
        f"/proposals/{consultation.pk}/new/budget/",
        {
            "title": HOSTILE,
            "summary": HOSTILE,
            "body": f"{HOSTILE}<a href='javascript:alert(1)'>x</a>",
            "estimated_cost": "1250.50",
            "location": HOSTILE,
        },
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert proposal.estimated_cost_pence == 125_050 and proposal.author == resident
    page = text(client.get(response.url))
    assert_no_live_markup(page)
    assert "javascript:" not in page
    assert "&lt;script&gt;" in page  # the title, escaped as text


@pytest.mark.parametrize(
    ("typed", "pence"), [("12500", 1_250_000), ("£12,500.50", 1_250_050), (" 1 250 ", 125_000)]
)
def test_costs_are_read_the_way_people_write_them(client, consultation, resident, typed, pence):
    client.force_login(resident)
    response = client.post(
        f"/proposals/{consultation.pk}/new/budget/",
        {"title": "T", "summary": "S", "estimated_cost": typed, "location": "L"},
    )
    assert response.status_code == 302
    assert Proposal.objects.get().estimated_cost_pence == pence


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "summary": "S", "estimated_cost": "10", "location": "L"}, "Enter a title"),
        (
            {"title": "x" * 121, "summary": "S", "estimated_cost": "10", "location": "L"},
            "120 characters or fewer",
        ),
        (
            {"title": "T", "summary": "x" * 301, "estimated_cost": "10", "location": "L"},
            "300 characters or fewer",
        ),
        ({"title": "T", "summary": "S", "estimated_cost": "ten", "location": "L"}, "number of pounds"),
        ({"title": "T", "summary": "S", "estimated_cost": "0", "location": "L"}, "at least £1"),
        ({"title": "T", "summary": "S", "estimated_cost": "10", "location": ""}, "Enter where"),
        (
            {"title": "T", "summary": "S", "estimated_cost": "10", "location": "L", "body": "x" * 10_001},
            "10000 characters or fewer",
        ),
        (
            {"title": "T", "summary": "S", "estimated_cost": "10", "location": "L", "ward": "999999"},
            "Choose a ward",
        ),
    ],
)
def test_bad_proposal_input_gets_a_clear_message_and_stores_nothing(
    client, consultation, resident, data, message
):
    client.force_login(resident)
    response = client.post(f"/proposals/{consultation.pk}/new/budget/", data)
    assert response.status_code == 400
    assert message in text(response)
    assert "govuk-error-summary" in text(response)
    assert not Proposal.objects.exists()


def test_unknown_kind_is_404(client, consultation, resident):
    client.force_login(resident)
    assert client.get(f"/proposals/{consultation.pk}/new/spaceship/").status_code == 404
    response = client.get(f"/proposals/{consultation.pk}/new/", {"kind": "spaceship"})
    assert response.status_code == 400


def test_proposal_outside_the_phase_is_refused_with_a_message(client, make_in_phase, resident):
    consultation = make_in_phase(PhaseKind.DELIBERATION)
    client.force_login(resident)
    assert client.get(f"/proposals/{consultation.pk}/new/").status_code == 403
    response = client.post(f"/proposals/{consultation.pk}/new/idea/", {"title": "T", "summary": "S"})
    assert response.status_code == 400
    assert "proposals phase" in text(response)
    assert not Proposal.objects.exists()


def test_visitor_is_sent_to_sign_in(client, consultation):
    response = client.post(f"/proposals/{consultation.pk}/new/idea/", {"title": "T", "summary": "S"})
    assert response.status_code == 302 and "/accounts/sign-in/" in response.url
    assert not Proposal.objects.exists()


def test_second_support_gets_a_clear_message(client, proposal, resident):
    client.force_login(resident)
    client.post(f"/proposals/p/{proposal.pk}/support/")
    response = client.post(f"/proposals/p/{proposal.pk}/support/", follow=True)
    assert "You already support this proposal" in text(response)
    assert Support.objects.count() == 1
    assert client.get(f"/proposals/p/{proposal.pk}/support/").status_code == 405


def test_support_outside_the_phase_is_refused(client, make_in_phase, resident):
    proposal = IdeaProposalFactory(consultation=make_in_phase(PhaseKind.VOTING))
    client.force_login(resident)
    response = client.post(f"/proposals/p/{proposal.pk}/support/", follow=True)
    assert "cannot be supported now" in text(response)
    assert not Support.objects.exists()


def test_status_change_shows_the_response_and_emails_the_proposer(
    client, proposal, councillor, django_capture_on_commit_callbacks, run_jobs
):
    client.force_login(councillor)
    assert (
        client.post(
            f"/proposals/p/{proposal.pk}/status/", {"to_status": "accepted", "reason": ""}
        ).status_code
        == 400
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/proposals/p/{proposal.pk}/status/",
            {
                "to_status": "accepted",
                "reason": "Good value.",
                "response": "We will fund it <b>this year</b>.",
            },
        )
    assert response.status_code == 302
    page = text(client.get(f"/proposals/p/{proposal.pk}/"))
    assert "Good value." in page and "We will fund it this year." in page
    run_jobs()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [proposal.author.email]


def test_residents_cannot_change_status(client, proposal, resident):
    client.force_login(resident)
    assert client.get(f"/proposals/p/{proposal.pk}/status/").status_code == 403


# --- threads ---------------------------------------------------------------------------------------------


def test_comment_reply_quote_edit_remove_through_pages(client, proposal, resident, other_resident):
    client.force_login(resident)
    response = client.post(f"/proposals/comment/proposal/{proposal.pk}/", {"stance": "for", "body": HOSTILE})
    assert response.status_code == 302
    first = Comment.objects.get()
    client.force_login(other_resident)
    assert (
        client.post(f"/proposals/comments/{first.pk}/reply/", {"stance": "against", "body": "No"}).status_code
        == 302
    )
    assert (
        client.post(
            f"/proposals/comment/proposal/{proposal.pk}/",
            {"stance": "question", "body": "Why?", "quote": first.pk},
        ).status_code
        == 302
    )
    client.force_login(resident)
    assert (
        client.post(f"/proposals/comments/{first.pk}/edit/", {"stance": "for", "body": "Edited"}).status_code
        == 302
    )
    history = text(client.get(f"/proposals/comments/{first.pk}/history/"))
    assert "Edited" in history and "Earlier version" in history
    assert client.post(f"/proposals/comments/{first.pk}/remove/").status_code == 302
    page = text(client.get(f"/proposals/p/{proposal.pk}/"))
    assert "removed by its author" in page
    assert "No" in page and "Why?" in page
    assert "2 comments" in page and "from 1 person" in page
    sides = text(client.get(f"/proposals/p/{proposal.pk}/?view=sides"))
    assert "Against (1)" in sides and "For (0)" in sides
    assert_no_live_markup(page)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stance": "for", "body": ""}, "Write your comment"),
        ({"stance": "for", "body": "x" * 5001}, "5000 characters or fewer"),
        ({"stance": "maybe", "body": "Hi"}, "Choose your view"),
        ({"stance": "for", "body": "<script></script>"}, "Write something here"),
    ],
)
def test_bad_comment_input(client, proposal, resident, data, message):
    client.force_login(resident)
    response = client.post(f"/proposals/comment/proposal/{proposal.pk}/", data)
    assert response.status_code == 400 and message in text(response)
    assert not Comment.objects.exists()


def test_comment_on_a_hidden_proposal_is_refused(client, consultation, resident):
    hidden = IdeaProposalFactory(consultation=consultation, visibility=Visibility.HIDDEN)
    client.force_login(resident)
    # Someone who may not see it finds nothing there (the visibility gate).
    response = client.post(f"/proposals/comment/proposal/{hidden.pk}/", {"stance": "for", "body": "Hi"})
    assert response.status_code == 404
    assert not Comment.objects.exists()
    assert client.get(f"/proposals/p/{hidden.pk}/").status_code == 404
    # Its author still sees it, and is told why it cannot be discussed.
    client.force_login(hidden.author)
    response = client.post(f"/proposals/comment/proposal/{hidden.pk}/", {"stance": "for", "body": "Hi"})
    assert response.status_code == 400 and "hidden by a moderator" in text(response)
    assert not Comment.objects.exists()


def test_suspended_person_posting_is_told(client, proposal, ward):
    suspended = factories.ResidentFactory(ward=ward, suspended_until=timezone.now() + timedelta(days=1))
    client.force_login(suspended)
    response = client.post(f"/proposals/comment/proposal/{proposal.pk}/", {"stance": "for", "body": "Hi"})
    assert response.status_code == 400 and "suspended until" in text(response)
    assert not Comment.objects.exists()


def test_replying_deeper_than_allowed_is_refused(client, proposal, resident):
    parent = None
    for _ in range(4):
        parent = CommentFactory(proposal=proposal, parent=parent, depth=parent.depth + 1 if parent else 0)
    client.force_login(resident)
    response = client.post(f"/proposals/comments/{parent.pk}/reply/", {"stance": "for", "body": "Deeper"})
    assert response.status_code == 400 and "4 levels deep" in text(response)
    assert Comment.objects.count() == 4
    assert "4 levels deep" in text(client.get(f"/proposals/comments/{parent.pk}/reply/"))


def test_only_the_author_can_edit(client, comment, other_resident):
    client.force_login(other_resident)
    assert (
        client.post(f"/proposals/comments/{comment.pk}/edit/", {"stance": "for", "body": "x"}).status_code
        == 403
    )
    assert client.post(f"/proposals/comments/{comment.pk}/remove/").status_code == 403


def test_consultation_thread_page(client, consultation, resident):
    client.force_login(resident)
    response = client.post(
        f"/proposals/comment/consultation/{consultation.pk}/", {"stance": "neutral", "body": "Hi"}
    )
    assert response.status_code == 302
    assert "Hi" in text(client.get(f"/proposals/{consultation.pk}/thread/"))
    assert client.post("/proposals/comment/planet/1/", {"stance": "neutral", "body": "Hi"}).status_code == 404


def test_forms_link_the_house_rules(client, proposal, resident, house_rules):
    client.force_login(resident)
    for url in (
        f"/proposals/p/{proposal.pk}/",
        f"/proposals/{proposal.consultation_id}/new/idea/",
        f"/proposals/report/proposal/{proposal.pk}/",
    ):
        assert house_rules.url in text(client.get(url)), url


# --- flags, moderation, appeals --------------------------------------------------------------------------


def test_flag_own_comment_is_refused(client, comment):
    client.force_login(comment.author)
    response = client.post(f"/proposals/report/comment/{comment.pk}/", {"reason": "spam"})
    assert response.status_code == 400 and "cannot report your own" in text(response)
    assert not Flag.objects.exists()


def test_flag_needs_a_reason_and_only_once(client, comment, other_resident):
    client.force_login(other_resident)
    assert client.post(f"/proposals/report/comment/{comment.pk}/", {"reason": ""}).status_code == 400
    assert (
        client.post(
            f"/proposals/report/comment/{comment.pk}/", {"reason": "spam", "note": "x" * 501}
        ).status_code
        == 400
    )
    assert client.post(f"/proposals/report/comment/{comment.pk}/", {"reason": "spam"}).status_code == 302
    response = client.post(f"/proposals/report/comment/{comment.pk}/", {"reason": "abuse"})
    assert response.status_code == 400 and "already reported" in text(response)
    assert Flag.objects.count() == 1
    assert client.get("/proposals/report/widget/1/").status_code == 404


def test_moderator_hides_with_reason_and_author_sees_it(
    client, comment, moderator, other_resident, django_capture_on_commit_callbacks, run_jobs
):
    services.flag_create(reporter=other_resident, item=comment, reason="abuse")
    client.force_login(moderator)
    queue = text(client.get("/proposals/moderation/"))
    assert f"/proposals/moderation/comment/{comment.pk}/" in queue
    assert (
        client.post(
            f"/proposals/moderation/comment/{comment.pk}/", {"action": "hide", "reason": "abuse"}
        ).status_code
        == 400
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/proposals/moderation/comment/{comment.pk}/",
            {
                "action": "hide",
                "reason": "abuse",
                "explanation": "Name-calling breaks rule 1.",
            },
        )
    assert response.status_code == 302
    run_jobs()
    # The report went to the moderator; the decision goes to the author.
    assert [m.to for m in mail.outbox] == [[moderator.email], [comment.author.email]]
    assert "Name-calling breaks rule 1." in mail.outbox[1].body
    client.force_login(comment.author)
    page = text(client.get(f"/proposals/p/{comment.proposal_id}/"))
    assert "Name-calling breaks rule 1." in page and "Appeal this decision" in page
    client.force_login(other_resident)
    page = text(client.get(f"/proposals/p/{comment.proposal_id}/"))
    assert "hidden by a moderator" in page and "Name-calling" not in page
    action = ModerationAction.objects.get()
    client.force_login(comment.author)
    assert client.post(f"/proposals/notices/{action.pk}/appeal/", {"statement": ""}).status_code == 400
    assert (
        client.post(f"/proposals/notices/{action.pk}/appeal/", {"statement": "It was a joke."}).status_code
        == 302
    )
    response = client.post(f"/proposals/notices/{action.pk}/appeal/", {"statement": "Again"})
    assert response.status_code == 400 and "already appealed" in text(response)
    assert Appeal.objects.count() == 1
    client.force_login(moderator)
    appeal = Appeal.objects.get()
    assert (
        client.post(
            f"/proposals/moderation/appeals/{appeal.pk}/", {"decision": "overturn", "note": "Fair."}
        ).status_code
        == 302
    )
    assert Comment.objects.get(pk=comment.pk).state == CommentState.VISIBLE


def test_suspend_from_the_queue_needs_days(client, comment, moderator):
    client.force_login(moderator)
    data = {"action": "suspend", "reason": "abuse", "explanation": "Threats."}
    response = client.post(f"/proposals/moderation/comment/{comment.pk}/", data)
    assert response.status_code == 400 and "how many days" in text(response)
    assert (
        client.post(f"/proposals/moderation/comment/{comment.pk}/", {**data, "days": "3"}).status_code == 302
    )
    comment.author.refresh_from_db()
    assert comment.author.is_suspended


@pytest.mark.parametrize(
    "url", ["/proposals/moderation/", "/proposals/moderation/log/", "/proposals/moderation/appeals/"]
)
def test_moderation_pages_are_for_moderators(client, resident, moderator, url):
    client.force_login(resident)
    assert client.get(url).status_code == 403
    client.force_login(moderator)
    assert client.get(url).status_code == 200


def test_someone_elses_appeal_page_is_forbidden(client, comment, moderator, other_resident):
    action = services.item_hide(item=comment, by=moderator, reason="spam", explanation="Advert.")
    client.force_login(other_resident)
    assert client.post(f"/proposals/notices/{action.pk}/appeal/", {"statement": "x"}).status_code == 403
    assert not Appeal.objects.exists()


def test_public_statistics_by_month_and_reason(client, comment, moderator, other_resident):
    services.flag_create(reporter=other_resident, item=comment, reason="personal_data")
    services.item_hide(item=comment, by=moderator, reason="personal_data", explanation="Phone number.")
    page = text(client.get("/proposals/moderation/statistics/"))
    assert timezone.now().strftime("%B %Y") in page
    assert "Shares personal details" in page


# --- rate limits -----------------------------------------------------------------------------------------


def test_comment_flood_is_refused_with_429_and_nothing_stored(client, proposal, resident, settings):
    from proposals import views

    client.force_login(resident)
    limit = int(views.RATES["comment"].split("/")[0])
    for i in range(limit):
        assert (
            client.post(
                f"/proposals/comment/proposal/{proposal.pk}/", {"stance": "for", "body": f"c{i}"}
            ).status_code
            == 302
        )
    response = client.post(
        f"/proposals/comment/proposal/{proposal.pk}/", {"stance": "for", "body": "one more"}
    )
    assert response.status_code == 429 and "too many times" in text(response)
    assert Comment.objects.count() == limit


def test_proposal_and_flag_floods_are_refused(client, consultation, resident):
    from proposals import views

    client.force_login(resident)
    for _ in range(int(views.RATES["proposal"].split("/")[0])):
        client.post(f"/proposals/{consultation.pk}/new/idea/", {"title": "T", "summary": "S"})
    before = Proposal.objects.count()
    assert (
        client.post(f"/proposals/{consultation.pk}/new/idea/", {"title": "T", "summary": "S"}).status_code
        == 429
    )
    assert Proposal.objects.count() == before
    comments = [
        CommentFactory(proposal=Proposal.objects.first())
        for _ in range(int(views.RATES["flag"].split("/")[0]) + 1)
    ]
    codes = [
        client.post(f"/proposals/report/comment/{c.pk}/", {"reason": "spam"}).status_code for c in comments
    ]
    assert codes[-1] == 429 and set(codes[:-1]) == {302}


# --- consultation page sections --------------------------------------------------------------------------


def test_consultation_page_sections(client, consultation, resident, councillor):
    IdeaProposalFactory(consultation=consultation)
    decided = IdeaProposalFactory(consultation=consultation)
    services.proposal_change_status(
        proposal=decided,
        by=councillor,
        to_status="rejected",
        reason="Too costly.",
        response="We looked at it <em>carefully</em>.",
    )
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = resident
    section = render_to_string(
        "proposals/includes/consultation_section.html", {"page": consultation, "request": request}
    )
    assert "2 proposals so far" in section and "Submit a proposal" in section
    outcome = render_to_string(
        "proposals/includes/outcome_section.html", {"page": consultation, "request": request}
    )
    assert "Too costly." in outcome and "<em>carefully</em>" in outcome


def test_every_comment_action_link_resolves_to_its_view(client, proposal, resident, moderator):
    import re

    from django.urls import resolve

    mine = CommentFactory(proposal=proposal, author=resident)
    CommentFactory(proposal=proposal, parent=mine, depth=1)
    for user, expected in (
        (resident, {"comment_reply", "comment_edit", "comment_delete", "flag"}),
        (moderator, {"moderation_item", "flag"}),
    ):
        client.force_login(user)
        page = text(client.get(f"/proposals/p/{proposal.pk}/"))
        names = {
            resolve(href).url_name
            for href in re.findall(r'href="(/proposals/(?:comments|report|moderation)/[^"#?]*)"', page)
        }
        assert expected <= names, names
