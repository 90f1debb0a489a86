import json
import time

import pytest

from support import package

package.install()

from conjure.cli import batch  # noqa: E402
from conjure.jobs.model import Job, State  # noqa: E402


def write_csv(tmp_path, text):
    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_with_optional_columns(tmp_path):
    path = write_csv(tmp_path, 'provider,prompt,mode,options\n'
                               'TRIPO,a gargoyle,,"{""face_limit"": 5000}"\n'
                               '\n'
                               'thrixel,"a chair, wooden",text,\n')
    rows = batch.read_rows(path)
    assert [(r.number, r.service, r.prompt, r.mode, r.options) for r in rows] == [
        (1, "TRIPO", "a gargoyle", "", '{"face_limit": 5000}'),
        (2, "thrixel", "a chair, wooden", "text", "")]
    assert rows[1].line == 4
    assert rows[1].output_name("blend") == "002-thrixel-a-chair-wooden.blend"


@pytest.mark.parametrize("text, message", [
    ("prompt\nx\n", "missing provider"),
    ("provider,prompt,colour\nTRIPO,x,red\n", "unknown column 'colour'"),
    ("provider,prompt\n", "no rows"),
    ("provider,prompt,candidate\nVOXELAI,x,first\n", "line 2: candidate"),
])
def test_bad_csv_names_the_problem(tmp_path, text, message):
    with pytest.raises(batch.BatchError, match=message):
        batch.read_rows(write_csv(tmp_path, text))


def test_row_key_is_stable_and_content_bound():
    a = batch.Row(1, "TRIPO", "x")
    assert a.key == batch.Row(1, "tripo", "x", line=9).key
    assert a.key != batch.Row(1, "TRIPO", "y").key
    assert a.key != batch.Row(2, "TRIPO", "x").key


def test_manifest_survives_a_new_process(tmp_path):
    row = batch.Row(1, "TRIPO", "x")
    m = batch.Manifest(tmp_path)
    m.begin_submit(row, "tripo", "text_to_model", {"prompt": "x"})
    m.submitted(row, "job1")
    m.wrote(row, "001.blend")
    again = batch.Manifest(tmp_path)
    entry = again.entry(row)
    assert (entry.job_id, entry.output, entry.params) == ("job1", "001.blend", {"prompt": "x"})
    (tmp_path / batch.MANIFEST).write_text("{broken")
    with pytest.raises(batch.BatchError, match="damaged"):
        batch.Manifest(tmp_path)


def job(state, **kw):
    return Job(service="tripo", operation="text_to_model", params={"prompt": "x"},
               state=State(state), **kw)


@pytest.mark.parametrize("state, has_output, action", [
    ("queued", False, batch.WAIT),
    ("pending", False, batch.WAIT),
    ("downloading", False, batch.WAIT),
    ("ready", False, batch.IMPORT),
    ("imported", False, batch.IMPORT),
    ("imported", True, batch.DONE),
    ("failed", False, batch.SUBMIT),
    ("cancelled", False, batch.SUBMIT),
    ("unknown", False, batch.STUCK),
])
def test_plan_never_submits_a_row_whose_job_may_still_deliver(state, has_output, action):
    row = batch.Row(1, "TRIPO", "x")
    found = job(state)
    entry = batch.Entry(job_id=found.id, output="001.blend")
    got, got_job = batch.plan(row, entry, {found.id: found}.get, lambda p: has_output)
    assert got == action and got_job is found


def test_plan_follows_the_model_job_of_a_candidates_row():
    images, model = job("ready"), job("running")
    entry = batch.Entry(job_id=images.id, model_job_id=model.id)
    table = {images.id: images, model.id: model}
    assert batch.plan(batch.Row(1, "VOXELAI", "x"), entry, table.get, lambda p: False) == (
        batch.WAIT, model)


def test_plan_submits_rows_without_a_job():
    entry = batch.Entry()
    assert batch.plan(batch.Row(1, "TRIPO", "x"), entry, lambda i: None, lambda p: False) == (
        batch.SUBMIT, None)


def test_adopt_finds_the_job_an_interrupted_submit_wrote():
    started = time.time()
    entry = batch.Entry(submit_started=started, service="tripo", operation="text_to_model",
                        params={"prompt": "x"})
    older = job("queued", created_at=started - 60)
    other = Job(service="tripo", operation="text_to_model", params={"prompt": "y"},
                created_at=started + 1)
    mine = job("queued", created_at=started + 0.5)
    assert batch.adopt(entry, [other, older, mine]) is mine
    assert batch.adopt(entry, [other, older]) is None
    entry.job_id = "known"
    assert batch.adopt(entry, [mine]) is None


def test_summary_exit_code():
    rows = [batch.Row(i, "TRIPO", "x", line=i + 1) for i in (1, 2)]
    text, code = batch.summary([batch.Outcome(rows[0], True, "ok"),
                                batch.Outcome(rows[1], False, "tripo: no credits")])
    assert code == 1 and "1/2 rows done" in text and "row 2 (line 3) FAILED: tripo: no" in text
    assert batch.summary([batch.Outcome(rows[0], True, "ok")])[1] == 0


def test_manifest_is_json_a_person_can_read(tmp_path):
    row = batch.Row(1, "TRIPO", "x")
    m = batch.Manifest(tmp_path)
    m.submitted(row, "j")
    data = json.loads((tmp_path / batch.MANIFEST).read_text())
    assert data["rows"][row.key]["job_id"] == "j"
