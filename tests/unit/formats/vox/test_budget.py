"""Limits that keep a small hostile .vox from taking all memory or time: the face budget
(counted before meshing), memory in proportion to the mesh, and the scene graph's size, depth
and translations."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
from unit.formats.vox import vox_bytes as vb

from conjure.formats.vox import mesher, parser
from conjure.formats.vox.format import (
    DEFAULT_MAX_FACES,
    MAX_SCENE_DEPTH,
    MAX_TRANSLATION,
    VoxFormatError,
)
from conjure.formats.vox.mesher import check_face_budget, count_faces, mesh_voxels
from conjure.formats.vox.parser import parse_vox
from support.package import ROOT


def random_model(rng, size, density, colours=3):
    grid = (rng.random(size) < density) * rng.integers(1, colours + 1, size)
    x, y, z = np.nonzero(grid)
    return np.stack([x, y, z, grid[x, y, z]], axis=1).astype(np.uint8)


@pytest.mark.parametrize("density", [0.9, 0.4, 0.02])
def test_face_count_is_what_meshing_makes(density):
    """Exact without merging, an upper bound with it; dense models are counted on a grid of
    their box, sparse ones among their voxels, with the same answers."""
    rng = np.random.default_rng(11)
    for _ in range(20):
        size = tuple(int(s) for s in rng.integers(1, 24, 3))
        voxels = random_model(rng, size, density)
        glass = np.zeros(256, dtype=bool)
        glass[2] = rng.random() < 0.5
        for greedy in (False, True):
            counted = count_faces(voxels, size, greedy=greedy, transparent=glass)
            made = mesh_voxels(voxels, size, greedy=greedy, transparent=glass).face_count
            assert counted == made if not greedy else counted >= made
            if len(voxels):
                see = mesher._see_through(glass)
                low = voxels[:, :3].min(axis=0).astype(np.int64)
                box = voxels[:, :3].max(axis=0).astype(np.int64) - low + 1
                assert mesher._count_in_grid(voxels, low, box, greedy, see) == counted
                assert mesher._count_among_voxels(voxels, greedy, see) == counted


def test_merged_rows_are_counted_once():
    slab = np.array([(x, y, 0, 1) for x in range(8) for y in range(8)], dtype=np.uint8)
    assert count_faces(slab, (8, 8, 1), greedy=False) == 2 * 64 + 4 * 8
    assert count_faces(slab, (8, 8, 1), greedy=True) <= 2 * 8 + 4 * 8


def test_a_file_over_the_budget_is_refused_with_the_count_and_how_to_raise_it():
    vox = parse_vox(vb.checkerboard(32))
    faces = 6 * 32**3 // 2
    assert check_face_budget(vox.models, faces) == faces
    assert check_face_budget(vox.models, None) == faces
    with pytest.raises(VoxFormatError) as refused:
        check_face_budget(vox.models, faces - 1)
    message = str(refused.value)
    assert f"{faces:,} faces" in message and "Max Faces" in message
    assert f"({faces - 1:,})" in message and refused.value.offset is None


def test_the_default_budget_refuses_a_256_checkerboard_quickly_in_little_memory(tmp_path):
    path = tmp_path / "checkerboard-256.vox"
    path.write_bytes(vb.checkerboard(256))
    child = textwrap.dedent(f"""
        import json, sys, time
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from support import package
        package.install()
        from conjure.formats.vox.mesher import check_face_budget
        from conjure.formats.vox.parser import read_vox
        from conjure.formats.vox.format import DEFAULT_MAX_FACES, VoxFormatError
        started = time.perf_counter()
        try:
            check_face_budget(read_vox({str(path)!r}).models, DEFAULT_MAX_FACES)
            outcome = "accepted"
        except VoxFormatError as error:
            outcome = str(error)
        # The high-water mark of this process's own memory (ru_maxrss would include the peak of
        # the test process it was started from).
        status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
        print(json.dumps({{"outcome": outcome, "seconds": time.perf_counter() - started,
                          "peak_mb": int(status) / 1024}}))
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          check=True, timeout=120)
    row = json.loads(done.stdout)
    assert "50,331,648 faces" in row["outcome"]
    assert f"{DEFAULT_MAX_FACES:,}" in row["outcome"]
    assert row["peak_mb"] < 300, row  # the file alone is 34 MB; meshing it took 11 GB
    assert row["seconds"] < 30, row


