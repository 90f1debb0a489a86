"""Results that replace their parent's parts in place (a Thrixel edit, a part-focused detail).

The parent's objects in the scene stay the user's: a part whose mesh content the service did
not change (its digest, ``formats.gltf_parts``) keeps its object untouched, with the materials,
modifiers, transforms and parenting the user gave it; a changed part keeps its object and gets
the new mesh data (so constraints and references to it hold); new parts are added to the
model's collection under the same parents; parts the result no longer has are deleted or
hidden (a preference). The model stays where the user put it: the result's placement is
carried over from the parts both versions share, which also makes up for the service moving
the model's origin. The version replaced is kept (unless turned off) as copies in a hidden
"history" collection inside the model's, and ``swap`` shows it instead of the current one.

Everything happens in the calling operator, so it is one undo step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import bpy
from mathutils import Matrix

from ..formats.gltf_parts import MESH_DIGEST, NODE_INDEX, GltfPartsError, node_parts
from ..jobs.model import Job
from ..workflow import lineage
from ..workflow import parts as part_match
from ..workflow.sequence import ImportFailed
from . import parts, scene_import
from .scene_import import ImportSettings

#: On a version collection: the job whose result replaced it.
REPLACED_BY = "conjure_replaced_by"
#: On a current part's object: its hide flags before ``swap`` hid it.
SWAP_HIDDEN = "conjure_swap_hidden"
#: Data-blocks an import may create, emptied in this order (users first).
_DATA = ("meshes", "materials", "node_groups", "textures", "images")


@dataclass
class Target:
    """The parent model in the scene: its current objects and the collection holding them."""

    objects: list[bpy.types.Object]
    collection: bpy.types.Collection


@dataclass
class Applied:
    objects: list[bpy.types.Object]
    collection: str
    unchanged: int = 0
    changed: int = 0
    added: int = 0
    gone: int = 0
    history: str = ""
    summary: str = field(default="")


def target(context: bpy.types.Context, job: Job, path: Path | None) -> Target | None:
    """The parent model ``job``'s result replaces in place, or None when it comes in beside
    (not an edit or focused detail, the parent is not in this scene, the file is not a .glb,
    or it shares no part with the parent)."""
    if path is None or path.suffix.lower() != ".glb" or not job.parent_id:
        return None
    if not part_match.applies_in_place(job.service, job.operation, job.params):
        return None
    live = parts.model_objects(job.parent_id, context.scene)
    if not live:
        return None
    active = context.view_layer.objects.active if context.view_layer else None
    homes = Counter(ob.users_collection[0] for ob in live if ob.users_collection)
    home = active.users_collection[0] if active in live and active.users_collection else \
        homes.most_common(1)[0][0]
    # By name: of a part and the user's copy of it (same tags), the original (``crank``
    # before ``crank.001``) is the one the result's part pairs with.
    live = sorted((ob for ob in live if home in ob.users_collection), key=lambda ob: ob.name)
    return Target(live, home) if _shares_parts(path, live) else None


def lite_target(job: Job, path: Path | None) -> Target | None:
    """The job's own lite model in this file, which its full-quality result replaces in place
    (each part keeps its object, with what the user did to it, and gets the full mesh); None
    when there is none or the result shares no part with it."""
    live = sorted(scene_import.lite_objects(job.id), key=lambda ob: ob.name)
    if path is None or path.suffix.lower() != ".glb" or not live:
        return None
    home = next(iter(live[0].users_collection), None)
    return Target(live, home) if home is not None and _shares_parts(path, live) else None


def _shares_parts(path: Path, live: list[bpy.types.Object]) -> bool:
    """Whether the result file has a part named as one of ``live`` (else it is a model of its
    own, e.g. one dense mesh, and comes in beside)."""
    try:
        incoming = {part.name for part in node_parts(path)}
    except (GltfPartsError, OSError):
        return False
    return bool(incoming & {str(ob.get("conjure_node_name")) for ob in live})


def _pieces(objects: list[bpy.types.Object]) -> list[part_match.Piece]:
    """The objects as parts: their node name, kind, mesh digest and place in their file
    (objects that do not know it come last, in the order given)."""
    found = []
    for key, ob in enumerate(objects):
        index = ob.get(NODE_INDEX)
        found.append(part_match.Piece(
            key, str(ob.get("conjure_node_name") or ob.name), ob.type.lower(),
            ob.get(MESH_DIGEST), int(index) if index is not None else 1_000_000 + key))
    return found


def _values(m: Matrix) -> list[float]:
    return [m[row][col] for row in range(4) for col in range(4)]


def _close(a: Matrix, b: Matrix) -> bool:
    left, right = _values(a), _values(b)
    scale = max(1.0, *(abs(v) for v in left))
    return all(abs(x - y) <= 1e-4 * scale for x, y in zip(left, right, strict=True))


def placement(pairs: Iterable[tuple[bpy.types.Object, Matrix]]) -> Matrix:
    """Where the result goes: the transform taking each shared part from where the result
    has it to where the user has it, as most shared parts agree (a part the user moved on its
    own is outvoted). Identity when nothing is shared."""
    candidates = [ob.matrix_world @ world.inverted_safe() for ob, world in list(pairs)[:64]]
    if not candidates:
        return Matrix.Identity(4)
    return max(candidates, key=lambda c: sum(_close(c, other) for other in candidates))


def _keep_previous(target: Target, job: Job) -> bpy.types.Collection:
    """Copies of the model as it is now (sharing its mesh data) in a hidden collection inside
    the model's: the changed parts' copies keep the old meshes once the new ones are in."""
    home = target.collection
    history = next((c for c in home.children if c.get(parts.HISTORY_TAG)), None)
    if history is None:
        history = bpy.data.collections.new(f"{home.name} · history")
        history[parts.HISTORY_TAG] = True
        history.hide_viewport = history.hide_render = True
        home.children.link(history)
    version = bpy.data.collections.new(f"{home.name} · before {job.id[:6]}")
    version[parts.HISTORY_TAG] = True
    version[REPLACED_BY] = job.id
    version.hide_viewport = version.hide_render = True
    history.children.link(version)
    copies = {}
    for ob in target.objects:
        copy = ob.copy()
        version.objects.link(copy)
        copies[ob] = copy
    for ob, copy in copies.items():
        if ob.parent in copies:
            copy.parent = copies[ob.parent]  # same parent inverse, same place
    return version


def _swap_mesh(live: bpy.types.Object, incoming: bpy.types.Object) -> None:
    old = live.data
    live.data = incoming.data
    if isinstance(old, bpy.types.Mesh) and old.users == 0:
        bpy.data.meshes.remove(old)


def _drop(ob: bpy.types.Object, remove: bool) -> None:
    """A part the result no longer has: deleted (its children keep their place), or hidden."""
    if not remove:
        ob[parts.GONE_TAG] = True
        ob.hide_viewport = ob.hide_render = True
        return
    for child in list(ob.children):
        world = child.matrix_world.copy()
        child.parent = ob.parent
        child.matrix_world = world
    bpy.data.objects.remove(ob)


def _add(ob: bpy.types.Object, home: bpy.types.Collection, live_of: dict,
         worlds: dict, place: Matrix) -> None:
    """A new part: into the model's collection, under its parent's object (the user's one,
    placed relative to it as the result has it, when the parent is an old part), where the
    model is."""
    for collection in list(ob.users_collection):
        collection.objects.unlink(ob)
    home.objects.link(ob)
    parent = ob.parent
    if parent is not None and parent in live_of:
        user_parent = live_of[parent]
        ob.parent = user_parent
        ob.matrix_parent_inverse = Matrix.Identity(4)
        ob.matrix_world = user_parent.matrix_world @ worlds[parent].inverted_safe() @ worlds[ob]
    elif parent is None:
        ob.matrix_world = place @ worlds[ob]


def _clean(created: dict[str, set[int]]) -> None:
    """Data-blocks the import made that nothing uses any more (the meshes and materials of
    the parts that did not change)."""
    for name in _DATA:
        blocks = getattr(bpy.data, name)
        for block in [b for b in blocks if b.as_pointer() in created[name] and b.users == 0]:
            blocks.remove(block)


def _created_since(before: dict[str, set[int]]) -> dict[str, set[int]]:
    return {name: {b.as_pointer() for b in getattr(bpy.data, name)} - before[name]
            for name in _DATA}


def apply(context: bpy.types.Context, job: Job, path: Path, target: Target,
          settings: ImportSettings, *, every_mesh: bool = False) -> Applied:
    """Replace ``target``'s parts with the result's, in place (see the module's notes).
    ``every_mesh``: parts whose mesh content is the same get the result's mesh too (a lite
    model's parts differ from the full ones in their materials, which the digest leaves out)."""
    if showing_before(job.parent_id or ""):
        swap(job.parent_id or "")  # the current version is the one being changed
    before = {name: {b.as_pointer() for b in getattr(bpy.data, name)} for name in _DATA}
    incoming = scene_import.import_objects(context, path, settings)
    context.view_layer.update()
    worlds = {ob: ob.matrix_world.copy() for ob in incoming}
    found = part_match.match(_pieces(target.objects), _pieces(incoming))
    pairs = [(target.objects[o], incoming[n]) for o, n in found.unchanged + found.changed]
    if not pairs:
        raise ImportFailed(f"{path.name} shares no part with the model it was made from")
    place = placement((old, worlds[new]) for old, new in sorted(
        pairs, key=lambda p: p[0].type != "MESH"))
    version = _keep_previous(target, job) if settings.keep_history else None
    for o, n in found.changed + (found.unchanged if every_mesh else []):
        if incoming[n].type == "MESH":
            _swap_mesh(target.objects[o], incoming[n])
    live_of = {new: old for old, new in pairs}
    for n in found.added:
        _add(incoming[n], target.collection, live_of, worlds, place)
    current = [old for old, _ in pairs] + [incoming[n] for n in found.added] + \
        [target.objects[o] for o in found.extra]
    for old, new in pairs:
        _retag(old, job, new)
    for n in found.added:
        _retag(incoming[n], job, incoming[n])
    for o in found.extra:  # the user's copies of a part: theirs, still of the model
        _retag(target.objects[o], job, target.objects[o])
    parts.moved(job.parent_id or "", job.id)
    for new in live_of:
        bpy.data.objects.remove(new)
    for o in found.gone:
        _drop(target.objects[o], settings.remove_gone)
    _clean(_created_since(before))
    context.view_layer.update()  # the view layer lets go of the objects removed
    _select(context, [target.objects[o] for o, _ in found.changed] +
            [incoming[n] for n in found.added], current)
    return Applied(_roots_first(current), target.collection.name, len(found.unchanged),
                   len(found.changed), len(found.added), len(found.gone),
                   version.name if version else "")


def _retag(ob: bpy.types.Object, job: Job, source: bpy.types.Object) -> None:
    """``ob`` is now a part of ``job``'s model; its node index and digest are the result's."""
    name = str(ob.get("conjure_node_name") or source.get("conjure_node_name") or ob.name)
    index, digest = source.get(NODE_INDEX), source.get(MESH_DIGEST)
    scene_import.tag(ob, job.service, job.id, lineage.submission_id(job), name)
    for key, value in ((NODE_INDEX, index), (MESH_DIGEST, digest)):
        if value is None:
            ob.pop(key, None)
        else:
            ob[key] = value


def _select(context: bpy.types.Context, changed: list[bpy.types.Object],
            current: list[bpy.types.Object]) -> None:
    view_layer = context.view_layer
    for ob in view_layer.objects:
        if ob.select_get():
            ob.select_set(False)
    for ob in changed:
        if ob.name in view_layer.objects:
            ob.select_set(True)
    active = changed[0] if changed else (current[0] if current else None)
    if active is not None and active.name in view_layer.objects:
        view_layer.objects.active = active


def _roots_first(objects: list[bpy.types.Object]) -> list[bpy.types.Object]:
    members = set(objects)
    roots = [ob for ob in objects if ob.parent not in members]
    return roots + [ob for ob in objects if ob not in roots]


# -- before / after ------------------------------------------------------------------------------

def latest_version(job_id: str) -> bpy.types.Collection | None:
    """The kept version that ``job_id``'s result replaced, if any."""
    return next((c for c in bpy.data.collections if c.get(REPLACED_BY) == job_id), None)


def showing_before(job_id: str) -> bool:
    """Whether the model of ``job_id`` shows its kept earlier version instead of itself."""
    version = latest_version(job_id)
    return version is not None and not version.hide_viewport


def swap(job_id: str) -> bool:
    """Show the earlier version kept for ``job_id``'s model instead of the current one, or
    back; returns True when the earlier one is shown now. ``LookupError`` when none is kept."""
    version = latest_version(job_id)
    if version is None:
        raise LookupError("No earlier version of this model is kept (it arrived whole, or "
                          "keeping versions is turned off in the preferences)")
    history = next((c for c in bpy.data.collections if version.name in c.children), None)
    before = version.hide_viewport
    for ob in parts.model_objects(job_id):
        if before:
            ob[SWAP_HIDDEN] = [ob.hide_viewport, ob.hide_render]
            ob.hide_viewport = ob.hide_render = True
        else:
            hidden = ob.pop(SWAP_HIDDEN, None) or (False, False)
            ob.hide_viewport, ob.hide_render = bool(hidden[0]), bool(hidden[1])
    for collection in (version, history):
        if collection is not None:
            collection.hide_viewport = collection.hide_render = not before
    return before
