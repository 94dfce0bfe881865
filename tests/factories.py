"""Factories with hostile defaults: script tags, long strings, Welsh diacritics, right-to-left text.

Anything a person can type ends up in these, so sanitising and escaping are exercised by every test.
"""

from __future__ import annotations

import factory
from django.utils import timezone

from accounts import roles as role_names
from accounts.models import Panel, PanelMembership, PostcodePrefix, User, Volunteer, Ward

#: Text that must never be rendered as markup or break a layout.
HOSTILE = '<script>alert("x")</script> Siân\u200f ŵ ŷ «שלום» '


class WardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ward
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"W{n:04d}")
    name = factory.Sequence(lambda n: f"Ward {n} <b>Llanfair</b>")

    @factory.post_generation
    def prefixes(self, create, extracted, **kwargs):
        if not create:
            return
        for prefix in extracted if extracted is not None else [f"TW{self.pk % 90 + 1}"]:
            PostcodePrefix.objects.get_or_create(prefix=prefix, defaults={"ward": self})


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Sequence(lambda n: f"{HOSTILE[:40]}{n}")
    ward = factory.SubFactory(WardFactory)
    postcode = "TW1 1AA"
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.django.Password("correct horse battery staple")

    roles = factory.PostGeneration(lambda user, create, extracted, **kw: _grant(user, create, extracted, ()))


def _grant(user, create, extracted, default) -> None:
    """Grant ``roles=[...]`` if the caller passed it, else the factory's default roles."""
    if create:
        for role in extracted if extracted is not None else default:
            role_names.grant(user, role)


def _roles(*default: str) -> factory.PostGeneration:
    return factory.PostGeneration(
        lambda user, create, extracted, **kw: _grant(user, create, extracted, default)
    )


class ResidentFactory(UserFactory):
    roles = _roles(role_names.RESIDENT)


class CouncillorFactory(UserFactory):
    is_staff = True
    roles = _roles(role_names.COUNCILLOR)


class ModeratorFactory(UserFactory):
    roles = _roles(role_names.MODERATOR)


class OfficerFactory(UserFactory):
    is_staff = True
    roles = _roles(role_names.OFFICER)


class PanelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Panel

    name = factory.Sequence(lambda n: f"Panel {n} {HOSTILE[:30]}")
    remit = HOSTILE


class PanelMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PanelMembership

    panel = factory.SubFactory(PanelFactory)
    user = factory.SubFactory(UserFactory)


class VolunteerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Volunteer

    user = factory.SubFactory(ResidentFactory)
    registered_by = factory.SubFactory(OfficerFactory)
