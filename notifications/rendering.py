"""Rendering a mail: the wording (an officer's or the default) filled in for one person, in their
language, as plain text and HTML with the council's name, logo and colour, and a footer saying why
the person gets it and how to stop it.

Wording is a small Django template. It is rendered by an engine with no template loaders and no
tag libraries beyond the built-in ones, against plain strings only, so wording cannot reach into
the database or the file system.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import VariableNode
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from notifications.kinds import MailKind

_ENGINE = Engine(debug=True, loaders=[], libraries={})


@dataclass(frozen=True)
class Branding:
    council_name: str
    service_name: str
    colour: str
    logo_url: str


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def absolute_url(path: str) -> str:
    """A link for a mail: the site's configured base URL (``WAGTAILADMIN_BASE_URL``) and ``path``."""
    if path.startswith(("http://", "https://")):
        return path
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def page_url(page, anchor: str = "") -> str:
    """An absolute link to a Wagtail page from the configured base URL (never the Site's hostname,
    which is often ``localhost`` behind a proxy)."""
    parts = page.get_url_parts()
    path = parts[2] if parts else "/"
    return absolute_url(path) + (f"#{anchor}" if anchor else "")


def check_template(source: str, allowed: set[str] | None = None) -> str | None:
    """Why ``source`` cannot be used as wording (with its line number), or None if it can."""
    try:
        template = _ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        line = getattr(exc, "template_debug", {}).get("line")
        if line:
            return _("Line %(line)s: %(error)s") % {"line": line, "error": exc}
        return str(exc)
    if allowed is not None:
        for node in template.nodelist.get_nodes_by_type(VariableNode):
            var = getattr(node.filter_expression.var, "var", None)
            if not isinstance(var, str):
                continue
            name = var.split(".")[0]
            if name not in allowed:
                line = source.count("\n", 0, node.token.position[0]) + 1 if node.token.position else "?"
                return _(
                    "Line %(line)s: “%(name)s” is not a placeholder for this mail. Use one of: %(names)s."
                ) % {
                    "line": line,
                    "name": name,
                    "names": ", ".join(sorted(allowed)),
                }
    return None


_URL = re.compile(r"https?://[^\s<>\"']+")


def _link(match: re.Match[str]) -> str:
    url = match.group(0)
    trail = ""
    while url and url[-1] in ".,;:!?)":
        url, trail = url[:-1], url[-1] + trail
    return f'<a href="{url}">{url}</a>{trail}'


def linkify(text: str) -> str:
    """``text`` as HTML: escaped, with its http(s) links made clickable and line breaks kept."""
    return mark_safe(_URL.sub(_link, escape(text)).replace("\n", "<br>\n"))


@functools.lru_cache(maxsize=256)
def _compiled(source: str):
    return _ENGINE.from_string(source)


def _fill(source: str, context: dict[str, str]) -> str:
    return _compiled(source).render(Context(context, autoescape=False))


def default_branding() -> Branding:
    """The council's name, service name, colour and logo from the default site's ``CouncilSettings``."""
    from wagtail.models import Site

    from cms.models import CouncilSettings

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return Branding("Townhall", "", "#1d4f91", "")
    council = CouncilSettings.for_site(site)
    logo_url = ""
    if council.logo_id:
        logo_url = absolute_url(council.logo.get_rendition("height-60").url)
    return Branding(council.council_name, council.service_name, council.brand_colour, logo_url)


def render_mail(
    *,
    kind: MailKind,
    language: str,
    context: dict[str, str],
    wording: tuple[str, str] | None,
    settings_url: str,
    unsubscribe_url: str = "",
    branding: Branding | None = None,
) -> RenderedMail:
    """Render ``kind`` for one person. ``wording`` is an officer's (subject, body), or None for the
    default wording translated into ``language``."""
    branding = branding or default_branding()
    with translation.override(language):
        subject_source, body_source = wording or (str(kind.subject), str(kind.body))
        subject = re.sub(r"\s+", " ", _fill(subject_source, context)).strip()
        body = _fill(body_source, context).strip()
        reason = _fill(str(kind.reason), context).strip()
        if kind.optional and unsubscribe_url:
            how = _(
                "To stop emails like this one, with one click: %(unsubscribe)s. To choose which emails you "
                "get, or their language: %(url)s"
            ) % {"unsubscribe": unsubscribe_url, "url": settings_url}
        elif kind.optional:
            how = _("To stop these emails, or to change the language they are written in, go to %(url)s") % {
                "url": settings_url
            }
        else:
            how = _(
                "This email is about your own account or role, so it cannot be turned off. "
                "To change the language it is written in, go to %(url)s"
            ) % {"url": settings_url}
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
        html = render_to_string(
            "notifications/mail/layout.html",
            {
                "branding": branding,
                "subject": subject,
                "paragraphs": [linkify(p) for p in paragraphs],
                "reason": reason,
                "how": linkify(how),
                "language": language,
            },
        )
    signature = branding.council_name + (f": {branding.service_name}" if branding.service_name else "")
    text = f"{body}\n\n-- \n{signature}\n{reason}\n{how}\n"
    return RenderedMail(subject=subject[:300], text=text, html=html)
