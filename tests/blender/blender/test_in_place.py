"""An edit applied in place on a real multi-part Thrixel model (the orrery): the parts the edit
did not focus on are the same Blender objects with what the user did to them, the focused ones
get new meshes in the same objects, the model stays where the user put it, one copy shows, the
version replaced is kept and can be swapped in, new and removed parts, one undo step."""

import math

import bpy
import pytest
from mathutils import Matrix

from support.fixtures import prompt_for

FOCUS = ["crank", "pointer_arm"]


def newest(session):
    return session.get().journal.jobs(limit=1)[0]


def live(job_id):
    return {ob["conjure_node_name"]: ob for ob in bpy.context.scene.objects
            if ob.get("conjure_job_id") == job_id and not ob.get("conjure_gone")
            and not any(c.get("conjure_history") for c in ob.users_collection)}


def visible_parts():
    bpy.context.view_layer.update()
    return sorted(ob["conjure_node_name"] for ob in bpy.context.view_layer.objects
                  if ob.get("conjure_node_name") and ob.visible_get())


def close(a, b):
    return all(abs(a[row][col] - b[row][col]) < 1e-5 for row in range(4) for col in range(4))


@pytest.fixture
def orrery(session, thrixel, sandbox, fresh_scene, mod):
    """The orrery imported, then worked on by the user: moved and rotated as a whole, a
    material and a modifier on one part, one ring parented to the body."""
    assert bpy.ops.conjure.generate(provider="THRIXEL",
                                    prompt=prompt_for(sandbox, "orrery")) == {"FINISHED"}
    job = newest(session)
    mod("blender.hierarchies").wait(job)
    parts = live(job.id)
    moved = Matrix.Translation((3.0, -2.0, 0.5)) @ Matrix.Rotation(math.radians(35), 4, "Z")
    for ob in parts.values():
        ob.matrix_world = moved @ ob.matrix_world
    body = parts["OrreryBody"]
    body.data.materials.append(bpy.data.materials.new("User Brass"))
    body.modifiers.new("User Bevel", "BEVEL")
    ring = parts["orbit_ring_outer"]
    world = ring.matrix_world.copy()
    ring.parent = body
    ring.matrix_world = world
    bpy.context.view_layer.update()
    return job


def snapshot(parts):
    return {name: (ob.as_pointer(), ob.name, ob.matrix_world.copy(), ob.data.as_pointer(),
                   [v.co.copy() for v in ob.data.vertices[:8]])
            for name, ob in parts.items()}


def test_a_focused_edit_changes_exactly_the_focused_parts_in_place(session, orrery, mod):
    before = snapshot(live(orrery.id))
    assert bpy.ops.conjure.edit(job_id=orrery.id, request="gilded crank",
                                parts=",".join(FOCUS)) == {"FINISHED"}
    edit = newest(session)
    assert edit.operation == "edit" and edit.parent_id == orrery.id
    after = live(edit.id)
    assert sorted(after) == sorted(before)
    assert not live(orrery.id)  # every part moved on to the edit's lineage
    for name, ob in after.items():
        pointer, object_name, world, mesh, vertices = before[name]
        assert ob.as_pointer() == pointer and ob.name == object_name, name
        assert close(ob.matrix_world, world), name  # where the user put it, not the cursor
        assert ob["conjure_remote_id"] == edit.remote_id
        if name in FOCUS:
            assert ob.data.as_pointer() != mesh, name
            assert any((a - b).length > 1e-4 for a, b in
                       zip(vertices, [v.co for v in ob.data.vertices[:8]], strict=True)), name
        else:
            assert ob.data.as_pointer() == mesh, name
    body = after["OrreryBody"]
    assert "User Brass" in [m.name for m in body.data.materials if m]
    assert [m.name for m in body.modifiers] == ["User Bevel"]
    assert after["orbit_ring_outer"].parent == body
    # Exactly one visible copy of the model.
    assert visible_parts() == sorted(before)


