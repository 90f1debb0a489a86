"""Data model of a MagicaVoxel ``.vox`` file, independent of Blender.

Everything here is plain Python and NumPy so the parser and mesher can be tested without bpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_MODEL_SIZE = 256
# Each instance becomes a Blender object; beyond this a file is hostile, not ambitious.
MAX_INSTANCES = 65536
# Scene-graph nodes (nTRN, nGRP, nSHP) in one file: three per instance is MagicaVoxel's most.
MAX_SCENE_NODES = 4 * MAX_INSTANCES
# Nodes on one path from the root. MagicaVoxel spends two per level of groups (nTRN + nGRP), and
# each level becomes a level of Blender parenting; real scenes nest a few levels, not hundreds.
MAX_SCENE_DEPTH = 256
# A frame's translation, in voxels, on each axis; far beyond any scene MagicaVoxel can show.
MAX_TRANSLATION = 1_000_000
# Faces an import builds unless the caller allows more ("Max Faces"). Importing 2 million faces
# into Blender peaks at about 0.7 GB with bpy itself (see benchmarks/vox_budget.py).
DEFAULT_MAX_FACES = 2_000_000
SUPPORTED_VERSIONS = (150, 200)


class VoxFormatError(ValueError):
    """A malformed ``.vox`` file, or one beyond a limit. ``chunk`` and ``offset`` locate the
    fault in the file; an offset of None says it has no one place (e.g. too many faces)."""

    def __init__(self, message: str, chunk: str = "", offset: int | None = 0) -> None:
        self.chunk = chunk
        self.offset = offset
        if offset is None:
            super().__init__(message)
            return
        where = f"{chunk} chunk at byte {offset}" if chunk else f"byte {offset}"
        super().__init__(f"{where}: {message}")


@dataclass
class VoxModel:
    """One SIZE/XYZI pair. ``voxels`` is an (n, 4) uint8 array of x, y, z, palette index."""

    size: tuple[int, int, int]
    voxels: np.ndarray
    offset: int = 0

    @property
    def voxel_count(self) -> int:
        return int(self.voxels.shape[0])


@dataclass
class TransformNode:
    """nTRN. ``frames`` holds every frame's (rotation byte, translation, frame index)."""

    node_id: int
    attributes: dict[str, str]
    child_id: int
    layer_id: int
    frames: list[Frame]
    offset: int = 0

    @property
    def name(self) -> str:
        return self.attributes.get("_name", "")

    @property
    def hidden(self) -> bool:
        return self.attributes.get("_hidden", "0") == "1"

    def frame0(self) -> Frame:
        """The frame shown at time 0: the one keyed ``_f`` 0, else the first one."""
        for frame in self.frames:
            if frame.index == 0:
                return frame
        return self.frames[0] if self.frames else Frame()


@dataclass
class Frame:
    rotation: int = 4
    translation: tuple[int, int, int] = (0, 0, 0)
    index: int = 0
    attributes: dict[str, str] = field(default_factory=dict)

    def matrix(self) -> np.ndarray:
        """4x4 float64 matrix: rotation then translation, column-vector convention."""
        m = np.eye(4)
        m[:3, :3] = rotation_matrix(self.rotation)
        m[:3, 3] = self.translation
        return m


@dataclass
class GroupNode:
    node_id: int
    attributes: dict[str, str]
    children: list[int]
    offset: int = 0


@dataclass
class ShapeNode:
    """nSHP. ``models`` holds (model id, per-model attributes such as ``_f``)."""

    node_id: int
    attributes: dict[str, str]
    models: list[tuple[int, dict[str, str]]]
    offset: int = 0


@dataclass
class Layer:
    layer_id: int
    attributes: dict[str, str]

    @property
    def name(self) -> str:
        return self.attributes.get("_name", "")

    @property
    def hidden(self) -> bool:
        return self.attributes.get("_hidden", "0") == "1"


@dataclass
class Material:
    """A MATL property dictionary (or a MATT chunk translated to MATL keys)."""

    material_id: int
    properties: dict[str, str]

    @property
    def kind(self) -> str:
        return self.properties.get("_type", "_diffuse")

    def number(self, key: str, default: float) -> float:
        """A property as a float; malformed numbers fall back because they only shade."""
        try:
            value = float(self.properties[key])
        except (KeyError, ValueError):
            return default
        return value if np.isfinite(value) else default


@dataclass
class Camera:
    camera_id: int
    attributes: dict[str, str]


@dataclass
class VoxFile:
    version: int
    models: list[VoxModel] = field(default_factory=list)
    palette: np.ndarray = field(default_factory=lambda: default_palette())
    has_palette: bool = False
    materials: dict[int, Material] = field(default_factory=dict)
    transforms: dict[int, TransformNode] = field(default_factory=dict)
    groups: dict[int, GroupNode] = field(default_factory=dict)
    shapes: dict[int, ShapeNode] = field(default_factory=dict)
    layers: dict[int, Layer] = field(default_factory=dict)
    render_objects: list[dict[str, str]] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)
    color_names: list[str] = field(default_factory=list)
    index_map: np.ndarray | None = None
    meta: dict[str, str] = field(default_factory=dict)
    pack_count: int | None = None
    skipped_chunks: list[tuple[str, int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def has_scene_graph(self) -> bool:
        return bool(self.transforms)


def rotation_matrix(code: int) -> np.ndarray:
    """Decode a ROTATION byte into a 3x3 signed permutation matrix (rows as stored)."""
    first = code & 3
    second = (code >> 2) & 3
    if first > 2 or second > 2 or first == second:
        raise ValueError(f"rotation byte {code} is not a permutation")
    third = 3 - first - second
    m = np.zeros((3, 3))
    for row, column in enumerate((first, second, third)):
        m[row, column] = -1.0 if code & (1 << (4 + row)) else 1.0
    return m


def default_palette() -> np.ndarray:
    """MagicaVoxel's built-in palette as a (256, 4) uint8 array; index 0 is 'no voxel'."""
    steps = (0xFF, 0xCC, 0x99, 0x66, 0x33, 0x00)
    ramp = (0xEE, 0xDD, 0xBB, 0xAA, 0x88, 0x77, 0x55, 0x44, 0x22, 0x11)
    entries = [(0, 0, 0, 0)]
    cube = [(r, g, b, 255) for r in steps for g in steps for b in steps]
    entries += cube[:-1]  # the cube ends with black, which the palette leaves out
    entries += [(v, 0, 0, 255) for v in ramp]
    entries += [(0, v, 0, 255) for v in ramp]
    entries += [(0, 0, v, 255) for v in ramp]
    entries += [(v, v, v, 255) for v in ramp]
    return np.array(entries, dtype=np.uint8)
