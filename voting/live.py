"""Live sessions (council meetings) and votes over websockets: services, selectors and notifications.

A councillor hosts a session, queues questions, and opens and closes them one at a time. Attendees
join with a short code (or its QR code); the attendee and presenter pages follow the session over a
websocket (``voting.consumers.LiveSessionConsumer``) and work with a refresh without JavaScript.

Votes go through ``voting.services`` whichever way they arrive (over a socket, in batches by
``voting.batching``); its ``tally_changed`` signal (sent on commit) reaches the broadcaster here.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from voting import protocol
from voting.models import (
    LiveSession,
    LiveSessionQuestion,
    LiveSessionStatus,
    Option,
    Question,
    ResultsVisibility,
    SingleChoiceQuestion,
    YesNoQuestion,
)
from voting.services import question_close, question_open
from voting.signals import tally_changed

logger = logging.getLogger("townhall.live")

#: The kinds a host can put to the room from the live-session page.
LIVE_KINDS = {"yes_no": YesNoQuestion, "single": SingleChoiceQuestion}
MAX_LIVE_OPTIONS = 8


# Notifications ----------------------------------------------------------------------------------
@receiver(tally_changed, dispatch_uid="townhall-live-tally-changed")
def _on_tally_changed(sender: Any, question_id: int, seq: int | None = None, **kwargs: Any) -> None:
    from voting.broadcast import broadcaster

    try:
        broadcaster.tally_changed(question_id)
    except Exception:  # a lost broadcast costs a refresh; it must never fail a vote
        logger.exception("Could not schedule the tally broadcast of question %s", question_id)


def _tell_sockets(group: str, event_type: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": event_type, "group": group})
    except Exception:  # a lost event costs a socket open until its next vote's re-check
        logger.exception("Could not tell the sockets of %s", group)


@receiver(user_logged_out, dispatch_uid="townhall-live-signed-out")
def close_sockets_of_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Signing out closes the websockets opened with that browser session."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        _tell_sockets(protocol.auth_group(session_key), protocol.EVENT_SIGNED_OUT)


#: The account fields that decide whether a browser session stays signed in.
SIGN_IN_FIELDS = frozenset({"password", "is_active"})


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="townhall-live-sign-in-change")
def _note_sign_in_change(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kw: Any
) -> None:
    """Before an account is saved: note whether its password changes or it is deactivated (a save of
    other fields only, such as ``last_login`` at sign-in, costs nothing)."""
    instance._townhall_sign_in_changed = False
    if raw or instance.pk is None or (update_fields is not None and not SIGN_IN_FIELDS & set(update_fields)):
        return
    before = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    instance._townhall_sign_in_changed = before is not None and (
        before["password"] != instance.password or (before["is_active"] and not instance.is_active)
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="townhall-live-sign-in-changed")
def close_sockets_on_sign_in_change(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A password change or a deactivation makes every socket of the person re-check its session once
    committed: those of sessions no longer valid close (``voting.sockets.ProtocolConsumer``)."""
    if getattr(instance, "_townhall_sign_in_changed", False):
        instance._townhall_sign_in_changed = False
        group = protocol.user_group(instance.pk)
        transaction.on_commit(lambda: _tell_sockets(group, protocol.EVENT_AUTH_CHANGED))


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="townhall-live-account-deleted")
def close_sockets_of_deleted_account(sender: Any, instance: Any, **kwargs: Any) -> None:
    group = protocol.user_group(instance.pk)
    transaction.on_commit(lambda: _tell_sockets(group, protocol.EVENT_AUTH_CHANGED))


def _announce(session: LiveSession) -> None:
    """After commit: tell everyone in the session what is on screen now."""
    session_id, code = session.pk, session.code

    def send() -> None:
        state = session_state(code=code)
        layer = get_channel_layer()
        if state is None or layer is None:
            return
        try:
            group = protocol.session_group(session_id)
            async_to_sync(layer.group_send)(
                group, {"type": protocol.EVENT_SESSION, "group": group, "state": state}
            )
        except Exception:
            logger.exception("Could not announce live session %s", session_id)

    transaction.on_commit(send)


# Services ---------------------------------------------------------------------------------------
@transaction.atomic
def live_session_create(*, host: Any, title: str) -> LiveSession:
    session = LiveSession(title=title.strip(), host=host)
    session.full_clean(exclude=["code"])
    for _attempt in range(5):
        if not LiveSession.objects.filter(code=session.code).exists():
            break
        session.code = LiveSession._meta.get_field("code").get_default()
    session.save()
    return session


