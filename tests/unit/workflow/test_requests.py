"""From the generic inputs to a service's request, against the real operation declarations."""

import pytest

from conjure.providers.errors import InvalidRequestError
from conjure.workflow import requests


def test_provider_names_any_case():
    assert requests.service("TRIPO").id == "tripo"
    assert requests.service("PIXAL3D").id == "pixal3d"
    assert requests.service("pixazo").id == "pixal3d"  # the id 0.1 saved
    assert requests.service("voxelai").id == "voxelai"
    with pytest.raises(InvalidRequestError, match="choose one of THRIXEL, TRIPO") as caught:
        requests.service("meshy")
    assert caught.value.field == "provider"


def test_text_mode_by_default_and_prompt_by_role():
    r = requests.generation_request("TRIPO", prompt=" a gargoyle ", negative_prompt="blurry",
                                  options='{"face_limit": 5000}')
    assert (r.service, r.operation) == ("tripo", "text_to_model")
    assert r.params == {"prompt": "a gargoyle", "negative_prompt": "blurry", "face_limit": 5000}
    r = requests.generation_request("THRIXEL", prompt="a chair")
    assert (r.operation, r.params) == ("create", {"task": "a chair"})


def test_an_image_implies_image_mode(tmp_path):
    picture = tmp_path / "p.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    r = requests.generation_request("TRIPO", image_path=str(picture))
    assert r.operation == "image_to_model" and r.params == {"image": str(picture)}
    r = requests.generation_request("PIXAL3D", image_url="https://x/a.png")
    assert (r.operation, r.params) == ("image_to_3d", {"image_url": "https://x/a.png"})
    # Thrixel creates from text and pictures in one operation.
    r = requests.generation_request("THRIXEL", image_url="https://x/a.png", prompt="p")
    assert (r.operation, r.params) == ("create", {"task": "p", "image": "https://x/a.png"})


def test_mode_word_or_operation_name():
    assert requests.generation_request("TRIPO", mode="multiview",
                                     options={"front": "a", "left": "b"}).operation == \
        "multiview_to_model"
    assert requests.generation_request("TRIPO", mode="text_to_image",
                                     prompt="x").operation == "text_to_image"
    with pytest.raises(InvalidRequestError, match=r"no mode or operation 'sculpt'.*modes: text"):
        requests.generation_request("TRIPO", mode="sculpt", prompt="x")


def test_inputs_the_operation_does_not_take_are_refused():
    with pytest.raises(InvalidRequestError, match="takes no image") as caught:
        requests.generation_request("TRIPO", mode="text", prompt="x", image_url="https://x/a.png")
    assert caught.value.field == "image_url"
    with pytest.raises(InvalidRequestError, match="no file at"):
        requests.generation_request("TRIPO", image_path="/nonexistent/p.png")


@pytest.mark.parametrize("text, message, field", [
    ("{face_limit: 5}", "options: not valid JSON", "options"),
    ("[1, 2]", "must be a JSON object", "options"),
    ('{"face_limt": 5}', "no parameter 'face_limt'", "face_limt"),
])
def test_options_errors_name_the_field(text, message, field):
    with pytest.raises(InvalidRequestError, match=message) as caught:
        requests.generation_request("TRIPO", prompt="x", options=text)
    assert caught.value.field == field


def test_voxelize_options_given_to_generate_wait_for_the_pick():
    r = requests.generation_request("VOXELAI", prompt="a fox",
                                  options='{"seed": 3, "voxel_size": 16}')
    assert (r.operation, r.params, r.later) == ("candidates", {"prompt": "a fox", "seed": 3},
                                                {"voxel_size": 16})


def test_candidate_request_uses_the_picture(tmp_path):
    picture = tmp_path / "candidate_1.png"
    r = requests.candidate_request("voxelai", "candidates", picture, parent_job_id="j1",
                                 options={"voxel_size": 16})
    assert (r.operation, r.params, r.parent_id) == (
        "voxelize", {"image": str(picture), "voxel_size": 16}, "j1")
    assert requests.is_candidates(["candidate_0.png", "b.jpg"])
    assert not requests.is_candidates(["model.glb", "thumb.png"]) and not requests.is_candidates([])


def test_follow_up_fills_the_parent_and_the_parts():
    r = requests.follow_up_request("thrixel", "edit", parent_remote_id="sub-9",
                                 parent_job_id="j1", prompt="make the door red",
                                 parts="door_panel, lock_wheel,,door_panel")
    assert r.params == {"parent_submission_id": "sub-9",
                        "modification_request": "make the door red",
                        "focus_on_node_names": ["door_panel", "lock_wheel"]}
    assert r.parent_id == "j1"
    r = requests.follow_up_request("tripo", "texture_model", parent_remote_id="t-1")
    assert r.params == {"original_model_task_id": "t-1"}
    with pytest.raises(InvalidRequestError, match="cannot be limited to parts"):
        requests.follow_up_request("tripo", "texture_model", parent_remote_id="t", parts="a")
    with pytest.raises(InvalidRequestError, match="never reached the service"):
        requests.follow_up_request("thrixel", "refine", parent_remote_id="")
    with pytest.raises(InvalidRequestError, match=r"use conjure\.generate"):
        requests.follow_up_request("thrixel", "create", parent_remote_id="s")
