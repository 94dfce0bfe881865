"""A questionnaire's definition as plain data, and the pure rules that work on it.

The Wagtail admin stores a questionnaire as a StreamField; every version a respondent answers is a
frozen copy of it in the plain shape below (see ``QuestionnaireVersion.definition``). Everything in
this module works on that shape only: no ORM, no request, so it is easy to test exhaustively.

    {"pages": [{"title": str, "condition": Condition | None, "items": [Item, ...]}, ...]}

An item is either information (``{"kind": "information", "text": "<p>...</p>"}``) or a question:

    {"kind": "short_text" | "long_text" | "single_choice" | "multiple_choice" | "agreement"
             | "ranking" | "number" | "date" | "postcode",
     "code": "travel", "text": "How do you travel?", "hint": "", "required": True,
     "options": [...], "allow_other": False, "max_length": 1200, "min": None, "max": None,
     "whole": False, "condition": Condition | None}

A condition shows a page or a question only when an earlier answer ``is``, ``is_not`` or
``contains`` a value: ``{"code": "travel", "op": "is", "value": "Bus"}``. Answers are kept by
question code:

* text, long text, postcode, agreement: a string;
* number: the number as a string (``"12.5"``), date: ISO ``"2026-12-02"``;
* single and multiple choice: ``{"selected": ["Bus", ...], "other": "text or empty"}``;
* ranking: the options in the order given, most preferred first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

QUESTION_KINDS = (
    "short_text",
    "long_text",
    "single_choice",
    "multiple_choice",
    "agreement",
    "ranking",
    "number",
    "date",
    "postcode",
)
CHOICE_KINDS = ("single_choice", "multiple_choice")
AGREEMENT_OPTIONS = (
    "Strongly agree",
    "Agree",
    "Neither agree nor disagree",
    "Disagree",
    "Strongly disagree",
    "Don't know",
)
OTHER = "__other__"
SHORT_TEXT_MAX = 500
CONDITION_OPS = ("is", "is_not", "contains")
# A UK postcode, loosely: outward code, optional space, inward code.
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")

Definition = Mapping[str, Any]
Answers = dict[str, Any]


def questions(definition: Definition) -> list[dict]:
    """Every question, in order, across pages."""
    return [item for page in definition["pages"] for item in page["items"] if item["kind"] != "information"]


def question_by_code(definition: Definition) -> dict[str, dict]:
    return {q["code"]: q for q in questions(definition)}


def options_for(question: Mapping[str, Any]) -> list[str]:
    if question["kind"] == "agreement":
        return list(AGREEMENT_OPTIONS)
    return list(question.get("options") or [])


# --- Validation at save time -------------------------------------------------------------------


def definition_problems(definition: Definition) -> list[str]:
    """What is wrong with a definition, as sentences naming the questions; empty when it is sound.

    Codes must be unique; a condition must name a question that exists, and an *earlier* one: a page's
    condition a question on an earlier page, a question's condition a question before it. References
    forward or to itself could never be answered in order; when they form a cycle, it is named as one.
    """
    problems: list[str] = []
    position: dict[str, int] = {}
    page_of: dict[str, int] = {}
    index = 0
    for page_number, page in enumerate(definition["pages"], start=1):
        for item in page["items"]:
            if item["kind"] == "information":
                continue
            code = item["code"]
            if code in position:
                problems.append(f"Two questions use the reference “{code}”: each needs its own.")
                continue
            position[code] = index
            page_of[code] = page_number
            index += 1
            if item["kind"] in (*CHOICE_KINDS, "ranking") and len(options_for(item)) < 2:
                problems.append(f"Question “{code}” needs at least two options.")

    edges: dict[str, str] = {}
    for page_number, page in enumerate(definition["pages"], start=1):
        condition = page.get("condition")
        if condition:
            target = condition["code"]
            label = f"Page {page_number} ({page.get('title') or 'untitled'})"
            if target not in position:
                problems.append(f"{label} depends on “{target}”, but no question has that reference.")
            elif page_of[target] >= page_number:
                problems.append(
                    f"{label} depends on question “{target}”, which is not on an earlier page. "
                    "A page can only depend on answers given before it."
                )
        for item in page["items"]:
            condition = item.get("condition") if item["kind"] != "information" else None
            if not condition:
                continue
            code, target = item["code"], condition["code"]
            if target not in position:
                problems.append(
                    f"Question “{code}” depends on “{target}”, but no question has that reference."
                )
            elif target == code:
                problems.append(f"Question “{code}” depends on its own answer.")
            else:
                edges[code] = target
    # A cycle: following "depends on" from a question comes back to it.
    reported: set[str] = set()
    for start in edges:
        seen = [start]
        node = start
        while node in edges:
            node = edges[node]
            if node == start:
                if not reported.intersection(seen):
                    chain = " → ".join(f"“{c}”" for c in [*seen, start])
                    problems.append(f"These questions depend on each other in a circle: {chain}.")
                    reported.update(seen)
                break
            if node in seen:
                break
            seen.append(node)
    for code, target in edges.items():
        if code in reported:
            continue
        if position[target] > position[code]:
            problems.append(
                f"Question “{code}” depends on question “{target}”, which comes after it. "
                "A question can only depend on answers given before it."
            )
        elif page_of[target] == page_of[code]:
            problems.append(
                f"Question “{code}” depends on question “{target}” on the same page. Move “{code}” to a "
                "later page: the answer has to be sent before the page can show or hide questions."
            )
    return problems


# --- Conditions ----------------------------------------------------------------------------------


def answer_values(answer: Any) -> list[str]:
    """The strings an answer is made of, for conditions and searches."""
    if answer is None or answer == "":
        return []
    if isinstance(answer, str):
        return [answer]
    if isinstance(answer, list):
        return [str(a) for a in answer]
    if isinstance(answer, Mapping):
        values = [str(s) for s in answer.get("selected", []) if s != OTHER]
        if answer.get("other"):
            values.append(str(answer["other"]))
        return values
    return [str(answer)]


def condition_holds(condition: Mapping[str, Any] | None, answers: Mapping[str, Any]) -> bool:
    """Whether a condition holds for the answers so far. No condition always holds.

    ``is`` and ``contains`` compare without regard to case; ``is_not`` holds when the question was
    not answered at all.
    """
    if not condition:
        return True
    wanted = str(condition.get("value", "")).strip().casefold()
    values = [v.strip().casefold() for v in answer_values(answers.get(condition["code"]))]
    op = condition.get("op", "is")
    if op == "is":
        return wanted in values
    if op == "is_not":
        return wanted not in values
    if op == "contains":
        return any(wanted in v for v in values)
    return False


def visible(definition: Definition, answers: Mapping[str, Any]) -> list[tuple[int, dict, list[dict]]]:
    """The pages (number from 1, page, its visible items) a respondent sees given their answers.

    Conditions only look backwards, so one pass in order decides everything. Answers to questions
    that are hidden do not count, even if they were given before an earlier answer changed.
    """
    kept: dict[str, Any] = {}
    shown = []
    for number, page in enumerate(definition["pages"], start=1):
        if not condition_holds(page.get("condition"), kept):
            continue
        items = []
        for item in page["items"]:
            if item["kind"] != "information" and not condition_holds(item.get("condition"), kept):
                continue
            items.append(item)
            if item["kind"] != "information" and item["code"] in answers:
                kept[item["code"]] = answers[item["code"]]
        if any(item["kind"] != "information" for item in items):
            shown.append((number, page, items))
    return shown


def prune(definition: Definition, answers: Mapping[str, Any]) -> Answers:
    """Only the answers to questions the respondent can see: hidden answers are discarded."""
    codes = {
        item["code"]
        for _number, _page, items in visible(definition, answers)
        for item in items
        if item["kind"] != "information"
    }
    return {code: value for code, value in answers.items() if code in codes}


def missing_required(definition: Definition, answers: Mapping[str, Any]) -> list[tuple[int, dict]]:
    """Visible required questions without an answer, with their page numbers."""
    missing = []
    for number, _page, items in visible(definition, answers):
        for item in items:
            if (
                item["kind"] != "information"
                and item.get("required")
                and not answer_values(answers.get(item["code"]))
            ):
                missing.append((number, item))
    return missing


# --- Cleaning a page's answers ------------------------------------------------------------------


class PostData:
    """What a page's form sent: ``get`` for one value, ``getlist`` for several (a QueryDict fits)."""

    def __init__(self, data: Mapping[str, Any]):
        self._data = data

    def get(self, name: str) -> str:
        if hasattr(self._data, "get") and hasattr(self._data, "getlist"):
            value = self._data.get(name, "")
        else:
            value = self._data.get(name, "")
            if isinstance(value, list):
                value = value[-1] if value else ""
        return str(value or "").strip()

    def getlist(self, name: str) -> list[str]:
        if hasattr(self._data, "getlist"):
            return [str(v) for v in self._data.getlist(name)]
        value = self._data.get(name, [])
        return [str(v) for v in (value if isinstance(value, list) else [value])]


