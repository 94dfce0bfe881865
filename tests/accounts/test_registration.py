"""Registration, email confirmation, sign-in and profile: the happy paths and every bad input."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.models import User
from accounts.services import email_verification_token
from tests import factories

REGISTER = reverse("accounts:register")
LOGIN = reverse("accounts:login")

GOOD = {
    "display_name": "Gwenllïan",
    "email": "Gwen@Example.org",
    "postcode": "tw1 4ab",
    "password": "lanterns by the river",
}


@pytest.fixture
def council_ward(db):
    return factories.WardFactory(code="W-AFON", name="Afon", prefixes=["TW1"])


def error_list(response):
    """The messages in the page's error summary, in order."""
    form = response.context["form"]
    return [str(e) for field in form for e in field.errors] + [str(e) for e in form.non_field_errors()]


def test_registration_creates_an_unconfirmed_resident_in_their_ward_and_emails_a_link(
    client, council_ward, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REGISTER, GOOD)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:check_email")
    user = User.objects.get()
    assert (user.email, user.display_name, user.postcode, user.ward) == (
        "gwen@example.org",
        "Gwenllïan",
        "TW1 4AB",
        council_ward,
    )
    assert user.email_verified_at is None
    assert roles.has_role(user, roles.RESIDENT)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["gwen@example.org"]
    assert "/accounts/verify/" in mail.outbox[0].body


def test_registration_page_has_an_error_summary_and_a_message_per_field(client, council_ward):
    response = client.post(REGISTER, {"display_name": "", "email": "nope", "postcode": "", "password": ""})
    assert response.status_code == 400
    assert error_list(response) == [
        "Enter a display name",
        "Enter an email address in the correct format, like name@example.com",
        "Enter your postcode",
        "Create a password",
    ]
    html = response.content.decode()
    assert 'class="govuk-error-summary"' in html
    assert '<a href="#id_email">' in html
    assert 'aria-describedby="id_email-hint id_email-error"' in html
    assert User.objects.count() == 0


def test_an_unknown_postcode_is_refused_with_its_own_message(client, council_ward):
    response = client.post(REGISTER, {**GOOD, "postcode": "SW1A 2AA"})
    assert response.status_code == 400
    assert error_list(response) == [
        "SW1A 2AA is not in this council's area. Check the postcode, or contact your own council."
    ]
    assert User.objects.count() == 0


def test_a_malformed_postcode_is_refused(client, council_ward):
    response = client.post(REGISTER, {**GOOD, "postcode": "<script>"})
    assert response.status_code == 400
    assert error_list(response) == ["Enter a full UK postcode, like CF10 1AA."]
    assert "<script>" not in response.content.decode().split("<main", 1)[1].split("</main>")[0].replace(
        "&lt;script&gt;", ""
    )


def _check_email_page(client, response, email):
    """The page a registration lands on, with the address it names taken out."""
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:check_email")
    html = client.get(response["Location"]).content.decode()
    assert email in html
    return html.replace(email, "ADDRESS")


def test_registering_an_address_that_has_an_account_looks_the_same_and_emails_its_owner(
    client, council_ward, django_capture_on_commit_callbacks
):
    owner = factories.ResidentFactory(email="gwen@example.org", display_name="Gwen")
    owner.set_password("the owner's own password")
    owner.save()
    with django_capture_on_commit_callbacks(execute=True):
        taken = client.post(REGISTER, {**GOOD, "email": "GWEN@example.ORG"})
    taken_page = _check_email_page(client, taken, "gwen@example.org")
    client.session.flush()
    with django_capture_on_commit_callbacks(execute=True):
        fresh = client.post(REGISTER, {**GOOD, "email": "newcomer@example.org"})
    fresh_page = _check_email_page(client, fresh, "newcomer@example.org")

    assert taken_page == fresh_page
    assert "already" not in taken_page.split("<main", 1)[1].split("If you already have an account")[0]
    assert [m.to for m in mail.outbox] == [["gwen@example.org"], ["newcomer@example.org"]]
    told = mail.outbox[0]
    assert told.subject == "You already have a Townhall account"
    assert "http://testserver/accounts/sign-in/" in told.body
    assert "http://testserver/accounts/password-reset/" in told.body
    assert "/accounts/verify/" not in told.body
    assert "/accounts/verify/" in mail.outbox[1].body
    # Nothing about the existing account changed: no second account, its password is still its own.
    assert User.objects.filter(email__iexact="gwen@example.org").count() == 1
    owner.refresh_from_db()
    assert owner.display_name == "Gwen"
    assert owner.check_password("the owner's own password")
    assert not owner.check_password(GOOD["password"])


