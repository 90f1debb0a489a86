import hashlib
import socket
import sqlite3
import threading
import time

import pytest

from conjure.jobs.events import EventQueue
from conjure.jobs.journal import Journal
from conjure.jobs.model import Job, State
from conjure.jobs.polling import PollPolicy
from conjure.jobs.results import SizeLimits
from conjure.jobs.runner import Runner
from conjure.providers import errors
from conjure.providers.base import Client, Phase, RemoteStatus, ResultFile, Submitted
from conjure.providers.http import NetworkSettings
from conjure.providers.prices import Charge
from support.fake_service import FakeClient, FakeService, result_digest

FAST = PollPolicy(scale=0.01)


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "jobs.sqlite")
    yield j
    j.close()


def make_runner(journal, tmp_path, providers, **kwargs):
    kwargs.setdefault("policy", FAST)
    runner = Runner(journal, providers, tmp_path, **kwargs)
    return runner


def test_a_job_runs_to_ready_with_its_file(journal, tmp_path):
    events = EventQueue()
    with FakeService() as service:
        runner = make_runner(journal, tmp_path, {"fake": FakeClient(service.url)},
                             events=events)
        runner.start()
        job = runner.submit("fake", "create", {"prompt": "a lamp"})
        done = runner.wait(job.id, timeout=10)
        runner.stop()
    assert done.state == State.READY, done.message
    assert done.remote_id == "r0001"
    assert done.result_files == ["model.glb"]
    path = tmp_path / "results" / "fake" / job.id / "model.glb"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == result_digest("r0001", "model.glb",
                                                                           service.size)
    states = []
    while not events.empty():
        for event in events.drain(max_events=1):
            if "state" in event.kinds:
                states.append(event.job.state)
    assert states[0] == State.PENDING and states[-1] == State.READY
    assert State.SUBMITTING in states and State.DOWNLOADING in states
    assert service.submissions == {job.id: 1}


def test_per_provider_limit_keeps_extra_jobs_pending(journal, tmp_path):
    with FakeService(polls_to_finish=6) as service:
        runner = make_runner(journal, tmp_path,
                             {"fake": FakeClient(service.url, max_active=2)}, workers=4)
        runner.start()
        jobs = [runner.submit("fake", "create", {"n": i}) for i in range(5)]
        peak = 0
        while not all(journal.require(j.id).finished for j in jobs):
            peak = max(peak, journal.count("fake", [State.SUBMITTING, State.QUEUED,
                                                    State.RUNNING]))
        runner.stop()
    assert peak == 2
    assert all(journal.require(j.id).state == State.READY for j in jobs)
    assert sum(service.submissions.values()) == 5


class ScriptedClient(Client):
    """A client whose submit raises or returns what the test says."""

    name = "scripted"

    def __init__(self, submit_outcomes, poll_outcomes=()):
        self.submit_outcomes = list(submit_outcomes)
        self.poll_outcomes = list(poll_outcomes)
        self.submits = 0
        self.submitted = threading.Event()
        self.cancelled = []

    def _next(self, outcomes):
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def submit(self, job):
        self.submits += 1
        self.submitted.set()
        return self._next(self.submit_outcomes)

    def poll(self, job):
        return self._next(self.poll_outcomes)

    def cancel(self, job):
        self.cancelled.append(job.remote_id)
        return True


def glb_file(name="m.glb"):
    return ResultFile(name, lambda: iter([b"glTF", b"\x00" * 10]))


def run_one(journal, tmp_path, service, **kwargs):
    runner = make_runner(journal, tmp_path, {"scripted": service}, **kwargs)
    runner.start()
    job = runner.submit("scripted", "op")
    done = runner.wait(job.id, timeout=10)
    runner.stop()
    return done


def test_read_timeout_on_submit_is_unknown_and_never_resent(journal, tmp_path):
    client = ScriptedClient([errors.TransientServiceError("ReadTimeout")])
    done = run_one(journal, tmp_path, client)
    assert done.state == State.UNKNOWN
    assert "not sent again" in done.message
    assert client.submits == 1


