"""The one workflow (submit → wait → pick → import) against recorded steps: every branch the
N-panel's pump, the blocking operators and the command line take."""

from pathlib import Path

import pytest

from conjure.jobs.model import Job, State
from conjure.workflow import requests, sequence
from conjure.workflow.sequence import Plan, Step


class RecordedSteps:
    """The Blender side, recorded: jobs finish as ``outcomes`` says when waited for."""

    def __init__(self, folder: Path, outcomes: dict[str, Job] | None = None) -> None:
        self.folder = folder
        self.outcomes = outcomes or {}
        self.submitted: list[requests.Request] = []
        self.waited: list[str] = []
        self.imported: list[str] = []
        self.tagged: list[tuple[str, tuple[str, ...]]] = []

    def submit(self, request):
        self.submitted.append(request)
        job = Job(service=request.service, operation=request.operation,
                  params=request.params, parent_id=request.parent_id)
        return job

    def wait(self, job_ids):
        self.waited += job_ids
        return [self.outcomes.get(job_id) or ready(Job(id=job_id, service="tripo",
                                                       operation="text_to_model"))
                for job_id in job_ids]

    def result_paths(self, job):
        return [self.folder / name for name in job.result_files]

    def import_job(self, job):
        self.imported.append(job.id)
        return sequence.Imported(3, f"Collection of {job.id}")

    def tag(self, job, names):
        self.tagged.append((job.id, names))
        return len(names)


def ready(job: Job, files=("model.glb",)) -> Job:
    job.state = State.READY
    job.remote_id = "remote-1"
    job.result_files = list(files)
    return job


def candidates_job(**fields) -> Job:
    return ready(Job(service="voxelai", operation="candidates", params={"prompt": "a barn"},
                     **fields), files=("candidate_0.png", "candidate_1.png", "candidate_2.png"))


def test_a_ready_model_is_imported(tmp_path):
    steps = RecordedSteps(tmp_path)
    job = Job(service="tripo", operation="text_to_model", params={"prompt": "a gargoyle"})
    outcome = sequence.run_to_end(job, Plan(), steps)
    assert outcome.ok and steps.imported == [job.id] and steps.waited == [job.id]
    assert outcome.message == f"Imported 3 objects from job {job.id} into Collection of {job.id}"
    assert steps.submitted == []


def test_a_result_applied_in_place_says_so(tmp_path):
    steps = RecordedSteps(tmp_path)
    summary = "Applied job e1 in place in Orrery: 2 parts changed, 4 kept, 0 new, 0 gone"
    steps.import_job = lambda job: sequence.Imported(6, "Orrery", summary=summary)
    job = Job(service="thrixel", operation="edit", params={"modification_request": "gold"})
    outcome = sequence.run_to_end(job, Plan(), steps)
    assert outcome.ok and outcome.message == summary


@pytest.mark.parametrize(("state", "words"), [
    (State.FAILED, "failed: out of credits"),
    (State.CANCELLED, "was cancelled: out of credits"),
    (State.UNKNOWN, "is in an unknown state: out of credits"),
])
def test_a_job_that_ended_without_a_result_is_reported_and_nothing_imported(tmp_path, state,
                                                                             words):
    job = Job(service="tripo", operation="text_to_model", state=state,
              message="out of credits")
    steps = RecordedSteps(tmp_path, {job.id: job})
    outcome = sequence.run_to_end(job, Plan(), steps)
    assert not outcome.ok and outcome.message == f"Tripo3D job {job.id} {words}"
    assert steps.imported == [] and steps.submitted == []


def test_candidates_without_an_index_are_offered_not_paid_for(tmp_path):
    job = candidates_job()
    steps = RecordedSteps(tmp_path, {job.id: job})
    outcome = sequence.run_to_end(job, Plan(), steps)
    assert outcome.ok and "pick_candidate" in outcome.message and str(tmp_path) in outcome.message
    assert steps.submitted == [] and steps.imported == []


