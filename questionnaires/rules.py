"""Who may answer a questionnaire, and who may run one.

A questionnaire is seen exactly when its consultation page is (the visibility gate, ``cms/visibility.py``:
a draft, a password, sign-in or group restriction hide it as they hide the page), and answered only
while the gate lets the person act on it (the page published, seen, and the consultation open).

``questionnaires.respond`` takes a ``Questionnaire``: the gate must let the person act on it, and
the questionnaire's "who may respond" setting decides who: anyone, residents of the consultation's
wards (the consultations' own predicate), or members of its panel. Each refusal has its message
beside it in ``REFUSALS``, for the page that explains it. Officers and councillors key in responses
wherever they may see the questionnaire on a published consultation, after it closed too (late
responses).
"""

from __future__ import annotations

import rules

from accounts.rules import can_participate, is_council_staff, is_officer, is_panel_member, is_suspended
from cms import visibility
from cms.visibility import is_open_to, is_seen_by
from consultations.phases import Status
from consultations.rules import is_owner, lives_in_affected_ward
from questionnaires.models import Questionnaire, Respondents, Response

# The gate's view: a questionnaire belongs to its consultation page, a response to its questionnaire.
visibility.register(Questionnaire, parent=lambda questionnaire: questionnaire.consultation)
visibility.register(Response, parent=lambda response: response.questionnaire)


@rules.predicate
def is_open(user, questionnaire) -> bool:
    """The consultation's timeline is open (whoever asks): where a resume link expires."""
    return questionnaire is not None and questionnaire.consultation.status == Status.OPEN


@rules.predicate
def is_published(user, questionnaire) -> bool:
    return questionnaire is not None and bool(questionnaire.consultation.live)


@rules.predicate
def open_to_anyone(user, questionnaire) -> bool:
    return questionnaire is not None and questionnaire.respondents in (
        Respondents.EMAIL,
        Respondents.ANONYMOUS,
    )


@rules.predicate
def resident_of_the_wards(user, questionnaire) -> bool:
    return (
        questionnaire is not None
        and questionnaire.respondents == Respondents.RESIDENTS
        and lives_in_affected_ward(user, questionnaire.consultation)
    )


@rules.predicate
def on_the_panel(user, questionnaire) -> bool:
    return (
        questionnaire is not None
        and questionnaire.respondents == Respondents.PANEL
        and bool(can_participate(user))
        and is_panel_member(user, questionnaire.consultation.panel_id)
    )


may_respond = is_open_to & ~is_suspended & (open_to_anyone | resident_of_the_wards | on_the_panel)

rules.add_perm("questionnaires.respond", may_respond)
#: Officers and councillors key in responses from paper, email, phone and events, late ones too.
rules.add_perm("questionnaires.enter_response", is_council_staff & is_seen_by & is_published)

REFUSALS = {
    "closed": "This questionnaire is not open for responses.",
    "suspended": "Your account is suspended, so you cannot respond.",
    "sign_in": "Sign in to respond.",
    Respondents.RESIDENTS: (
        "Only residents of the wards this consultation affects can respond, signed in with a confirmed "
        "email address."
    ),
    Respondents.PANEL: "Only members of this consultation's panel can respond.",
}


def respond_refusal(user, questionnaire) -> str | None:
    """Why ``user`` may not respond now, or None if they may."""
    if rules.has_perm("questionnaires.respond", user, questionnaire):
        return None
    if not is_open_to(user, questionnaire):
        return REFUSALS["closed"]
    if is_suspended(user):
        return REFUSALS["suspended"]
    if not user.is_authenticated:
        return REFUSALS["sign_in"]
    return REFUSALS[questionnaire.respondents]


@rules.predicate
def owns_the_consultation(user, questionnaire) -> bool:
    return questionnaire is not None and is_owner(user, questionnaire.consultation)


#: Responses hold personal data: the council's officers and the consultation's own councillor read,
#: redact and export them; other councillors do not.
may_read_responses = is_seen_by & (is_officer | owns_the_consultation)
rules.add_perm("questionnaires.read_responses", may_read_responses)
rules.add_perm("questionnaires.redact_response", may_read_responses)
rules.add_perm("questionnaires.export_responses", may_read_responses)

# Building questionnaires in the Wagtail admin (snippet permissions go through these too).
for _verb in ("add", "change", "delete", "view"):
    rules.add_perm(f"questionnaires.{_verb}_questionnaire", is_council_staff)
