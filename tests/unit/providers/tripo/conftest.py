"""Fixtures of the Tripo3D client tests."""

import pytest

from support.pictures import png


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "cat.png"
    path.write_bytes(png(64, 48))
    return str(path)
