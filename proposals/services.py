"""Writes: proposals, supports, comments, flags, moderation actions and appeals.

Every service is keyword-only, checks the rules itself (so a view, a consumer or a script cannot skip
them), validates with ``full_clean()``, keeps the proposal's counters in the same transaction, and
schedules emails and live broadcasts with ``transaction.on_commit``. Refusals raise
``ProposalError`` with a message meant for the person who tried.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import rules
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cms.sanitiser import excerpt, is_blank_html, sanitise_html
from consultations.models import ConsultationPage
from proposals import live
from proposals.models import (
    KIND_MODELS,
    MAX_DEPTH,
    STATUS_TRANSITIONS,
    ActionKind,
    ActionReason,
    Appeal,
    AppealStatus,
    Comment,
    CommentRevision,
    CommentState,
    Flag,
    FlagOutcome,
    ModerationAction,
    Proposal,
    ProposalStatus,
    ProposalStatusChange,
    Stance,
    Support,
    Visibility,
)


class ProposalError(Exception):
    """A refusal, with a message for the person and a short code for tests and websockets."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _require(perm: str, user: User, obj: Any, message: str, code: str = "forbidden") -> None:
    if not rules.has_perm(perm, user, obj):
        if user.is_authenticated and getattr(user, "is_suspended", False):
            until = timezone.localtime(user.suspended_until)
            raise ProposalError(
                _("Your account is suspended until %(until)s. You can read, but not take part.")
                % {"until": until.strftime("%-d %B %Y, %H:%M")},
                "suspended",
            )
        raise ProposalError(message, code)


def _clean_rich(raw: str, *, field: str, max_length: int, required: bool = True) -> str:
    if raw and len(raw) > max_length:
        raise ValidationError({field: _("Keep this to %(n)s characters or fewer.") % {"n": max_length}})
    body = sanitise_html(raw)
    if required and is_blank_html(body):
        raise ValidationError({field: _("Write something here.")})
    return body


def _on_commit_mail(*, to: str | None, subject: str, body: str) -> None:
    if to:
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=True)
        )


# ---------------------------------------------------------------------------------------------------------
# Proposals

BODY_MAX = 10_000
COMMENT_MAX = 5_000


@transaction.atomic
def proposal_submit(
    *,
    consultation: ConsultationPage,
    author: User,
    kind: str,
    title: str,
    summary: str,
    body: str = "",
    ward=None,
    **kind_fields: Any,
) -> Proposal:
    _require(
        "proposals.add_proposal",
        author,
        consultation,
        _(
            "Proposals can only be submitted while this consultation's proposals phase is open, by people "
            "who can take part in it."
        ),
        "not_allowed",
    )
    model = KIND_MODELS.get(kind)
    if model is None:
        raise ValidationError({"kind": _("Choose what kind of proposal this is.")})
    proposal = model(
        consultation=consultation,
        author=author,
        title=title.strip(),
        summary=summary.strip(),
        body=_clean_rich(body, field="body", max_length=BODY_MAX, required=False),
        ward=ward,
        status=ProposalStatus.SUBMITTED,
        **kind_fields,
    )
    proposal.full_clean()
    proposal.save()
    return proposal


@transaction.atomic
def proposal_change_status(
    *, proposal: Proposal, by: User, to_status: str, reason: str, response: str = ""
) -> ProposalStatusChange:
    _require("proposals.change_status", by, proposal, _("Only council staff can change a proposal's status."))
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": _("Give the reason for this change; the proposer and everyone else will see it.")}
        )
    if len(reason) > 2000:
        raise ValidationError({"reason": _("Keep the reason to 2000 characters or fewer.")})
    if to_status not in STATUS_TRANSITIONS.get(proposal.status, ()):
        raise ValidationError(
            {
                "to_status": _("A proposal that is %(now)s cannot become %(to)s.")
                % {
                    "now": proposal.get_status_display().lower(),
                    "to": dict(ProposalStatus.choices).get(to_status, to_status).lower(),
                }
            }
        )
    now = timezone.now()
    change = ProposalStatusChange(
        proposal=proposal,
        from_status=proposal.status,
        to_status=to_status,
        reason=reason,
        changed_by=by,
        created_at=now,
    )
    change.full_clean()
    change.save()
    fields = {"status": to_status, "status_reason": reason, "status_changed_at": now}
    cleaned_response = _clean_rich(response, field="response", max_length=BODY_MAX, required=False)
    if cleaned_response:
        fields.update(council_response=cleaned_response, council_response_at=now)
    Proposal.objects.filter(pk=proposal.pk).update(**fields)
    author = proposal.author
    if author is not None:
        _on_commit_mail(
            to=author.email,
            subject=_("Your proposal is now %(status)s") % {"status": change.get_to_status_display().lower()},
            body=_("Your proposal “%(title)s” is now %(status)s.\n\nWhy: %(reason)s\n")
            % {"title": proposal.title, "status": change.get_to_status_display().lower(), "reason": reason},
        )
    return change


