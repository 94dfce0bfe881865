"""The visibility gate (``cms.visibility``), one test per way in that the outside review found open:
hidden content through the report page and the quote (finding 2), drafts that took part (finding 3),
Wagtail privacy bypassed (finding 4), and hidden results on the host's presenter screen (finding 5)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group
from django.test import Client
from wagtail.models import BaseViewRestriction, PageViewRestriction

from cms import visibility
from proposals import services
from proposals.models import ActionReason, Comment, CommentRevision, Flag, Support
from proposals.services import ProposalError
from tests.security.world import build_world
from voting.errors import BallotError
from voting.models import Ballot, Participation, ResultsVisibility
from voting.services import ballot_cast


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> str:
    return response.content.decode()


# --- Finding 2: hidden content through the report page and the quote -------------------------------------


@pytest.fixture
def hidden_world(db):
    return build_world("hidden")


def test_report_page_of_a_hidden_item_shows_nothing_of_it(hidden_world):
    world = hidden_world
    client = signed_in(world.users["other_resident"])
    for url in (
        f"/proposals/report/proposal/{world.proposal.pk}/",
        f"/proposals/report/comment/{world.thread_comment.pk}/",
        f"/proposals/report/comment/{world.comment.pk}/",  # on the hidden proposal
    ):
        response = client.get(url)
        assert response.status_code == 404
        for mark in ("MKPROPOSALTITLE", "MKPROPOSALBODY", "MKCOMMENTTWO", "MKCOMMENTONE"):
            assert mark not in body(response)
    response = client.post(f"/proposals/report/comment/{world.thread_comment.pk}/", {"reason": "spam"})
    assert response.status_code == 404 and "MKCOMMENTTWO" not in body(response)
    assert Flag.objects.filter(reporter=world.users["other_resident"]).count() == 2  # the world's own


def test_a_hidden_comment_is_never_quoted(hidden_world):
    world = hidden_world
    target = world.consultation
    # Whether or not the person may comment here (an officer may not: 403), the page never prints it.
    for user in (world.users["other_resident"], world.users["officer"]):
        client = signed_in(user)
        url = f"/proposals/comment/consultation/{target.pk}/?quote={world.thread_comment.pk}"
        response = client.get(url)
        assert "MKCOMMENTTWO" not in body(response)
        # A quote from another discussion (the hidden proposal's) is not shown either.
        response = client.get(f"/proposals/comment/consultation/{target.pk}/?quote={world.comment.pk}")
        assert "MKCOMMENTONE" not in body(response)


def test_a_visible_comment_is_still_quoted(db):
    world = build_world("visible")
    client = signed_in(world.users["other_resident"])
    response = client.get(
        f"/proposals/comment/consultation/{world.consultation.pk}/?quote={world.thread_comment.pk}"
    )
    assert response.status_code == 200 and "MKCOMMENTTWO" in body(response)


# --- Finding 3: drafts take no part -----------------------------------------------------------------------


@pytest.fixture
def draft_world(db):
    return build_world("draft")


def test_a_draft_takes_no_comments_replies_supports_or_reports(draft_world):
    world = draft_world
    resident = world.users["other_resident"]
    client = signed_in(resident)
    comments, supports, flags = Comment.objects.count(), Support.objects.count(), Flag.objects.count()
    data = {"stance": "for", "body": "A comment on a draft"}
    assert client.post(f"/proposals/comment/proposal/{world.proposal.pk}/", data).status_code == 404
    assert client.post(f"/proposals/comments/{world.comment.pk}/reply/", data).status_code == 404
    assert client.post(f"/proposals/p/{world.proposal.pk}/support/").status_code == 404
    assert (
        client.post(f"/proposals/report/proposal/{world.proposal.pk}/", {"reason": "spam"}).status_code == 404
    )
    # The services refuse too, whoever calls them.
    with pytest.raises(ProposalError):
        services.comment_add(author=resident, target=world.proposal, body="Hello")
    with pytest.raises(ProposalError):
        services.comment_add(author=resident, parent=world.comment, body="Hello")
    with pytest.raises(ProposalError):
        services.support_add(proposal=world.proposal, user=resident)
    with pytest.raises(ProposalError):
        services.flag_create(reporter=resident, item=world.proposal, reason="spam")
    assert (Comment.objects.count(), Support.objects.count(), Flag.objects.count()) == (
        comments,
        supports,
        flags,
    )


def test_a_drafts_comment_history_is_not_shown_to_visitors(draft_world):
    world = draft_world
    response = Client().get(f"/proposals/comments/{world.comment.pk}/history/")
    assert response.status_code == 404
    assert "MKREVISIONONE" not in body(response) and "MKCOMMENTONE" not in body(response)
    assert CommentRevision.objects.filter(comment=world.comment).exists()


def test_a_drafts_question_takes_no_vote(draft_world):
    world = draft_world
    with pytest.raises(BallotError):
        ballot_cast(
            question=world.question,
            voter=world.users["other_resident"],
            data={"choice": world.question.option_list[0].key},
        )
    assert not Ballot.objects.exists() and not Participation.objects.exists()


# --- Finding 4: Wagtail privacy --------------------------------------------------------------------------


@pytest.fixture
def restricted_world(db):
    return build_world("restricted")


def test_a_restricted_consultations_question_results_and_proposals_are_not_served(restricted_world):
    world = restricted_world
    for client in (Client(), signed_in(world.users["other_resident"]), signed_in(world.users["councillor"])):
        for url in (
            f"/voting/questions/{world.question.pk}/",
            f"/voting/questions/{world.question.pk}/results/",
            f"/proposals/p/{world.proposal.pk}/",
            f"/proposals/{world.consultation.pk}/thread/",
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            for mark in ("MKQUESTIONTITLE", "MKOPTIONLABEL", "MKPROPOSALTITLE", "MKCOMMENTTWO"):
                assert mark not in body(response)
    client = signed_in(world.users["other_resident"])
    vote = {"question": world.question.pk, "choice": world.question.option_list[0].key}
    assert client.post(f"/voting/questions/{world.question.pk}/", vote).status_code == 404
    assert not Participation.objects.exists()


def test_a_group_restriction_is_kept_by_the_vote_service_too(restricted_world):
    world = restricted_world
    voter = world.users["other_resident"]
    with pytest.raises(BallotError):
        ballot_cast(question=world.question, voter=voter, data={"choice": world.question.option_list[0].key})
    # In the group, the same person sees the question and may vote.
    restriction = PageViewRestriction.objects.get(page=world.voting_consultation)
    voter.groups.add(restriction.groups.get())
    voter = type(voter).objects.get(pk=voter.pk)
    assert visibility.may_see(voter, world.question)
    ballot_cast(question=world.question, voter=voter, data={"choice": world.question.option_list[0].key})
    assert Participation.objects.filter(voter=voter).count() == 1


def test_a_page_password_given_in_the_browser_opens_the_consultation(restricted_world):
    world = restricted_world
    restriction = PageViewRestriction.objects.get(page=world.consultation)
    assert restriction.restriction_type == BaseViewRestriction.PASSWORD
    client = signed_in(world.users["other_resident"])
    assert client.get(f"/proposals/p/{world.proposal.pk}/").status_code == 404
    response = client.post(
        f"/_util/authenticate_with_password/{restriction.pk}/{world.consultation.pk}/",
        {"password": "gate-secret", "return_url": world.consultation.url},
    )
    assert response.status_code == 302
    response = client.get(f"/proposals/p/{world.proposal.pk}/")
    assert response.status_code == 200 and "MKPROPOSALTITLE" in body(response)


def test_login_restriction_keeps_visitors_out(db):
    world = build_world("visible")
    PageViewRestriction.objects.create(
        page=world.voting_consultation, restriction_type=BaseViewRestriction.LOGIN
    )
    assert Client().get(f"/voting/questions/{world.question.pk}/").status_code == 404
    assert (
        signed_in(world.users["other_resident"]).get(f"/voting/questions/{world.question.pk}/").status_code
        == 200
    )


# --- Sockets: findings 3 and 4 --------------------------------------------------------------------------


async def _frames(communicator) -> list[str]:
    frames = []
    while not await communicator.receive_nothing(timeout=0.3):
        message = await communicator.receive_output(timeout=1)
        if message["type"] == "websocket.close":
            break
        frames.append(message.get("text", ""))
    return frames


def _cookie(user) -> str:
    return signed_in(user).cookies["sessionid"].value


@pytest.mark.parametrize("state", ["draft", "restricted"])
async def test_a_draft_or_restricted_question_socket_sends_nothing_and_takes_no_vote(state, sockets, live_db):
    world = await sync_to_async(build_world)(state)
    cookie = await sync_to_async(_cookie)(world.users["other_resident"])
    choice = await sync_to_async(lambda: world.question.option_list[0].key)()
    communicator = await sockets(f"/ws/questions/{world.question.pk}/", cookie=cookie)
    frames = []
    if communicator.accepted:
        frames = await _frames(communicator)
        vote = {"type": "vote", "id": 1, "payload": {"data": {"choice": choice}}}
        await communicator.send_to(text_data=json.dumps(vote))
        frames += await _frames(communicator)
    assert not communicator.accepted
    assert not any("snapshot" in frame for frame in frames)
    assert not await sync_to_async(Participation.objects.exists)()


async def test_a_live_session_does_not_show_a_restricted_question(sockets, live_db):
    world = await sync_to_async(build_world)("restricted")
    communicator = await sockets(f"/ws/live/{world.session.code}/")
    assert communicator.accepted
    frames = await _frames(communicator)
    assert frames and not any("MKQUESTIONTITLE" in frame or "MKOPTIONLABEL" in frame for frame in frames)


# --- Finding 5: the presenter screen is a public screen --------------------------------------------------


def _hide_results(world) -> None:
    world.question.results_visibility = ResultsVisibility.AFTER_CLOSE
    world.question.save(update_fields=["results_visibility"])


def test_the_hosts_presenter_page_hides_results_set_to_stay_hidden(db):
    world = build_world("visible")
    _hide_results(world)
    ballot_cast(
        question=world.question,
        voter=world.users["other_resident"],
        data={"choice": world.question.option_list[0].key},
    )
    host = signed_in(world.users["councillor"])
    present = body(host.get(f"/voting/live/{world.session.code}/present/"))
    assert "MKQUESTIONTITLE" in present
    assert "data-live-bar" not in present and "data-live-count" not in present
    # The host's own controls still show the numbers (a personal screen).
    assert "data-live-count" in body(host.get(f"/voting/live/{world.session.code}/host/"))


async def test_the_presenter_socket_snapshot_hides_results_set_to_stay_hidden(sockets, live_db):
    world = await sync_to_async(build_world)("visible")
    await sync_to_async(_hide_results)(world)
    cookie = await sync_to_async(_cookie)(world.users["councillor"])
    presenter = await sockets(f"/ws/live/{world.session.code}/?screen=public", cookie=cookie)
    snapshot = [json.loads(f) for f in await _frames(presenter) if '"snapshot"' in f]
    assert (
        snapshot and snapshot[-1]["payload"].get("hidden") is True and "tally" not in snapshot[-1]["payload"]
    )
    # The same councillor's own socket sees the numbers.
    own = await sockets(f"/ws/live/{world.session.code}/", cookie=cookie)
    snapshot = [json.loads(f) for f in await _frames(own) if '"snapshot"' in f]
    assert snapshot and "tally" in snapshot[-1]["payload"]


def test_the_presenter_template_opens_its_socket_as_a_public_screen(db):
    world = build_world("visible")
    present = body(signed_in(world.users["councillor"]).get(f"/voting/live/{world.session.code}/present/"))
    assert f'data-live-socket="/ws/live/{world.session.code}/?screen=public"' in present


def test_the_gate_names_an_unknown_kind_of_object():
    with pytest.raises(TypeError, match="register it"):
        visibility.may_see(None, Group())


def test_hidden_items_are_hidden_from_other_residents_and_shown_to_their_author(hidden_world):
    world = hidden_world
    assert not visibility.may_see(world.users["other_resident"], world.proposal)
    assert not visibility.may_see(world.users["other_resident"], world.comment)  # under the hidden proposal
    for role in ("resident", "moderator", "councillor", "officer"):
        assert visibility.may_see(world.users[role], world.thread_comment), role
        assert not visibility.may_act(world.users[role], world.thread_comment), role
    services.item_restore(
        item=world.thread_comment,
        by=world.users["moderator"],
        reason=ActionReason.NO_BREACH,
        explanation="Fine.",
    )
    world.thread_comment.refresh_from_db()
    assert visibility.may_see(world.users["other_resident"], world.thread_comment)
