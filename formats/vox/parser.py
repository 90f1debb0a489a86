"""Reads MagicaVoxel ``.vox`` bytes into a :class:`VoxFile`.

Every count read from the file is checked against the bytes that remain in its chunk before it
sizes a loop or an array, so a hostile file costs at most time proportional to its own length.
"""

from __future__ import annotations

import os
import struct

import numpy as np

from .format import (
    MAX_INSTANCES,
    MAX_MODEL_SIZE,
    MAX_SCENE_DEPTH,
    MAX_SCENE_NODES,
    MAX_TRANSLATION,
    SUPPORTED_VERSIONS,
    Camera,
    Frame,
    GroupNode,
    Layer,
    Material,
    ShapeNode,
    TransformNode,
    VoxFile,
    VoxFormatError,
    VoxModel,
    rotation_matrix,
)

_HEADER = struct.Struct("<4si")
_CHUNK = struct.Struct("<4sii")
_I32 = struct.Struct("<i")
_F32 = struct.Struct("<f")

# MATT property bits in file order, with the MATL key each maps to; bit 7 carries no value.
_MATT_PROPERTIES = (
    (0, "_plastic"),
    (1, "_rough"),
    (2, "_spec"),
    (3, "_ior"),
    (4, "_att"),
    (5, "_flux"),
    (6, "_glow"),
)
_MATT_TYPES = {0: "_diffuse", 1: "_metal", 2: "_glass", 3: "_emit"}


class _ChunkReader:
    """Sequential reads inside one chunk's content; every overrun names the chunk."""

    def __init__(self, data: memoryview, chunk: str, start: int, end: int) -> None:
        self.data = data
        self.chunk = chunk
        self.chunk_offset = start - _CHUNK.size
        self.pos = start
        self.end = end

    def fail(self, message: str, offset: int | None = None) -> VoxFormatError:
        return VoxFormatError(message, self.chunk, self.chunk_offset if offset is None else offset)

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def take(self, count: int, what: str) -> memoryview:
        if count < 0 or count > self.remaining:
            raise self.fail(
                f"{what} needs {count} bytes at byte {self.pos}, {self.remaining} left in chunk",
                self.pos,
            )
        view = self.data[self.pos : self.pos + count]
        self.pos += count
        return view

    def i32(self, what: str) -> int:
        value: int = _I32.unpack(self.take(4, what))[0]
        return value

    def f32(self, what: str) -> float:
        value: float = _F32.unpack(self.take(4, what))[0]
        return value

    def count(self, what: str, item_size: int) -> int:
        """A non-negative element count whose items (at least ``item_size`` bytes) fit."""
        at = self.pos
        value = self.i32(what)
        if value < 0:
            raise self.fail(f"{what} is negative ({value})", at)
        if value * item_size > self.remaining:
            raise self.fail(
                f"{what} {value} needs {value * item_size} bytes, {self.remaining} left in chunk",
                at,
            )
        return value

    def string(self, what: str) -> str:
        length = self.count(f"{what} length", 1)
        return bytes(self.take(length, what)).decode("utf-8", errors="replace")

    def dictionary(self, what: str) -> dict[str, str]:
        pairs = self.count(f"{what} pair count", 8)
        result: dict[str, str] = {}
        for _ in range(pairs):
            key = self.string(f"{what} key")
            result[key] = self.string(f"{what} value")
        return result

    def finish(self) -> None:
        if self.pos != self.end:
            raise self.fail(
                f"{self.end - self.pos} bytes left over after the content at byte {self.pos}",
                self.pos,
            )


def read_vox(path: str | os.PathLike[str]) -> VoxFile:
    """Parse the ``.vox`` file at ``path``."""
    with open(path, "rb") as stream:
        return parse_vox(stream.read())