@transaction.atomic
def support_add(*, proposal: Proposal, user: User) -> bool:
    """Support a proposal. Returns False (and changes nothing) if the person already supports it."""
    if Support.objects.filter(proposal=proposal, user=user).exists():
        return False
    if proposal.author_id == user.pk:
        raise ProposalError(_("You cannot support your own proposal."), "own_proposal")
    _require(
        "proposals.support_proposal",
        user,
        proposal,
        _(
            "This proposal cannot be supported now: supports are open during the proposals and deliberation "
            "phases, to people who can take part in this consultation."
        ),
        "not_allowed",
    )
    try:
        with transaction.atomic():
            Support.objects.create(proposal=proposal, user=user)
    except IntegrityError:
        return False  # Someone's second click won the race; the first support stands.
    Proposal.objects.filter(pk=proposal.pk).update(support_count=F("support_count") + 1)
    return True


# ---------------------------------------------------------------------------------------------------------
# Threads


def _counter_delta(comment: Comment, sign: int) -> dict[str, Any]:
    fields: dict[str, Any] = {"comment_count": F("comment_count") + sign}
    if comment.stance == Stance.FOR:
        fields["for_count"] = F("for_count") + sign
    elif comment.stance == Stance.AGAINST:
        fields["against_count"] = F("against_count") + sign
    return fields


def _count(comment: Comment, sign: int) -> None:
    """Visible comments are counted on their proposal; hidden and removed ones are not."""
    if comment.proposal_id:
        Proposal.objects.filter(pk=comment.proposal_id).update(**_counter_delta(comment, sign))


@transaction.atomic
def comment_add(
    *,
    author: User,
    body: str,
    target: ConsultationPage | Proposal | None = None,
    parent: Comment | None = None,
    stance: str = Stance.NEUTRAL,
    quoted: Comment | None = None,
) -> Comment:
    if parent is not None:
        _require(
            "proposals.reply_comment",
            author,
            parent,
            _(
                "You cannot reply to this comment: the discussion is closed, the comment is not visible, "
                "or you cannot take part in this consultation."
            ),
            "not_allowed",
        )
        if parent.depth + 1 >= MAX_DEPTH:
            raise ProposalError(
                _(
                    "Replies can only go %(n)s levels deep, so they stay readable. Reply to the comment "
                    "above this one instead, or quote this one."
                )
                % {"n": MAX_DEPTH},
                "too_deep",
            )
        consultation_id, proposal_id, depth = parent.consultation_id, parent.proposal_id, parent.depth + 1
    else:
        if target is None:
            raise ProposalError(_("Say what you are commenting on."), "no_target")
        if isinstance(target, Proposal) and target.is_hidden:
            raise ProposalError(
                _("This proposal has been hidden by a moderator, so it cannot be discussed."), "hidden"
            )
        _require(
            "proposals.add_comment",
            author,
            target,
            _(
                "Comments are not open here: the consultation's current phase does not take comments, or you "
                "cannot take part in it."
            ),
            "not_allowed",
        )
        is_proposal = isinstance(target, Proposal)
        consultation_id = None if is_proposal else target.pk
        proposal_id = target.pk if is_proposal else None
        depth = 0
    if quoted is not None and (quoted.proposal_id, quoted.consultation_id) != (proposal_id, consultation_id):
        raise ProposalError(_("You can only quote a comment from the same discussion."), "bad_quote")
    if quoted is not None and not quoted.is_visible:
        raise ProposalError(_("That comment is no longer visible, so it cannot be quoted."), "bad_quote")
    comment = Comment(
        consultation_id=consultation_id,
        proposal_id=proposal_id,
        parent=parent,
        depth=depth,
        author=author,
        stance=stance,
        quoted=quoted,
        body=_clean_rich(body, field="body", max_length=COMMENT_MAX),
    )
    comment.full_clean()
    comment.save()
    _count(comment, +1)
    if parent is not None and parent.author_id and parent.author_id != author.pk:
        _on_commit_mail(
            to=parent.author.email,
            subject=_("New reply to your comment"),
            body=_("%(name)s replied to your comment:\n\n%(text)s\n")
            % {"name": author.display_name, "text": excerpt(comment.body, 500)},
        )
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, by: User, body: str, stance: str) -> Comment:
    _require("proposals.edit_comment", by, comment, _("You can only edit your own visible comments."))
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    new_body = _clean_rich(body, field="body", max_length=COMMENT_MAX)
    if new_body == comment.body and stance == comment.stance:
        return comment
    CommentRevision.objects.create(
        comment=comment,
        body=comment.body,
        stance=comment.stance,
        written_at=comment.edited_at or comment.created_at,
    )
    if stance != comment.stance:
        _count(comment, -1)
    old_stance = comment.stance
    comment.body, comment.stance, comment.edited_at = new_body, stance, timezone.now()
    comment.full_clean()
    comment.save(update_fields=["body", "stance", "edited_at"])
    if stance != old_stance:
        _count(comment, +1)
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, by: User) -> Comment:
    """The author removes their comment: its words go, its place and its replies stay."""
    _require("proposals.delete_comment", by, comment, _("You can only remove your own comments."))
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.state == CommentState.VISIBLE:
        _count(comment, -1)
    CommentRevision.objects.filter(comment=comment).delete()
    comment.state, comment.body = CommentState.REMOVED, ""
    comment.save(update_fields=["state", "body"])
    Flag.objects.filter(comment=comment, outcome=FlagOutcome.PENDING).update(
        outcome=FlagOutcome.DISMISSED, resolved_at=timezone.now()
    )
    return comment


