"""Proposals: submitting one, moving it through its lifecycle, supporting it, and recounting counters."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from consultations.models import ConsultationPage
from notifications.rendering import absolute_url
from notifications.selectors import language_for
from proposals import mails
from proposals.models import (
    KIND_MODELS,
    STATUS_TRANSITIONS,
    Comment,
    CommentState,
    Proposal,
    ProposalStatus,
    ProposalStatusChange,
    Stance,
    Support,
)
from proposals.services.common import (
    BODY_MAX,
    ProposalError,
    _clean_rich,
    _mail,
    _require,
)


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
        with translation.override(language_for(author)):
            status = str(change.get_to_status_display()).lower()
        _mail(
            kind=mails.PROPOSAL_STATUS.key,
            to=author,
            key=f"proposal-status:{change.pk}",
            context={
                "proposal": proposal.title,
                "status": status,
                "reason": reason,
                "proposal_url": absolute_url(reverse("proposals:detail", args=[proposal.pk])),
            },
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
