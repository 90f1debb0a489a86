"""A Thrixel model's parts, bpy-free: the rows of the Parts panel, part names checked before a
paid request (with the nearest real names suggested), and which of a result's parts changed.

The service names parts by their node names; names can repeat, and ``focus_on_node_names``
cannot tell repeated names apart, so a name stands for every part that carries it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from ..providers.errors import InvalidRequestError
from ..providers.thrixel.hierarchy import Hierarchy, Part

#: Names listed in a refusal before "and N more".
SHOWN_NAMES = 12


@dataclass(frozen=True)
class Row:
    """One line of the part tree as the panel draws it."""

    name: str
    faces: int
    depth: int
    #: Where the node is in the tree ("0/2/1"): the key a container is collapsed by.
    path: str
    container: bool
    #: How many parts of the model carry this name (more than one: they change together).
    same_name: int


def rows(hierarchy: Hierarchy, collapsed: Iterable[str] = ()) -> list[Row]:
    """The tree's parts in order, without the service's made-up root; the children of a
    container whose path is in ``collapsed`` are left out."""
    closed = set(collapsed)
    counts: dict[str, int] = {}
    for part in hierarchy.root.walk():
        counts[part.name] = counts.get(part.name, 0) + 1
    found: list[Row] = []

    def visit(part: Part, depth: int, path: str) -> None:
        found.append(Row(part.name, part.faces, depth, path, bool(part.children),
                         counts[part.name]))
        if path not in closed:
            for index, child in enumerate(part.children):
                visit(child, depth + 1, f"{path}/{index}")

    if hierarchy.synthetic_root:
        for index, child in enumerate(hierarchy.root.children):
            visit(child, 0, str(index))
    else:
        visit(hierarchy.root, 0, "0")
    return found


def suggestions(name: str, known: list[str]) -> list[str]:
    """The real names nearest to a mistyped one, best first."""
    folded = [k for k in known if k.lower() == name.lower()]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    lowered = {k.lower(): k for k in known}
    close += [lowered[k] for k in difflib.get_close_matches(name.lower(), list(lowered), n=3,
                                                            cutoff=0.5)]
    return list(dict.fromkeys(folded + close))[:3]


def check_names(names: Iterable[str], hierarchy: Hierarchy) -> None:
    """Refuses (``InvalidRequestError`` on ``parts``) a name the model has no part of, with
    the nearest real names, before anything is sent."""
    known = hierarchy.part_names()
    for name in names:
        if name in known:
            continue
        near = suggestions(name, known)
        hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
        listed = ", ".join(known[:SHOWN_NAMES])
        if len(known) > SHOWN_NAMES:
            listed += f" and {len(known) - SHOWN_NAMES} more"
        raise InvalidRequestError(
            f"parts: the model has no part named {name!r}{hint}; its parts are {listed}",
            field="parts")
