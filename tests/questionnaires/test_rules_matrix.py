"""Who may respond, when: who-may-respond settings x people x moments of the consultation's timeline."""

from __future__ import annotations

import pytest
import time_machine

from consultations.models import Track
from consultations.phases import PhaseKind
from questionnaires.models import Questionnaire, Respondents
from questionnaires.rules import respond_refusal
from tests.consultations.factories import make_consultation
from tests.consultations.test_rules_matrix import MOMENTS, PERSONS, T0, _user
from tests.consultations.test_rules_matrix import world as world
from tests.questionnaires.factories import make_questionnaire

OPEN_MOMENTS = {PhaseKind.INFORMATION, PhaseKind.PROPOSALS, PhaseKind.DELIBERATION, PhaseKind.VOTING}
ANYONE = set(PERSONS) - {"suspended_resident", "panel_member_suspended"}
WHO = {
    Respondents.EMAIL: ANYONE,
    Respondents.ANONYMOUS: ANYONE,
    Respondents.RESIDENTS: {"resident_in_ward"},
    Respondents.PANEL: {"panel_member"},
}


@pytest.fixture
def questionnaires(world, index, ward):
    """One consultation per setting, on the timeline of the consultations' own matrix; the panel
    setting on a panel-track consultation."""
    people, pages = world
    made = {}
    for respondents in Respondents.values:
        panel = pages[Track.PANEL].panel if respondents == Respondents.PANEL else None
        track = Track.PANEL if panel else Track.WIDE
        page = make_consultation(index, start=T0, track=track, panel=panel, wards=[ward])
        made[respondents] = make_questionnaire(page, respondents=respondents)
    return people, made


@pytest.mark.django_db
@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("respondents", Respondents.values)
def test_matrix(questionnaires, respondents, moment):
    people, made = questionnaires
    with time_machine.travel(MOMENTS[moment], tick=False):
        questionnaire = Questionnaire.objects.select_related("consultation").get(pk=made[respondents].pk)
        allowed = set()
        for person in PERSONS:
            user = _user(people, person)
            may = user.has_perm("questionnaires.respond", questionnaire)
            assert may == (respond_refusal(user, questionnaire) is None)
            if may:
                allowed.add(person)
    assert allowed == (WHO[respondents] if moment in OPEN_MOMENTS else set())


@pytest.mark.django_db
@pytest.mark.parametrize("person", PERSONS)
def test_building_and_keying_in_are_for_council_staff_only(questionnaires, person):
    people, made = questionnaires
    user = _user(people, person)
    expected = person in ("councillor", "officer")
    assert user.has_perm("questionnaires.change_questionnaire") == expected
    assert user.has_perm("questionnaires.enter_response", made[Respondents.EMAIL]) == expected