def test_the_replaced_version_is_kept_hidden_and_swaps_in(session, orrery, mod):
    old = snapshot(live(orrery.id))
    assert bpy.ops.conjure.edit(job_id=orrery.id, request="gilded crank",
                                parts=",".join(FOCUS)) == {"FINISHED"}
    edit = newest(session)
    [version] = [c for c in bpy.data.collections if c.get("conjure_replaced_by") == edit.id]
    kept = {ob["conjure_node_name"]: ob for ob in version.objects}
    assert sorted(kept) == sorted(old)
    assert all(ob["conjure_job_id"] == orrery.id for ob in kept.values())
    assert kept["crank"].data.as_pointer() == old["crank"][3]  # the old mesh
    assert close(kept["crank"].matrix_world, old["crank"][2])
    assert kept["orbit_ring_outer"].parent == kept["OrreryBody"]
    assert visible_parts() == sorted(old)

    assert bpy.ops.conjure.swap_version(job_id=edit.id) == {"FINISHED"}
    bpy.context.view_layer.update()
    shown = [ob for ob in bpy.context.view_layer.objects if ob.visible_get()
             and ob.get("conjure_node_name")]
    assert sorted(ob["conjure_node_name"] for ob in shown) == sorted(old)
    assert all(ob.name in version.objects for ob in shown)
    assert bpy.ops.conjure.swap_version(job_id=edit.id) == {"FINISHED"}
    assert visible_parts() == sorted(old)
    assert all(ob.visible_get() for ob in live(edit.id).values())


def test_one_undo_step_restores_the_model_as_it_was(session, orrery):
    old = {name: (ob.name, ob.data.name, ob.matrix_world.copy())
           for name, ob in live(orrery.id).items()}
    collections = sorted(c.name for c in bpy.data.collections)
    bpy.ops.ed.undo_push(message="before the edit")
    assert bpy.ops.conjure.edit("EXEC_DEFAULT", True, job_id=orrery.id, request="gilded crank",
                                parts="crank") == {"FINISHED"}
    assert live(newest(session).id)
    assert bpy.ops.ed.undo() == {"FINISHED"}
    restored = live(orrery.id)
    assert {name: (ob.name, ob.data.name) for name, ob in restored.items()} == \
        {name: value[:2] for name, value in old.items()}
    assert all(close(restored[n].matrix_world, old[n][2]) for n in old)
    assert sorted(c.name for c in bpy.data.collections) == collections
    assert visible_parts() == sorted(old)


def crafted_result(parent_file, path):
    """The orrery as an edit could return it: the crank gone, a flag new on the body."""
    from sandbox import glb

    model = glb.Glb.parse(parent_file.read_bytes())
    nodes = [n for n in model.doc["nodes"] if n["name"] != "crank"]
    ring_mesh = next(n["mesh"] for n in nodes if n["name"] == "orbit_ring_inner")
    nodes.append({"name": "flag", "mesh": ring_mesh, "translation": [0.4, 2.0, 0.1]})
    body = next(n for n in nodes if n["name"] == "OrreryBody")
    body["children"] = [len(nodes) - 1]
    model.doc["nodes"] = nodes
    model.doc["scenes"][0]["nodes"] = list(range(len(nodes) - 1))
    path.write_bytes(model.to_bytes())
    return path


@pytest.mark.parametrize("remove", [True, False])
def test_new_parts_are_added_where_the_model_is_and_gone_ones_removed_or_hidden(
        session, orrery, mod, tmp_path, remove):
    in_place, model = mod("blender.in_place"), mod("jobs.model")
    settings = mod("blender.scene_import").ImportSettings(remove_gone=remove)
    path = crafted_result(session.result_paths(orrery)[0], tmp_path / "edited.glb")
    job = model.Job("thrixel", "edit", {"modification_request": "a flag"}, remote_id="sub-2",
                    parent_id=orrery.id, state=model.State.READY)
    old = live(orrery.id)
    crank = old["crank"].name
    target = in_place.target(bpy.context, job, path)
    assert sorted(ob.name for ob in target.objects) == sorted(ob.name for ob in old.values())
    applied = in_place.apply(bpy.context, job, path, target, settings)
    assert (applied.unchanged, applied.changed, applied.added, applied.gone) == (5, 0, 1, 1)
    now = live(job.id)
    assert sorted(now) == sorted({*old, "flag"} - {"crank"})
    flag, body = now["flag"], now["OrreryBody"]
    assert flag.parent == body and flag.users_collection[0] == body.users_collection[0]
    # Placed on the body as the result has it (glTF y-up → Blender z-up), the body where the
    # user moved it.
    relative = body.matrix_world.inverted() @ flag.matrix_world
    assert close(relative, Matrix.Translation((0.4, -0.1, 2.0)))
    if remove:
        assert crank not in bpy.context.scene.objects
    else:
        assert bpy.data.objects[crank].get("conjure_gone") and \
            not bpy.data.objects[crank].visible_get()
    assert visible_parts() == sorted(now)
    assert not [m for m in bpy.data.meshes if m.users == 0]  # the import left no litter
    assert not [m for m in bpy.data.materials if m.users == 0 and m.name != "User Brass"]


