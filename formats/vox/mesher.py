"""Turns one model's voxels into flat mesh arrays ready for ``foreach_set``. bpy-free.

Faces are emitted only where a voxel meets empty space, or meets a transparent voxel of another
colour (so a glass pane in front of a wall still shows the wall). Coplanar faces of one colour are
merged into rectangles: runs along one in-plane axis first, then runs with the same extent and
colour in consecutive rows are stacked. Every step is a whole-array NumPy operation; the only
Python loops run over slabs of planes, which keep temporaries small on big models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Slab volume (cells) processed at once; bounds temporaries independently of the model size.
_SLAB_CELLS = 1 << 17
# Lattice coordinates run 0..256, so 257 values per axis pack a vertex into one int32.
_LATTICE = 257


@dataclass
class MeshArrays:
    """Flat arrays of one mesh, in voxel units with the model's minimum corner at the origin.

    Faces are polygons (quads, or more corners in watertight mode) listed by
    ``face_loop_start``/``face_loop_total`` into ``loop_vertices``. ``face_colors`` holds each
    face's palette index and ``face_directions`` its normal: 0/1 = -X/+X, 2/3 = -Y/+Y,
    4/5 = -Z/+Z.
    """

    positions: np.ndarray
    loop_vertices: np.ndarray
    face_loop_start: np.ndarray
    face_loop_total: np.ndarray
    face_colors: np.ndarray
    face_directions: np.ndarray

    @property
    def face_count(self) -> int:
        return int(self.face_colors.shape[0])

    @property
    def vertex_count(self) -> int:
        return int(self.positions.shape[0])

    @property
    def loop_count(self) -> int:
        return int(self.loop_vertices.shape[0])

    def loop_face_colors(self) -> np.ndarray:
        """Palette index of every loop (face corner)."""
        return np.repeat(self.face_colors, self.face_loop_total)


def mesh_voxels(
    voxels: np.ndarray,
    size: tuple[int, int, int],
    *,
    greedy: bool = True,
    watertight: bool = False,
    transparent: np.ndarray | None = None,
) -> MeshArrays:
    """Mesh ``voxels`` ((n, 4) uint8: x, y, z, palette index) of a model of ``size``.

    ``greedy`` merges coplanar same-colour faces into rectangles; otherwise every exposed voxel
    face is its own quad. ``watertight`` adds the corners of neighbouring faces that lie on a
    face's edges to that face, so no T-junctions remain and a closed model is manifold.
    ``transparent`` is an optional (256,) bool array of palette indices that do not hide faces
    behind them.
    """
    voxels = np.asarray(voxels, dtype=np.uint8).reshape(-1, 4)
    if transparent is None:
        see_through = np.zeros(256, dtype=bool)
    else:
        see_through = np.asarray(transparent, dtype=bool).reshape(256).copy()
    see_through[0] = False

    quads = [_axis_quads(voxels, size, axis, greedy, see_through) for axis in range(3)]
    planes = np.concatenate([q[0] for q in quads])
    if planes.size == 0:
        return _empty_mesh()
    return _assemble(quads, watertight)


def _empty_mesh() -> MeshArrays:
    return MeshArrays(
        positions=np.zeros((0, 3), dtype=np.float32),
        loop_vertices=np.zeros(0, dtype=np.int32),
        face_loop_start=np.zeros(0, dtype=np.int32),
        face_loop_total=np.zeros(0, dtype=np.int32),
        face_colors=np.zeros(0, dtype=np.uint8),
        face_directions=np.zeros(0, dtype=np.uint8),
    )


def _in_plane_axes(axis: int) -> tuple[int, int]:
    # Cyclic order makes u x v point along +axis, which fixes the winding below.
    return (axis + 1) % 3, (axis + 2) % 3


def _axis_quads(
    voxels: np.ndarray,
    size: tuple[int, int, int],
    axis: int,
    greedy: bool,
    see_through: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Rectangles facing -axis and +axis: (plane, u0, v0, du, dv, colour, direction)."""
    u_axis, v_axis = _in_plane_axes(axis)
    extent, size_u, size_v = size[axis], size[u_axis], size[v_axis]
    along = voxels[:, axis]
    thickness = max(1, _SLAB_CELLS // (size_u * size_v))
    parts: list[tuple[np.ndarray, ...]] = []
    for first in range(0, extent, thickness):
        last = min(extent, first + thickness)
        # The slab holds its planes plus one neighbour plane on each side (zero outside).
        chosen = np.flatnonzero((along >= max(first - 1, 0)) & (along <= last))
        if not ((along[chosen] >= first) & (along[chosen] < last)).any():
            continue  # no voxel of its own: a slab with only neighbours has no faces
        slab = np.zeros((last - first + 2, size_u, size_v), dtype=np.uint8)
        picked = voxels[chosen]
        slab[
            picked[:, axis].astype(np.intp) - (first - 1),
            picked[:, u_axis],
            picked[:, v_axis],
        ] = picked[:, 3]
        inner = slab[1:-1]
        for positive in (False, True):
            neighbour = slab[2:] if positive else slab[:-2]
            visible = (neighbour == 0) | (see_through[neighbour] & (neighbour != inner))
            faces = np.where(visible, inner, 0)
            plane, u0, v0, du, dv, colour = (
                _merge_rectangles(faces) if greedy else _unit_squares(faces)
            )
            plane += first + int(positive)
            direction = np.full(plane.shape, 2 * axis + int(positive), dtype=np.uint8)
            parts.append((plane, u0, v0, du, dv, colour, direction))
    if not parts:
        empty = np.zeros(0, dtype=np.int32)
        return (empty, empty, empty, empty, empty, empty.astype(np.uint8), empty.astype(np.uint8))
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def _unit_squares(faces: np.ndarray) -> tuple[np.ndarray, ...]:
    plane, u0, v0 = (c.astype(np.int32) for c in np.nonzero(faces))
    ones = np.ones(plane.shape, dtype=np.int32)
    return plane, u0, v0, ones, ones.copy(), faces[plane, u0, v0]


def _merge_rectangles(faces: np.ndarray) -> tuple[np.ndarray, ...]:
    """Greedy rectangles over (planes, u, v) colour slices; 0 means no face."""
    filled = faces != 0
    starts = filled.copy()
    starts[:, :, 1:] &= faces[:, :, 1:] != faces[:, :, :-1]
    ends = filled.copy()
    ends[:, :, :-1] &= faces[:, :, :-1] != faces[:, :, 1:]
    plane, row, v_start = (c.astype(np.int32) for c in np.nonzero(starts))
    # Runs never interleave inside a row, so the k-th end belongs to the k-th start.
    v_end = np.nonzero(ends)[2].astype(np.int32)
    length = v_end - v_start + 1
    colour = faces[plane, row, v_start]
    if plane.size == 0:
        return plane, row, v_start, length, length.copy(), colour

    order = np.lexsort((row, colour, length, v_start, plane))
    plane, row, v_start, length, colour = (a[order] for a in (plane, row, v_start, length, colour))
    continues = np.zeros(plane.shape, dtype=bool)
    continues[1:] = (
        (plane[1:] == plane[:-1])
        & (v_start[1:] == v_start[:-1])
        & (length[1:] == length[:-1])
        & (colour[1:] == colour[:-1])
        & (row[1:] == row[:-1] + 1)
    )
    heads = np.flatnonzero(~continues)
    height = np.diff(np.append(heads, plane.size)).astype(np.int32)
    return plane[heads], row[heads], v_start[heads], height, length[heads], colour[heads]


def _assemble(quads: list[tuple[np.ndarray, ...]], watertight: bool) -> MeshArrays:
    corner_keys = []
    colours = []
    directions = []
    for axis, (plane, u0, v0, du, dv, colour, direction) in enumerate(quads):
        if plane.size == 0:
            continue
        u_axis, v_axis = _in_plane_axes(axis)
        positive = (direction & 1).astype(bool)
        # Counter-clockwise seen from outside: (u0,v0) -> +u -> +u+v -> +v faces +axis.
        u_steps = np.array([0, 1, 1, 0], dtype=np.int32)
        v_steps = np.array([0, 0, 1, 1], dtype=np.int32)
        corner_u = u0[:, None] + du[:, None] * u_steps
        corner_v = v0[:, None] + dv[:, None] * v_steps
        flipped = ~positive
        corner_u[flipped] = corner_u[flipped][:, ::-1]
        corner_v[flipped] = corner_v[flipped][:, ::-1]
        xyz: list[np.ndarray] = [np.empty(0)] * 3
        xyz[axis] = np.broadcast_to(plane[:, None], corner_u.shape)
        xyz[u_axis] = corner_u
        xyz[v_axis] = corner_v
        corner_keys.append((xyz[0] * _LATTICE + xyz[1]) * _LATTICE + xyz[2])
        colours.append(colour)
        directions.append(direction)
    keys = np.concatenate(corner_keys)
    face_colors = np.concatenate(colours).astype(np.uint8)
    face_directions = np.concatenate(directions).astype(np.uint8)
    unique_keys, corner_vertex = np.unique(keys, return_inverse=True)
    corner_vertex = corner_vertex.reshape(-1, 4).astype(np.int32)
    positions = _decode(unique_keys)

    face_count = keys.shape[0]
    if watertight:
        loop_vertices, totals = _insert_edge_vertices(positions, unique_keys, corner_vertex)
    else:
        loop_vertices = corner_vertex.reshape(-1)
        totals = np.full(face_count, 4, dtype=np.int32)
    starts = np.zeros(face_count, dtype=np.int32)
    np.cumsum(totals[:-1], out=starts[1:])
    return MeshArrays(
        positions=positions.astype(np.float32),
        loop_vertices=loop_vertices.astype(np.int32),
        face_loop_start=starts,
        face_loop_total=totals,
        face_colors=face_colors,
        face_directions=face_directions,
    )


def _decode(keys: np.ndarray) -> np.ndarray:
    x, rest = np.divmod(keys, _LATTICE * _LATTICE)
    y, z = np.divmod(rest, _LATTICE)
    return np.stack((x, y, z), axis=1).astype(np.int32)


def _insert_edge_vertices(
    positions: np.ndarray, keys: np.ndarray, corner_vertex: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each face's loop with every vertex lying inside one of its edges added in order."""
    face_count = corner_vertex.shape[0]
    start_vertex = corner_vertex.reshape(-1)
    end_vertex = np.roll(corner_vertex, -1, axis=1).reshape(-1)
    start = positions[start_vertex]
    end = positions[end_vertex]
    edge_axis = np.argmax(start != end, axis=1)

    # Per axis, vertices sorted by (the two other coordinates, coordinate along the axis):
    # the vertices inside an edge along that axis are then one contiguous slice.
    sorted_vertices = []
    sorted_keys = []
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        line_key = (
            positions[:, others[0]] * _LATTICE + positions[:, others[1]]
        ) * _LATTICE + positions[:, axis]
        order = np.argsort(line_key, kind="stable").astype(np.int32)
        sorted_vertices.append(order)
        sorted_keys.append(line_key[order])
    del keys

    edge_count = start_vertex.shape[0]
    first = np.zeros(edge_count, dtype=np.int64)
    count = np.zeros(edge_count, dtype=np.int64)
    offset = 0
    bases = []
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        on_axis = np.flatnonzero(edge_axis == axis)
        line = (start[on_axis, others[0]] * _LATTICE + start[on_axis, others[1]]) * _LATTICE
        low = np.minimum(start[on_axis, axis], end[on_axis, axis])
        high = np.maximum(start[on_axis, axis], end[on_axis, axis])
        left = np.searchsorted(sorted_keys[axis], line + low, side="right")
        right = np.searchsorted(sorted_keys[axis], line + high, side="left")
        first[on_axis] = left + offset
        count[on_axis] = right - left
        bases.append(offset)
        offset += sorted_keys[axis].shape[0]
    every_sorted = np.concatenate(sorted_vertices)

    ascending = end[np.arange(edge_count), edge_axis] > start[np.arange(edge_count), edge_axis]
    segment_length = 1 + count
    segment_start = np.zeros(edge_count, dtype=np.int64)
    np.cumsum(segment_length[:-1], out=segment_start[1:])
    total = int(segment_length.sum())
    segment_of_loop = np.repeat(np.arange(edge_count), segment_length)
    step = np.arange(total) - segment_start[segment_of_loop]
    loop_vertices = start_vertex[segment_of_loop].astype(np.int64)
    inside = step > 0
    segment = segment_of_loop[inside]
    inner_step = step[inside] - 1
    position_in_sorted = np.where(
        ascending[segment],
        first[segment] + inner_step,
        first[segment] + count[segment] - 1 - inner_step,
    )
    loop_vertices[inside] = every_sorted[position_in_sorted]
    totals = segment_length.reshape(face_count, 4).sum(axis=1).astype(np.int32)
    return loop_vertices.astype(np.int32), totals
