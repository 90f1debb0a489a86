"""A batch run driven with recorded steps and a journal of plain jobs: concurrency, candidates,
failures, and a re-run that pays for nothing twice."""

from pathlib import Path

from conjure.cli import batch
from conjure.cli.batch_run import BatchRun
from conjure.jobs.model import Job, State
from conjure.providers.base import SlotGroup
from conjure.workflow import sequence


class Jobs:
    """The session as the batch reads it: each submitted job finishes on the next tick."""

    def __init__(self, fail_prompts=(), slots=2):
        self.jobs: dict[str, Job] = {}
        self.fail_prompts = set(fail_prompts)
        self.slots = slots
        self.ticks = 0

    def slot_group(self, service, operation, params):
        return SlotGroup(service, self.slots)

    def tick(self):
        self.ticks += 1
        for job in self.jobs.values():
            if job.finished:
                continue
            if job.params.get("prompt") in self.fail_prompts:
                job.state, job.message = State.FAILED, "content blocked"
            else:
                job.state = State.READY
                job.remote_id = f"remote-{job.id}"
                job.result_files = (["candidate_0.png", "candidate_1.png"]
                                    if job.operation == "candidates" else ["model.glb"])
        return 0

    def get(self, job_id):
        return self.jobs.get(job_id)

    def recent(self, limit):
        return list(self.jobs.values())[:limit]


class Steps:
    def __init__(self, jobs: Jobs, run: BatchRun):
        self.jobs = jobs
        self.run = run
        self.written: list[Path] = []
        self.most_active = 0
        #: The pass (tick) of each import.
        self.imported_at: list[int] = []

    def submit(self, request):
        job = Job(service=request.service, operation=request.operation,
                  params=request.params, parent_id=request.parent_id)
        self.jobs.jobs[job.id] = job
        at_service = [j for j in self.jobs.jobs.values() if not j.finished]
        self.most_active = max(self.most_active, len(at_service))
        return job

    def wait(self, job_ids):
        raise AssertionError("a batch never blocks on one job")

    def result_paths(self, job):
        return [self.run.folder / name for name in job.result_files]

    def import_job(self, job):
        path = self.run.output_for(job)
        path.write_text(job.id)
        self.written.append(path)
        self.imported_at.append(self.jobs.ticks)
        return sequence.Imported(2, "collection")

    def tag(self, job, names):
        raise AssertionError("a batch uploads nothing")


def rows(tmp_path, text):
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text(text)
    return batch.read_rows(csv_path)


def run_batch(tmp_path, text, jobs, concurrency: int | None = 2, **money):
    folder = tmp_path / "out"
    folder.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    run = BatchRun(rows(tmp_path, text), folder, concurrency, "glb", out=lines.append, **money)
    steps = Steps(jobs, run)
    code = run.run(jobs, steps, timeout=30)
    return code, steps, lines


CSV = ("provider,prompt,candidate\n"
       "TRIPO,a stone gargoyle,\n"
       "TRIPO,a brass lamp,\n"
       "VOXELAI,a red barn,1\n")


def test_every_row_becomes_a_file_and_candidates_are_picked(tmp_path):
    jobs = Jobs()
    code, steps, lines = run_batch(tmp_path, CSV, jobs)
    assert code == 0
    assert sorted(p.name for p in steps.written) == [
        "001-tripo-a-stone-gargoyle.glb", "002-tripo-a-brass-lamp.glb",
        "003-voxelai-a-red-barn.glb"]
    voxelize = [j for j in jobs.jobs.values() if j.operation == "voxelize"]
    assert len(voxelize) == 1 and voxelize[0].params["image"].endswith("candidate_1.png")
    assert steps.most_active <= 2
    assert lines[-1] == "[batch] 3/3 rows done"


def test_a_failed_row_is_reported_and_the_others_finish(tmp_path):
    code, steps, lines = run_batch(tmp_path, CSV, Jobs(fail_prompts={"a brass lamp"}))
    assert code == 1 and len(steps.written) == 2
    assert any("row 2 (line 3) FAILED" in line and "content blocked" in line for line in lines)


def test_a_re_run_submits_nothing_that_already_finished(tmp_path):
    jobs = Jobs()
    run_batch(tmp_path, CSV, jobs)
    submitted = len(jobs.jobs)
    code, steps, lines = run_batch(tmp_path, CSV, jobs)
    assert code == 0 and len(jobs.jobs) == submitted and steps.written == []
    assert sum("already done" in line for line in lines) == 3


def test_a_row_the_service_cannot_take_fails_without_stopping_the_batch(tmp_path):
    code, steps, lines = run_batch(tmp_path, "provider,prompt\nNOPE,x\nTRIPO,a cup\n", Jobs())
    assert code == 1 and len(steps.written) == 1
    assert any("unknown service 'NOPE'" in line for line in lines)