def field_name(question: Mapping[str, Any], part: str = "") -> str:
    return f"q-{question['code']}{'-' + part if part else ''}"


def clean_page(items: Iterable[Mapping[str, Any]], data: Mapping[str, Any]) -> tuple[Answers, dict[str, str]]:
    """Read one page's answers from form data: ``(answers, errors)``, errors by question code.

    Only the questions given are read; anything else in the data (a tampered or hidden field) is
    ignored. Unanswered optional questions are left out of the answers.
    """
    post = PostData(data)
    answers: Answers = {}
    errors: dict[str, str] = {}
    for question in items:
        if question["kind"] == "information":
            continue
        try:
            value = _clean_question(question, post)
        except ValueError as exc:
            errors[question["code"]] = str(exc)
            continue
        if value is None:
            if question.get("required"):
                errors[question["code"]] = _missing_message(question)
            continue
        answers[question["code"]] = value
    return answers, errors


def _missing_message(question: Mapping[str, Any]) -> str:
    kind = question["kind"]
    if kind in ("single_choice", "agreement"):
        return "Select an answer."
    if kind == "multiple_choice":
        return "Select at least one answer."
    if kind == "ranking":
        return "Rank the options."
    if kind == "date":
        return "Enter a date."
    if kind == "postcode":
        return "Enter a postcode."
    if kind == "number":
        return "Enter a number."
    return "Enter an answer."


