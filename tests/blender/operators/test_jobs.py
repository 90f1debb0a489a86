"""Job operators, the pump's auto-import driven by hand, resume after a restart, and no key in
a saved .blend."""

import importlib
import time

import bpy
import pytest


@pytest.fixture
def pump(conjure):
    return importlib.import_module(f"{conjure.__name__}.blender.pump")


def conjure_objects(job_id):
    return [ob for ob in bpy.data.objects if ob.get("conjure_job_id") == job_id]


def wait_for(session, job_id, states, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = session.get().journal.require(job_id)
        if job.state in states:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} still {job.state}")


def tick_until_settled(session, pump, limit=100):
    """The pump imports one due job per tick (a tick must stay short); earlier tests may have
    left other ready jobs that a restart offers too."""
    for _ in range(limit):
        pump.tick()
        if not session.due():
            return
    raise AssertionError("the pump never ran out of jobs to import")


def test_cancel_a_queued_job(session, thrixel, sandbox, fresh_scene):
    # A long cold start keeps the job queued at the service long enough to cancel it.
    sandbox.add_key("thrixel", "sk-thrixel-cold", faults="cold_start=30")
    thrixel.thrixel_key = "sk-thrixel-cold"
    job = session.submit("thrixel", "create", {"task": "a slow statue"})
    wait_for(session, job.id, {"queued", "running"})
    assert bpy.ops.conjure.cancel_job(job_id=job.id) == {"FINISHED"}
    done = wait_for(session, job.id, {"cancelled"})
    assert "ancel" in done.message
    with pytest.raises(RuntimeError, match="already ended"):
        bpy.ops.conjure.cancel_job(job_id=job.id)
    with pytest.raises(RuntimeError, match="has no result to import"):
        bpy.ops.conjure.import_result(job_id=job.id)
    assert not conjure_objects(job.id)


