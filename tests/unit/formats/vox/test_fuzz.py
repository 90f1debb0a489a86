"""Damaged and generated files: the parser either succeeds or raises VoxFormatError."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unit.formats.vox import vox_bytes as vb

from conjure.formats.vox.format import VoxFormatError
from conjure.formats.vox.mesher import mesh_voxels
from conjure.formats.vox.parser import parse_vox
from support.fixtures import FIXTURES as SHARED

FIXTURES = SHARED / "vox"
# Small and structurally varied: no RGBA, MATT + PACK, scene graph + MATL + rOBJ, v200 + rCAM.
SMALL = ["chr_cat.vox", "chr_knight.vox", "deer.vox", "hierarchy.vox", "test_groups.vox"]


def load(name: str) -> bytes:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {path} not available")
    return path.read_bytes()


def parse_bounded(data: bytes) -> None:
    """Parse (and mesh what parsed); only VoxFormatError may escape; memory stays bounded."""
    tracemalloc.start()
    try:
        try:
            vox = parse_vox(data)
        except VoxFormatError as error:
            assert error.offset >= 0
            return
        peak_parse = tracemalloc.get_traced_memory()[1]
        for model in vox.models[:2]:
            mesh_voxels(model.voxels, model.size)
    finally:
        tracemalloc.stop()
    # Nothing a file says may buy it memory beyond a small multiple of its own size.
    assert peak_parse < 16 * len(data) + (1 << 20)


@pytest.mark.parametrize("name", SMALL)
def test_every_truncation_raises_format_error(name):
    data = load(name)
    step = max(1, len(data) // 600)
    for cut in range(0, len(data), step):
        with pytest.raises(VoxFormatError):
            parse_vox(data[:cut])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(SMALL),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)), max_size=4),
)
def test_bit_flips_raise_only_format_errors(name, flips):
    data = bytearray(load(name))
    for where, bit in flips:
        data[int(where * len(data))] ^= 1 << bit
    parse_bounded(bytes(data))


# Header fields are where flips do the most damage; aim a share of the run at them.
@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(SMALL),
    chunk_index=st.integers(0, 400),
    field=st.integers(0, 11),
    value=st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]),
)
def test_chunk_header_damage_raises_only_format_errors(name, chunk_index, field, value):
    data = bytearray(load(name))
    pos = 20
    starts = []
    while pos + 12 <= len(data):
        starts.append(pos)
        pos += 12 + int.from_bytes(data[pos + 4 : pos + 8], "little")
    start = starts[chunk_index % len(starts)]
    data[start + field] = value
    parse_bounded(bytes(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_after_a_valid_header(tail):
    parse_bounded(b"VOX " + vb.i32(150) + b"MAIN" + vb.i32(0, len(tail)) + tail)


model_sizes = st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(1, 12))


@st.composite
def models(draw):
    dims = draw(model_sizes)
    cells = draw(
        st.lists(
            st.tuples(
                st.integers(0, dims[0] - 1),
                st.integers(0, dims[1] - 1),
                st.integers(0, dims[2] - 1),
                st.integers(1, 255),
            ),
            max_size=60,
        )
    )
    return dims, cells


@settings(max_examples=150, deadline=None)
@given(
    st.lists(models(), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(-100, 100), st.integers(-100, 100), st.integers(-100, 100))),
    st.sampled_from([150, 200]),
)
def test_written_files_read_back_exactly(model_list, moves, version):
    chunks = []
    for dims, cells in model_list:
        chunks += [vb.size(*dims), vb.xyzi(cells)]
    shape_ids = list(range(100, 100 + len(model_list)))
    transform_ids = list(range(2, 2 + len(model_list)))
    chunks.append(vb.ntrn(0, 1))
    chunks.append(vb.ngrp(1, transform_ids))
    for index, (transform, shape) in enumerate(zip(transform_ids, shape_ids, strict=True)):
        move = moves[index] if index < len(moves) else (0, 0, 0)
        chunks.append(vb.ntrn(transform, shape, frames=[{"_t": " ".join(map(str, move))}]))
        chunks.append(vb.nshp(shape, [index]))
    vox = parse_vox(vb.vox_file(*chunks, version=version))
    assert len(vox.models) == len(model_list)
    for model, (dims, cells) in zip(vox.models, model_list, strict=True):
        assert model.size == dims
        assert model.voxels.tolist() == [list(c) for c in cells]
    for index, transform in enumerate(transform_ids):
        move = moves[index] if index < len(moves) else (0, 0, 0)
        assert vox.transforms[transform].frame0().translation == move
        assert vox.shapes[vox.transforms[transform].child_id].models[0][0] == index
    assert np.array_equal(vox.palette[1], [255, 255, 255, 255])
