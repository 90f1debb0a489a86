"""Voxel-AI client over real HTTP against the sandbox, each job driven by the real engine
(runner + journal) to a checked file in the results folder."""

from __future__ import annotations

import itertools
import struct
import time

import pytest

from conjure.jobs.model import State
from conjure.providers import errors
from conjure.providers.registry import ClientConfig
from conjure.providers.voxelai.client import VoxelAiClient
from support.engine_env import EngineEnv
from support.pictures import png

_keys = itertools.count()


class Env(EngineEnv):
    def __init__(self, sandbox, tmp_path, images_interval_s=15.0, **key_options):
        self.token = f"voxel-client-token-{next(_keys)}"
        sandbox.add_key("voxelai", self.token, **key_options)
        super().__init__(VoxelAiClient(ClientConfig(sandbox.service_url("voxelai"), self.token),
                                         images_interval_s=images_interval_s), tmp_path)


@pytest.fixture
def env(sandbox, tmp_path):
    e = Env(sandbox, tmp_path)
    yield e
    e.close()


def vox_size(data: bytes) -> tuple[int, int, int]:
    """The first model's SIZE chunk, read without any Conjure or sandbox code."""
    assert data[:4] == b"VOX " and data[8:12] == b"MAIN"
    at = data.index(b"SIZE")
    return struct.unpack("<3i", data[at + 12:at + 24])


def test_candidates_then_voxelize_the_chosen_one(env, sandbox):
    candidates = env.run("candidates", {"prompt": "a tiny voxel castle", "seed": 5})
    pictures = env.files(candidates)
    assert len(pictures) == 3
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)

    voxel = env.run("voxelize", {"image": str(pictures[1]), "voxel_size": 16,
                                 "palette_size": 8, "texturing": "gray", "fill": True,
                                 "color": "vertex"})
    [vox] = env.files(voxel)
    assert vox.suffix == ".vox" and max(vox_size(vox.read_bytes())) == 16
    before = sandbox.account("voxelai", env.token).balance
    assert env.client.balance() == f"{int(before)} tokens"


def test_voxelize_any_local_picture(env, tmp_path):
    picture = tmp_path / "mine.png"
    picture.write_bytes(png(40, 40, lambda x, y: (255, 0, 0) if 10 < x < 30 else (0, 0, 0)))
    done = env.run("voxelize", {"image": str(picture)})
    [vox] = env.files(done)
    assert vox.read_bytes()[:4] == b"VOX " and max(vox_size(vox.read_bytes())) == 32


def test_second_candidate_request_waits_for_the_client_and_service_rate_limits(sandbox, tmp_path):
    # 0.5 s here, 2 s in the fast sandbox: the client waits first, then the service says 429.
    e = Env(sandbox, tmp_path, images_interval_s=0.5)
    try:
        first = e.runner.submit("voxelai", "candidates", {"prompt": "a"})
        second = e.runner.submit("voxelai", "candidates", {"prompt": "b"})
        seen_waiting = False
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            jobs = [e.journal.require(j.id) for j in (first, second)]
            # Two workers send the two jobs at once, so either may be the one held back: by the
            # client's own wait or, on a machine slow enough, by the service's 429.
            seen_waiting |= any(j.state == State.PENDING and "Not sent yet" in j.message
                                for j in jobs)
            if all(j.finished for j in jobs):
                break
            time.sleep(0.01)
        assert seen_waiting
        assert e.journal.require(first.id).state == State.READY
        assert e.journal.require(second.id).state == State.READY
    finally:
        e.close()


def test_transient_502_keeps_polling_to_the_result(sandbox, tmp_path):
    e = Env(sandbox, tmp_path, faults="transient=3")
    try:
        done = e.run("candidates", {"prompt": "a mushroom"})
        assert len(e.files(done)) == 3
    finally:
        e.close()


def test_failed_voxelize_is_refunded_and_says_so(sandbox, tmp_path):
    e = Env(sandbox, tmp_path, faults="fail=GPU exploded")
    picture = tmp_path / "p.png"
    picture.write_bytes(png())
    try:
        done = e.run("voxelize", {"image": str(picture)}, state=State.FAILED)
    finally:
        e.close()
    assert "GPU exploded" in done.message and "refunded" in done.message
    assert sandbox.account("voxelai", e.token).balance == 100


def test_out_of_tokens_and_expired_token(sandbox, tmp_path):
    e = Env(sandbox, tmp_path, balance=0)
    picture = tmp_path / "p.png"
    picture.write_bytes(png())
    try:
        done = e.run("voxelize", {"image": str(picture)}, state=State.FAILED)
    finally:
        e.close()
    assert done.error_code == "insufficient_credits" and "out of tokens" in done.message
    stale = VoxelAiClient(ClientConfig(sandbox.service_url("voxelai"), "expired-token"))
    with pytest.raises(errors.AuthenticationError, match="copy a fresh token"):
        stale.check_key()
    assert e.client.check_key() == "Voxel-AI token accepted"