@pytest.mark.parametrize("watertight", [False, True])
def test_meshing_memory_grows_with_the_mesh_not_beyond(watertight):
    """Before, the checkerboard took 200 (greedy) and 525 (watertight) bytes per face."""
    model = parse_vox(vb.checkerboard(64)).models[0]
    tracemalloc.start()
    try:
        faces = mesh_voxels(model.voxels, model.size, watertight=watertight).face_count
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert faces == 6 * 64**3 // 2
    assert peak < (130 if watertight else 80) * faces + (40 << 20), peak / faces


def group_chain(levels: int, *, deepest_first: bool = False) -> bytes:
    """nTRN 0 > nGRP 1 > nTRN 2 > nGRP 3 > ... > nTRN 2k > nSHP 2k+1: k levels of groups."""
    nodes = []
    for level in range(levels):
        nodes += [vb.ntrn(2 * level, 2 * level + 1), vb.ngrp(2 * level + 1, [2 * level + 2])]
    nodes += [vb.ntrn(2 * levels, 2 * levels + 1), vb.nshp(2 * levels + 1, [0])]
    if deepest_first:
        nodes.reverse()
    return vb.vox_file(vb.size(1, 1, 1), vb.xyzi([(0, 0, 0, 1)]), *nodes)


def test_a_50000_deep_group_chain_is_refused_with_a_clear_error():
    with pytest.raises(VoxFormatError, match=f"nests more than {MAX_SCENE_DEPTH} nodes deep"):
        parse_vox(group_chain(50_000))


def test_depth_is_counted_through_nodes_already_checked():
    with pytest.raises(VoxFormatError, match="nests more than"):
        parse_vox(group_chain(MAX_SCENE_DEPTH, deepest_first=True))


def test_the_deepest_allowed_chain_parses():
    levels = (MAX_SCENE_DEPTH - 2) // 2
    vox = parse_vox(group_chain(levels))
    assert len(vox.groups) == levels
    with pytest.raises(VoxFormatError, match="nests more than"):
        parse_vox(group_chain(levels + 1))


def test_too_many_scene_nodes_are_refused(monkeypatch):
    monkeypatch.setattr(parser, "MAX_SCENE_NODES", 10)
    parse_vox(group_chain(4))  # 10 nodes
    with pytest.raises(VoxFormatError, match="more than 10 nodes"):
        parse_vox(group_chain(5))


def translated(text: str) -> bytes:
    frame = vb.dictionary({"_t": text})
    transform = vb.chunk(b"nTRN", vb.i32(0) + vb.dictionary() + vb.i32(1, -1, -1, 1) + frame)
    return vb.vox_file(vb.size(1, 1, 1), vb.xyzi([(0, 0, 0, 1)]), transform, vb.nshp(1, [0]))


def test_translations_beyond_a_sane_range_are_refused():
    assert parse_vox(translated(f"{MAX_TRANSLATION} 0 -{MAX_TRANSLATION}")).transforms[0]
    for text in (f"0 {MAX_TRANSLATION + 1} 0", "0 0 -100000000000000000000"):
        with pytest.raises(VoxFormatError, match=r"translation .* is beyond 1,000,000 voxels"):
            parse_vox(translated(text))


def test_an_ordinary_model_is_well_inside_the_default_budget():
    voxels = [(x, y, z, 1 + (x + y) % 3) for x in range(4) for y in range(4) for z in range(4)]
    vox = parse_vox(vb.single_model(voxels))
    assert 0 < check_face_budget(vox.models, DEFAULT_MAX_FACES) < 200
