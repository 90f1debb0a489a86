"""Putting a finished job's files into the active scene (main thread only).

GLB/glTF go through Blender's bundled glTF importer, FBX through the bundled FBX importer, USD(Z)
through Blender's USD importer, VOX through Conjure's own. The new objects are found by comparing
the file's objects before and after, moved into one new collection named after the job, placed at
the 3D cursor, selected (the root active) and tagged with where they came from, so lineage
survives Blender's ``.001`` renames and a saved file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import bmesh
import bpy
from mathutils import Matrix, Vector

from ..formats.gltf_nodes import match_names, node_names
from ..formats.gltf_parts import GltfPartsError, tagged_copy
from ..formats.vox.format import DEFAULT_MAX_FACES, VoxFormatError
from ..workflow.sequence import ImportFailed
from .vox_import import import_vox

#: Custom properties set on every imported object.
TAGS = ("conjure_provider", "conjure_job_id", "conjure_remote_id", "conjure_node_name")
#: "lite" on the objects of a lite model, which the full-quality one replaces; "full" on the
#: objects that replaced one.
LITE_TAG = "conjure_quality"

#: Model files in the order one is chosen when a job delivered several (a glTF keeps the part
#: names services use; the others are conversions of it).
MODEL_SUFFIXES = (".glb", ".gltf", ".fbx", ".vox", ".usdz", ".usd", ".usdc", ".usda")


@dataclass(frozen=True)
class ImportSettings:
    """How results land in the scene (from the add-on preferences)."""

    at_cursor: bool = True
    collection_per_job: bool = True
    merge_vertices: bool = False
    #: Largest dimension the model is scaled to, in scene units; 0 keeps the service's size.
    target_size: float = 0.0
    #: Most faces a .vox result may be meshed into ("Max Faces"); a bigger one is refused.
    max_faces: int = DEFAULT_MAX_FACES
    #: An edit applied in place keeps the version it replaces in a hidden collection.
    keep_history: bool = True
    #: Parts a result no longer has are deleted (False: hidden).
    remove_gone: bool = True


def tag(ob: bpy.types.Object, service: str, job_id: str, remote_id: str, node_name: str) -> None:
    """Record where ``ob`` came from (``TAGS``), so follow-ups find its job from it."""
    # "provider": the name 0.1 saved in users' files, which follow-ups still read.
    ob["conjure_provider"] = service
    ob["conjure_job_id"] = job_id
    ob["conjure_remote_id"] = remote_id
    ob["conjure_node_name"] = node_name


def tag_id(block: bpy.types.ID, service: str, job_id: str, remote_id: str) -> None:
    """Record on a data-block other than an object (a collection) which job it holds."""
    block["conjure_provider"] = service
    block["conjure_job_id"] = job_id
    block["conjure_remote_id"] = remote_id


def model_files(paths: Iterable[Path]) -> list[Path]:
    """The one file of a job's results to import (empty when there is none)."""
    by_suffix = {p.suffix.lower(): p for p in paths}
    for suffix in MODEL_SUFFIXES:
        if suffix in by_suffix:
            return [by_suffix[suffix]]
    return []