def test_reimport_from_cache_after_the_result_url_expired(session, tripo, sandbox, fresh_scene):
    assert bpy.ops.conjure.generate(provider="TRIPO", prompt="a clay pot") == {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    first = conjure_objects(job.id)
    # An hour later the service's signed links have expired (the sandbox refuses them), and
    # this machine is even offline: the re-import reads only the local copy.
    sandbox.state._wall_offset += 3600
    bpy.context.preferences.system.use_online_access = False
    try:
        assert bpy.ops.conjure.import_result(job_id=job.id) == {"FINISHED"}
    finally:
        sandbox.state._wall_offset -= 3600
        bpy.context.preferences.system.use_online_access = True
    again = [ob for ob in conjure_objects(job.id) if ob not in first]
    assert len(again) == len(first)
    assert {ob["conjure_node_name"] for ob in again} == {ob["conjure_node_name"] for ob in first}
    assert len({c for ob in again for c in ob.users_collection}) == 1


def test_a_result_over_the_limit_downloads_again_once_the_preference_is_raised(
        session, thrixel, mod, fresh_scene):
    results = mod("jobs.results")
    # Smaller than any model: the preference's smallest (1 MB) is larger than the sandbox's.
    session.get().runner.limits = results.SizeLimits(models=100)
    try:
        job = session.submit("thrixel", "create", {"task": "a brass key"})
        [failed] = session.run_blocking([job.id], timeout=60, echo=lambda line: None)
        assert (failed.state, failed.error_code) == ("failed", "download_limit"), failed.message
        assert "Largest Model" in failed.message and failed.remote_id in failed.message
        folder = results.job_folder(session.user_dir(), "thrixel", job.id)
        assert not list(folder.glob("*"))
        # Raising the limit in the preferences reaches the runner.
        thrixel.download_max_model_mb = 1500
        assert session.get().runner.limits.models == 1500 * results.MB
        assert bpy.ops.conjure.download_again(job_id=job.id) == {"FINISHED"}
    finally:
        thrixel.property_unset("download_max_model_mb")
        session.settings_changed()
    done = session.get().journal.require(job.id)
    assert done.state == "imported" and done.remote_id == failed.remote_id
    assert conjure_objects(job.id)
    with pytest.raises(RuntimeError, match="only a job whose result could not be downloaded"):
        bpy.ops.conjure.download_again(job_id=job.id)


def test_remove_keeps_the_files_and_refuses_running_jobs(session, thrixel, sandbox,
                                                         fresh_scene):
    job = session.submit("thrixel", "create", {"task": "a spoon"})
    [done] = session.run_blocking([job.id], timeout=30, echo=lambda line: None)
    paths = session.result_paths(done)
    assert bpy.ops.conjure.open_result_folder(job_id=done.id, dry_run=True) == {"FINISHED"}
    assert bpy.ops.conjure.remove_job(job_id=done.id) == {"FINISHED"}
    assert session.get().journal.get(done.id) is None
    assert all(p.is_file() for p in paths)
    assert done.id not in {item.job_id for item in bpy.context.window_manager.conjure.jobs}
    with pytest.raises(RuntimeError, match="No job"):
        bpy.ops.conjure.import_result(job_id=done.id)

    sandbox.add_key("thrixel", "sk-thrixel-cold2", faults="cold_start=30")
    thrixel.thrixel_key = "sk-thrixel-cold2"
    running = session.submit("thrixel", "create", {"task": "a fork"})
    wait_for(session, running.id, {"queued", "running"})
    with pytest.raises(RuntimeError, match="cancel it first"):
        bpy.ops.conjure.remove_job(job_id=running.id)
    session.cancel(running.id)


def ticks_until(pump, condition, limit=100):
    """Pump ticks until ``condition``: each tick reads only as much of the jobs' news as its
    time budget allows, so a loaded machine may need a few."""
    for _ in range(limit):
        if condition():
            return
        pump.tick()
    assert condition()


def test_pump_tick_imports_a_job_that_became_ready(session, pump, thrixel, fresh_scene):
    job = session.submit("thrixel", "create", {"task": "a weather vane"})
    session.follow(job.id)  # what the interactive invoke() does
    wait_for(session, job.id, {"ready"})
    assert not conjure_objects(job.id)  # nothing imports until the main thread ticks
    ticks_until(pump, lambda: conjure_objects(job.id))
    objects = conjure_objects(job.id)
    assert objects and all(ob.select_get() for ob in objects)
    assert session.get().journal.require(job.id).state == "imported"
    item = {i.job_id: i for i in bpy.context.window_manager.conjure.jobs}[job.id]
    ticks_until(pump, lambda: item.state == "imported")  # the event reaches the mirror
    pump.tick()
    assert len(conjure_objects(job.id)) == len(objects)  # and nothing is imported again


def test_blocking_jobs_are_not_imported_again_by_the_pump(session, pump, thrixel, fresh_scene):
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a bell") == {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    count = len(conjure_objects(job.id))
    pump.tick()
    pump.tick()
    assert len(conjure_objects(job.id)) == count


def test_after_a_restart_ready_jobs_are_offered_and_auto_imported(session, pump, thrixel,
                                                                  fresh_scene):
    job = session.submit("thrixel", "create", {"task": "a compass"})
    wait_for(session, job.id, {"ready"})
    session.shutdown()  # Blender quits before the result was imported
    started = time.perf_counter()
    running = session.get()  # ... and starts again
    assert time.perf_counter() - started < 1.0, "start-up must not wait on the network"
    assert job.id in running.offered and job.id in running.autoimport
    item = {i.job_id: i for i in bpy.context.window_manager.conjure.jobs}[job.id]
    assert item.state == "ready"
    tick_until_settled(session, pump)
    assert conjure_objects(job.id)
    assert session.get().journal.require(job.id).state == "imported"


def test_after_a_restart_without_auto_import_ready_jobs_are_only_offered(session, pump, thrixel,
                                                                         fresh_scene):
    job = session.submit("thrixel", "create", {"task": "a sextant"})
    wait_for(session, job.id, {"ready"})
    session.shutdown()
    had = getattr(thrixel, "auto_import", None)
    if had is None:
        pytest.skip("the auto_import preference is not in this build")
    thrixel.auto_import = False
    try:
        running = session.get()
        assert job.id in running.offered and job.id not in running.autoimport
        tick_until_settled(session, pump)
        assert not conjure_objects(job.id)
        assert bpy.ops.conjure.import_result(job_id=job.id) == {"FINISHED"}
        assert job.id not in session.get().offered
    finally:
        thrixel.auto_import = had


def test_unfinished_job_continues_after_a_restart(session, pump, thrixel, sandbox, fresh_scene):
    sandbox.add_key("thrixel", "sk-thrixel-slowish", faults="cold_start=1")
    thrixel.thrixel_key = "sk-thrixel-slowish"
    job = session.submit("thrixel", "create", {"task": "an hourglass"})
    queued = wait_for(session, job.id, {"queued", "running"})
    assert queued.remote_id
    session.shutdown()
    session.get()  # resumes polling the remote job; it is never sent again
    done = wait_for(session, job.id, {"ready", "imported"})
    assert done.remote_id == queued.remote_id
    tick_until_settled(session, pump)
    assert conjure_objects(job.id)


def test_a_saved_blend_holds_no_key(session, thrixel, sandbox, fresh_scene, tmp_path):
    sentinel = "sk-thrixel-OPSENTINEL-51c2"
    sandbox.add_key("thrixel", sentinel)
    thrixel.thrixel_key = sentinel
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a kettle") == {"FINISHED"}
    assert bpy.context.scene.objects, "the run imported nothing, so the check proves nothing"
    blend = tmp_path / "after-run.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), copy=True, compress=False)
    data = blend.read_bytes()
    assert b"conjure_job_id" in data
    assert sentinel.encode() not in data and b"OPSENTINEL" not in data


def test_a_job_that_answered_without_a_file_says_so_on_import(session, fresh_scene):
    from bl_ext.dev.conjure.jobs.model import Job, State

    journal = session.get().journal
    job = journal.add(Job("tripo", "animate_prerigcheck", {"original_model_task_id": "t1"}),
                      claim=False)
    journal.update(job.id, state=State.SUBMITTING)
    journal.update(job.id, state=State.QUEUED, remote_id="r-rig")
    journal.update(job.id, state=State.DOWNLOADING)
    journal.update(job.id, state=State.READY, message="Riggable as biped")
    with pytest.raises(RuntimeError, match="an answer, not a file to import: Riggable as biped"):
        bpy.ops.conjure.import_result(job_id=job.id)
    assert journal.require(job.id).state == "ready"


def test_after_a_restart_a_ready_job_waits_for_the_file_that_asked(session, pump, thrixel,
                                                                    fresh_scene, tmp_path,
                                                                    recorder, mod):
    asked = tmp_path / "asked.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(asked))
    job = session.submit("thrixel", "create", {"task": "a weather cock"})
    assert job.origin == str(asked)
    wait_for(session, job.id, {"ready"})
    session.shutdown()  # Blender quits before the result was imported ...
    bpy.ops.wm.read_homefile(use_empty=True)  # ... and starts again with another file
    running = session.get()
    assert job.id in running.offered and job.id not in running.autoimport
    tick_until_settled(session, pump)
    assert not conjure_objects(job.id)
    item = {i.job_id: i for i in bpy.context.window_manager.conjure.jobs}[job.id]
    layout = recorder()
    mod("panels.jobs").draw_job(layout, item)
    assert [op[3] for op in layout.ops("conjure.import_result")] == ["Import Here"]
    assert "Started in asked.blend" in layout.text()

    bpy.ops.wm.open_mainfile(filepath=str(asked))  # the file that asked is open again
    tick_until_settled(session, pump)
    assert conjure_objects(job.id)
    assert session.get().journal.require(job.id).state == "imported"


def test_a_job_asked_for_before_the_first_save_belongs_to_the_saved_file(session, thrixel,
                                                                         fresh_scene, tmp_path):
    bpy.ops.wm.read_homefile(use_empty=True)
    job = session.submit("thrixel", "create", {"task": "a tin soldier"})
    assert job.origin.startswith("unsaved:")
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "soldier.blend"))
    assert session.get().journal.require(job.id).origin == str(tmp_path / "soldier.blend")
