"""Template helpers for proposals and threads."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def sanitised_html(value: str | None) -> SafeString:
    """Render rich text that ``cms.sanitiser.sanitise_html`` cleaned when it was saved.

    This is the only place user content is marked safe. It is right here because every service that
    writes these fields (proposal body, council response, comment body) stores the sanitiser's output,
    never raw input, and the demo loader does the same. Use it on those fields only; plain-text fields
    are escaped by the template engine as usual.
    """
    return mark_safe(value or "")


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag
def house_rules_url() -> str:
    """The house rules page, linked from every form. Cached: it is on every page with a form."""
    from django.core.cache import cache

    url = cache.get("proposals:house_rules_url")
    if url is None:
        from cms.models import StandardPage

        page = StandardPage.objects.live().filter(slug="house-rules").first()
        url = page.url if page is not None else ""
        cache.set("proposals:house_rules_url", url, 300)
    return url or ""


@register.inclusion_tag("proposals/includes/house_rules.html")
def house_rules_link():
    return {"url": house_rules_url()}


_STATUS_TAGS = {
    "submitted": "govuk-tag--grey",
    "published": "govuk-tag--blue",
    "under_review": "govuk-tag--yellow",
    "accepted": "govuk-tag--green",
    "rejected": "govuk-tag--red",
    "implemented": "govuk-tag--turquoise",
}
_STANCE_TAGS = {
    "for": "govuk-tag--green",
    "against": "govuk-tag--red",
    "question": "govuk-tag--purple",
    "neutral": "govuk-tag--grey",
}


@register.filter
def status_tag(status: str) -> str:
    return _STATUS_TAGS.get(status, "govuk-tag--grey")


@register.filter
def stance_tag(stance: str) -> str:
    return _STANCE_TAGS.get(stance, "govuk-tag--grey")


@register.simple_tag
def proposals_summary(page):
    """Counts for a consultation page's proposals section (one query)."""
    from proposals.selectors import consultation_summary

    return consultation_summary(consultation=page)


@register.simple_tag
def decided_proposals_for(page):
    """The consultation's decided proposals, for its outcome (one query)."""
    from proposals.selectors import decided_proposals

    return decided_proposals(consultation=page)


@register.simple_tag(takes_context=True)
def render_thread(context, nodes) -> SafeString:
    """A whole thread as nested lists, rendered in Python.

    The same markup as a recursive ``{% include %}`` would give, about five times faster: a long thread
    is the page where template overhead (a translation and a dozen variable lookups per comment) would
    otherwise dominate. Every value is escaped by ``format_html``; comment bodies are the sanitiser's
    stored output, as with the ``sanitised_html`` filter.
    """
    from proposals.rendering import ThreadRenderer

    return ThreadRenderer(context).render(nodes)
