"""Questionnaires for tests: a realistic three-page questionnaire with a condition, hostile text included."""

from __future__ import annotations

import uuid

from questionnaires.models import Questionnaire, Respondents
from tests.factories import HOSTILE


def _id() -> str:
    return str(uuid.uuid4())


def question(kind: str, code: str, text: str, *, required: bool = False, condition=None, **extra) -> dict:
    value = {
        "code": code,
        "text": text,
        "hint": extra.pop("hint", ""),
        "required": required,
        "condition": condition or {"code": "", "op": "is", "value": ""},
    }
    if "options" in extra:
        extra["options"] = [{"type": "item", "value": o, "id": _id()} for o in extra["options"]]
    value.update(extra)
    return {"type": kind, "value": value, "id": _id()}


def information(html: str) -> dict:
    return {"type": "information", "value": html, "id": _id()}


def page(*items: dict, title: str = "", condition=None) -> dict:
    return {
        "type": "page",
        "value": {
            "title": title,
            "condition": condition or {"code": "", "op": "is", "value": ""},
            "items": list(items),
        },
        "id": _id(),
    }


def standard_pages() -> list[dict]:
    """Page 1: how you travel. Page 2 (only for bus users): the bus station. Page 3: everything else."""
    return [
        page(
            question(
                "single_choice",
                "travel",
                "How do you usually travel to the town centre?",
                required=True,
                options=["Bus", "Car", "Bicycle", "Walking"],
                allow_other=True,
            ),
        ),
        page(
            question("agreement", "bus-station", "The new bus station should open in 2027", required=True),
            question("long_text", "bus-why", f"Why do you say that? {HOSTILE}", max_length=200),
            title="The bus station",
            condition={"code": "travel", "op": "is", "value": "Bus"},
        ),
        page(
            information(f"<p>Tell us what would make the centre better. {HOSTILE}</p>"),
            question(
                "multiple_choice",
                "improve",
                "What should we improve?",
                options=["Pavements", "Lighting", "Seating"],
                allow_other=True,
            ),
            question("ranking", "priorities", "Rank these priorities", options=["Safety", "Cost", "Speed"]),
            question("number", "visits", "How many times a month do you visit?", min=0, max=100, whole=True),
            question("date", "last-visit", "When did you last visit?"),
            question("postcode", "postcode", "What is your postcode?"),
            question("short_text", "comments", "Anything else?"),
            title="Improving the centre",
        ),
    ]


def make_questionnaire(
    consultation, *, respondents: str = Respondents.EMAIL, pages=None, **fields
) -> Questionnaire:
    questionnaire = Questionnaire(
        consultation=consultation,
        title=fields.pop("title", f"Town centre questionnaire {HOSTILE}"),
        intro=fields.pop("intro", f"It takes about five minutes. {HOSTILE}"),
        respondents=respondents,
        pages=pages if pages is not None else standard_pages(),
        **fields,
    )
    questionnaire.full_clean()
    questionnaire.save()
    return questionnaire
