"""The operators reading the panel's form, the import preferences, and uploading a selection."""


import bpy
import pytest
from mathutils import Vector


def conjure_objects(job_id):
    return [ob for ob in bpy.data.objects if ob.get("conjure_job_id") == job_id]


def newest(session):
    return session.get().journal.jobs(limit=1)[0]


def test_generate_from_the_panel_form(session, thrixel, fresh_scene):
    forms = bpy.context.scene.conjure
    forms.service = "thrixel"
    forms.mode_thrixel = "create"
    forms.prompt = "a carved wooden owl"
    try:
        assert bpy.ops.conjure.generate(from_panel=True) == {"FINISHED"}
    finally:
        forms.prompt = ""
    job = newest(session)
    assert (job.operation, job.params["task"]) == ("create", "a carved wooden owl")
    assert conjure_objects(job.id)


def test_import_preferences_scale_and_keep_the_active_collection(session, thrixel,
                                                                 fresh_scene):
    job = session.submit("thrixel", "create", {"task": "a tall tower"})
    [done] = session.run_blocking([job.id], timeout=30, echo=lambda line: None)
    prefs = thrixel
    prefs.import_target_size = 2.0
    prefs.import_collection_per_job = False
    prefs.import_at_cursor = False
    bpy.context.scene.cursor.location = (9.0, 9.0, 9.0)
    try:
        assert bpy.ops.conjure.import_result(job_id=done.id) == {"FINISHED"}
    finally:
        prefs.import_target_size = 0.0
        prefs.import_collection_per_job = True
        prefs.import_at_cursor = True
        bpy.context.scene.cursor.location = (0.0, 0.0, 0.0)
    objects = conjure_objects(done.id)
    assert all(ob.users_collection[0] == bpy.context.scene.collection for ob in objects)
    bpy.context.view_layer.update()
    corners = [ob.matrix_world @ Vector(c)
               for ob in objects if ob.type == "MESH" for c in ob.bound_box]
    size = max(max(c[i] for c in corners) - min(c[i] for c in corners) for i in range(3))
    assert size == pytest.approx(2.0, rel=1e-3)
    assert all((ob.matrix_world.translation - Vector((9, 9, 9))).length
               > 1.0 for ob in objects if ob.parent is None)


def test_upload_selection_tags_the_selected_objects(session, thrixel, fresh_scene):
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.view_layer.objects.active
    cube.name = "crate_body"
    assert bpy.ops.conjure.upload_selection(label="a crate") == {"FINISHED"}
    job = newest(session)
    assert job.operation == "upload" and job.params["glb_file"].endswith(".glb")
    assert job.remote_id
    assert (cube["conjure_job_id"], cube["conjure_remote_id"]) == (job.id, job.remote_id)
    assert cube["conjure_node_name"] == "crate_body"
    assert len(bpy.data.objects) == 1  # nothing imported on top of the original
    # Uploaded models are follow-up sources like generated ones.
    assert bpy.ops.conjure.edit(request="add iron bands") == {"FINISHED"}
    assert newest(session).params["parent_submission_id"] == job.remote_id


def test_upload_needs_a_selection(thrixel, fresh_scene):
    with pytest.raises(RuntimeError, match="Select the objects to upload"):
        bpy.ops.conjure.upload_selection()
