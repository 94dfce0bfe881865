"""The one place user-written rich text is cleaned. Every app imports from here; nothing else imports bleach.

What people type (proposals, comments, responses) may contain a few basic tags. ``sanitise_html``
keeps an allowlist of them, drops everything else (tags, attributes, comments), allows only
``http``, ``https`` and ``mailto`` links, and gives every link ``rel="nofollow ugc noopener"``.
It is applied once, on save, by the services that write user text; templates then mark the stored
result safe through one documented filter and nothing else.

The council's own pages (Wagtail rich text written by councillors and officers) are cleaned as they
are rendered, by ``sanitise_page_html`` through the ``clean_richtext`` template filter, with an
allowlist fitted to the editor's output.

bleach 6.4 is no longer maintained upstream. Keeping every use of it behind this module means it can be
swapped (for nh3, say) by changing one file, and the site's strict Content-Security-Policy (no inline
script) stands behind it in case of a bypass.
"""

from __future__ import annotations

import html
import re
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter, build_url_re

ALLOWED_TAGS: frozenset[str] = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "pre"}
)
ALLOWED_ATTRIBUTES: dict[str, list[str]] = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS: frozenset[str] = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

#: Bare web addresses in text become links; only these schemes are recognised (never ``data:``).
_URL_RE = build_url_re(protocols=["http", "https"])
_BLOCK_TAG_RE = re.compile(r"<\s*(p|ul|ol|blockquote|pre)\b", re.IGNORECASE)
_BLANK_LINES_RE = re.compile(r"\n\s*\n")
_TAG_RE = re.compile(r"<[^>]*>")
_WHITESPACE_RE = re.compile(r"\s+")


_SCHEME_RE = re.compile(r"^([a-z0-9+.\-]+):")
_INVISIBLE_RE = re.compile(r"[\s\x00-\x1f\x7f]+")


def _scheme(href: str) -> str | None:
    """The scheme a link would have after any amount of entity decoding, ignoring hidden characters."""
    previous = None
    while previous != href:
        previous, href = href, html.unescape(href)
    match = _SCHEME_RE.match(_INVISIBLE_RE.sub("", href).lower())
    return match.group(1) if match else None


def _set_rel(attrs: dict, new: bool = False) -> dict:
    """Every link, typed or made from a bare address, is marked as user content and opens nothing.

    bleach has already refused unsafe schemes; this also drops links that only *look* safe because
    they are entity-encoded twice (``javascript&amp;colon;``), which browsers treat as relative but
    another consumer of the stored HTML (an email, an export) might decode.
    """
    href = attrs.get((None, "href"), "")
    if not href:
        return attrs
    scheme = _scheme(href)
    if scheme is not None and scheme not in ALLOWED_PROTOCOLS:
        del attrs[(None, "href")]
        attrs.pop((None, "rel"), None)
        return attrs
    attrs[(None, "rel")] = LINK_REL
    attrs.pop((None, "target"), None)
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"}, url_re=_URL_RE)],
)


#: What the council's own pages may contain: the output of Wagtail's rich text editor with the
#: features the page models allow (``cms.blocks.RICH_TEXT_FEATURES``), once its links are expanded.
PAGE_TAGS: frozenset[str] = frozenset(
    {"p", "br", "b", "i", "strong", "em", "h2", "h3", "h4", "ul", "ol", "li", "a"}
)


def _page_link_attribute(tag: str, name: str, value: str) -> bool:
    """Links in the council's pages keep their address (relative, or a safe scheme) and title."""
    if name == "title":
        return True
    if name == "href":
        scheme = _scheme(value)
        return scheme is None or scheme in ALLOWED_PROTOCOLS
    return False


_page_cleaner = bleach.Cleaner(
    tags=PAGE_TAGS,
    attributes={"a": _page_link_attribute},
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)


def _paragraphs(text: str) -> str:
    """Text typed into a plain textarea: blank lines separate paragraphs, single newlines are line breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text or _BLOCK_TAG_RE.search(text):
        return text
    parts = [part.strip() for part in _BLANK_LINES_RE.split(text) if part.strip()]
    return "".join(f"<p>{part.replace(chr(10), '<br>')}</p>" for part in parts)


def sanitise_html(raw: str | None) -> str:
    """Clean user rich text for storage. Idempotent: cleaning clean output changes nothing that matters."""
    if not raw:
        return ""
    # NUL and other control characters have no place in text and confuse some parsers.
    raw = "".join(ch for ch in str(raw) if ch in "\n\t" or ch >= " ")
    return _cleaner.clean(_paragraphs(raw)).strip()


def sanitise_page_html(raw: str | None) -> str:
    """Clean the HTML of a council page's rich text (Wagtail's, links expanded) as it is rendered.

    Wagtail's editor only produces what the page's features allow, but rich text can also reach the
    database another way (an import, a script, the API), and Wagtail renders whatever is stored. So
    every rich text field is shown through this (the ``clean_richtext`` filter): the editor's own
    markup passes unchanged apart from its ``data-block-key`` attributes; anything else is dropped.
    Council links are the council's own: they are not marked as user content.
    """
    if not raw:
        return ""
    return _page_cleaner.clean(str(raw)).strip()


_SIMPLE_BLOCKS_RE = re.compile(r"<(?!/?(p|br|strong|em|code|a)\b)[^>]*>", re.IGNORECASE)


def html_to_editable(value: str | None) -> str:
    """Stored HTML back into what a person would type in a textarea, when that round-trips.

    Paragraphs become blank lines and ``<br>`` a newline, so editing a comment shows the words, not
    ``<p>`` tags; inline tags and links stay as typed. Anything with lists, quotes or code blocks is
    returned unchanged (it is still valid input).
    """
    if not value or _SIMPLE_BLOCKS_RE.search(value):
        return value or ""
    text = value.strip()
    if text.startswith("<p>") and text.endswith("</p>"):
        text = text[3:-4]
    return text.replace("</p><p>", "\n\n").replace("<br>", "\n")


def html_to_text(value: str | None) -> str:
    """Plain text of (already sanitised) HTML: for emails, excerpts and quotes."""
    if not value:
        return ""
    text = _TAG_RE.sub(" ", value)
    return _WHITESPACE_RE.sub(" ", html.unescape(text)).strip()


def excerpt(value: str | None, length: int = 200) -> str:
    """A plain-text excerpt of sanitised HTML, cut at a word boundary."""
    text = html_to_text(value)
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def is_blank_html(value: str | None) -> bool:
    """Whether sanitised HTML has no visible words (``<p> </p>``, a lone ``<br>``)."""
    return not html_to_text(value)