def test_a_candidate_index_voxelizes_that_picture_then_imports_the_model(tmp_path):
    job = candidates_job()
    steps = RecordedSteps(tmp_path, {job.id: job})
    plan = Plan(candidate=1, candidate_options={"voxel_size": 64})
    outcome = sequence.run_to_end(job, plan, steps)
    [request] = steps.submitted
    assert (request.service, request.operation, request.parent_id) == ("voxelai", "voxelize",
                                                                        job.id)
    assert request.params["image"] == str(tmp_path / "candidate_1.png")
    assert request.params["voxel_size"] == 64
    assert outcome.ok and steps.imported == [steps.waited[1]] and len(steps.waited) == 2


def test_a_candidate_index_out_of_range_is_refused_in_words(tmp_path):
    job = candidates_job()
    with pytest.raises(ValueError, match="from 0 to 2, got 5"):
        sequence.run_to_end(job, Plan(candidate=5), RecordedSteps(tmp_path, {job.id: job}))


def test_a_failed_model_job_after_a_pick_is_reported(tmp_path):
    job = candidates_job()

    class FailingModel(RecordedSteps):
        def wait(self, job_ids):
            if job_ids == [job.id]:
                return [job]
            failed = Job(id=job_ids[0], service="voxelai", operation="voxelize",
                         state=State.FAILED, message="picture refused")
            return [failed]

    outcome = sequence.run_to_end(job, Plan(candidate=0), FailingModel(tmp_path))
    assert not outcome.ok and outcome.message.endswith("failed: picture refused")


def test_an_upload_tags_the_objects_it_sent_instead_of_importing(tmp_path):
    job = Job(service="thrixel", operation="upload", state=State.READY, remote_id="s-9",
              result_files=["model.glb"])
    steps = RecordedSteps(tmp_path, {job.id: job})
    outcome = sequence.run_to_end(job, Plan(uploaded=("Cube", "Lamp")), steps)
    assert steps.tagged == [(job.id, ("Cube", "Lamp"))] and steps.imported == []
    assert outcome.message == f"Uploaded 2 objects as Thrixel job {job.id} (s-9)"


def test_a_follow_up_result_is_imported_like_a_new_model(tmp_path):
    parent = ready(Job(service="thrixel", operation="create", params={"task": "a lamp"}))
    request = requests.follow_up_request("thrixel", "edit", parent_remote_id="s-1",
                                         parent_job_id=parent.id, prompt="make it blue",
                                         parts="lantern_glass")
    steps = RecordedSteps(tmp_path)
    job = steps.submit(request)
    assert job.parent_id == parent.id
    outcome = sequence.run_to_end(job, Plan(), steps)
    assert outcome.ok and steps.imported == [job.id]


def test_re_import_from_the_local_copy_needs_an_imported_or_ready_model(tmp_path):
    imported = ready(Job(service="tripo", operation="text_to_model"))
    imported.state = State.IMPORTED
    sequence.check_importable(imported, [tmp_path / "model.glb"])
    assert sequence.decide(imported, Plan()) == Step.IMPORT
    running = Job(service="tripo", operation="text_to_model", state=State.RUNNING)
    assert sequence.decide(running, Plan()) == Step.WAIT
    with pytest.raises(ValueError, match="is running, so it has no result"):
        sequence.check_importable(running, [])
    answer = ready(Job(service="tripo", operation="check_riggable"), files=())
    with pytest.raises(ValueError, match="an answer, not a file"):
        sequence.check_importable(answer, [])
    with pytest.raises(ValueError, match="candidate pictures, not a model"):
        sequence.check_importable(candidates_job(), [tmp_path / "candidate_0.png"])


def test_advance_waits_on_a_running_job(tmp_path):
    running = Job(service="tripo", operation="text_to_model", state=State.QUEUED)
    assert sequence.advance(running, Plan(), RecordedSteps(tmp_path)) is None


def test_collection_names_say_service_prompt_and_job():
    job = Job(service="tripo", operation="text_to_model", id="abcdef123456",
              params={"prompt": "a stone gargoyle"})
    assert sequence.collection_name(job) == "Tripo3D: a stone gargoyle (abcdef)"


def test_unexpected_errors_say_so_and_user_errors_speak_for_themselves():
    assert sequence.message(ValueError("index: pick 0 to 2")) == "index: pick 0 to 2"
    assert "please report this" in sequence.message(ZeroDivisionError("x"))