PRICED = ("provider,prompt,options\n"
          "TRIPO,a mug,\n"                                  # 20 credits
          "TRIPO,a crate,\"{\"\"quad\"\": true}\"\n"          # 25
          "PIXAL3D,,\"{\"\"image_url\"\": \"\"https://example.com/a.png\"\"}\"\n"  # $0.42
          "TRIPO,a lamp,\n"                                 # 20: 65 in all
          "TRIPO,a vase,\n"                                 # 20 more would pass 70
          "TRIPO,a cup,\n")


def sent_prompts(jobs):
    return [j.params.get("prompt") or j.params.get("task") or j.params.get("image_url")
            for j in jobs.jobs.values()]


def test_the_estimate_comes_first_and_the_cap_stops_at_the_right_row(tmp_path):
    jobs = Jobs()
    code, steps, lines = run_batch(tmp_path, PRICED, jobs, concurrency=1,
                                   caps={"tripo": 70})
    assert lines[0] == ("[batch] estimate for 6 rows to send: about 105 credits (Tripo3D), "
                        "about $0.42 (Pixal3D (Pixazo))")
    assert lines[1] == "[batch] --max-cost: 70 for tripo"
    assert sent_prompts(jobs) == ["a mug", "a crate", "https://example.com/a.png", "a lamp"]
    assert any(line.startswith("[batch] stopped at row 5: about 20 credits more would pass "
                               "the 70 credits cap for Tripo3D (65 credits sent so far)")
               for line in lines)
    assert code == 1 and len(steps.written) == 4
    assert "[batch] 2 rows left unsent (rows 5, 6)" in lines[-1]

    # A re-run continues: what was done is skipped, the rest is sent under the same cap.
    code, steps, lines = run_batch(tmp_path, PRICED, jobs, concurrency=1,
                                   caps={"tripo": 70})
    estimate = lines.index("[batch] estimate for 2 rows to send: about 40 credits (Tripo3D)")
    assert estimate < min(i for i, line in enumerate(lines) if "submitted job" in line)
    assert code == 0 and sent_prompts(jobs)[4:] == ["a vase", "a cup"]


def test_one_cap_for_every_service_in_its_own_unit(tmp_path):
    jobs = Jobs()
    code, _, lines = run_batch(tmp_path, PRICED, jobs, concurrency=3, caps={"*": 45})
    # Tripo stops at 45 credits (the lamp would make 65); Pixazo's $0.42 is far under 45.
    assert sent_prompts(jobs) == ["a mug", "a crate", "https://example.com/a.png"]
    assert code == 1 and "rows left unsent (rows 4, 5, 6)" in lines[-1]


def test_a_row_without_a_known_price_stops_a_capped_batch_but_free_rows_pass(tmp_path):
    text = ("provider,prompt,candidate\n"
            "VOXELAI,a barn,0\n"          # free pictures, then 1 token for the pick
            "THRIXEL,a lantern,\n"        # metered by usage: no figure without the live list
            "TRIPO,a mug,\n")
    jobs = Jobs()
    code, _, lines = run_batch(tmp_path, text, jobs, concurrency=1, caps={"*": 100})
    assert sent_prompts(jobs)[:1] == ["a barn"] and "a lantern" not in sent_prompts(jobs)
    assert any("stopped at row 2: its price is unknown" in line for line in lines)
    assert code == 1

    live = {"thrixel": {"architect": 4.0}}
    jobs = Jobs()
    code, _, lines = run_batch(tmp_path / "again", text, jobs, concurrency=1, caps={"*": 100},
                               prices=lambda service: live.get(service, {}))
    assert lines[0] == ("[batch] estimate for 3 rows to send: about 4 Cubes (Thrixel), about 20 "
                        "credits (Tripo3D), about 1 token (Voxel-AI)")
    assert code == 0 and "a lantern" in sent_prompts(jobs)


def test_without_a_cap_everything_is_sent(tmp_path):
    jobs = Jobs()
    code, _, lines = run_batch(tmp_path, PRICED, jobs, concurrency=3)
    assert code == 0 and len(jobs.jobs) == 6
    assert not any("--max-cost" in line for line in lines)
def test_by_default_each_service_gets_as_many_rows_as_it_allows_at_once(tmp_path):
    text = "provider,prompt\n" + "".join(f"TRIPO,thing {n}\n" for n in range(7))
    jobs = Jobs(slots=3)
    code, steps, _ = run_batch(tmp_path, text, jobs, concurrency=None)
    assert code == 0 and len(steps.written) == 7
    assert steps.most_active == 3


def test_a_pass_carries_on_one_finished_job_however_many_finished_together(tmp_path):
    text = "provider,prompt\n" + "".join(f"TRIPO,thing {n}\n" for n in range(5))
    code, steps, _ = run_batch(tmp_path, text, Jobs(slots=5), concurrency=None)
    assert code == 0 and len(steps.written) == 5
    # All five finished on the same tick; each was imported in a pass of its own.
    assert len(set(steps.imported_at)) == 5
