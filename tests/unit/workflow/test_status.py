from conjure.jobs.model import Job, State
from conjure.providers import registry
from conjure.workflow import status


def test_durations_and_timing_are_labelled():
    assert [status.duration(s) for s in (5, 65, 3725)] == ["5 s", "1 min 05 s", "1 h 02 min"]
    assert status.timing("running", 100, 0, 42, now=112) == "Running for 12 s · about 40 s left"
    assert status.timing("queued", 100, 0, now=175) == "Queued for 1 min 15 s"
    assert status.timing("ready", 100, 160, 30, now=9999) == "Took 1 min 00 s"
    assert status.timing("running", 0, 0) == ""


def test_time_left_is_rounded_as_an_estimate_and_counts_down():
    assert [status.about(s) for s in (4, 42, 150, 5400)] == [
        "a few seconds left", "about 40 s left", "about 2 min left", "about 1.5 h left"]
    # Estimated 40 s left at t=1000: 28 s left at t=1012, nothing once it has run out.
    assert status.time_left("running", 40, 1000, now=1012) == 28
    assert status.time_left("running", 40, 1000, now=1041) is None
    assert status.time_left("running", -1, 1000, now=1012) is None
    assert status.time_left("failed", 40, 1000, now=1012) is None


def test_a_jobs_estimate_counts_down_from_when_it_was_written():
    job = Job("tripo", "text_to_model", state=State.RUNNING, eta_s=33.0, updated_at=100)
    assert status.job_time_left(job, now=110) == 23
    job.state = State.READY
    assert status.job_time_left(job, now=110) is None


def test_state_icons_cover_every_state_and_none_looks_like_a_control():
    assert status.state_icon("failed") == "ERROR"
    assert status.state_icon("nonsense") == "QUESTION"
    assert set(status.STATE_ICONS) == set(State) == set(status.STATE_WORDS)
    controls = {"CHECKBOX_HLT", "CHECKBOX_DEHLT", "PLAY", "PAUSE", "RADIOBUT_ON", "X"}
    assert not controls & set(status.STATE_ICONS.values())


def test_operations_are_named_by_their_declared_titles():
    assert status.headline("tripo", "text_to_model", "running") == \
        "Tripo3D · Text to Model · Running"
    assert status.headline("thrixel", "refine", "imported") == "Thrixel · Auto-refine · Imported"
    for service in ("thrixel", "tripo", "pixal3d", "voxelai"):
        for op in registry.operations(service):
            assert status.operation_title(service, op.name) == op.label
    assert status.operation_title("tripo", "gone_op") == "Gone op"
    assert status.operation_title("nowhere", "x") == "X"


def test_service_codes_leave_the_sentence_for_details():
    message = ("Thrixel's language model failed; generate again later (LLM_SERVER_ERROR, "
               "The language model returned an error.)")
    said, code = status.plain_message(message)
    assert said == "Thrixel's language model failed; generate again later."
    assert code == "LLM_SERVER_ERROR, The language model returned an error."
    assert status.plain_message("kept (as it is)") == ("Kept (as it is).", "")
    found = status.details([("Job", "8791a86085"), ("Remote", ""), ("Node", "Door")],
                           "transient", message)
    assert found == [("Job", "8791a86085"), ("Node", "Door"), ("Error", "transient"),
                     ("Service said", "LLM_SERVER_ERROR, The language model returned an "
                                      "error.")]
    assert status.details_text(found).splitlines()[0] == "Job: 8791a86085"


def test_outcomes_say_whether_the_job_was_charged_and_what_to_do():
    failed = " ".join(status.explain("tripo", "failed", "tripo: the model failed (E_1)",
                                     "task-1", "Refunded: nothing spent"))
    assert failed.startswith("Tripo3D: the model failed. Refunded: nothing spent.")
    assert "E_1" not in failed and "Retry" in failed
    never = " ".join(status.explain("tripo", "failed", "no key", "", ""))
    assert "never reached Tripo3D, so nothing was charged" in never
    unknown = " ".join(status.explain("thrixel", "unknown", "interrupted", "", ""))
    assert "may have received it and charged for it" in unknown
    lost = " ".join(status.explain("tripo", "failed", "Result not saved", "task-1",
                                   "Charged 30 credits", "download_failed"))
    assert "Charged 30 credits." in lost and "Retry" not in lost  # Download Again instead
    done = status.explain("tripo", "imported", "Imported", "task-1", "Charged 30 credits")
    assert done == ["Imported.", "Charged 30 credits."]


def test_retry_is_for_jobs_that_ended_without_a_result():
    assert status.can_retry("failed", "task-1", "transient")
    assert status.can_retry("unknown", "", "submit_unanswered")
    assert not status.can_retry("failed", "task-1", "download_failed")  # Download Again
    assert not status.can_retry("running", "task-1", "")
    assert not status.can_retry("imported", "task-1", "")
    assert status.reached_service("failed", "task-1") and status.reached_service("unknown", "")
    assert not status.reached_service("failed", "")


def test_progress_lines_name_the_operation_and_the_time_left():
    job = Job("tripo", "text_to_model", id="abc123", state=State.RUNNING, progress=0.42,
              created_at=100, updated_at=110, eta_s=42, message="Running (LLM_X_Y)")
    line = status.progress_line(job, now=112)
    assert line == ("[conjure] Tripo3D · Text to Model · Running 42% for 12 s · "
                    "about 40 s left (job abc123)")  # the message only repeated the state
    job.state, job.updated_at, job.message = State.READY, 130, "Ready to import"
    assert status.progress_line(job) == (
        "[conjure] Tripo3D · Text to Model · Ready to import · took 30 s (job abc123)")
    job.message = "Assembling (LLM_X_Y)"
    assert status.progress_line(job).endswith("took 30 s · Assembling (job abc123)")
    assert status.progress_key(job) == ("ready", 42, "Assembling (LLM_X_Y)")


def test_jobs_of_other_files_say_where_they_were_started():
    here = "/work/castle.blend"
    assert status.started_elsewhere(here, here) is None
    assert status.started_elsewhere("/work/lamp.blend", here) == "Started in lamp.blend"
    assert status.started_elsewhere("unsaved:1a2b", here) == \
        "Started in a file that was never saved"
    assert status.started_elsewhere("", here) == "Started in an earlier session"
