"""Redis unreachable (restarting, or gone): the site keeps serving, residents keep voting.

The cache is only a cache: pages, sign-in and votes by form must work without it, and the live
layer reads tallies from the database. This is the production configuration
(``config/settings/base.py`` with ``REDIS_URL``) pointed at a port where nothing listens.
"""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings
from django.urls import reverse

from config.settings.base import redis_caches
from tests.voting.factories import FACTORIES
from tests.voting.test_views import post_for
from voting import broadcast
from voting.models import Ballot, ResultsVisibility

pytestmark = pytest.mark.django_db


def _nothing_listening() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def redis_gone():
    url = _nothing_listening()
    with override_settings(CACHES=redis_caches(url)):
        yield


def test_pages_sign_in_and_a_vote_by_form_work_while_redis_is_down(
    redis_gone, client, voting_consultation, resident
):
    question = FACTORIES["yes_no"](
        consultation=voting_consultation, results_visibility=ResultsVisibility.LIVE
    )
    assert client.get("/").status_code == 200
    assert client.get(voting_consultation.url).status_code == 200
    signed_in = client.post(
        reverse("accounts:login"), {"username": resident.email, "password": "correct horse battery staple"}
    )
    assert signed_in.status_code == 302
    assert client.get(question.get_absolute_url()).status_code == 200
    voted = client.post(question.get_absolute_url(), post_for(question))
    assert voted.status_code == 302
    assert Ballot.objects.get(question=question).voter == resident
    results = client.get(question.get_results_url())
    assert results.status_code == 200 and b"th-chart__bar" in results.content


def test_the_live_layer_reads_the_database_while_redis_is_down(redis_gone, voting_consultation, resident):
    from voting.services import ballot_cast

    question = FACTORIES["yes_no"](
        consultation=voting_consultation, results_visibility=ResultsVisibility.LIVE
    )
    ballot_cast(question=question, voter=resident, data={"choice": "yes"})
    payload, changed, busy, again = broadcast.refresh(question.pk)
    assert payload["epoch"] == "direct" and not changed and not busy and not again
    rows = {row["key"]: row["count"] for row in payload["tally"]["result"]["rows"]}
    assert rows["yes"] == 1
