import struct
from pathlib import Path

import numpy as np
import pytest
from unit.formats.vox import vox_bytes as vb

from conjure.formats.vox.format import VoxFormatError, default_palette, rotation_matrix
from conjure.formats.vox.parser import parse_vox, read_vox
from support.fixtures import FIXTURES as SHARED

FIXTURES = SHARED / "vox"
FIRST_CHUNK = 20  # 8-byte file header + 12-byte MAIN header


def fixture(name: str) -> Path:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {path} not available")
    return path


def raw_xyzi_counts(data: bytes) -> list[int]:
    """Voxel counts read straight from the XYZI headers, independently of the parser."""
    counts = []
    pos = FIRST_CHUNK
    while pos < len(data):
        name, content, children = struct.unpack_from("<4sii", data, pos)
        if name == b"XYZI":
            counts.append(struct.unpack_from("<i", data, pos + 12)[0])
        pos += 12 + content + children
    return counts


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.vox")))
def test_every_fixture_parses_with_voxel_counts_of_its_xyzi_headers(name):
    data = fixture(name).read_bytes()
    vox = parse_vox(data)
    assert [m.voxel_count for m in vox.models] == raw_xyzi_counts(data)
    for model in vox.models:
        assert (model.voxels[:, :3] < np.array(model.size)).all()
        assert (model.voxels[:, 3] != 0).all()
    assert vox.warnings == []
    assert vox.skipped_chunks == []


def test_fixture_contents():
    deer = read_vox(fixture("deer.vox"))
    assert deer.pack_count == 4 and len(deer.models) == 4
    assert len(deer.materials) == 255
    assert deer.models[0].size == (26, 9, 27)

    groups = read_vox(fixture("test_groups.vox"))
    assert (len(groups.models), len(groups.groups), len(groups.shapes)) == (15, 5, 15)
    assert len(groups.transforms) == 24
    assert groups.transforms[6].name == "characters"
    assert groups.transforms[8].frame0().translation == (-36, 0, 0)
    assert groups.layers[0].name == "merged"
    # MagicaVoxel shares one shape node between repeated copies (nTRN 30 and 32 both show 31).
    assert groups.transforms[30].child_id == groups.transforms[32].child_id == 31

    hierarchy = read_vox(fixture("hierarchy.vox"))
    assert hierarchy.version == 200
    assert len(hierarchy.cameras) == 10 and hierarchy.cameras[0].attributes["_mode"] == "pers"
    assert len(hierarchy.color_names) == 32
    assert hierarchy.transforms[2].frame0().rotation == 17
    assert len(hierarchy.layers) == 16

    doom = read_vox(fixture("doom.vox"))
    assert len(doom.render_objects) == 11
    assert len(doom.materials) == 256


def test_missing_rgba_gives_default_palette():
    cat = read_vox(fixture("chr_cat.vox"))
    assert not cat.has_palette
    palette = cat.palette
    assert palette.shape == (256, 4)
    assert tuple(palette[0]) == (0, 0, 0, 0)
    assert tuple(palette[1]) == (255, 255, 255, 255)
    assert tuple(palette[2]) == (255, 255, 204, 255)
    assert tuple(palette[215]) == (0, 0, 0x33, 255)
    assert tuple(palette[216]) == (0xEE, 0, 0, 255)
    assert tuple(palette[255]) == (0x11, 0x11, 0x11, 255)
    assert len({tuple(c) for c in palette[1:]}) == 255