def parse_vox(data: bytes | bytearray | memoryview) -> VoxFile:
    """Parse ``.vox`` bytes. Raises :class:`VoxFormatError` on any malformed input."""
    view = memoryview(data).cast("B")
    if len(view) < _HEADER.size:
        raise VoxFormatError(f"file is {len(view)} bytes, shorter than the 8-byte header", "", 0)
    magic, version = _HEADER.unpack(view[: _HEADER.size])
    if magic != b"VOX ":
        raise VoxFormatError(f"magic is {bytes(magic)!r}, not b'VOX '", "", 0)
    result = VoxFile(version=version)
    if version not in SUPPORTED_VERSIONS:
        result.warnings.append(f"version {version} is not 150 or 200; reading it as 200")

    main_at = _HEADER.size
    if len(view) < main_at + _CHUNK.size:
        raise VoxFormatError("file ends before the MAIN chunk header", "MAIN", main_at)
    main_id, main_content, main_children = _CHUNK.unpack(view[main_at : main_at + _CHUNK.size])
    if main_id != b"MAIN":
        raise VoxFormatError(f"first chunk is {_chunk_name(main_id)}, not MAIN", "MAIN", main_at)
    if main_content < 0 or main_children < 0:
        raise VoxFormatError("negative content or children size", "MAIN", main_at)
    main_end = main_at + _CHUNK.size + main_content + main_children
    if main_end > len(view):
        raise VoxFormatError(
            f"declares {main_content + main_children} bytes, file has "
            f"{len(view) - main_at - _CHUNK.size} after its header",
            "MAIN",
            main_at,
        )
    if main_end < len(view):
        result.warnings.append(f"{len(view) - main_end} bytes after the MAIN chunk ignored")

    _read_chunks(view, main_at + _CHUNK.size + main_content, main_end, result)
    _check_scene_graph(result)
    return result


def _chunk_name(raw: bytes) -> str:
    return raw.decode("latin-1").replace("\x00", "\\0")


def _read_chunks(view: memoryview, start: int, end: int, result: VoxFile) -> None:
    # Children are read as one flat sequence (as MagicaVoxel writes them); the stack only
    # checks that each chunk's children stay inside their parent.
    ends = [end]
    pending_size: tuple[tuple[int, int, int], int] | None = None
    pos = start
    while ends:
        if pos == ends[-1]:
            ends.pop()
            continue
        limit = ends[-1]
        if limit - pos < _CHUNK.size:
            raise VoxFormatError(
                f"{limit - pos} bytes left where a 12-byte chunk header should be",
                "MAIN",
                pos,
            )
        raw_id, content, children = _CHUNK.unpack(view[pos : pos + _CHUNK.size])
        name = _chunk_name(raw_id)
        if content < 0 or children < 0:
            raise VoxFormatError(
                f"negative content ({content}) or children ({children}) size", name, pos
            )
        content_start = pos + _CHUNK.size
        content_end = content_start + content
        if content_end + children > limit:
            raise VoxFormatError(
                f"declares {content + children} bytes, only {limit - content_start} left",
                name,
                pos,
            )
        reader = _ChunkReader(view, name, content_start, content_end)
        if raw_id == b"SIZE":
            if pending_size is not None:
                raise VoxFormatError("SIZE follows a SIZE without an XYZI", name, pos)
            pending_size = (_read_size(reader), pos)
        elif raw_id == b"XYZI":
            if pending_size is None:
                raise VoxFormatError("XYZI without a preceding SIZE", name, pos)
            size, size_at = pending_size
            result.models.append(VoxModel(size, _read_voxels(reader, size), size_at))
            pending_size = None
        else:
            handler = _HANDLERS.get(raw_id)
            if handler is None:
                result.skipped_chunks.append((name, pos))
            else:
                handler(reader, result)
        if children:
            ends.append(content_end + children)
        pos = content_end
    if pending_size is not None:
        raise VoxFormatError("SIZE without a following XYZI", "SIZE", pending_size[1])


def _read_size(reader: _ChunkReader) -> tuple[int, int, int]:
    size = (reader.i32("size x"), reader.i32("size y"), reader.i32("size z"))
    reader.finish()
    for axis, value in zip("xyz", size, strict=True):
        if not 1 <= value <= MAX_MODEL_SIZE:
            raise reader.fail(f"size {axis} is {value}, outside 1..{MAX_MODEL_SIZE}")
    return size


