"""The consultation editor refuses bad input with clear messages on the right field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from consultations.models import ConsultationPage, Track, TrackChange
from consultations.phases import PhaseKind
from consultations.triage import Reversibility
from tests import factories
from tests.consultations.factories import make_consultation

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _fmt(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def form_data(*, phases=None, outcome=None, **fields) -> dict:
    """POST data for the consultation editor. ``phases``: (kind, start, end[, gap_intended])."""
    if phases is None:
        phases = [
            (PhaseKind.INFORMATION, T0, T0 + 7 * DAY),
            (PhaseKind.PROPOSALS, T0 + 7 * DAY, T0 + 14 * DAY),
        ]
    data = {
        "title": "Library opening hours",
        "slug": "library-hours",
        "summary": "When should the library open?",
        "body-count": "0",
        "contact_email": "",
        "councillor": "",
        "people_affected": "50",
        "budget": "0",
        "reversibility": Reversibility.EASY,
        "interest_signals": "0",
        "track": Track.PANEL,
        "panel": "",
        "triage_override_reason": "",
        "track_change_reason": "",
        "escalation_threshold": "50",
        "comments-TOTAL_FORMS": "0",
        "comments-INITIAL_FORMS": "0",
        "comments-MIN_NUM_FORMS": "0",
        "comments-MAX_NUM_FORMS": "1000",
        "phases-TOTAL_FORMS": str(len(phases)),
        "phases-INITIAL_FORMS": "0",
        "phases-MIN_NUM_FORMS": "1",
        "phases-MAX_NUM_FORMS": "1000",
        "outcomes-TOTAL_FORMS": "1" if outcome else "0",
        "outcomes-INITIAL_FORMS": "0",
        "outcomes-MIN_NUM_FORMS": "0",
        "outcomes-MAX_NUM_FORMS": "1",
    }
    for i, phase in enumerate(phases):
        kind, start, end, *gap = phase
        data.update(
            {
                f"phases-{i}-kind": kind,
                f"phases-{i}-starts_at": _fmt(start),
                f"phases-{i}-ends_at": _fmt(end),
                f"phases-{i}-description": "",
                f"phases-{i}-ORDER": str(i + 1),
                f"phases-{i}-id": "",
                f"phases-{i}-DELETE": "",
            }
        )
        if gap and gap[0]:
            data[f"phases-{i}-gap_intended"] = "on"
    if outcome:
        data.update(
            {
                "outcomes-0-decision": outcome,
                "outcomes-0-reasons": '{"blocks": [{"key": "a", "type": '
                '"unstyled", "text": "Because", "depth": 0, "inlineStyleRanges": [], "entityRanges": []}], '
                '"entityMap": {}}',
                "outcomes-0-id": "",
                "outcomes-0-ORDER": "1",
                "outcomes-0-DELETE": "",
            }
        )
    for key, value in fields.items():
        if key == "wards":
            data["wards"] = [str(w.pk) for w in value]
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        else:
            data[key] = value
    return data


@pytest.fixture
def panel(db):
    return factories.PanelFactory()


def make_form(data, *, instance=None, parent=None, user=None):
    form_class = ConsultationPage.get_edit_handler().get_form_class()
    instance = instance or ConsultationPage()
    return form_class(data, instance=instance, parent_page=parent, for_user=user)


def _phase_errors(form, index_, field):
    return " ".join(form.formsets["phases"].forms[index_].errors.get(field, []))


def test_a_good_consultation_is_valid(index, panel):
    form = make_form(form_data(panel=str(panel.pk)), parent=index)
    assert form.is_valid(), (form.errors, [f.errors for f in form.formsets["phases"].forms])


def test_overlapping_phases_are_refused_on_the_later_phase(index, panel):
    phases = [(PhaseKind.INFORMATION, T0, T0 + 7 * DAY), (PhaseKind.PROPOSALS, T0 + 5 * DAY, T0 + 14 * DAY)]
    form = make_form(form_data(phases=phases, panel=str(panel.pk)), parent=index)
    assert not form.is_valid()
    assert "overlaps the Information phase" in _phase_errors(form, 1, "starts_at")
    assert "The timeline has problems" in " ".join(form.non_field_errors())


def test_a_phase_that_ends_before_it_starts_is_refused(index, panel):
    phases = [(PhaseKind.INFORMATION, T0 + 7 * DAY, T0)]
    form = make_form(form_data(phases=phases, panel=str(panel.pk)), parent=index)
    assert not form.is_valid()
    assert "ends before it starts" in _phase_errors(form, 0, "ends_at")


def test_a_gap_is_refused_unless_intended(index, panel):
    phases = [(PhaseKind.INFORMATION, T0, T0 + 7 * DAY), (PhaseKind.VOTING, T0 + 10 * DAY, T0 + 14 * DAY)]
    form = make_form(form_data(phases=phases, panel=str(panel.pk)), parent=index)
    assert not form.is_valid()
    assert "There is a gap" in _phase_errors(form, 1, "starts_at")
    assert "gap intended" in _phase_errors(form, 1, "starts_at")
    phases[1] = (*phases[1], True)
    form = make_form(form_data(phases=phases, panel=str(panel.pk)), parent=index)
    assert form.is_valid()


def test_phases_out_of_order_are_refused(index, panel):
    phases = [(PhaseKind.VOTING, T0, T0 + 7 * DAY), (PhaseKind.PROPOSALS, T0 + 7 * DAY, T0 + 14 * DAY)]
    form = make_form(form_data(phases=phases, panel=str(panel.pk)), parent=index)
    assert not form.is_valid()
    assert "cannot come after Voting" in _phase_errors(form, 1, "kind")


def test_a_timeline_needs_at_least_one_phase(index, panel):
    form = make_form(form_data(phases=[], panel=str(panel.pk)), parent=index)
    assert not form.is_valid()


def test_a_panel_track_without_a_panel_is_refused(index):
    form = make_form(form_data(), parent=index)
    assert not form.is_valid()
    assert "Choose the expert panel" in " ".join(form.errors["panel"])


def test_choosing_against_the_triage_aid_needs_a_reason(index, ward):
    # 20,000 people, the whole area, £2m, permanent: the aid recommends wide; the councillor picks panel.
    panel = factories.PanelFactory()
    data = form_data(
        people_affected="20000", budget="2000000", reversibility=Reversibility.PERMANENT, panel=str(panel.pk)
    )
    form = make_form(data, parent=index)
    assert not form.is_valid()
    error = " ".join(form.errors["triage_override_reason"])
    assert "recommends Wide engagement" in error and "you chose Expert panel" in error
    data["triage_override_reason"] = "   "
    assert not make_form(data, parent=index).is_valid()
    data["triage_override_reason"] = "The panel has the engineering expertise; a public meeting follows."
    form = make_form(data, parent=index)
    assert form.is_valid(), form.errors


def test_following_the_triage_aid_needs_no_reason(index, ward):
    data = form_data(
        people_affected="20000", budget="2000000", reversibility=Reversibility.PERMANENT, track=Track.WIDE
    )
    assert make_form(data, parent=index).is_valid()


def test_statutory_duty_makes_the_panel_track_need_a_reason(index, panel, ward):
    data = form_data(statutory_duty=True, panel=str(panel.pk), wards=[ward])
    form = make_form(data, parent=index)
    assert not form.is_valid()
    assert "statutory duty" in " ".join(form.errors["triage_override_reason"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("people_affected", "-5"),
        ("budget", "-1"),
        ("interest_signals", "lots"),
        ("reversibility", "maybe"),
        ("escalation_threshold", "0"),
    ],
)
def test_bad_rubric_values_are_refused(index, panel, field, value):
    form = make_form(form_data(panel=str(panel.pk), **{field: value}), parent=index)
    assert not form.is_valid()
    assert field in form.errors


def test_an_outcome_on_an_open_consultation_is_refused(index, panel):
    now = timezone.now()
    phases = [(PhaseKind.INFORMATION, now - DAY, now + DAY), (PhaseKind.OUTCOME, now + DAY, now + 9 * DAY)]
    form = make_form(form_data(phases=phases, panel=str(panel.pk), outcome="We will build it"), parent=index)
    assert not form.is_valid()
    message = " ".join(form.formsets["outcomes"].forms[0].errors["decision"])
    assert "still open" in message
    assert "still open" in " ".join(form.non_field_errors())


def test_an_outcome_is_accepted_once_participation_has_ended(index, panel):
    now = timezone.now()
    phases = [(PhaseKind.VOTING, now - 9 * DAY, now - DAY), (PhaseKind.OUTCOME, now - DAY, now + 9 * DAY)]
    form = make_form(form_data(phases=phases, panel=str(panel.pk), outcome="We will build it"), parent=index)
    assert form.is_valid(), form.errors


def test_moving_a_published_consultation_to_another_track_needs_a_reason(index, ward):
    panel = factories.PanelFactory()
    page = make_consultation(index, track=Track.PANEL, panel=panel, wards=[ward])
    assert list(TrackChange.objects.filter(consultation=page).values_list("from_track", "to_track")) == [
        ("", Track.PANEL)
    ]
    data = form_data(
        track=Track.WIDE,
        panel=str(panel.pk),
        wards=[ward],
        slug=page.slug,
        people_affected="20000",
        budget="2000000",
    )
    form = make_form(data, instance=page, parent=index)
    assert not form.is_valid()
    assert "Say why you are moving it" in " ".join(form.errors["track_change_reason"])
    data["track_change_reason"] = "312 residents asked for a say."
    form = make_form(data, instance=page, parent=index)
    assert form.is_valid(), form.errors
