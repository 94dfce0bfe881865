"""The "about you" form a response starts with. The questions themselves are read by
``questionnaires.definition.clean_page``, from the questionnaire's own definition."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from questionnaires.models import Channel, Connection, Consent, Respondents, RespondentType


class AboutYouForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("We will send you a link to confirm it. Use the same link to come back to your answers."),
        error_messages={
            "required": _("Enter your email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.com"),
        },
    )
    name = forms.CharField(
        label=_("Your name (optional)"),
        max_length=200,
        required=False,
        help_text=_("Only published if you say we may publish your response with your name."),
    )
    respondent_type = forms.ChoiceField(
        label=_("Are you responding as an individual or for an organisation?"),
        choices=RespondentType.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Select whether you are responding as an individual or for an organisation")
        },
    )
    organisation_name = forms.CharField(
        label=_("Organisation name (if you are responding for an organisation)"),
        max_length=200,
        required=False,
    )
    connection = forms.MultipleChoiceField(
        label=_("What is your connection to the area?"),
        help_text=_("Select all that apply."),
        choices=Connection.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Select your connection to the area")},
    )
    publication_consent = forms.ChoiceField(
        label=_("May we publish your response?"),
        help_text=_("We publish answers to closed questions only as totals, whatever you choose."),
        choices=Consent.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select whether we may publish your response")},
    )

    def __init__(self, *args, respondents: str, **kwargs):
        super().__init__(*args, **kwargs)
        if respondents != Respondents.EMAIL:
            del self.fields["email"]

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("respondent_type") == RespondentType.ORGANISATION
            and not (cleaned.get("organisation_name") or "").strip()
        ):
            self.add_error("organisation_name", _("Enter the name of your organisation"))
        return cleaned


class ResumeLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={
            "required": _("Enter your email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.com"),
        },
    )


class OfficerEntryForm(AboutYouForm):
    """A response that arrived another way, keyed in by council staff: how and when it arrived first."""

    channel = forms.ChoiceField(
        label=_("How did the response arrive?"),
        choices=[c for c in Channel.choices if c[0] != Channel.ONLINE],
        widget=forms.RadioSelect,
        error_messages={"required": _("Select how the response arrived")},
    )
    received_on = forms.DateField(
        label=_("Date received"),
        help_text=_("For example, 27/3/2026."),
        input_formats=["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"],
        error_messages={
            "required": _("Enter the date the response was received"),
            "invalid": _("Enter a real date, like 27/3/2026"),
        },
    )
    late_reason = forms.CharField(
        label=_("If it arrived after the consultation closed, why is it accepted?"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    field_order = ["channel", "received_on", "late_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, respondents=Respondents.EMAIL, **kwargs)
        self.fields["email"].required = False
        self.fields["email"].label = _("Respondent's email address (optional)")
        self.fields["email"].help_text = _("Only if they gave one. We do not email keyed-in responses.")
        self.fields["name"].label = _("Respondent's name (optional)")
        self.fields["respondent_type"].label = _("Did they respond as an individual or for an organisation?")
        self.fields["connection"].label = _("Their connection to the area")
        self.fields["publication_consent"].label = _("What did they say about publishing their response?")


class RedactionForm(forms.Form):
    code = forms.ChoiceField(
        label=_("Answer to redact"), error_messages={"required": _("Choose the answer to redact")}
    )
    text = forms.CharField(
        label=_("The answer as it should be published"),
        help_text=_("Replace what must not be published, for example a name, with [redacted]."),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=20_000,
        error_messages={"required": _("Enter the answer as it should be published")},
    )
    reason = forms.CharField(
        label=_("Why are you redacting it?"),
        max_length=500,
        error_messages={"required": _("Say why you are redacting this answer")},
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", _("Choose an answer")), *choices]
