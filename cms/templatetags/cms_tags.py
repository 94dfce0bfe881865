"""Template helpers shared by every part of the public site."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.paginator import Page
from django.utils.safestring import SafeString, mark_safe
from wagtail.rich_text import RichText, expand_db_html

from cms.sanitiser import sanitise_page_html

register = template.Library()


@register.filter
def clean_richtext(value: RichText | str | None) -> SafeString:
    """A Wagtail rich text field or block, rendered: links expanded as Wagtail's ``richtext`` filter does,
    then cleaned by ``cms.sanitiser.sanitise_page_html``. Every template uses this instead of
    ``richtext``, which renders whatever HTML is stored."""
    source = value.source if isinstance(value, RichText) else str(value or "")
    return mark_safe(sanitise_page_html(expand_db_html(source)))


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
