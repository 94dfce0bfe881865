"""Reads about people and places."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import PanelMembership, PostcodePrefix, User, Ward, normalise_postcode


def ward_for_postcode(postcode: str) -> Ward:
    """The ward a postcode lies in, by the longest matching prefix.

    Raises ``ValidationError`` with code ``invalid_postcode`` for something that is not a postcode,
    and ``outside_council`` for a real postcode that no ward of this council covers.
    """
    normalised = normalise_postcode(postcode)
    outward, inward = normalised.split(" ")
    candidates = {outward}
    candidates.update(f"{outward} {inward[:n]}" for n in range(1, len(inward) + 1))
    match = (
        PostcodePrefix.objects.filter(prefix__in=candidates)
        .select_related("ward")
        .order_by("-prefix")
        .first()
    )
    if match is None:
        raise ValidationError(
            _("%(postcode)s is not in this council's area. Check the postcode, or contact your own council.")
            % {"postcode": normalised},
            code="outside_council",
        )
    return match.ward


def voters_by_id(user_ids: Iterable[int]) -> dict[int, User]:
    """Fresh, active people by id, ready for many permission checks in three queries whatever their number.

    Their groups and panel memberships are fetched together and kept on each object as
    ``accounts.roles`` and ``accounts.rules`` expect, so no check queries again. A long-lived
    connection (a websocket) uses this to see suspensions and role changes as soon as they happen.
    """
    users = {user.pk: user for user in User.objects.filter(pk__in=set(user_ids), is_active=True)}
    groups: dict[int, set[str]] = {pk: set() for pk in users}
    for user_id, name in User.groups.through.objects.filter(user_id__in=users).values_list(
        "user_id", "group__name"
    ):
        groups[user_id].add(name)
    panels: dict[int, set[int]] = {pk: set() for pk in users}
    memberships = PanelMembership.objects.filter(user_id__in=users).values_list("user_id", "panel_id")
    for user_id, panel_id in memberships:
        panels[user_id].add(panel_id)
    for pk, user in users.items():
        user._townhall_groups = frozenset(groups[pk])
        user._townhall_panel_ids = frozenset(panels[pk])
    return users