def accepted_options(operator: Any, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """``wanted`` reduced to the options this Blender's ``operator`` has (their names differ
    between Blender versions, and an unknown keyword makes the call fail)."""
    names = {p.identifier for p in operator.get_rna_type().properties}
    return {k: v for k, v in wanted.items() if k in names}


def _call(operator: Callable[..., set[str]], path: Path, **options: Any) -> None:
    try:
        result = operator(filepath=str(path), **accepted_options(operator, options))
    except RuntimeError as exc:
        raise ImportFailed(f"{path.name}: Blender's importer failed: "
                           f"{str(exc).strip().splitlines()[-1]}") from exc
    if "FINISHED" not in result:
        raise ImportFailed(f"{path.name}: Blender's importer reported {sorted(result)}")


def _import_file(context: bpy.types.Context, path: Path, settings: ImportSettings) -> None:
    suffix = path.suffix.lower()
    ops = cast(Any, bpy.ops)
    if not path.is_file():
        raise ImportFailed(f"{path.name} is missing from {path.parent}; the result folder was "
                           "moved or cleared")
    if suffix == ".glb":
        with tempfile.TemporaryDirectory(prefix="conjure-") as folder:
            tagged = Path(folder) / path.name
            try:
                # Each node's object gets its node name and mesh digest (see gltf_parts).
                tagged_copy(path, tagged)
            except (GltfPartsError, OSError):
                tagged = path  # Blender's importer says what is wrong with it
            _import_gltf(tagged, settings)
    elif suffix == ".gltf":
        _import_gltf(path, settings)
    elif suffix == ".fbx":
        _call(ops.import_scene.fbx, path, use_custom_props=True)
    elif suffix in (".usdz", ".usd", ".usdc", ".usda"):
        _call(ops.wm.usd_import, path)
    elif suffix == ".vox":
        try:
            import_vox(context, str(path), max_faces=settings.max_faces)
        except VoxFormatError as exc:
            raise ImportFailed(f"{path.name}: {exc}") from exc
    else:
        raise ImportFailed(f"{path.name}: Conjure cannot import {suffix or 'this'} files")


def _import_gltf(path: Path, settings: ImportSettings) -> None:
    _call(cast(Any, bpy.ops).import_scene.gltf, path, merge_vertices=settings.merge_vertices,
          import_shading="NORMALS", import_pack_images=True,
          # 5.x: Conjure makes its own collection and selection.
          import_scene_as_collection=False, import_select_created_objects=False)


def object_mode(context: bpy.types.Context) -> None:
    ob = context.view_layer.objects.active
    if ob is not None and ob.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")


def _roots(objects: list[bpy.types.Object]) -> list[bpy.types.Object]:
    members = set(objects)
    return [ob for ob in objects if ob.parent not in members]


def _size(objects: Iterable[bpy.types.Object]) -> float:
    """The largest dimension of the objects' world-space bounding box (0 when they have no
    geometry)."""
    corners = [ob.matrix_world @ Vector(corner) for ob in objects
               if ob.type in {"MESH", "CURVE", "SURFACE", "FONT", "META", "VOLUME",
                              "POINTCLOUD", "CURVES"}
               for corner in ob.bound_box]
    if not corners:
        return 0.0
    return max(max(c[axis] for c in corners) - min(c[axis] for c in corners)
               for axis in range(3))


def _merge_vertices(objects: Iterable[bpy.types.Object]) -> None:
    done = set()
    for ob in objects:
        mesh = ob.data
        if not isinstance(mesh, bpy.types.Mesh) or mesh in done:
            continue
        done.add(mesh)
        bm = bmesh.new()
        bm.from_mesh(mesh)
        bmesh.ops.remove_doubles(bm, verts=list(bm.verts), dist=1e-5)
        bm.to_mesh(mesh)
        bm.free()


def _place(context: bpy.types.Context, objects: list[bpy.types.Object],
           settings: ImportSettings) -> None:
    roots = _roots(objects)
    context.view_layer.update()
    if settings.target_size > 0:
        size = _size(objects)
        if size > 0:
            factor = settings.target_size / size
            for ob in roots:
                ob.matrix_world = Matrix.Scale(factor, 4) @ ob.matrix_world
    if settings.at_cursor:
        offset = context.scene.cursor.location.copy()
        for ob in roots:
            ob.matrix_world.translation += offset
    context.view_layer.update()


def import_objects(context: bpy.types.Context, path: Path,
                   settings: ImportSettings) -> list[bpy.types.Object]:
    """Bring one model file's objects into the file as the importer leaves them (in the
    active collection, where the file put them); ``ImportFailed`` when there are none."""
    object_mode(context)
    before = set(bpy.data.objects)
    _import_file(context, path, settings)
    new = [ob for ob in bpy.data.objects if ob not in before]
    if not new:
        raise ImportFailed(f"{path.name} contained no objects")
    if settings.merge_vertices and path.suffix.lower() not in (".glb", ".gltf"):
        _merge_vertices(new)  # the glTF importer merged them itself
    return new


def import_result(context: bpy.types.Context, *, service: str, job_id: str, remote_id: str,
                  paths: list[Path], name: str | None = None,
                  settings: ImportSettings | None = None,
                  lite: bool = False) -> list[bpy.types.Object]:
    """Import the job's model into the active scene; returns the new objects, root first.
    ``lite``: it is the quicker version of a result still being finished (``LITE_TAG`` marks
    it, so the result replaces it later).

    Raises ``ImportFailed`` when nothing could be imported. One undo step comes from the
    calling operator (``conjure.import_result``, whose options include UNDO).
    """
    settings = settings or ImportSettings()
    scene = context.scene
    new = _bring_in(context, service=service, job_id=job_id, remote_id=remote_id, paths=paths,
                    settings=settings, lite=lite)
    if settings.collection_per_job:
        target = bpy.data.collections.new(name or f"Conjure {service} {job_id}")
        scene.collection.children.link(target)
    else:
        target = context.collection or scene.collection
    _move_to(new, target)
    _place(context, new, settings)

    for ob in context.view_layer.objects:
        if ob.select_get():
            ob.select_set(False)
    for ob in new:
        if ob.name in context.view_layer.objects:
            ob.select_set(True)
    roots = _roots(new)
    context.view_layer.objects.active = roots[0]
    return roots + [ob for ob in new if ob not in roots]


def import_model(context: bpy.types.Context, *, service: str, job_id: str, remote_id: str,
                 paths: list[Path], settings: ImportSettings) -> list[bpy.types.Object]:
    """The job's model, tagged, where the importer puts it (the context's collection), neither
    moved nor selected: for copies made outside the user's scene (the asset library)."""
    return _bring_in(context, service=service, job_id=job_id, remote_id=remote_id, paths=paths,
                     settings=settings, lite=False)


def _bring_in(context: bpy.types.Context, *, service: str, job_id: str, remote_id: str,
              paths: list[Path], settings: ImportSettings, lite: bool) -> list[bpy.types.Object]:
    """Run the importer on the job's model file; the new objects, tagged, where the importer
    put them."""
    files = model_files(paths)
    if not files:
        shown = ", ".join(p.name for p in paths) or "no files"
        raise ImportFailed(f"job {job_id} delivered no model Conjure can import ({shown})")
    new = import_objects(context, files[0], settings)
    original_of = match_names([ob.name for ob in new], node_names(files[0]))
    for ob in new:
        # A .glb's objects know their node's name already (``tagged_copy``).
        node_name = ob.get("conjure_node_name") or original_of.get(ob.name, ob.name)
        tag(ob, service, job_id, remote_id, str(node_name))
        if lite:
            ob[LITE_TAG] = "lite"
    return new


def _move_to(objects: list[bpy.types.Object], target: bpy.types.Collection) -> None:
    for ob in objects:
        for old in list(ob.users_collection):
            old.objects.unlink(ob)
        target.objects.link(ob)


def lite_objects(job_id: str) -> list[bpy.types.Object]:
    """The objects of the job's lite model in this file (``import_result(lite=True)``)."""
    return [ob for ob in bpy.data.objects
            if ob.get("conjure_job_id") == job_id and ob.get(LITE_TAG) == "lite"]


def remove_objects(objects: list[bpy.types.Object]) -> None:
    """Delete ``objects`` and what only they used: their data, its materials and images."""
    if not objects:
        return
    data = {ob.data for ob in objects if ob.data is not None}
    materials = {m for d in data for m in getattr(d, "materials", ()) if m is not None}
    images = {node.image for m in materials if m.node_tree for node in m.node_tree.nodes
              if getattr(node, "image", None) is not None}
    bpy.data.batch_remove(ids=list(objects))
    for kind in (data, materials, images):
        unused = [i for i in kind if i.users == 0]
        if unused:
            bpy.data.batch_remove(ids=unused)
