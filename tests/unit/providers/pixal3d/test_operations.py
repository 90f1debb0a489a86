"""Pixal3D's declaration: every documented parameter with its default, and every rule."""

import pytest
from unit.providers.pixal3d.mocks import DOG, OP, SEED_EXAMPLE

from conjure.providers import errors


def test_every_documented_parameter_is_declared_with_its_default_and_enum():
    declared = {p.name: p for p in OP.params}
    table = set(SEED_EXAMPLE) | {"seed", "tex_slat_guidance_rescale"}
    assert table | {"send_local_image"} == set(declared)
    for name, value in SEED_EXAMPLE.items():
        if name != "image_url":
            assert declared[name].default == value, name
    assert declared["resolution"].choices == (1024, 1536)
    assert declared["texture_size"].choices == (1024, 2048, 4096)
    assert declared["seed"].default is None and declared["tex_slat_guidance_rescale"].default \
        is None
    assert declared["image_url"].required


@pytest.mark.parametrize(("values", "field", "words"), [
    ({}, "image_url", "image_url is required"),
    ({"image_url": "http://example.com/dog.png"}, "image_url", "public https:// URL"),
    ({"image_url": "https://localhost/dog.png"}, "image_url", "cannot reach"),
    ({"image_url": "https://192.168.1.4/dog.png"}, "image_url", "private address"),
    ({"image_url": "/tmp/dog.png"}, "image_url", "turn on send_local_image"),
    ({"image_url": "data:image/png;base64,AAAA"}, "image_url", "turn on send_local_image"),
    ({"image_url": "/no/such/dog.png", "send_local_image": True}, "image_url", "cannot read"),
    ({"image_url": DOG, "resolution": 2048}, "resolution", "one of 1024, 1536"),
    ({"image_url": DOG, "texture_size": 512}, "texture_size", "one of 1024, 2048, 4096"),
    ({"image_url": DOG, "ss_sampling_steps": 0}, "ss_sampling_steps", "at least 1"),
    ({"image_url": DOG, "mesh_scale": 0}, "mesh_scale", "at least 0.001"),
    ({"image_url": DOG, "remesh": "yes"}, "remesh", "true or false"),
    ({"image_url": DOG, "decimation_target": 10.5}, "decimation_target", "a whole number"),
])
def test_each_rule_names_the_field_and_what_is_allowed(values, field, words):
    with pytest.raises(errors.InvalidRequestError) as caught:
        OP.validate(values)
    assert caught.value.field == field
    assert words in str(caught.value)
