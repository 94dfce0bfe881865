"""Councillors create questions of every kind in the Wagtail admin; residents cannot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from voting.models import Ballot, BudgetQuestion, Question

pytestmark = pytest.mark.django_db

KINDS = {
    "yesnoquestion": {},
    "singlechoicequestion": {},
    "approvalquestion": {"max_choices": "2"},
    "rankedquestion": {},
    "scorequestion": {},
    "budgetquestion": {"budget": "50000", "method": "equal_shares"},
}


def admin_post(page, extra, options):
    now = timezone.localtime()
    data = {
        "consultation": str(page.pk),
        "title": "Which park benches?",
        "description": "Plain text.",
        "opens_at": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
        "closes_at": (now + timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
        "results_visibility": "after_close",
        "options-TOTAL_FORMS": str(len(options)),
        "options-INITIAL_FORMS": "0",
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for i, (label, cost) in enumerate(options):
        data.update(
            {
                f"options-{i}-label": label,
                f"options-{i}-description": "",
                f"options-{i}-cost": cost,
                f"options-{i}-ORDER": str(i + 1),
                f"options-{i}-id": "",
                f"options-{i}-DELETE": "",
            }
        )
    return data


@pytest.mark.parametrize("model", sorted(KINDS))
def test_councillor_creates_every_kind_in_the_admin(model, client, councillor, voting_consultation):
    client.force_login(councillor)
    url = f"/admin/snippets/voting/{model}/add/"
    assert client.get(url).status_code == 200
    options = [] if model == "yesnoquestion" else [("Oak", "20000"), ("Ash", "10000")]
    response = client.post(url, admin_post(voting_consultation, KINDS[model], options))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    question = Question.objects.get(title="Which park benches?")
    assert question.get_real_instance_class().__name__.lower() == model
    assert question.consultation_id == voting_consultation.pk
    assert [o.label for o in question.get_real_instance().option_list] == [label for label, _c in options]


def test_budget_projects_need_a_cost(client, councillor, voting_consultation):
    client.force_login(councillor)
    data = admin_post(voting_consultation, KINDS["budgetquestion"], [("Oak", ""), ("Ash", "100")])
    response = client.post("/admin/snippets/voting/budgetquestion/add/", data)
    assert response.status_code == 200
    assert "Give every project its cost" in response.content.decode()
    assert not BudgetQuestion.objects.exists()


def test_closing_time_must_follow_opening(client, councillor, voting_consultation):
    client.force_login(councillor)
    data = admin_post(voting_consultation, {}, [])
    data["closes_at"], data["opens_at"] = data["opens_at"], data["closes_at"]
    response = client.post("/admin/snippets/voting/yesnoquestion/add/", data)
    assert response.status_code == 200
    assert not Question.objects.exists()


@pytest.mark.parametrize("who", ["resident", "moderator"])
def test_residents_and_moderators_cannot_reach_the_question_admin(who, client, request):
    client.force_login(request.getfixturevalue(who))
    response = client.get("/admin/snippets/voting/yesnoquestion/add/")
    assert response.status_code in (302, 403)


def test_no_admin_view_lists_ballots_or_participations(client, officer):
    officer.is_superuser = True
    officer.save()
    client.force_login(officer)
    for model in ("ballot", "participation", "tallycount"):
        assert client.get(f"/admin/snippets/voting/{model}/").status_code == 404
    assert not Ballot._meta.app_config.get_model("ballot").__dict__.get("panels")
