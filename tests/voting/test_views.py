"""Voting pages without JavaScript: a normal form POST per kind, errors re-rendered with 400."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories as base
from tests.voting.factories import FACTORIES
from voting.models import Ballot, Participation, ResultsVisibility, TallyCount
from voting.services import ballot_cast

pytestmark = pytest.mark.django_db


def post_for(question, keys=None) -> dict:
    keys = keys or [o.key for o in question.option_list]
    data = {"question": str(question.pk)}
    kind = question.kind
    if kind == "yes_no":
        data["choice"] = "no"
    elif kind == "single":
        data["choice"] = keys[1]
    elif kind == "approval":
        data["choices"] = keys[:2]
    elif kind == "ranked":
        data.update({f"rank_{k}": str(i) for i, k in enumerate(keys, start=1)})
    elif kind == "score":
        data.update({f"score_{k}": "4" for k in keys})
    elif kind == "budget":
        data["projects"] = keys[1:]
    return data


def nothing_stored(question) -> bool:
    return not (
        Ballot.objects.filter(question=question).exists()
        or Participation.objects.filter(question=question).exists()
        or TallyCount.objects.filter(question=question).exists()
    )


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_resident_votes_with_a_plain_form_post_and_can_change_it(kind, client, voting_consultation, resident):
    question = FACTORIES[kind](consultation=voting_consultation, results_visibility=ResultsVisibility.LIVE)
    client.force_login(resident)
    page = client.get(question.get_absolute_url())
    assert page.status_code == 200
    assert b"Cast your vote" in page.content
    assert b"<script>alert" not in page.content  # hostile labels are escaped
    response = client.post(question.get_absolute_url(), post_for(question))
    assert response.status_code == 302, response.content.decode()[
        response.content.decode().find("error-summary__list") :
    ][:600]
    assert Ballot.objects.get(question=question).voter == resident
    page = client.get(question.get_absolute_url())
    assert b"Your vote has been recorded" in page.content
    assert b"Change your vote" in page.content
    results = client.get(question.get_results_url())
    assert results.status_code == 200
    assert b"th-chart__bar" in results.content and b"govuk-table" in results.content
    assert b"How the result is worked out" in results.content


BAD_POSTS = [
    ("yes_no", lambda q, k: {"choice": "maybe"}, "Select a valid choice"),
    ("yes_no", lambda q, k: {}, "Choose yes, no or abstain"),
    ("single", lambda q, k: {"choice": "999999"}, "Select a valid choice"),
    ("approval", lambda q, k: {"choices": k}, "Choose no more than 2 options"),
    ("approval", lambda q, k: {"choices": ["x"]}, "Select a valid choice"),
    (
        "ranked",
        lambda q, k: {f"rank_{k[0]}": "1", f"rank_{k[1]}": "1"},
        "You gave rank 1 to more than one option",
    ),
    ("ranked", lambda q, k: {f"rank_{k[0]}": "1", f"rank_{k[1]}": "3"}, "Your ranks skip number 2"),
    ("ranked", lambda q, k: {}, "Rank at least one option"),
    ("ranked", lambda q, k: {f"rank_{k[0]}": "9"}, "Select a valid choice"),
    ("score", lambda q, k: {f"score_{x}": "6" for x in k}, "Select a valid choice"),
    ("score", lambda q, k: {f"score_{k[0]}": "3"}, "a score from 0 to 5"),
    ("budget", lambda q, k: {"projects": k}, "more than the £100,000 available"),
    ("budget", lambda q, k: {"projects": ["77777"]}, "Select a valid choice"),
]


@pytest.mark.parametrize(("kind", "build", "message"), BAD_POSTS)
def test_bad_ballot_posts_show_a_clear_error_with_400_and_store_nothing(
    kind, build, message, client, voting_consultation, resident
):
    question = FACTORIES[kind](consultation=voting_consultation)
    keys = [o.key for o in question.option_list]
    client.force_login(resident)
    response = client.post(
        question.get_absolute_url(), {"question": str(question.pk), **build(question, keys)}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "govuk-error-summary" in content
    assert message.replace("'", "&#x27;") in content
    assert nothing_stored(question)


def test_a_tampered_question_field_is_refused(client, voting_consultation, resident):
    question = FACTORIES["yes_no"](consultation=voting_consultation)
    other = FACTORIES["yes_no"](consultation=voting_consultation)
    client.force_login(resident)
    data = {"question": str(other.pk), "choice": "yes"}
    response = client.post(question.get_absolute_url(), data)
    assert response.status_code == 400
    assert b"This ballot paper is for a different question" in response.content
    for value in ("", "abc", "-1"):
        response = client.post(question.get_absolute_url(), {**data, "question": value})
        assert response.status_code == 400
    assert nothing_stored(question) and nothing_stored(other)


def test_closed_question_refuses_a_post(client, voting_consultation, resident):
    question = FACTORIES["yes_no"](
        consultation=voting_consultation,
        opens_at=timezone.now() - timedelta(days=2),
        closes_at=timezone.now() - timedelta(days=1),
    )
    client.force_login(resident)
    assert b"Cast your vote" not in client.get(question.get_absolute_url()).content
    response = client.post(question.get_absolute_url(), {"question": str(question.pk), "choice": "yes"})
    assert response.status_code == 400
    assert b"Voting on this question is closed" in response.content
    assert nothing_stored(question)


def test_ineligible_resident_is_told_why_and_nothing_is_stored(
    client, voting_consultation, other_ward_resident
):
    question = FACTORIES["yes_no"](consultation=voting_consultation)
    client.force_login(other_ward_resident)
    page = client.get(question.get_absolute_url())
    assert b"You cannot vote on this question" in page.content
    response = client.post(question.get_absolute_url(), {"question": str(question.pk), "choice": "yes"})
    assert response.status_code == 400
    assert b"You are not eligible to vote on this question" in response.content
    assert nothing_stored(question)


def test_visitor_is_sent_to_sign_in(client, voting_consultation):
    question = FACTORIES["yes_no"](consultation=voting_consultation)
    assert b"Sign in to vote" in client.get(question.get_absolute_url()).content
    response = client.post(question.get_absolute_url(), {"question": str(question.pk), "choice": "yes"})
    assert response.status_code == 302 and "/accounts/" in response["Location"]
    assert nothing_stored(question)


def test_final_once_cast_question_shows_no_form_after_voting(client, voting_consultation, resident):
    question = FACTORIES["yes_no"](consultation=voting_consultation, final_once_cast=True)
    ballot_cast(question=question, voter=resident, data={"choice": "yes"})
    client.force_login(resident)
    page = client.get(question.get_absolute_url())
    assert b"Votes on this question are final" in page.content
    assert b'<form method="post" action="/voting' not in page.content
    response = client.post(question.get_absolute_url(), {"question": str(question.pk), "choice": "no"})
    assert response.status_code == 400
    assert Ballot.objects.get(question=question).data == {"choice": "yes"}


def test_secret_ballot_page_never_shows_the_choice(client, voting_consultation, resident):
    question = FACTORIES["single"](
        consultation=voting_consultation, secret=True, results_visibility=ResultsVisibility.LIVE
    )
    chosen = question.option_list[1]
    ballot_cast(question=question, voter=resident, data={"choice": chosen.key})
    client.force_login(resident)
    page = client.get(question.get_absolute_url()).content.decode()
    assert "This is a secret ballot" in page
    assert f'value="{chosen.key}" checked' not in page


def test_hidden_results_are_refused_until_close_but_councillors_see_them(
    client, voting_consultation, resident, councillor
):
    question = FACTORIES["yes_no"](consultation=voting_consultation)
    client.force_login(resident)
    assert client.get(question.get_results_url()).status_code == 403
    client.force_login(councillor)
    assert client.get(question.get_results_url()).status_code == 200
    question.closes_at = timezone.now() - timedelta(seconds=1)
    question.opens_at = timezone.now() - timedelta(days=1)
    question.save()
    client.force_login(resident)
    assert client.get(question.get_results_url()).status_code == 200


def test_question_on_an_unpublished_consultation_is_not_found(client, home_page, resident):
    from tests.voting.factories import make_consultation

    draft = make_consultation(home_page, live=False)
    question = FACTORIES["yes_no"](consultation=draft)
    client.force_login(resident)
    assert client.get(question.get_absolute_url()).status_code == 404
    assert client.get(question.get_results_url()).status_code == 404
    assert client.get("/voting/questions/999999/").status_code == 404


def test_consultation_page_lists_questions_with_vote_links(client, voting_consultation, resident):
    open_q = FACTORIES["yes_no"](consultation=voting_consultation)
    closed_q = FACTORIES["single"](
        consultation=voting_consultation,
        opens_at=timezone.now() - timedelta(days=2),
        closes_at=timezone.now() - timedelta(days=1),
    )
    client.force_login(resident)
    content = client.get(voting_consultation.url).content.decode()
    assert "Questions to vote on" in content
    assert f'href="{open_q.get_absolute_url()}">Vote' in content
    assert f'href="{closed_q.get_results_url()}"' in content


def _consultation_with_questions(home_page, ward, n, with_outcome=False):
    from tests.voting.factories import make_consultation

    page = make_consultation(home_page, wards=[ward])
    voters = [base.ResidentFactory(ward=ward) for _ in range(n)]
    for _kind, factory in FACTORIES.items():
        for closed in (False, True):
            q = factory(consultation=page, results_visibility=ResultsVisibility.LIVE)
            for voter in voters:
                from tests.voting.factories import valid_data

                ballot_cast(question=q, voter=voter, data=valid_data(q))
            if closed:
                q.closes_at = timezone.now() - timedelta(seconds=1)
                q.opens_at = timezone.now() - timedelta(days=1)
                q.save()
    if with_outcome:
        from consultations.models import Outcome

        Outcome.objects.create(
            consultation=page, decision="We will", reasons="<p>Because</p>", published_at=timezone.now()
        )
    return page, voters


@pytest.mark.parametrize("n", [1, 6])
def test_consultation_sections_use_a_constant_number_of_queries(
    n, client, home_page, ward, resident, django_assert_max_num_queries
):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    page, _voters = _consultation_with_questions(home_page, ward, n, with_outcome=True)
    request = RequestFactory().get("/")
    request.user = resident
    with django_assert_max_num_queries(20):
        html = render_to_string(
            "voting/includes/consultation_section.html", {"page": page, "request": request}
        )
        html += render_to_string("voting/includes/outcome_section.html", {"page": page, "request": request})
    assert html.count("th-result-section") == 6
