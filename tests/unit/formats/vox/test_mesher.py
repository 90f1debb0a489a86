from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conjure.formats.vox.mesher import MeshArrays, mesh_voxels
from conjure.formats.vox.parser import read_vox
from support.fixtures import FIXTURES as SHARED

FIXTURES = SHARED / "vox"
NORMALS = np.array([[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]])


def exposed_faces_by_brute_force(voxels, transparent=frozenset()):
    """Reference: every (direction, x, y, z, colour) unit face, one voxel at a time."""
    grid = {}
    for x, y, z, c in voxels:
        grid[(x, y, z)] = c
    faces = set()
    for (x, y, z), c in grid.items():
        for direction, (dx, dy, dz) in enumerate(NORMALS):
            other = grid.get((x + dx, y + dy, z + dz), 0)
            if other == 0 or (other in transparent and other != c):
                faces.add((direction, x, y, z, c))
    return faces


def loops(mesh: MeshArrays):
    for start, total in zip(mesh.face_loop_start, mesh.face_loop_total, strict=True):
        yield mesh.loop_vertices[start : start + total]


def unit_faces_covered(mesh: MeshArrays):
    """Expand every face (an axis-aligned rectangle) back into the unit voxel faces it covers."""
    covered = Counter()
    for loop, direction, colour in zip(
        loops(mesh), mesh.face_directions, mesh.face_colors, strict=True
    ):
        corners = mesh.positions[loop].astype(int)
        low, high = corners.min(axis=0), corners.max(axis=0)
        axis = direction // 2
        assert low[axis] == high[axis], "face is not planar on its axis"
        voxel_layer = low[axis] - 1 if direction % 2 else low[axis]
        ranges = [range(low[a], high[a]) for a in range(3)]
        ranges[axis] = range(voxel_layer, voxel_layer + 1)
        for x in ranges[0]:
            for y in ranges[1]:
                for z in ranges[2]:
                    covered[(int(direction), x, y, z, int(colour))] += 1
    return covered


def newell_normal(points):
    following = np.roll(points, -1, axis=0)
    return np.array(
        [
            np.sum((points[:, 1] - following[:, 1]) * (points[:, 2] + following[:, 2])),
            np.sum((points[:, 2] - following[:, 2]) * (points[:, 0] + following[:, 0])),
            np.sum((points[:, 0] - following[:, 0]) * (points[:, 1] + following[:, 1])),
        ]
    )


def check_winding(mesh: MeshArrays):
    for loop, direction in zip(loops(mesh), mesh.face_directions, strict=True):
        normal = newell_normal(mesh.positions[loop].astype(float))
        unit = normal / np.linalg.norm(normal)
        assert np.allclose(unit, NORMALS[direction]), (unit, direction)


def directed_edges(mesh: MeshArrays) -> Counter:
    edges = Counter()
    for loop in loops(mesh):
        for a, b in zip(loop, np.roll(loop, -1), strict=True):
            edges[(int(a), int(b))] += 1
    return edges


def unbalanced_edges(mesh: MeshArrays) -> int:
    """Directed edges without a matching reverse edge: T-junctions or holes."""
    edges = directed_edges(mesh)
    return sum(abs(n - edges.get((b, a), 0)) for (a, b), n in edges.items())


def as_array(voxels):
    return np.array(voxels, dtype=np.uint8).reshape(-1, 4)


def test_single_voxel():
    mesh = mesh_voxels(as_array([(0, 0, 0, 9)]), (1, 1, 1))
    assert (mesh.face_count, mesh.vertex_count, mesh.loop_count) == (6, 8, 24)
    assert sorted(mesh.face_directions.tolist()) == [0, 1, 2, 3, 4, 5]
    assert (mesh.face_colors == 9).all()
    assert mesh.positions.dtype == np.float32 and mesh.loop_vertices.dtype == np.int32
    assert mesh.positions.min() == 0 and mesh.positions.max() == 1
    assert mesh.loop_face_colors().tolist() == [9] * 24
    check_winding(mesh)
    assert unbalanced_edges(mesh) == 0


def test_empty_model_gives_empty_arrays():
    mesh = mesh_voxels(as_array([]), (3, 3, 3))
    assert mesh.face_count == 0 and mesh.vertex_count == 0 and mesh.loop_count == 0


def test_same_colour_neighbours_merge_and_other_colours_do_not():
    pair = as_array([(0, 0, 0, 1), (1, 0, 0, 1)])
    assert mesh_voxels(pair, (2, 1, 1)).face_count == 6
    assert mesh_voxels(pair, (2, 1, 1), greedy=False).face_count == 10
    two_colours = as_array([(0, 0, 0, 1), (1, 0, 0, 2)])
    assert mesh_voxels(two_colours, (2, 1, 1)).face_count == 10


