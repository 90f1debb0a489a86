"""Putting a finished job's files into the active scene (main thread only).

GLB/glTF go through Blender's bundled glTF importer, FBX through the bundled FBX importer, VOX
through Conjure's own. The new objects are found by comparing the scene before and after, moved
into one new collection named after the job, and tagged with where they came from, so lineage
survives Blender's ``.001`` renames and a saved file.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import bpy

#: Custom properties set on every imported object.
TAGS = ("conjure_provider", "conjure_job_id", "conjure_remote_id", "conjure_node_name")


class ImportFailed(Exception):
    """A result file could not be brought into the scene."""


def _import_file(context: bpy.types.Context, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in (".glb", ".gltf"):
        result = cast(set[str], bpy.ops.import_scene.gltf(filepath=str(path)))
    elif suffix == ".fbx":
        result = cast(set[str], bpy.ops.import_scene.fbx(filepath=str(path)))
    elif suffix == ".vox":
        from .vox.blender import import_vox

        import_vox(context, str(path))
        return
    else:
        raise ImportFailed(f"{path.name}: Conjure cannot import {suffix or 'this'} files")
    if "FINISHED" not in result:
        raise ImportFailed(f"{path.name}: Blender's importer reported {sorted(result)}")


def import_result(context: bpy.types.Context, *, provider: str, job_id: str, remote_id: str,
                  paths: list[Path], name: str | None = None) -> list[bpy.types.Object]:
    """Import ``paths`` into a new collection in the active scene; returns the new objects."""
    if context.object is not None and context.object.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    scene = context.scene
    before = set(bpy.data.objects)
    for path in paths:
        _import_file(context, path)
    new = [ob for ob in bpy.data.objects if ob not in before]
    collection = bpy.data.collections.new(name or f"Conjure {provider} {job_id}")
    scene.collection.children.link(collection)
    for ob in new:
        for old in list(ob.users_collection):
            old.objects.unlink(ob)
        collection.objects.link(ob)
        ob["conjure_provider"] = provider
        ob["conjure_job_id"] = job_id
        ob["conjure_remote_id"] = remote_id
        ob["conjure_node_name"] = ob.name
    return new