# ---------------------------------------------------------------------------------------------------------
# Flags


@transaction.atomic
def flag_create(*, reporter: User, item: Comment | Proposal, reason: str, note: str = "") -> Flag:
    if item.author_id == reporter.pk:
        raise ProposalError(
            _("You cannot report your own contribution. You can edit or remove it instead."), "own_item"
        )
    _require("proposals.flag", reporter, item, _("This cannot be reported now."))
    is_comment = isinstance(item, Comment)
    lookup = {"comment": item} if is_comment else {"proposal": item}
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
    payload = {
        "item_type": "comment" if is_comment else "proposal",
        "item_id": item.pk,
        "reason": flag.reason,
        "reason_label": flag.get_reason_display(),
        "flags": Flag.objects.filter(outcome=FlagOutcome.PENDING, **lookup).count(),
        "created_at": flag.created_at.isoformat(),
    }
    transaction.on_commit(lambda: live.broadcast_flag(flag_id=flag.pk, payload=payload))
    return flag


# ---------------------------------------------------------------------------------------------------------
# Moderation

SUSPENSION_MAX_DAYS = 365


def _record(**fields: Any) -> ModerationAction:
    action = ModerationAction(**fields)
    action.full_clean()
    action.save()
    return action


def _resolve_flags(item: Comment | Proposal, outcome: str) -> None:
    lookup = {"comment": item} if isinstance(item, Comment) else {"proposal": item}
    Flag.objects.filter(outcome=FlagOutcome.PENDING, **lookup).update(
        outcome=outcome, resolved_at=timezone.now()
    )


