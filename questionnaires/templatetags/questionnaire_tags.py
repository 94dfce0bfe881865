from __future__ import annotations

from django import template

from questionnaires.selectors import questionnaire_for_consultation

register = template.Library()


@register.inclusion_tag("questionnaires/includes/consultation_link.html", takes_context=True)
def questionnaire_link(context, consultation) -> dict:
    """The "respond to the questionnaire" box on a consultation page, when it has one."""
    return {
        "questionnaire": questionnaire_for_consultation(consultation=consultation),
        "consultation": consultation,
    }
