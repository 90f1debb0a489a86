"""Tripo3D's declarations: every rule names the field and what is allowed; local pictures are
checked before anything is sent."""

import pytest

from conjure.providers import errors
from conjure.providers.tripo.operations import BY_NAME, UNSUPPORTED
from support.pictures import png


@pytest.mark.parametrize(("operation", "values", "field", "words"), [
    ("text_to_model", {}, "prompt", "prompt is required"),
    ("text_to_model", {"prompt": "x" * 1025}, "prompt", "at most 1024 characters"),
    ("text_to_model", {"prompt": "a", "negative_prompt": "n" * 256}, "negative_prompt",
     "at most 255 characters"),
    ("text_to_model", {"prompt": "a", "model_version": "v9"}, "model_version", "one of"),
    ("text_to_model", {"prompt": "a", "texture_quality": "ultra"}, "texture_quality",
     "'standard', 'detailed', 'extreme'"),
    ("text_to_model", {"prompt": "a", "smart_low_poly": True, "face_limit": 999}, "face_limit",
     "from 1000 to 20000 with smart_low_poly"),
    ("text_to_model", {"prompt": "a", "smart_low_poly": True, "face_limit": 20001},
     "face_limit", "from 1000 to 20000"),
    ("text_to_model", {"prompt": "a", "smart_low_poly": True, "quad": True,
                       "face_limit": 12000}, "face_limit",
     "from 500 to 10000 with smart_low_poly and quad"),
    ("text_to_model", {"prompt": "a", "model_version": "P1-20260311", "face_limit": 40},
     "face_limit", "from 48 to 20000 with model_version P1-20260311"),
    ("text_to_model", {"prompt": "a", "model_version": "P1-20260311", "quad": True},
     "model_version", "quad must be left unset"),
    ("text_to_model", {"prompt": "a", "generate_parts": True}, "generate_parts",
     "needs texture=false and pbr=false"),
    ("text_to_model", {"prompt": "a", "generate_parts": True, "texture": False, "pbr": False,
                       "quad": True}, "generate_parts", "cannot be combined with quad"),
    ("text_to_model", {"prompt": "a", "geometry_quality": "detailed"}, "geometry_quality",
     "needs a v3.x model_version"),
    ("text_to_model", {"prompt": "a", "model_version": "v2.0-20240919",
                       "geometry_quality": "standard"}, "geometry_quality", "v3.x"),
    ("text_to_model", {"prompt": "a", "model_version": "v1.4-20240625", "quad": True},
     "model_version", "need model_version v2.0-20240919 or newer"),
    ("text_to_model", {"prompt": "a", "face_limit": 0}, "face_limit", "at least 1"),
    ("image_to_model", {}, "image", "image is required"),
    ("image_to_model", {"image": "https://e.com/a.png", "orientation": "up"}, "orientation",
     "'default', 'align_image'"),
    ("multiview_to_model", {"front": "https://e.com/f.png"}, "left",
     "front view and at least one more"),
    ("multiview_to_model", {"back": "https://e.com/f.png", "left": "https://e.com/l.png"},
     "front", "front is required"),
    ("multiview_to_model", {"front": "https://e.com/f.png", "left": "https://e.com/l.png",
                            "model_version": "Turbo-v1.0-20250506"}, "model_version", "one of"),
    ("refine_model", {}, "draft_model_task_id", "is required"),
    ("text_to_image", {"prompt": "a", "negative_prompt": "x" * 256}, "negative_prompt", "255"),
    ("generate_image", {"prompt": "a", "model_version": "flux.1_dev",
                        "images": ["https://e.com/a.png"]}, "images",
     "flux.1_dev cannot use reference images"),
    ("generate_image", {"prompt": "a", "images": ["https://e.com/a.png"] * 5}, "images",
     "flux.1_kontext_pro takes at most 4"),
    ("generate_image", {"prompt": "a", "images": ["https://e.com/a.png"] * 11}, "images",
     "at most 10 items"),
    ("texture_model", {"original_model_task_id": "m", "texture_prompt": "a",
                       "texture_image": "https://e.com/a.png"}, "texture_image",
     "cannot be used together"),
    ("texture_model", {"texture_prompt": "a"}, "original_model_task_id", "is required"),
    ("convert_model", {"original_model_task_id": "m"}, "format", "format is required"),
    ("convert_model", {"original_model_task_id": "m", "format": "DAE"}, "format",
     "'GLTF', 'USDZ', 'FBX', 'OBJ', 'STL', '3MF'"),
    ("convert_model", {"original_model_task_id": "m", "format": "FBX", "force_symmetry": True},
     "force_symmetry", "needs quad=true"),
    ("convert_model", {"original_model_task_id": "m", "format": "STL",
                       "export_vertex_colors": True}, "export_vertex_colors", "OBJ or GLTF"),
    ("convert_model", {"original_model_task_id": "m", "format": "OBJ", "fbx_preset": "mixamo"},
     "fbx_preset", "only to format FBX"),
    ("convert_model", {"original_model_task_id": "m", "format": "OBJ",
                       "texture_format": "GIF"}, "texture_format", "one of"),
    ("animate_rig", {"original_model_task_id": "m", "rig_type": "dragon"}, "rig_type",
     "'biped'"),
    ("animate_rig", {"original_model_task_id": "m", "spec": "maya"}, "spec", "'mixamo'"),
    ("animate_retarget", {"original_model_task_id": "m", "animations": []}, "animations",
     "0 items"),
    ("animate_retarget", {"original_model_task_id": "m", "animations": ["preset:walk"] * 6},
     "animations", "6 items"),
    ("animate_retarget", {"original_model_task_id": "m", "animations": ["preset:dance"]},
     "animations", "unknown animation 'preset:dance'"),
])
def test_each_rule_names_the_field_and_what_is_allowed(operation, values, field, words):
    with pytest.raises(errors.InvalidRequestError) as caught:
        BY_NAME[operation].validate(values)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_p1_allows_its_own_face_limit_and_smart_low_poly_has_no_limit_without_it():
    op = BY_NAME["text_to_model"]
    assert op.validate({"prompt": "a", "model_version": "P1-20260311", "face_limit": 48})
    assert op.validate({"prompt": "a", "face_limit": 300000})["face_limit"] == 300000
    assert op.validate({"prompt": "a", "model_version": "v3.1-20260211",
                        "geometry_quality": "detailed"})


