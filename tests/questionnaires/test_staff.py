"""Staff read, search, redact and download responses; access by rule, every download logged."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from questionnaires.models import ExportLog, Redaction, Response, Status
from questionnaires.services import version_current
from tests import factories

pytestmark = pytest.mark.django_db


def url(name: str, questionnaire, **kwargs) -> str:
    return reverse(f"questionnaires:{name}", kwargs={"pk": questionnaire.pk, **kwargs})


def add_submitted(questionnaire, n: int, *, start: int = 0) -> list[Response]:
    version = version_current(questionnaire=questionnaire)
    now = timezone.now()
    return Response.objects.bulk_create(
        Response(
            questionnaire=questionnaire,
            version=version,
            status=Status.SUBMITTED,
            reference=f"TH-T{i:07d}",
            submitted_at=now,
            respondent_type="organisation" if i % 3 == 0 else "individual",
            organisation_name=f"Org {i}" if i % 3 == 0 else "",
            connection=["live", "work"],
            publication_consent="named",
            answers={
                "travel": {"selected": ["Bus"] if i % 2 else ["__other__"], "other": "" if i % 2 else "Tram"},
                "bus-station": "Agree",
                "bus-why": f"Answer {i}: call me on 07700 900{i:03d}",
            }
            if i % 2
            else {"travel": {"selected": ["__other__"], "other": "Tram"}, "comments": f"Comment {i}"},
        )
        for i in range(start, start + n)
    )


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_an_officer_lists_searches_and_pages_through_responses(client, questionnaire, officer):
    add_submitted(questionnaire, 60)
    client.force_login(officer)
    first = client.get(url("responses", questionnaire)).content.decode()
    assert "60 responses sent" in first and "TH-T0000000" in first and "TH-T0000050" not in first
    second = client.get(url("responses", questionnaire) + "?page=2").content.decode()
    assert "TH-T0000050" in second
    found = client.get(url("responses", questionnaire), {"q": "07700 900011"}).content.decode()
    assert "1 response sent matching your search" in found and "TH-T0000011" in found
    assert "Org 3" in client.get(url("responses", questionnaire), {"q": "org 3"}).content.decode()


def test_an_officer_redacts_an_answer_the_original_is_kept_and_the_redaction_recorded(
    client, questionnaire, officer
):
    (response,) = add_submitted(questionnaire, 1, start=1)
    client.force_login(officer)
    detail = url("response", questionnaire, reference=response.reference)
    page = client.get(detail).content.decode()
    assert "Answer 1: call me on 07700 900001" in page
    bad = client.post(detail, {"code": "bus-why", "text": "Answer 1: call me on [redacted]", "reason": ""})
    assert bad.status_code == 400 and "Say why you are redacting this answer" in bad.content.decode()
    unknown = client.post(detail, {"code": "comments", "text": "x", "reason": "Phone number"})
    assert unknown.status_code == 400
    done = client.post(
        detail, {"code": "bus-why", "text": "Answer 1: call me on [redacted]", "reason": "Phone number"}
    )
    assert done.status_code == 302
    redaction = Redaction.objects.get()
    assert (redaction.redacted_by, redaction.reason) == (officer, "Phone number")
    response.refresh_from_db()
    assert response.answers["bus-why"] == "Answer 1: call me on 07700 900001"  # the original is kept
    page = client.get(detail).content.decode()
    assert "Answer 1: call me on [redacted]" in page and "Original (not published)" in page
    assert "Redaction history" in page and "Reason: Phone number" in page
    rows = read_csv(client.get(url("export_csv", questionnaire)))
    assert rows[1][rows[0].index("bus-why")] == "Answer 1: call me on [redacted]"


def test_the_csv_export_has_every_response_a_codebook_and_is_logged(client, questionnaire, officer):
    add_submitted(questionnaire, 7)
    client.force_login(officer)
    download = client.get(url("export_csv", questionnaire))
    assert download.streaming and download["Content-Type"].startswith("text/csv")
    rows = read_csv(download)
    header = rows[0]
    assert header[:3] == ["reference", "version", "channel"]
    assert header[11:] == [
        "travel",
        "bus-station",
        "bus-why",
        "improve",
        "priorities",
        "visits",
        "last-visit",
        "postcode",
        "comments",
    ]
    assert len(rows) == 8
    first_even = rows[1]
    assert (
        first_even[header.index("travel")] == "Other: Tram" and first_even[header.index("bus-station")] == ""
    )
    assert rows[2][header.index("bus-station")] == "Agree"
    (log,) = ExportLog.objects.all()
    assert (log.user, log.format, log.questionnaire) == (officer, "csv", questionnaire)
    codebook = read_csv(client.get(url("codebook_csv", questionnaire)))
    assert codebook[0][:3] == ["version", "question_id", "page"]
    bus = next(row for row in codebook if row[1] == "bus-station")
    assert bus[3] == "agreement" and bus[7] == "travel is Bus" and "Strongly agree" in bus[6]


@pytest.mark.parametrize("who", ["resident", "other_councillor", "visitor"])
def test_responses_are_refused_to_anyone_but_officers_and_the_consultations_councillor(
    client, questionnaire, ward, who
):
    add_submitted(questionnaire, 2)
    if who == "resident":
        client.force_login(factories.ResidentFactory(ward=ward))
    elif who == "other_councillor":
        client.force_login(factories.CouncillorFactory())
    for name, kwargs in [("responses", {}), ("export_csv", {}), ("response", {"reference": "TH-T0000000"})]:
        got = client.get(url(name, questionnaire, **kwargs))
        assert got.status_code == (302 if who == "visitor" else 403), name
    assert not ExportLog.objects.exists()


def test_the_consultations_own_councillor_reads_and_exports(client, questionnaire, councillor):
    questionnaire.consultation.councillor = councillor
    questionnaire.consultation.save()
    add_submitted(questionnaire, 2)
    client.force_login(councillor)
    assert client.get(url("responses", questionnaire)).status_code == 200
    assert len(read_csv(client.get(url("export_csv", questionnaire)))) == 3
    assert ExportLog.objects.get().user == councillor


@pytest.mark.parametrize("sizes", [(10, 300)])
def test_staff_pages_do_not_grow_with_the_responses(client, questionnaire, officer, sizes):
    client.force_login(officer)
    counts = []
    for n in sizes:
        Response.objects.all().delete()
        made = add_submitted(questionnaire, n)
        pages = [url("responses", questionnaire), url("response", questionnaire, reference=made[1].reference)]
        for path in pages:
            client.get(path)
        measured = []
        for path in pages:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(path).status_code == 200
            measured.append(len(captured))
        counts.append(measured)
    assert counts[0] == counts[1], counts
    # Staff pages carry Wagtail's user bar, whose permission checks cost a few queries of their own.
    assert max(counts[1]) <= 20, counts


def test_results_summarise_each_question_with_a_table_and_bars(client, questionnaire, officer):
    add_submitted(questionnaire, 10)
    client.force_login(officer)
    page = client.get(url("results", questionnaire)).content.decode()
    assert "Version 1: 10 responses" in page
    # 5 of 10 chose Bus, 5 chose Other; the bus station question was answered by the 5 bus users.
    assert '<th scope="row" class="govuk-table__header">Bus</th>' in page
    assert "50.0%" in page and 'width="50.0"' in page
    assert "5 people answered." in page


def test_results_query_count_does_not_grow(client, questionnaire, officer):
    client.force_login(officer)
    counts = []
    for n in (10, 400):
        Response.objects.all().delete()
        add_submitted(questionnaire, n)
        client.get(url("results", questionnaire))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("results", questionnaire)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1] and counts[1] <= 20, counts