def _read_voxels(reader: _ChunkReader, size: tuple[int, int, int]) -> np.ndarray:
    count = reader.count("voxel count", 4)
    if reader.remaining != 4 * count:
        raise reader.fail(
            f"voxel count {count} needs {4 * count} bytes, chunk holds {reader.remaining}"
        )
    first_voxel = reader.pos
    raw = np.frombuffer(reader.take(4 * count, "voxels"), dtype=np.uint8).reshape(count, 4)
    # Column maxima need no temporary as large as the model; locate the culprit only on failure.
    if any(int(raw[:, axis].max(initial=0)) >= size[axis] for axis in range(3)):
        outside = (raw[:, :3] >= np.array(size)).any(axis=1)
        index = int(np.argmax(outside))
        x, y, z, _ = (int(v) for v in raw[index])
        raise reader.fail(
            f"voxel {index} at ({x}, {y}, {z}) lies outside the model size {size}",
            first_voxel + 4 * index,
        )
    # Colour index 0 means "no voxel"; dropping those keeps every later stage simple. Otherwise
    # the array stays a read-only view of the file's bytes, which saves a copy on big models.
    if raw[:, 3].all():
        return raw
    return raw[raw[:, 3] != 0]


def _read_pack(reader: _ChunkReader, result: VoxFile) -> None:
    count = reader.i32("model count")
    reader.finish()
    if count < 0:
        raise reader.fail(f"model count is negative ({count})")
    result.pack_count = count


def _read_rgba(reader: _ChunkReader, result: VoxFile) -> None:
    if reader.remaining != 1024:
        raise reader.fail(f"palette must be 1024 bytes, chunk holds {reader.remaining}")
    entries = np.frombuffer(reader.take(1024, "palette"), dtype=np.uint8).reshape(256, 4)
    palette = np.zeros((256, 4), dtype=np.uint8)
    # File entry i is palette index i + 1; the last file entry has no index.
    palette[1:] = entries[:255]
    result.palette = palette
    result.has_palette = True


def _read_matt(reader: _ChunkReader, result: VoxFile) -> None:
    material_id = reader.i32("material id")
    kind = reader.i32("material type")
    weight = reader.f32("weight")
    bits = reader.i32("property bits")
    properties = {"_type": _MATT_TYPES.get(kind, "_diffuse"), "_weight": repr(weight)}
    for bit, key in _MATT_PROPERTIES:
        if bits & (1 << bit):
            properties[key] = repr(reader.f32(key))
    # The spec gives bit 7 no value, but MagicaVoxel 0.98 writes one (deer.vox); allow both.
    if bits & 0x80 and reader.remaining == 4:
        reader.f32("total power flag")
    reader.finish()
    if not 0 <= material_id <= 255:
        raise reader.fail(f"material id {material_id} outside 0..255")
    if kind == 2 and "_att" in properties:
        properties["_trans"] = repr(1.0)
    result.materials[material_id] = Material(material_id, properties)


def _read_matl(reader: _ChunkReader, result: VoxFile) -> None:
    material_id = reader.i32("material id")
    properties = reader.dictionary("material")
    reader.finish()
    if not 0 <= material_id <= 256:
        raise reader.fail(f"material id {material_id} outside 0..256")
    material_id &= 0xFF
    result.materials[material_id] = Material(material_id, properties)


def _check_new_node(reader: _ChunkReader, result: VoxFile, node_id: int) -> None:
    if node_id < 0:
        raise reader.fail(f"node id is negative ({node_id})")
    if node_id in result.transforms or node_id in result.groups or node_id in result.shapes:
        raise reader.fail(f"node id {node_id} is defined twice")
    if len(result.transforms) + len(result.groups) + len(result.shapes) >= MAX_SCENE_NODES:
        raise reader.fail(f"the scene graph has more than {MAX_SCENE_NODES} nodes")


