"""The council's own rich text (Wagtail fields and blocks) is cleaned as it is rendered."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from django.conf import settings

from cms.models import HomePage, StandardPage
from cms.sanitiser import PAGE_TAGS, sanitise_page_html
from tests.security.test_xss_corpus import CORPUS, SAFE_SCHEMES, tokens

EDITOR_OUTPUT = (
    '<h3 data-block-key="a1">Parking</h3>'
    '<p data-block-key="b2"><b>Bold</b>, <i>italic</i> and a <a href="/consultations/">link</a>.</p>'
    '<ul><li data-block-key="c3">one</li></ul><ol><li data-block-key="d4">two</li></ol>'
    '<h4 data-block-key="e5">More</h4><p data-block-key="f6"><a href="https://example.gov.uk/x?y=1">out</a>'
    ' <a href="mailto:clerk@example.gov.uk">mail</a></p>'
)


def test_the_editors_own_markup_is_kept_without_its_block_keys():
    assert sanitise_page_html(EDITOR_OUTPUT) == re.sub(r' data-block-key="\w+"', "", EDITOR_OUTPUT)


@pytest.mark.parametrize("payload", CORPUS)
def test_no_payload_survives_in_page_rich_text(payload):
    clean = sanitise_page_html(payload)
    for tag, attrs in tokens(clean):
        assert tag in PAGE_TAGS, (tag, clean)
        assert set(attrs) <= {"href", "title"}, (attrs, clean)
        href = html_lib.unescape(attrs.get("href", "")).strip().lower()
        assert href.startswith(SAFE_SCHEMES) or not re.match(r"^[a-z0-9+.\-]+:", href), clean
        assert "javascript" not in re.sub(r"[\s\x00-\x1f]", "", href), clean


@pytest.mark.django_db
def test_rich_text_written_outside_the_editor_renders_inert(client, home_page):
    """An import or a script can store any HTML in a rich text field; the page shows it cleaned."""
    HomePage.objects.filter(pk=home_page.pk).update(
        intro='<p onclick="alert(1)">Welcome <b>all</b></p><script>alert(2)</script>'
        '<a href="javascript:alert(3)">x</a><img src=x onerror=alert(4)>'
    )
    page = StandardPage(
        title="About",
        slug="about",
        body=[
            (
                "paragraph",
                f'<p>See <a linktype="page" id="{home_page.pk}">home</a></p><iframe src="//evil"></iframe>',
            )
        ],
    )
    home_page.add_child(instance=page)
    page.save_revision().publish()

    home = client.get("/").content.decode()
    about = client.get("/about/").content.decode()
    for html in (home, about):
        main = html.split("<main", 1)[1].split("</main>", 1)[0]
        for tag, attrs in tokens(main):
            assert tag not in {"script", "img", "iframe"}, (tag, attrs)
            assert not any(name.startswith("on") for name in attrs), (tag, attrs)
            assert "javascript" not in attrs.get("href", "")
    assert "Welcome <b>all</b>" in home
    assert f'See <a href="{home_page.url}">home</a>' in about  # the page link is expanded as before


def test_every_template_renders_rich_text_through_the_cleaning_filter():
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        assert not re.search(r"\|\s*richtext\b", path.read_text()), (
            f"{path} uses |richtext: use |clean_richtext"
        )
