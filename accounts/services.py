"""Writes about people and places: registration, email confirmation, wards, panels, volunteers."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import Panel, PanelMembership, PostcodePrefix, User, Volunteer, Ward, normalise_postcode
from accounts.selectors import ward_for_postcode

logger = logging.getLogger("townhall.accounts")

_VERIFY_SALT = "townhall.accounts.verify-email"


class VerificationError(Exception):
    """An email confirmation link that cannot be used. ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def email_verification_token(user: User) -> str:
    """A signed, timestamped token naming the user and the address being confirmed."""
    return signing.dumps({"u": user.pk, "e": user.email}, salt=_VERIFY_SALT, compress=True)


def _send_verification_email(user: User, base_url: str) -> None:
    link = base_url.rstrip("/") + reverse("accounts:verify_email", args=[email_verification_token(user)])
    context = {"user": user, "link": link, "days": settings.EMAIL_VERIFICATION_MAX_AGE.days}
    send_mail(
        subject=_("Confirm your email address for Townhall"),
        message=render_to_string("accounts/email/verify.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def user_register(*, email: str, display_name: str, postcode: str, password: str, base_url: str) -> User:
    """Create a resident's account and send the confirmation link once the account is saved."""
    ward = ward_for_postcode(postcode)
    user = User(
        email=email.strip().lower(),
        display_name=display_name.strip(),
        postcode=normalise_postcode(postcode),
        ward=ward,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    roles.grant(user, roles.RESIDENT)
    transaction.on_commit(lambda: _send_verification_email(user, base_url))
    return user


def _send_account_exists_email(user: User, base_url: str) -> None:
    base = base_url.rstrip("/")
    context = {
        "user": user,
        "sign_in": base + reverse("accounts:login"),
        "reset": base + reverse("accounts:password_reset"),
    }
    send_mail(
        subject=_("You already have a Townhall account"),
        message=render_to_string("accounts/email/account_exists.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def _account_for(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


@transaction.atomic
def registration_submit(
    *, email: str, display_name: str, postcode: str, password: str, base_url: str
) -> None:
    """Register a resident, answering the same whether or not the address already has an account.

    The page after the form never says which addresses have accounts; the address's owner is told by
    email instead. A new address gets an account and its confirmation link. An address with a
    confirmed account gets an email saying so, with links to sign in and to reset the password; one
    with an unconfirmed account gets a fresh confirmation link. The existing account is never changed
    (its password stays its own). The password is hashed either way, so the answer takes about as long.
    """
    email = email.strip().lower()
    existing = _account_for(email)
    if existing is None:
        try:
            with transaction.atomic():
                user_register(
                    email=email,
                    display_name=display_name,
                    postcode=postcode,
                    password=password,
                    base_url=base_url,
                )
            return
        except (ValidationError, IntegrityError):
            # Registered by another request after the look-up: its uniqueness check or the database's
            # constraint refused this one. Anything else stays an error.
            existing = _account_for(email)
            if existing is None:
                raise
    else:
        make_password(password)
    owner = existing
    if owner.email_verified_at is None:
        transaction.on_commit(lambda: _send_verification_email(owner, base_url))
    else:
        transaction.on_commit(lambda: _send_account_exists_email(owner, base_url))


def verification_resend(*, email: str, base_url: str) -> None:
    """Send a fresh link if an unconfirmed account has this address. Says nothing either way."""
    user = User.objects.filter(email__iexact=email.strip(), email_verified_at__isnull=True).first()
    if user is not None:
        _send_verification_email(user, base_url)


@transaction.atomic
def user_verify_email(*, token: str) -> User:
    max_age = settings.EMAIL_VERIFICATION_MAX_AGE
    try:
        data = signing.loads(token, salt=_VERIFY_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise VerificationError(
            "expired",
            _("This link has expired. Links work for %(days)d days. We can send you a new one.")
            % {"days": max_age.days},
        ) from exc
    except signing.BadSignature as exc:
        raise VerificationError(
            "invalid", _("This link is not valid. Check you copied the whole link from the email.")
        ) from exc
    user = User.objects.select_for_update().filter(pk=data.get("u")).first()
    if user is None or user.email != data.get("e"):
        raise VerificationError(
            "invalid", _("This link is not valid. Check you copied the whole link from the email.")
        )
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


@transaction.atomic
def user_update_profile(*, user: User, display_name: str, postcode: str) -> User:
    ward = ward_for_postcode(postcode)
    user.display_name = display_name.strip()
    user.postcode = normalise_postcode(postcode)
    user.ward = ward
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "postcode", "ward"])
    return user


@dataclass(frozen=True)
class WardImportResult:
    wards_created: int
    wards_updated: int
    prefixes: int


@transaction.atomic
def wards_import_csv(*, text: str) -> WardImportResult:
    """Import wards from CSV with the columns ``code``, ``name`` and ``postcode_prefixes``.

    ``postcode_prefixes`` is a space- or semicolon-separated list (``CF10;CF11 9``). A ward's
    prefixes are replaced by those in the file. Any bad row aborts the whole import with the row
    number in the message, so a half-imported file never happens.
    """
    reader = csv.DictReader(io.StringIO(text))
    required = {"code", "name", "postcode_prefixes"}
    if not reader.fieldnames or not required <= {f.strip() for f in reader.fieldnames}:
        raise ValidationError(_("The file needs the columns code, name and postcode_prefixes."))
    created = updated = prefixes = 0
    seen_prefixes: dict[str, str] = {}
    for line, row in enumerate(reader, start=2):
        code = (row.get("code") or "").strip()
        name = (row.get("name") or "").strip()
        if not code or not name:
            raise ValidationError(_("Row %(line)d: code and name are required.") % {"line": line})
        ward, was_created = Ward.objects.update_or_create(code=code, defaults={"name": name})
        created += was_created
        updated += not was_created
        ward.postcode_prefixes.all().delete()
        for raw in (row.get("postcode_prefixes") or "").replace(";", ",").split(","):
            prefix = " ".join(raw.upper().split())
            if not prefix:
                continue
            if prefix in seen_prefixes and seen_prefixes[prefix] != code:
                raise ValidationError(
                    _("Row %(line)d: the prefix %(prefix)s is already given to ward %(other)s.")
                    % {"line": line, "prefix": prefix, "other": seen_prefixes[prefix]}
                )
            seen_prefixes[prefix] = code
            PostcodePrefix.objects.update_or_create(prefix=prefix, defaults={"ward": ward})
            prefixes += 1
    return WardImportResult(created, updated, prefixes)


@transaction.atomic
def panel_add_member(
    *, panel: Panel, user: User, role: str = PanelMembership.Role.EXPERT, expertise: str = ""
) -> PanelMembership:
    membership, _created = PanelMembership.objects.get_or_create(
        panel=panel, user=user, defaults={"role": role, "expertise": expertise}
    )
    return membership


@transaction.atomic
def volunteer_register(*, user: User, registered_by: User, wards: list[Ward] | None = None) -> Volunteer:
    volunteer, _created = Volunteer.objects.update_or_create(
        user=user, defaults={"registered_by": registered_by, "status": Volunteer.Status.ACTIVE}
    )
    if wards is not None:
        volunteer.wards.set(wards)
    return volunteer
