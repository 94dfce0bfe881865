"""Template helpers shared by every part of the public site."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.paginator import Page

register = template.Library()


@register.inclusion_tag("includes/pagination.html")
def pagination(page_obj: Page, querystring: str = "", label: str = "") -> dict[str, Any]:
    """GOV.UK pagination for a list: previous and next, the first and last pages and those either side
    of the current one, with an ellipsis for each gap. ``querystring`` (the list's filters, without
    ``page``) is kept on every link."""
    paginator = page_obj.paginator
    return {
        "page_obj": page_obj,
        "ellipsis": paginator.ELLIPSIS,
        "numbers": list(paginator.get_elided_page_range(page_obj.number, on_each_side=1, on_ends=1)),
        "prefix": f"?{querystring}&page=" if querystring else "?page=",
        "label": label,
    }
