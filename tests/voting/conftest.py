from __future__ import annotations

import pytest

from tests import factories as base
from tests.voting.factories import make_consultation


@pytest.fixture
def voting_consultation(home_page, ward):
    """A wide-track consultation for ``ward``, in its voting phase now."""
    return make_consultation(home_page, wards=[ward])


@pytest.fixture
def other_ward_resident(db):
    return base.ResidentFactory(ward=base.WardFactory())
