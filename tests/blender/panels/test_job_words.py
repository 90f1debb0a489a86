"""The Jobs panel in an artist's words, from real jobs: operations by their titles, the time
left a service reports, and the ids in *Details*, with one Copy."""

import time

import bpy
import pytest


@pytest.fixture
def jobs_panel(mod):
    return mod("panels.jobs")


@pytest.fixture(autouse=True)
def _quick(quick_polling):
    yield


def wait_until(session, job_id, check, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.tick()
        job = session.get().journal.require(job_id)
        if check(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never got there ({job.state}, eta {job.eta_s})")


def active_row(session, job_id):
    runtime = bpy.context.window_manager.conjure
    runtime.active_index = session.get().index[job_id]
    return runtime.jobs[runtime.active_index]


@pytest.fixture
def real_time_tripo(tripo):
    """Tripo3D at its real pace (seconds queued, half a minute running), so a job is seen
    running with the time it has left."""
    from sandbox import DEFAULT_KEYS, start_sandbox

    with start_sandbox(speed="real") as slow:
        tripo.tripo_url, tripo.tripo_key = slow.service_url("tripo"), DEFAULT_KEYS["tripo"]
        yield slow


def test_a_running_tripo_job_shows_its_title_elapsed_time_and_time_left(
        session, real_time_tripo, jobs_panel, paint, recorder, fresh_scene):
    job = session.submit("tripo", "text_to_model", {"prompt": "a weathered bronze bell"})
    wait_until(session, job.id, lambda j: j.state == "running" and j.eta_s, timeout=90)
    row = active_row(session, job.id)
    text = paint(jobs_panel.CONJURE_PT_jobs).text()
    bars = " ".join(e[2] for e in paint(jobs_panel.CONJURE_PT_jobs).log if e[0] == "progress")
    assert "Tripo3D · Text to Model · Running" in text, text
    assert "a weathered bronze bell" in text  # the prompt in full where it is read
    assert "Running for " in text
    assert " left" in bars + text, bars + text  # Tripo's running_left_time, in words
    listed = recorder()
    jobs_panel.CONJURE_UL_jobs.draw_item(None, bpy.context, listed, None, row, 0, None,
                                         "active_index", 0)
    assert listed.log[0][1] == "Text to Model"
    session.cancel(job.id)
    wait_until(session, job.id, lambda j: j.finished)


def test_a_failed_job_in_sentences_with_its_codes_in_details(
        session, thrixel, sandbox, jobs_panel, paint, fresh_scene):
    key = "sk-thrixel-words-failed"
    sandbox.add_key("thrixel", key, faults="fail=LLM_SERVER_ERROR")
    thrixel.thrixel_key = key
    job = session.submit("thrixel", "create", {"task": "a weathered bronze bell"})
    [failed] = session.run_blocking([job.id], timeout=60, echo=lambda line: None)
    assert failed.state == "failed"
    active_row(session, job.id)
    layout = paint(jobs_panel.CONJURE_PT_jobs)
    text = layout.text()
    assert "Thrixel · Create · Failed" in text
    assert "Thrixel's language model failed; generate again later." in text
    assert "Retry sends it again" in text
    for raw in ("LLM_SERVER_ERROR", "transient", "Error code", failed.remote_id, job.id):
        assert raw not in text, raw
    [retry] = layout.ops("conjure.retry_job")
    [remove] = layout.ops("conjure.remove_job")
    assert retry[2].job_id == remove[2].job_id == job.id
    assert not layout.ops("conjure.copy_text")  # Details starts closed
    runtime = bpy.context.window_manager.conjure
    runtime.job_details_open = True
    try:
        details = paint(jobs_panel.CONJURE_PT_jobs)
    finally:
        runtime.job_details_open = False
    [(_, _, copy, label, _)] = details.ops("conjure.copy_text")
    assert label == "Copy Details"
    assert copy.text.splitlines() == [
        f"Job: {job.id}", f"Remote: {failed.remote_id}", "Error: transient",
        "Service said: LLM_SERVER_ERROR, The language model returned an error."]
    assert copy.text.replace("\n", " ") in details.text()