def test_refused_connection_is_retried_then_succeeds(journal, tmp_path):
    ok = Submitted("r1", RemoteStatus(Phase.SUCCEEDED, results=[glb_file()]))
    client = ScriptedClient([errors.ConnectionFailedError("refused"), ok])
    done = run_one(journal, tmp_path, client)
    assert done.state == State.READY
    assert client.submits == 2


def test_rate_limited_submit_waits_for_retry_after(journal, tmp_path):
    ok = Submitted("r1", RemoteStatus(Phase.SUCCEEDED, results=[glb_file()]))
    client = ScriptedClient([errors.RateLimitedError("429", retry_after=0.05), ok])
    done = run_one(journal, tmp_path, client)
    assert done.state == State.READY and client.submits == 2


def test_long_rate_limit_waits_are_not_failures(journal, tmp_path):
    ok = Submitted("r1", RemoteStatus(Phase.SUCCEEDED, results=[glb_file()]))
    waits = [errors.RateLimitedError("wait", retry_after=0.01) for _ in range(8)]
    client = ScriptedClient([*waits, ok])
    done = run_one(journal, tmp_path, client, max_failures=2)
    assert done.state == State.READY and client.submits == 9


def test_unreachable_service_is_given_up_after_max_failures(journal, tmp_path):
    client = ScriptedClient([errors.ConnectionFailedError("refused")])
    done = run_one(journal, tmp_path, client, max_failures=2,
                   policy=PollPolicy(scale=0.001))
    assert (done.state, done.error_code) == (State.FAILED, "connection_failed")
    assert client.submits == 3


def test_refused_submit_fails_with_the_service_reason(journal, tmp_path):
    client = ScriptedClient([errors.InsufficientCreditsError("top up", status=402)])
    done = run_one(journal, tmp_path, client)
    assert (done.state, done.error_code) == (State.FAILED, "insufficient_credits")
    assert "top up" in done.message


def test_remote_failure_is_recorded(journal, tmp_path):
    client = ScriptedClient([Submitted("r1")], [
        RemoteStatus(Phase.FAILED, message="content blocked", error_code="CONTENT_BLOCKED")])
    done = run_one(journal, tmp_path, client)
    assert (done.state, done.error_code, done.message) == (
        State.FAILED, "CONTENT_BLOCKED", "content blocked")


def test_the_charge_the_service_reports_is_recorded_with_the_finished_job(journal, tmp_path):
    ok = RemoteStatus(Phase.SUCCEEDED, results=[glb_file()], charge=Charge(30.0, "credits"))
    client = ScriptedClient([Submitted("r1")], [RemoteStatus(Phase.RUNNING), ok])
    done = run_one(journal, tmp_path, client)
    assert (done.state, done.charged, done.charge_unit, done.refunded) == (
        State.READY, 30.0, "credits", False)


def test_a_failed_and_refunded_job_is_recorded_as_refunded(journal, tmp_path):
    # Voxel-AI's way: the token is taken when the job is sent and given back when it fails.
    seen_after_submit = []
    taken = RemoteStatus(Phase.QUEUED, charge=Charge(1.0, "tokens"))
    given_back = RemoteStatus(Phase.FAILED, message="could not voxelize",
                              charge=Charge(0.0, "tokens", refunded=True))
    client = ScriptedClient([Submitted("r1", taken)], [given_back])

    def checkpoint(point):
        if point == "after-remote-id":
            seen_after_submit.extend((j.charged, j.refunded) for j in journal.jobs())

    done = run_one(journal, tmp_path, client, checkpoint=checkpoint)
    assert seen_after_submit == [(1.0, False)]
    assert (done.state, done.charged, done.charge_unit, done.refunded) == (
        State.FAILED, 0.0, "tokens", True)