def test_a_model_of_its_own_comes_in_beside(session, orrery, mod, tmp_path):
    """A result sharing no part with its parent (a whole-model, sculpt-like output)."""
    from sandbox import glb

    in_place, model = mod("blender.in_place"), mod("jobs.model")
    path = tmp_path / "dense.glb"
    path.write_bytes(glb.build_model(7))
    job = model.Job("thrixel", "edit", {}, remote_id="sub-3", parent_id=orrery.id)
    assert in_place.target(bpy.context, job, path) is None
    refine = model.Job("thrixel", "refine", {}, remote_id="sub-4", parent_id=orrery.id)
    assert in_place.target(bpy.context, refine, session.result_paths(orrery)[0]) is None


def test_a_detail_focused_on_a_group_replaces_its_parts_under_the_same_parents(
        session, thrixel, sandbox, fresh_scene, mod):
    assert bpy.ops.conjure.generate(provider="THRIXEL",
                                    prompt=prompt_for(sandbox, "lighthouse-rough")) == {"FINISHED"}
    source = newest(session)
    mod("blender.hierarchies").wait(source)
    old = live(source.id)
    lantern = {name for name, ob in old.items() if ob.parent == old["Lantern_Group"]}
    meshes = {name: ob.data.as_pointer() for name, ob in old.items() if ob.type == "MESH"}
    assert bpy.ops.conjure.detail(job_id=source.id, parts="Lantern_Group") == {"FINISHED"}
    detail = newest(session)
    assert detail.params["focus_on_node_names"] == ["Lantern_Group"]
    now = live(detail.id)
    assert {name: ob.as_pointer() for name, ob in now.items()} == \
        {name: ob.as_pointer() for name, ob in old.items()}
    changed = {name for name, ob in now.items()
               if ob.type == "MESH" and ob.data.as_pointer() != meshes[name]}
    assert changed == lantern and len(lantern) == 13
    assert all(now[name].parent == now["Lantern_Group"] for name in lantern)
    assert visible_parts() == sorted(name for name in old)


def test_without_kept_versions_nothing_is_left_behind(session, orrery, thrixel, mod, paint):
    thrixel.keep_versions = False
    try:
        assert bpy.ops.conjure.edit(job_id=orrery.id, request="gilded crank",
                                    parts="crank") == {"FINISHED"}
    finally:
        thrixel.keep_versions = True
    edit = newest(session)
    assert not [c for c in bpy.data.collections if c.get("conjure_history")]
    assert not [m for m in bpy.data.meshes if m.users == 0]
    bpy.context.view_layer.objects.active = live(edit.id)["crank"]
    panel = mod("panels.parts").CONJURE_PT_parts
    assert not paint(panel).ops("conjure.swap_version")
    with pytest.raises(RuntimeError, match="No earlier version"):
        bpy.ops.conjure.swap_version(job_id=edit.id)


def test_the_parts_panel_swaps_before_and_after_and_keeps_the_checks(session, orrery, mod,
                                                                     paint):
    crank = live(orrery.id)["crank"]
    for ob in bpy.context.view_layer.objects:
        ob.select_set(ob == crank)
    bpy.context.view_layer.update()
    assert mod("blender.parts").checked(orrery.id) == {"crank"}
    assert bpy.ops.conjure.edit(job_id=orrery.id, request="gilded crank") == {"FINISHED"}
    edit = newest(session)
    assert edit.params["focus_on_node_names"] == ["crank"]
    # The same objects, selected as before, now the edit's model: the check stays.
    assert mod("blender.parts").checked(edit.id) == {"crank"}
    bpy.context.view_layer.objects.active = live(edit.id)["crank"]
    panel = mod("panels.parts").CONJURE_PT_parts
    [(_, _, props, text, _)] = paint(panel).ops("conjure.swap_version")
    assert (props.job_id, text) == (edit.id, "Show Version Before This Edit")
    assert bpy.ops.conjure.swap_version(job_id=edit.id) == {"FINISHED"}
    assert paint(panel).ops("conjure.swap_version")[0][3] == "Show Current Version"


def test_the_pump_applies_an_edit_in_place_as_one_undo_step(session, orrery, mod):
    """The interactive path: the job is followed (what invoke() does) and the pump's tick
    carries it on when it is ready."""
    import time

    old = snapshot(live(orrery.id))
    job = session.submit_request(mod("workflow.requests").follow_up_request(
        "thrixel", "edit", parent_remote_id=orrery.remote_id, parent_job_id=orrery.id,
        prompt="longer arm", parts=["pointer_arm"]))
    session.follow(job.id)
    deadline = time.monotonic() + 30
    while session.get().journal.require(job.id).state != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    bpy.ops.ed.undo_push(message="before the pump")
    mod("blender.pump").tick()
    assert session.get().journal.require(job.id).state == "imported"
    now = live(job.id)
    assert {n: ob.as_pointer() for n, ob in now.items()} == {n: v[0] for n, v in old.items()}
    assert now["pointer_arm"].data.as_pointer() != old["pointer_arm"][3]
    assert bpy.ops.ed.undo() == {"FINISHED"}
    assert sorted(live(orrery.id)) == sorted(old) and not live(job.id)


