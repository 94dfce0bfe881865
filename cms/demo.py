"""Demo data: the home page, the council's settings and the pages every council site needs."""

from __future__ import annotations

from wagtail.models import Page, Site

from cms.demo_support import DemoContext
from cms.models import CouncilSettings, HomePage, StandardPage

PAGES = [
    (
        "house-rules",
        "House rules",
        "How we keep discussions useful, fair and safe for everyone.",
        [
            ("heading", {"text": "Be respectful", "size": "h2"}),
            ("paragraph", "<p>Disagree with ideas, not people. No insults, threats, or harassment.</p>"),
            ("heading", {"text": "Stay on topic", "size": "h2"}),
            ("paragraph", "<p>Keep comments about the consultation or proposal you are reading.</p>"),
            ("heading", {"text": "Protect privacy", "size": "h2"}),
            (
                "paragraph",
                "<p>Do not post anyone's personal details, including your own phone number or address.</p>",
            ),
            ("heading", {"text": "What moderators do", "size": "h2"}),
            (
                "paragraph",
                "<p>Moderators may hide posts that break these rules. We always tell you why, and you "
                "can appeal once.</p>",
            ),
        ],
    ),
    (
        "accessibility",
        "Accessibility statement",
        "How accessible this service is, and how to tell us about a problem.",
        [
            (
                "paragraph",
                "<p>This service aims to meet the Web Content Accessibility Guidelines (WCAG) 2.2 at "
                "level AA. It works without JavaScript, with a keyboard alone and with screen "
                "readers.</p>",
            ),
            ("heading", {"text": "Reporting a problem", "size": "h2"}),
            (
                "paragraph",
                "<p>If you find something hard to use, contact us and we will reply within 5 working "
                "days. You can also ask for information in another format.</p>",
            ),
        ],
    ),
    (
        "privacy",
        "Privacy notice",
        "What we collect, why, and your rights.",
        [
            (
                "paragraph",
                "<p>We collect your email address, display name and postcode to run this service. "
                "Your postcode tells us your ward; we never show it to anyone.</p>",
            ),
            (
                "paragraph",
                "<p>You can ask for a copy of your data, or for it to be deleted, at any time.</p>",
            ),
        ],
    ),
]


def seed(ctx: DemoContext) -> None:
    root = Page.get_first_root_node()
    home = HomePage.objects.first()
    if home is None:
        home = HomePage(
            title="Home",
            slug="home-townhall",
            intro="<p>Find out what the council is deciding, share your ideas and vote on what "
            "happens next in your area.</p>",
        )
        root.add_child(instance=home)
        home.save_revision().publish()
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            Site.objects.create(
                hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="Townhall"
            )
        else:
            old_root = site.root_page
            site.root_page = home
            site.site_name = "Townhall"
            site.save()
            if old_root.pk != home.pk and old_root.specific_class is Page:
                old_root.delete()  # Wagtail's "Welcome" placeholder page
    ctx.made["home"] = home

    site = Site.objects.get(is_default_site=True)
    council = CouncilSettings.for_site(site)
    if council.council_name == "Townhall":
        council.council_name = "Aberhafren County Council"
        council.service_name = "Have your say"
        council.contact_email = "haveyoursay@aberhafren.example"
        council.contact_phone = "01234 567 890"
        council.save()

    for slug, title, summary, body in PAGES:
        if not StandardPage.objects.filter(slug=slug).exists():
            page = StandardPage(title=title, slug=slug, summary=summary, body=body)
            home.add_child(instance=page)
            page.save_revision().publish()
    ctx.say("    home page, council settings, house rules, accessibility, privacy")