def _read_frame(reader: _ChunkReader, index: int) -> Frame:
    attributes = reader.dictionary(f"frame {index}")
    frame = Frame(attributes=attributes, index=index)
    if "_r" in attributes:
        try:
            frame.rotation = int(attributes["_r"])
            rotation_matrix(frame.rotation)
        except ValueError:
            raise reader.fail(
                f"frame {index} rotation {attributes['_r']!r} is not a rotation byte"
            ) from None
    if "_t" in attributes:
        parts = attributes["_t"].split()
        try:
            x, y, z = (int(part) for part in parts)
        except ValueError:
            raise reader.fail(
                f"frame {index} translation {attributes['_t']!r} is not three integers"
            ) from None
        if max(abs(x), abs(y), abs(z)) > MAX_TRANSLATION:
            raise reader.fail(
                f"frame {index} translation {x} {y} {z} is beyond {MAX_TRANSLATION:,} voxels"
            )
        frame.translation = (x, y, z)
    if "_f" in attributes:
        try:
            frame.index = int(attributes["_f"])
        except ValueError:
            raise reader.fail(
                f"frame {index} index {attributes['_f']!r} is not an integer"
            ) from None
    return frame


def _read_ntrn(reader: _ChunkReader, result: VoxFile) -> None:
    node_id = reader.i32("node id")
    attributes = reader.dictionary("node attributes")
    child_id = reader.i32("child node id")
    reader.i32("reserved id")
    layer_id = reader.i32("layer id")
    frame_count = reader.count("frame count", 4)
    frames = [_read_frame(reader, index) for index in range(frame_count)]
    reader.finish()
    _check_new_node(reader, result, node_id)
    result.transforms[node_id] = TransformNode(
        node_id, attributes, child_id, layer_id, frames, reader.chunk_offset
    )


def _read_ngrp(reader: _ChunkReader, result: VoxFile) -> None:
    node_id = reader.i32("node id")
    attributes = reader.dictionary("node attributes")
    child_count = reader.count("child count", 4)
    children = [reader.i32("child node id") for _ in range(child_count)]
    reader.finish()
    _check_new_node(reader, result, node_id)
    result.groups[node_id] = GroupNode(node_id, attributes, children, reader.chunk_offset)


def _read_nshp(reader: _ChunkReader, result: VoxFile) -> None:
    node_id = reader.i32("node id")
    attributes = reader.dictionary("node attributes")
    model_count = reader.count("model count", 8)
    models = []
    for _ in range(model_count):
        model_id = reader.i32("model id")
        models.append((model_id, reader.dictionary("model attributes")))
    reader.finish()
    _check_new_node(reader, result, node_id)
    result.shapes[node_id] = ShapeNode(node_id, attributes, models, reader.chunk_offset)


def _read_layr(reader: _ChunkReader, result: VoxFile) -> None:
    layer_id = reader.i32("layer id")
    attributes = reader.dictionary("layer attributes")
    reader.i32("reserved id")
    reader.finish()
    result.layers[layer_id] = Layer(layer_id, attributes)


def _read_robj(reader: _ChunkReader, result: VoxFile) -> None:
    result.render_objects.append(reader.dictionary("render attributes"))
    reader.finish()


def _read_rcam(reader: _ChunkReader, result: VoxFile) -> None:
    camera_id = reader.i32("camera id")
    attributes = reader.dictionary("camera attributes")
    reader.finish()
    result.cameras.append(Camera(camera_id, attributes))


def _read_note(reader: _ChunkReader, result: VoxFile) -> None:
    count = reader.count("name count", 4)
    result.color_names = [reader.string("colour name") for _ in range(count)]
    reader.finish()


def _read_imap(reader: _ChunkReader, result: VoxFile) -> None:
    if reader.remaining != 256:
        raise reader.fail(f"index map must be 256 bytes, chunk holds {reader.remaining}")
    result.index_map = np.frombuffer(reader.take(256, "index map"), dtype=np.uint8).copy()


def _read_meta(reader: _ChunkReader, result: VoxFile) -> None:
    result.meta = reader.dictionary("meta attributes")
    reader.finish()


_HANDLERS = {
    b"PACK": _read_pack,
    b"RGBA": _read_rgba,
    b"MATT": _read_matt,
    b"MATL": _read_matl,
    b"nTRN": _read_ntrn,
    b"nGRP": _read_ngrp,
    b"nSHP": _read_nshp,
    b"LAYR": _read_layr,
    b"rOBJ": _read_robj,
    b"rCAM": _read_rcam,
    b"NOTE": _read_note,
    b"IMAP": _read_imap,
    b"META": _read_meta,
}


