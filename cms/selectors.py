"""Reads for the site shell."""

from __future__ import annotations

from django.http import HttpRequest
from wagtail.models import Page, Site


def home_sections(*, request: HttpRequest) -> dict:
    """What the home page shows: consultations open now and recent outcomes."""
    from consultations import selectors as consultation_selectors
    from voting.live import live_sessions_now

    return {
        "open_consultations": consultation_selectors.consultations_open(limit=6),
        "recent_outcomes": consultation_selectors.recent_outcomes(limit=3),
        "live_sessions": live_sessions_now(limit=3),
    }


def navigation(*, request: HttpRequest) -> dict:
    site = Site.find_for_request(request)
    if site is None:
        return {"nav_pages": [], "footer_pages": [], "root_page": None}
    root = site.root_page
    children = list(Page.objects.child_of(root).live().public().specific(defer=True).order_by("path"))
    return {
        "root_page": root,
        "nav_pages": [p for p in children if p.show_in_menus],
        "footer_pages": [
            p for p in children if not p.show_in_menus and p.specific_class.__name__ == "StandardPage"
        ],
    }
