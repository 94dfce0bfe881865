"""Background jobs about consultations."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from consultations import mails
from consultations.models import Outcome
from consultations.selectors import Participant, consultation_participants
from notifications.rendering import absolute_url, page_url
from notifications.services import Recipient, mails_enqueue_many
from notifications.tasks import BACKEND


def _contributions(p: Participant, consultation_url: str) -> str:
    lines = [
        _("You proposed “%(title)s”: %(url)s")
        % {"title": title, "url": absolute_url(reverse("proposals:detail", args=[pk]))}
        for pk, title in p.proposals
    ]
    if p.supported:
        lines.append(
            ngettext("You supported %(n)d proposal.", "You supported %(n)d proposals.", p.supported)
            % {"n": p.supported}
        )
    if p.commented:
        lines.append(_("You took part in the discussion."))
    if p.voted:
        lines.append(
            ngettext("You voted on %(n)d question: %(url)s", "You voted on %(n)d questions: %(url)s", p.voted)
            % {"n": p.voted, "url": consultation_url}
        )
    if p.asked_wider_say:
        lines.append(_("You asked for a wider say."))
    return "\n".join(lines)


@task(backend=BACKEND)
def announce_outcome(outcome_id: int) -> dict[str, int]:
    """Tell everyone who took part in a consultation what was decided, once each, in their language.

    Idempotent: each mail's key names the outcome and the person, so running this again (after a
    worker stopped half-way, or from the admin) queues only the mails not yet queued.
    """
    outcome = Outcome.objects.select_related("consultation").get(pk=outcome_id)
    page = outcome.consultation
    people = consultation_participants(page)
    consultation_url = page_url(page)
    outcome_url = page_url(page, anchor="outcome-heading")
    users = (
        get_user_model()
        .objects.filter(pk__in=list(people), is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", "email", "display_name", "mail_preference__language")
    )

    def recipients():
        for pk, email, name, language in list(users):
            language = language or "en"
            with translation.override(language):
                contributions = _contributions(people[pk], consultation_url)
            yield Recipient(
                email=email,
                user_id=pk,
                language=language,
                key=f"outcome:{outcome.pk}:{pk}",
                context={
                    "name": name,
                    "consultation": page.title,
                    "decision": outcome.decision,
                    "outcome_url": outcome_url,
                    "contributions": contributions,
                },
            )

    queued = mails_enqueue_many(kind=mails.OUTCOME_PUBLISHED.key, recipients=recipients())
    return {"participants": len(people), "queued": queued}
