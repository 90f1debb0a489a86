"""Pipelines: the installed extension in ``blender -b``, where no timer or modal runs and
generation takes the blocking path; exit codes tell a pipeline whether it worked."""

import json

from app.harness import EXTENSION, UserFolder, submissions

#: What a pipeline script does with Conjure today: submit through the session, pump until the
#: job is done, import, save. Values come from the environment so the text stays fixed.
GENERATE = f"""
import bpy, importlib, json, os
session = importlib.import_module("{EXTENSION}.blender.session")
scene = importlib.import_module("{EXTENSION}.blender.scene_import")
bpy.context.preferences.system.use_online_access = True
prefs = bpy.context.preferences.addons["{EXTENSION}"].preferences
prefs.thrixel_url = os.environ["SANDBOX_THRIXEL"]
prefs.thrixel_key = os.environ["THRIXEL_KEY"]
job = session.submit("thrixel", "create", {{"task": "a brass teapot with a dragon spout"}})
[job] = session.run_blocking([job.id], timeout=120)
try:
    assert job.state == "ready", f"job ended {{job.state}}: {{job.message}}"
    objects = scene.import_result(bpy.context, service=job.service, job_id=job.id,
                                  remote_id=job.remote_id or "", paths=session.result_paths(job))
    session.mark_imported(job)
    bpy.ops.wm.save_as_mainfile(filepath=os.environ["OUT"])
    print("CONJURE_RESULT", json.dumps({{"job": job.id, "remote_id": job.remote_id,
                                         "objects": len(objects)}}))
finally:
    session.shutdown()
"""

#: Reopens the saved file: lineage must survive saving, since it is how a user finds a model's
#: job again.
READ_BACK = """
import bpy, json
print("CONJURE_LINEAGE", json.dumps([
    {k: ob[k] for k in ("conjure_provider", "conjure_job_id", "conjure_remote_id")}
    for ob in bpy.data.objects if "conjure_job_id" in ob]))
"""


def _line(output: str, tag: str):
    lines = [ln for ln in output.splitlines() if ln.startswith(tag + " ")]
    assert lines, f"no {tag} line in:\n{output[-3000:]}"
    return json.loads(lines[-1].split(" ", 1)[1])


def _generate(user: UserFolder, sandbox, key: str):
    out = user.base / "generated.blend"
    proc = user.blender(["-b", "--python-exit-code", "1", "--python-expr", GENERATE], env={
        "SANDBOX_THRIXEL": sandbox.service_url("thrixel"), "THRIXEL_KEY": key,
        "OUT": user.target.path(out)}, timeout=180)
    return proc, out


def test_python_expr_generates_imports_and_saves(user, sandbox):
    key = f"sk-thrixel-app-headless-{user.target.name}"
    sandbox.add_key("thrixel", key)
    proc, out = _generate(user, sandbox, key)
    assert proc.returncode == 0, proc.stdout[-3000:]
    result = _line(proc.stdout, "CONJURE_RESULT")
    assert result["objects"] > 0
    # run_blocking prints progress lines: the pipeline's log shows the job moving.
    ready = "[conjure] Thrixel · Create · Ready to import · took "
    assert any(line.startswith(ready) and line.endswith(f"(job {result['job']})")
               for line in proc.stdout.splitlines()), proc.stdout[-3000:]
    assert [s["submission_id"] for s in submissions(sandbox, key)] == [result["remote_id"]]

    proc = user.blender(["-b", user.target.path(out), "--python-exit-code", "1",
                         "--python-expr", READ_BACK])
    assert proc.returncode == 0, proc.stdout[-3000:]
    lineage = _line(proc.stdout, "CONJURE_LINEAGE")
    assert len(lineage) == result["objects"]
    assert all(item == {"conjure_provider": "thrixel", "conjure_job_id": result["job"],
                        "conjure_remote_id": result["remote_id"]} for item in lineage), lineage


def test_a_failed_generation_fails_the_blender_process(user, sandbox):
    # --python-exit-code turns the script's error into Blender's exit status; without it
    # Blender exits 0 and a pipeline would carry on with nothing.
    key = f"sk-thrixel-app-refused-{user.target.name}"
    sandbox.add_key("thrixel", key, faults="fail")
    proc, out = _generate(user, sandbox, key)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "job ended failed" in proc.stdout, proc.stdout[-3000:]
    assert not out.exists()


#: The operator's blocking path, as a technical artist or a pipeline script calls it.
OPERATOR = f"""
import bpy, json, os
bpy.context.preferences.system.use_online_access = True
prefs = bpy.context.preferences.addons["{EXTENSION}"].preferences
prefs.thrixel_url = os.environ["SANDBOX_THRIXEL"]
prefs.thrixel_key = os.environ["THRIXEL_KEY"]
result = bpy.ops.conjure.generate(provider="THRIXEL", prompt="a copper weathervane")
assert result == {{"FINISHED"}}, result
print("CONJURE_LINEAGE", json.dumps([
    {{k: ob[k] for k in ("conjure_provider", "conjure_job_id", "conjure_remote_id")}}
    for ob in bpy.data.objects if "conjure_job_id" in ob]))
"""


