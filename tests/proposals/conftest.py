"""Fixtures for proposals: consultations in each phase, proposals, eligible and ineligible people."""

from __future__ import annotations

import pytest

from consultations.phases import PhaseKind
from tests import factories
from tests.consultations.factories import make_consultation, make_index
from tests.proposals.factories import CommentFactory, IdeaProposalFactory


@pytest.fixture
def index(home_page):
    return make_index(home_page)


@pytest.fixture
def make_in_phase(index, ward):
    """A consultation on the wide track for ``ward``, whose current phase is ``kind``."""

    def make(kind: str = PhaseKind.PROPOSALS, **kwargs):
        kwargs.setdefault("wards", [ward])
        return make_consultation(index, kinds=(kind, PhaseKind.OUTCOME), **kwargs)

    return make


@pytest.fixture
def consultation(make_in_phase):
    return make_in_phase(PhaseKind.PROPOSALS)


@pytest.fixture
def proposal(consultation):
    return IdeaProposalFactory(consultation=consultation)


@pytest.fixture
def other_resident(ward):
    return factories.ResidentFactory(ward=ward)


@pytest.fixture
def comment(proposal):
    return CommentFactory(proposal=proposal)


@pytest.fixture
def house_rules(home_page):
    from cms.models import StandardPage

    page = StandardPage(title="House rules", slug="house-rules", summary="Rules")
    home_page.add_child(instance=page)
    page.save_revision().publish()
    return page
