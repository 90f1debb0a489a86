"""The runner times a job's polls by the best estimate of its end: the service's ETA, the rate
of its progress figure, or how long the service's last jobs of the kind took."""

import time

import pytest

from conjure.jobs.journal import Journal
from conjure.jobs.model import Job, State
from conjure.jobs.polling import PollPolicy
from conjure.jobs.runner import Runner
from conjure.providers.base import Client, Phase, RemoteStatus


class Quiet(Client):
    name = "quiet"

    def submit(self, job):
        raise AssertionError("not sent in these tests")

    def poll(self, job):
        raise AssertionError("not polled in these tests")


@pytest.fixture
def runner(tmp_path):
    journal = Journal(tmp_path / "jobs.sqlite")
    yield Runner(journal, {"quiet": Quiet()}, tmp_path, policy=PollPolicy(jitter=0.0))
    journal.close()


def running_job(runner, age):
    job = runner.journal.add(Job("quiet", "make", created_at=time.time() - age))
    for state in (State.SUBMITTING, State.QUEUED, State.RUNNING):
        job = runner.journal.update(job.id, state=state)
    return job


def test_the_services_eta_is_the_expected_end(runner):
    job = running_job(runner, 10)
    expected = runner._expected_end(job, RemoteStatus(Phase.RUNNING, eta_s=3.0), 10.0)
    assert expected == pytest.approx(13.0)
    # The next poll comes just before that end.
    delay = runner._after_status(job, runner.clients["quiet"],
                                 RemoteStatus(Phase.RUNNING, eta_s=3.0))
    lead = runner.policy.near_lead
    assert delay == pytest.approx(13.0 - (time.time() - job.created_at) - lead, abs=0.05)


def test_the_progress_rate_gives_the_expected_end(runner):
    job = running_job(runner, 20)
    watch = runner._watch_of(job.id)
    watch.first_progress = (time.time() - 8.0, 0.1)
    expected = runner._expected_end(job, RemoteStatus(Phase.RUNNING, progress=0.5), 20.0)
    # 0.4 in 8 s: the other half takes 10 s more.
    assert expected == pytest.approx(30.0, abs=0.05)


def test_progress_that_did_not_move_gives_no_estimate(runner):
    job = running_job(runner, 20)
    runner._watch_of(job.id).first_progress = (time.time() - 8.0, 0.5)
    assert runner._expected_end(job, RemoteStatus(Phase.RUNNING, progress=0.5), 20.0) is None


def test_earlier_jobs_of_the_kind_time_the_next_one(runner):
    earlier = running_job(runner, 40)
    runner._after_status(earlier, runner.clients["quiet"],
                         RemoteStatus(Phase.SUCCEEDED, took_s=30.0, no_files=True))
    assert runner.durations.typical("quiet", "make") == 30.0
    job = running_job(runner, 5)
    assert runner._expected_end(job, RemoteStatus(Phase.QUEUED), 5.0) is None  # not sent here
    runner._watch_of(job.id).sent_at = job.created_at + 1.0
    assert runner._expected_end(job, RemoteStatus(Phase.QUEUED), 5.0) == pytest.approx(31.0)


def test_the_expected_end_is_written_as_the_jobs_time_left(runner):
    # The panel and the console say what the polls are timed by: the service's ETA ...
    job = running_job(runner, 10)
    runner._after_status(job, runner.clients["quiet"], RemoteStatus(Phase.RUNNING, eta_s=3.0))
    assert runner.journal.require(job.id).eta_s == pytest.approx(3.0, abs=0.1)
    # ... else the rate of its progress figure ...
    job = running_job(runner, 20)
    runner._watch_of(job.id).first_progress = (time.time() - 8.0, 0.1)
    runner._after_status(job, runner.clients["quiet"], RemoteStatus(Phase.RUNNING, progress=0.5))
    assert runner.journal.require(job.id).eta_s == pytest.approx(10.0, abs=0.1)
    # ... else how long the last jobs of the kind took; nothing once the estimate has passed.
    runner.durations.add("quiet", "make", 30.0)
    job = running_job(runner, 5)
    runner._watch_of(job.id).sent_at = job.created_at
    runner._after_status(job, runner.clients["quiet"], RemoteStatus(Phase.QUEUED))
    assert runner.journal.require(job.id).eta_s == pytest.approx(25.0, abs=0.1)
    late = running_job(runner, 50)
    runner._watch_of(late.id).sent_at = late.created_at
    runner._after_status(late, runner.clients["quiet"], RemoteStatus(Phase.RUNNING))
    assert runner.journal.require(late.id).eta_s is None
