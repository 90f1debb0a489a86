"""Voxel-AI's declarations: every rule names the field and what is allowed."""

from __future__ import annotations

import pytest

from conjure.providers import errors, registry
from conjure.providers.voxelai.operations import OPERATIONS, UNSUPPORTED


@pytest.mark.parametrize(("operation", "values", "field", "words"), [
    ("candidates", {}, "prompt", "is required"),
    ("candidates", {"prompt": ""}, "prompt", "must not be empty"),
    ("candidates", {"prompt": "   "}, "prompt", "only spaces"),
    ("candidates", {"prompt": "x" * 501}, "prompt", "at most 500 characters"),
    ("candidates", {"prompt": "x", "seed": 1.5}, "seed", "a whole number"),
    ("voxelize", {}, "image", "is required"),
    ("voxelize", {"image": "https://example.com/a.png"}, "image", "not a link"),
    ("voxelize", {"image": "/no/such/file.png"}, "image", "cannot read"),
    ("voxelize", {"image": "data:image/png;base64,@@@"}, "image", "damaged"),
    ("voxelize", {"image": "x", "voxel_size": 7}, "voxel_size", "from 8 to 128"),
    ("voxelize", {"image": "x", "voxel_size": 129}, "voxel_size", "from 8 to 128"),
    ("voxelize", {"image": "x", "texturing": "pbr"}, "texturing", "'textured', 'gray'"),
    ("voxelize", {"image": "x", "fill": 1}, "fill", "true or false"),
    ("voxelize", {"image": "x", "color": "face"}, "color", "'surface', 'vertex'"),
    ("voxelize", {"image": "x", "palette_size": 1}, "palette_size", "from 2 to 256"),
    ("voxelize", {"image": "x", "palette_size": 257}, "palette_size", "from 2 to 256"),
])
def test_validation_names_the_field_and_what_is_allowed(operation, values, field, words):
    with pytest.raises(errors.InvalidRequestError) as caught:
        registry.operation("voxelai", operation).validate(values)
    assert caught.value.field == field, caught.value
    assert words in str(caught.value)


def test_declarations():
    assert [(o.name, o.mode, o.paid) for o in OPERATIONS] == [
        ("candidates", "text", False), ("voxelize", "image", True)]
    assert UNSUPPORTED == {}
