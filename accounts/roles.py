"""The platform's roles, as Django group names, and the one place that says who holds which."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group

if TYPE_CHECKING:
    from accounts.models import User

RESIDENT = "Residents"
COUNCILLOR = "Councillors"
MODERATOR = "Moderators"
OFFICER = "Officers"

ALL_ROLES = (RESIDENT, COUNCILLOR, MODERATOR, OFFICER)


def group_names(user: User) -> frozenset[str]:
    """The user's group names, fetched once per user object."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_townhall_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._townhall_groups = cached  # type: ignore[attr-defined]
    return cached


def has_role(user: User, role: str) -> bool:
    return role in group_names(user)


def grant(user: User, role: str) -> None:
    group, _created = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    if hasattr(user, "_townhall_groups"):
        del user._townhall_groups