@transaction.atomic
def live_session_add_question(
    *, session: LiveSession, title: str, kind: str, options: list[str], hide_results: bool = False
) -> Question:
    """Queue a new question at the end of the session (closed until the host opens it)."""
    if session.status != LiveSessionStatus.LIVE:
        raise ValidationError("This session has ended.")
    model = LIVE_KINDS.get(kind)
    if model is None:
        raise ValidationError({"kind": "Choose the kind of question."})
    labels = [label.strip() for label in options if label.strip()]
    if model.has_options and not 2 <= len(labels) <= MAX_LIVE_OPTIONS:
        raise ValidationError({"options": f"Give between 2 and {MAX_LIVE_OPTIONS} choices, one per line."})
    if model.has_options and len({label.casefold() for label in labels}) != len(labels):
        raise ValidationError({"options": "Each choice must be different."})
    question = model(
        title=title.strip(),
        results_visibility=ResultsVisibility.AFTER_CLOSE if hide_results else ResultsVisibility.LIVE,
    )
    question.full_clean()
    question.save()
    if model.has_options:
        for position, label in enumerate(labels):
            option = Option(question=question, label=label[:200], sort_order=position)
            option.full_clean(exclude=["question"])
            option.save()
    last = session.items.aggregate(last=Max("position"))["last"]
    LiveSessionQuestion.objects.create(session=session, question=question, position=(last or 0) + 1)
    return question


def _locked(session: LiveSession) -> LiveSession:
    return LiveSession.objects.select_for_update().get(pk=session.pk)


@transaction.atomic
def live_session_open_question(*, session: LiveSession, item: LiveSessionQuestion) -> LiveSession:
    """Put ``item`` on screen and open it for votes, closing the question open before it."""
    session = _locked(session)
    if session.status != LiveSessionStatus.LIVE:
        raise ValidationError("This session has ended.")
    if item.session_id != session.pk:
        raise ValidationError("That question is not part of this session.")
    for other in session.items.select_related("question").exclude(pk=item.pk):
        if other.question.is_open:
            question_close(question=other.question)
    if not item.question.is_open:
        question_open(question=item.question)
    session.current = item
    session.save(update_fields=["current"])
    _announce(session)
    return session


@transaction.atomic
def live_session_close_question(*, session: LiveSession) -> LiveSession:
    """Close the question on screen; its result stays on screen."""
    session = _locked(session)
    if session.current is not None and session.current.question.is_open:
        question_close(question=session.current.question)
    _announce(session)
    return session


@transaction.atomic
def live_session_end(*, session: LiveSession) -> LiveSession:
    session = _locked(session)
    if session.status == LiveSessionStatus.ENDED:
        return session
    for item in session.items.select_related("question"):
        if item.question.is_open:
            question_close(question=item.question)
    session.status = LiveSessionStatus.ENDED
    session.ended_at = timezone.now()
    session.full_clean(exclude=["code"])
    session.save(update_fields=["status", "ended_at"])
    _announce(session)
    return session


# Selectors --------------------------------------------------------------------------------------
def live_session_detail(*, code: str) -> LiveSession | None:
    """A session with its queue, each question as its own kind with its options, in four queries."""
    code = (code or "").strip().upper()
    session = LiveSession.objects.select_related("host", "current").filter(code=code).first()
    if session is None:
        return None
    items = list(session.items.select_related("question"))
    questions = {q.pk: q for q in Question.objects.filter(pk__in=[i.question_id for i in items])}
    options: dict[int, list[Option]] = {pk: [] for pk in questions}
    for option in Option.objects.filter(question_id__in=list(questions)).order_by("sort_order", "pk"):
        options[option.question_id].append(option)
    for item in items:
        item.question = questions[item.question_id]
        item.question._option_list = options[item.question_id]
    session.item_list = items
    session.current_item = next((i for i in items if i.pk == session.current_id), None)
    return session


def session_state(*, code: str) -> dict[str, Any] | None:
    """What every attendee's screen shows: the session and the question on screen (no numbers)."""
    session = live_session_detail(code=code)
    if session is None:
        return None
    item = session.current_item
    question = item.question if item else None
    return {
        "session": session.pk,
        "code": session.code,
        "title": session.title,
        "status": session.status,
        "question": question.pk if question else None,
        "question_title": question.title if question else "",
        "kind": question.kind if question else None,
        "options": [{"key": o.key, "label": o.label} for o in question.option_list] if question else [],
        "accepting": bool(question and question.is_open and session.status == LiveSessionStatus.LIVE),
    }


def live_sessions_now(*, limit: int = 3) -> list[LiveSession]:
    """Sessions running now, newest first, for the home page."""
    return list(LiveSession.objects.filter(status=LiveSessionStatus.LIVE).order_by("-created_at")[:limit])


def live_sessions_hosted_by(*, user: Any) -> list[LiveSession]:
    return list(LiveSession.objects.filter(host=user).order_by("-created_at")[:20])


def options_prefetch() -> Prefetch:
    return Prefetch("options", queryset=Option.objects.order_by("sort_order", "pk"))
