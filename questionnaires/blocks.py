"""The blocks a questionnaire is built from in the Wagtail admin: pages of questions and information.

``definition_from_stream`` turns what the admin saved into the plain definition of
``questionnaires.definition``; the top-level block refuses, at save time, a questionnaire whose
conditions reference later questions or go round in a circle, naming the questions.
"""

from __future__ import annotations

from typing import Any

from django.forms.utils import ErrorList
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.stream_block import StreamBlockValidationError

from questionnaires import definition as qdef


class ConditionBlock(blocks.StructBlock):
    code = blocks.CharBlock(
        label=_("Show only when the answer to question"),
        required=False,
        max_length=40,
        help_text=_("The reference of an earlier question. Leave empty to always show this."),
    )
    op = blocks.ChoiceBlock(
        label=_("condition"),
        choices=[("is", _("is")), ("is_not", _("is not")), ("contains", _("contains"))],
        default="is",
    )
    value = blocks.CharBlock(label=_("this answer"), required=False, max_length=200)

    class Meta:
        icon = "resubmit"
        label = _("Display condition")


def _code_block() -> blocks.RegexBlock:
    return blocks.RegexBlock(
        regex=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        label=_("reference"),
        help_text=_(
            "A short name for this question, used in conditions and exports: lower-case letters, "
            "numbers, - and _, for example “travel-mode”. Keep it once people have answered."
        ),
        error_messages={"invalid": _("Use lower-case letters, numbers, - and _ only (up to 40).")},
    )


class QuestionBlock(blocks.StructBlock):
    code = _code_block()
    text = blocks.CharBlock(label=_("question"), max_length=300)
    hint = blocks.CharBlock(label=_("hint"), required=False, max_length=500)
    required = blocks.BooleanBlock(label=_("an answer is required"), required=False, default=False)
    condition = ConditionBlock(required=False)

    class Meta:
        icon = "help"


class ShortTextBlock(QuestionBlock):
    class Meta:
        label = _("Short text")
        icon = "pilcrow"


class LongTextBlock(QuestionBlock):
    max_length = blocks.IntegerBlock(
        label=_("character limit"), min_value=50, max_value=20_000, default=1_200
    )

    class Meta:
        label = _("Long text")
        icon = "doc-full"


class SingleChoiceBlock(QuestionBlock):
    options = blocks.ListBlock(blocks.CharBlock(max_length=200), label=_("options"), min_num=2)
    allow_other = blocks.BooleanBlock(label=_("add “Other, please say”"), required=False)

    class Meta:
        label = _("Single choice")
        icon = "radio-full"


class MultipleChoiceBlock(SingleChoiceBlock):
    class Meta:
        label = _("Multiple choice")
        icon = "list-ul"


class AgreementBlock(QuestionBlock):
    class Meta:
        label = _("Agreement scale (strongly agree … strongly disagree, don't know)")
        icon = "order"


class RankingBlock(QuestionBlock):
    options = blocks.ListBlock(blocks.CharBlock(max_length=200), label=_("options to rank"), min_num=2)

    class Meta:
        label = _("Ranking")
        icon = "order-down"


class NumberBlock(QuestionBlock):
    min = blocks.DecimalBlock(label=_("smallest allowed"), required=False)
    max = blocks.DecimalBlock(label=_("largest allowed"), required=False)
    whole = blocks.BooleanBlock(label=_("whole numbers only"), required=False)

    class Meta:
        label = _("Number")
        icon = "decimal"


class DateBlock(QuestionBlock):
    class Meta:
        label = _("Date")
        icon = "date"


class PostcodeBlock(QuestionBlock):
    class Meta:
        label = _("Postcode")
        icon = "site"


class InformationBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        super().__init__(features=["h3", "bold", "italic", "ol", "ul", "link"], **kwargs)

    class Meta:
        label = _("Information")
        icon = "info-circle"


class PageItemsBlock(blocks.StreamBlock):
    short_text = ShortTextBlock()
    long_text = LongTextBlock()
    single_choice = SingleChoiceBlock()
    multiple_choice = MultipleChoiceBlock()
    agreement = AgreementBlock()
    ranking = RankingBlock()
    number = NumberBlock()
    date = DateBlock()
    postcode = PostcodeBlock()
    information = InformationBlock()

    class Meta:
        min_num = 1


class QuestionPageBlock(blocks.StructBlock):
    title = blocks.CharBlock(
        label=_("page title"),
        required=False,
        max_length=200,
        help_text=_("Optional. A page with one question uses the question as its heading."),
    )
    condition = ConditionBlock(required=False, help_text=_("Show this whole page only when …"))
    items = PageItemsBlock(label=_("questions and information"))

    class Meta:
        icon = "form"
        label = _("Page")


class QuestionnaireBlock(blocks.StreamBlock):
    page = QuestionPageBlock()

    class Meta:
        min_num = 1

    def clean(self, value):
        cleaned = super().clean(value)
        problems = qdef.definition_problems(definition_from_stream(cleaned))
        if problems:
            raise StreamBlockValidationError(non_block_errors=ErrorList(problems))
        return cleaned


def _condition(value: Any) -> dict | None:
    if not value or not (value.get("code") or "").strip():
        return None
    return {"code": value["code"].strip(), "op": value.get("op") or "is", "value": value.get("value") or ""}


def _number(value: Any) -> str | None:
    return None if value is None else str(value)


def definition_from_stream(stream) -> dict:
    """The plain definition (see ``questionnaires.definition``) of a saved questionnaire stream."""
    pages = []
    for page_child in stream:
        page = page_child.value
        items = []
        for child in page["items"]:
            kind, value = child.block_type, child.value
            if kind == "information":
                items.append({"kind": "information", "text": getattr(value, "source", str(value))})
                continue
            item = {
                "kind": kind,
                "code": value["code"],
                "text": value["text"],
                "hint": value.get("hint") or "",
                "required": bool(value.get("required")),
                "condition": _condition(value.get("condition")),
            }
            if "options" in value:
                item["options"] = [str(o) for o in value["options"]]
            if kind in qdef.CHOICE_KINDS:
                item["allow_other"] = bool(value.get("allow_other"))
            if kind == "long_text":
                item["max_length"] = int(value.get("max_length") or 1_200)
            if kind == "number":
                item.update(
                    min=_number(value.get("min")),
                    max=_number(value.get("max")),
                    whole=bool(value.get("whole")),
                )
            items.append(item)
        pages.append(
            {"title": page.get("title") or "", "condition": _condition(page.get("condition")), "items": items}
        )
    return {"pages": pages}
