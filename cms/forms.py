"""Form helpers shared by every app: GOV.UK Frontend classes and accessible error wiring."""

from __future__ import annotations

from django import forms

_WIDGET_CLASSES = {
    forms.Textarea: "govuk-textarea",
    forms.Select: "govuk-select",
    forms.SelectMultiple: "govuk-select",
    forms.CheckboxInput: "govuk-checkboxes__input",
    forms.RadioSelect: "",
    forms.CheckboxSelectMultiple: "",
    forms.FileInput: "govuk-file-upload",
    forms.ClearableFileInput: "govuk-file-upload",
}


class GovukFormMixin:
    """Give every widget its GOV.UK class and describe it by its hint and error message.

    ``templates/includes/field.html`` renders a field with the matching ids
    (``<id>-hint``, ``<id>-error``), so a screen reader announces both with the input. Errors are
    wired in ``full_clean``, never in ``__init__``: reading ``self.errors`` there would validate the
    form before a subclass has finished setting it up (choices, querysets).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            widget = field.widget
            css = next((c for t, c in _WIDGET_CLASSES.items() if type(widget) is t), "govuk-input")
            if css:
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            if field.help_text:
                widget.attrs["aria-describedby"] = f"id_{name}-hint"

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        # Errors are known only now; re-run the wiring so the widgets describe them.
        if self.is_bound:  # type: ignore[attr-defined]
            for name in self.errors:  # type: ignore[attr-defined]
                if name in self.fields:  # type: ignore[attr-defined]
                    field = self.fields[name]  # type: ignore[attr-defined]
                    attrs = field.widget.attrs
                    ids = (attrs.get("aria-describedby") or "").split()
                    if f"id_{name}-error" not in ids:
                        ids.append(f"id_{name}-error")  # after the hint, as it is read out
                    attrs["aria-describedby"] = " ".join(ids)
                    attrs["aria-invalid"] = "true"
                    for css in ("govuk-input", "govuk-textarea", "govuk-select"):
                        classes = (attrs.get("class") or "").split()
                        if css in classes and f"{css}--error" not in classes:
                            attrs["class"] = " ".join([*classes, f"{css}--error"])
