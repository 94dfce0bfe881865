"""Consultation journeys in a real browser, axe-core on every page.

A councillor creates a consultation in the Wagtail admin following the triage aid and submits it for
approval, and an officer publishes it; a resident finds it by ward and sees the timeline; a closed
consultation shows its outcome; a resident asks for a wider say on a panel consultation.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from accounts import roles
from consultations.models import ConsultationPage, EscalationRequest, Track, TrackChange
from consultations.services import consultation_index_grant_permissions
from tests import factories
from tests.consultations.factories import TopicFactory, make_consultation, make_index

PASSWORD = "correct horse battery staple"


def _restore_roles_and_workflow(home):
    """Transactional tests flush the groups and the workflow that migrations made; make them again."""
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth.models import Group
    from wagtail.models import GroupApprovalTask, Workflow, WorkflowPage, WorkflowTask

    import_module("accounts.migrations.0002_role_groups").create_groups(apps, None)
    workflow, _ = Workflow.objects.get_or_create(name="Moderators approval")
    task, _ = GroupApprovalTask.objects.get_or_create(name="Moderators approval")
    task.groups.set([Group.objects.get(name=roles.OFFICER)])
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    WorkflowPage.objects.get_or_create(page=home, defaults={"workflow": workflow})


def _admin_sign_in(th, email):
    page = th.page
    th.goto("/admin/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    th.submit(page.get_by_role("button", name="Sign in"))


def _sign_out(th):
    th.page.context.clear_cookies()


def test_councillor_follows_the_triage_aid_and_an_officer_publishes(th, live_db):
    _restore_roles_and_workflow(live_db)
    index = make_index(live_db)
    consultation_index_grant_permissions(index)
    factories.WardFactory(name="Afon")
    councillor = factories.CouncillorFactory(email="cllr@example.org", display_name="Cllr Morgan")
    factories.OfficerFactory(email="officer@example.org", display_name="Olwen Officer")
    panel = factories.PanelFactory(name="Transport experts")
    page = th.page

    _admin_sign_in(th, "cllr@example.org")
    th.goto(f"/admin/pages/add/consultations/consultationpage/{index.pk}/")
    page.locator("#id_title").fill("Bus lane hours on Ffordd Newydd")
    page.locator("#id_summary").fill("Should the bus lane run at weekends?")
    page.get_by_role("checkbox", name="Afon").check()
    start = timezone.localtime() - timedelta(days=1)
    page.locator("#id_phases-0-kind").select_option("information")
    page.locator("#id_phases-0-starts_at").fill(start.strftime("%Y-%m-%d %H:%M"))
    page.locator("#id_phases-0-ends_at").fill((start + timedelta(days=14)).strftime("%Y-%m-%d %H:%M"))
    page.keyboard.press("Escape")
    page.locator("#id_people_affected").fill("3000")
    page.locator("#id_budget").fill("20000")
    # The councillor first picks the wide track; the rubric scores 1 + 0 + 1 + 0 + 0, so the aid
    # recommends the expert panel and the form asks for a reason.
    page.locator("#id_track").select_option("wide")
    th.submit(page.get_by_role("button", name="Save draft"))
    expect(page.locator("#panel-child-content-track-content, body").first).to_contain_text(
        "The triage aid recommends Expert panel"
    )
    expect(page.locator("body")).to_contain_text("Triage aid recommends:")
    # Following the aid: the panel track, with its panel.
    page.locator("#id_track").select_option("panel")
    page.locator("#id_panel").select_option(str(panel.pk))
    th.submit(page.get_by_role("button", name="Save draft"))
    created = ConsultationPage.objects.get(slug="bus-lane-hours-on-ffordd-newydd")
    assert not created.live
    assert created.get_latest_revision().as_object().track == Track.PANEL

    # Submit for approval (in the save menu).
    page.get_by_role("button", name="More actions").click()
    th.submit(page.get_by_role("button", name="Submit to Moderators approval"))
    workflow_state = ConsultationPage.objects.get(pk=created.pk).current_workflow_state
    assert workflow_state is not None and workflow_state.status == "in_progress"

    _sign_out(th)
    _admin_sign_in(th, "officer@example.org")
    th.goto(f"/admin/pages/{created.pk}/edit/")
    page.get_by_role("button", name="More actions").click()
    th.submit(page.get_by_role("button", name="Approve and Publish", exact=True))
    published = ConsultationPage.objects.get(pk=created.pk)
    assert published.live
    assert list(TrackChange.objects.filter(consultation=published).values_list("to_track", flat=True)) == [
        Track.PANEL
    ]
    assert councillor.pk  # the councillor wrote it; the officer approved it

    _sign_out(th)
    th.goto(published.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bus lane hours on Ffordd Newydd")
    expect(page.locator("body")).to_contain_text("Members of the Transport experts panel deliberate and vote")


def test_resident_finds_a_consultation_by_ward_and_sees_the_timeline(th, live_db):
    index = make_index(live_db)
    afon, bryn = factories.WardFactory(name="Afon"), factories.WardFactory(name="Bryn Castell")
    parks = TopicFactory(name="Parks", slug="parks")
    make_consultation(
        index,
        title="A new riverside park",
        wards=[afon],
        topics=[parks],
        start=timezone.now() - timedelta(days=8),
    )
    make_consultation(
        index, title="Bryn car park charges", wards=[bryn], start=timezone.now() - timedelta(days=2)
    )
    resident = factories.ResidentFactory(ward=afon, email="sian@example.org", display_name="Siân")
    page = th.page

    th.goto("/accounts/sign-in/")
    page.get_by_label("Email address").fill(resident.email)
    page.get_by_label("Password").fill(PASSWORD)
    th.submit(page.get_by_role("button", name="Sign in"))

    th.goto(index.url)
    expect(page.get_by_role("heading", name="2 consultations")).to_be_visible()
    page.get_by_label("Ward").select_option(label="Afon")
    th.submit(page.get_by_role("button", name="Apply filters"))
    expect(page.get_by_role("heading", name="1 consultation")).to_be_visible()
    expect(page.get_by_role("link", name="Bryn car park charges")).to_have_count(0)
    th.submit(page.get_by_role("link", name="A new riverside park"))

    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.locator(".th-timeline__item--current")).to_contain_text("Proposals")
    expect(page.locator(".th-timeline__item--next")).to_contain_text("Deliberation")
    expect(page.locator("body")).to_contain_text("Now: Proposals")
    expect(page.locator("body")).to_contain_text("Submit a proposal")


def test_a_closed_consultation_shows_its_outcome(th, live_db):
    index = make_index(live_db)
    closed = make_consultation(
        index,
        title="Refurbishing play areas",
        start=timezone.now() - timedelta(days=70),
        outcome="Four play areas will be refurbished in 2027.",
    )
    th.goto("/")
    expect(th.page.get_by_role("heading", name="You said, we did")).to_be_visible()
    expect(th.page.locator("body")).to_contain_text("Four play areas will be refurbished in 2027.")
    th.submit(th.page.get_by_role("link", name="Refurbishing play areas"))
    assert th.page.url.endswith(closed.url)
    expect(th.page.get_by_role("heading", name="The decision")).to_be_visible()
    expect(th.page.locator(".th-outcome")).to_contain_text("Four play areas will be refurbished in 2027.")


def test_resident_asks_for_a_wider_say_on_a_panel_consultation(th, live_db):
    index = make_index(live_db)
    ward = factories.WardFactory(name="Ffordd Newydd")
    panel = factories.PanelFactory(name="Transport experts")
    consultation = make_consultation(
        index, title="Bus lane review", track=Track.PANEL, panel=panel, wards=[ward], escalation_threshold=25
    )
    resident = factories.ResidentFactory(ward=ward, email="tomasz@example.org")
    page = th.page
    th.goto("/accounts/sign-in/")
    page.get_by_label("Email address").fill(resident.email)
    page.get_by_label("Password").fill(PASSWORD)
    th.submit(page.get_by_role("button", name="Sign in"))
    th.goto(consultation.url)
    page.get_by_label("Why this matters to you (optional)").fill("I take this bus every day.")
    th.submit(page.get_by_role("button", name="I want a say"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "we have recorded that you want a wider say"
    )
    expect(page.locator("#wider-say")).to_contain_text("1 resident has asked")
    assert EscalationRequest.objects.get().user_id == resident.pk
