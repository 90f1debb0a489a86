"""Two Conjure processes on one journal, one of them stalled past its lease (a paused VM, a
debugger, a long import holding the GIL) while the other adopts its job.

Each runner has its own ``Journal`` on the shared file, as two processes do, and both read one
controllable clock, so a lease runs out when the test says and not after a wait. A runner is
stalled by holding it at a checkpoint; the service can hold a submit after counting it.
Judged: the service sees one submission per job, and the journal ends with its remote id.
"""

import threading
import time

import pytest

from conjure.jobs.journal import ClaimLost, Journal
from conjure.jobs.model import Job, State
from conjure.jobs.polling import PollPolicy
from conjure.jobs.runner import Runner
from support.fake_service import FakeClient, FakeService

#: Long enough that no lease runs out and no heartbeat (every third of it) fires by itself.
LEASE_S = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def run_out_leases(self) -> None:
        self.now += LEASE_S + 1


class Process:
    """One Conjure process: its journal object on the shared file and its runner, which can
    be stalled at the first pass of one checkpoint."""

    def __init__(self, tmp_path, clock, service, stall_at=None):
        self.journal = Journal(tmp_path / "jobs.sqlite", lease_s=LEASE_S, clock=clock)
        self.stall_at = stall_at
        self.stalled = threading.Event()
        self.wake = threading.Event()
        self._passed: dict[str, threading.Event] = {}
        self.runner = Runner(self.journal, {"fake": FakeClient(service.url)}, tmp_path,
                             policy=PollPolicy(scale=0.01), checkpoint=self.checkpoint)

    def passed(self, point):
        """Set once the runner passed the checkpoint ``point``."""
        return self._passed.setdefault(point, threading.Event())

    def checkpoint(self, point):
        self.passed(point).set()
        if point == self.stall_at and not self.stalled.is_set():
            self.stalled.set()
            assert self.wake.wait(30)

    def stop(self):
        self.wake.set()
        self.runner.stop()
        self.journal.close()


@pytest.fixture
def world(tmp_path):
    clock = Clock()
    with FakeService() as service:
        started = []

        def process(**kwargs):
            started.append(Process(tmp_path, clock, service, **kwargs))
            return started[-1]

        yield clock, service, process
        for p in started:
            p.stop()


def test_a_runner_that_stalled_before_writing_submitting_does_not_send_an_adopted_job(world):
    clock, service, process = world
    a, b = process(stall_at="before-submitting"), process()
    a.runner.start()
    job = a.runner.submit("fake", "create")
    assert a.stalled.wait(10)  # A has read the job as pending
    clock.run_out_leases()
    service.hold = "submit"
    b.runner.start()  # B adopts the job and sends it
    assert service.reached.wait(10)
    a.wake.set()  # A wakes while B's submit is out
    assert a.passed("claim-lost").wait(10)
    assert service.submissions == {job.id: 1}
    service.release()
    done = b.runner.wait(job.id, timeout=10)
    assert service.submissions == {job.id: 1}
    assert (done.state, done.remote_id) == (State.READY, "r0001")


def test_a_runner_that_stalled_after_claiming_does_not_give_up_a_job_another_is_sending(world):
    clock, service, process = world
    a, b = process(stall_at="claimed"), process()
    a.runner.start()
    job = a.runner.submit("fake", "create")
    assert a.stalled.wait(10)  # A holds the claim but has not read the job yet
    clock.run_out_leases()
    service.hold = "submit"
    b.runner.start()
    assert service.reached.wait(10)
    a.wake.set()  # A reads `submitting` (B's) and must not call it unknown
    assert a.passed("claim-lost").wait(10)
    assert a.journal.require(job.id).state == State.SUBMITTING
    service.release()
    done = b.runner.wait(job.id, timeout=10)
    assert service.submissions == {job.id: 1}
    assert (done.state, done.remote_id) == (State.READY, "r0001")


def test_an_answer_that_comes_after_the_job_was_given_up_keeps_its_remote_id(world):
    clock, service, process = world
    a, b = process(), process()
    service.hold = "submit"
    a.runner.start()
    job = a.runner.submit("fake", "create")
    assert service.reached.wait(10)  # A's submit is out; A stalls past its lease
    clock.run_out_leases()
    b.runner.start()  # B finds `submitting` with no live owner: it may or may not exist
    assert b.journal.require(job.id).state == State.UNKNOWN
    service.release()
    assert a.passed("after-remote-id").wait(10)
    done = a.runner.wait(job.id, timeout=10)
    assert service.submissions == {job.id: 1}
    assert (done.state, done.remote_id) == (State.READY, "r0001")


# -- the journal's compare-and-set ---------------------------------------------------------------

def test_a_write_for_a_job_another_runner_took_over_writes_nothing(tmp_path):
    clock = Clock()
    a = Journal(tmp_path / "j.sqlite", lease_s=LEASE_S, clock=clock)
    b = Journal(tmp_path / "j.sqlite", lease_s=LEASE_S, clock=clock)
    job = a.add(Job("fake", "create"))
    clock.run_out_leases()
    assert b.claim(job.id)
    with pytest.raises(ClaimLost, match="another Conjure process"):
        a.update_claimed(job.id, State.PENDING, state=State.SUBMITTING)
    assert b.require(job.id).state == State.PENDING


def test_a_write_expecting_a_state_the_job_left_writes_nothing(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    job = journal.add(Job("fake", "create"))
    journal.update_claimed(job.id, State.PENDING, state=State.SUBMITTING)
    with pytest.raises(ClaimLost, match="is submitting, not pending"):
        journal.update_claimed(job.id, State.PENDING, state=State.SUBMITTING, message="again")
    assert journal.require(job.id).message == ""
    journal.remove(job.id)
    with pytest.raises(ClaimLost, match="removed"):
        journal.update_claimed(job.id, State.SUBMITTING, message="x")


def test_a_claimed_write_renews_the_lease(tmp_path):
    clock = Clock()
    a = Journal(tmp_path / "j.sqlite", lease_s=LEASE_S, clock=clock)
    b = Journal(tmp_path / "j.sqlite", lease_s=LEASE_S, clock=clock)
    job = a.add(Job("fake", "create"))
    clock.now += LEASE_S - 1
    a.update_claimed(job.id, State.PENDING, message="still here")
    clock.now += 2  # past the first lease, within the renewed one
    assert not b.claim(job.id)


def test_only_an_unclaimed_unknown_job_without_remote_id_is_taken_back(tmp_path):
    clock = Clock()
    a = Journal(tmp_path / "j.sqlite", lease_s=LEASE_S, clock=clock)
    b = Journal(tmp_path / "j.sqlite", lease_s=LEASE_S, clock=clock)
    job = b.add(Job("fake", "create"))
    b.update_claimed(job.id, State.PENDING, state=State.SUBMITTING)
    answer = {"state": State.QUEUED, "remote_id": "r1"}
    assert a.take_back(job.id, **answer) is None  # still submitting, and held by b
    b.update_claimed(job.id, State.SUBMITTING, state=State.UNKNOWN)
    assert a.take_back(job.id, **answer) is None  # unknown, but b still holds it
    b.release(job.id)
    taken = a.take_back(job.id, **answer)
    assert (taken.state, taken.remote_id) == (State.QUEUED, "r1")
    assert a.update_claimed(job.id, State.QUEUED, state=State.RUNNING).state == State.RUNNING
    assert b.take_back(job.id, **answer) is None
