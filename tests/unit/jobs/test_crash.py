"""A runner process killed with SIGKILL at many points, then restarted.

Judged: no job is submitted twice, every job with a remote id finishes, and no result file is
lost or half-written under its final name.
"""

import hashlib
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conjure.jobs.journal import Journal
from conjure.jobs.model import State
from support.fake_service import FakeService, result_digest

CHILD = Path(__file__).resolve().parents[2] / "support" / "crash_child.py"
FILES = ("body.glb", "parts.glb")

# (where, nth time): client checkpoints make the child kill itself there; "server:*" holds the
# request inside the fake service and the test kills the child while it waits for the answer.
KILL_POINTS = [
    ("job-written", 1),
    ("before-submitting", 1),
    ("before-submit", 1),
    ("server:submit", 1),
    ("after-submit-response", 1),
    ("after-remote-id", 1),
    ("before-poll", 1),
    ("server:poll", 1),
    ("after-poll", 1),
    ("before-poll", 2),
    ("after-poll", 2),
    ("before-poll", 3),
    ("after-poll", 3),
    ("before-download", 1),
    ("download-chunk", 1),
    ("download-chunk", 2),
    ("server:download", 1),
    ("before-rename", 1),
    ("file-saved", 1),
    ("download-chunk", 5),
    ("download-chunk", 7),
    ("before-rename", 2),
    ("file-saved", 2),
    ("submit-not-sent", 1),
]

#: Points between writing ``submitting`` and writing the remote id: the job may or may not exist
#: at the service (for the last two it does), so it must end ``unknown``, never sent again.
SUBMIT_IN_FLIGHT = {("before-submit", 1), ("server:submit", 1), ("after-submit-response", 1)}


#: Points in the wait before a submit is tried again after a connection that never opened: the
#: first run's client is pointed where nothing listens, the restarted one at the service. The
#: job must resume ``pending`` and be sent exactly once.
NOT_SENT_YET = {("submit-not-sent", 1)}


def unreachable_url():
    with socket.socket() as s:  # a loopback port where nothing listens
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def run_child(tmp_path, url, *args, timeout=60):
    cmd = [sys.executable, str(CHILD), str(tmp_path / "jobs.sqlite"), str(tmp_path), url, *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.parametrize(("point", "nth"), KILL_POINTS, ids=[f"{p}-{n}" for p, n in KILL_POINTS])
def test_killed_runner_resumes_without_loss_or_double_submit(tmp_path, point, nth):
    with FakeService(size=4 * 64 * 1024, files=FILES) as service:
        if point.startswith("server:"):
            service.hold = point.split(":", 1)[1]
            child = run_child(tmp_path, service.url, "--submit")
            assert service.reached.wait(30), child.communicate(timeout=5)[0]
            child.send_signal(signal.SIGKILL)
            service.hold = None
        else:
            url = unreachable_url() if (point, nth) in NOT_SENT_YET else service.url
            child = run_child(tmp_path, url, "--submit", "--kill-at", point, "--nth", str(nth))
        out = child.communicate(timeout=60)[0].decode()
        assert child.returncode == -signal.SIGKILL, out
        if (point, nth) in NOT_SENT_YET:
            [killed] = Journal(tmp_path / "jobs.sqlite").jobs()
            assert killed.state == State.PENDING, killed.message

        restarted = run_child(tmp_path, service.url)
        out = restarted.communicate(timeout=60)[0].decode()
        assert restarted.returncode == 0, out

    journal = Journal(tmp_path / "jobs.sqlite")
    [job] = journal.jobs()
    assert max(service.submissions.values(), default=0) <= 1, "a job was submitted twice"
    folder = tmp_path / "results" / "fake" / job.id
    if (point, nth) in SUBMIT_IN_FLIGHT:
        assert job.state == State.UNKNOWN and job.remote_id is None
        assert service.submissions[job.id] == (0 if point == "before-submit" else 1)
        assert not folder.exists()
        return
    assert job.state == State.READY, job.message
    assert service.submissions[job.id] == 1
    assert job.remote_id is not None
    assert sorted(job.result_files) == sorted(FILES)
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES), "stray or missing files"
    for name in FILES:
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert digest == result_digest(job.remote_id, name, service.size)


def test_at_least_twenty_kill_points():
    assert len(set(KILL_POINTS)) >= 20
