"""Ballot papers as ordinary HTML forms: one per kind, each producing the ``data`` dict ``ballot_cast`` takes.

The forms only parse what the browser sent; every rule (limits, ranks, budget, eligibility) is
``ballot_cast``'s, so a websocket vote and a form vote are judged the same way. A ``BallotError`` is
put back on the form (``add_ballot_error``) against the field it concerns.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cms.forms import GovukFormMixin
from voting import errors
from voting.errors import BallotError
from voting.models import SCORE_MAX, SCORE_MIN, Question
from voting.tallies import ABSTAIN, NO, YES

YES_NO_LABELS = [(YES, _("Yes")), (NO, _("No")), (ABSTAIN, _("Abstain"))]


def option_label(option: Any, *, with_cost: bool = False) -> str:
    if with_cost and option.cost is not None:
        return f"{option.label} (£{option.cost:,})"
    return option.label


class _BallotFields(forms.Form):
    """Adds the kind's fields as soon as the form exists, before ``GovukFormMixin`` inspects them."""

    ballot_question: Question

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_fields(self.ballot_question)

    def setup_fields(self, question: Question) -> None:
        """Add or configure the fields that depend on the question's options."""


class BallotForm(GovukFormMixin, _BallotFields):
    """Base ballot paper. ``question`` is a hidden copy of the question's id: a page that was
    tampered with, or a stale tab for another question, is refused instead of voting elsewhere."""

    question = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, question: Question, **kwargs: Any) -> None:
        self.ballot_question = question
        super().__init__(*args, **kwargs)
        self.fields["question"].initial = question.pk
        self.fields["question"].widget.attrs.pop("class", None)

    def clean_question(self) -> int:
        value = self.cleaned_data["question"]
        if value != self.ballot_question.pk:
            raise forms.ValidationError(
                _("This ballot paper is for a different question. Reload the page and vote again.")
            )
        return value

    #: Field that a ``BallotError`` code concerns; ``None`` puts it at the top of the form.
    error_fields: dict[str, str | None] = {}

    def ballot_data(self) -> dict[str, Any]:
        raise NotImplementedError

    def first_field_id(self) -> str:
        names = [name for name in self.fields if name != "question"]
        if not names:
            return ""
        field = self[names[0]]
        widget_type = field.widget_type
        if widget_type in {"radioselect", "checkboxselectmultiple"}:
            return f"{field.auto_id}_0"
        return field.id_for_label

    def add_ballot_error(self, error: BallotError) -> None:
        name = self.error_fields.get(error.code)
        if name is None and error.code in {errors.INVALID_BALLOT, errors.UNKNOWN_OPTION}:
            names = [n for n in self.fields if n != "question"]
            name = names[0] if len(names) == 1 else None
        self.add_error(name, error.message)


class YesNoBallotForm(BallotForm):
    choice = forms.ChoiceField(
        label=_("Your vote"),
        choices=YES_NO_LABELS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose yes, no or abstain.")},
    )

    def ballot_data(self) -> dict[str, Any]:
        return {"choice": self.cleaned_data["choice"]}


class SingleChoiceBallotForm(BallotForm):
    choice = forms.ChoiceField(
        label=_("Your choice"), widget=forms.RadioSelect, error_messages={"required": _("Choose one option.")}
    )

    def setup_fields(self, question: Question) -> None:
        self.fields["choice"].choices = [(o.key, option_label(o)) for o in question.option_list]

    def ballot_data(self) -> dict[str, Any]:
        return {"choice": self.cleaned_data["choice"]}


class ApprovalBallotForm(BallotForm):
    choices = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, error_messages={"required": _("Choose at least one option.")}
    )
    error_fields = {errors.TOO_MANY_CHOICES: "choices"}

    def setup_fields(self, question: Question) -> None:
        field = self.fields["choices"]
        field.choices = [(o.key, option_label(o)) for o in question.option_list]
        limit = question.max_choices  # type: ignore[attr-defined]
        field.label = _("Choose up to %(n)s") % {"n": limit}
        field.help_text = _("Select all that you support, no more than %(n)s.") % {"n": limit}

    def ballot_data(self) -> dict[str, Any]:
        return {"choices": list(self.cleaned_data["choices"])}


