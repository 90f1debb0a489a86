"""A quicker version of a result offered while the job is finished (Thrixel's lite GLB): fetched
once, the job's files until the result replaces them, and kept on disk."""

import pytest

from conjure.jobs.journal import Journal
from conjure.jobs.model import State
from conjure.jobs.polling import PollPolicy
from conjure.jobs.runner import Runner
from conjure.providers import errors
from conjure.providers.base import Client, Phase, RemoteStatus, ResultFile, Submitted


class Baking(Client):
    name = "baking"

    def __init__(self, running_polls=3, lite_fails=0):
        self.running_polls = running_polls
        self.lite_fails = lite_fails
        self.lites = 0
        self.seen_files: list[list[str]] = []

    def _lite(self):
        self.lites += 1
        if self.lites <= self.lite_fails:
            raise errors.TransientServiceError("reset", service="Baking")
        yield b"glTF lite"

    def submit(self, job):
        return Submitted("r1", RemoteStatus(Phase.RUNNING, poll_after=0.01))

    def poll(self, job):
        self.seen_files.append(list(job.result_files))
        if self.running_polls:
            self.running_polls -= 1
            return RemoteStatus(Phase.RUNNING, poll_after=0.01, message="Baking",
                                lite=[ResultFile("m_lite.glb", self._lite)])
        return RemoteStatus(Phase.SUCCEEDED, results=[
            ResultFile("m.glb", lambda: iter([b"glTF full"]))])


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "jobs.sqlite")
    yield j
    j.close()


def run(journal, tmp_path, client):
    runner = Runner(journal, {"baking": client}, tmp_path, policy=PollPolicy(scale=0.01))
    runner.start()
    job = runner.submit("baking", "bake")
    done = runner.wait(job.id, timeout=10)
    runner.stop()
    return done


def test_the_lite_model_is_fetched_once_and_the_result_replaces_it(journal, tmp_path):
    client = Baking()
    done = run(journal, tmp_path, client)
    assert (done.state, done.result_files) == (State.READY, ["m.glb"])
    assert client.lites == 1
    assert client.seen_files == [[], ["m_lite.glb"], ["m_lite.glb"], ["m_lite.glb"]]
    folder = tmp_path / "results" / "baking" / done.id
    assert (folder / "m_lite.glb").read_bytes() == b"glTF lite"  # kept, never deleted


def test_a_lite_model_that_cannot_be_fetched_is_tried_a_few_times_and_never_stops_the_job(
        journal, tmp_path):
    client = Baking(running_polls=6, lite_fails=10)
    done = run(journal, tmp_path, client)
    assert (done.state, done.result_files) == (State.READY, ["m.glb"])
    assert client.lites == 3