def _clean_question(question: Mapping[str, Any], post: PostData) -> Any:
    kind = question["kind"]
    name = field_name(question)
    if kind in ("short_text", "long_text"):
        text = post.get(name).replace("\r\n", "\n")
        limit = int(question.get("max_length") or SHORT_TEXT_MAX) if kind == "long_text" else SHORT_TEXT_MAX
        if len(text) > limit:
            raise ValueError(f"Your answer must be {limit:,} characters or fewer (it has {len(text):,}).")
        return text or None
    if kind == "postcode":
        text = re.sub(r"\s+", "", post.get(name).upper())
        if not text:
            return None
        formatted = f"{text[:-3]} {text[-3:]}"
        if not POSTCODE_RE.match(formatted):
            raise ValueError("Enter a real postcode, like SW1A 1AA.")
        return formatted
    if kind in ("single_choice", "agreement"):
        value = post.get(name)
        if not value:
            return None
        allowed = options_for(question)
        if value == OTHER and question.get("allow_other") and kind == "single_choice":
            other = post.get(field_name(question, "other"))
            if not other:
                raise ValueError("Say what your other answer is.")
            if len(other) > SHORT_TEXT_MAX:
                raise ValueError(f"Your other answer must be {SHORT_TEXT_MAX} characters or fewer.")
            return {"selected": [OTHER], "other": other}
        if value not in allowed:
            raise ValueError("Select one of the answers listed.")
        return value if kind == "agreement" else {"selected": [value], "other": ""}
    if kind == "multiple_choice":
        values = [v for v in post.getlist(name) if v]
        if not values:
            return None
        permitted = {*options_for(question), *([OTHER] if question.get("allow_other") else [])}
        if any(v not in permitted for v in values):
            raise ValueError("Select from the answers listed.")
        other = ""
        if OTHER in values:
            other = post.get(field_name(question, "other"))
            if not other:
                raise ValueError("Say what your other answer is.")
            if len(other) > SHORT_TEXT_MAX:
                raise ValueError(f"Your other answer must be {SHORT_TEXT_MAX} characters or fewer.")
        ordered = [o for o in [*options_for(question), OTHER] if o in values]
        return {"selected": ordered, "other": other}
    if kind == "ranking":
        options = options_for(question)
        ranks: dict[str, int] = {}
        for position, option in enumerate(options):
            raw = post.get(field_name(question, str(position)))
            if not raw:
                continue
            if not raw.isdigit() or not 1 <= int(raw) <= len(options):
                raise ValueError(f"Give each option a rank from 1 to {len(options)}.")
            ranks[option] = int(raw)
        if not ranks:
            return None
        if len(set(ranks.values())) != len(ranks):
            raise ValueError("Give each option a different rank.")
        if len(ranks) != len(options):
            raise ValueError("Rank every option, or none of them.")
        return sorted(ranks, key=ranks.__getitem__)
    if kind == "number":
        raw = post.get(name).replace(",", "")
        if not raw:
            return None
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise ValueError("Enter a number, like 12 or 3.5.") from None
        if not number.is_finite():
            raise ValueError("Enter a number, like 12 or 3.5.")
        if question.get("whole") and number != number.to_integral_value():
            raise ValueError("Enter a whole number.")
        low, high = question.get("min"), question.get("max")
        if low is not None and number < Decimal(str(low)):
            raise ValueError(f"Enter a number of {low} or more.")
        if high is not None and number > Decimal(str(high)):
            raise ValueError(f"Enter a number of {high} or less.")
        return str(number.normalize()) if number != number.to_integral_value() else str(int(number))
    if kind == "date":
        parts = [post.get(field_name(question, part)) for part in ("day", "month", "year")]
        if not any(parts):
            return None
        if not all(parts):
            raise ValueError("Enter a day, a month and a year.")
        if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
            raise ValueError("Enter a real date, like 27 3 2025.")
        try:
            return dt.date(int(parts[2]), int(parts[1]), int(parts[0])).isoformat()
        except ValueError:
            raise ValueError("Enter a real date, like 27 3 2025.") from None
    raise ValueError("This question cannot be answered.")


