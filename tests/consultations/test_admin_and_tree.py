"""Page-tree rules, admin permissions on the consultation index, and approval through the workflow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from wagtail.models import GroupPagePermission, Page, Workflow

from cms.models import HomePage, StandardPage
from consultations.models import ConsultationIndexPage, ConsultationPage, Outcome, Track, TrackChange
from consultations.services import consultation_index_grant_permissions
from tests import factories
from tests.consultations.factories import make_consultation
from tests.consultations.test_admin_form import form_data


@pytest.fixture
def granted_index(index):
    consultation_index_grant_permissions(index)
    return index


def test_page_tree_rules(db):
    assert ConsultationIndexPage.parent_page_types == ["cms.HomePage"]
    assert ConsultationIndexPage.subpage_types == ["consultations.ConsultationPage"]
    assert ConsultationPage.parent_page_types == ["consultations.ConsultationIndexPage"]
    assert ConsultationPage.subpage_types == []
    assert ConsultationPage.can_create_at(ConsultationIndexPage())
    assert not ConsultationPage.can_create_at(HomePage())
    assert not ConsultationPage.can_create_at(StandardPage())
    assert not ConsultationPage.can_create_at(ConsultationPage())
    assert ConsultationIndexPage.can_create_at(HomePage())
    assert not ConsultationIndexPage.can_create_at(StandardPage())
    assert not StandardPage.can_create_at(ConsultationIndexPage())


def test_grant_permissions_is_idempotent_and_exact(granted_index):
    consultation_index_grant_permissions(granted_index)
    rows = set(
        GroupPagePermission.objects.filter(page=granted_index).values_list(
            "group__name", "permission__codename"
        )
    )
    assert rows == {
        ("Councillors", "add_page"),
        ("Councillors", "change_page"),
        ("Officers", "add_page"),
        ("Officers", "change_page"),
        ("Officers", "publish_page"),
    }


def test_creating_an_index_in_the_admin_grants_the_permissions(client, home_page):
    admin = factories.OfficerFactory(is_superuser=True)
    client.force_login(admin)
    response = client.post(
        f"/admin/pages/add/consultations/consultationindexpage/{home_page.pk}/",
        {
            "title": "Have your say",
            "slug": "have-your-say",
            "intro": '{"blocks": [], "entityMap": {}}',
            "action-publish": "1",
            "comments-TOTAL_FORMS": "0",
            "comments-INITIAL_FORMS": "0",
            "comments-MIN_NUM_FORMS": "0",
            "comments-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content[:500]
    index = ConsultationIndexPage.objects.get(slug="have-your-say")
    assert GroupPagePermission.objects.filter(page=index).count() == 5


def test_councillor_may_create_and_edit_but_not_publish(granted_index, councillor, officer):
    page = make_consultation(granted_index)
    perms = page.permissions_for_user(councillor)
    assert perms.can_edit() and not perms.can_publish()
    assert granted_index.permissions_for_user(councillor).can_add_subpage()
    assert page.permissions_for_user(officer).can_publish()


@pytest.mark.parametrize("role", ["moderator", "resident"])
def test_moderators_and_residents_have_no_admin(client, role, request):
    client.force_login(request.getfixturevalue(role))
    response = client.get("/admin/")
    assert response.status_code in (302, 403)
    assert response.status_code == 403 or "/login" in response["Location"]


def test_councillor_creates_submits_and_an_officer_approves(client, granted_index, councillor, officer):
    """The admin journey, without a browser: create a draft, submit it to the workflow, approve it."""
    panel = factories.PanelFactory()
    client.force_login(councillor)
    url = f"/admin/pages/add/consultations/consultationpage/{granted_index.pk}/"
    assert client.get(url).status_code == 200
    data = form_data(panel=str(panel.pk), councillor=str(councillor.pk))
    data["action-submit"] = "1"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    page = ConsultationPage.objects.get(slug="library-hours")
    assert not page.live
    workflow_state = page.current_workflow_state
    assert workflow_state is not None and workflow_state.status == "in_progress"

    # A councillor trying to publish directly does not publish.
    data.pop("action-submit")
    data["action-publish"] = "1"
    client.post(f"/admin/pages/{page.pk}/edit/", data)
    assert not ConsultationPage.objects.get(pk=page.pk).live

    task_state = workflow_state.current_task_state
    task = task_state.task.specific
    assert not task.user_can_access_editor(page, councillor) or not task.get_actions(page, councillor)
    task.on_action(task_state, officer, "approve")
    page = ConsultationPage.objects.get(pk=page.pk)
    assert page.live
    assert list(TrackChange.objects.filter(consultation=page).values_list("to_track", flat=True)) == [
        Track.PANEL
    ]


def test_the_default_workflow_is_the_officers_approval(granted_index):
    workflow = granted_index.get_workflow()
    assert isinstance(workflow, Workflow)
    groups = {g.name for task in workflow.tasks.all() for g in task.specific.groups.all()}
    assert groups == {"Officers"}


def test_admin_editor_shows_the_triage_recommendation(client, granted_index, councillor):
    page = make_consultation(granted_index, people_affected=20_000, budget=2_000_000)
    client.force_login(councillor)
    html = client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    assert "Triage aid recommends:" in html
    assert "Wide engagement: scores" in html
    for heading in ("About", "Timeline", "Track", "Outcome"):
        assert heading in html


def test_admin_refuses_an_outcome_while_open_with_a_message(client, granted_index, officer):
    panel = factories.PanelFactory()
    client.force_login(officer)
    now = timezone.now()
    data = form_data(
        panel=str(panel.pk),
        outcome="Decided already",
        phases=[("information", now - timedelta(days=1), now + timedelta(days=5))],
    )
    data["action-publish"] = "1"
    response = client.post(f"/admin/pages/add/consultations/consultationpage/{granted_index.pk}/", data)
    assert response.status_code == 200
    assert "You cannot record an outcome while the consultation is still open" in response.content.decode()
    assert not ConsultationPage.objects.filter(slug="library-hours").exists()
    assert not Outcome.objects.exists()


def test_index_lives_under_home(home_page, index):
    assert Page.objects.parent_of(index).get().specific == home_page
