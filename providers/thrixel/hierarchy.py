"""A finished Thrixel model's parts and bounds, read from its ``/hierarchy`` answer: the names
``focus_on_node_names`` takes, and the size of the exported (Y-up) model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .. import errors
from .operations import SERVICE


@dataclass(frozen=True)
class Bounds:
    """World bounds of the exported (Y-up) model; ``exact`` False: a conservative outer box."""

    min: tuple[float, float, float]
    max: tuple[float, float, float]
    size: tuple[float, float, float]
    center: tuple[float, float, float]
    exact: bool = True


@dataclass
class Part:
    """A node of the model: a mesh (``faces`` = its triangles) or a container (``faces`` = the
    total of its subtree, as the service reports it)."""

    name: str
    type: str
    faces: int
    children: list[Part] = field(default_factory=list)

    @property
    def is_mesh(self) -> bool:
        return self.type == "Mesh"

    def walk(self) -> Iterator[Part]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Hierarchy:
    root: Part
    bounds: Bounds | None

    @property
    def synthetic_root(self) -> bool:
        """The service names a made-up root "Scene" or "root" (the glTF scene, holding the
        model's top nodes: one or several); it is not a part to focus on."""
        return self.root.name in ("Scene", "root") and bool(self.root.children)

    @property
    def total_faces(self) -> int:
        """Triangles of the whole model: the leaves summed (containers repeat their subtree)."""
        return sum(p.faces for p in self.root.walk() if not p.children)

    def part_names(self) -> list[str]:
        """Names for ``focus_on_node_names``, each once, in tree order."""
        parts = self.root.walk()
        if self.synthetic_root:
            next(parts)
        return list(dict.fromkeys(p.name for p in parts if p.name))


def _vec(value: Any) -> tuple[float, float, float]:
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise ValueError(f"not a 3-vector: {value!r}")
    return float(value[0]), float(value[1]), float(value[2])


def _part(data: Any, depth: int = 0) -> Part:
    if not isinstance(data, dict) or depth > 200:
        raise ValueError("a node must be an object (and the tree at most 200 deep)")
    children = data.get("children") or []
    if not isinstance(children, list):
        raise ValueError("children must be a list")
    return Part(str(data.get("name") or ""), str(data.get("type") or ""),
                int(data.get("faces") or 0), [_part(c, depth + 1) for c in children])


def parse_hierarchy(data: Any) -> Hierarchy:
    """The ``/hierarchy`` answer as a tree; raises ``UnexpectedResponseError`` when malformed."""
    try:
        root = _part(data)
        raw = data.get("bounds")
        bounds = None
        if isinstance(raw, dict):
            lo, hi = _vec(raw["min"]), _vec(raw["max"])
            size = _vec(raw["size"]) if "size" in raw else tuple(h - x for x, h in zip(lo, hi,
                                                                                       strict=True))
            center = _vec(raw["center"]) if "center" in raw else tuple(
                (x + h) / 2 for x, h in zip(lo, hi, strict=True))
            bounds = Bounds(lo, hi, size, center, bool(raw.get("exact", True)))  # type: ignore[arg-type]
    except (ValueError, TypeError, KeyError) as exc:
        raise errors.UnexpectedResponseError(f"unreadable model hierarchy: {exc}",
                                             service=SERVICE) from None
    return Hierarchy(root, bounds)
