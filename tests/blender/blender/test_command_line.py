"""``blender -c conjure ...`` run in-process through the registered command's function."""

import importlib
import json

import bpy
import pytest


@pytest.fixture
def cli(conjure):
    return importlib.import_module(f"{conjure.__name__}.blender.command_line")


def objects_in_blend(path):
    with bpy.data.libraries.load(str(path)) as (source, _):
        return list(source.objects)


def jobs_by_prompt(session):
    found = {}
    for job in session.get().journal.jobs(limit=500):
        text = job.params.get("task") or job.params.get("prompt") or job.params.get("image_url")
        found.setdefault(text, []).append(job)
    return found


def test_command_is_registered_with_blender(conjure):
    assert conjure.blender.command_line._handle is not None


def test_generate_writes_a_blend_with_the_model(cli, session, tripo, fresh_scene, tmp_path,
                                                capsys):
    out = tmp_path / "scene.blend"
    code = cli.main(["generate", "--provider", "TRIPO", "--prompt", "a stone gargoyle",
                     "--options", '{"face_limit": 5000}', "--output", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert f"CONJURE_OUTPUT={out}" in text and "[conjure] Tripo3D · Text to Model" in text
    job = session.get().journal.jobs(limit=1)[0]
    assert job.params == {"prompt": "a stone gargoyle", "face_limit": 5000}
    # The file holds the model alone (the command starts it from an empty file).
    names = objects_in_blend(out)
    assert names and set(names) == {ob.name for ob in bpy.data.objects
                                    if ob.get("conjure_job_id") == job.id}

    assert cli.main(["jobs"]) == 0
    listing = capsys.readouterr().out
    assert job.id in listing and "a stone gargoyle" in listing

    glb = tmp_path / "again.glb"
    assert cli.main(["import", job.id, "--output", str(glb)]) == 0
    assert glb.read_bytes()[:4] == b"glTF"


def test_usage_and_input_errors_exit_non_zero(cli, capsys):
    assert cli.main(["generate", "--provider", "TRIPO", "--output", "x.obj"]) == 2
    assert "error: --output must end in .blend or .glb" in capsys.readouterr().err
    assert cli.main(["generate", "--provider", "MESHY", "--prompt", "x",
                     "--output", "x.blend"]) == 2
    assert "usage:" in capsys.readouterr().err
    assert cli.main(["generate", "--provider", "TRIPO", "--prompt", "x", "--options", "{bad",
                     "--output", "x.blend"]) == 1
    assert "options: not valid JSON" in capsys.readouterr().err
    assert cli.main(["import", "no-such-job"]) == 1
    assert cli.main(["--help"]) == 0
    assert "batch" in capsys.readouterr().out


def test_batch_of_six_across_three_services_with_one_failure(cli, session, thrixel, tripo,
                                                            pixazo, fresh_scene, tmp_path,
                                                            capsys):
    rows = tmp_path / "prompts.csv"
    rows.write_text(
        "provider,prompt,mode,options\n"
        "THRIXEL,a brass telescope,,\n"
        "TRIPO,a wooden stool,,\"{\"\"face_limit\"\": 3000}\"\n"
        "PIXAL3D,,,\"{\"\"image_url\"\": \"\"https://example.com/chair.png\"\"}\"\n"
        "THRIXEL,a glass lantern,text,\n"
        # The forced failure: a picture link the service refuses (no host).
        "PIXAL3D,,,\"{\"\"image_url\"\": \"\"https:///broken.png\"\"}\"\n"
        "TRIPO,a copper kettle,,\n", encoding="utf-8")
    out = tmp_path / "out"
    code = cli.main(["batch", str(rows), "--concurrency", "3", "--output-dir", str(out)])
    text = capsys.readouterr().out
    assert code == 1, text
    assert "5/6 rows done" in text and "row 5 (line 6) FAILED" in text
    files = sorted(p.name for p in out.glob("*.blend"))
    assert len(files) == 5 and not any(name.startswith("005-") for name in files)
    manifest = json.loads((out / "conjure-batch.json").read_text())
    assert len(manifest["rows"]) == 6
    jobs = [session.get().journal.require(e["model_job_id"] or e["job_id"])
            for e in manifest["rows"].values() if e["output"]]
    assert len(jobs) == 5 and {j.state for j in jobs} == {"imported"}
    assert {j.service for j in jobs} == {"thrixel", "tripo", "pixal3d"}
    # Each file holds its own model only.
    seen = [set(objects_in_blend(out / name)) for name in files]
    assert all(seen)
    # The last row's model is in the open file (each row starts from an empty one), tagged.
    last = [ob for ob in bpy.data.objects if "conjure_job_id" in ob]
    assert last and {ob["conjure_job_id"] for ob in last} <= {j.id for j in jobs}

    # Re-running skips the finished rows: nothing paid for twice.
    before = {k: len(v) for k, v in jobs_by_prompt(session).items()}
    code = cli.main(["batch", str(rows), "--concurrency", "3", "--output-dir", str(out)])
    text = capsys.readouterr().out
    assert code == 1 and text.count("already done") == 5
    after = {k: len(v) for k, v in jobs_by_prompt(session).items()}
    for prompt in ("a brass telescope", "a wooden stool", "a glass lantern", "a copper kettle",
                   "https://example.com/chair.png"):
        assert after[prompt] == before[prompt], prompt  # nothing sent again


def test_batch_continues_an_unfinished_job_instead_of_submitting_again(
        conjure, cli, session, thrixel, sandbox, fresh_scene, tmp_path, capsys):
    batch = importlib.import_module(f"{conjure.__name__}.cli.batch")
    rows = tmp_path / "one.csv"
    rows.write_text("provider,prompt\nTHRIXEL,a music box\n", encoding="utf-8")
    out = tmp_path / "out"
    # A first run that died after submitting: the manifest has the job, which is still going.
    sandbox.add_key("thrixel", "sk-thrixel-batch-slow", faults="cold_start=1")
    thrixel.thrixel_key = "sk-thrixel-batch-slow"
    [row] = batch.read_rows(rows)
    job = session.submit("thrixel", "create", {"task": "a music box"})
    manifest = batch.Manifest(out)
    manifest.begin_submit(row, "thrixel", "create", {"task": "a music box"})
    manifest.submitted(row, job.id)
    count = len(session.get().journal.jobs())
    assert cli.main(["batch", str(rows), "--output-dir", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"continuing job {job.id}" in text and "submitted job" not in text
    assert len(session.get().journal.jobs()) == count
    assert session.get().journal.require(job.id).state == "imported"


def test_parts_and_a_focused_edit_from_the_command_line(cli, session, thrixel, sandbox,
                                                       fresh_scene, tmp_path, capsys):
    from support.fixtures import prompt_for

    out = tmp_path / "cart.blend"
    assert cli.main(["generate", "--provider", "THRIXEL", "--prompt",
                     prompt_for(sandbox, "delivery-cart-grouped"), "--output",
                     str(out)]) == 0
    source = session.get().journal.jobs(limit=1)[0]
    capsys.readouterr()
    assert cli.main(["parts", source.id]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["PART", "FACES"]
    assert listing[1].split() == ["CartBody", "280"]
    assert listing[-1] == "5 parts, 664 faces"

    # A typo is refused before anything is sent, with the real name suggested.
    sandbox.requests_seen.clear()
    assert cli.main(["edit", source.id, "--request", "red wheels", "--parts",
                     "WheelFrontLef"]) == 1
    assert "did you mean 'WheelFrontLeft'" in capsys.readouterr().err
    assert not [r for r in sandbox.requests_seen if r.startswith("POST")]

    edited = tmp_path / "edited.blend"
    assert cli.main(["edit", source.id, "--request", "red wheels", "--parts",
                     "WheelFrontLeft,WheelRearLeft", "--output", str(edited)]) == 0
    text = capsys.readouterr().out
    edit = session.get().journal.jobs(limit=1)[0]
    assert edit.params["focus_on_node_names"] == ["WheelFrontLeft", "WheelRearLeft"]
    assert "2 parts changed, 3 kept, 0 new, 0 gone" in text
    assert f"CONJURE_OUTPUT={edited}" in text
    # The file holds one model, the edit's, plus the kept version it replaced.
    with bpy.data.libraries.load(str(edited)) as (source_data, _):
        names = list(source_data.objects)
    assert len(names) == 10


def test_a_capped_batch_from_the_command_line_and_its_re_run_from_python(
        cli, session, tripo, fresh_scene, tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    rows.write_text("provider,prompt,options\n"
                    "TRIPO,a mug,\n"
                    "TRIPO,a crate,\"{\"\"quad\"\": true}\"\n"
                    "TRIPO,a lamp,\n")
    out = tmp_path / "out"
    code = cli.main(["batch", str(rows), "--output-dir", str(out), "--format", "glb",
                     "--max-cost", "TRIPO=45"])
    printed = capsys.readouterr().out
    assert code == 1, printed
    assert "[batch] estimate for 3 rows to send: about 65 credits (Tripo3D)" in printed
    assert "[batch] stopped at row 3" in printed and "1 rows left unsent (rows 3)" in printed
    assert sorted(p.name for p in out.glob("*.glb")) == ["001-tripo-a-mug.glb",
                                                         "002-tripo-a-crate.glb"]
    assert cli.run_batch(str(rows), output_dir=str(out), fmt="glb",
                         max_cost={"TRIPO": 45}) == 0
    assert "003-tripo-a-lamp.glb" in {p.name for p in out.glob("*.glb")}
    with pytest.raises(ValueError, match="max_cost"):
        cli.run_batch(str(rows), output_dir=str(out), max_cost="a lot")
