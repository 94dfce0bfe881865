"""The pure rules of a questionnaire definition: save-time checks, conditions, cleaning each kind."""

from __future__ import annotations

import pytest

from questionnaires import definition as qdef


def q(kind: str, code: str, *, required: bool = False, condition=None, **extra) -> dict:
    return {
        "kind": kind,
        "code": code,
        "text": f"Question {code}",
        "hint": "",
        "required": required,
        "condition": condition,
        **extra,
    }


def when(code: str, value: str, op: str = "is") -> dict:
    return {"code": code, "op": op, "value": value}


def pages(*page_items, conditions=None) -> dict:
    conditions = conditions or {}
    return {
        "pages": [
            {"title": f"P{i}", "condition": conditions.get(i), "items": list(items)}
            for i, items in enumerate(page_items, start=1)
        ]
    }


CHOICE = {"options": ["Bus", "Car"], "allow_other": True}


# --- Save-time checks ----------------------------------------------------------------------------


def test_a_sound_definition_has_no_problems():
    d = pages(
        [q("single_choice", "a", **CHOICE)],
        [q("short_text", "b", condition=when("a", "Bus"))],
        conditions={2: when("a", "Car", "is_not")},
    )
    assert qdef.definition_problems(d) == []


def test_a_reference_to_a_later_question_is_refused_naming_both():
    d = pages([q("short_text", "first", condition=when("second", "x"))], [q("short_text", "second")])
    (problem,) = qdef.definition_problems(d)
    assert "“first”" in problem and "“second”" in problem and "comes after it" in problem


def test_a_cycle_is_refused_naming_every_question_in_it():
    d = pages(
        [q("short_text", "a", condition=when("c", "x"))],
        [q("short_text", "b", condition=when("a", "x"))],
        [q("short_text", "c", condition=when("b", "x"))],
    )
    problems = qdef.definition_problems(d)
    cycle = [p for p in problems if "in a circle" in p]
    assert len(cycle) == 1
    assert all(f"“{code}”" in cycle[0] for code in "abc")


def test_a_question_depending_on_itself_is_refused():
    d = pages([q("short_text", "a", condition=when("a", "x"))])
    assert qdef.definition_problems(d) == ["Question “a” depends on its own answer."]


def test_a_reference_to_a_question_on_the_same_page_is_refused():
    d = pages([q("short_text", "a"), q("short_text", "b", condition=when("a", "x"))])
    (problem,) = qdef.definition_problems(d)
    assert "same page" in problem and "“b”" in problem


def test_an_unknown_reference_and_duplicate_codes_are_refused():
    d = pages([q("short_text", "a"), q("short_text", "a")], [q("short_text", "b", condition=when("zz", "x"))])
    problems = qdef.definition_problems(d)
    assert any("Two questions use the reference “a”" in p for p in problems)
    assert any("“zz”" in p and "no question has that reference" in p for p in problems)


def test_a_page_condition_must_look_at_an_earlier_page():
    d = pages([q("short_text", "a")], [q("short_text", "b")], conditions={1: when("b", "x")})
    (problem,) = qdef.definition_problems(d)
    assert problem.startswith("Page 1 (P1)") and "“b”" in problem


# --- Conditions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "answers", "holds"),
    [
        (when("a", "bus"), {"a": {"selected": ["Bus"], "other": ""}}, True),
        (when("a", "Bus"), {"a": {"selected": ["Car"], "other": ""}}, False),
        (when("a", "Bus", "is_not"), {"a": {"selected": ["Car"], "other": ""}}, True),
        (when("a", "Bus", "is_not"), {}, True),
        (when("a", "Bus"), {}, False),
        (when("a", "tram", "contains"), {"a": {"selected": ["__other__"], "other": "The TRAM line"}}, True),
        (when("a", "Lighting"), {"a": {"selected": ["Pavements", "Lighting"], "other": ""}}, True),
        (when("a", "Agree"), {"a": "Strongly agree"}, False),
        (when("a", "agree", "contains"), {"a": "Strongly agree"}, True),
        (None, {}, True),
    ],
)
def test_conditions(condition, answers, holds):
    assert qdef.condition_holds(condition, answers) is holds


