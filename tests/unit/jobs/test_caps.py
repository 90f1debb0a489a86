"""How many jobs go out at once: per service and per task group, a freed slot taken at once,
and enough threads for jobs that hold theirs."""

import threading
import time

import pytest

from conjure.jobs.journal import Journal
from conjure.jobs.model import State
from conjure.jobs.polling import PollPolicy
from conjure.jobs.runner import Runner
from conjure.providers.base import Client, Phase, RemoteStatus, ResultFile, SlotGroup, Submitted


class GatedClient(Client):
    """Jobs run until their gate (by ``params["n"]``) opens; ``slot_group`` from ``groups``."""

    name = "gated"
    max_active = 1

    def __init__(self, groups=None, hold_polls=False):
        self.groups = groups or {}
        self.hold_polls = hold_polls
        self.gates: dict[int, threading.Event] = {}
        self.sent: list[tuple[float, int]] = []

    def gate(self, n):
        return self.gates.setdefault(n, threading.Event())

    def slot_group(self, operation, params):
        return SlotGroup(*self.groups.get(operation, (self.name, self.max_active)))

    def submit(self, job):
        self.sent.append((time.monotonic(), job.params["n"]))
        return Submitted(f"r{job.params['n']}", RemoteStatus(Phase.RUNNING, poll_after=0.01))

    def poll(self, job):
        gate = self.gate(job.params["n"])
        if self.hold_polls:
            gate.wait(10)  # a step that holds its thread (as a held-open stream does)
        if gate.is_set():
            return RemoteStatus(Phase.SUCCEEDED, results=[
                ResultFile("m.glb", lambda: iter([b"glTF", b"\0" * 8]))])
        return RemoteStatus(Phase.RUNNING, poll_after=0.01)


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "jobs.sqlite")
    yield j
    j.close()


def start(journal, tmp_path, client, **kwargs):
    # Poll delays come from the client (poll_after); slot re-checks stay at their real 1 s.
    runner = Runner(journal, {"gated": client}, tmp_path, policy=PollPolicy(), **kwargs)
    runner.start()
    return runner


def holding(journal, jobs):
    return [j.params["n"] for j in jobs
            if journal.require(j.id).state in (State.SUBMITTING, State.QUEUED, State.RUNNING)]


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_each_task_group_has_its_own_cap(journal, tmp_path):
    client = GatedClient({"gen": ("generation", 2), "rig": ("animate", 1)})
    runner = start(journal, tmp_path, client)
    jobs = [runner.submit("gated", "gen", {"n": n}) for n in range(3)]
    jobs += [runner.submit("gated", "rig", {"n": n}) for n in (10, 11)]
    wait_for(lambda: len(client.sent) == 3)
    time.sleep(0.2)
    held = holding(journal, jobs)
    assert len([n for n in held if n < 10]) == 2 and len([n for n in held if n >= 10]) == 1
    waiting = [journal.require(j.id) for j in jobs if j.params["n"] not in held]
    assert [j.message for j in waiting if j.operation == "gen"] == [
        "Waiting: 2 gated generation jobs already running"]
    for n in (0, 1, 2, 10, 11):
        client.gate(n).set()
    wait_for(lambda: all(journal.require(j.id).state == State.READY for j in jobs))
    runner.stop()
    assert sorted(n for _, n in client.sent) == [0, 1, 2, 10, 11]


def test_a_freed_slot_is_taken_at_once(journal, tmp_path):
    client = GatedClient()
    runner = start(journal, tmp_path, client)
    first = runner.submit("gated", "gen", {"n": 1})
    wait_for(lambda: len(client.sent) == 1)
    second = runner.submit("gated", "gen", {"n": 2})
    wait_for(lambda: journal.require(second.id).message.startswith("Waiting"))
    time.sleep(0.1)  # the second job is in its 1 s wait for a slot
    freed = time.monotonic()
    client.gate(1).set()
    wait_for(lambda: len(client.sent) == 2)
    runner.stop()
    # Sent as soon as the first job left its slot, not at the next one-second look.
    assert client.sent[1][0] - freed < 0.9
    assert journal.require(first.id).state == State.READY


def test_jobs_holding_their_threads_leave_room_for_others(journal, tmp_path):
    client = GatedClient(hold_polls=True)
    client.max_active = 3
    runner = start(journal, tmp_path, client, workers=1)
    held = [runner.submit("gated", "gen", {"n": n}) for n in (1, 2)]
    wait_for(lambda: len(client.sent) == 2)
    client.gate(3).set()
    quick = runner.submit("gated", "gen", {"n": 3})
    wait_for(lambda: journal.require(quick.id).state == State.READY)
    for n in (1, 2):
        client.gate(n).set()
    wait_for(lambda: all(journal.require(j.id).state == State.READY for j in held))
    runner.stop()
