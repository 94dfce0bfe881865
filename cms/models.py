"""The site shell: the home page, standard pages and the council's own settings."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import RICH_TEXT_FEATURES, BodyBlock

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # and six hex digits, like #1d4f91."))


class HomePage(Page):
    """The front door: what is open now, what is live now and what the council decided lately."""

    intro = RichTextField(
        features=["bold", "italic", "link"],
        blank=True,
        help_text=_("One or two sentences welcoming residents and saying what they can do here."),
    )

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.StandardPage", "consultations.ConsultationIndexPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        from cms.selectors import home_sections

        context = super().get_context(request, *args, **kwargs)
        context.update(home_sections(request=request))
        return context


class StandardPage(Page):
    """A page of information: house rules, the accessibility statement, privacy, help."""

    summary = models.CharField(
        max_length=300, blank=True, help_text=_("A one-sentence summary shown under the title.")
    )
    body = StreamField(BodyBlock(), blank=True)

    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]
    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body")]
    parent_page_types = ["cms.HomePage", "cms.StandardPage"]
    subpage_types = ["cms.StandardPage"]


@register_setting(icon="site")
class CouncilSettings(BaseSiteSetting):
    council_name = models.CharField(
        max_length=120, default="Townhall", help_text=_("Shown in the header of every page.")
    )
    service_name = models.CharField(
        max_length=120, default="Have your say", help_text=_("The name of this service, after the council's.")
    )
    logo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("A small logo for the header, ideally a wide image on a transparent background."),
    )
    brand_colour = models.CharField(
        max_length=7,
        default="#1d4f91",
        validators=[hex_colour],
        help_text=_("The header colour. Choose a dark colour: white text must be readable on it."),
    )
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_address = models.TextField(blank=True)
    footer_text = RichTextField(features=RICH_TEXT_FEATURES, blank=True)

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("council_name"),
                FieldPanel("service_name"),
                FieldPanel("logo"),
                FieldPanel("brand_colour"),
            ],
            heading=_("Branding"),
        ),
        MultiFieldPanel(
            [FieldPanel("contact_email"), FieldPanel("contact_phone"), FieldPanel("contact_address")],
            heading=_("Contact"),
        ),
        FieldPanel("footer_text"),
    ]

    class Meta:
        verbose_name = _("council settings")
