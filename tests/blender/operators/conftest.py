import pytest


@pytest.fixture(autouse=True)
def _quick(quick_polling):
    yield
