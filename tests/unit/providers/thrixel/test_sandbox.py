"""Thrixel client over real HTTP against the sandbox, each job driven by the real engine
(runner + journal) to a checked file in the results folder."""

from __future__ import annotations

import itertools

import pytest

from conjure.jobs.model import State
from conjure.providers import errors
from conjure.providers.base import Phase
from conjure.providers.registry import ClientConfig
from conjure.providers.thrixel import ThrixelClient
from support.engine_env import EngineEnv
from support.jobs import job
from support.pictures import png

_keys = itertools.count()


class Env(EngineEnv):
    """One key, one service, one engine: submit jobs and wait for their end state."""

    def __init__(self, sandbox, tmp_path, **key_options):
        self.sandbox = sandbox
        self.key = f"sk-thrixel-client-{next(_keys)}"
        sandbox.add_key("thrixel", self.key, **key_options)
        super().__init__(ThrixelClient(ClientConfig(sandbox.service_url("thrixel"), self.key)),
                         tmp_path)

    def file(self, job):
        [path] = self.files(job)
        return path


@pytest.fixture
def env(sandbox, tmp_path):
    e = Env(sandbox, tmp_path)
    yield e
    e.close()


def test_create_from_text_then_refine_edit_detail_each_end_with_a_glb(env):
    created = env.run("create", {"task": "a brass orrery", "adaptive_thinking": True})
    assert env.file(created).read_bytes()[:4] == b"glTF"
    assert env.file(created).name.endswith("_rough.glb")

    refined = env.run("refine", {"parent_submission_id": created.remote_id})
    assert env.file(refined).read_bytes()[:4] == b"glTF"
    assert env.file(refined).name.endswith("_fixed.glb")

    tree = env.client.hierarchy(created.remote_id)
    names = tree.part_names()
    assert names and tree.total_faces > 0 and tree.bounds is not None
    edited = env.run("edit", {"parent_submission_id": created.remote_id,
                              "modification_request": "make it blue",
                              "focus_on_node_names": names[:1]})
    assert env.file(edited).read_bytes()[:4] == b"glTF"

    detailed = env.run("detail", {"parent_submission_id": edited.remote_id, "seed": 7,
                                  "texture_size": 2048, "prompt": "weathered brass"})
    assert env.file(detailed).name.endswith("_detailed.glb")
    assert env.file(detailed).read_bytes()[:4] == b"glTF"


def test_create_from_local_pictures_sent_inline(env, tmp_path):
    first, second = tmp_path / "front.png", tmp_path / "side.png"
    first.write_bytes(png(24, 24))
    second.write_bytes(png(24, 24, lambda x, y: (x * 10, y * 10, 90)))
    done = env.run("create", {"images": [str(first), str(second)], "task": "a lantern"})
    assert env.file(done).read_bytes()[:4] == b"glTF"


def test_upload_a_glb_then_convert_it_to_fbx(env):
    created = env.run("create", {"task": "a stone gargoyle", "quality": "lite"})
    glb = env.file(created)
    uploaded = env.run("upload", {"glb_file": str(glb), "task": "my gargoyle"})
    assert env.file(uploaded).read_bytes() == glb.read_bytes()

    # Asking for a format not converted yet: 202 with a queued conversion, never a saved JSON.
    url = f"{env.client.api}/{uploaded.remote_id}/download"
    with pytest.raises(errors.ResultNotReadyError, match="still preparing"):
        b"".join(env.client.download(url, {"format": "obj"}))

    converted = env.run("convert", {"parent_submission_id": uploaded.remote_id, "format": "fbx"})
    assert env.file(converted).suffix == ".fbx"
    assert env.file(converted).read_bytes().startswith(b"Kaydara FBX Binary")

    stl = env.run("convert", {"parent_submission_id": uploaded.remote_id, "format": "stl"})
    assert env.file(stl).suffix == ".stl" and env.file(stl).stat().st_size > 84


def test_failed_job_is_mapped_to_content_rejected(sandbox, tmp_path):
    e = Env(sandbox, tmp_path, faults="fail=CONTENT_BLOCKED")
    try:
        done = e.run("create", {"task": "something blocked"}, state=State.FAILED)
    finally:
        e.close()
    assert done.error_code == "content_rejected"
    assert "content filter" in done.message and "CONTENT_BLOCKED" in done.message