def test_solid_block_is_six_faces_and_interior_faces_are_dropped():
    block = as_array([(x, y, z, 4) for x in range(3) for y in range(4) for z in range(5)])
    greedy = mesh_voxels(block, (3, 4, 5))
    plain = mesh_voxels(block, (3, 4, 5), greedy=False)
    assert greedy.face_count == 6
    assert plain.face_count == 2 * (3 * 4 + 4 * 5 + 3 * 5)
    check_winding(greedy)


def test_transparent_neighbours_keep_the_faces_behind_them():
    glass_and_wall = as_array([(0, 0, 0, 1), (1, 0, 0, 2)])
    transparent = np.zeros(256, dtype=bool)
    transparent[2] = True
    mesh = mesh_voxels(glass_and_wall, (2, 1, 1), transparent=transparent)
    faces = set(unit_faces_covered(mesh))
    assert (1, 0, 0, 0, 1) in faces  # the wall's face towards the glass
    assert (0, 1, 0, 0, 2) not in faces  # the glass's face towards the opaque wall
    assert faces == exposed_faces_by_brute_force(glass_and_wall.tolist(), {2})


def closed_block(colours):
    dims = colours.shape
    cells = [
        (x, y, z, colours[x, y, z])
        for x in range(dims[0])
        for y in range(dims[1])
        for z in range(dims[2])
    ]
    return as_array(cells), dims


def test_watertight_block_is_a_closed_manifold():
    rng = np.random.default_rng(5)
    voxels, dims = closed_block(rng.integers(1, 4, size=(6, 5, 4)))
    # Patches of colour make greedy faces of different extents meet along shared edges.
    voxels[voxels[:, 0] < 3, 3] = 7
    mesh = mesh_voxels(voxels, dims, watertight=True)
    edges = directed_edges(mesh)
    assert all(n == 1 for n in edges.values())
    assert all((b, a) in edges for a, b in edges)
    undirected = len(edges) // 2
    assert mesh.vertex_count - undirected + mesh.face_count == 2  # Euler: a sphere
    check_winding(mesh)
    # Without the option the same mesh has T-junctions, so the check above can fail.
    assert unbalanced_edges(mesh_voxels(voxels, dims)) > 0


voxel_sets = st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7)).flatmap(
    lambda dims: st.tuples(
        st.just(dims),
        st.lists(
            st.tuples(
                st.integers(0, dims[0] - 1),
                st.integers(0, dims[1] - 1),
                st.integers(0, dims[2] - 1),
                st.integers(1, 3),
            ),
            max_size=80,
            unique_by=lambda v: v[:3],
        ),
    )
)


@settings(max_examples=100, deadline=None)
@given(voxel_sets, st.booleans())
def test_faces_cover_exactly_the_exposed_voxel_faces(case, see_through_colour_3):
    dims, cells = case
    voxels = as_array(cells)
    transparent = np.zeros(256, dtype=bool)
    transparent[3] = see_through_colour_3
    expected = exposed_faces_by_brute_force(cells, {3} if see_through_colour_3 else set())
    plain = mesh_voxels(voxels, dims, greedy=False, transparent=transparent)
    assert plain.face_count == len(expected)
    for greedy, watertight in ((True, False), (True, True), (False, True)):
        mesh = mesh_voxels(
            voxels, dims, greedy=greedy, watertight=watertight, transparent=transparent
        )
        covered = unit_faces_covered(mesh)
        assert set(covered) == expected
        assert all(n == 1 for n in covered.values()), "faces overlap"
        assert mesh.face_count <= plain.face_count
        check_winding(mesh)
        # Against glass, an opaque face has no partner, so balance only holds without it.
        if watertight and not see_through_colour_3:
            assert unbalanced_edges(mesh) == 0
        assert mesh.loop_vertices.max(initial=-1) < mesh.vertex_count
        # Vertices are welded: no two share a position.
        assert len({tuple(p) for p in mesh.positions.tolist()}) == mesh.vertex_count


def test_monu1_greedy_is_at_most_a_third_of_plain():
    path = FIXTURES / "monu1.vox"
    if not path.exists():
        pytest.skip("monu1.vox not available")
    model = read_vox(path).models[0]
    greedy = mesh_voxels(model.voxels, model.size)
    plain = mesh_voxels(model.voxels, model.size, greedy=False)
    assert greedy.face_count * 3 <= plain.face_count
    assert (np.bincount(greedy.face_colors, minlength=256) > 0).sum() == len(
        np.unique(plain.face_colors)
    )
