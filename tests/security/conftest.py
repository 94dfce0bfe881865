from tests.proposals.conftest import consultation, index, make_in_phase  # noqa: F401 - shared fixtures
