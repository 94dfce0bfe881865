from tests.live.conftest import live_db, sockets  # noqa: F401 - shared fixtures
from tests.proposals.conftest import consultation, index, make_in_phase  # noqa: F401 - shared fixtures


def pytest_terminal_summary(terminalreporter):
    """Print the route matrix's size (routes x states x roles) when its tests ran."""
    from tests.security.test_route_matrix import MATRIX

    if MATRIX:
        size = MATRIX["routes"] * MATRIX["states"] * MATRIX["roles"]
        requests = MATRIX["variants"] * MATRIX["states"] * MATRIX["roles"]
        terminalreporter.write_line(
            f"Route matrix: {MATRIX['routes']} routes x {MATRIX['states']} states x {MATRIX['roles']} roles"
            f" = {size} cells ({MATRIX['variants']} URLs with the routes' variants: {requests} cells)"
        )