def test_a_status_that_says_nothing_of_money_keeps_what_was_recorded(journal, tmp_path):
    taken = RemoteStatus(Phase.QUEUED, charge=Charge(1.0, "tokens"))
    ok = RemoteStatus(Phase.SUCCEEDED, results=[glb_file()])
    done = run_one(journal, tmp_path, ScriptedClient([Submitted("r1", taken)], [ok]))
    assert (done.state, done.charged, done.refunded) == (State.READY, 1.0, False)


def test_not_ready_then_expired_then_whole_file(journal, tmp_path):
    calls = []

    def opener():
        calls.append(1)
        if len(calls) == 1:
            raise errors.ResultNotReadyError("preparing", retry_after=0.01)
        if len(calls) == 2:
            raise errors.ResultExpiredError("expired", retry_after=0.01)
        return iter([b"glTF", b"1234"])

    status = RemoteStatus(Phase.SUCCEEDED, results=[ResultFile("m.glb", opener)])
    client = ScriptedClient([Submitted("r1")], [status])
    done = run_one(journal, tmp_path, client)
    assert done.state == State.READY and len(calls) == 3


def test_corrupt_result_fails_after_retries_keeping_the_remote_id(journal, tmp_path):
    bad = RemoteStatus(Phase.SUCCEEDED, results=[ResultFile("m.glb", lambda: iter([b"<html>"]))])
    client = ScriptedClient([Submitted("r9")], [bad])
    done = run_one(journal, tmp_path, client, max_failures=2)
    assert done.state == State.FAILED and done.error_code == "download_failed"
    assert "r9" in done.message


def test_a_result_over_the_limit_fails_at_once_and_downloads_again_once_raised(journal,
                                                                               tmp_path):
    with FakeService(size=256 * 1024) as service:
        runner = make_runner(journal, tmp_path, {"fake": FakeClient(service.url)},
                             limits=SizeLimits(models=100_000))
        runner.start()
        job = runner.submit("fake", "create", {"prompt": "a lamp"})
        failed = runner.wait(job.id, timeout=10)
        folder = tmp_path / "results" / "fake" / job.id
        assert (failed.state, failed.error_code) == (State.FAILED, "download_limit")
        assert failed.remote_id == "r0001"
        # Refused from the announced length, before anything was written.
        assert "model.glb is 0.26 MB, more than the 0.1 MB a model may be; raise Largest " \
               "Model" in failed.message
        assert "(remote job r0001): then press Download Again" in failed.message
        assert list(folder.glob("*")) == []  # not even a .part file
        with pytest.raises(ValueError, match="only a job whose result could not be downloaded"):
            runner.download_again(runner.submit("fake", "create", {}).id)

        runner.limits = SizeLimits()
        again = runner.download_again(job.id)
        assert again.state == State.DOWNLOADING and again.error_code is None
        done = runner.wait(job.id, timeout=10)
        runner.stop()
    assert done.state == State.READY, done.message
    assert done.result_files == ["model.glb"] and done.remote_id == "r0001"
    assert service.submissions[job.id] == 1  # downloaded again, never sent again
    path = folder / "model.glb"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == result_digest("r0001", "model.glb",
                                                                           service.size)


def test_stall_watchdog_reports_then_fails_per_policy(journal, tmp_path):
    client = ScriptedClient([Submitted("r1")], [RemoteStatus(Phase.RUNNING, progress=0.5)])
    policy = PollPolicy(scale=0.01, stall_after=0.2, on_stall="fail")
    done = run_one(journal, tmp_path, client, policy=policy)
    assert (done.state, done.error_code) == (State.FAILED, "stalled")
    assert "reports no change" in done.message


