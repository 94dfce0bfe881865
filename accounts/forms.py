from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.users.forms import UserCreationForm as WagtailBaseCreationForm
from wagtail.users.forms import UserEditForm as WagtailBaseEditForm

from accounts.models import User, normalise_postcode
from accounts.selectors import ward_for_postcode
from cms.forms import GovukFormMixin

DISPLAY_NAME_HELP = _("Shown next to what you write. You can use your first name or a nickname.")


def _clean_display_name(value: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise ValidationError(_("Enter a display name"), code="required")
    if any(ch in value for ch in "<>"):
        raise ValidationError(_("A display name cannot contain < or >"), code="invalid")
    return value


def _clean_postcode(value: str) -> tuple[str, object]:
    postcode = normalise_postcode(value)
    return postcode, ward_for_postcode(postcode)


class RegistrationForm(GovukFormMixin, forms.Form):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        help_text=DISPLAY_NAME_HELP,
        error_messages={
            "required": _("Enter a display name"),
            "max_length": _("Display name must be 60 characters or fewer"),
        },
    )
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("We'll send a link to confirm it. We never show it to anyone."),
        error_messages={
            "required": _("Enter your email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.com"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    postcode = forms.CharField(
        label=_("Postcode"),
        max_length=10,
        help_text=_("Your home postcode tells us your ward, so you can vote on what affects it."),
        error_messages={"required": _("Enter your postcode")},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "class": "govuk-input--width-10"}),
    )
    password = forms.CharField(
        label=_("Create a password"),
        help_text=_("At least 10 characters. A few unrelated words make a strong password."),
        error_messages={"required": _("Create a password")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_display_name(self) -> str:
        return _clean_display_name(self.cleaned_data["display_name"])

    def clean_email(self) -> str:
        # Whether an account already uses the address is never said here: the page would tell anyone
        # who has an account. accounts.services.registration_submit emails the address's owner instead.
        return self.cleaned_data["email"].strip().lower()

    def clean_postcode(self) -> str:
        postcode, _ward = _clean_postcode(self.cleaned_data["postcode"])
        return postcode

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            probe = User(email=cleaned.get("email", ""), display_name=cleaned.get("display_name", ""))
            try:
                password_validation.validate_password(password, probe)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class LoginForm(GovukFormMixin, AuthenticationForm):
    """Sign in by email. Unconfirmed accounts are told to confirm first."""

    username = forms.EmailField(
        label=_("Email address"),
        error_messages={
            "required": _("Enter your email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.com"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": False, "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        error_messages={"required": _("Enter your password")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _("The email address or password is not right. Check them and try again."),
        "inactive": _("This account has been closed."),
        "unverified": _(
            "You need to confirm your email address before you can sign in. "
            "Use the link we sent you, or ask for a new one."
        ),
    }

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if user.email_verified_at is None:
            raise ValidationError(self.error_messages["unverified"], code="unverified")


class ResendVerificationForm(GovukFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        error_messages={
            "required": _("Enter your email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.com"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ProfileForm(GovukFormMixin, forms.Form):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        help_text=DISPLAY_NAME_HELP,
        error_messages={
            "required": _("Enter a display name"),
            "max_length": _("Display name must be 60 characters or fewer"),
        },
    )
    postcode = forms.CharField(
        label=_("Postcode"),
        max_length=10,
        error_messages={"required": _("Enter your postcode")},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "class": "govuk-input--width-10"}),
    )

    def clean_display_name(self) -> str:
        return _clean_display_name(self.cleaned_data["display_name"])

    def clean_postcode(self) -> str:
        postcode, _ward = _clean_postcode(self.cleaned_data["postcode"])
        return postcode


class GovukPasswordResetForm(GovukFormMixin, PasswordResetForm):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={
            "required": _("Enter your email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.com"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class GovukSetPasswordForm(GovukFormMixin, SetPasswordForm):
    pass


class WardImportForm(GovukFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Wards CSV file"),
        help_text=_("Columns: code, name, postcode_prefixes (separated by semicolons)."),
    )


class WagtailUserCreationForm(WagtailBaseCreationForm):
    """Wagtail's add-user form for our model: email and display name instead of first/last names."""

    first_name = None
    last_name = None
    display_name = forms.CharField(label=_("Display name"), max_length=60)

    class Meta(WagtailBaseCreationForm.Meta):
        model = User
        fields = {"email", "display_name", "is_superuser", "groups"}


class WagtailUserEditForm(WagtailBaseEditForm):
    first_name = None
    last_name = None
    display_name = forms.CharField(label=_("Display name"), max_length=60)

    class Meta(WagtailBaseEditForm.Meta):
        model = User
        fields = {"email", "display_name", "is_active", "is_superuser", "groups"}