def test_registering_an_address_whose_account_is_unconfirmed_sends_a_fresh_confirmation_link(
    client, council_ward, django_capture_on_commit_callbacks
):
    owner = factories.ResidentFactory(email="gwen@example.org", email_verified_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REGISTER, GOOD)
    _check_email_page(client, response, "gwen@example.org")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["gwen@example.org"]
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/verify/" in line)
    assert client.get(link.replace("http://testserver", "")).status_code == 302
    owner.refresh_from_db()
    assert owner.email_verified_at is not None
    assert User.objects.count() == 1


def test_form_errors_are_the_same_whether_or_not_the_address_has_an_account(client, council_ward):
    factories.ResidentFactory(email="gwen@example.org")
    weak = {**GOOD, "password": "password123", "postcode": ""}
    taken = client.post(REGISTER, {**weak, "email": "gwen@example.org"})
    fresh = client.post(REGISTER, {**weak, "email": "newcomer@example.org"})
    assert taken.status_code == fresh.status_code == 400
    assert error_list(taken) == error_list(fresh) == ["Enter your postcode", "This password is too common."]
    assert not mail.outbox


def test_an_address_registered_meanwhile_by_another_request_gets_the_account_exists_email(
    client, council_ward, django_capture_on_commit_callbacks, monkeypatch
):
    from accounts import services

    factories.ResidentFactory(email="gwen@example.org")
    lookups = iter([None])
    real = services._account_for
    # The first look-up misses the account, as when another request creates it just after.
    monkeypatch.setattr(services, "_account_for", lambda email: next(lookups, real(email)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REGISTER, GOOD)
    _check_email_page(client, response, "gwen@example.org")
    assert [m.subject for m in mail.outbox] == ["You already have a Townhall account"]
    assert User.objects.count() == 1


def test_a_weak_password_is_refused(client, council_ward):
    response = client.post(REGISTER, {**GOOD, "password": "password123"})
    assert response.status_code == 400
    assert "This password is too common." in error_list(response)


def test_markup_in_a_display_name_is_refused(client, council_ward):
    response = client.post(REGISTER, {**GOOD, "display_name": "<b>Gwen</b>"})
    assert response.status_code == 400
    assert error_list(response) == ["A display name cannot contain < or >"]


def test_an_oversized_display_name_is_refused(client, council_ward):
    response = client.post(REGISTER, {**GOOD, "display_name": "ŵ" * 61})
    assert response.status_code == 400
    assert error_list(response) == ["Display name must be 60 characters or fewer"]


@pytest.mark.django_db
def test_the_confirmation_link_confirms_the_address_once(client):
    user = factories.ResidentFactory(email_verified_at=None)
    token = email_verification_token(user)
    response = client.get(reverse("accounts:verify_email", args=[token]))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    user.refresh_from_db()
    confirmed_at = user.email_verified_at
    assert confirmed_at is not None
    # Opening it again is harmless and does not move the date.
    assert client.get(reverse("accounts:verify_email", args=[token])).status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at == confirmed_at


@pytest.mark.django_db
def test_a_wrong_confirmation_token_says_the_link_is_not_valid(client):
    user = factories.ResidentFactory(email_verified_at=None)
    token = email_verification_token(user)
    response = client.get(reverse("accounts:verify_email", args=[token[:-3] + "xyz"]))
    assert response.status_code == 400
    assert response.context["code"] == "invalid"
    assert (
        "This link is not valid. Check you copied the whole link from the email." in response.content.decode()
    )
    user.refresh_from_db()
    assert user.email_verified_at is None


@pytest.mark.django_db
def test_a_token_for_an_old_email_address_is_not_valid(client):
    user = factories.ResidentFactory(email_verified_at=None, email="old@example.org")
    token = email_verification_token(user)
    user.email = "new@example.org"
    user.save()
    response = client.get(reverse("accounts:verify_email", args=[token]))
    assert response.status_code == 400
    assert response.context["code"] == "invalid"


@pytest.mark.django_db
def test_an_expired_confirmation_token_says_so_and_offers_a_new_link(client):
    user = factories.ResidentFactory(email_verified_at=None)
    with time_machine.travel(timezone.now() - timedelta(days=4)):
        token = email_verification_token(user)
    response = client.get(reverse("accounts:verify_email", args=[token]))
    assert response.status_code == 400
    assert response.context["code"] == "expired"
    html = response.content.decode()
    assert "This link has expired. Links work for 3 days. We can send you a new one." in html
    assert reverse("accounts:resend_verification") in html
    user.refresh_from_db()
    assert user.email_verified_at is None


@pytest.mark.django_db
def test_resending_a_link_says_the_same_whether_or_not_the_address_has_an_account(client):
    factories.ResidentFactory(email="wait@example.org", email_verified_at=None)
    for email in ("wait@example.org", "nobody@example.org"):
        response = client.post(reverse("accounts:resend_verification"), {"email": email})
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:check_email")
    assert [m.to for m in mail.outbox] == [["wait@example.org"]]


@pytest.mark.django_db
def test_a_confirmed_resident_signs_in_by_email(client):
    factories.ResidentFactory(email="sian@example.org")
    response = client.post(
        LOGIN, {"username": "SIAN@example.org", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")


@pytest.mark.django_db
def test_an_unconfirmed_account_cannot_sign_in_and_is_told_why(client):
    factories.ResidentFactory(email="sian@example.org", email_verified_at=None)
    response = client.post(
        LOGIN, {"username": "sian@example.org", "password": "correct horse battery staple"}
    )
    assert response.status_code == 400
    assert error_list(response) == [
        "You need to confirm your email address before you can sign in. "
        "Use the link we sent you, or ask for a new one."
    ]


@pytest.mark.django_db
def test_a_wrong_password_gets_one_message_that_does_not_say_which_part_was_wrong(client):
    factories.ResidentFactory(email="sian@example.org")
    response = client.post(LOGIN, {"username": "sian@example.org", "password": "wrong"})
    assert response.status_code == 400
    assert error_list(response) == ["The email address or password is not right. Check them and try again."]


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_out_for_that_address(client):
    factories.ResidentFactory(email="sian@example.org")
    for _attempt in range(5):
        response = client.post(LOGIN, {"username": "sian@example.org", "password": "wrong"})
    assert response.status_code == 429
    assert 'data-error-code="locked_out"' in response.content.decode()
    # Even the right password is refused while locked out.
    response = client.post(
        LOGIN, {"username": "sian@example.org", "password": "correct horse battery staple"}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_signing_out_with_a_refused_next_shows_the_signed_out_page(client, home_page, next_url):
    client.force_login(factories.ResidentFactory())
    response = client.post(reverse("accounts:logout") + "?" + urlencode({"next": next_url}), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == []
    assert "You have signed out" in response.content.decode()
    assert "evil.example" not in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_signing_out_with_a_safe_next_goes_there(client, home_page):
    client.force_login(factories.ResidentFactory())
    response = client.post(reverse("accounts:logout") + "?next=/consultations/")
    assert response.status_code == 302
    assert response["Location"] == "/consultations/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_resident_changes_display_name_and_postcode(client, council_ward):
    other = factories.WardFactory(code="W-BRYN", name="Bryn", prefixes=["TW2"])
    user = factories.ResidentFactory(ward=council_ward)
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"display_name": "  Siân  ", "postcode": "tw2 9zz"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.postcode, user.ward) == ("Siân", "TW2 9ZZ", other)


@pytest.mark.django_db
def test_a_profile_with_a_postcode_outside_the_council_is_refused_and_nothing_changes(client, council_ward):
    user = factories.ResidentFactory(ward=council_ward, display_name="Siân", postcode="TW1 1AA")
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"display_name": "Changed", "postcode": "SW1A 2AA"})
    assert response.status_code == 400
    assert error_list(response) == [
        "SW1A 2AA is not in this council's area. Check the postcode, or contact your own council."
    ]
    user.refresh_from_db()
    assert (user.display_name, user.postcode) == ("Siân", "TW1 1AA")


@pytest.mark.django_db
def test_the_profile_needs_a_signed_in_person(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_password_reset_sends_a_link_only_to_an_existing_account(client):
    factories.ResidentFactory(email="sian@example.org")
    for email in ("sian@example.org", "nobody@example.org"):
        response = client.post(reverse("accounts:password_reset"), {"email": email})
        assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["sian@example.org"]]
    assert "/accounts/password-reset/" in mail.outbox[0].body


@pytest.mark.django_db
def test_signing_out_needs_a_post(client):
    client.force_login(factories.ResidentFactory())
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_flood_of_registrations_from_one_address_gets_the_429_page(client, council_ward):
    for _attempt in range(20):
        assert client.post(REGISTER, {**GOOD, "email": "bad"}).status_code == 400
    response = client.post(REGISTER, GOOD)
    assert response.status_code == 429
    assert "You have done that too many times" in response.content.decode()
    assert User.objects.count() == 0
