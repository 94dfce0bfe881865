"""Who a person is on the platform, as django-rules predicates.

Every app's ``rules.py`` builds its permissions from these; nothing else inspects groups, flags or
membership rows to decide what someone may do.
"""

from __future__ import annotations

import rules

from accounts import roles


@rules.predicate
def is_verified(user) -> bool:
    return bool(user and user.is_authenticated and user.email_verified_at is not None)


@rules.predicate
def is_suspended(user) -> bool:
    return bool(user and user.is_authenticated and user.is_suspended)


@rules.predicate
def has_ward(user) -> bool:
    return bool(user and user.is_authenticated and user.ward_id is not None)


@rules.predicate
def in_resident_group(user) -> bool:
    return roles.has_role(user, roles.RESIDENT)


@rules.predicate
def is_councillor(user) -> bool:
    return roles.has_role(user, roles.COUNCILLOR)


@rules.predicate
def is_moderator(user) -> bool:
    return roles.has_role(user, roles.MODERATOR)


@rules.predicate
def is_officer(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or roles.has_role(user, roles.OFFICER)))


@rules.predicate
def is_volunteer(user) -> bool:
    if not (user and user.is_authenticated):
        return False
    volunteer = getattr(user, "volunteer", None)
    return volunteer is not None and volunteer.is_active


@rules.predicate
def is_panel_member(user, panel) -> bool:
    """Whether the person sits on ``panel`` (a ``Panel`` or its id)."""
    if not (user and user.is_authenticated) or panel is None:
        return False
    panel_id = getattr(panel, "pk", panel)
    cache = getattr(user, "_townhall_panel_ids", None)
    if cache is None:
        cache = frozenset(user.panel_memberships.values_list("panel_id", flat=True))
        user._townhall_panel_ids = cache
    return panel_id in cache


#: A resident who can take part: a confirmed email, a ward, and not suspended.
is_active_resident = is_verified & has_ward & in_resident_group & ~is_suspended

#: Council staff who run consultations.
is_council_staff = is_councillor | is_officer

#: Anyone who may take part at all (write anything): confirmed and not suspended.
can_participate = is_verified & ~is_suspended

rules.add_perm("accounts.view_own_profile", rules.is_authenticated)
rules.add_perm("accounts.manage_wards", is_officer)
rules.add_perm("accounts.manage_panels", is_officer)
rules.add_perm("accounts.register_volunteer", is_officer)
rules.add_perm("accounts.act_as_volunteer", is_volunteer & ~is_suspended)
