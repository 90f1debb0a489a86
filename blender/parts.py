"""A model's parts in the open file: which objects are a model's parts, which parts are checked
in the Parts panel, and keeping the checks and the viewport selection in step.

Objects are matched to parts through their ``conjure_node_name`` tag, so Blender's ``.001``
renames and the user's own renames do not matter. A name stands for every part carrying it:
Thrixel focuses parts by name, so repeated names are checked, selected and changed together.

Checks are kept per model (the job its objects carry) for this Blender session only. Checking
a part selects its objects; selecting parts in the viewport checks exactly those parts (all of
them, as after an import, is the whole model: no part checked), while selecting anything else
(a light, empty space) leaves the checks as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

import bpy

from ..jobs.model import Job
from ..providers.thrixel.hierarchy import Hierarchy
from . import mirror

#: Set on a collection of earlier versions (``in_place``); its objects are not the model.
HISTORY_TAG = "conjure_history"
#: Set on an object whose part a later result no longer has (kept hidden, by preference).
GONE_TAG = "conjure_gone"

_checked: dict[str, set[str]] = {}
_collapsed: dict[str, set[str]] = {}
_seen_selection: frozenset[int] = frozenset()


def is_live(ob: bpy.types.Object) -> bool:
    """Part of its model as it is now: not a kept earlier version, not a dropped part."""
    return not ob.get(GONE_TAG) and not any(c.get(HISTORY_TAG) for c in ob.users_collection)


def model_objects(job_id: str, scene: bpy.types.Scene | None = None) -> list[bpy.types.Object]:
    """The scene's objects of the model that carries ``job_id``, as it is now."""
    scene = scene or bpy.context.scene
    return [ob for ob in scene.objects
            if ob.get("conjure_job_id") == job_id and ob.get("conjure_node_name") is not None
            and is_live(ob)]


def objects_by_part(job_id: str) -> dict[str, list[bpy.types.Object]]:
    found: dict[str, list[bpy.types.Object]] = {}
    for ob in model_objects(job_id):
        found.setdefault(str(ob["conjure_node_name"]), []).append(ob)
    return found


def checked(job_id: str) -> set[str]:
    return set(_checked.get(job_id, ()))


def set_checked(job_id: str, names: Iterable[str]) -> None:
    _checked[job_id] = set(names)
    mirror.redraw(preferences=False)


def focus(job: Job, tree: Hierarchy | None) -> list[str]:
    """The checked part names to send as ``focus_on_node_names``, in the tree's order (names
    the model no longer has are left out); none when every part is checked."""
    names = checked(job.id)
    if tree is None:
        return sorted(names)
    leaves = {part.name for part in tree.root.walk() if not part.children}
    if leaves <= names:
        return []  # every part: the whole model, said as such
    return [name for name in tree.part_names() if name in names]


def moved(old_job_id: str, new_job_id: str) -> None:
    """A model's objects now carry ``new_job_id`` (an edit arrived in place): its checks and
    folded containers go with them."""
    for state in (_checked, _collapsed):
        if old_job_id in state and new_job_id not in state:
            state[new_job_id] = set(state[old_job_id])


def collapsed(job_id: str) -> set[str]:
    return set(_collapsed.get(job_id, ()))


def toggle_collapsed(job_id: str, path: str) -> None:
    _collapsed.setdefault(job_id, set()).symmetric_difference_update({path})


def toggle(view_layer: bpy.types.ViewLayer | None, job_id: str, name: str) -> bool:
    """Check or uncheck a part; the viewport selection of the model follows. Returns whether
    it is checked now."""
    names = checked(job_id) ^ {name}
    set_checked(job_id, names)
    select(view_layer, job_id, only_model=True)
    return name in names


def select(view_layer: bpy.types.ViewLayer | None, job_id: str, *,
           only_model: bool = False) -> int:
    """Make the viewport selection the checked parts' objects; returns how many. With
    ``only_model``, objects of other models and other objects keep their selection."""
    global _seen_selection
    if view_layer is None:
        return 0
    names = checked(job_id)
    model = set(model_objects(job_id))
    count = 0
    for ob in view_layer.objects:
        if only_model and ob not in model:
            continue
        wanted = ob in model and str(ob["conjure_node_name"]) in names
        if ob.select_get(view_layer=view_layer) != wanted:
            ob.select_set(wanted, view_layer=view_layer)
        count += wanted
    chosen = [ob for ob in view_layer.objects.selected if ob in model]
    active = view_layer.objects.active
    if chosen and (active is None or active not in model):
        view_layer.objects.active = chosen[0]
    # The checks made this selection; reading it back must not change them.
    _seen_selection = _signature(view_layer)
    return count


def check_selected(view_layer: bpy.types.ViewLayer | None, job_id: str) -> set[str]:
    """Check exactly the parts whose objects are selected (none: no checks)."""
    if view_layer is None:
        return set()
    names = {str(ob["conjure_node_name"]) for ob in view_layer.objects.selected
             if ob.get("conjure_job_id") == job_id and ob.get("conjure_node_name") is not None
             and is_live(ob)}
    set_checked(job_id, names)
    return names


def selected_by_model(view_layer: bpy.types.ViewLayer) -> dict[str, set[str]]:
    """The selected parts of each model that has some selected."""
    found: dict[str, set[str]] = {}
    for ob in view_layer.objects.selected:
        job_id, name = ob.get("conjure_job_id"), ob.get("conjure_node_name")
        if job_id and name is not None and is_live(ob):
            found.setdefault(str(job_id), set()).add(str(name))
    return found


def _signature(view_layer: bpy.types.ViewLayer) -> frozenset[int]:
    return frozenset(ob.as_pointer() for ob in view_layer.objects.selected)


def follow_selection(view_layer: bpy.types.ViewLayer | None) -> bool:
    """The viewport selection changed: models with selected parts have exactly those checked.
    Returns whether any checks changed."""
    global _seen_selection
    if view_layer is None:
        return False
    signature = _signature(view_layer)
    if signature == _seen_selection:
        return False
    _seen_selection = signature
    changed = False
    for job_id, names in selected_by_model(view_layer).items():
        if names >= set(objects_by_part(job_id)):
            names = set()  # the whole model selected (as it is after import): no part chosen
        if _checked.get(job_id) != names:
            _checked[job_id] = names
            changed = True
    if changed:
        mirror.redraw(preferences=False)
    return changed


@bpy.app.handlers.persistent
def _after_depsgraph(*_args: object) -> None:
    # Selecting in the viewport tags the depsgraph, so this runs after every selection change
    # (and after many other updates, which the selection's signature lets through cheaply).
    follow_selection(getattr(bpy.context, "view_layer", None))


@bpy.app.handlers.persistent
def _after_load(*_args: object) -> None:
    global _seen_selection
    _checked.clear()
    _collapsed.clear()
    _seen_selection = frozenset()


_HANDLERS = ((bpy.app.handlers.depsgraph_update_post, _after_depsgraph),
             (bpy.app.handlers.load_post, _after_load))


def register() -> None:
    for handlers, handler in _HANDLERS:
        if handler not in handlers:
            handlers.append(handler)


def unregister() -> None:
    for handlers, handler in _HANDLERS:
        while handler in handlers:
            handlers.remove(handler)
    _after_load()
