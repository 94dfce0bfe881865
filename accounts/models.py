"""People, wards, panels and volunteers.

Roles are Django groups (see ``accounts.roles``); panel membership and volunteer registration are
explicit rows because they carry their own facts (which panel, who registered the volunteer, when).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel

# The UK postcode format, loosely: an outward code (area + district) and an inward code.
POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")


def normalise_postcode(raw: str) -> str:
    """Return a postcode as ``"CF10 1AA"``, or raise ``ValidationError`` if it is not one."""
    compact = re.sub(r"\s+", "", (raw or "").upper())
    match = POSTCODE_RE.match(compact)
    if not match:
        raise ValidationError(_("Enter a full UK postcode, like CF10 1AA."), code="invalid_postcode")
    return f"{match.group(1)} {match.group(2)}"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        """Email addresses are matched whatever their case, as people type them."""
        return self.get(email__iexact=(username or "").strip())

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified_at", timezone.now())
        return self._create_user(email, password, **extra)


class Ward(ClusterableModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.CharField(
        _("code"), max_length=20, unique=True, help_text=_("The ward's official code, e.g. W05000850.")
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("code"),
        InlinePanel(
            "postcode_prefixes",
            heading=_("Postcodes"),
            label=_("Postcode prefix"),
            help_text=_("Postcodes starting with these belong to this ward. The longest match wins."),
        ),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PostcodePrefix(models.Model):
    """A postcode prefix that belongs to a ward.

    The longest matching prefix wins, so "CF10 1" can belong to one ward while the rest of "CF10"
    belongs to another. A prefix belongs to one ward only (unique).
    """

    ward = ParentalKey(Ward, on_delete=models.CASCADE, related_name="postcode_prefixes")
    prefix = models.CharField(
        _("postcode prefix"),
        max_length=8,
        unique=True,
        help_text=_("An outward code like CF10, or a longer prefix like CF10 5."),
    )

    panels = [FieldPanel("prefix")]

    class Meta:
        ordering = ["prefix"]
        verbose_name_plural = _("postcode prefixes")

    def __str__(self) -> str:
        return self.prefix

    def save(self, *args: object, **kwargs: object) -> None:
        self.prefix = " ".join(self.prefix.upper().split())
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class User(AbstractUser):
    """A person. Signs in with an email address; shown to others by display name only."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(
        _("display name"), max_length=60, help_text=_("Shown next to what you write.")
    )
    postcode = models.CharField(_("postcode"), max_length=8, blank=True)
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, null=True, blank=True, related_name="residents")
    email_verified_at = models.DateTimeField(_("email confirmed"), null=True, blank=True)
    suspended_until = models.DateTimeField(
        _("suspended until"),
        null=True,
        blank=True,
        help_text=_("Set by moderation. While suspended, a person can read but not take part."),
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    objects = UserManager()

    class Meta:
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_suspended(self) -> bool:
        return self.suspended_until is not None and self.suspended_until > timezone.now()


class Panel(ClusterableModel):
    """A named expert panel: invited experts and councillors who deliberate on panel-track issues."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    remit = models.TextField(_("remit"), blank=True, help_text=_("What the panel is for, in plain words."))
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="PanelMembership", related_name="expert_panels"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("remit"),
        InlinePanel("memberships", heading=_("Members"), label=_("Member")),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PanelMembership(models.Model):
    class Role(models.TextChoices):
        EXPERT = "expert", _("Expert")
        COUNCILLOR = "councillor", _("Councillor")
        CHAIR = "chair", _("Chair")

    panel = ParentalKey(Panel, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="panel_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.EXPERT)
    expertise = models.CharField(max_length=200, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)

    panels = [FieldPanel("user"), FieldPanel("role"), FieldPanel("expertise")]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["panel", "user"], name="accounts_panel_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.panel}"


class Volunteer(models.Model):
    """A person the council registered to enter contributions on behalf of residents."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="volunteers_registered"
    )
    registered_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    wards = models.ManyToManyField(Ward, blank=True, related_name="volunteers")
    notes = models.TextField(blank=True)

    panels = [FieldPanel("user"), FieldPanel("status"), FieldPanel("wards"), FieldPanel("notes")]

    def __str__(self) -> str:
        return f"Volunteer {self.user}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