def write(path, data):
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: write(p, png(10, 10)), "10×10 px; each side must be 20 to 6000 px"),
    (lambda p: write(p, png(6001, 20)[:33]), "6001×20 px"),
    (lambda p: write(p, b"GIF89a" + b"\x00" * 40), "is not a PNG, JPEG or WebP"),
    (lambda p: str(p.parent / "missing.png"), "cannot read"),
    (lambda p: "data:image/png;base64,@@@", "base64 text is damaged"),
])
def test_local_images_are_checked_before_anything_is_sent(tmp_path, make, words):
    value = make(tmp_path / "img.png")
    with pytest.raises(errors.InvalidRequestError) as caught:
        BY_NAME["image_to_model"].validate({"image": value})
    assert caught.value.field == "image"
    assert words in str(caught.value)


def test_images_over_20_mb_are_refused_from_the_file_size(tmp_path):
    path = tmp_path / "big.png"
    with open(path, "wb") as handle:
        handle.write(png(64, 48))
        handle.truncate(20 * 1024 * 1024 + 1)  # sparse: no 20 MB written
    with pytest.raises(errors.InvalidRequestError, match="at most 20 MB"):
        BY_NAME["multiview_to_model"].validate({"front": "https://e.com/f.png",
                                                      "back": str(path)})


def test_unsupported_operations_are_listed_with_reasons():
    declared = set(BY_NAME)
    assert declared.isdisjoint(UNSUPPORTED)
    assert all(reason for reason in UNSUPPORTED.values())
