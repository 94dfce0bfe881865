import pytest

from tests.consultations.factories import make_index


@pytest.fixture
def index(home_page):
    return make_index(home_page)