def test_generate_operator_blocks_until_the_model_is_in_the_scene(user, sandbox):
    key = f"sk-thrixel-app-operator-{user.target.name}"
    sandbox.add_key("thrixel", key)
    proc = user.blender(["-b", "--python-exit-code", "1", "--python-expr", OPERATOR], env={
        "SANDBOX_THRIXEL": sandbox.service_url("thrixel"), "THRIXEL_KEY": key}, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:]
    lineage = _line(proc.stdout, "CONJURE_LINEAGE")
    [remote] = [s["submission_id"] for s in submissions(sandbox, key)]
    assert lineage and {item["conjure_remote_id"] for item in lineage} == {remote}, lineage


def _cli(user, sandbox, key: str, args: list[str]):
    """``blender -b -c conjure ...`` configured as a pipeline would: environment variables."""
    return user.blender(["-b", "--online-mode", "-c", "conjure", *args], env={
        "CONJURE_THRIXEL_URL": sandbox.service_url("thrixel"), "CONJURE_THRIXEL_KEY": key},
        timeout=240)


def _saved_lineage(user, blend) -> list[dict]:
    proc = user.blender(["-b", user.target.path(blend), "--python-exit-code", "1",
                         "--python-expr", READ_BACK])
    assert proc.returncode == 0, proc.stdout[-3000:]
    return _line(proc.stdout, "CONJURE_LINEAGE")


def test_command_line_generate_writes_the_blend(user, sandbox):
    key = f"sk-thrixel-app-cli-{user.target.name}"
    sandbox.add_key("thrixel", key)
    out = user.base / "cli.blend"
    proc = _cli(user, sandbox, key, ["generate", "--provider", "thrixel", "--prompt",
                                     "a wicker picnic basket", "--output",
                                     user.target.path(out)])
    assert proc.returncode == 0, proc.stdout[-3000:]
    [remote] = [s["submission_id"] for s in submissions(sandbox, key)]
    lineage = _saved_lineage(user, out)
    assert lineage and {item["conjure_remote_id"] for item in lineage} == {remote}, lineage


def test_command_line_generate_fails_with_a_refused_job(user, sandbox):
    key = f"sk-thrixel-app-cli-refused-{user.target.name}"
    sandbox.add_key("thrixel", key, faults="fail")
    out = user.base / "cli.blend"
    proc = _cli(user, sandbox, key, ["generate", "--provider", "thrixel", "--prompt",
                                     "a wicker picnic basket", "--output",
                                     user.target.path(out)])
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert not out.exists()


def test_command_line_batch_runs_every_row_once(user, sandbox):
    key = f"sk-thrixel-app-batch-{user.target.name}"
    sandbox.add_key("thrixel", key)
    rows = ["a stone birdbath", "a brass telescope", "a clay teapot"]
    csv = user.base / "prompts.csv"
    csv.write_text("provider,prompt\n" + "".join(f"thrixel,{r}\n" for r in rows))
    out = user.base / "batch"
    proc = _cli(user, sandbox, key, ["batch", user.target.path(csv), "--output-dir",
                                     user.target.path(out)])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert len(submissions(sandbox, key)) == len(rows)
    blends = sorted(out.glob("*.blend"))
    assert len(blends) == len(rows), (blends, proc.stdout[-3000:])


#: A service with no picture of its own (Pixal3D): the blocking path renders the preview from
#: the model in the scene, in ``blender -b`` without a display.
PREVIEW = f"""
import bpy, importlib, json, os, time
session = importlib.import_module("{EXTENSION}.blender.session")
results = importlib.import_module("{EXTENSION}.jobs.results")
bpy.context.preferences.system.use_online_access = True
prefs = bpy.context.preferences.addons["{EXTENSION}"].preferences
prefs.pixazo_url = os.environ["SANDBOX_PIXAZO"]
prefs.pixazo_key = os.environ["PIXAZO_KEY"]
started = time.monotonic()
result = bpy.ops.conjure.generate(provider="PIXAL3D", image_url="https://example.com/vase.png")
assert result == {{"FINISHED"}}, result
job = session.running().journal.jobs(limit=1)[0]
path = results.preview_path(session.running().root, job.service, job.id)
head = path.read_bytes()[:24] if path.is_file() else b""
print("CONJURE_PREVIEW", json.dumps({{"state": str(job.state), "png": head[:8].hex(),
      "size": [int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")]}}))
"""


def test_a_preview_is_rendered_without_a_display(user, sandbox):
    key = f"pixazo-app-preview-{user.target.name}"
    sandbox.add_key("pixazo", key)
    proc = user.blender(["-b", "--python-exit-code", "1", "--python-expr", PREVIEW], env={
        "SANDBOX_PIXAZO": sandbox.service_url("pixazo"), "PIXAZO_KEY": key}, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:]
    preview = _line(proc.stdout, "CONJURE_PREVIEW")
    assert preview == {"state": "imported", "png": "89504e470d0a1a0a", "size": [256, 256]}, (
        preview, proc.stdout[-3000:])
