"""Turn a tally (``selectors.tally_for``) into what results pages show: a one-line summary, bars for the
chart, a data table, and the rounds of an instant runoff. Labels come from the question's options;
everything is plain text (templates escape it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from voting.tallies import ABSTAIN, NO, YES

YES_NO_NAMES = {YES: "Yes", NO: "No", ABSTAIN: "Abstain"}
BAR_HEIGHT = 24
#: Shown where there is no figure (an eliminated option, an option nobody scored).
NONE = "\u2013"
ROW_HEIGHT = 56


@dataclass
class Bar:
    label: str
    value_text: str
    percent: float
    highlight: bool = False
    y_label: int = 0
    y_bar: int = 0


@dataclass
class Presentation:
    summary: str
    chart_title: str
    bars: list[Bar]
    table_head: list[str]
    table_rows: list[list[str]]
    rounds: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    #: How an Equal Shares count went: the share, the completion and how it ended, the fill-up.
    method_notes: list[str] = field(default_factory=list)
    #: Which tie-break rule decided which tie (Equal Shares).
    tie_notes: list[str] = field(default_factory=list)

    @property
    def chart_height(self) -> int:
        return max(ROW_HEIGHT * len(self.bars), ROW_HEIGHT)


def _layout(bars: list[Bar]) -> list[Bar]:
    for i, bar in enumerate(bars):
        bar.y_label = i * ROW_HEIGHT + 18
        bar.y_bar = i * ROW_HEIGHT + 26
        bar.percent = max(0.0, min(100.0, float(bar.percent)))
    return bars


def _names(tally: dict[str, Any]) -> dict[str, str]:
    names = {o["key"]: o["label"] for o in tally["options"]}
    names.update(YES_NO_NAMES)
    return names


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " " + _("and") + " " + names[-1]


def _votes(n: int) -> str:
    return ngettext("%(n)s vote", "%(n)s votes", n) % {"n": f"{n:,}"}


def present(tally: dict[str, Any]) -> Presentation:
    kind = tally["kind"]
    result = tally["result"]
    names = _names(tally)
    ballots = int(result.get("ballots", 0))
    if kind == "yes_no":
        return _yes_no(result, ballots)
    if kind in {"single", "approval"}:
        return _ranking(result, names, ballots, kind)
    if kind == "score":
        return _score(result, names, ballots)
    if kind == "ranked":
        return _ranked(result, names, ballots)
    if kind == "budget":
        return _budget(result, names, ballots)
    raise ValueError(kind)


def _no_ballots() -> str:
    return _("No votes have been cast.")


def _yes_no(result: dict[str, Any], ballots: int) -> Presentation:
    rows = {row["key"]: row for row in result["rows"]}
    yes = rows[YES]["count"]
    outcome = result["outcome"]
    if outcome == "none":
        summary = (
            _no_ballots() if ballots == 0 else _("Everyone who voted abstained, so nothing was decided.")
        )
    elif outcome == "tie":
        summary = _("Tied: %(n)s yes and %(n)s no. A tie does not carry.") % {"n": f"{yes:,}"}
    else:
        share = rows[outcome]["percent_of_decisive"]
        summary = _("%(word)s: %(share)s%% of those who voted yes or no said %(answer)s.") % {
            "word": _("Carried") if outcome == YES else _("Not carried"),
            "share": share,
            "answer": _("yes") if outcome == YES else _("no"),
        }
    bars = [
        Bar(
            YES_NO_NAMES[key],
            f"{rows[key]['count']:,} ({rows[key]['percent']}%)",
            rows[key]["percent"],
            highlight=key == outcome,
        )
        for key in (YES, NO, ABSTAIN)
    ]
    table = [
        [
            YES_NO_NAMES[key],
            f"{rows[key]['count']:,}",
            f"{rows[key]['percent']}%",
            "" if key == ABSTAIN else f"{rows[key]['percent_of_decisive']}%",
        ]
        for key in (YES, NO, ABSTAIN)
    ]
    return Presentation(
        summary=summary,
        chart_title=_("Votes for yes, no and abstain, out of %(n)s") % {"n": f"{ballots:,}"},
        bars=_layout(bars),
        table_head=[_("Answer"), _("Votes"), _("Share of all votes"), _("Share of yes and no")],
        table_rows=table,
        notes=[result["tie_break"]],
    )


def _ranking(result: dict[str, Any], names: dict[str, str], ballots: int, kind: str) -> Presentation:
    rows = result["rows"]
    winner = result["winner"]
    if ballots == 0 or winner is None:
        summary = _no_ballots()
    elif result["tied"]:
        summary = _(
            "Tied for first place with %(votes)s: %(names)s. "
            "By the tie-break rule %(winner)s is listed first."
        ) % {
            "votes": _votes(rows[0]["count"]),
            "names": _join([names[k] for k in result["tied"]]),
            "winner": names[winner],
        }
    else:
        summary = _("%(winner)s has the most support: %(votes)s (%(percent)s%% of ballots).") % {
            "winner": names[winner],
            "votes": _votes(rows[0]["count"]),
            "percent": rows[0]["percent"],
        }
    bars = [
        Bar(names[r["key"]], f"{r['count']:,} ({r['percent']}%)", r["percent"], highlight=r["key"] == winner)
        for r in rows
    ]
    head = [_("Option"), _("Votes") if kind == "single" else _("People who chose it"), _("Share of ballots")]
    return Presentation(
        summary=summary,
        chart_title=_("Votes for each option, out of %(n)s ballots") % {"n": f"{ballots:,}"},
        bars=_layout(bars),
        table_head=head,
        table_rows=[[names[r["key"]], f"{r['count']:,}", f"{r['percent']}%"] for r in rows],
        notes=[result["tie_break"]],
    )


def _score(result: dict[str, Any], names: dict[str, str], ballots: int) -> Presentation:
    rows = result["rows"]
    winner = result["winner"]
    if winner is None:
        summary = _no_ballots()
    else:
        summary = _("%(winner)s has the highest average score: %(mean)s out of 5 from %(n)s people.") % {
            "winner": names[winner],
            "mean": rows[0]["mean"],
            "n": f"{rows[0]['scored']:,}",
        }
        if result["tied"]:
            summary += " " + _("Level with: %(names)s.") % {
                "names": _join([names[k] for k in result["tied"] if k != winner])
            }
    bars = [
        Bar(
            names[r["key"]],
            f"{r['mean'] or NONE} / 5",
            (float(r["mean"]) / 5 * 100) if r["mean"] is not None else 0.0,
            highlight=r["key"] == winner,
        )
        for r in rows
    ]
    return Presentation(
        summary=summary,
        chart_title=_("Average score of each option, from 0 to 5"),
        bars=_layout(bars),
        table_head=[_("Option"), _("Average"), *[str(s) for s in range(6)], _("People")],
        table_rows=[
            [names[r["key"]], r["mean"] or NONE, *[f"{n:,}" for n in r["distribution"]], f"{r['scored']:,}"]
            for r in rows
        ],
        notes=[result["tie_break"]],
    )


def _ranked(result: dict[str, Any], names: dict[str, str], ballots: int) -> Presentation:
    rounds = result["rounds"]
    winner = result["winner"]
    if winner is None:
        summary = _no_ballots()
    else:
        last = rounds[-1]
        top = next(c for c in last["counts"] if c["key"] == winner)
        summary = ngettext(
            "%(winner)s wins in round %(round)s with %(votes)s, %(percent)s%% of the ballots still in play.",
            "%(winner)s wins in round %(round)s with %(votes)s, %(percent)s%% of the ballots still in play.",
            last["round"],
        ) % {
            "winner": names[winner],
            "round": last["round"],
            "votes": _votes(top["count"]),
            "percent": top["percent"],
        }
    final = rounds[-1]["counts"] if rounds else []
    bars = [
        Bar(names[c["key"]], f"{c['count']:,} ({c['percent']}%)", c["percent"], highlight=c["key"] == winner)
        for c in final
    ]
    # The rounds table: one row per option, one column per round.
    order = [o for o in names if o not in YES_NO_NAMES]
    head = [_("Option")] + [_("Round %(n)s") % {"n": r["round"]} for r in rounds]
    table_rows = []
    for key in order:
        cells = [names[key]]
        for r in rounds:
            found = next((c for c in r["counts"] if c["key"] == key), None)
            cells.append(f"{found['count']:,}" if found else NONE)
        table_rows.append(cells)
    table_rows.append([_("Exhausted ballots")] + [f"{r['exhausted']:,}" for r in rounds])
    outcomes = []
    for r in rounds:
        if r["elected"]:
            outcomes.append(_("%(name)s elected") % {"name": names[r["elected"]]})
        elif r["eliminated"]:
            text = _("%(name)s eliminated") % {"name": names[r["eliminated"]]}
            if r["tie_break_used"]:
                text += " " + _("(tie broken)")
            outcomes.append(text)
        else:
            outcomes.append(NONE)
    table_rows.append([_("Result of the round"), *outcomes])
    transfers = []
    for r in rounds:
        t = r.get("transfers")
        if not t:
            continue
        moved = [f"{names[x['key']]} {x['count']:,}" for x in t["to"]]
        transfers.append(
            _("After round %(round)s, %(name)s's ballots went to: %(moved)s; %(lost)s exhausted.")
            % {
                "round": r["round"],
                "name": names[t["from"]],
                "moved": ", ".join(moved) or _("no one"),
                "lost": f"{t['exhausted']:,}",
            }
        )
    return Presentation(
        summary=summary,
        chart_title=_("Votes in the final round"),
        bars=_layout(bars),
        table_head=head,
        table_rows=table_rows,
        rounds={"transfers": transfers, "count": len(rounds)},
        notes=[result["tie_break"]],
    )


STATUS_TEXT = {
    "funded": "Funded",
    "completion": "Funded (with money left over)",
    "does_not_fit": "Not funded: not enough money left",
    "not_funded": "Not funded",
    "no_votes": "Not funded: no votes",
}


def _budget(result: dict[str, Any], names: dict[str, str], ballots: int) -> Presentation:
    rows = result["rows"]
    funded = result["funded"]
    if ballots == 0:
        summary = _no_ballots()
    else:
        summary = _("%(n)s funded, spending £%(spent)s of £%(budget)s: %(names)s.") % {
            "n": ngettext("%(count)s project", "%(count)s projects", len(funded)) % {"count": len(funded)},
            "spent": f"{result['spent']:,}",
            "budget": f"{result['budget']:,}",
            "names": _join([names[k] for k in funded]) or _("none"),
        }
    bars = [
        Bar(names[r["key"]], f"{r['count']:,} ({r['percent']}%)", r["percent"], highlight=r["key"] in funded)
        for r in rows
    ]
    view = Presentation(
        summary=summary,
        chart_title=_("People who chose each project, out of %(n)s ballots") % {"n": f"{ballots:,}"},
        bars=_layout(bars),
        table_head=[_("Project"), _("Cost"), _("Votes"), _("Share of ballots"), _("Result")],
        table_rows=[
            [
                names[r["key"]],
                f"£{r['cost']:,}",
                f"{r['count']:,}",
                f"{r['percent']}%",
                _(STATUS_TEXT[r["status"]]),
            ]
            for r in rows
        ],
        notes=[result["tie_break"]],
    )
    if result.get("method") == "equal_shares" and ballots:
        view.method_notes = _equal_shares_account(result, names)
        view.tie_notes = _equal_shares_ties(result, names)
    return view


def _money(text: str) -> str:
    """A sum from a tally (``"1234.50"``) as the page shows it: ``£1,234.50``."""
    whole, _sep, pence = text.partition(".")
    return f"£{int(whole):,}.{pence or '00'}"


def _equal_shares_account(result: dict[str, Any], names: dict[str, str]) -> list[str]:
    """How the count went, in order: the share, the completion and how it ended, the fill-up."""
    completion = result["completion"]
    ended = completion["ended"]
    start = _money(completion["start_share"])
    final = _money(completion["final_share"])
    steps = completion["steps"]
    lines = [
        _("Each of the %(n)s people who voted started with an equal share of the budget: %(share)s.")
        % {"n": f"{result['ballots']:,}", "share": start}
    ]
    if result.get("funded_free"):
        lines.append(
            _("Projects that cost nothing were funded first: %(names)s.")
            % {"names": _join([names[k] for k in result["funded_free"]])}
        )
    if ended == "not_needed":
        lines.append(
            _("After that count no other project fitted the money left, so no further count was needed.")
        )
    else:
        if steps:
            lines.append(
                ngettext(
                    "Money was left and other projects fitted it, so every share was raised by £1 and "
                    "the count run again: %(steps)s time, up to a share of %(final)s.",
                    "Money was left and other projects fitted it, so every share was raised by £1 at a "
                    "time and the count run again: %(steps)s times, up to a share of %(final)s.",
                    steps,
                )
                % {"steps": f"{steps:,}", "final": final}
            )
        if ended == "exhaustive":
            lines.append(
                _(
                    "The count at a share of %(final)s was used: after it no other project fitted the "
                    "money left."
                )
                % {"final": final}
            )
        else:
            over = completion["over_budget"]
            lines.append(
                _(
                    "The count at a share of %(final)s was used: at %(next)s the projects funded would have "
                    "cost £%(cost)s, more than the £%(budget)s budget."
                )
                % {
                    "final": final,
                    "next": _money(over["share"]),
                    "cost": f"{over['cost']:,}",
                    "budget": f"{result['budget']:,}",
                }
            )
    if result["funded_by_completion"]:
        lines.append(
            _("The money still left went to the projects with most votes that fitted it: %(names)s.")
            % {"names": _join([names[k] for k in result["funded_by_completion"]])}
        )
    return lines


TIE_REASONS = {
    "cost": "it costs less",
    "votes": "more people chose it",
    "order": "it is listed first on the ballot paper",
}


def _equal_shares_ties(result: dict[str, Any], names: dict[str, str]) -> list[str]:
    lines = []
    for number, step in enumerate(result["steps"], start=1):
        if not step.get("tie_rule"):
            continue
        lines.append(
            _(
                "Round %(round)s: %(tied)s could be paid for at the same price per pound. %(winner)s was "
                "funded first because %(reason)s."
            )
            % {
                "round": number,
                "tied": _join([names[k] for k in step["tied"]]),
                "winner": names[step["key"]],
                "reason": _(TIE_REASONS[step["tie_rule"]]),
            }
        )
    for tie in result.get("fill_ties", []):
        lines.append(
            _(
                "With the money left, %(winner)s and %(others)s had the same number of votes. %(winner)s was "
                "funded because %(reason)s, and then the others no longer fitted."
            )
            % {
                "winner": names[tie["key"]],
                "others": _join([names[k] for k in tie["over"]]),
                "reason": _(TIE_REASONS[tie["rule"]]),
            }
        )
    return lines
