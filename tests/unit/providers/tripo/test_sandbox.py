"""Tripo3D client against the sandbox over real HTTP, driven by the real job engine.

Each test has its own key (so concurrency limits and credits do not leak between tests) and
runs whole jobs through ``Runner`` + ``Journal`` until the result file is in the results folder.
"""

import uuid

import pytest

from conjure.jobs.model import State
from conjure.providers import errors
from conjure.providers.registry import ClientConfig
from conjure.providers.tripo.client import TripoClient
from conjure.providers.tripo.operations import BY_NAME
from support.engine_env import EngineEnv
from support.pictures import png


@pytest.fixture
def key(sandbox):
    name = f"tsk_{uuid.uuid4().hex}"
    sandbox.add_key("tripo", name)
    return name


@pytest.fixture
def engine(tmp_path):
    """Drives a job of a given client to its end through the real engine; returns the job."""
    envs = []

    def run(service, operation, params, timeout=20):
        envs.append(EngineEnv(service, tmp_path, workers=2))
        return envs[-1].run(operation, BY_NAME[operation].validate(params), state=None,
                            timeout=timeout)

    yield run
    for env in envs:
        env.close()


def client_for(sandbox, key, api):
    return TripoClient(ClientConfig(sandbox.service_url("tripo"), key=key), api)


def result(tmp_path, job):
    assert job.state == State.READY, (job.state, job.error_code, job.message)
    assert len(job.result_files) == 1
    return (tmp_path / "results" / "tripo" / job.id / job.result_files[0]).read_bytes()


@pytest.mark.parametrize("api", ["v2", "v3"])
def test_text_to_model_then_texture_convert_rig_and_animate(sandbox, key, engine, tmp_path,
                                                            api):
    service = client_for(sandbox, key, api)
    model = engine(service, "text_to_model", {"prompt": "a stone gargoyle",
                                               "texture_quality": "detailed"})
    assert result(tmp_path, model)[:4] == b"glTF"
    source = {"original_model_task_id": model.remote_id}

    textured = engine(service, "texture_model", {**source, "texture_prompt": "mossy stone"})
    assert result(tmp_path, textured)[:4] == b"glTF"

    fbx = engine(service, "convert_model", {**source, "format": "FBX", "fbx_preset": "blender"})
    assert result(tmp_path, fbx).startswith(b"Kaydara FBX Binary")
    for fmt, suffix, magic in (("USDZ", ".usdz", b"PK\x03\x04"), ("3MF", ".3mf", b"PK\x03\x04"),
                               ("OBJ", ".zip", b"PK\x03\x04"), ("GLTF", ".glb", b"glTF")):
        converted = engine(service, "convert_model", {**source, "format": fmt})
        assert result(tmp_path, converted)[:4] == magic, fmt
        assert converted.result_files[0].endswith(suffix), converted.result_files
    stl = engine(service, "convert_model", {**source, "format": "STL"})
    data = result(tmp_path, stl)
    assert len(data) == 84 + 50 * int.from_bytes(data[80:84], "little") > 84
    assert stl.result_files == ["model.stl"]

    check = engine(service, "animate_prerigcheck", source)
    assert (check.state, check.message, check.result_files) == (State.READY,
                                                                "Riggable as biped", [])
    rig = engine(service, "animate_rig", {**source, "out_format": "fbx", "rig_type": "biped"})
    assert result(tmp_path, rig).startswith(b"Kaydara FBX Binary")
    animated = engine(service, "animate_retarget", {
        "original_model_task_id": rig.remote_id, "animations": ["preset:walk", "preset:run"]})
    assert result(tmp_path, animated)[:4] == b"glTF"


@pytest.mark.parametrize("api", ["v2", "v3"])
def test_image_and_multiview_upload_local_pictures(sandbox, key, engine, tmp_path, api):
    front, back = tmp_path / "front.png", tmp_path / "back.png"
    front.write_bytes(png(64, 48))
    back.write_bytes(png(64, 48, lambda x, y: (10, 20, 30)))
    service = client_for(sandbox, key, api)
    single = engine(service, "image_to_model", {"image": str(front),
                                                 "orientation": "align_image"})
    assert result(tmp_path, single)[:4] == b"glTF"
    multi = engine(service, "multiview_to_model", {"front": str(front), "back": str(back),
                                                    "model_version": "v3.0-20250812",
                                                    "geometry_quality": "detailed"})
    assert result(tmp_path, multi)[:4] == b"glTF"


@pytest.mark.parametrize("api", ["v2", "v3"])
def test_quad_gives_fbx_and_images_give_pictures(sandbox, key, engine, tmp_path, api):
    service = client_for(sandbox, key, api)
    quad = engine(service, "text_to_model", {"prompt": "a chair", "quad": True,
                                              "smart_low_poly": True, "face_limit": 4000})
    assert result(tmp_path, quad).startswith(b"Kaydara FBX Binary")
    picture = engine(service, "text_to_image", {"prompt": "a small cat"})
    assert result(tmp_path, picture)[:8] == b"\x89PNG\r\n\x1a\n"
    ref = tmp_path / "ref.png"
    ref.write_bytes(png(64, 48))
    edited = engine(service, "generate_image", {"prompt": "image[1] as a statue",
                                                 "images": [str(ref)], "t_pose": True})
    assert result(tmp_path, edited)[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_credits_fails_with_the_top_up_message(sandbox, engine):
    key = f"tsk_{uuid.uuid4().hex}"
    sandbox.add_key("tripo", key, balance=0)
    done = engine(client_for(sandbox, key, "v3"), "text_to_model", {"prompt": "a lamp"})
    assert (done.state, done.error_code) == (State.FAILED, "insufficient_credits")
    assert "top up at https://platform.tripo3d.ai/billing" in done.message
    assert key not in done.message


def test_failed_task_reports_the_content_policy(sandbox, engine):
    key = f"tsk_{uuid.uuid4().hex}"
    sandbox.add_key("tripo", key, faults="fail=banned")
    done = engine(client_for(sandbox, key, "v2"), "text_to_model", {"prompt": "a lamp"})
    assert (done.state, done.error_code) == (State.FAILED, "content_rejected")
    assert "content policy" in done.message


def test_balance_and_key_check(sandbox, key):
    for api in ("v2", "v3"):
        client = client_for(sandbox, key, api)
        assert client.balance() == "3000 credits"
        assert client.check_key().startswith(f"Tripo3D key accepted ({api} API)")
    wrong = client_for(sandbox, "tsk_wrong", "v3")
    with pytest.raises(errors.AuthenticationError, match="refused the API key"):
        wrong.check_key()
