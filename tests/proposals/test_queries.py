"""Query counts do not grow with the data: 10 vs 1,000 proposals, 10 vs 500 comments."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cms.sanitiser import sanitise_html
from proposals.models import Comment, IdeaProposal, Stance
from tests import factories
from tests.factories import HOSTILE

#: The target for every proposals page, for visitors and signed-in residents alike (the session and the
#: user are included; Wagtail's user bar, with its permission queries, is shown to staff only). One of
#: them reads the consultation's view restrictions for the visibility gate (``cms.visibility``).
MAX_QUERIES = 16


def add_proposals(consultation, n, author):
    from django.contrib.contenttypes.models import ContentType

    ctype = ContentType.objects.get_for_model(IdeaProposal)
    # Multi-table inheritance cannot be bulk-created on every backend; save in a loop (only in set-up).
    for i in range(n):
        IdeaProposal.objects.create(
            consultation=consultation,
            author=author,
            title=f"P{i} {HOSTILE[:20]}",
            summary=HOSTILE,
            body=sanitise_html(HOSTILE),
            support_count=i % 17,
            comment_count=i % 5,
            for_count=i % 3,
            against_count=i % 4,
            polymorphic_ctype=ctype,
            status="published",
        )


def add_comments(proposal, n, authors):
    """``n`` comments: a third top-level, the rest replies up to the depth limit, some quoting."""
    stances = [Stance.FOR, Stance.AGAINST, Stance.QUESTION, Stance.NEUTRAL]
    made: list[Comment] = []
    level: list[Comment] = []
    while len(made) < n:
        parents = level or [None]
        level = []
        for i in range(min(n - len(made), max(1, n // 3))):
            parent = parents[i % len(parents)]
            if parent is not None and parent.depth >= 3:
                parent = None
            level.append(
                Comment(
                    proposal=proposal,
                    author=authors[i % len(authors)],
                    body=sanitise_html(f"{i} {HOSTILE}"),
                    stance=stances[i % 4],
                    parent=parent,
                    depth=parent.depth + 1 if parent else 0,
                    quoted=made[-1] if made and i % 7 == 0 else None,
                )
            )
        Comment.objects.bulk_create(level)
        made.extend(level)
    return made


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize("signed_in", [False, True])
def test_proposal_list_queries_do_not_grow(
    client, consultation, resident, signed_in, django_assert_max_num_queries
):
    if signed_in:
        client.force_login(resident)
    author = factories.ResidentFactory()
    add_proposals(consultation, 10, author)
    url = f"/proposals/{consultation.pk}/"
    client.get(url)  # warm content-type and template caches
    small = count(client, url)
    add_proposals(consultation, 990, author)
    large = count(client, url)
    assert small == large
    assert large <= MAX_QUERIES
    for sort in ("newest", "discussed", "contested"):
        with django_assert_max_num_queries(MAX_QUERIES):
            client.get(url, {"sort": sort, "kind": "idea", "page": 3})


@pytest.mark.parametrize("signed_in", [False, True])
def test_proposal_page_with_whole_thread_queries_do_not_grow(
    client, proposal, resident, signed_in, django_assert_max_num_queries
):
    if signed_in:
        client.force_login(resident)
    authors = [factories.ResidentFactory(ward=resident.ward) for _ in range(5)]
    add_comments(proposal, 10, authors)
    url = f"/proposals/p/{proposal.pk}/"
    client.get(url)
    small = count(client, url)
    Comment.objects.filter(proposal=proposal).delete()
    add_comments(proposal, 500, authors)
    large = count(client, url)
    assert small == large <= MAX_QUERIES
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url)
    assert response.content.decode().count('class="th-comment ') == 500
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(url, {"view": "sides"})


def test_consultation_sections_query_count_is_constant(client, consultation, resident, councillor):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from consultations.models import ConsultationPage
    from proposals import services

    def render():
        request = RequestFactory().get("/")
        request.user = type(resident).objects.get(pk=resident.pk)
        page = ConsultationPage.objects.get(pk=consultation.pk)
        with CaptureQueriesContext(connection) as ctx:
            render_to_string(
                "proposals/includes/consultation_section.html", {"page": page, "request": request}
            )
            render_to_string("proposals/includes/outcome_section.html", {"page": page, "request": request})
        return len(ctx)

    author = factories.ResidentFactory()
    add_proposals(consultation, 3, author)
    small = render()
    add_proposals(consultation, 60, author)
    for p in IdeaProposal.objects.all()[:30]:
        services.proposal_change_status(proposal=p, by=councillor, to_status="accepted", reason="Yes")
    assert render() == small
