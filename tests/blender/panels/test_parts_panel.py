"""The Parts panel on real Thrixel models: the tree with face counts, checks and viewport
selection in step both ways (through conjure_node_name, whatever the objects are called),
repeated part names, and what a focused edit from the panel sends."""

import bpy
import pytest

from support.fixtures import prompt_for


@pytest.fixture(autouse=True)
def _quick(quick_polling):
    yield


@pytest.fixture
def panel(mod):
    return mod("panels.parts").CONJURE_PT_parts


@pytest.fixture
def scene_parts(mod):
    return mod("blender.parts")


def newest(session):
    return session.get().journal.jobs(limit=1)[0]


def generated(session, sandbox, mod, stem):
    assert bpy.ops.conjure.generate(provider="THRIXEL",
                                    prompt=prompt_for(sandbox, stem)) == {"FINISHED"}
    job = newest(session)
    mod("blender.hierarchies").wait(job)
    return job


def by_part(job):
    return {ob["conjure_node_name"]: ob for ob in bpy.data.objects
            if ob.get("conjure_job_id") == job.id}


def rows(layout):
    """(part name, checked) of every checkbox the panel drew."""
    return [(e[2].name, e[2]._icon == "CHECKBOX_HLT") for e in layout.ops("conjure.check_part")]


def select_only(objects):
    for ob in bpy.context.view_layer.objects:
        ob.select_set(ob in objects)
    bpy.context.view_layer.objects.active = objects[0] if objects else None
    bpy.context.view_layer.update()  # the depsgraph handler reads the new selection


def test_the_tree_with_face_counts_and_containers_that_fold(session, thrixel, sandbox,
                                                            fresh_scene, mod, panel, paint):
    job = generated(session, sandbox, mod, "lighthouse-rough")
    # Imported models arrive selected as a whole: that checks no part.
    bpy.context.view_layer.objects.active = by_part(job)["Door"]
    assert panel.poll(bpy.context)
    layout = paint(panel)
    text = layout.text()
    assert "36 parts · 2,448 faces" in text
    names = [name for name, _ in rows(layout)]
    assert names[:3] == ["Lighthouse_Group", "Gallery_Group", "DeckCorbel"]
    assert len(names) == 40 and "92" in layout.labels()
    folds = {e[2].path: e for e in layout.ops("conjure.fold_part")}
    assert len(folds) == 4  # Lighthouse, Gallery, Lantern and Tower groups
    gallery = folds["0/0"][2]
    assert bpy.ops.conjure.fold_part(job_id=job.id, path=gallery.path) == {"FINISHED"}
    names = [name for name, _ in rows(paint(panel))]
    assert "RailPost_1" not in names and "Gallery_Group" in names and "Door" in names
    assert "No parts checked: an edit or detail may change the whole model" in text


def test_checks_and_viewport_selection_stay_in_step(session, thrixel, sandbox, fresh_scene,
                                                    mod, panel, paint, scene_parts):
    job = generated(session, sandbox, mod, "orrery")
    objects = by_part(job)
    # Renamed by the user and by Blender: the node name still finds the part.
    objects["crank"].name = "My Crank"
    objects["pointer_arm"].name = "pointer_arm.001"
    bpy.context.view_layer.objects.active = objects["OrreryBody"]

    # Viewport → checks: selecting objects checks exactly their parts.
    select_only([objects["crank"], objects["pointer_arm"]])
    assert scene_parts.checked(job.id) == {"crank", "pointer_arm"}
    layout = paint(panel)
    assert dict(rows(layout)) == {"OrreryBody": False, "crank": True, "orbit_ring_inner": False,
                                  "orbit_ring_middle": False, "orbit_ring_outer": False,
                                  "pointer_arm": True}
    assert "Changes crank, pointer_arm; holds OrreryBody, orbit_ring_inner" in layout.text()
    # Selecting something else (a light) leaves the checks alone.
    bpy.ops.object.light_add()
    select_only([bpy.context.object])
    assert scene_parts.checked(job.id) == {"crank", "pointer_arm"}

    # Checks → viewport: checking a part selects its object, unchecking deselects it.
    assert bpy.ops.conjure.check_part(job_id=job.id, name="orbit_ring_outer") == {"FINISHED"}
    assert objects["orbit_ring_outer"].select_get()
    assert bpy.ops.conjure.check_part(job_id=job.id, name="crank") == {"FINISHED"}
    assert not objects["crank"].select_get()
    assert scene_parts.checked(job.id) == {"pointer_arm", "orbit_ring_outer"}
    bpy.context.view_layer.update()  # reading the selection back changes nothing
    assert scene_parts.checked(job.id) == {"pointer_arm", "orbit_ring_outer"}

    # The explicit pair: Select in Viewport selects the checked parts and nothing else;
    # Check Selected checks what is selected.
    select_only([objects["OrreryBody"]])
    scene_parts.set_checked(job.id, {"crank", "orbit_ring_inner"})
    assert bpy.ops.conjure.select_checked_parts(job_id=job.id) == {"FINISHED"}
    assert {ob.name for ob in bpy.context.selected_objects} == {"My Crank", "orbit_ring_inner"}
    objects["OrreryBody"].select_set(True)
    assert bpy.ops.conjure.check_selected_parts(job_id=job.id) == {"FINISHED"}
    assert scene_parts.checked(job.id) == {"crank", "orbit_ring_inner", "OrreryBody"}


def test_parts_with_the_same_name_are_checked_and_selected_together(
        session, thrixel, fresh_scene, mod, panel, paint, scene_parts, tmp_path):
    from sandbox import glb

    box = glb._box(0.2, 0.2, 0.2)
    model = glb.write_glb([("wheel", box, (-1.0, 0.0, 0.0), (0.1, 0.1, 0.1, 1.0)),
                           ("wheel", box, (1.0, 0.0, 0.0), (0.1, 0.1, 0.1, 1.0)),
                           ("body", glb._box(2, 0.5, 1), (0.0, 0.5, 0.0), (0.8, 0.2, 0.2, 1.0))])
    path = tmp_path / "cart.glb"
    path.write_bytes(model)
    job = session.submit("thrixel", "upload", {"glb_file": str(path)})
    [done] = session.run_blocking([job.id], timeout=30, echo=lambda line: None)
    assert bpy.ops.conjure.import_result(job_id=done.id) == {"FINISHED"}
    mod("blender.hierarchies").wait(done)
    wheels = [ob for ob in bpy.data.objects if ob.get("conjure_node_name") == "wheel"]
    assert len(wheels) == 2 and {ob.name for ob in wheels} == {"wheel", "wheel.001"}
    select_only([])
    bpy.context.view_layer.objects.active = wheels[1]
    layout = paint(panel)
    assert [e[3] for e in layout.ops("conjure.check_part")] == ["wheel (2×)", "wheel (2×)",
                                                                 "body"]
    assert bpy.ops.conjure.check_part(job_id=done.id, name="wheel") == {"FINISHED"}
    assert all(ob.select_get() for ob in wheels)
    assert rows(paint(panel)) == [("wheel", True), ("wheel", True), ("body", False)]
    select_only([bpy.data.objects["body"]])
    assert scene_parts.checked(done.id) == {"body"}
    select_only([wheels[0]])  # one of the two: the name, so both change together
    assert scene_parts.checked(done.id) == {"wheel"}
