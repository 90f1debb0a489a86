"""A job's preview picture: where it is kept, how the service's picture is saved, and that the
job never waits or fails for it."""

import threading

import pytest

from conjure.jobs.events import EventQueue
from conjure.jobs.journal import Journal
from conjure.jobs.model import State
from conjure.jobs.polling import PollPolicy
from conjure.jobs.results import (
    PREVIEW_FILE,
    job_folder,
    preview_path,
    waiting_preview,
    write_preview,
)
from conjure.jobs.runner import Runner
from conjure.providers import errors
from conjure.providers.base import (
    PICTURE_KINDS,
    Client,
    Phase,
    RemoteStatus,
    ResultFile,
    Submitted,
)
from conjure.providers.http import Body
from support.pictures import png

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40


def test_the_preview_lives_in_the_jobs_result_folder(tmp_path):
    assert PREVIEW_FILE == "preview.png"
    assert preview_path(tmp_path, "tripo", "j1") == job_folder(tmp_path, "tripo", "j1") / \
        "preview.png"


def test_a_png_becomes_the_preview_and_replaces_one_drawn_before(tmp_path):
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / PREVIEW_FILE).write_bytes(png(2, 2))
    saved = write_preview(Body.of(png(4, 4)), folder)
    assert saved == folder / PREVIEW_FILE and saved.read_bytes() == png(4, 4)
    assert sorted(p.name for p in folder.iterdir()) == [PREVIEW_FILE]
    assert waiting_preview(folder) is None


def test_another_kind_waits_to_be_turned_into_the_preview(tmp_path):
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / PREVIEW_FILE).write_bytes(png(2, 2))  # drawn here before the service's came
    saved = write_preview(Body.of(JPEG), folder)
    assert saved.name == "preview.jpg" and waiting_preview(folder) == saved
    assert not (folder / PREVIEW_FILE).exists()


def test_what_is_not_a_picture_is_refused_and_leaves_nothing(tmp_path):
    with pytest.raises(errors.UnexpectedResponseError):
        write_preview(Body.of(b"glTF not a picture"), tmp_path)
    assert list(tmp_path.iterdir()) == []


class PictureClient(Client):
    """A job that finishes at once with a model and the given picture."""

    name = "pictures"

    def __init__(self, picture):
        self.picture = picture

    def submit(self, job):
        return Submitted("r1")

    def poll(self, job):
        return RemoteStatus(Phase.SUCCEEDED, results=[
            ResultFile("m.glb", lambda: iter([b"glTF", b"\x00" * 10]))], picture=self.picture)


def run(tmp_path, picture, *, wait=True):
    journal = Journal(tmp_path / "jobs.sqlite")
    events = EventQueue()
    runner = Runner(journal, {"pictures": PictureClient(picture)}, tmp_path, events=events,
                    policy=PollPolicy(scale=0.01))
    runner.start()
    job = runner.submit("pictures", "op")
    done = runner.wait(job.id, timeout=10)
    return runner, journal, events, done


def test_the_services_picture_is_saved_as_the_preview_after_the_job_is_ready(tmp_path):
    runner, journal, _, done = run(tmp_path, ResultFile(
        "r.png", lambda: Body.of(png(6, 6)), PICTURE_KINDS))
    assert done.state == State.READY and done.result_files == ["m.glb"]
    assert runner.wait_picture(done.id, 10)
    runner.stop()
    journal.close()
    assert preview_path(tmp_path, "pictures", done.id).read_bytes() == png(6, 6)


def test_a_failing_picture_leaves_a_ready_job_without_a_preview(tmp_path):
    def broken():
        raise errors.ConnectionFailedError("the CDN is down", service="pictures")

    runner, journal, _, done = run(tmp_path, ResultFile("r.png", broken, PICTURE_KINDS))
    assert runner.wait_picture(done.id, 10) and not runner.picture_pending(done.id)
    runner.stop()
    assert journal.require(done.id).state == State.READY
    journal.close()
    assert not preview_path(tmp_path, "pictures", done.id).exists()


def test_the_job_is_ready_while_its_picture_is_still_coming(tmp_path):
    release = threading.Event()

    def slow():
        release.wait(10)
        return Body.of(png(3, 3))

    runner, journal, events, done = run(tmp_path, ResultFile("r.png", slow, PICTURE_KINDS))
    assert done.state == State.READY
    assert runner.picture_pending(done.id) and not runner.wait_picture(done.id, 0.05)
    journal.update(done.id, state=State.IMPORTED)  # the main thread imports it meanwhile
    events.drain(max_events=1000)
    release.set()
    assert runner.wait_picture(done.id, 10)
    # Nothing the picture's arrival says shows the job as ready again.
    assert [e.job.state for e in events.drain(max_events=1000)] == []
    runner.stop()
    journal.close()
    assert preview_path(tmp_path, "pictures", done.id).read_bytes() == png(3, 3)
