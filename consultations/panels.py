"""Admin panels: the triage aid's recommendation, shown read-only while a councillor edits."""

from __future__ import annotations

from wagtail.admin.panels import Panel


class TriagePanel(Panel):
    """Shows the triage aid's recommendation and its reasons.

    Computed from the values in the form when it was just submitted, otherwise from the saved values,
    so it works without JavaScript: change the rubric, save a draft, and the recommendation follows.
    """

    class BoundPanel(Panel.BoundPanel):
        template_name = "consultations/admin/triage_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            recommendation = getattr(self.form, "recommendation", None) if self.form.is_bound else None
            if recommendation is None and self.instance is not None:
                recommendation = self.instance.triage_recommendation if self.instance.pk else None
            context["recommendation"] = recommendation
            context["track"] = self.instance.track if self.instance is not None else None
            return context