def _check_scene_graph(result: VoxFile) -> None:
    """Reject dangling references and cycles, and bound how many instances the graph expands to
    and how deep it nests.

    Nodes may be shared (MagicaVoxel reuses one nSHP for repeated copies of a model), so the
    graph is a DAG rather than a tree; sharing could expand exponentially, hence the bound.
    """
    if not (result.transforms or result.groups or result.shapes):
        return
    if 0 not in result.transforms:
        chunk, offset = min(
            (_node_location(result, node) for node in _all_node_ids(result)),
            key=lambda location: location[1],
        )
        raise VoxFormatError("scene graph has no root transform node 0", chunk, offset)

    for shape in result.shapes.values():
        for model_id, _ in shape.models:
            if not 0 <= model_id < len(result.models):
                raise VoxFormatError(
                    f"shape {shape.node_id} refers to missing model {model_id} "
                    f"(file has {len(result.models)})",
                    "nSHP",
                    shape.offset,
                )
    if _instances(result)[0] > MAX_INSTANCES:
        raise VoxFormatError(
            f"scene graph expands to more than {MAX_INSTANCES} objects",
            "nTRN",
            result.transforms[0].offset,
        )


def _children(result: VoxFile, node_id: int) -> list[int]:
    """The nodes beneath ``node_id``; a reference to a node that does not exist fails."""
    if node_id in result.transforms:
        found = [result.transforms[node_id].child_id]
    elif node_id in result.groups:
        found = result.groups[node_id].children
    else:
        return []
    for child in found:
        if child not in result.transforms and child not in result.groups and (
            child not in result.shapes
        ):
            chunk, offset = _node_location(result, node_id)
            raise VoxFormatError(f"node {node_id} refers to missing node {child}", chunk, offset)
    return found


def _instances(result: VoxFile) -> dict[int, int]:
    """Per node, the objects it expands to (capped just above the bound).

    Iterative depth-first search: a child met while still on the stack closes a cycle. Counts
    and heights (nodes on the longest path down) are found bottom-up as nodes finish, and the
    stack itself never grows deeper than the depth limit.
    """
    instances: dict[int, int] = {}
    heights: dict[int, int] = {}
    on_stack: set[int] = set()
    for start in _all_node_ids(result):
        if start in instances:
            continue
        stack = [(start, iter(_children(result, start)))]
        on_stack.add(start)
        while stack:
            node_id, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                on_stack.discard(node_id)
                below = _children(result, node_id)
                # Groups and shapes each become one object per path that reaches them.
                own = 0 if node_id in result.transforms else 1
                instances[node_id] = min(MAX_INSTANCES + 1, own + sum(instances[c] for c in below))
                heights[node_id] = 1 + max((heights[c] for c in below), default=0)
                if heights[node_id] > MAX_SCENE_DEPTH:
                    raise _too_deep(result, node_id)
            elif child in on_stack:
                chunk, offset = _node_location(result, node_id)
                raise VoxFormatError(
                    f"node {node_id} refers to node {child}, closing a cycle in the scene graph",
                    chunk,
                    offset,
                )
            elif child not in instances:
                if len(stack) >= MAX_SCENE_DEPTH:
                    raise _too_deep(result, child)
                stack.append((child, iter(_children(result, child))))
                on_stack.add(child)
    return instances


def _too_deep(result: VoxFile, node_id: int) -> VoxFormatError:
    chunk, offset = _node_location(result, node_id)
    return VoxFormatError(
        f"the scene graph nests more than {MAX_SCENE_DEPTH} nodes deep at node {node_id} "
        f"(about {MAX_SCENE_DEPTH // 2} levels of groups)",
        chunk,
        offset,
    )


def _all_node_ids(result: VoxFile) -> list[int]:
    return [*result.transforms, *result.groups, *result.shapes]


def _node_location(result: VoxFile, node_id: int) -> tuple[str, int]:
    if node_id in result.transforms:
        return "nTRN", result.transforms[node_id].offset
    if node_id in result.groups:
        return "nGRP", result.groups[node_id].offset
    return "nSHP", result.shapes[node_id].offset
