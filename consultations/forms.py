"""Forms: the consultation editor in the Wagtail admin, and residents' "I want a say" request."""

from __future__ import annotations

import itertools

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminPageForm

from cms.forms import GovukFormMixin
from consultations import timeline, triage
from consultations.phases import PHASE_ORDER, PhaseKind, Status


def _when(value) -> str:
    return date_format(timezone.localtime(value), "j F Y, H:i")


class ConsultationPageForm(WagtailAdminPageForm):
    """Checks what the database cannot: the timeline, the triage choice, track moves and the outcome."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        recorded = self.recorded_track()
        if recorded is not None and self.instance.track == recorded and not self.is_bound:
            # The last move is recorded in the public history; a new move needs a new reason.
            self.initial["track_change_reason"] = ""

    def recorded_track(self) -> str | None:
        if not self.instance.pk:
            return None
        from consultations.models import TrackChange

        last = (
            TrackChange.objects.filter(consultation_id=self.instance.pk)
            .order_by("-changed_at", "-pk")
            .first()
        )
        return last.to_track if last else None

    # --- phases ---
    def _live_forms(self, name: str) -> list:
        formset = self.formsets.get(name)
        if formset is None or not formset.is_valid():
            return []
        return [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]

    def _clean_phases(self) -> list:
        formset = self.formsets.get("phases")
        if formset is None:
            return []
        formset.is_valid()  # validates each phase's own fields first
        forms_ = [
            f for f in formset.forms if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
        ]
        complete = [f for f in forms_ if f.cleaned_data.get("starts_at") and f.cleaned_data.get("ends_at")]
        problems = 0
        for f in complete:
            if f.cleaned_data["ends_at"] <= f.cleaned_data["starts_at"]:
                f.add_error(
                    "ends_at", _("This phase ends before it starts. Make the end later than the start.")
                )
                problems += 1
        ordered = sorted(
            (f for f in complete if "ends_at" in f.cleaned_data),
            key=lambda f: (f.cleaned_data["starts_at"], f.cleaned_data["ends_at"]),
        )
        for previous, current in itertools.pairwise(ordered):
            prev, cur = previous.cleaned_data, current.cleaned_data
            prev_label = PhaseKind(prev["kind"]).label if prev.get("kind") else _("the previous phase")
            if cur["starts_at"] < prev["ends_at"]:
                current.add_error(
                    "starts_at",
                    _("This phase overlaps the %(kind)s phase, which ends %(end)s. Start it then or later.")
                    % {"kind": prev_label, "end": _when(prev["ends_at"])},
                )
                problems += 1
            elif cur["starts_at"] > prev["ends_at"] and not cur.get("gap_intended"):
                current.add_error(
                    "starts_at",
                    _(
                        "There is a gap between the end of the %(kind)s phase (%(end)s) and the start of "
                        "this one. Start this phase %(end)s, or tick \u201cgap intended\u201d if the pause "
                        "is deliberate."
                    )
                    % {"kind": prev_label, "end": _when(prev["ends_at"])},
                )
                problems += 1
            elif (
                prev.get("kind")
                and cur.get("kind")
                and (PHASE_ORDER.index(cur["kind"]) < PHASE_ORDER.index(prev["kind"]))
            ):
                current.add_error(
                    "kind",
                    _(
                        "%(kind)s cannot come after %(previous)s. Phases run in this order: information, "
                        "proposals, deliberation, voting, outcome."
                    )
                    % {"kind": PhaseKind(cur["kind"]).label, "previous": prev_label},
                )
                problems += 1
        if not forms_:
            self.add_error(
                None, _("Add at least one phase to the timeline, so residents know what happens when.")
            )
        elif problems:
            self.add_error(None, _("The timeline has problems: see the phases marked below."))
        return [f.cleaned_data for f in complete]

    # --- triage and track ---
    def triage_recommendation(self, cleaned: dict) -> triage.Recommendation | None:
        from accounts.models import Ward

        needed = ("people_affected", "budget", "reversibility", "interest_signals")
        if any(cleaned.get(name) is None for name in needed):
            return None
        wards = cleaned.get("wards")
        count = len(wards) if wards is not None else 0
        whole = count == 0
        data = triage.TriageInput(
            people_affected=cleaned["people_affected"],
            wards_affected=count or Ward.objects.count(),
            whole_area=whole,
            budget=cleaned["budget"],
            reversibility=cleaned["reversibility"],
            statutory_duty=bool(cleaned.get("statutory_duty")),
            interest_signals=cleaned["interest_signals"],
        )
        try:
            return triage.recommend(data)
        except ValueError:  # a negative or unknown value: its own field says so
            return None

    def _clean_track(self, cleaned: dict) -> None:
        from consultations.models import Track

        track = cleaned.get("track")
        recommendation = self.triage_recommendation(cleaned)
        self.recommendation = recommendation
        no_reason = not (cleaned.get("triage_override_reason") or "").strip()
        if track and recommendation and track != recommendation.track and no_reason:
            self.add_error(
                "triage_override_reason",
                _(
                    "The triage aid recommends %(recommended)s (%(summary)s) and you chose %(chosen)s. "
                    "Give your reason: it is shown publicly on the consultation."
                )
                % {
                    "recommended": Track(recommendation.track).label,
                    "summary": recommendation.summary,
                    "chosen": Track(track).label,
                },
            )
        recorded = self.recorded_track()
        if (
            track
            and recorded
            and track != recorded
            and not (cleaned.get("track_change_reason") or "").strip()
        ):
            self.add_error(
                "track_change_reason",
                _(
                    "This consultation was published on the %(old)s track. Say why you are moving it to the "
                    "%(new)s track: the reason is shown publicly in the track history."
                )
                % {"old": Track(recorded).label, "new": Track(track).label},
            )

    # --- outcome ---
    def _clean_outcome(self, phases: list[dict]) -> None:
        outcome_forms = [f for f in self._live_forms("outcomes") if f.cleaned_data.get("decision")]
        if not outcome_forms:
            return
        status = timeline.status_at(timeline.ordered(_PhaseData.many(phases)), timezone.now())
        if status in (Status.UPCOMING, Status.OPEN):
            ends = timeline.participation_ends_at(_PhaseData.many(phases))
            message = _(
                "You cannot record an outcome while the consultation is still open: people can take part "
                "until %(end)s. Add the outcome once that has passed."
            ) % {"end": _when(ends) if ends else _("its timeline ends")}
            outcome_forms[0].add_error("decision", message)
            self.add_error(None, message)

    def clean(self):
        cleaned = super().clean()
        phases = self._clean_phases()
        self._clean_track(cleaned)
        self._clean_outcome(phases)
        return cleaned


class _PhaseData:
    """A phase as the timeline functions see it, built from a phase form's cleaned data."""

    def __init__(self, data: dict) -> None:
        self.kind = data.get("kind") or PhaseKind.INFORMATION
        self.starts_at = data["starts_at"]
        self.ends_at = data["ends_at"]

    @classmethod
    def many(cls, rows: list[dict]) -> list[_PhaseData]:
        return [cls(row) for row in rows]


class EscalationRequestForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why this matters to you (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Up to 500 characters. The councillor reads these; they are not published."),
    )
