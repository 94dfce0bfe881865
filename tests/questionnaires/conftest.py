import pytest
from django.test import Client, TestCase

from questionnaires.models import Respondents
from tests.consultations.factories import make_consultation, make_index
from tests.questionnaires.factories import make_questionnaire


@pytest.fixture
def index(home_page):
    return make_index(home_page)


@pytest.fixture
def consultation(index, ward):
    return make_consultation(index, wards=[ward], days=3)


@pytest.fixture
def questionnaire(consultation):
    return make_questionnaire(consultation, respondents=Respondents.EMAIL)


class CommitClient(Client):
    """A test client whose requests run their on-commit callbacks (the emails) as a real commit would."""

    def request(self, **request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture
def client():
    return CommitClient()
