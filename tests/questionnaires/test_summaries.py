"""Summaries are pure: answers in, counts out."""

from __future__ import annotations

from questionnaires.summaries import summarise


def q(kind, code, **extra):
    return {"kind": kind, "code": code, "text": code, "required": False, "condition": None, **extra}


DEFINITION = {
    "pages": [
        {
            "title": "",
            "condition": None,
            "items": [
                q("single_choice", "travel", options=["Bus", "Car"], allow_other=True),
                q("multiple_choice", "improve", options=["Seats", "Lights"], allow_other=False),
                q("agreement", "agree"),
                q("ranking", "rank", options=["A", "B"]),
                q("number", "n"),
                q("long_text", "why"),
            ],
        }
    ]
}


def test_counts_and_percentages_of_those_who_answered():
    answers = [
        {
            "travel": {"selected": ["Bus"], "other": ""},
            "improve": {"selected": ["Seats", "Lights"], "other": ""},
            "agree": "Agree",
            "rank": ["B", "A"],
            "n": "3",
            "why": "x",
        },
        {
            "travel": {"selected": ["__other__"], "other": "Tram"},
            "improve": {"selected": ["Seats"], "other": ""},
            "n": "10",
        },
        {"travel": {"selected": ["Bus"], "other": ""}, "n": "4.5"},
        {},
    ]
    by_code = {s.code: s for s in summarise(DEFINITION, answers)}
    travel = by_code["travel"]
    assert travel.answered == 3
    assert [(o.label, o.count, o.percent) for o in travel.options] == [
        ("Bus", 2, 66.7),
        ("Car", 0, 0.0),
        ("Other", 1, 33.3),
    ]
    assert [(o.label, o.count, o.percent) for o in by_code["improve"].options] == [
        ("Seats", 2, 100.0),
        ("Lights", 1, 50.0),
    ]
    assert by_code["agree"].options[1].count == 1 and by_code["agree"].answered == 1
    assert [(o.label, o.count) for o in by_code["rank"].options] == [("A", 0), ("B", 1)]
    assert by_code["n"].numbers == {"lowest": "3", "median": "4.5", "highest": "10"}
    assert by_code["why"].answered == 1 and not by_code["why"].closed


def test_no_answers_gives_zeroes_not_errors():
    by_code = {s.code: s for s in summarise(DEFINITION, [])}
    assert by_code["travel"].answered == 0 and all(o.percent == 0.0 for o in by_code["travel"].options)
    assert by_code["n"].numbers == {}