def test_hidden_pages_and_questions_are_not_visible_and_their_answers_are_pruned():
    d = pages(
        [q("single_choice", "a", **CHOICE)],
        [q("short_text", "b"), q("short_text", "c")],
        [q("short_text", "d", condition=when("b", "yes"))],
        conditions={2: when("a", "Bus")},
    )
    answers = {"a": {"selected": ["Car"], "other": ""}, "b": "yes", "c": "kept?", "d": "stale"}
    assert [n for n, _p, _i in qdef.visible(d, answers)] == [1]
    assert qdef.prune(d, answers) == {"a": {"selected": ["Car"], "other": ""}}
    answers["a"] = {"selected": ["Bus"], "other": ""}
    assert [n for n, _p, _i in qdef.visible(d, answers)] == [1, 2, 3]
    assert qdef.prune(d, answers) == answers


def test_missing_required_counts_only_visible_questions():
    d = pages(
        [q("single_choice", "a", required=True, **CHOICE)],
        [q("short_text", "b", required=True)],
        conditions={2: when("a", "Bus")},
    )
    assert [item["code"] for _n, item in qdef.missing_required(d, {})] == ["a"]
    assert qdef.missing_required(d, {"a": {"selected": ["Car"], "other": ""}}) == []
    assert [i["code"] for _n, i in qdef.missing_required(d, {"a": {"selected": ["Bus"], "other": ""}})] == [
        "b"
    ]


# --- Cleaning each kind ---------------------------------------------------------------------------


def clean(question: dict, data: dict):
    answers, errors = qdef.clean_page([question], data)
    return answers.get(question["code"]), errors.get(question["code"])


def test_required_questions_say_what_is_missing():
    for kind, message in [
        ("short_text", "Enter an answer."),
        ("single_choice", "Select an answer."),
        ("multiple_choice", "Select at least one answer."),
        ("date", "Enter a date."),
    ]:
        assert clean(q(kind, "a", required=True, **CHOICE), {}) == (None, message)


def test_optional_unanswered_questions_are_left_out():
    answers, errors = qdef.clean_page([q("short_text", "a"), q("number", "b")], {"q-a": "  ", "q-b": ""})
    assert answers == {} and errors == {}


def test_text_limits():
    assert clean(q("short_text", "a"), {"q-a": "x" * 501})[1].startswith("Your answer must be 500 characters")
    assert clean(q("long_text", "a", max_length=10), {"q-a": "x" * 11})[1].startswith(
        "Your answer must be 10"
    )
    assert clean(q("long_text", "a", max_length=10), {"q-a": "line\r\nline"}) == ("line\nline", None)


def test_choices_refuse_unknown_option_ids_and_need_other_text():
    question = q("single_choice", "a", **CHOICE)
    assert clean(question, {"q-a": "Tram"}) == (None, "Select one of the answers listed.")
    assert clean(question, {"q-a": "Bus"}) == ({"selected": ["Bus"], "other": ""}, None)
    assert clean(question, {"q-a": "__other__"}) == (None, "Say what your other answer is.")
    assert clean(question, {"q-a": "__other__", "q-a-other": "Tram"}) == (
        {"selected": ["__other__"], "other": "Tram"},
        None,
    )
    no_other = q("single_choice", "a", options=["Bus", "Car"], allow_other=False)
    assert (
        clean(no_other, {"q-a": "__other__", "q-a-other": "Tram"})[1] == "Select one of the answers listed."
    )
    multiple = q("multiple_choice", "a", **CHOICE)
    assert clean(multiple, {"q-a": ["Car", "Bus"]}) == ({"selected": ["Bus", "Car"], "other": ""}, None)
    assert clean(multiple, {"q-a": ["Car", "Boat"]})[1] == "Select from the answers listed."


