"""The one StreamBlock used for body content across the site, and its blocks."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

RICH_TEXT_FEATURES = ["h3", "h4", "bold", "italic", "ol", "ul", "link", "document-link"]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=120, help_text=_("A short heading for this section."))
    size = blocks.ChoiceBlock(
        choices=[("h2", _("Section heading")), ("h3", _("Sub-heading"))],
        default="h2",
        help_text=_("Section headings appear in the page's outline; use sub-headings inside them."),
    )

    class Meta:
        icon = "title"
        template = "blocks/heading.html"
        preview_value = {"text": "What we are proposing", "size": "h2"}


class ParagraphBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        super().__init__(features=RICH_TEXT_FEATURES, **kwargs)

    class Meta:
        icon = "pilcrow"
        template = "blocks/paragraph.html"
        preview_value = "<p>The council wants to hear from everyone who uses the high street.</p>"


class FigureBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(
        max_length=250,
        help_text=_(
            "Describe the image for people who cannot see it. Leave it out only if it is decoration."
        ),
        required=False,
    )
    caption = blocks.CharBlock(max_length=250, required=False)

    class Meta:
        icon = "image"
        template = "blocks/figure.html"


class InsetBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        super().__init__(features=["bold", "italic", "link"], **kwargs)

    class Meta:
        icon = "doc-full"
        label = _("Inset text")
        template = "blocks/inset.html"
        preview_value = "<p>The consultation closes at midnight on 31 March.</p>"


class DetailsBlock(blocks.StructBlock):
    summary = blocks.CharBlock(max_length=120, help_text=_("The line people click to open the details."))
    body = blocks.RichTextBlock(features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "collapse-down"
        label = _("Expandable details")
        template = "blocks/details.html"
        preview_value = {"summary": "How we will use your answers", "body": "<p>We read every response.</p>"}


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock(max_length=600)
    attribution = blocks.CharBlock(max_length=120, required=False)

    class Meta:
        icon = "openquote"
        template = "blocks/quote.html"
        preview_value = {"quote": "We want a park our children can walk to.", "attribution": "A resident"}


class ButtonBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=60)
    page = blocks.PageChooserBlock(required=False)
    url = blocks.URLBlock(required=False, help_text=_("Used when no page is chosen."))

    class Meta:
        icon = "link"
        template = "blocks/button.html"
        preview_value = {"text": "Have your say", "url": "https://example.org/"}


class BodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = ParagraphBlock()
    figure = FigureBlock()
    inset = InsetBlock()
    details = DetailsBlock()
    quote = QuoteBlock()
    button = ButtonBlock()

    class Meta:
        template = "blocks/body.html"
