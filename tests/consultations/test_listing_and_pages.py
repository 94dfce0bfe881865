"""The consultations list (filters, search, pagination, query counts), a consultation's page, home."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consultations.models import ConsultationPage, Outcome, Track, TrackChange
from tests import factories
from tests.consultations.factories import TopicFactory, make_consultation


def _titles(response) -> list[str]:
    return [p.title for p in response.context["consultations"]]


@pytest.fixture
def mix(index, ward):
    other = factories.WardFactory()
    parks, roads = TopicFactory(slug="parks", name="Parks"), TopicFactory(slug="roads", name="Roads")
    now = timezone.now()
    pages = {
        "open_parks": make_consultation(
            index, title="Riverside park", wards=[ward], topics=[parks], start=now - timedelta(days=8)
        ),
        "upcoming_roads": make_consultation(
            index, title="Bus lane hours", wards=[other], topics=[roads], start=now + timedelta(days=3)
        ),
        "closed_everywhere": make_consultation(index, title="Library hours", start=now - timedelta(days=60)),
        "decided": make_consultation(
            index,
            title="Market square",
            wards=[other],
            topics=[parks],
            start=now - timedelta(days=90),
            outcome="We will pedestrianise it",
        ),
        "draft": make_consultation(index, title="Secret draft", publish=False),
    }
    return pages, ward, other


def test_lists_live_consultations_open_first(client, index, mix):
    response = client.get(index.url)
    assert response.status_code == 200
    assert _titles(response) == ["Riverside park", "Bus lane hours", "Library hours", "Market square"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "open"}, ["Riverside park"]),
        ({"status": "upcoming"}, ["Bus lane hours"]),
        ({"status": "closed"}, ["Library hours"]),
        ({"status": "decided"}, ["Market square"]),
        ({"topic": "parks"}, ["Riverside park", "Market square"]),
        ({"topic": "roads"}, ["Bus lane hours"]),
        ({"topic": "parks", "status": "decided"}, ["Market square"]),
    ],
)
def test_filters(client, index, mix, params, expected):
    assert _titles(client.get(index.url, params)) == expected


def test_ward_filter_includes_whole_area_consultations(client, index, mix):
    _pages, ward, other = mix
    assert _titles(client.get(index.url, {"ward": ward.pk})) == ["Riverside park", "Library hours"]
    assert _titles(client.get(index.url, {"ward": other.pk})) == [
        "Bus lane hours",
        "Library hours",
        "Market square",
    ]


def test_search_through_wagtail_search(client, index, mix):
    assert _titles(client.get(index.url, {"q": "riverside"})) == ["Riverside park"]
    assert _titles(client.get(index.url, {"q": "draft"})) == []
    assert _titles(client.get(index.url, {"q": "park", "status": "closed"})) == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"topic": "<script>"},
        {"ward": "999999"},
        {"ward": "abc"},
        {"page": "-3"},
        {"page": "zzz"},
        {"q": "x" * 5000},
        {"q": "'; DROP TABLE x; --"},
    ],
)
def test_bad_filter_values_never_error(client, index, mix, params):
    response = client.get(index.url, params)
    assert response.status_code == 200
    if set(params) & {"status", "topic", "ward"}:
        assert "There is a problem" in response.content.decode()


def test_filter_form_works_without_javascript_and_escapes_input(client, index, mix):
    html = client.get(index.url, {"q": '"><script>alert(1)</script>'}).content.decode()
    assert '<form method="get"' in html
    assert "<script>alert(1)</script>" not in html


def test_pagination_keeps_filters(client, index, ward):
    for i in range(23):
        make_consultation(index, title=f"Consultation {i:02d}", wards=[ward])
    first = client.get(index.url, {"ward": ward.pk})
    assert len(first.context["consultations"]) == 20
    assert f"ward={ward.pk}&amp;page=2" in first.content.decode()
    second = client.get(index.url, {"ward": ward.pk, "page": 2})
    assert len(second.context["consultations"]) == 3


def test_long_lists_show_the_pages_around_this_one_not_every_page(client, index, monkeypatch):
    from consultations import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 1)
    for i in range(12):
        make_consultation(index, title=f"Consultation {i:02d}")
    html = client.get(index.url, {"page": 6}).content.decode()
    shown = [n for n in range(1, 13) if f'aria-label="Page {n}"' in html]
    assert shown == [1, 5, 6, 7, 12]
    assert html.count("govuk-pagination__item--ellipses") == 2
    assert 'aria-label="Page 6" aria-current="page"' in html
    first = client.get(index.url).content.decode()
    assert [n for n in range(1, 13) if f'aria-label="Page {n}"' in first] == [1, 2, 12]


def _fill(index, start, count, wards, topics):
    now = timezone.now()
    for i in range(start, start + count):
        make_consultation(
            index,
            title=f"Bulk {i}",
            wards=wards[: 1 + i % 3],
            topics=topics[: 1 + i % 2],
            start=now + timedelta(days=(i % 9) - 20),
        )


#: Queries to render the list, whatever the number of consultations (measured: 18; 20 with a search).
QUERY_BUDGET = 20


def test_index_query_count_is_the_same_at_5_and_200_consultations(
    client, index, django_assert_max_num_queries
):
    """Unfiltered, filtered by status, and filtered by ward, topic and search; the 200 consultations are
    built once for all three (each Wagtail page takes a while to create)."""
    wards = [factories.WardFactory() for _ in range(3)]
    topics = [TopicFactory(), TopicFactory()]
    variants = {
        "all": {},
        "open": {"status": "open"},
        "ward, topic and search": {"ward": wards[0].pk, "topic": topics[0].slug, "q": "bulk"},
    }
    measured: dict[str, dict[int, int]] = {name: {} for name in variants}
    built = 0
    for size in (5, 200):
        _fill(index, built, size - built, wards, topics)
        built = size
        first = ConsultationPage.objects.order_by("pk").first()
        Outcome.objects.get_or_create(
            consultation=first,
            defaults={"decision": "Done", "reasons": "<p>x</p>", "published_at": timezone.now()},
        )
        for name, params in variants.items():
            client.get(index.url, params)  # warm per-process caches (site root, settings)
            with django_assert_max_num_queries(QUERY_BUDGET) as captured:
                response = client.get(index.url, params)
            assert response.status_code == 200, name
            assert response.context["paginator"].count > 0, name
            measured[name][size] = len(captured)
    for name, counts in measured.items():
        assert counts[5] == counts[200], (name, counts)


# --- a consultation's page ---


def test_page_shows_timeline_where_we_are_and_what_you_can_do(client, index, ward):
    resident = factories.ResidentFactory(ward=ward)
    page = make_consultation(index, wards=[ward], start=timezone.now() - timedelta(days=8))  # proposals
    client.force_login(resident)
    html = client.get(page.url).content.decode()
    assert "Now: <strong>Proposals</strong>" in html
    assert "Next: <strong>Deliberation</strong>" in html
    assert 'aria-current="step"' in html
    assert (
        "Submit a proposal" in html and "Vote" not in html.split("What you can do now")[1].split("</ul>")[0]
    )
    assert "<script>alert" not in html


def test_page_tells_people_outside_the_wards_why_they_cannot_take_part(client, index, ward):
    page = make_consultation(index, wards=[ward], start=timezone.now() - timedelta(days=8))
    client.force_login(factories.ResidentFactory())
    html = client.get(page.url).content.decode()
    assert "Your ward is not affected" in html
    client.logout()
    assert "Sign in to take part" in client.get(page.url).content.decode()


def test_panel_page_says_who_takes_part_and_shows_the_override_reason(client, index, ward):
    panel = factories.PanelFactory(name="Transport experts")
    page = make_consultation(
        index,
        track=Track.PANEL,
        panel=panel,
        wards=[ward],
        people_affected=50_000,
        budget=5_000_000,
        triage_override_reason="Highly technical <b>signal</b> timings.",
    )
    html = client.get(page.url).content.decode()
    assert "Members of the Transport experts panel deliberate and vote" in html
    assert "chose a different track" in html
    assert "Highly technical &lt;b&gt;signal&lt;/b&gt; timings." in html
    assert "Wide engagement: scores" in html  # the recommendation, in plain words


def test_decided_page_shows_the_outcome(client, index):
    page = make_consultation(
        index, start=timezone.now() - timedelta(days=60), outcome="We will plant 300 trees"
    )
    html = client.get(page.url).content.decode()
    assert "You said, we did" in html and "We will plant 300 trees" in html
    assert "The decision" in html


def test_page_query_count_does_not_grow_with_track_history(
    client, index, ward, django_assert_max_num_queries
):
    page = make_consultation(index, wards=[ward])
    client.get(page.url)
    with django_assert_max_num_queries(40) as few:
        client.get(page.url)
    for i in range(30):
        TrackChange.objects.create(
            consultation=page, from_track=Track.PANEL, to_track=Track.WIDE, reason=str(i)
        )
    with django_assert_max_num_queries(len(few)):
        client.get(page.url)


def test_home_page_shows_recent_outcomes(client, home_page, index):
    make_consultation(
        index,
        title="Market square",
        start=timezone.now() - timedelta(days=60),
        outcome="We will pedestrianise it",
    )
    html = client.get(home_page.url).content.decode()
    assert "We will pedestrianise it" in html


def test_panel_report_is_published_with_the_outcome(client, index):
    panel = factories.PanelFactory()
    page = make_consultation(index, track=Track.PANEL, panel=panel, start=timezone.now() - timedelta(days=60))
    Outcome.objects.create(
        consultation=page,
        decision="Licences tightened",
        reasons="<p>Why</p>",
        panel_report="<p>The panel met four times and heard from tenants.</p>",
        published_at=timezone.now(),
    )
    html = client.get(page.url).content.decode()
    assert "The expert panel&#x27;s report" in html or "The expert panel's report" in html
    assert "The panel met four times and heard from tenants." in html