def test_agreement_scale():
    assert clean(q("agreement", "a"), {"q-a": "Don't know"}) == ("Don't know", None)
    assert clean(q("agreement", "a"), {"q-a": "Meh"})[1] == "Select one of the answers listed."


def test_ranking_needs_distinct_ranks_for_every_option():
    question = q("ranking", "a", options=["X", "Y", "Z"])
    assert clean(question, {"q-a-0": "2", "q-a-1": "3", "q-a-2": "1"}) == (["Z", "X", "Y"], None)
    assert (
        clean(question, {"q-a-0": "1", "q-a-1": "1", "q-a-2": "2"})[1] == "Give each option a different rank."
    )
    assert clean(question, {"q-a-0": "1"})[1] == "Rank every option, or none of them."
    assert (
        clean(question, {"q-a-0": "4", "q-a-1": "1", "q-a-2": "2"})[1]
        == "Give each option a rank from 1 to 3."
    )


def test_numbers():
    question = q("number", "a", min="0", max="100", whole=True)
    assert clean(question, {"q-a": "1,000"})[1] == "Enter a number of 100 or less."
    assert clean(question, {"q-a": "-1"})[1] == "Enter a number of 0 or more."
    assert clean(question, {"q-a": "2.5"})[1] == "Enter a whole number."
    assert clean(question, {"q-a": "NaN"})[1] == "Enter a number, like 12 or 3.5."
    assert clean(question, {"q-a": "twelve"})[1] == "Enter a number, like 12 or 3.5."
    assert clean(question, {"q-a": "12"}) == ("12", None)
    assert clean(q("number", "a"), {"q-a": "3.50"}) == ("3.5", None)


def test_dates():
    question = q("date", "a")
    assert clean(question, {"q-a-day": "27", "q-a-month": "3", "q-a-year": "2025"}) == ("2025-03-27", None)
    assert (
        clean(question, {"q-a-day": "31", "q-a-month": "2", "q-a-year": "2025"})[1]
        == "Enter a real date, like 27 3 2025."
    )
    assert clean(question, {"q-a-day": "1", "q-a-year": "2025"})[1] == "Enter a day, a month and a year."
    assert (
        clean(question, {"q-a-day": "1", "q-a-month": "1", "q-a-year": "25"})[1]
        == "Enter a real date, like 27 3 2025."
    )


def test_postcodes_are_tidied_and_checked():
    assert clean(q("postcode", "a"), {"q-a": "sw1a1aa"}) == ("SW1A 1AA", None)
    assert clean(q("postcode", "a"), {"q-a": "not a postcode"})[1] == "Enter a real postcode, like SW1A 1AA."


def test_fields_of_other_questions_are_ignored():
    answers, errors = qdef.clean_page([q("short_text", "a")], {"q-a": "mine", "q-hidden": "injected"})
    assert answers == {"a": "mine"} and errors == {}


def test_form_values_round_trip_every_kind():
    cases = [
        (q("short_text", "a"), {"q-a": "hello"}),
        (q("single_choice", "a", **CHOICE), {"q-a": "__other__", "q-a-other": "Tram"}),
        (q("multiple_choice", "a", **CHOICE), {"q-a": ["Bus", "Car"]}),
        (q("ranking", "a", options=["X", "Y"]), {"q-a-0": "2", "q-a-1": "1"}),
        (q("date", "a"), {"q-a-day": "2", "q-a-month": "12", "q-a-year": "2026"}),
        (q("number", "a"), {"q-a": "7"}),
    ]
    for question, data in cases:
        value, error = clean(question, data)
        assert error is None
        again, error = clean(question, qdef.form_values(question, value))
        assert (again, error) == (value, None), question["kind"]
