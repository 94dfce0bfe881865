"""Who a person is, as the rules see it: every role against every identity predicate."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts import roles
from accounts import rules as account_rules
from accounts.models import Ward
from tests import factories

PREDICATES = [
    "is_active_resident",
    "is_council_staff",
    "is_moderator",
    "is_officer",
    "is_volunteer",
    "can_participate",
]

# person -> the predicates that hold for them
EXPECTED = {
    "visitor": set(),
    "unconfirmed": set(),
    "resident": {"is_active_resident", "can_participate"},
    "suspended": set(),
    "resident_without_ward": {"can_participate"},
    "councillor": {"is_council_staff", "can_participate"},
    "moderator": {"is_moderator", "can_participate"},
    "officer": {"is_council_staff", "is_officer", "can_participate"},
    "volunteer": {"is_active_resident", "is_volunteer", "can_participate"},
    "paused_volunteer": {"is_active_resident", "can_participate"},
}


def make(person):
    from django.contrib.auth.models import AnonymousUser

    if person == "visitor":
        return AnonymousUser()
    if person == "unconfirmed":
        return factories.ResidentFactory(email_verified_at=None)
    if person == "resident":
        return factories.ResidentFactory()
    if person == "suspended":
        return factories.ResidentFactory(suspended_until=timezone.now() + timedelta(days=1))
    if person == "resident_without_ward":
        return factories.ResidentFactory(ward=None)
    if person == "councillor":
        return factories.CouncillorFactory()
    if person == "moderator":
        return factories.ModeratorFactory()
    if person == "officer":
        return factories.OfficerFactory()
    if person == "volunteer":
        return factories.VolunteerFactory().user
    if person == "paused_volunteer":
        return factories.VolunteerFactory(status="paused").user
    raise AssertionError(person)


@pytest.mark.django_db
@pytest.mark.parametrize("person", sorted(EXPECTED))
@pytest.mark.parametrize("predicate", PREDICATES)
def test_identity_matrix(person, predicate):
    user = make(person)
    assert getattr(account_rules, predicate)(user) is (predicate in EXPECTED[person])


@pytest.mark.django_db
def test_a_suspension_that_has_ended_no_longer_counts():
    user = factories.ResidentFactory(suspended_until=timezone.now() - timedelta(minutes=1))
    assert account_rules.can_participate(user)


@pytest.mark.django_db
def test_panel_membership_is_per_panel():
    member = factories.PanelMembershipFactory()
    other_panel = factories.PanelFactory()
    assert account_rules.is_panel_member(member.user, member.panel)
    assert not account_rules.is_panel_member(member.user, other_panel)
    assert not account_rules.is_panel_member(factories.ResidentFactory(), member.panel)


@pytest.mark.django_db
def test_roles_are_groups_and_moderators_have_no_admin_access():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)
    assert "Editors" not in set(Group.objects.values_list("name", flat=True))
    moderator = factories.ModeratorFactory()
    resident = factories.ResidentFactory()
    councillor = factories.CouncillorFactory()
    officer = factories.OfficerFactory()
    assert not moderator.has_perm("wagtailadmin.access_admin")
    assert not resident.has_perm("wagtailadmin.access_admin")
    assert councillor.has_perm("wagtailadmin.access_admin")
    assert officer.has_perm("wagtailadmin.access_admin")
    assert officer.has_perm("accounts.manage_wards")
    assert not councillor.has_perm("accounts.manage_wards")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("person", "status"),
    [("visitor", 302), ("resident", 302), ("moderator", 302), ("councillor", 200), ("officer", 200)],
)
def test_only_council_staff_reach_the_admin(client, person, status):
    user = make(person)
    if user.is_authenticated:
        client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(("person", "status"), [("councillor", 302), ("officer", 200)])
def test_only_officers_manage_wards_in_the_admin(client, person, status):
    client.force_login(make(person))
    response = client.get("/admin/snippets/accounts/ward/")
    assert response.status_code == status


@pytest.mark.django_db
def test_import_wards_command(tmp_path):
    path = tmp_path / "wards.csv"
    path.write_text("code,name,postcode_prefixes\nW1,Afon,TH1;TH2\n", encoding="utf-8")
    call_command("import_wards", str(path))
    assert Ward.objects.get(code="W1").postcode_prefixes.count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nAfon\n", encoding="utf-8")
    with pytest.raises(CommandError, match="needs the columns"):
        call_command("import_wards", str(bad))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_wards", str(tmp_path / "missing.csv"))