def test_stall_warning_keeps_polling(journal, tmp_path):
    client = ScriptedClient([Submitted("r1")], [RemoteStatus(Phase.RUNNING, progress=0.5)])
    runner = make_runner(journal, tmp_path, {"scripted": client},
                         policy=PollPolicy(scale=0.01, stall_after=0.1))
    runner.start()
    job = runner.submit("scripted", "op")
    seen = threading.Event()
    for _ in range(300):
        if "still waiting" in journal.require(job.id).message:
            seen.set()
            break
        threading.Event().wait(0.01)
    client.poll_outcomes = [RemoteStatus(Phase.SUCCEEDED, results=[glb_file()])]
    done = runner.wait(job.id, timeout=10)
    runner.stop()
    assert seen.is_set() and done.state == State.READY


def test_cancel_asks_the_service_and_records_the_outcome(journal, tmp_path):
    client = ScriptedClient([Submitted("r1")], [RemoteStatus(Phase.QUEUED)])
    runner = make_runner(journal, tmp_path, {"scripted": client})
    runner.start()
    job = runner.submit("scripted", "op")
    while journal.require(job.id).state != State.QUEUED:
        threading.Event().wait(0.01)
    runner.cancel(job.id)
    done = runner.wait(job.id, timeout=5)
    runner.stop()
    assert done.state == State.CANCELLED
    assert client.cancelled == ["r1"]
    assert "service stopped the job" in done.message


def test_cancel_refused_at_the_service_says_it_may_charge(journal, tmp_path):
    with FakeService(polls_to_finish=1000) as service:
        runner = make_runner(journal, tmp_path, {"fake": FakeClient(service.url)})
        runner.start()
        job = runner.submit("fake", "create")
        while service.jobs.get("r0001", {}).get("polls", 0) < 3:
            threading.Event().wait(0.01)
        runner.cancel(job.id)
        done = runner.wait(job.id, timeout=5)
        runner.stop()
    assert done.state == State.CANCELLED
    assert "may still finish and be charged" in done.message


def test_cancel_before_sending_sends_nothing(journal, tmp_path):
    client = ScriptedClient([Submitted("r1")])
    runner = make_runner(journal, tmp_path, {"scripted": client})
    job = runner.submit("scripted", "op")  # not started: stays pending
    runner.cancel(job.id)
    runner.start()
    done = runner.wait(job.id, timeout=5)
    runner.stop()
    assert done.state == State.CANCELLED and client.submits == 0


def test_resume_turns_interrupted_submit_into_unknown(journal, tmp_path):
    job = journal.add(Job("scripted", "op"), claim=False)
    journal.update(job.id, state=State.SUBMITTING)
    client = ScriptedClient([Submitted("r1")])
    runner = make_runner(journal, tmp_path, {"scripted": client})
    runner.start()
    runner.stop()
    assert journal.require(job.id).state == State.UNKNOWN
    assert client.submits == 0


def test_resume_continues_a_queued_job(journal, tmp_path):
    job = journal.add(Job("scripted", "op"), claim=False)
    journal.update(job.id, state=State.SUBMITTING)
    journal.update(job.id, state=State.QUEUED, remote_id="r7")
    client = ScriptedClient([Submitted("never")], [
        RemoteStatus(Phase.SUCCEEDED, results=[glb_file()])])
    runner = make_runner(journal, tmp_path, {"scripted": client})
    runner.start()
    done = runner.wait(job.id, timeout=5)
    runner.stop()
    assert done.state == State.READY and client.submits == 0


def test_offline_keeps_job_pending_without_sending(journal, tmp_path):
    client = ScriptedClient([errors.OfflineError("Online access is off")])
    runner = make_runner(journal, tmp_path, {"scripted": client})
    runner.start()
    job = runner.submit("scripted", "op")
    assert client.submitted.wait(10)
    runner.stop()  # after the worker's step, which records what happened
    stored = journal.require(job.id)
    assert stored.state == State.PENDING
    assert "Online access is off" in stored.message


