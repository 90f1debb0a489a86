"""The "Merge Vertices" import preference on a real Thrixel model."""

import importlib

import bpy

from support.fixtures import FIXTURES

MODEL = FIXTURES / "glb" / "thrixel" / "lighthouse-rough.glb"


def test_merge_vertices_closes_split_seams_and_keeps_every_part(conjure, fresh_scene):
    scene = importlib.import_module(f"{conjure.__name__}.blender.scene_import")
    imported = {}
    for merge in (False, True):
        objects = scene.import_result(
            bpy.context, service="thrixel", job_id=f"merge-{merge}", remote_id="r1",
            paths=[MODEL], settings=scene.ImportSettings(merge_vertices=merge))
        meshes = [ob for ob in objects if ob.type == "MESH"]
        imported[merge] = (sorted(ob["conjure_node_name"] for ob in meshes),
                           sum(len(ob.data.vertices) for ob in meshes),
                           sum(len(ob.data.polygons) for ob in meshes))
    (names_split, verts_split, faces_split), (names_merged, verts_merged, faces_merged) = (
        imported[False], imported[True])
    assert names_merged == names_split and faces_merged == faces_split
    assert verts_merged < verts_split