def test_rgba_entry_i_is_palette_index_i_plus_one():
    entries = [(i, 255 - i, i // 2, 255) for i in range(256)]
    vox = parse_vox(vb.vox_file(vb.size(1, 1, 1), vb.xyzi([(0, 0, 0, 7)]), vb.rgba(entries)))
    assert vox.has_palette
    assert tuple(vox.palette[7]) == entries[6]
    assert tuple(vox.palette[255]) == entries[254]
    assert tuple(vox.palette[0]) == (0, 0, 0, 0)
    assert not np.array_equal(vox.palette, default_palette())


def test_rotation_bytes():
    assert np.array_equal(rotation_matrix(4), np.eye(3))
    # The spec's own example: rows (0,1,0), (0,0,-1), (-1,0,0).
    assert np.array_equal(rotation_matrix(105), [[0, 1, 0], [0, 0, -1], [-1, 0, 0]])
    assert np.array_equal(rotation_matrix(17), [[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    for code in range(128):
        try:
            m = rotation_matrix(code)
        except ValueError:
            assert (code & 3) == 3 or ((code >> 2) & 3) == 3 or (code & 3) == ((code >> 2) & 3)
            continue
        assert np.allclose(m @ m.T, np.eye(3))


def test_scene_graph_chunks_and_all_frames():
    data = vb.vox_file(
        vb.size(2, 2, 2),
        vb.xyzi([(0, 0, 0, 1)]),
        vb.ntrn(0, 1, attributes={"_name": "root"}),
        vb.ngrp(1, [2]),
        vb.ntrn(
            2,
            3,
            layer=1,
            attributes={"_hidden": "1"},
            frames=[{"_f": "5", "_t": "9 9 9"}, {"_f": "0", "_t": "1 -2 3", "_r": "17"}],
        ),
        vb.nshp(3, [0]),
        vb.layr(1, {"_name": "back", "_hidden": "1"}),
        vb.matl(1, {"_type": "_glass", "_trans": "0.5", "_ior": "0.3"}),
        vb.chunk(b"IMAP", bytes(range(255, -1, -1))),
        vb.chunk(b"META", vb.dictionary({"_anim_range": "0 30"})),
        vb.chunk(b"rOBJ", vb.dictionary({"_type": "_inf"})),
        vb.chunk(b"rCAM", vb.i32(3) + vb.dictionary({"_mode": "orth"})),
        vb.chunk(b"NOTE", vb.i32(2) + vb.string("red") + vb.string("")),
        vb.chunk(b"ZZZZ", b"12345", vb.chunk(b"QQQQ", b"x")),
        version=200,
    )
    vox = parse_vox(data)
    node = vox.transforms[2]
    assert node.hidden and node.layer_id == 1
    assert len(node.frames) == 2
    frame = node.frame0()
    assert frame.translation == (1, -2, 3) and frame.rotation == 17
    assert np.array_equal(frame.matrix()[:3, 3], [1, -2, 3])
    assert vox.transforms[0].name == "root"
    assert vox.layers[1].hidden and vox.layers[1].name == "back"
    assert vox.materials[1].kind == "_glass" and vox.materials[1].number("_trans", 0) == 0.5
    assert vox.index_map is not None and vox.index_map[0] == 255
    assert vox.meta == {"_anim_range": "0 30"}
    assert vox.render_objects == [{"_type": "_inf"}]
    assert vox.cameras[0].camera_id == 3
    assert vox.color_names == ["red", ""]
    assert [name for name, _ in vox.skipped_chunks] == ["ZZZZ", "QQQQ"]


def test_matl_id_256_is_index_0_and_pack_is_read():
    data = vb.vox_file(
        vb.chunk(b"PACK", vb.i32(1)),
        vb.size(1, 1, 1),
        vb.xyzi([(0, 0, 0, 1)]),
        vb.matl(256, {"_type": "_metal"}),
    )
    vox = parse_vox(data)
    assert vox.pack_count == 1
    assert vox.materials[0].kind == "_metal"


def test_other_versions_parse_with_a_warning():
    vox = parse_vox(vb.single_model([(0, 0, 0, 1)]).replace(vb.i32(150), vb.i32(151), 1))
    assert vox.version == 151 and vox.warnings


def test_voxels_with_colour_zero_are_dropped():
    vox = parse_vox(vb.single_model([(0, 0, 0, 1), (1, 0, 0, 0), (2, 0, 0, 3)]))
    assert vox.models[0].voxels.tolist() == [[0, 0, 0, 1], [2, 0, 0, 3]]


def expect_error(data: bytes, chunk: str, offset: int, words: str) -> VoxFormatError:
    with pytest.raises(VoxFormatError) as caught:
        parse_vox(data)
    error = caught.value
    assert (error.chunk, error.offset) == (chunk, offset), str(error)
    assert words in str(error)
    assert chunk in str(error) and str(offset) in str(error)
    return error


GOOD = vb.single_model([(0, 0, 0, 1), (3, 3, 3, 2)])
XYZI_AT = FIRST_CHUNK + 24


def test_error_header_and_framing():
    expect_error(b"VOX", "", 0, "shorter than")
    expect_error(b"VXO " + GOOD[4:], "", 0, "magic")
    expect_error(GOOD[:8] + b"MAIX" + GOOD[12:], "MAIN", 8, "not MAIN")
    expect_error(GOOD[:-1], "MAIN", 8, "declares")
    bad_main = GOOD[:12] + struct.pack("<ii", 0, -5) + GOOD[20:]
    expect_error(bad_main, "MAIN", 8, "negative")
    overrun = vb.vox_file(vb.chunk(b"SIZE", vb.i32(1, 1, 1))[:4] + struct.pack("<ii", 400, 0))
    expect_error(overrun, "SIZE", FIRST_CHUNK, "declares")
    stub = vb.vox_file(b"") + b""  # MAIN declaring 6 children bytes that cannot hold a header
    stub = stub[:16] + struct.pack("<i", 6) + b"\0" * 6
    expect_error(stub, "MAIN", FIRST_CHUNK, "12-byte chunk header")


def test_error_model_chunks():
    expect_error(vb.vox_file(vb.size(0, 1, 1), vb.xyzi([])), "SIZE", FIRST_CHUNK, "size x")
    expect_error(vb.vox_file(vb.size(1, 257, 1), vb.xyzi([])), "SIZE", FIRST_CHUNK, "size y")
    expect_error(
        vb.vox_file(vb.chunk(b"SIZE", vb.i32(1, 1)), vb.xyzi([])),
        "SIZE",
        FIRST_CHUNK + 20,
        "size z",
    )
    expect_error(vb.vox_file(vb.xyzi([])), "XYZI", FIRST_CHUNK, "without a preceding SIZE")
    expect_error(vb.vox_file(vb.size(1, 1, 1)), "SIZE", FIRST_CHUNK, "without a following XYZI")
    expect_error(
        vb.vox_file(vb.size(1, 1, 1), vb.size(1, 1, 1)), "SIZE", FIRST_CHUNK + 24, "follows"
    )
    outside = vb.single_model([(0, 0, 0, 1), (0, 4, 0, 1)])
    expect_error(outside, "XYZI", XYZI_AT + 12 + 4 + 4, "outside the model")
    # Count larger than the chunk, and count smaller than the chunk.
    too_many = vb.vox_file(vb.size(4, 4, 4), vb.chunk(b"XYZI", vb.i32(3) + bytes([0, 0, 0, 1])))
    expect_error(too_many, "XYZI", XYZI_AT + 12, "voxel count 3")
    too_few = vb.vox_file(vb.size(4, 4, 4), vb.chunk(b"XYZI", vb.i32(1) + bytes([0, 0, 0, 1]) * 2))
    expect_error(too_few, "XYZI", XYZI_AT, "voxel count 1")
    negative = vb.vox_file(vb.size(4, 4, 4), vb.chunk(b"XYZI", vb.i32(-1)))
    expect_error(negative, "XYZI", XYZI_AT + 12, "negative")


def test_error_fixed_size_chunks():
    short_rgba = vb.vox_file(vb.chunk(b"RGBA", bytes(1020)))
    expect_error(short_rgba, "RGBA", FIRST_CHUNK, "1024")
    expect_error(vb.vox_file(vb.chunk(b"IMAP", bytes(255))), "IMAP", FIRST_CHUNK, "256")
    expect_error(vb.vox_file(vb.chunk(b"PACK", vb.i32(-3))), "PACK", FIRST_CHUNK, "negative")
    expect_error(
        vb.vox_file(vb.chunk(b"PACK", vb.i32(1, 2))), "PACK", FIRST_CHUNK + 16, "left over"
    )
    expect_error(vb.vox_file(vb.matl(300, {})), "MATL", FIRST_CHUNK, "material id")


def test_error_dictionaries_and_strings():
    # A pair count that cannot fit the chunk is rejected before any loop runs on it.
    huge = vb.chunk(b"rOBJ", vb.i32(0x7FFFFFFF))
    expect_error(vb.vox_file(huge), "rOBJ", FIRST_CHUNK + 12, "pair count")
    long_key = vb.chunk(b"rOBJ", vb.i32(1, 100) + b"abc" + vb.i32(0))
    expect_error(vb.vox_file(long_key), "rOBJ", FIRST_CHUNK + 16, "key length")
    notes = vb.chunk(b"NOTE", vb.i32(5) + vb.string("a"))
    expect_error(vb.vox_file(notes), "NOTE", FIRST_CHUNK + 12, "name count")


def scene(*nodes: bytes) -> bytes:
    return vb.vox_file(vb.size(1, 1, 1), vb.xyzi([(0, 0, 0, 1)]), *nodes)


SCENE_AT = FIRST_CHUNK + 24 + 20  # SIZE (24 bytes) + XYZI with one voxel (20 bytes)


def test_error_scene_graph_references():
    t0 = vb.ntrn(0, 1)
    expect_error(scene(t0, vb.ngrp(1, [2])), "nGRP", SCENE_AT + len(t0), "missing node 2")
    expect_error(scene(vb.ntrn(0, 7)), "nTRN", SCENE_AT, "missing node 7")
    expect_error(scene(t0, vb.nshp(1, [1])), "nSHP", SCENE_AT + len(t0), "missing model 1")
    expect_error(scene(vb.nshp(1, [0])), "nSHP", SCENE_AT, "no root")
    twice = scene(t0, vb.nshp(1, [0]), vb.nshp(1, [0]))
    expect_error(twice, "nSHP", SCENE_AT + len(t0) + len(vb.nshp(1, [0])), "defined twice")
    rot = scene(vb.ntrn(0, 1, frames=[{"_r": "15"}]), vb.nshp(1, [0]))
    expect_error(rot, "nTRN", SCENE_AT, "rotation")
    move = scene(vb.ntrn(0, 1, frames=[{"_t": "1 2"}]), vb.nshp(1, [0]))
    expect_error(move, "nTRN", SCENE_AT, "translation")


def test_error_scene_graph_cycles():
    t0 = vb.ntrn(0, 1)
    g1 = vb.ngrp(1, [2])
    loop = scene(t0, g1, vb.ntrn(2, 1))
    expect_error(loop, "nTRN", SCENE_AT + len(t0) + len(g1), "cycle")
    to_root = scene(t0, vb.ngrp(1, [0]))
    expect_error(to_root, "nGRP", SCENE_AT + len(t0), "cycle")
    self_loop = scene(t0, vb.ngrp(1, [1]))
    expect_error(self_loop, "nGRP", SCENE_AT + len(t0), "cycle")


@pytest.mark.parametrize("leaf", [vb.nshp(999, [0]), vb.ngrp(999, [])])
def test_error_scene_graph_that_expands_beyond_the_instance_bound(leaf):
    # Each group lists the next transform twice: 2**20 objects from 41 small chunks.
    nodes = [vb.ntrn(0, 1)]
    depth = 20
    for level in range(depth):
        group, transform = 1 + 2 * level, 2 + 2 * level
        nodes.append(vb.ngrp(group, [transform, transform]))
        nodes.append(vb.ntrn(transform, group + 2 if level < depth - 1 else 999))
    nodes.append(leaf)
    expect_error(scene(*nodes), "nTRN", SCENE_AT, "objects")


def test_shared_shapes_are_allowed():
    vox = parse_vox(
        scene(vb.ntrn(0, 1), vb.ngrp(1, [2, 3]), vb.ntrn(2, 4), vb.ntrn(3, 4), vb.nshp(4, [0]))
    )
    assert vox.transforms[2].child_id == vox.transforms[3].child_id == 4