def test_events_coalesce_per_job():
    events = EventQueue()
    a, b = Job("p", "o"), Job("p", "o")
    events.put(a, "state")
    for i in range(100):
        events.put(Job("p", "o", id=a.id, progress=i / 100), "progress")
    events.put(b, "state")
    drained = events.drain(budget_s=1.0)
    assert [e.job.id for e in drained] == [a.id, b.id]
    assert drained[0].kinds == {"state", "progress"}
    assert drained[0].job.progress == 0.99


def test_an_idle_single_worker_always_wakes_for_new_work(journal, tmp_path):
    # Every submit must reach the one idle worker (not another thread waiting nearby).
    client = ScriptedClient([Submitted("r1", RemoteStatus(Phase.SUCCEEDED,
                                                              results=[glb_file()]))])
    runner = make_runner(journal, tmp_path, {"scripted": client}, workers=1)
    runner.start()
    for _ in range(12):
        threading.Event().wait(0.05)  # let the worker go idle
        job = runner.submit("scripted", "op")
        assert runner.wait(job.id, timeout=3).state == State.READY
    runner.stop()


def test_submit_refused_by_the_client_itself_fails_rather_than_unknown(journal, tmp_path):
    client = ScriptedClient([errors.InvalidRequestError("image too large", field="image")])
    done = run_one(journal, tmp_path, client)
    assert (done.state, done.error_code) == (State.FAILED, "invalid_request")
    assert "image too large" in done.message
    assert client.submits == 1


def test_a_success_that_is_only_an_answer_is_ready_without_files(journal, tmp_path):
    answer = RemoteStatus(Phase.SUCCEEDED, message="Riggable as biped", no_files=True)
    done = run_one(journal, tmp_path, ScriptedClient([Submitted("r1", answer)]))
    assert (done.state, done.message, done.result_files) == (State.READY, "Riggable as biped",
                                                             [])


def test_a_success_without_files_is_still_an_error_unless_the_provider_says_so(journal,
                                                                               tmp_path):
    empty = RemoteStatus(Phase.SUCCEEDED)
    done = run_one(journal, tmp_path, ScriptedClient([Submitted("r1", empty)], [empty]),
                   max_failures=0)
    assert done.state == State.FAILED and "0 files" in done.message


def test_jobs_of_a_runner_that_went_away_are_adopted_when_its_lease_runs_out(tmp_path):
    journal = Journal(tmp_path / "jobs.sqlite", lease_s=0.3)
    job = journal.add(Job("scripted", "op"), claim=False)
    journal.update(job.id, state=State.SUBMITTING)
    journal.update(job.id, state=State.QUEUED, remote_id="r5")
    db = sqlite3.connect(journal.path)
    db.execute("UPDATE jobs SET owner = 'elsewhere:1::x', lease_until = ? WHERE id = ?",
               (time.time() + 0.5, job.id))
    db.commit()
    client = ScriptedClient([Submitted("never")], [
        RemoteStatus(Phase.SUCCEEDED, results=[glb_file()])])
    runner = make_runner(journal, tmp_path, {"scripted": client})
    assert runner.start() == []  # held by a live-looking runner elsewhere
    done = runner.wait(job.id, timeout=5)
    runner.stop()
    journal.close()
    assert done.state == State.READY and client.submits == 0


class UploadingClient(ScriptedClient):
    """Reports upload progress from inside submit, as a client streaming a file does."""

    def __init__(self, journal, outcomes):
        super().__init__(outcomes)
        self.journal = journal
        self.seen = []

    def submit(self, job):
        for sent in (0, 1_600_000, 4_000_000):
            self.on_upload(job.id, sent, 4_000_000)
            stored = self.journal.require(job.id)
            self.seen.append((stored.progress, stored.message))
        return super().submit(job)


