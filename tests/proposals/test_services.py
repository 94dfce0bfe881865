"""Services: what is stored, what is refused, and that counters and the audit log stay true."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from consultations.phases import PhaseKind
from proposals import services
from proposals.models import (
    ActionKind,
    AppealStatus,
    BudgetProposal,
    Comment,
    CommentRevision,
    CommentState,
    Flag,
    FlagOutcome,
    ModerationAction,
    PolicyProposal,
    Proposal,
    ProposalStatus,
    ProposalStatusChange,
    Support,
    Visibility,
)
from proposals.services import ProposalError
from tests import factories
from tests.factories import HOSTILE
from tests.proposals.factories import IdeaProposalFactory


def refresh(obj):
    obj.refresh_from_db()
    return obj


# --- proposals -------------------------------------------------------------------------------------------


def test_resident_submits_each_kind_with_its_own_fields(consultation, resident):
    idea = services.proposal_submit(
        consultation=consultation,
        author=resident,
        kind="idea",
        title=HOSTILE,
        summary=HOSTILE,
        body=f"<p onclick='x()'>{HOSTILE}</p>",
        who_benefits="Families",
    )
    budget = services.proposal_submit(
        consultation=consultation,
        author=resident,
        kind="budget",
        title="Benches",
        summary="More benches",
        estimated_cost_pence=125_050,
        location="Parc Afon",
    )
    policy = services.proposal_submit(
        consultation=consultation,
        author=resident,
        kind="policy",
        title="Hours",
        summary="Longer hours",
        current_policy="9 to 5",
        proposed_change="8 to 8",
    )
    assert idea.status == ProposalStatus.SUBMITTED
    assert "<script" not in idea.body and "onclick" not in idea.body
    assert isinstance(Proposal.objects.get(pk=budget.pk), BudgetProposal)
    assert Proposal.objects.get(pk=budget.pk).estimated_cost_pounds == "£1,250.50"
    assert isinstance(Proposal.objects.get(pk=policy.pk), PolicyProposal)


@pytest.mark.parametrize("phase", [PhaseKind.INFORMATION, PhaseKind.DELIBERATION, PhaseKind.VOTING])
def test_proposal_outside_the_proposals_phase_is_refused_and_nothing_stored(make_in_phase, resident, phase):
    consultation = make_in_phase(phase)
    with pytest.raises(ProposalError) as exc:
        services.proposal_submit(
            consultation=consultation, author=resident, kind="idea", title="T", summary="S"
        )
    assert "proposals phase" in exc.value.message
    assert not Proposal.objects.exists()


def test_suspended_person_cannot_propose_and_is_told_until_when(consultation, ward):
    suspended = factories.ResidentFactory(ward=ward, suspended_until=timezone.now() + timedelta(days=2))
    with pytest.raises(ProposalError) as exc:
        services.proposal_submit(
            consultation=consultation, author=suspended, kind="idea", title="T", summary="S"
        )
    assert exc.value.code == "suspended" and "suspended until" in exc.value.message
    assert not Proposal.objects.exists()


def test_oversized_and_empty_fields_are_refused(consultation, resident):
    with pytest.raises(ValidationError):
        services.proposal_submit(
            consultation=consultation, author=resident, kind="idea", title="x" * 121, summary="S"
        )
    with pytest.raises(ValidationError):
        services.proposal_submit(
            consultation=consultation, author=resident, kind="idea", title="  ", summary="S"
        )
    with pytest.raises(ValidationError):
        services.proposal_submit(
            consultation=consultation, author=resident, kind="idea", title="T", summary="S", body="x" * 10_001
        )
    with pytest.raises(ValidationError):
        services.proposal_submit(
            consultation=consultation,
            author=resident,
            kind="budget",
            title="T",
            summary="S",
            estimated_cost_pence=0,
            location="Here",
        )
    assert not Proposal.objects.exists()


def test_status_changes_need_a_reason_and_follow_the_lifecycle(proposal, councillor, resident):
    with pytest.raises(ValidationError):
        services.proposal_change_status(proposal=proposal, by=councillor, to_status="accepted", reason=" ")
    with pytest.raises(ValidationError):
        services.proposal_change_status(
            proposal=proposal, by=councillor, to_status="implemented", reason="Why"
        )
    with pytest.raises(ProposalError):
        services.proposal_change_status(proposal=proposal, by=resident, to_status="accepted", reason="Mine")
    assert not ProposalStatusChange.objects.exists()
    services.proposal_change_status(
        proposal=proposal,
        by=councillor,
        to_status="accepted",
        reason="Affordable and popular.",
        response="<p>We will build it.<script>x</script></p>",
    )
    proposal = refresh(proposal)
    assert proposal.status == ProposalStatus.ACCEPTED and proposal.status_reason == "Affordable and popular."
    assert proposal.council_response == "<p>We will build it.x</p>"
    assert ProposalStatusChange.objects.get().from_status == ProposalStatus.PUBLISHED
    assert len(mail.outbox) == 0  # sent on commit; see the view tests


def test_a_second_support_is_a_no_op_not_an_error(proposal, resident):
    assert services.support_add(proposal=proposal, user=resident) is True
    assert services.support_add(proposal=proposal, user=resident) is False
    assert Support.objects.count() == 1 and refresh(proposal).support_count == 1


def test_the_database_refuses_a_second_support_row(proposal, resident):
    Support.objects.create(proposal=proposal, user=resident)
    with pytest.raises(IntegrityError):
        Support.objects.create(proposal=proposal, user=resident)


def test_support_outside_supporting_phases_is_refused(make_in_phase, resident):
    proposal = IdeaProposalFactory(consultation=make_in_phase(PhaseKind.VOTING))
    with pytest.raises(ProposalError):
        services.support_add(proposal=proposal, user=resident)
    assert not Support.objects.exists()


def test_own_support_is_refused(consultation, resident):
    own = IdeaProposalFactory(consultation=consultation, author=resident)
    with pytest.raises(ProposalError) as exc:
        services.support_add(proposal=own, user=resident)
    assert exc.value.code == "own_proposal"


# --- threads ---------------------------------------------------------------------------------------------


def test_comments_keep_the_proposal_counters_true(proposal, resident, other_resident):
    services.comment_add(author=resident, target=proposal, body="Yes", stance="for")
    against = services.comment_add(author=other_resident, target=proposal, body="No", stance="against")
    services.comment_add(author=other_resident, target=proposal, body="How?", stance="question")
    p = refresh(proposal)
    assert (p.comment_count, p.for_count, p.against_count) == (3, 1, 1)
    services.comment_edit(comment=against, by=other_resident, body="Actually yes", stance="for")
    p = refresh(proposal)
    assert (p.comment_count, p.for_count, p.against_count) == (3, 2, 0)
    services.comment_delete(comment=against, by=other_resident)
    p = refresh(proposal)
    assert (p.comment_count, p.for_count, p.against_count) == (2, 1, 0)


def test_replies_nest_to_the_limit_and_deeper_is_refused(proposal, resident):
    parent = services.comment_add(author=resident, target=proposal, body="Level 1")
    for level in (2, 3, 4):
        parent = services.comment_add(author=resident, parent=parent, body=f"Level {level}")
    assert parent.depth == 3
    with pytest.raises(ProposalError) as exc:
        services.comment_add(author=resident, parent=parent, body="Level 5")
    assert exc.value.code == "too_deep"
    assert Comment.objects.count() == 4


def test_edit_keeps_history(comment):
    author = comment.author
    services.comment_edit(comment=comment, by=author, body="Second", stance="for")
    services.comment_edit(comment=comment, by=author, body="Third", stance="for")
    revisions = list(CommentRevision.objects.filter(comment=comment).order_by("replaced_at", "pk"))
    assert [r.body for r in revisions][1] == "<p>Second</p>"
    assert "Siân" in revisions[0].body and refresh(comment).body == "<p>Third</p>"


def test_only_the_author_edits_or_removes(comment, other_resident):
    with pytest.raises(ProposalError):
        services.comment_edit(comment=comment, by=other_resident, body="Mine now", stance="for")
    with pytest.raises(ProposalError):
        services.comment_delete(comment=comment, by=other_resident)
    assert refresh(comment).state == CommentState.VISIBLE


def test_author_removal_keeps_replies(comment, other_resident):
    reply = services.comment_add(author=other_resident, parent=comment, body="Reply")
    services.comment_delete(comment=comment, by=comment.author)
    comment = refresh(comment)
    assert comment.state == CommentState.REMOVED and comment.body == ""
    assert Comment.objects.filter(pk=reply.pk, parent=comment).exists()


def test_quote_must_come_from_the_same_thread(proposal, consultation, resident):
    elsewhere = services.comment_add(author=resident, target=consultation, body="On the consultation")
    with pytest.raises(ProposalError):
        services.comment_add(author=resident, target=proposal, body="Quoting", quoted=elsewhere)
    here = services.comment_add(author=resident, target=proposal, body="Original")
    quoting = services.comment_add(author=resident, target=proposal, body="I agree", quoted=here)
    assert quoting.quoted_id == here.pk


def test_comment_on_a_hidden_proposal_is_refused(consultation, resident):
    hidden = IdeaProposalFactory(consultation=consultation, visibility=Visibility.HIDDEN)
    with pytest.raises(ProposalError) as exc:
        services.comment_add(author=resident, target=hidden, body="Hello")
    assert exc.value.code == "hidden"
    assert not Comment.objects.exists()


def test_blank_html_comment_is_refused(proposal, resident):
    with pytest.raises(ValidationError):
        services.comment_add(author=resident, target=proposal, body="<p> </p><script></script><br>")
    assert not Comment.objects.exists()


# --- flags and moderation --------------------------------------------------------------------------------


def test_flag_rules(comment, other_resident):
    with pytest.raises(ProposalError) as exc:
        services.flag_create(reporter=comment.author, item=comment, reason="spam")
    assert exc.value.code == "own_item"
    services.flag_create(reporter=other_resident, item=comment, reason="abuse")
    with pytest.raises(ProposalError) as exc:
        services.flag_create(reporter=other_resident, item=comment, reason="spam")
    assert exc.value.code == "already_flagged"
    with pytest.raises(ValidationError):
        services.flag_create(reporter=factories.ResidentFactory(), item=comment, reason="not-a-reason")
    assert Flag.objects.count() == 1


def test_hide_and_restore_keep_counters_and_resolve_flags(proposal, moderator, resident, other_resident):
    comment = services.comment_add(author=resident, target=proposal, body="Rude", stance="against")
    services.flag_create(reporter=other_resident, item=comment, reason="abuse")
    action = services.item_hide(
        item=comment, by=moderator, reason="abuse", explanation="Insults another resident."
    )
    assert refresh(comment).state == CommentState.HIDDEN and refresh(comment).hidden_by_action == action
    assert refresh(proposal).against_count == 0 and refresh(proposal).comment_count == 0
    assert Flag.objects.get().outcome == FlagOutcome.UPHELD
    services.item_restore(item=comment, by=moderator, reason="no_breach", explanation="On reflection, fair.")
    assert refresh(comment).state == CommentState.VISIBLE
    assert refresh(proposal).against_count == 1


def test_moderation_needs_a_reason_and_a_moderator(comment, resident, moderator):
    with pytest.raises(ProposalError):
        services.item_hide(item=comment, by=resident, reason="spam", explanation="x")
    with pytest.raises(ValidationError):
        services.item_hide(item=comment, by=moderator, reason="spam", explanation="  ")
    with pytest.raises(ValidationError):
        services.item_hide(item=comment, by=moderator, reason="because", explanation="x")
    assert not ModerationAction.objects.exists()


def test_audit_log_cannot_be_edited(comment, moderator):
    action = services.item_hide(item=comment, by=moderator, reason="spam", explanation="Advert.")
    action.explanation = "Something else"
    with pytest.raises(ValidationError):
        action.save()
    with pytest.raises(ValidationError):
        ModerationAction.objects.filter(pk=action.pk).update(explanation="Rewritten")
    assert ModerationAction.objects.get(pk=action.pk).explanation == "Advert."


def test_suspension_stops_participation(proposal, moderator, resident):
    services.user_suspend(user=resident, by=moderator, reason="abuse", explanation="Repeated abuse.", days=7)
    resident = refresh(resident)
    assert resident.is_suspended
    with pytest.raises(ProposalError) as exc:
        services.comment_add(author=resident, target=proposal, body="Still here")
    assert exc.value.code == "suspended"
    with pytest.raises(ValidationError):
        services.user_suspend(user=resident, by=moderator, reason="abuse", explanation="x", days=0)


def test_appeal_once_and_overturn_restores(comment, moderator):
    author = comment.author
    action = services.item_hide(
        item=comment, by=moderator, reason="off_topic", explanation="Not about parks."
    )
    with pytest.raises(ProposalError):
        services.appeal_submit(action=action, by=moderator, statement="Not mine")
    with pytest.raises(ValidationError):
        services.appeal_submit(action=action, by=author, statement=" ")
    appeal = services.appeal_submit(action=action, by=author, statement="It is about the park's paths.")
    with pytest.raises(ProposalError) as exc:
        services.appeal_submit(action=action, by=author, statement="Again")
    assert exc.value.code == "already_appealed"
    services.appeal_review(appeal=appeal, by=moderator, overturn=True, note="You are right.")
    assert refresh(appeal).status == AppealStatus.OVERTURNED
    assert refresh(comment).state == CommentState.VISIBLE
    assert ModerationAction.objects.filter(kind=ActionKind.RESTORE, comment=comment).exists()
    with pytest.raises(ProposalError):
        services.appeal_review(appeal=appeal, by=moderator, overturn=False, note="Changed my mind")


def test_overturned_suspension_is_lifted(resident, moderator):
    action = services.user_suspend(user=resident, by=moderator, reason="spam", explanation="Adverts.", days=3)
    appeal = services.appeal_submit(action=action, by=resident, statement="Not adverts.")
    services.appeal_review(appeal=appeal, by=moderator, overturn=True, note="Agreed.")
    assert refresh(resident).suspended_until is None
    assert ModerationAction.objects.filter(kind=ActionKind.LIFT_SUSPENSION).count() == 1


def test_dismissal_is_not_appealable_and_closes_flags(comment, moderator, other_resident):
    services.flag_create(reporter=other_resident, item=comment, reason="spam")
    action = services.flags_dismiss(item=comment, by=moderator, explanation="Not spam.")
    assert Flag.objects.get().outcome == FlagOutcome.DISMISSED
    with pytest.raises(ProposalError):
        services.appeal_submit(action=action, by=comment.author, statement="?")


def test_status_must_be_valid_in_the_database(proposal):
    with pytest.raises(IntegrityError):
        Proposal.objects.filter(pk=proposal.pk).update(status="maybe")
