"""Follow-ups pre-filled from the selected model: no ids copied by hand."""


import bpy
import pytest


def conjure_objects(job_id):
    return [ob for ob in bpy.data.objects if ob.get("conjure_job_id") == job_id]


def newest(session):
    return session.get().journal.jobs(limit=1)[0]


def select_only(objects, active):
    for ob in bpy.context.view_layer.objects:
        ob.select_set(ob in objects)
    bpy.context.view_layer.objects.active = active


def test_edit_of_a_thrixel_result_prefilled_from_the_selection(session, thrixel, fresh_scene):
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a bank vault door") == \
        {"FINISHED"}
    source = newest(session)
    parts = [ob for ob in conjure_objects(source.id) if ob.type == "MESH"]
    assert len(parts) >= 2, "the sandbox model should have several parts"
    part = parts[-1]
    select_only([part], part)
    # Blender renamed nothing here, but the part name sent is the node's original name either
    # way, read from the object's tag.
    names = f"{part['conjure_node_name']}"
    assert bpy.ops.conjure.edit(request="paint it red", parts=names) == {"FINISHED"}
    edit = newest(session)
    assert edit.operation == "edit" and edit.parent_id == source.id
    assert edit.params["parent_submission_id"] == source.remote_id
    assert edit.params["modification_request"] == "paint it red"
    assert edit.params["focus_on_node_names"] == [part["conjure_node_name"]]
    result = conjure_objects(edit.id)
    assert result and all(ob["conjure_provider"] == "thrixel" for ob in result)
    assert {ob["conjure_remote_id"] for ob in result} == {edit.remote_id}
    assert edit.remote_id != source.remote_id


def test_refine_takes_the_active_model(session, thrixel, fresh_scene):
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a toy robot") == {"FINISHED"}
    source = newest(session)
    root = bpy.context.view_layer.objects.active
    assert root["conjure_job_id"] == source.id
    assert bpy.ops.conjure.refine() == {"FINISHED"}
    refine = newest(session)
    assert (refine.operation, refine.parent_id) == ("refine", source.id)
    assert refine.params["parent_submission_id"] == source.remote_id
    assert conjure_objects(refine.id)


def test_follow_up_by_job_id_and_errors_in_words(session, thrixel, tripo, fresh_scene):
    bpy.ops.object.empty_add()
    plain = bpy.context.view_layer.objects.active
    select_only([plain], plain)
    with pytest.raises(RuntimeError, match="did not come from Conjure"):
        bpy.ops.conjure.refine()
    with pytest.raises(RuntimeError, match="No job 'nope'"):
        bpy.ops.conjure.follow_up(job_id="nope", operation="refine")

    job = session.submit("tripo", "text_to_model", {"prompt": "a mug"})
    [done] = session.run_blocking([job.id], timeout=30, echo=lambda line: None)
    with pytest.raises(RuntimeError, match="Tripo3D offers no edit"):
        bpy.ops.conjure.edit(job_id=done.id, request="x")
    with pytest.raises(RuntimeError, match="cannot be limited to parts"):
        bpy.ops.conjure.follow_up(job_id=done.id, operation="texture_model", parts="a")
    assert bpy.ops.conjure.follow_up(job_id=done.id, operation="texture_model",
                                     options='{"texture_quality": "detailed"}') == {"FINISHED"}
    texture = newest(session)
    assert texture.params["original_model_task_id"] == done.remote_id
    assert conjure_objects(texture.id)


def test_follow_ups_on_a_converted_result_send_the_original_submission(session, thrixel,
                                                                       fresh_scene):
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a tin lantern") == {"FINISHED"}
    source = newest(session)
    assert bpy.ops.conjure.convert(format="fbx") == {"FINISHED"}
    converted = newest(session)
    assert converted.operation == "convert" and converted.remote_id != source.remote_id
    objects = conjure_objects(converted.id)
    assert objects and {ob["conjure_remote_id"] for ob in objects} == {source.remote_id}
    select_only(objects, objects[0])
    assert bpy.ops.conjure.refine() == {"FINISHED"}
    refine = newest(session)
    assert refine.parent_id == converted.id
    assert refine.params["parent_submission_id"] == source.remote_id


def test_follow_ups_the_service_would_refuse_are_refused_in_words(session, thrixel,
                                                                   fresh_scene):
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a tin lantern") == {"FINISHED"}
    assert bpy.ops.conjure.edit(request="taller") == {"FINISHED"}
    edited = newest(session)
    with pytest.raises(RuntimeError, match="auto-refines only new, auto-refined and uploaded"):
        bpy.ops.conjure.refine(job_id=edited.id)
    assert newest(session).id == edited.id  # nothing was sent
