from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications import kinds


class MailSettingsForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language for emails"),
        choices=settings.LANGUAGES,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the language for emails."),
            "invalid_choice": _("Choose a language from the list."),
        },
    )
    receive = forms.MultipleChoiceField(
        label=_("Emails you want"),
        help_text=_("Emails about your own account, such as moderation decisions, are always sent."),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose kinds of email from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receive"].choices = [(k.key, k.label) for k in kinds.optional_kinds()]
