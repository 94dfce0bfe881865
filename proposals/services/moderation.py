"""Flags and moderation: residents flag, moderators hide, restore, dismiss, warn and suspend, and
authors appeal; every action is recorded with its reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from consultations.models import ConsultationPage
from notifications.rendering import absolute_url
from notifications.selectors import language_for
from notifications.services import moderators_notify
from proposals import live, mails
from proposals.models import (
    ActionKind,
    ActionReason,
    Appeal,
    AppealStatus,
    Comment,
    CommentState,
    Flag,
    FlagOutcome,
    ModerationAction,
    Proposal,
    Visibility,
)
from proposals.services.common import (
    ProposalError,
    _mail,
    _require,
)
from proposals.services.threads import _count


@transaction.atomic
def flag_create(*, reporter: User, item: Comment | Proposal, reason: str, note: str = "") -> Flag:
    if item.author_id == reporter.pk:
        raise ProposalError(
            _("You cannot report your own contribution. You can edit or remove it instead."), "own_item"
        )
    _require("proposals.flag", reporter, item, _("This cannot be reported now."))
    is_comment = isinstance(item, Comment)
    lookup = _about(item)
    if Flag.objects.filter(reporter=reporter, **lookup).exists():
        raise ProposalError(
            _("You have already reported this. A moderator will look at it."), "already_flagged"
        )
    flag = Flag(reporter=reporter, reason=reason, note=(note or "").strip(), **lookup)
    flag.full_clean()
    try:
        with transaction.atomic():
            flag.save()
    except IntegrityError as exc:
        raise ProposalError(
            _("You have already reported this. A moderator will look at it."), "already_flagged"
        ) from exc
    pending = Flag.objects.filter(outcome=FlagOutcome.PENDING, **lookup).count()
    item_type = "comment" if is_comment else "proposal"
    payload = {
        "item_type": item_type,
        "item_id": item.pk,
        "reason": flag.reason,
        "reason_label": flag.get_reason_display(),
        "flags": pending,
        "created_at": flag.created_at.isoformat(),
    }
    if pending == 1:  # the item's first report waiting: tell the moderators on duty once
        _tell_moderators(item, item_type=item_type, flag=flag)
    transaction.on_commit(lambda: live.broadcast_flag(flag_id=flag.pk, payload=payload))
    return flag


def _tell_moderators(item: Comment | Proposal, *, item_type: str, flag: Flag) -> None:
    consultation_id = item.consultation_id
    if consultation_id is None and isinstance(item, Comment) and item.proposal_id:
        consultation_id = (
            Proposal.objects.filter(pk=item.proposal_id).values_list("consultation_id", flat=True).first()
        )
    title = ConsultationPage.objects.filter(pk=consultation_id).values_list("title", flat=True).first() or ""
    moderators_notify(
        consultation_id=consultation_id,
        kind=mails.FLAG_RAISED.key,
        key=f"flag:{flag.pk}",
        context={
            "consultation": title,
            "item_type": item_type,
            "reason": flag.get_reason_display(),
            "item_url": absolute_url(reverse("proposals:moderation_item", args=[item_type, item.pk])),
        },
    )


# ---------------------------------------------------------------------------------------------------------
# Moderation

SUSPENSION_MAX_DAYS = 365


def _record(*, item: Comment | Proposal | None = None, **fields: Any) -> ModerationAction:
    """Save a moderation action; about ``item`` (and its author, unless told who) when given one."""
    if item is not None:
        fields = {"target_user": item.author, **fields, **_about(item)}
    action = ModerationAction(**fields)
    action.full_clean()
    action.save()
    return action


def _resolve_flags(item: Comment | Proposal, outcome: str) -> None:
    lookup = _about(item)
    Flag.objects.filter(outcome=FlagOutcome.PENDING, **lookup).update(
        outcome=outcome, resolved_at=timezone.now()
    )


def _tell_author(action: ModerationAction) -> None:
    user = action.target_user
    if user is None:
        return
    with translation.override(language_for(user)):
        what = {
            ActionKind.HIDE: _("A moderator has hidden something you wrote."),
            ActionKind.RESTORE: _("A moderator has restored something you wrote."),
            ActionKind.WARN: _("A moderator has sent you a warning."),
            ActionKind.SUSPEND: _("A moderator has suspended your account until %(until)s.")
            % {
                "until": timezone.localtime(action.suspended_until).strftime("%-d %B %Y")
                if action.suspended_until
                else ""
            },
            ActionKind.LIFT_SUSPENSION: _("Your suspension has been lifted."),
        }.get(action.kind)
        if what is None:
            return
        kind_label, reason_label = str(action.get_kind_display()), str(action.get_reason_display())
    notices_url = absolute_url(reverse("proposals:my_notices"))
    _mail(
        kind=mails.MODERATION_ACTION.key,
        to=user,
        key=f"moderation:{action.pk}",
        context={
            "action": kind_label,
            "what": what,
            "reason": reason_label,
            "explanation": action.explanation,
            "appeal_url": notices_url
            if action.kind in (ActionKind.HIDE, ActionKind.WARN, ActionKind.SUSPEND)
            else "",
            "notices_url": notices_url,
        },
    )


def _about(item: Comment | Proposal | None) -> dict[str, Any]:
    """The foreign key naming ``item`` on a flag or a moderation action (none without an item)."""
    if item is None:
        return {}
    return {"comment": item} if isinstance(item, Comment) else {"proposal": item}


def _check_user_action(*, user: User, by: User, reason: str, explanation: str) -> str:
    """What warning and suspending a person both check; returns the cleaned explanation."""
    _check_moderator(by)
    explanation = _validate_reason(reason, explanation)
    if user.pk == by.pk:
        raise ProposalError(_("You cannot moderate yourself."), "self")
    return explanation


def _check_item_action(
    *, item: Comment | Proposal, by: User, reason: str, explanation: str
) -> tuple[str, Comment | Proposal]:
    """What hiding and restoring both check; returns the cleaned explanation and the item, read again
    and locked for the rest of the transaction."""
    _check_moderator(by)
    explanation = _validate_reason(reason, explanation)
    model = type(item) if isinstance(item, Comment) else Proposal
    return explanation, model.objects.select_for_update().get(pk=item.pk)


def _check_moderator(by: User) -> None:
    _require("proposals.moderate", by, None, _("Only moderators can do this."))


def _validate_reason(reason: str, explanation: str) -> str:
    if reason not in ActionReason.values:
        raise ValidationError({"reason": _("Choose a reason.")})
    explanation = (explanation or "").strip()
    if not explanation:
        raise ValidationError({"explanation": _("Explain the decision; the author will read this.")})
    if len(explanation) > 2000:
        raise ValidationError({"explanation": _("Keep the explanation to 2000 characters or fewer.")})
    return explanation


@transaction.atomic
def item_hide(*, item: Comment | Proposal, by: User, reason: str, explanation: str) -> ModerationAction:
    explanation, item = _check_item_action(item=item, by=by, reason=reason, explanation=explanation)
    is_comment = isinstance(item, Comment)
    if (is_comment and item.state != CommentState.VISIBLE) or (not is_comment and item.is_hidden):
        raise ProposalError(_("This is not visible, so it cannot be hidden."), "not_visible")
    action = _record(
        kind=ActionKind.HIDE,
        reason=reason,
        explanation=explanation,
        moderator=by,
        item=item,
    )
    if is_comment:
        _count(item, -1)
        Comment.objects.filter(pk=item.pk).update(state=CommentState.HIDDEN, hidden_by_action=action)
    else:
        Proposal.objects.filter(pk=item.pk).update(visibility=Visibility.HIDDEN, hidden_by_action=action)
    _resolve_flags(item, FlagOutcome.UPHELD)
    _tell_author(action)
    return action


@transaction.atomic
def item_restore(*, item: Comment | Proposal, by: User, reason: str, explanation: str) -> ModerationAction:
    explanation, item = _check_item_action(item=item, by=by, reason=reason, explanation=explanation)
    is_comment = isinstance(item, Comment)
    if (is_comment and item.state != CommentState.HIDDEN) or (not is_comment and not item.is_hidden):
        raise ProposalError(_("This is not hidden, so there is nothing to restore."), "not_hidden")
    action = _record(
        kind=ActionKind.RESTORE,
        reason=reason,
        explanation=explanation,
        moderator=by,
        item=item,
    )
    if is_comment:
        Comment.objects.filter(pk=item.pk).update(state=CommentState.VISIBLE, hidden_by_action=None)
        item.state = CommentState.VISIBLE
        _count(item, +1)
    else:
        Proposal.objects.filter(pk=item.pk).update(visibility=Visibility.VISIBLE, hidden_by_action=None)
    _tell_author(action)
    return action


@transaction.atomic
def flags_dismiss(*, item: Comment | Proposal, by: User, explanation: str) -> ModerationAction:
    """The item breaks no rule: close its flags. The author is not told (nothing happened to them)."""
    _check_moderator(by)
    explanation = _validate_reason(ActionReason.NO_BREACH, explanation)
    action = _record(
        kind=ActionKind.DISMISS,
        reason=ActionReason.NO_BREACH,
        explanation=explanation,
        moderator=by,
        item=item,
    )
    _resolve_flags(item, FlagOutcome.DISMISSED)
    return action


@transaction.atomic
def user_warn(
    *, user: User, by: User, reason: str, explanation: str, item: Comment | Proposal | None = None
) -> ModerationAction:
    explanation = _check_user_action(user=user, by=by, reason=reason, explanation=explanation)
    action = _record(
        kind=ActionKind.WARN,
        reason=reason,
        explanation=explanation,
        moderator=by,
        target_user=user,
        item=item,
    )
    _tell_author(action)
    return action


@transaction.atomic
def user_suspend(
    *, user: User, by: User, reason: str, explanation: str, days: int, item: Comment | Proposal | None = None
) -> ModerationAction:
    explanation = _check_user_action(user=user, by=by, reason=reason, explanation=explanation)
    if not isinstance(days, int) or not 1 <= days <= SUSPENSION_MAX_DAYS:
        raise ValidationError(
            {"days": _("Suspend for between 1 and %(n)s days.") % {"n": SUSPENSION_MAX_DAYS}}
        )
    until: datetime = timezone.now() + timedelta(days=days)
    action = _record(
        kind=ActionKind.SUSPEND,
        reason=reason,
        explanation=explanation,
        moderator=by,
        target_user=user,
        suspended_until=until,
        item=item,
    )
    User.objects.filter(pk=user.pk).update(suspended_until=until)
    user.suspended_until = until
    _tell_author(action)
    return action


@transaction.atomic
def appeal_submit(*, action: ModerationAction, by: User, statement: str) -> Appeal:
    statement = (statement or "").strip()
    if action.target_user_id != by.pk:
        raise ProposalError(_("Only the person a decision was about can appeal it."), "forbidden")
    if Appeal.objects.filter(action=action).exists():
        raise ProposalError(
            _("You have already appealed this decision. Each decision can be appealed once."),
            "already_appealed",
        )
    _require("proposals.appeal", by, action, _("This decision cannot be appealed."))
    if not statement:
        raise ValidationError({"statement": _("Tell us why the decision should change.")})
    if len(statement) > 2000:
        raise ValidationError({"statement": _("Keep your appeal to 2000 characters or fewer.")})
    appeal = Appeal(action=action, appellant=by, statement=statement)
    appeal.full_clean()
    try:
        with transaction.atomic():
            appeal.save()
    except IntegrityError as exc:
        raise ProposalError(_("You have already appealed this decision."), "already_appealed") from exc
    return appeal


@transaction.atomic
def appeal_review(*, appeal: Appeal, by: User, overturn: bool, note: str) -> Appeal:
    _require("proposals.review_appeal", by, appeal, _("Only moderators can review appeals."))
    appeal = Appeal.objects.select_for_update().select_related("action", "appellant").get(pk=appeal.pk)
    if appeal.status != AppealStatus.PENDING:
        raise ProposalError(_("This appeal has already been decided."), "already_reviewed")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Explain the decision; the person who appealed will read this.")})
    action = appeal.action
    if overturn:
        explanation = _("On appeal: %(note)s") % {"note": note}
        if action.kind == ActionKind.HIDE and action.item is not None:
            item = action.item
            is_hidden = item.state == CommentState.HIDDEN if isinstance(item, Comment) else item.is_hidden
            if is_hidden:
                item_restore(item=item, by=by, reason=ActionReason.APPEAL, explanation=explanation)
        elif action.kind == ActionKind.SUSPEND:
            User.objects.filter(pk=appeal.appellant_id).update(suspended_until=None)
            lifted = _record(
                kind=ActionKind.LIFT_SUSPENSION,
                reason=ActionReason.APPEAL,
                explanation=explanation,
                moderator=by,
                target_user=appeal.appellant,
            )
            _tell_author(lifted)
    appeal.status = AppealStatus.OVERTURNED if overturn else AppealStatus.UPHELD
    appeal.reviewed_by, appeal.review_note, appeal.reviewed_at = by, note, timezone.now()
    appeal.full_clean()
    appeal.save()
    with translation.override(language_for(appeal.appellant)):
        outcome = str(appeal.get_status_display())
    _mail(
        kind=mails.APPEAL_DECIDED.key,
        to=appeal.appellant,
        key=f"appeal:{appeal.pk}",
        context={
            "outcome": outcome,
            "note": note,
            "notices_url": absolute_url(reverse("proposals:my_notices")),
        },
    )
    return appeal
