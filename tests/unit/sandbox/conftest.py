"""One fast sandbox per test module; each module adds its own keys to it."""

from __future__ import annotations

import pytest

from sandbox import start_sandbox


@pytest.fixture(scope="module")
def sb():
    with start_sandbox(speed="fast") as sandbox:
        yield sandbox
