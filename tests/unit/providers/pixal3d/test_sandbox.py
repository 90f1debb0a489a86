"""Pixazo Pixal3D client against the sandbox over real HTTP, driven by the real job engine."""

import uuid

import pytest

from conjure.jobs.model import State
from conjure.providers import errors
from conjure.providers.pixal3d.client import Pixal3dClient
from conjure.providers.pixal3d.operations import BY_NAME
from conjure.providers.registry import ClientConfig
from sandbox import start_sandbox
from support.engine_env import EngineEnv
from support.pictures import png

OP = BY_NAME["image_to_3d"]


@pytest.fixture(scope="module")
def inline_sandbox():
    with start_sandbox(speed="fast", pixazo_allow_data_uri=True) as sb:
        yield sb


def new_key(sb, **kwargs):
    key = f"pixazo-{uuid.uuid4().hex}"
    sb.add_key("pixazo", key, **kwargs)
    return key


def run(sb, key, params, tmp_path):
    env = EngineEnv(Pixal3dClient(ClientConfig(sb.service_url("pixazo"), key=key)),
                    tmp_path)
    try:
        return env.run("image_to_3d", OP.validate(params), state=None, timeout=20)
    finally:
        env.close()


def test_a_public_https_image_becomes_a_glb(sandbox, tmp_path):
    key = new_key(sandbox)
    done = run(sandbox, key, {"image_url": "https://example.com/example_inputs/dog.png",
                              "texture_size": 1024, "resolution": 1536, "seed": 3}, tmp_path)
    assert done.state == State.READY, done.message
    assert done.result_files == ["output.glb"]
    data = (tmp_path / "results" / "pixal3d" / done.id / "output.glb").read_bytes()
    assert data[:4] == b"glTF"
    assert sandbox.account("pixazo", key).balance == pytest.approx(25.0 - 0.30)


def test_an_inline_picture_is_refused_clearly_by_a_service_without_data_uris(sandbox, tmp_path):
    picture = tmp_path / "dog.png"
    picture.write_bytes(png(32, 32, lambda x, y: (64, 64, 64)))
    done = run(sandbox, new_key(sandbox), {"image_url": str(picture), "send_local_image": True},
               tmp_path)
    assert (done.state, done.error_code) == (State.FAILED, "invalid_request")
    assert "refused the inline picture" in done.message
    assert "paste its https link" in done.message


def test_an_inline_picture_works_where_the_service_takes_it(inline_sandbox, tmp_path):
    picture = tmp_path / "dog.png"
    picture.write_bytes(png(32, 32, lambda x, y: (64, 64, 64)))
    done = run(inline_sandbox, new_key(inline_sandbox),
               {"image_url": str(picture), "send_local_image": True}, tmp_path)
    assert done.state == State.READY, done.message
    assert (tmp_path / "results" / "pixal3d" / done.id / "output.glb").read_bytes()[:4] == b"glTF"


def test_system_error_is_reported_as_not_charged_and_refunded(sandbox, tmp_path):
    key = new_key(sandbox, faults="fail=ERROR")
    done = run(sandbox, key, {"image_url": "https://example.com/dog.png"}, tmp_path)
    assert (done.state, done.error_code) == (State.FAILED, "service_error")
    assert "not charged" in done.message
    assert sandbox.account("pixazo", key).balance == pytest.approx(25.0)


def test_an_empty_wallet_fails_with_the_top_up_message(sandbox, tmp_path):
    done = run(sandbox, new_key(sandbox, balance=0.1), {"image_url": "https://example.com/d.png"},
               tmp_path)
    assert (done.state, done.error_code) == (State.FAILED, "insufficient_credits")
    assert "top up at https://api-console.pixazo.ai/dashboard" in done.message


def test_key_check(sandbox):
    good = Pixal3dClient(ClientConfig(sandbox.service_url("pixazo"),
                                              key=new_key(sandbox)))
    assert good.check_key().startswith("Pixazo key accepted")
    bad = Pixal3dClient(ClientConfig(sandbox.service_url("pixazo"), key="wrong-key"))
    with pytest.raises(errors.AuthenticationError, match="refused the subscription key"):
        bad.check_key()
