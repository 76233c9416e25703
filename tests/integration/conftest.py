# pytest configuration of the integration tests: see sandtrace_fixtures.py for the helpers.
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sandtrace_fixtures as st  # noqa: E402


def pytest_configure(config):
    assert st.SANDTRACE.exists(), (
        f"{st.SANDTRACE} is missing: build sandtrace (and its stages) and set SANDTRACE_BIN")


@pytest.fixture
def marker():
    """A unique argument to tag the processes of one test; whatever still carries it at the end
    is killed (the test itself asserts that nothing does when that matters)."""
    m = st.new_marker()
    yield m
    st.kill_marked(m)
