"""Template tags for the voting parts of a consultation page."""

from __future__ import annotations

from typing import Any

from django import template

from voting import selectors
from voting.presentation import present

register = template.Library()


@register.simple_tag(takes_context=True)
def consultation_questions(context: template.Context, page: Any) -> list[Any]:
    """The page's questions with options, counts and the viewer's permissions, in a fixed number of
    queries. Cached on the request so the consultation and outcome sections share one fetch."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if page is None or user is None:
        return []
    cache = getattr(request, "_voting_questions", {})
    if page.pk not in cache:
        cache[page.pk] = selectors.questions_for_consultation(page=page, user=user)
        request._voting_questions = cache
    return cache[page.pk]


@register.simple_tag
def question_result(question: Any) -> dict[str, Any]:
    """``{"tally": ..., "view": ...}`` for a question whose counts a selector attached."""
    tally = selectors.tally_for(question=question, max_age=selectors.PAGE_MAX_AGE)
    return {"tally": tally, "view": present(tally)}