def test_upload_progress_shows_on_the_submitting_job(journal, tmp_path):
    ok = Submitted("r1", RemoteStatus(Phase.SUCCEEDED, results=[glb_file()]))
    client = UploadingClient(journal, [ok])
    done = run_one(journal, tmp_path, client)
    assert done.state == State.READY
    # The first report is written, one a moment later is skipped, the last (complete) is.
    assert [p for p, _ in client.seen] == [0.0, 0.0, 1.0]
    assert client.seen[-1][1] == "Uploading 4.0 of 4.0 MB"


def closed_port():
    """A loopback port where nothing listens: a connection there never opens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_submit_reads_pending_while_it_waits_to_retry_a_connection_that_never_opened(
        journal, tmp_path):
    seen = []

    def state():
        [job] = journal.jobs()
        return job.state

    client = FakeClient(f"http://127.0.0.1:{closed_port()}",
                            settings=NetworkSettings(max_retries=2, backoff_base=0.0),
                            sleep=lambda seconds: seen.append(("wait", state())))
    send = client.http.session.request

    def recording_send(*args, **kwargs):
        seen.append(("send", state()))
        return send(*args, **kwargs)

    client.http.session.request = recording_send
    done = run_one(journal, tmp_path, client, max_failures=0)
    assert seen == [("send", State.SUBMITTING), ("wait", State.PENDING),
                    ("send", State.SUBMITTING), ("wait", State.PENDING),
                    ("send", State.SUBMITTING)]
    assert (done.state, done.error_code) == (State.FAILED, "connection_failed")


def test_a_submit_waiting_to_retry_sends_again_only_into_a_free_slot(journal, tmp_path):
    # While the job waits to retry, another process's job takes the service's only slot; it
    # frees the slot once the runner has been told to wait for it.
    elsewhere = Journal(journal.path)
    other = elsewhere.add(Job("fake", "create"))  # held by that process: never driven here
    sends, asked = [], []

    def take_the_slot(seconds):
        if len(sends) == 1:
            journal.update(other.id, state=State.SUBMITTING)

    client = FakeClient(f"http://127.0.0.1:{closed_port()}", max_active=1,
                            settings=NetworkSettings(max_retries=1, backoff_base=0.0),
                            sleep=take_the_slot)
    runner = make_runner(journal, tmp_path, {"fake": client}, max_failures=0)
    job = runner.submit("fake", "create")
    send, count = client.http.session.request, journal.count

    def recording_send(*args, **kwargs):
        sends.append(journal.require(other.id).state)
        return send(*args, **kwargs)

    def count_then_free_the_slot(*args):
        asked.append(journal.require(job.id).message)
        if asked[-1].startswith("Waiting:"):
            journal.update(other.id, state=State.FAILED)
        return count(*args)

    client.http.session.request = recording_send
    journal.count = count_then_free_the_slot
    runner.start()
    done = runner.wait(job.id, timeout=10)
    runner.stop()
    elsewhere.close()
    assert (done.state, done.error_code) == (State.FAILED, "connection_failed")
    # Sent once; not again while the other job held the slot; twice more once it was free.
    assert sends == [State.PENDING, State.FAILED, State.FAILED]
    assert "Waiting: 1 fake jobs already running" in asked


def test_cancel_ends_a_submit_waiting_to_retry_at_once(journal, tmp_path):
    waiting = threading.Event()

    def checkpoint(point):
        if point == "submit-not-sent":
            waiting.set()

    slow_retries = NetworkSettings(backoff_base=20.0, backoff_cap=20.0)
    client = FakeClient(f"http://127.0.0.1:{closed_port()}", settings=slow_retries)
    runner = make_runner(journal, tmp_path, {"fake": client}, checkpoint=checkpoint)
    runner.start()
    job = runner.submit("fake", "create")
    assert waiting.wait(10)  # the client is about to wait 20 s to retry
    assert journal.require(job.id).state == State.PENDING
    started = time.monotonic()
    runner.cancel(job.id)
    done = runner.wait(job.id, timeout=10)
    runner.stop()
    assert done.state == State.CANCELLED and "before it was sent" in done.message
    assert time.monotonic() - started < 3
