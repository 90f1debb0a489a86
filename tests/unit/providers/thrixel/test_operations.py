"""Thrixel's declarations: every validation rule names the field and what is allowed; pictures
and uploads are checked before anything is sent."""

from __future__ import annotations

import pytest
import responses
from unit.providers.thrixel.mocks import SID, service

from conjure.providers import errors, registry
from conjure.providers.thrixel.operations import INLINE_IMAGE_BYTES, OPERATIONS, UNSUPPORTED
from support.jobs import job
from support.pictures import png


def op(name):
    return registry.operation("thrixel", name)


@pytest.mark.parametrize(("operation", "values", "field", "words"), [
    ("create", {}, "task", "give at least one of task, image, images"),
    ("create", {"image": "https://a.com/x.png", "images": ["https://a.com/y.png"]}, "images",
     "cannot be used together"),
    ("create", {"images": ["https://a.com/x.png"] * 7}, "images", "at most 6 items"),
    ("create", {"image": "http://a.com/x.png"}, "image", "must use https://"),
    ("create", {"image": "/no/such/picture.png"}, "image", "cannot read"),
    ("create", {"task": "x", "adaptive_thinking": "yes"}, "adaptive_thinking", "true or false"),
    ("create", {"task": "x", "quality": "best"}, "quality", "one of 'full', 'lite'"),
    ("refine", {}, "parent_submission_id", "is required"),
    ("edit", {"parent_submission_id": SID}, "modification_request", "is required"),
    ("edit", {"parent_submission_id": SID, "modification_request": "x",
              "focus_on_node_names": "lid"}, "focus_on_node_names", "a list"),
    ("detail", {"parent_submission_id": SID, "seed": 1_000_000}, "seed", "from 0 to 999999"),
    ("detail", {"parent_submission_id": SID, "texture_size": 3000}, "texture_size",
     "one of 512, 768, 1024, 2048, 4096"),
    ("detail", {"parent_submission_id": SID, "decimation_target": 9999}, "decimation_target",
     "from 10000 to 500000"),
    ("detail", {"parent_submission_id": SID, "control_mesh_voxelize_res": 128},
     "control_mesh_voxelize_res", "from 256 to 2048"),
    ("detail", {"parent_submission_id": SID, "pipeline_type": "2048"}, "pipeline_type",
     "one of '1024_cascade', '1536_cascade'"),
    ("detail", {"parent_submission_id": SID, "focus_mode": "x"}, "focus_mode", "latent"),
    ("detail", {"parent_submission_id": SID, "control_mesh_ss_lat_noise_t0idx": 13},
     "control_mesh_ss_lat_noise_t0idx", "from 0 to 12"),
    ("detail", {"parent_submission_id": SID, "adherence_level": -1}, "adherence_level",
     "at least 0"),
    ("upload", {}, "glb_file", "is required"),
    ("upload", {"glb_file": "/no/such.glb"}, "glb_file", "cannot read"),
    ("upload", {"glb_file": "x", "task": "y" * 2001}, "task", "at most 2000 characters"),
    ("convert", {"parent_submission_id": SID, "format": "3mf"}, "format",
     "one of 'fbx', 'obj', 'usdz', 'stl'"),
    ("convert", {"parent_submission_id": SID, "format": "obj", "target": "unity"}, "target",
     "FBX only"),
])
def test_validation_names_the_field_and_what_is_allowed(operation, values, field, words):
    with pytest.raises(errors.InvalidRequestError) as caught:
        op(operation).validate(values)
    assert caught.value.field == field, caught.value
    assert words in str(caught.value)


def test_inline_picture_over_the_cap_is_refused_before_sending(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(png(4, 4) + b"\x00" * INLINE_IMAGE_BYTES)
    with pytest.raises(errors.InvalidRequestError, match="at most 12 MB") as caught:
        op("create").validate({"image": str(big)})
    assert caught.value.field == "image" and caught.value.status is None
    with responses.RequestsMock() as mocked:  # nothing may be sent: no route registered
        with pytest.raises(errors.InvalidRequestError, match=r"big\.png"):
            service().submit(job("create", {"images": [str(big)]}))
        assert len(mocked.calls) == 0


def test_upload_refuses_a_file_that_is_not_glb_or_too_big(tmp_path):
    fake = tmp_path / "m.glb"
    fake.write_bytes(b"not a glb")
    with pytest.raises(errors.InvalidRequestError, match="not a binary glTF"):
        op("upload").validate({"glb_file": str(fake)})
    big = tmp_path / "big.glb"
    with open(big, "wb") as f:
        f.write(b"glTF")
        f.truncate(100 * 1000 * 1000 + 1)  # sparse: no 100 MB written
    with pytest.raises(errors.InvalidRequestError, match="at most 100 MB"):
        op("upload").validate({"glb_file": str(big)})


def test_every_operation_is_declared_once_and_unsupported_ones_say_why():
    names = [o.name for o in OPERATIONS]
    assert names == ["create", "refine", "edit", "detail", "upload", "convert"]
    assert all(o.param_for("parent") for o in OPERATIONS if o.needs_parent)
    assert all(reason for reason in UNSUPPORTED.values())