def form_values(question: Mapping[str, Any], answer: Any) -> dict[str, Any]:
    """An answer turned back into what its form fields show, by field name."""
    kind = question["kind"]
    name = field_name(question)
    if answer is None:
        return {}
    if kind in CHOICE_KINDS:
        return {
            name: list(answer.get("selected", [])),
            field_name(question, "other"): answer.get("other", ""),
        }
    if kind == "ranking":
        return {
            field_name(question, str(i)): str(answer.index(o) + 1)
            for i, o in enumerate(options_for(question))
            if o in answer
        }
    if kind == "date":
        day = dt.date.fromisoformat(answer)
        return {
            field_name(question, "day"): str(day.day),
            field_name(question, "month"): str(day.month),
            field_name(question, "year"): str(day.year),
        }
    return {name: answer}


def display(question: Mapping[str, Any], answer: Any) -> str:
    """An answer as a person reads it on the check-your-answers page and in the emailed copy."""
    if answer is None or answer == "" or answer == []:
        return "Not answered"
    kind = question["kind"]
    if kind in CHOICE_KINDS:
        labels = [s for s in answer.get("selected", []) if s != OTHER]
        if answer.get("other"):
            labels.append(f"Other: {answer['other']}")
        return ", ".join(labels)
    if kind == "ranking":
        return "; ".join(f"{i}. {o}" for i, o in enumerate(answer, start=1))
    if kind == "date":
        return dt.date.fromisoformat(answer).strftime("%-d %B %Y")
    return str(answer)
