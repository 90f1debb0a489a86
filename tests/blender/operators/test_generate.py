"""``conjure.generate`` on its blocking path, per service, against the sandbox: the model is in
the scene in its own collection, at the 3D cursor, selected with the root active, and every
object carries its lineage and the node's original name."""

import json
import struct

import bpy
import pytest
from mathutils import Vector


def glb_node_names(path):
    """Node names straight from the file (read here, independently of Conjure's reader)."""
    data = path.read_bytes()
    length = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + length])
    meshes = doc.get("meshes", [])
    return sorted(n.get("name") or meshes[n["mesh"]]["name"] for n in doc["nodes"]
                  if n.get("name") or "mesh" in n)


def conjure_objects(job_id):
    return [ob for ob in bpy.data.objects if ob.get("conjure_job_id") == job_id]


def newest_job(session):
    return session.get().journal.jobs(limit=1)[0]


def check_in_scene(session, job, cursor, service):
    objects = conjure_objects(job.id)
    assert objects, "nothing was imported"
    [collection] = {c for ob in objects for c in ob.users_collection}
    assert collection.name in bpy.context.scene.collection.children
    assert set(collection.objects) == set(objects)
    assert job.id[:6] in collection.name
    roots = [ob for ob in objects if ob.parent is None]
    assert bpy.context.view_layer.objects.active in roots
    assert all(ob.select_get() for ob in objects)
    for ob in objects:
        assert ob["conjure_provider"] == service
        assert ob["conjure_remote_id"] == job.remote_id and job.remote_id
    # Placed at the cursor: the roots moved by the cursor's offset from where the file put them.
    for root in roots:
        assert (root.matrix_world.translation - Vector(cursor)).length < 0.5 + \
            root.matrix_basis.translation.length
    assert session.get().journal.require(job.id).state == "imported"
    return objects


def test_thrixel_text_to_model_in_scene(session, thrixel, fresh_scene, capsys):
    bpy.context.scene.cursor.location = (4.0, -2.0, 1.0)
    # An object already named like a part, so Blender renames the imported one to ".001".
    result = bpy.ops.conjure.generate(provider="THRIXEL", prompt="a brass orrery")
    assert result == {"FINISHED"}
    # Progress lines on the blocking path.
    assert "[conjure] Thrixel · Create" in capsys.readouterr().out
    job = newest_job(session)
    assert (job.service, job.operation, job.params["task"]) == ("thrixel", "create",
                                                                   "a brass orrery")
    objects = check_in_scene(session, job, (4.0, -2.0, 1.0), "thrixel")
    [glb] = [p for p in session.result_paths(job) if p.suffix == ".glb"]
    assert sorted(ob["conjure_node_name"] for ob in objects) == glb_node_names(glb)


def test_node_names_survive_blender_renames(session, thrixel, fresh_scene):
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a potion cauldron") == \
        {"FINISHED"}
    first = newest_job(session)
    # The same model again: every name is taken now, so Blender adds ".001" to each.
    assert bpy.ops.conjure.import_result(job_id=first.id) == {"FINISHED"}
    again = [ob for ob in conjure_objects(first.id) if ob.name.endswith(".001")]
    assert again, "expected Blender to rename the second import's objects"
    [glb] = [p for p in session.result_paths(first) if p.suffix == ".glb"]
    names = glb_node_names(glb)
    for ob in again:
        assert ob["conjure_node_name"] == ob.name[:-4]
        assert ob["conjure_node_name"] in names


def test_tripo_with_options_in_scene(session, tripo, fresh_scene):
    bpy.context.scene.cursor.location = (0.0, 3.0, 0.0)
    result = bpy.ops.conjure.generate(provider="TRIPO", prompt="a stone gargoyle",
                                      options='{"face_limit": 5000}')
    assert result == {"FINISHED"}
    job = newest_job(session)
    assert job.operation == "text_to_model" and job.params["face_limit"] == 5000
    check_in_scene(session, job, (0.0, 3.0, 0.0), "tripo")


def test_pixal3d_image_url_implies_image_mode(session, pixazo, fresh_scene):
    result = bpy.ops.conjure.generate(provider="PIXAL3D",
                                      image_url="https://example.com/chair.png")
    assert result == {"FINISHED"}
    job = newest_job(session)
    assert job.service == "pixal3d" and job.operation == "image_to_3d"
    check_in_scene(session, job, (0.0, 0.0, 0.0), "pixal3d")


def test_voxelai_candidate_index_voxelizes_without_asking(session, voxelai, fresh_scene):
    result = bpy.ops.conjure.generate(provider="VOXELAI", prompt="a voxel fox",
                                      candidate_index=1, options='{"voxel_size": 16}')
    assert result == {"FINISHED"}
    model = newest_job(session)
    assert model.operation == "voxelize" and model.params["voxel_size"] == 16
    candidates = session.get().journal.require(model.parent_id)
    assert candidates.operation == "candidates" and candidates.state == "ready"
    assert model.params["image"].endswith(sorted(candidates.result_files)[1])
    objects = conjure_objects(model.id)
    assert objects and all(ob["conjure_provider"] == "voxelai" for ob in objects)


def test_bad_options_are_refused_naming_the_field(session, thrixel, fresh_scene):
    before = len(session.get().journal.jobs())
    with pytest.raises(RuntimeError, match="options: not valid JSON"):
        bpy.ops.conjure.generate(provider="TRIPO", prompt="x", options="{face_limit: 1")
    with pytest.raises(RuntimeError, match="no parameter 'face_limt'"):
        bpy.ops.conjure.generate(provider="TRIPO", prompt="x", options='{"face_limt": 1}')
    with pytest.raises(RuntimeError, match=r"mode: .*no mode or operation 'sculpt'"):
        bpy.ops.conjure.generate(provider="THRIXEL", prompt="x", mode="sculpt")
    assert len(session.get().journal.jobs()) == before


def test_failed_job_reports_the_services_reason(session, thrixel, sandbox, fresh_scene):
    sandbox.add_key("thrixel", "sk-thrixel-blocked", faults="fail=CONTENT_BLOCKED")
    thrixel.thrixel_key = "sk-thrixel-blocked"
    with pytest.raises(RuntimeError, match="failed"):
        bpy.ops.conjure.generate(provider="THRIXEL", prompt="something forbidden")
    job = newest_job(session)
    assert job.state == "failed" and not conjure_objects(job.id)


def test_invoke_without_a_window_blocks_like_execute(session, thrixel, fresh_scene):
    # The bpy module has no event loop: INVOKE_DEFAULT must not leave the job to a pump that
    # never runs.
    assert bpy.ops.conjure.generate("INVOKE_DEFAULT", provider="THRIXEL",
                                    prompt="a lantern") == {"FINISHED"}
    assert conjure_objects(newest_job(session).id)


def test_tripo_quad_result_comes_as_fbx_through_blenders_fbx_importer(session, tripo,
                                                                       fresh_scene):
    result = bpy.ops.conjure.generate(provider="TRIPO", prompt="a low-poly crate",
                                      options='{"quad": true}')
    assert result == {"FINISHED"}
    job = newest_job(session)
    [path] = session.result_paths(job)
    assert path.suffix == ".fbx" and path.read_bytes().startswith(b"Kaydara FBX Binary")
    objects = check_in_scene(session, job, (0.0, 0.0, 0.0), "tripo")
    assert any(ob.type == "MESH" and len(ob.data.polygons) > 0 for ob in objects)
    assert all(ob["conjure_node_name"] for ob in objects)
