"""A Thrixel model's parts, bpy-free: the rows of the Parts panel, part names checked before a
paid request (with the nearest real names suggested), and which of a result's parts changed.

The service names parts by their node names; names can repeat, and ``focus_on_node_names``
cannot tell repeated names apart, so a name stands for every part that carries it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

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


# -- a result's parts against the model in the scene -------------------------------------------

def applies_in_place(service: str, operation: str, params: dict[str, object]) -> bool:
    """Whether a result keeps its parent's parts, so it replaces them in place: an edit, and
    a detail focused on some parts. Everything else (auto-refine, conversions, whole-model
    detail) comes in beside its parent."""
    if service != "thrixel":
        return False
    return operation == "edit" or (operation == "detail"
                                   and bool(params.get("focus_on_node_names")))


@dataclass(frozen=True)
class Piece:
    """A part on one side of the comparison: ``key`` is the caller's handle for it."""

    key: int
    name: str
    #: "mesh", "empty", ...: a part that changed kind is a removed part and a new one.
    kind: str
    #: The mesh content's digest; None when not known (the mesh then counts as changed).
    digest: str | None
    #: Its place in its file, so repeated names pair up in file order.
    order: int


@dataclass
class Match:
    """(old key, new key) pairs, and the keys left over on each side."""

    unchanged: list[tuple[int, int]]
    changed: list[tuple[int, int]]
    added: list[int]
    #: Old parts whose name the result no longer has.
    gone: list[int]
    #: Old parts left over under a name the result still has (the user's duplicates of a
    #: part, most likely): kept as they are.
    extra: list[int] = field(default_factory=list)


def _pair(olds: list[Piece], news: list[Piece], found: Match) -> None:
    """One name's parts of one kind: equal digests first, then in file order."""
    left = sorted(olds, key=lambda p: p.order)
    rest: list[Piece] = []
    for new in sorted(news, key=lambda p: p.order):
        same = next((old for old in left if new.digest is not None
                     and old.digest == new.digest), None)
        if same is not None or (new.kind != "mesh" and left):
            same = same or left[0]
            left.remove(same)
            found.unchanged.append((same.key, new.key))
        else:
            rest.append(new)
    for new in rest:
        if left:
            found.changed.append((left.pop(0).key, new.key))
        else:
            found.added.append(new.key)
    (found.extra if news else found.gone).extend(old.key for old in left)


def match(old: list[Piece], new: list[Piece]) -> Match:
    """Which of a result's parts are the model's parts unchanged (same name, same mesh
    content), changed (same name, other content), new, which of the model's are gone (their
    name with them) and which are extra copies under a name the result still has."""
    found = Match([], [], [], [])
    groups: dict[tuple[str, str], tuple[list[Piece], list[Piece]]] = {}
    for side, pieces in ((0, old), (1, new)):
        for piece in pieces:
            groups.setdefault((piece.name, piece.kind), ([], []))[side].append(piece)
    for olds, news in groups.values():
        _pair(olds, news, found)
    return found
