"""Turns one model's voxels into flat mesh arrays ready for ``foreach_set``. bpy-free.

Faces are emitted only where a voxel meets empty space, or meets a transparent voxel of another
colour (so a glass pane in front of a wall still shows the wall). Coplanar faces of one colour are
merged into rectangles: runs along one in-plane axis first, then runs with the same extent and
colour in consecutive rows are stacked. Every step is a whole-array NumPy operation; the only
Python loops run over slabs of planes, which keep temporaries small on big models.

A file can describe far more faces than memory holds (a 3-D checkerboard exposes every face),
so ``check_face_budget`` counts them first, in one pass that costs about what reading the
voxels did, and refuses above a budget; meshing itself needs memory in proportion to the faces
it makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .format import VoxFormatError, VoxModel

# Slab volume (cells) processed at once; bounds temporaries independently of the model size.
_SLAB_CELLS = 1 << 17
# Cells counted at once; more than a slab, because counting keeps no per-cell results.
_COUNT_CELLS = 1 << 20
# Lattice coordinates run 0..256, so 257 values per axis pack a vertex into one int32.
_LATTICE = 257
# Peak bytes per face of a whole import into Blender (meshing, then Blender's mesh with a colour
# attribute), measured on the checkerboard with bpy 5.0: 160-225. Only for telling the user
# roughly what a refused file would need.
BYTES_PER_FACE = 250
# Counting faces walks a dense grid of a model's occupied box when that box has at most this
# many cells per voxel, and looks neighbours up among the sorted voxels otherwise, so a large
# box with few voxels in it costs no more than its voxels.
_DENSE_CELLS_PER_VOXEL = 16


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
    see_through = _see_through(transparent)
    quads = [_axis_quads(voxels, size, axis, greedy, see_through) for axis in range(3)]
    if not any(q[0].size for q in quads):
        return _empty_mesh()
    return _assemble(quads, watertight)


def check_face_budget(
    models: Sequence[VoxModel],
    max_faces: int | None,
    *,
    greedy: bool = True,
    transparent: np.ndarray | None = None,
) -> int:
    """The faces meshing ``models`` makes at most (see ``count_faces``); raises
    ``VoxFormatError`` before anything is meshed when that is above ``max_faces`` (None: no
    limit)."""
    total = sum(
        count_faces(model.voxels, model.size, greedy=greedy, transparent=transparent)
        for model in models
    )
    if max_faces is not None and total > max_faces:
        megabytes = total * BYTES_PER_FACE / 1e6
        needed = f"{megabytes:,.0f} MB" if megabytes < 1000 else f"{megabytes / 1000:.1f} GB"
        raise VoxFormatError(
            f"this file makes {total:,} faces, more than Max Faces allows ({max_faces:,}); "
            f"raise Max Faces to import it anyway (it needs roughly {needed} of memory)",
            offset=None,
        )
    return total


def count_faces(
    voxels: np.ndarray,
    size: tuple[int, int, int],
    *,
    greedy: bool = True,
    transparent: np.ndarray | None = None,
) -> int:
    """How many faces ``mesh_voxels`` makes at most, without meshing.

    Without ``greedy`` that is exactly the exposed voxel faces; with it, the runs of them along
    the rows the mesher merges first (stacking rows can only lower it).
    """
    voxels = np.asarray(voxels, dtype=np.uint8).reshape(-1, 4)
    if voxels.shape[0] == 0:
        return 0
    see_through = _see_through(transparent)
    low = voxels[:, :3].min(axis=0).astype(np.int64)
    box = voxels[:, :3].max(axis=0).astype(np.int64) - low + 1
    if int(np.prod(box)) <= _DENSE_CELLS_PER_VOXEL * voxels.shape[0]:
        return _count_in_grid(voxels, low, box, greedy, see_through)
    return _count_among_voxels(voxels, greedy, see_through)


def _see_through(transparent: np.ndarray | None) -> np.ndarray:
    """The (256,) palette indices that do not hide faces behind them; 0 is empty, not glass."""
    if transparent is None:
        return np.zeros(256, dtype=bool)
    see_through = np.asarray(transparent, dtype=bool).reshape(256).copy()
    see_through[0] = False
    return see_through


def _exposed(inner: np.ndarray, neighbour: np.ndarray, see_through: np.ndarray) -> np.ndarray:
    """The colour of each face of ``inner`` that ``neighbour`` leaves visible, else 0: the
    neighbour is empty, or see-through and of another colour."""
    visible = (neighbour == 0) | (see_through[neighbour] & (neighbour != inner))
    return np.where(visible, inner, 0)


def _run_starts(faces: np.ndarray) -> np.ndarray:
    """Where a run of one colour begins along the last axis of ``faces`` (0: no face)."""
    starts = faces != 0
    starts[..., 1:] &= faces[..., 1:] != faces[..., :-1]
    return starts


def _count_in_grid(
    voxels: np.ndarray, low: np.ndarray, box: np.ndarray, greedy: bool, see_through: np.ndarray
) -> int:
    """``count_faces`` over a dense grid of the occupied box, one border cell each side."""
    grid = np.zeros(tuple(int(b) + 2 for b in box), dtype=np.uint8)
    for first in range(0, voxels.shape[0], _SLAB_CELLS):
        chunk = voxels[first : first + _SLAB_CELLS]
        where = tuple(chunk[:, axis].astype(np.intp) - int(low[axis]) + 1 for axis in range(3))
        grid[where] = chunk[:, 3]
    total = 0
    for axis in range(3):
        # (plane, u, v) as the mesher lays faces out, so runs go along the same rows.
        planes = grid.transpose(axis, *_in_plane_axes(axis))
        step = max(1, _COUNT_CELLS // (planes.shape[1] * planes.shape[2]))
        for first in range(1, planes.shape[0] - 1, step):
            last = min(planes.shape[0] - 1, first + step)
            for side in (-1, 1):
                faces = _exposed(planes[first:last], planes[first + side : last + side],
                                 see_through)
                total += int(np.count_nonzero(_run_starts(faces) if greedy else faces))
    return total


def _count_among_voxels(voxels: np.ndarray, greedy: bool, see_through: np.ndarray) -> int:
    """``count_faces`` by looking each neighbour up among the voxels sorted by position."""
    side = _LATTICE + 1  # coordinates shifted by one, so every neighbour key stays on its row
    keys = ((voxels[:, 0].astype(np.int32) + 1) * side + voxels[:, 1] + 1) * side + voxels[:, 2]
    keys += 1
    order = np.argsort(keys)
    keys, colours = keys[order], voxels[order, 3]

    def colour_at(where: np.ndarray) -> np.ndarray:
        found = np.minimum(np.searchsorted(keys, where), keys.shape[0] - 1)
        return np.where(keys[found] == where, colours[found], 0)

    total = 0
    for axis in range(3):
        normal = side ** (2 - axis)
        row = side ** (2 - _in_plane_axes(axis)[1])  # the mesher's run direction
        for sign in (-1, 1):
            faces = _exposed(colours, colour_at(keys + sign * normal), see_through)
            if greedy:
                previous = keys - row
                before = _exposed(colour_at(previous), colour_at(previous + sign * normal),
                                  see_through)
                faces = np.where(faces != before, faces, 0)
            total += int(np.count_nonzero(faces))
    return total


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
            faces = _exposed(inner, slab[2:] if positive else slab[:-2], see_through)
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
    starts = _run_starts(faces)
    ends = faces != 0
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
    """The mesh of the rectangles in ``quads`` (one entry per axis). It empties ``quads`` as it
    goes, so the rectangles and the mesh are never both held in full."""
    face_count = sum(q[0].size for q in quads)
    keys = np.empty((face_count, 4), dtype=np.int32)
    face_colors = np.empty(face_count, dtype=np.uint8)
    face_directions = np.empty(face_count, dtype=np.uint8)
    done = 0
    for axis in range(3):
        plane, u0, v0, du, dv, colour, direction = quads[axis]
        quads[axis] = ()
        rows = slice(done, done + plane.size)
        keys[rows] = _corner_keys(axis, plane, u0, v0, du, dv, direction)
        face_colors[rows] = colour
        face_directions[rows] = direction
        done += plane.size
    unique_keys = np.unique(keys)
    corner_vertex = _lookup(unique_keys, keys)
    del keys
    positions = _decode(unique_keys)
    if watertight:
        loop_vertices, totals = _insert_edge_vertices(positions, corner_vertex)
    else:
        loop_vertices = corner_vertex.reshape(-1)
        totals = np.full(face_count, 4, dtype=np.int32)
    starts = np.zeros(face_count, dtype=np.int32)
    np.cumsum(totals[:-1], out=starts[1:])
    return MeshArrays(
        positions=positions.astype(np.float32),
        loop_vertices=loop_vertices,
        face_loop_start=starts,
        face_loop_total=totals,
        face_colors=face_colors,
        face_directions=face_directions,
    )


def _corner_keys(
    axis: int,
    plane: np.ndarray,
    u0: np.ndarray,
    v0: np.ndarray,
    du: np.ndarray,
    dv: np.ndarray,
    direction: np.ndarray,
) -> np.ndarray:
    """(n, 4) lattice keys of each rectangle's corners, counter-clockwise seen from outside."""
    u_axis, v_axis = _in_plane_axes(axis)
    # (u0,v0) -> +u -> +u+v -> +v faces +axis; faces towards -axis take the corners reversed.
    u_steps = np.array([0, 1, 1, 0], dtype=np.int32)
    v_steps = np.array([0, 0, 1, 1], dtype=np.int32)
    corner_u = u0[:, None] + du[:, None] * u_steps
    corner_v = v0[:, None] + dv[:, None] * v_steps
    flipped = (direction & 1) == 0
    corner_u[flipped] = corner_u[flipped][:, ::-1]
    corner_v[flipped] = corner_v[flipped][:, ::-1]
    xyz: list[np.ndarray] = [np.empty(0)] * 3
    xyz[axis] = plane[:, None]
    xyz[u_axis] = corner_u
    xyz[v_axis] = corner_v
    keys: np.ndarray = (xyz[0] * _LATTICE + xyz[1]) * _LATTICE + xyz[2]
    return keys


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The int32 index of each of ``keys`` in ``sorted_keys``, found in chunks so that the
    int64 answer of ``searchsorted`` never exists for all of them at once."""
    found = np.empty(keys.shape, dtype=np.int32)
    flat_keys, flat_found = keys.reshape(-1), found.reshape(-1)
    for first in range(0, flat_keys.shape[0], _COUNT_CELLS):
        flat_found[first : first + _COUNT_CELLS] = np.searchsorted(
            sorted_keys, flat_keys[first : first + _COUNT_CELLS]
        )
    return found


def _decode(keys: np.ndarray) -> np.ndarray:
    x, rest = np.divmod(keys, _LATTICE * _LATTICE)
    y, z = np.divmod(rest, _LATTICE)
    return np.stack((x, y, z), axis=1).astype(np.int32)


def _insert_edge_vertices(
    positions: np.ndarray, corner_vertex: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each face's loop with every vertex lying inside one of its edges added in order.

    Indices are int32 (a Blender mesh cannot count more corners than that), and only the edges
    that gain vertices are held in full, so beyond the loops themselves this needs a few bytes
    per edge.
    """
    face_count = corner_vertex.shape[0]
    edge_count = 4 * face_count
    edge, count, inside = _edge_interiors(positions, corner_vertex)
    if edge_count + inside.shape[0] >= 2**31:
        raise VoxFormatError(
            f"the watertight mesh needs {edge_count + inside.shape[0]:,} face corners, more "
            "than one Blender mesh holds; import it without Watertight",
            offset=None,
        )
    # Where each edge's corner lands: its own number plus the vertices inserted before it.
    corner_at = np.zeros(edge_count, dtype=np.int32)
    before_next = edge + 1 < edge_count
    np.add.at(corner_at, edge[before_next] + 1, count[before_next])
    np.cumsum(corner_at, out=corner_at)
    corner_at += np.arange(edge_count, dtype=np.int32)
    loop_vertices = np.empty(edge_count + inside.shape[0], dtype=np.int32)
    loop_vertices[corner_at] = corner_vertex.reshape(-1)
    # Each edge's inserted vertices follow its corner.
    step = np.arange(inside.shape[0], dtype=np.int32) - np.repeat(
        np.cumsum(count, dtype=np.int32) - count, count
    )
    loop_vertices[corner_at[np.repeat(edge, count)] + 1 + step] = inside
    totals = np.full(face_count, 4, dtype=np.int32)
    np.add.at(totals, edge // 4, count)
    return loop_vertices, totals


def _edge_interiors(
    positions: np.ndarray, corner_vertex: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The face edges (corner i to corner i + 1 of face f, numbered 4 f + i) with vertices
    strictly inside them: their numbers, how many vertices each has, and those vertices, edge
    after edge, in the order the edge runs. Edges are worked through in chunks, so only the
    answer grows with the mesh."""
    lines = [_vertices_along(positions, axis) for axis in range(3)]
    edges, counts, vertices = [], [], []
    faces_at_once = _COUNT_CELLS // 4
    for first_face in range(0, corner_vertex.shape[0], faces_at_once):
        corners = corner_vertex[first_face : first_face + faces_at_once]
        start = positions[corners.reshape(-1)]
        end = positions[np.roll(corners, -1, axis=1).reshape(-1)]
        edge_axis = np.argmax(start != end, axis=1)
        for axis, (line_keys, order) in enumerate(lines):
            on_axis = np.flatnonzero(edge_axis == axis)
            line = _line_key(start[on_axis], axis, 0)
            low = np.minimum(start[on_axis, axis], end[on_axis, axis])
            high = np.maximum(start[on_axis, axis], end[on_axis, axis])
            left = np.searchsorted(line_keys, line + low, side="right")
            right = np.searchsorted(line_keys, line + high, side="left")
            has = np.flatnonzero(right > left)
            left, right, on_axis = left[has], right[has], on_axis[has]
            count = (right - left).astype(np.int32)
            up = np.repeat(end[on_axis, axis] > start[on_axis, axis], count)
            step = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
            where = np.where(up, np.repeat(left, count) + step, np.repeat(right, count) - 1 - step)
            edges.append((on_axis + 4 * first_face).astype(np.int32))
            counts.append(count)
            vertices.append(order[where])
    if not edges:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty, empty
    return np.concatenate(edges), np.concatenate(counts), np.concatenate(vertices)


def _line_key(points: np.ndarray, axis: int, along: np.ndarray | int) -> np.ndarray:
    """Keys that sort points by the two coordinates other than ``axis``, then by ``along``."""
    others = [a for a in range(3) if a != axis]
    key: np.ndarray = (points[:, others[0]] * _LATTICE + points[:, others[1]]) * _LATTICE + along
    return key


def _vertices_along(positions: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertices sorted by (the two other coordinates, the coordinate along ``axis``): the
    vertices inside an edge along that axis are then one contiguous slice. Returns the sorted
    keys and the vertex numbers in that order."""
    keys = _line_key(positions, axis, positions[:, axis])
    order = np.argsort(keys, kind="stable").astype(np.int32)
    return keys[order], order
