"""Forms: one per proposal kind, comments, flags, moderation decisions, appeals, status changes."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Ward
from cms.forms import GovukFormMixin
from proposals.models import (
    STATUS_TRANSITIONS,
    ActionReason,
    FlagReason,
    ProposalKind,
    ProposalStatus,
    Stance,
)
from proposals.services import BODY_MAX, COMMENT_MAX, SUSPENSION_MAX_DAYS

RICH_HINT = _(
    "Leave a blank line between paragraphs. Web addresses become links. You can use basic HTML such as "
    "<strong>, <em>, <ul> and <blockquote>; anything else is removed."
)


class KindChoiceForm(GovukFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("What kind of proposal is it?"),
        choices=ProposalKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what kind of proposal this is.")},
    )


class ProposalBaseForm(GovukFormMixin, forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=120,
        help_text=_("A short name for your proposal, up to 120 characters."),
        error_messages={
            "required": _("Enter a title."),
            "max_length": _("The title must be 120 characters or fewer."),
        },
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or two sentences, up to 300 characters: what you propose and why."),
        error_messages={
            "required": _("Enter a summary."),
            "max_length": _("The summary must be 300 characters or fewer."),
        },
    )
    body = forms.CharField(
        label=_("Description (optional)"),
        required=False,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=RICH_HINT,
        error_messages={"max_length": _("The description must be %(limit_value)s characters or fewer.")},
    )
    ward = forms.ModelChoiceField(
        label=_("Ward (optional)"),
        queryset=Ward.objects.all(),
        required=False,
        empty_label=_("The whole area, or not sure"),
        error_messages={"invalid_choice": _("Choose a ward from the list.")},
    )

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError(_("Enter a title."))
        return title

    def clean_summary(self) -> str:
        summary = " ".join(self.cleaned_data["summary"].split())
        if not summary:
            raise forms.ValidationError(_("Enter a summary."))
        return summary

    def kind_fields(self) -> dict:
        return {}


class IdeaForm(ProposalBaseForm):
    kind = ProposalKind.IDEA
    who_benefits = forms.CharField(
        label=_("Who would benefit? (optional)"),
        max_length=300,
        required=False,
        help_text=_("For example: families with young children, people who cycle to work."),
        error_messages={"max_length": _("Keep this to 300 characters or fewer.")},
    )

    def kind_fields(self) -> dict:
        return {"who_benefits": self.cleaned_data["who_benefits"].strip()}


class PoundsField(forms.DecimalField):
    """An amount in pounds typed the way people write it: "12500", "12,500", "£12,500.50".

    A text input with a decimal keypad (as GOV.UK advises) rather than ``type=number``, which mangles
    commas and scrolls values away on some phones.
    """

    widget = forms.TextInput

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        for key in ("min", "max", "step"):
            attrs.pop(key, None)
        return {**attrs, "inputmode": "decimal", "spellcheck": "false", "class": "govuk-input--width-10"}

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(",", "").replace(" ", "").removeprefix("£")
        return super().to_python(value)


class BudgetForm(ProposalBaseForm):
    kind = ProposalKind.BUDGET
    estimated_cost = PoundsField(
        label=_("Estimated cost, in pounds"),
        min_value=Decimal("1"),
        max_value=Decimal("100000000"),
        decimal_places=2,
        max_digits=11,
        help_text=_("Your best estimate, for example 12500."),
        error_messages={
            "required": _("Enter an estimated cost."),
            "invalid": _("Enter the cost as a number of pounds, like 12500 or 12500.50."),
            "min_value": _("The cost must be at least £1."),
            "max_value": _("The cost must be £100,000,000 or less."),
            "max_decimal_places": _("Enter pounds and pence only, like 12500.50."),
            "max_digits": _("The cost must be £100,000,000 or less."),
        },
    )
    location = forms.CharField(
        label=_("Where?"),
        max_length=200,
        help_text=_("A street, park or landmark people will recognise."),
        error_messages={
            "required": _("Enter where this would happen."),
            "max_length": _("The location must be 200 characters or fewer."),
        },
    )

    def kind_fields(self) -> dict:
        return {
            "estimated_cost_pence": int(self.cleaned_data["estimated_cost"] * 100),
            "location": self.cleaned_data["location"].strip(),
        }


class PolicyForm(ProposalBaseForm):
    kind = ProposalKind.POLICY
    current_policy = forms.CharField(
        label=_("What happens now?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Describe what happens now."),
            "max_length": _("Keep this to 2000 characters or fewer."),
        },
    )
    proposed_change = forms.CharField(
        label=_("What should change?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Describe what should change."),
            "max_length": _("Keep this to 2000 characters or fewer."),
        },
    )

    def kind_fields(self) -> dict:
        return {
            "current_policy": self.cleaned_data["current_policy"].strip(),
            "proposed_change": self.cleaned_data["proposed_change"].strip(),
        }


KIND_FORMS: dict[str, type[ProposalBaseForm]] = {
    ProposalKind.IDEA: IdeaForm,
    ProposalKind.BUDGET: BudgetForm,
    ProposalKind.POLICY: PolicyForm,
}


class CommentForm(GovukFormMixin, forms.Form):
    stance = forms.ChoiceField(
        label=_("Your view"),
        choices=Stance.choices,
        initial=Stance.NEUTRAL,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose your view."), "invalid_choice": _("Choose your view.")},
    )
    body = forms.CharField(
        label=_("Your comment"),
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=RICH_HINT,
        error_messages={
            "required": _("Write your comment."),
            "max_length": _("Comments must be %(limit_value)s characters or fewer."),
        },
    )
    quote = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, prefix_id: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if prefix_id:
            self.auto_id = f"{prefix_id}-%s"


class FlagForm(GovukFormMixin, forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you reporting this?"),
        choices=FlagReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a reason."), "invalid_choice": _("Choose a reason.")},
    )
    note = forms.CharField(
        label=_("Anything else the moderators should know? (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Keep this to 500 characters or fewer.")},
    )


class ModerationForm(GovukFormMixin, forms.Form):
    ACTIONS = [
        ("hide", _("Hide it")),
        ("restore", _("Restore it")),
        ("dismiss", _("Keep it: it breaks no rule")),
        ("warn", _("Warn the author")),
        ("suspend", _("Suspend the author")),
    ]
    action = forms.ChoiceField(
        label=_("Decision"),
        choices=ACTIONS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a decision."), "invalid_choice": _("Choose a decision.")},
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[(v, label) for v, label in ActionReason.choices if v != ActionReason.APPEAL],
        error_messages={"required": _("Choose a reason."), "invalid_choice": _("Choose a reason.")},
    )
    explanation = forms.CharField(
        label=_("Explanation for the author"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The author will read this. Say which house rule applies and what they can do."),
        error_messages={
            "required": _("Explain the decision; the author will read this."),
            "max_length": _("Keep the explanation to 2000 characters or fewer."),
        },
    )
    days = forms.IntegerField(
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}),
        label=_("Suspend for how many days? (suspensions only)"),
        required=False,
        min_value=1,
        max_value=SUSPENSION_MAX_DAYS,
        error_messages={
            "invalid": _("Enter a whole number of days."),
            "min_value": _("Suspend for at least 1 day."),
            "max_value": _("Suspend for %(limit_value)s days at most."),
        },
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "suspend" and not data.get("days"):
            self.add_error("days", _("Enter how many days the suspension lasts."))
        if data.get("action") == "dismiss":
            data["reason"] = ActionReason.NO_BREACH
        return data


class AppealForm(GovukFormMixin, forms.Form):
    statement = forms.CharField(
        label=_("Why should this decision change?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("You can appeal once. A moderator will review it and tell you the result."),
        error_messages={
            "required": _("Tell us why the decision should change."),
            "max_length": _("Keep your appeal to 2000 characters or fewer."),
        },
    )


class AppealReviewForm(GovukFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[("uphold", _("The decision stands")), ("overturn", _("Overturn the decision"))],
        error_messages={"required": _("Choose a decision."), "invalid_choice": _("Choose a decision.")},
    )
    note = forms.CharField(
        label=_("Explanation for the person who appealed"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Explain the decision; the person who appealed will read this."),
            "max_length": _("Keep this to 2000 characters or fewer."),
        },
    )


class StatusForm(GovukFormMixin, forms.Form):
    to_status = forms.ChoiceField(
        label=_("New status"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the new status."),
            "invalid_choice": _("Choose a status from the list."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the proposal and sent to the proposer."),
        error_messages={
            "required": _("Give the reason for this change."),
            "max_length": _("Keep the reason to 2000 characters or fewer."),
        },
    )
    response = forms.CharField(
        label=_("Council response (optional)"),
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=RICH_HINT,
        error_messages={"max_length": _("Keep the response to %(limit_value)s characters or fewer.")},
    )

    def __init__(self, *args, current: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(ProposalStatus.choices)
        self.fields["to_status"].choices = [(s, labels[s]) for s in STATUS_TRANSITIONS.get(current, ())]
        # GovukFormMixin validated while wiring error messages; validate again with the real choices.
        self._errors = None


class ListFilterForm(forms.Form):
    """The proposal list's GET form. Bad values fall back to the defaults instead of failing."""

    sort = forms.ChoiceField(label=_("Sort by"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *ProposalKind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ProposalStatus.choices]
    )
    ward = forms.TypedChoiceField(label=_("Ward"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, wards, sorts, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sort"].choices = [(k, label) for k, (label, _order) in sorts.items()]
        self.fields["ward"].choices = [("", _("All wards")), *[(w.pk, w.name) for w in wards]]
        for field in self.fields.values():
            field.widget.attrs["class"] = "govuk-select"
