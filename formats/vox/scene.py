"""Flattens the nTRN/nGRP/nSHP graph into a parent-ordered list of nodes to build. bpy-free."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .format import VoxFile


@dataclass
class SceneNode:
    """One object to create: a group (an empty) or one model instance (a mesh object).

    ``matrix`` is the frame-0 transform relative to ``parent`` (an index into the flattened
    list, earlier than this node), in voxel units. ``hidden`` already includes hidden ancestors.
    """

    kind: str  # "GROUP" or "SHAPE"
    name: str
    parent: int | None
    matrix: np.ndarray
    model_id: int = -1
    layer_id: int = -1
    hidden: bool = False
    node_id: int = -1


def flatten_scene(vox: VoxFile) -> list[SceneNode]:
    """Nodes in creation order; a shared node appears once per path that reaches it.

    Without a scene graph every model is one node at the origin. Otherwise nTRN nodes give
    their frame-0 transform, name, layer and visibility to the group or shape beneath them.
    The parser has already rejected cycles, dangling references and runaway sharing.
    """
    if not vox.has_scene_graph:
        return [
            SceneNode("SHAPE", f"model {index}", None, np.eye(4), model_id=index)
            for index in range(len(vox.models))
        ]
    nodes: list[SceneNode] = []
    # Each entry carries what the transforms above a node give it: parent, hidden, matrix,
    # name and layer. Transforms are consumed; groups and shapes become nodes.
    pending: list[tuple[int, int | None, bool, np.ndarray, str, int]] = [
        (0, None, False, np.eye(4), "", -1)
    ]
    while pending:
        node_id, parent, hidden, matrix, name, layer = pending.pop()
        if node_id in vox.transforms:
            transform = vox.transforms[node_id]
            pending.append(
                (
                    transform.child_id,
                    parent,
                    hidden or transform.hidden,
                    # Stacked transforms (not written by MagicaVoxel) compose parent first.
                    matrix @ transform.frame0().matrix(),
                    transform.name or name,
                    transform.layer_id if transform.layer_id >= 0 else layer,
                )
            )
        elif node_id in vox.groups:
            nodes.append(SceneNode("GROUP", name, parent, matrix, -1, layer, hidden, node_id))
            index = len(nodes) - 1
            # Reversed so children are created in file order as they are popped.
            for child in reversed(vox.groups[node_id].children):
                pending.append((child, index, hidden, np.eye(4), "", -1))
        elif node_id in vox.shapes and vox.shapes[node_id].models:
            model_id = _frame0_model(vox.shapes[node_id].models)
            nodes.append(SceneNode("SHAPE", name, parent, matrix, model_id, layer, hidden, node_id))
    return nodes


def _frame0_model(models: list[tuple[int, dict[str, str]]]) -> int:
    """The model shown at frame 0 of an animated shape: keyed ``_f`` 0, else the first."""
    for model_id, attributes in models:
        if attributes.get("_f", "0") == "0":
            return model_id
    return models[0][0]
