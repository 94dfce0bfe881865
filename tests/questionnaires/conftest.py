import pytest

from questionnaires.models import Respondents
from tests.consultations.factories import make_consultation, make_index
from tests.questionnaires.factories import make_questionnaire


@pytest.fixture
def index(home_page):
    return make_index(home_page)


@pytest.fixture
def consultation(index, ward):
    return make_consultation(index, wards=[ward])


@pytest.fixture
def questionnaire(consultation):
    return make_questionnaire(consultation, respondents=Respondents.EMAIL)
