"""Provider tests against the sandbox: one sandbox at fast speed per test module."""

import pytest

from sandbox import start_sandbox


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(speed="fast") as running:
        yield running
