"""Lite model first (Thrixel): the lite GLB is in the scene as soon as the job is generated, the
full-quality one takes its place (collection, placement, selection) once baked, the Jobs panel
says which one is there, and the blocking path waits for the full one."""

import importlib
import time

import bpy
import pytest


@pytest.fixture
def pump(conjure):
    return importlib.import_module(f"{conjure.__name__}.blender.pump")


@pytest.fixture
def slow_bake(thrixel, sandbox):
    """Thrixel's full-quality GLB bakes for a few seconds after each job (the lite one is
    there at once)."""
    sandbox.add_key("thrixel", "sk-thrixel-slow-bake", faults="full_build=3")
    thrixel.thrixel_key = "sk-thrixel-slow-bake"
    yield thrixel


def objects_of(job_id):
    return [ob for ob in bpy.data.objects if ob.get("conjure_job_id") == job_id]


def tick_until(pump, condition, timeout=20):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        pump.tick()
        time.sleep(0.02)


def jobs_panel_text(conjure, session, recorder, job_id):
    jobs = importlib.import_module(f"{conjure.__name__}.panels.jobs")
    session.tick()
    item = {i.job_id: i for i in bpy.context.window_manager.conjure.jobs}[job_id]
    layout = recorder()
    jobs.draw_job(layout, item)
    return layout.text()


def test_the_lite_model_comes_first_and_the_full_one_takes_its_place(
        conjure, session, pump, slow_bake, fresh_scene, recorder):
    job = session.submit("thrixel", "create", {"task": "an owl"})
    session.follow(job.id)
    tick_until(pump, lambda: objects_of(job.id))
    lite = objects_of(job.id)
    assert {ob["conjure_quality"] for ob in lite} == {"lite"}
    assert session.get().journal.require(job.id).state == "running"
    assert "In the scene: the lite model" in jobs_panel_text(conjure, session, recorder, job.id)
    collection = lite[0].users_collection[0]
    root = next(ob for ob in lite if ob.parent is None)
    root.location.x += 5.0  # the user moves the model while the full one bakes
    part = next(ob for ob in lite if ob.type == "MESH")
    part.modifiers.new("Bevel", "BEVEL")  # and gives a part a modifier
    bpy.context.view_layer.update()
    moved = root.matrix_world.copy()
    names = {ob["conjure_node_name"] for ob in lite}
    lite_meshes = {ob.name: ob.data.name for ob in lite if ob.type == "MESH"}

    tick_until(pump, lambda: session.get().journal.require(job.id).state == "imported")
    full = objects_of(job.id)
    assert {ob["conjure_quality"] for ob in full} == {"full"}
    assert {ob["conjure_node_name"] for ob in full} == names
    assert all(ob.users_collection[0] == collection for ob in full)
    new_root = next(ob for ob in full if ob.parent is None)
    assert (new_root.matrix_world.translation - moved.translation).length < 1e-5
    assert [m.type for m in part.modifiers] == ["BEVEL"]  # the user's changes are kept
    assert all(bpy.data.objects[name].data.name != mesh for name, mesh in lite_meshes.items())
    assert not [m for m in bpy.data.meshes if m.name in lite_meshes.values()]  # none left over
    assert "In the scene: the full-quality model" in jobs_panel_text(conjure, session, recorder,
                                                                    job.id)
    pump.tick()
    assert len(objects_of(job.id)) == len(full)  # nothing imported twice


def test_the_blocking_path_waits_for_the_full_model(session, slow_bake, fresh_scene):
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a heron") == {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    assert job.state == "imported"
    assert objects_of(job.id) and not [ob for ob in objects_of(job.id)
                                       if ob.get("conjure_quality") == "lite"]


def test_without_the_preference_only_the_full_model_comes(session, pump, slow_bake,
                                                           fresh_scene):
    slow_bake.lite_first = False
    try:
        job = session.submit("thrixel", "create", {"task": "a crane"})
        session.follow(job.id)
        tick_until(pump, lambda: session.get().journal.require(job.id).state == "imported")
        done = session.get().journal.require(job.id)
        assert [name for name in done.result_files if "lite" in name] == []
        assert objects_of(job.id) and not [ob for ob in objects_of(job.id)
                                           if ob.get("conjure_quality")]
    finally:
        slow_bake.lite_first = True
