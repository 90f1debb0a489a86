"""Builds ``.vox`` bytes chunk by chunk, for tests that need files the fixtures do not cover."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

import numpy as np


def chunk(name: bytes, content: bytes = b"", children: bytes = b"") -> bytes:
    return name + struct.pack("<ii", len(content), len(children)) + content + children


def i32(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}i", *values)


def string(text: str) -> bytes:
    raw = text.encode()
    return i32(len(raw)) + raw


def dictionary(pairs: Mapping[str, str] | None = None) -> bytes:
    pairs = pairs or {}
    return i32(len(pairs)) + b"".join(string(k) + string(v) for k, v in pairs.items())


def size(x: int, y: int, z: int) -> bytes:
    return chunk(b"SIZE", i32(x, y, z))


def xyzi(voxels: Iterable[tuple[int, int, int, int]]) -> bytes:
    voxels = list(voxels)
    return chunk(b"XYZI", i32(len(voxels)) + bytes(v for voxel in voxels for v in voxel))


def rgba(entries: Iterable[tuple[int, int, int, int]]) -> bytes:
    raw = bytes(v for entry in entries for v in entry)
    assert len(raw) == 1024
    return chunk(b"RGBA", raw)


def ntrn(
    node_id: int,
    child: int,
    *,
    layer: int = -1,
    attributes: Mapping[str, str] | None = None,
    frames: Iterable[Mapping[str, str]] = ({},),
) -> bytes:
    frames = list(frames)
    content = i32(node_id) + dictionary(attributes) + i32(child, -1, layer, len(frames))
    return chunk(b"nTRN", content + b"".join(dictionary(f) for f in frames))


def ngrp(node_id: int, children: Iterable[int]) -> bytes:
    children = list(children)
    return chunk(b"nGRP", i32(node_id) + dictionary() + i32(len(children), *children))


def nshp(node_id: int, models: Iterable[int]) -> bytes:
    models = list(models)
    body = b"".join(i32(m) + dictionary() for m in models)
    return chunk(b"nSHP", i32(node_id) + dictionary() + i32(len(models)) + body)


def layr(layer_id: int, attributes: Mapping[str, str] | None = None) -> bytes:
    return chunk(b"LAYR", i32(layer_id) + dictionary(attributes) + i32(-1))


def matl(material_id: int, properties: Mapping[str, str]) -> bytes:
    return chunk(b"MATL", i32(material_id) + dictionary(properties))


def vox_file(*chunks: bytes, version: int = 150) -> bytes:
    return b"VOX " + i32(version) + chunk(b"MAIN", b"", b"".join(chunks))


def single_model(voxels: Iterable[tuple[int, int, int, int]], dims=(4, 4, 4)) -> bytes:
    return vox_file(size(*dims), xyzi(voxels))


def checkerboard(n: int) -> bytes:
    """One n x n x n model with every voxel whose x + y + z is even set: nothing merges and
    every face of every voxel is exposed, the most faces a model of its size can have."""
    x, y, z = np.indices((n, n, n), dtype=np.uint8).reshape(3, -1)
    keep = (x.astype(np.int32) + y + z) % 2 == 0
    colours = np.ones(int(keep.sum()), dtype=np.uint8)
    voxels = np.stack([x[keep], y[keep], z[keep], colours], axis=1)
    return vox_file(size(n, n, n), chunk(b"XYZI", i32(voxels.shape[0]) + voxels.tobytes()))