class RankedBallotForm(BallotForm):
    """One select per candidate: its rank (1 = first choice), or left blank."""

    error_fields = {errors.DUPLICATE_RANK: None, errors.RANK_GAP: None}

    def setup_fields(self, question: Question) -> None:
        count = len(question.option_list)
        ranks = [("", _("Not ranked"))] + [(str(n), str(n)) for n in range(1, count + 1)]
        for option in question.option_list:
            self.fields[f"rank_{option.key}"] = forms.ChoiceField(
                label=option_label(option),
                choices=ranks,
                required=False,
                widget=forms.Select,
            )
        self.rank_fields = [self[f"rank_{o.key}"] for o in question.option_list]

    def ballot_data(self) -> dict[str, Any]:
        return {
            "ranks": {
                o.key: self.cleaned_data.get(f"rank_{o.key}") or None
                for o in self.ballot_question.option_list
            }
        }


class ScoreBallotForm(BallotForm):
    """One radio group per option: a score from 0 to 5."""

    def setup_fields(self, question: Question) -> None:
        scores = [(str(n), str(n)) for n in range(SCORE_MIN, SCORE_MAX + 1)]
        for option in question.option_list:
            self.fields[f"score_{option.key}"] = forms.ChoiceField(
                label=_("Score for %(option)s") % {"option": option.label},
                choices=scores,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Give %(option)s a score from 0 to 5.") % {"option": option.label}
                },
            )
        self.score_fields = [self[f"score_{o.key}"] for o in question.option_list]

    def ballot_data(self) -> dict[str, Any]:
        return {
            "scores": {
                o.key: int(self.cleaned_data[f"score_{o.key}"]) for o in self.ballot_question.option_list
            }
        }


class BudgetBallotForm(BallotForm):
    projects = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, error_messages={"required": _("Choose at least one project.")}
    )
    error_fields = {errors.OVER_BUDGET: "projects"}

    def setup_fields(self, question: Question) -> None:
        field = self.fields["projects"]
        field.choices = [(o.key, option_label(o, with_cost=True)) for o in question.option_list]
        budget = question.budget  # type: ignore[attr-defined]
        field.label = _("Choose projects")
        field.help_text = _("Choose the projects you want, costing no more than £%(budget)s in total.") % {
            "budget": f"{budget:,}"
        }

    def ballot_data(self) -> dict[str, Any]:
        return {"projects": list(self.cleaned_data["projects"])}


FORMS: dict[str, type[BallotForm]] = {
    "yes_no": YesNoBallotForm,
    "single": SingleChoiceBallotForm,
    "approval": ApprovalBallotForm,
    "ranked": RankedBallotForm,
    "score": ScoreBallotForm,
    "budget": BudgetBallotForm,
}


def ballot_form_for(question: Question, *args: Any, **kwargs: Any) -> BallotForm:
    return FORMS[question.kind](*args, question=question, **kwargs)


def initial_from_ballot(question: Question, data: dict[str, Any] | None) -> dict[str, Any]:
    """A ballot already cast, as the form's initial values (to change it)."""
    if not data:
        return {}
    kind = question.kind
    if kind in {"yes_no", "single"}:
        return {"choice": data.get("choice")}
    if kind == "approval":
        return {"choices": data.get("choices", [])}
    if kind == "budget":
        return {"projects": data.get("projects", [])}
    if kind == "ranked":
        return {f"rank_{key}": str(i) for i, key in enumerate(data.get("ranking", []), start=1)}
    if kind == "score":
        return {f"score_{key}": str(score) for key, score in data.get("scores", {}).items()}
    return {}