def _tell_author(action: ModerationAction) -> None:
    user = action.target_user
    if user is None:
        return
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
    appeal = (
        _("\nYou can appeal once, from your moderation notices page: %(path)s")
        % {"path": reverse("proposals:my_notices")}
        if action.kind in (ActionKind.HIDE, ActionKind.WARN, ActionKind.SUSPEND)
        else ""
    )
    _on_commit_mail(
        to=user.email,
        subject=_("About your contribution: %(kind)s") % {"kind": action.get_kind_display()},
        body=f"{what}\n\n{_('Reason')}: {action.get_reason_display()}\n{action.explanation}\n{appeal}",
    )


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
    _check_moderator(by)
    explanation = _validate_reason(reason, explanation)
    model = type(item) if isinstance(item, Comment) else Proposal
    item = model.objects.select_for_update().get(pk=item.pk)
    is_comment = isinstance(item, Comment)
    if (is_comment and item.state != CommentState.VISIBLE) or (not is_comment and item.is_hidden):
        raise ProposalError(_("This is not visible, so it cannot be hidden."), "not_visible")
    action = _record(
        kind=ActionKind.HIDE,
        reason=reason,
        explanation=explanation,
        moderator=by,
        target_user=item.author,
        **({"comment": item} if is_comment else {"proposal": item}),
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
    _check_moderator(by)
    explanation = _validate_reason(reason, explanation)
    model = type(item) if isinstance(item, Comment) else Proposal
    item = model.objects.select_for_update().get(pk=item.pk)
    is_comment = isinstance(item, Comment)
    if (is_comment and item.state != CommentState.HIDDEN) or (not is_comment and not item.is_hidden):
        raise ProposalError(_("This is not hidden, so there is nothing to restore."), "not_hidden")
    action = _record(
        kind=ActionKind.RESTORE,
        reason=reason,
        explanation=explanation,
        moderator=by,
        target_user=item.author,
        **({"comment": item} if is_comment else {"proposal": item}),
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
    is_comment = isinstance(item, Comment)
    action = _record(
        kind=ActionKind.DISMISS,
        reason=ActionReason.NO_BREACH,
        explanation=explanation,
        moderator=by,
        target_user=item.author,
        **({"comment": item} if is_comment else {"proposal": item}),
    )
    _resolve_flags(item, FlagOutcome.DISMISSED)
    return action


@transaction.atomic
def user_warn(
    *, user: User, by: User, reason: str, explanation: str, item: Comment | Proposal | None = None
) -> ModerationAction:
    _check_moderator(by)
    explanation = _validate_reason(reason, explanation)
    if user.pk == by.pk:
        raise ProposalError(_("You cannot moderate yourself."), "self")
    related = {} if item is None else ({"comment": item} if isinstance(item, Comment) else {"proposal": item})
    action = _record(
        kind=ActionKind.WARN,
        reason=reason,
        explanation=explanation,
        moderator=by,
        target_user=user,
        **related,
    )
    _tell_author(action)
    return action


@transaction.atomic
def user_suspend(
    *, user: User, by: User, reason: str, explanation: str, days: int, item: Comment | Proposal | None = None
) -> ModerationAction:
    _check_moderator(by)
    explanation = _validate_reason(reason, explanation)
    if user.pk == by.pk:
        raise ProposalError(_("You cannot moderate yourself."), "self")
    if not isinstance(days, int) or not 1 <= days <= SUSPENSION_MAX_DAYS:
        raise ValidationError(
            {"days": _("Suspend for between 1 and %(n)s days.") % {"n": SUSPENSION_MAX_DAYS}}
        )
    until: datetime = timezone.now() + timedelta(days=days)
    related = {} if item is None else ({"comment": item} if isinstance(item, Comment) else {"proposal": item})
    action = _record(
        kind=ActionKind.SUSPEND,
        reason=reason,
        explanation=explanation,
        moderator=by,
        target_user=user,
        suspended_until=until,
        **related,
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
    _on_commit_mail(
        to=appeal.appellant.email,
        subject=_("Your appeal has been decided"),
        body=_("%(outcome)s\n\n%(note)s\n") % {"outcome": appeal.get_status_display(), "note": note},
    )
    return appeal


def proposal_counters_recount(*, proposals) -> int:
    """Recompute the counters of ``proposals`` (a queryset) from the rows they count.

    The services keep counters in step as they write; this is for bulk loads (the demo, imports) and for
    checking that they did. Returns the number of proposals updated.
    """
    from django.db.models import Count, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    def counted(qs):
        return Coalesce(
            Subquery(
                qs.values("proposal").annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()
            ),
            0,
        )

    visible = Comment.objects.filter(proposal=OuterRef("pk"), state=CommentState.VISIBLE)
    return proposals.non_polymorphic().update(
        support_count=counted(Support.objects.filter(proposal=OuterRef("pk"))),
        comment_count=counted(visible),
        for_count=counted(visible.filter(stance=Stance.FOR)),
        against_count=counted(visible.filter(stance=Stance.AGAINST)),
    )
