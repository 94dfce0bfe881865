from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.voting.factories import FACTORIES, valid_data
from voting.models import TallyCount
from voting.services import ballot_cast

pytestmark = pytest.mark.django_db


def test_recount_passes_when_counts_match(voting_consultation, resident):
    for factory in FACTORIES.values():
        q = factory(consultation=voting_consultation)
        ballot_cast(question=q, voter=resident, data=valid_data(q))
    out = StringIO()
    call_command("recount", stdout=out)
    assert "6 question(s) recounted: every count matches" in out.getvalue()


def test_recount_reports_a_mismatch_loudly_and_repairs_it(voting_consultation, resident):
    q = FACTORIES["approval"](consultation=voting_consultation)
    ballot_cast(question=q, voter=resident, data=valid_data(q))
    key = q.option_list[0].key
    TallyCount.objects.filter(question=q, key=key).update(count=40)
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("recount", str(q.pk), stderr=err)
    assert caught.value.returncode == 1
    assert f"{key}: running count 40, recount 1" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("recount", "--repair", stderr=StringIO())
    assert TallyCount.objects.get(question=q, key=key).count == 1
    call_command("recount", stdout=StringIO())  # clean now: no error


def test_recount_of_an_unknown_question_is_an_error(db):
    with pytest.raises(CommandError, match="No question with id 424242"):
        call_command("recount", "424242")


def test_recount_counts_sealed_secret_ballots_as_cast_and_reports_one_gone_missing(
    voting_consultation, resident, ward
):
    from tests import factories as base
    from voting.models import SealedBallot

    q = FACTORIES["yes_no"](consultation=voting_consultation, secret=True, final_once_cast=True)
    ballot_cast(question=q, voter=resident, data={"choice": "yes"})
    ballot_cast(question=q, voter=base.ResidentFactory(ward=ward), data={"choice": "no"})
    call_command("recount", str(q.pk), stdout=StringIO())  # two people, two sealed ballots: fine
    SealedBallot.objects.filter(pk=SealedBallot.objects.filter(question=q).first().pk).delete()
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("recount", str(q.pk), stderr=err)
    assert "2 people recorded as voting but 0 ballots and 1 sealed secret ballots" in err.getvalue()
