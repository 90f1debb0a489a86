"""Retry: a job that ended without a result is sent again as exactly one new job with the same
inputs; one that reached the service is sent only after a question saying whether it was
charged, one that never reached it without a question."""

import hashlib
import json
import time
import urllib.request
from types import SimpleNamespace

import bpy
import pytest


def submissions(sandbox, key):
    """Thrixel submissions the sandbox holds for ``key`` (its public API)."""
    request = urllib.request.Request(
        sandbox.service_url("thrixel") + "/api/v1/submissions?limit=100",
        headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["submissions"]


def newest(session):
    return session.get().journal.jobs(limit=1)[0]


@pytest.fixture(autouse=True)
def _leaves_no_jobs(session, thrixel):
    """The jobs a test made leave the journal once they are finished (while the sandbox's
    Thrixel is still the one configured), so tests that count the journal's recent jobs never
    meet them."""
    before = {job.id for job in session.get().journal.jobs(limit=500)}
    yield
    for job in session.get().journal.jobs(limit=500):
        if job.id not in before:
            wait_until_finished(session, job.id)
            session.get().journal.remove(job.id)


def wait_until_finished(session, job_id, timeout=30):
    deadline = time.monotonic() + timeout
    while not session.get().journal.require(job_id).finished:
        assert time.monotonic() < deadline, f"job {job_id} never finished"
        session.tick()
        time.sleep(0.02)


@pytest.fixture
def own_key(thrixel, sandbox, request):
    """A Thrixel key of this test's own, so its submissions are counted alone."""
    # A digest, not the test's name: words of a key are masked wherever they appear.
    key = f"sk-thrixel-retry-{hashlib.sha256(request.node.name.encode()).hexdigest()[:12]}"
    sandbox.add_key("thrixel", key)
    thrixel.thrixel_key = key
    return key


def test_a_failed_job_is_sent_again_once_with_the_same_inputs(session, sandbox, own_key,
                                                              fresh_scene):
    sandbox.set_faults("thrixel", own_key, "fail=LLM_SERVER_ERROR")
    with pytest.raises(RuntimeError, match="failed"):
        bpy.ops.conjure.generate(provider="THRIXEL", prompt="a weathered bronze bell")
    failed = newest(session)
    assert failed.state == "failed" and failed.remote_id
    assert len(submissions(sandbox, own_key)) == 1
    sandbox.set_faults("thrixel", own_key, None)

    assert bpy.ops.conjure.retry_job(job_id=failed.id) == {"FINISHED"}

    assert len(submissions(sandbox, own_key)) == 2  # exactly one new submission
    again = newest(session)
    assert again.id != failed.id and again.state == "imported"
    assert (again.service, again.operation, again.params, again.parent_id) == \
        (failed.service, failed.operation, failed.params, failed.parent_id)
    assert session.job(failed.id).state == "failed"  # the failed one stays as it was
    assert [ob for ob in bpy.data.objects if ob.get("conjure_job_id") == again.id]


@pytest.fixture
def in_a_window(mod, monkeypatch):
    """The panel's button in a window, where ``invoke`` may ask before it sends (the bpy
    module has no window, so ``INVOKE_DEFAULT`` would run ``execute``): ``press(job_id)``
    invokes the operator; the questions it asks are recorded and answered "no"."""
    base = mod("operators.base")
    retry = mod("operators.jobs").CONJURE_OT_retry_job
    asked = []
    monkeypatch.setattr(base, "interactive", lambda context: True)
    monkeypatch.setattr(base, "confirm", lambda op, context, event, title, question, yes: (
        asked.append((title, question, yes)) or {"CANCELLED"}))

    def press(job_id):
        op = SimpleNamespace(job_id=job_id, background_job=False, report=lambda *args: None)
        op.again = lambda job_id: retry.again(op, job_id)
        op.execute = lambda context: retry.execute(op, context)
        return retry.invoke(op, bpy.context, None)

    return SimpleNamespace(press=press, asked=asked)


def wait_for_remote_id(session, job_id, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = session.get().journal.require(job_id)
        if job.remote_id or job.finished:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} was never sent")


def test_a_job_that_never_reached_the_service_is_sent_without_a_question(
        session, mod, sandbox, own_key, fresh_scene, in_a_window):
    model = mod("jobs.model")
    never = model.Job("thrixel", "create", {"task": "a tin lantern"}, state=model.State.FAILED,
                      error_code="connection_failed", message="Thrixel could not be reached")
    session.get().journal.add(never, claim=False)
    assert in_a_window.press(never.id) == {"FINISHED"}
    assert in_a_window.asked == []
    again = wait_for_remote_id(session, newest(session).id)
    assert again.id != never.id and again.params == never.params
    assert [s["submission_id"] for s in submissions(sandbox, own_key)] == [again.remote_id]


def test_a_job_that_reached_the_service_asks_first_saying_what_it_was_charged(
        session, mod, sandbox, own_key, fresh_scene, in_a_window):
    model = mod("jobs.model")
    reached = model.Job("thrixel", "create", {"task": "a clay pot"}, state=model.State.FAILED,
                        remote_id="sub_elsewhere", error_code="transient", charged=3.0,
                        charge_unit="Cubes", message="Thrixel lost the job on its workers")
    session.get().journal.add(reached, claim=False)
    assert in_a_window.press(reached.id) == {"CANCELLED"}
    [(title, question, yes)] = in_a_window.asked
    assert title == "Send this job again?" and yes == "Send Again"
    assert question.startswith("Charged 3 Cubes.") and "a new job" in question
    assert submissions(sandbox, own_key) == []  # asked, and answered no: nothing sent
    assert newest(session).id == reached.id


def test_only_jobs_that_ended_without_a_result_are_sent_again(session, mod, own_key):
    model = mod("jobs.model")
    done = model.Job("thrixel", "create", {"task": "a cup"}, state=model.State.IMPORTED,
                     remote_id="sub_done")
    session.get().journal.add(done, claim=False)
    with pytest.raises(RuntimeError, match="only a job that failed"):
        bpy.ops.conjure.retry_job(job_id=done.id)