def test_an_origin_the_service_moved_is_made_up_for(session, orrery, mod, tmp_path):
    """Thrixel derives the origin from the lowest geometry, so an edit can shift every part;
    the model still stays where the user has it, new parts included."""
    from sandbox import glb

    in_place, model = mod("blender.in_place"), mod("jobs.model")
    path = crafted_result(session.result_paths(orrery)[0], tmp_path / "edited.glb")
    shifted = glb.Glb.parse(path.read_bytes())
    for index in shifted.doc["scenes"][0]["nodes"]:
        node = shifted.doc["nodes"][index]
        x, y, z = node.get("translation", (0.0, 0.0, 0.0))
        node["translation"] = [x + 0.25, y - 0.4, z]
    path.write_bytes(shifted.to_bytes())
    old = snapshot(live(orrery.id))
    job = model.Job("thrixel", "edit", {}, remote_id="sub-5", parent_id=orrery.id)
    in_place.apply(bpy.context, job, path, in_place.target(bpy.context, job, path),
                   mod("blender.scene_import").ImportSettings())
    now = live(job.id)
    assert all(close(now[name].matrix_world, old[name][2]) for name in now if name in old)
    relative = now["OrreryBody"].matrix_world.inverted() @ now["flag"].matrix_world
    assert close(relative, Matrix.Translation((0.4, -0.1, 2.0)))


def test_an_upload_is_the_root_of_a_lineage_edited_in_place_on_the_users_objects(
        session, thrixel, fresh_scene, mod, paint):
    bpy.ops.mesh.primitive_cube_add(location=(2.0, 0.0, 0.5))
    crate = bpy.context.object
    crate.name = "Crate"
    bpy.ops.mesh.primitive_cylinder_add(location=(-1.0, 1.0, 0.0), rotation=(0.3, 0.0, 0.0))
    barrel = bpy.context.object
    barrel.name = "Barrel"
    barrel.data.materials.append(bpy.data.materials.new("Oak"))
    barrel.modifiers.new("Weighted", "WEIGHTED_NORMAL")
    for ob in (crate, barrel):
        ob.select_set(True)
    assert bpy.ops.conjure.upload_selection(label="props") == {"FINISHED"}
    upload = newest(session)
    assert upload.operation == "upload"
    mod("blender.hierarchies").wait(upload)
    bpy.context.view_layer.objects.active = barrel
    panel = mod("panels.parts").CONJURE_PT_parts
    assert sorted(e[2].name for e in paint(panel).ops("conjure.check_part")) == \
        ["Barrel", "Crate"]
    old = snapshot({"Crate": crate, "Barrel": barrel})

    assert bpy.ops.conjure.edit(job_id=upload.id, request="iron bands",
                                parts="Crate") == {"FINISHED"}
    edit = newest(session)
    now = live(edit.id)
    assert {n: ob.as_pointer() for n, ob in now.items()} == {n: v[0] for n, v in old.items()}
    assert now["Crate"].data.as_pointer() != old["Crate"][3]
    assert now["Barrel"].data.as_pointer() == old["Barrel"][3]
    assert [m.name for m in now["Barrel"].modifiers] == ["Weighted"]
    assert "Oak" in [m.name for m in now["Barrel"].data.materials if m]
    assert all(close(now[n].matrix_world, old[n][2]) for n in now)
    assert visible_parts() == ["Barrel", "Crate"]


def test_a_copy_the_user_made_of_a_part_is_kept(session, orrery):
    crank = live(orrery.id)["crank"]
    spare = crank.copy()
    spare.data = crank.data.copy()
    crank.users_collection[0].objects.link(spare)
    spare.location.x += 1.0
    spare_mesh = spare.data.as_pointer()
    crank_mesh = crank.data.as_pointer()
    assert bpy.ops.conjure.edit(job_id=orrery.id, request="gilded crank",
                                parts="crank") == {"FINISHED"}
    edit = newest(session)
    assert spare.name > crank.name  # crank.001: the copy
    assert spare.name in bpy.context.scene.objects and spare.data.as_pointer() == spare_mesh
    assert crank.data.as_pointer() not in (spare_mesh, crank_mesh)  # the original changed
    assert spare["conjure_job_id"] == edit.id  # still one of the model's parts
    assert visible_parts().count("crank") == 2