def test_monthly_runs_used_up_fails_with_its_own_words(sandbox, tmp_path):
    e = Env(sandbox, tmp_path, monthly_runs_left=0)
    try:
        done = e.run("create", {"task": "a lamp"}, state=State.FAILED)
    finally:
        e.close()
    assert done.error_code == "insufficient_credits"
    assert "free plan's monthly runs" in done.message


def test_cancel_a_queued_job_and_refuse_a_running_one(sandbox, tmp_path):
    e = Env(sandbox, tmp_path, faults="cold_start=5")
    try:
        job = e.runner.submit("thrixel", "create", {"task": "slow"})
        while not e.journal.require(job.id).remote_id:
            e.runner.wait(job.id, timeout=0.02)
        e.runner.cancel(job.id)
        done = e.runner.wait(job.id, timeout=10)
        assert done.state == State.CANCELLED and "service stopped the job" in done.message
        assert e.client.poll(done).phase == Phase.CANCELLED
    finally:
        e.close()

    # A job already processing: the service answers 409, which must read as final.
    e = Env(sandbox, tmp_path / "second")
    try:
        job = e.runner.submit("thrixel", "create", {"task": "quick"})
        while e.journal.require(job.id).state != State.RUNNING:
            e.runner.wait(job.id, timeout=0.01)
        with pytest.raises(errors.InvalidRequestError, match="cannot cancel it any more"):
            e.client.cancel(e.journal.require(job.id))
    finally:
        e.close()


def test_progress_and_the_end_from_the_event_stream_balance_and_key(env):
    submitted = env.client.submit(job("create", {"task": "a clock"}))
    feed = env.client.feed(job("create", {}, submitted.remote_id))
    news = [n for n in feed if n is not None]
    assert feed.ended
    progress = [n.progress for n in news if n.progress is not None]
    assert progress and all(0.0 <= p <= 1.0 for p in progress) and progress == sorted(progress)
    assert "Cubes" in (env.client.balance() or "")
    assert env.client.check_key().startswith("Thrixel key accepted")


def test_wrong_key_is_an_authentication_error(sandbox):
    client = ThrixelClient(ClientConfig(sandbox.service_url("thrixel"), "sk-thrixel-nope"))
    with pytest.raises(errors.AuthenticationError, match="paste a valid key"):
        client.check_key()


def requests_for(sandbox, remote_id):
    return [e for e in sandbox.log.entries() if remote_id in e.path]


def test_a_job_holds_one_stream_and_makes_few_other_requests(env):
    done = env.run("create", {"task": "a lantern"})
    made = requests_for(env.sandbox, done.remote_id)
    streams = [e for e in made if e.path.endswith("/stream")]
    assert len(streams) == 1
    # Besides the submit and the stream: /info at the end and while the full model bakes, the
    # lite GLB, the full GLB.
    assert 1 + len(made) - len(streams) <= 8, [e.path for e in made]
    lite = [e for e in made if "quality=lite" in e.query]
    assert len(lite) == 1
    assert env.file(done).name.endswith("_rough.glb")


def test_a_stream_that_drops_is_opened_again_and_the_job_finishes(sandbox, tmp_path):
    e = Env(sandbox, tmp_path, faults="stream_drop=2,cold_start=0.6")
    try:
        done = e.run("create", {"task": "a kettle"})
        streams = [x for x in requests_for(sandbox, done.remote_id) if x.path.endswith("/stream")]
        assert len(streams) >= 2
        assert e.file(done).read_bytes()[:4] == b"glTF"
    finally:
        e.close()


def test_a_stream_that_never_says_anything_still_ends_in_the_result(sandbox, tmp_path, monkeypatch):
    monkeypatch.setattr("conjure.providers.thrixel.client.HEARTBEAT_S", 0.2)
    e = Env(sandbox, tmp_path, faults="stream_silent")
    e.client.http.settings = e.client.http.settings.__class__(read_timeout=0.3)
    try:
        done = e.run("create", {"task": "a teapot"}, timeout=30)
        assert e.file(done).read_bytes()[:4] == b"glTF"
    finally:
        e.close()
