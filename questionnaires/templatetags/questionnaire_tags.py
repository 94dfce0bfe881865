from __future__ import annotations

import rules
from django import template

from questionnaires.selectors import questionnaire_for_consultation

register = template.Library()


@register.inclusion_tag("questionnaires/includes/consultation_link.html", takes_context=True)
def questionnaire_link(context, consultation) -> dict:
    """The "respond to the questionnaire" box on a consultation page, when it has one, with the link
    for staff to key in responses received another way."""
    questionnaire = questionnaire_for_consultation(consultation=consultation)
    user = context.get("user")
    can_enter = bool(
        questionnaire and user and rules.has_perm("questionnaires.enter_response", user, questionnaire)
    )
    can_read = bool(can_enter and rules.has_perm("questionnaires.read_responses", user, questionnaire))
    return {
        "questionnaire": questionnaire,
        "consultation": consultation,
        "can_enter": can_enter,
        "can_read": can_read,
    }
