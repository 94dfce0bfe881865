"""Threads: comments and replies on consultations and proposals, their edits and deletion."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cms.sanitiser import excerpt
from consultations.models import ConsultationPage
from notifications.rendering import absolute_url
from proposals import mails
from proposals.models import (
    MAX_DEPTH,
    Comment,
    CommentRevision,
    CommentState,
    Flag,
    FlagOutcome,
    Proposal,
    Stance,
)
from proposals.services.common import (
    COMMENT_MAX,
    ProposalError,
    _clean_rich,
    _mail,
    _require,
)


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
        _mail(
            kind=mails.COMMENT_REPLY.key,
            to=parent.author,
            key=f"reply:{comment.pk}",
            context={
                "replier": author.display_name,
                "excerpt": excerpt(comment.body, 500),
                "reply_url": absolute_url(comment.get_absolute_url()),
            },
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
