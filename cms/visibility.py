"""The visibility gate: may this person see this object now, and may they act on it now?

Every view, form, template tag, socket and helper that shows or writes something belonging to a
consultation asks here, and nowhere else. An object is seen only when it and every object above it
(a comment's proposal, a proposal's consultation page, the pages above that) may be seen:

- a Wagtail page must be published (council staff may preview a draft), and the person must pass its
  view restrictions and those of the pages above it (password, sign-in, groups), exactly as Wagtail
  judges them when it serves the page (``PageViewRestriction.accept_request``);
- a contribution a moderator hid is seen only by moderators, council staff and its author;
- a contribution its author removed keeps its place (its words are gone, see ``comment_delete``).

Acting (commenting, replying, supporting, reporting, voting) needs more: everything in the chain is
visible (not hidden, not removed), every page is published, the consultation is open, and a
question is open for votes. Who is eligible and which phase allows what stay in each app's
``rules.py``; those permissions ask this gate first.

The lower layer knows nothing of proposals or questions: each app tells the gate about its own
models with ``register`` (from its ``rules.py``), so a new kind of object is one call.

Who is looking: a request, a websocket scope, a ``Looker``, or a bare user. A password is
something a browser gives, so only a caller holding the browser session (a request or a scope) can
pass a password restriction; with a bare user (the services, which views and sockets call after
asking the gate themselves) password restrictions are left to that caller and every other check is
made.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import rules
from django.contrib.auth.models import AnonymousUser
from wagtail.models import BaseViewRestriction, Page

from accounts.rules import is_council_staff, is_moderator


class State(enum.Enum):
    VISIBLE = "visible"
    #: Hidden by a moderator: moderators, council staff and the author still see it.
    HIDDEN = "hidden"
    #: Removed by its author: its place stays, its words are gone; nobody acts on it.
    REMOVED = "removed"


@dataclass(frozen=True)
class Kind:
    """What the gate needs to know about one model. A page kind needs only ``accepting`` (its
    consultation is open); publication and view restrictions are Wagtail's own."""

    #: The object this one belongs to (a page, a proposal), or None.
    parent: Callable[[Any], Any]
    #: Its moderation state.
    state: Callable[[Any], State]
    #: Whether it takes part now (a question open for votes); always true when not given.
    accepting: Callable[[Any], bool]


_KINDS: dict[type, Kind] = {}


def register(
    model: type,
    *,
    parent: Callable[[Any], Any] | None = None,
    state: Callable[[Any], State] | None = None,
    accepting: Callable[[Any], bool] | None = None,
) -> None:
    """Tell the gate about a model (and its subclasses)."""
    _KINDS[model] = Kind(
        parent=parent or (lambda obj: None),
        state=state or (lambda obj: State.VISIBLE),
        accepting=accepting or (lambda obj: True),
    )


def _kind(obj: Any) -> Kind | None:
    for cls in type(obj).__mro__:
        kind = _KINDS.get(cls)
        if kind is not None:
            return kind
    return None


def _known(obj: Any) -> Kind:
    kind = _kind(obj)
    if kind is None:
        raise TypeError(f"The visibility gate does not know {type(obj).__name__}: register it.")
    return kind


@dataclass(frozen=True)
class Looker:
    """Who is looking: the person and, when known, their browser session (for page passwords)."""

    user: Any
    session: Mapping[str, Any] | None = None


def looker(who: Any) -> Looker:
    """The ``Looker`` for a request, a websocket scope, a ``Looker`` or a user."""
    if isinstance(who, Looker):
        return who
    if isinstance(who, Mapping):  # an ASGI scope
        return Looker(user=who.get("user") or AnonymousUser(), session=who.get("session") or {})
    if hasattr(who, "session") and hasattr(who, "user"):  # a request
        return Looker(user=who.user, session=who.session)
    return Looker(user=who if who is not None else AnonymousUser())


def _chain(obj: Any):
    """The object, then what it belongs to, up to its page (and the pages above are the page's)."""
    while obj is not None:
        yield obj
        obj = None if isinstance(obj, Page) else _known(obj).parent(obj)


def _restrictions(page: Page) -> list:
    """The page's view restrictions and its ancestors', read once per page object."""
    cached = page.__dict__.get("_townhall_restrictions")
    if cached is None:
        cached = list(page.get_view_restrictions().prefetch_related("groups"))
        page.__dict__["_townhall_restrictions"] = cached
    return cached


def _passes(who: Looker, restriction) -> bool:
    if restriction.restriction_type == BaseViewRestriction.PASSWORD and who.session is None:
        return True  # left to the caller holding the browser session (see the module's docstring)
    return bool(restriction.accept_request(who))


def _sees_page(who: Looker, page: Page) -> bool:
    if not page.live and not is_council_staff(who.user):
        return False
    return all(_passes(who, restriction) for restriction in _restrictions(page))


def _is_author(user: Any, obj: Any) -> bool:
    author_id = getattr(obj, "author_id", None)
    return bool(user is not None and user.is_authenticated and author_id is not None and author_id == user.pk)


def _sees(who: Looker, obj: Any) -> bool:
    if isinstance(obj, Page):
        return _sees_page(who, obj)
    state = _known(obj).state(obj)
    if state is State.HIDDEN:
        return bool(is_moderator(who.user) or is_council_staff(who.user) or _is_author(who.user, obj))
    return True


def _open(obj: Any) -> bool:
    kind = _kind(obj)
    if isinstance(obj, Page):
        return bool(obj.live) and (kind is None or kind.accepting(obj))
    kind = _known(obj)
    return kind.state(obj) is State.VISIBLE and kind.accepting(obj)


def may_see(who: Any, obj: Any) -> bool:
    """Whether this person may see this object now (and so anything of it: text, tally, history)."""
    if obj is None:
        return False
    viewer = looker(who)
    return all(_sees(viewer, link) for link in _chain(obj))


def may_act(who: Any, obj: Any) -> bool:
    """Whether this person may take part on this object now: it is seen, visible, published, open.

    Whether they are eligible, and what the phase allows, is then each app's rule."""
    if obj is None:
        return False
    viewer = looker(who)
    return all(_sees(viewer, link) and _open(link) for link in _chain(obj))


#: The same two questions as django-rules predicates, for the apps' permissions (``user, obj``).
is_seen_by = rules.predicate(lambda user, obj: may_see(user, obj), name="is_seen_by")
is_open_to = rules.predicate(lambda user, obj: may_act(user, obj), name="is_open_to")
