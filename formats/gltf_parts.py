"""A binary glTF's parts: each node's name and a digest of its mesh's content, and a copy of the
file whose nodes carry both as extras, so that Blender's glTF importer puts them on the objects
it makes (as custom properties). bpy-free.

The digest covers what the mesh is (vertex positions, triangles, UV coordinates, primitive by
primitive), not its name or material: Thrixel holds the parts an edit did not focus on
byte-identical, so equal digests mean the service did not touch that part.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Custom properties the tagged copy gives each node's object.
NODE_NAME = "conjure_node_name"
NODE_INDEX = "conjure_node_index"
MESH_DIGEST = "conjure_mesh_digest"

_JSON_CHUNK = 0x4E4F534A
_BIN_CHUNK = 0x004E4942
_COMPONENT_BYTES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
_INDEX_FORMAT = {5121: "B", 5123: "H", 5125: "I"}
_TYPE_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


class GltfPartsError(ValueError):
    """The file is not a binary glTF this module can read."""


@dataclass(frozen=True)
class NodePart:
    """One node of the file: its name as Blender's importer names its object, its parent's
    index, and its mesh's digest (None for a node without a mesh)."""

    index: int
    name: str
    parent: int | None
    digest: str | None


@dataclass
class _Chunks:
    doc: dict[str, Any]
    binary: memoryview
    #: Where the binary chunk (header included) starts in the file, for copying it as it is.
    binary_at: int


def _read(path: Path) -> _Chunks:
    data = Path(path).read_bytes()
    if len(data) < 20 or data[:4] != b"glTF":
        raise GltfPartsError(f"{Path(path).name} is not a binary glTF (.glb) file")
    whole = memoryview(data)
    offset, doc, binary, binary_at = 12, None, whole[:0], len(data)
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from("<II", data, offset)
        body = whole[offset + 8:offset + 8 + length]
        if kind == _JSON_CHUNK and doc is None:
            try:
                doc = json.loads(bytes(body).decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise GltfPartsError(f"{Path(path).name}: unreadable glTF JSON ({exc})") from None
        elif kind == _BIN_CHUNK and binary_at == len(data):
            binary, binary_at = body, offset
        offset += 8 + length
    if not isinstance(doc, dict):
        raise GltfPartsError(f"{Path(path).name} has no glTF JSON chunk")
    return _Chunks(doc, binary, binary_at)


def _accessor_bytes(chunks: _Chunks, index: int) -> bytes:
    """An accessor's elements packed (any byte stride removed), with what they are."""
    doc = chunks.doc
    accessor = doc["accessors"][index]
    head = json.dumps([accessor.get(k) for k in ("componentType", "type", "count", "normalized",
                                                 "sparse")]).encode()
    if "bufferView" not in accessor:
        return head
    view = doc["bufferViews"][accessor["bufferView"]]
    element = _COMPONENT_BYTES[accessor["componentType"]] * _TYPE_WIDTH[accessor["type"]]
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    stride = view.get("byteStride") or element
    count = accessor["count"]
    if stride == element:
        return head + bytes(chunks.binary[start:start + element * count])
    return head + b"".join(bytes(chunks.binary[start + i * stride:start + i * stride + element])
                           for i in range(count))


def _indices(chunks: _Chunks, index: int) -> bytes:
    """Triangle indices as 32-bit numbers, whatever width the file stores them in."""
    accessor = chunks.doc["accessors"][index]
    packed = _accessor_bytes(chunks, index)
    fmt = _INDEX_FORMAT.get(accessor["componentType"])
    if fmt is None or "bufferView" not in accessor:
        return packed
    body = packed[len(packed) - accessor["count"] * struct.calcsize(fmt):]
    return struct.pack(f"<{accessor['count']}I", *struct.unpack(f"<{accessor['count']}{fmt}",
                                                                  body))


def _view_bytes(chunks: _Chunks, view_index: int) -> bytes:
    view = chunks.doc["bufferViews"][view_index]
    start = view.get("byteOffset", 0)
    return bytes(chunks.binary[start:start + view["byteLength"]])


def mesh_digest(chunks: _Chunks, mesh_index: int) -> str:
    """What the mesh is: per primitive its mode, positions, triangles and UV sets."""
    digest = hashlib.sha256()
    for primitive in chunks.doc["meshes"][mesh_index].get("primitives", []):
        digest.update(b"primitive %d" % primitive.get("mode", 4))
        attributes = primitive.get("attributes", {})
        for name in sorted(attributes):
            if name == "POSITION" or name.startswith("TEXCOORD_"):
                digest.update(name.encode() + _accessor_bytes(chunks, attributes[name]))
        if "indices" in primitive:
            digest.update(b"indices" + _indices(chunks, primitive["indices"]))
        draco = (primitive.get("extensions") or {}).get("KHR_draco_mesh_compression")
        if isinstance(draco, dict) and "bufferView" in draco:
            digest.update(b"draco" + _view_bytes(chunks, draco["bufferView"]))
    return digest.hexdigest()[:32]


def _parts(chunks: _Chunks) -> list[NodePart]:
    doc = chunks.doc
    nodes = doc.get("nodes") or []
    meshes = doc.get("meshes") or []
    parents = {child: i for i, node in enumerate(nodes) for child in node.get("children", [])}
    digests: dict[int, str] = {}
    found = []
    for index, node in enumerate(nodes):
        mesh = node.get("mesh")
        name = node.get("name")
        if not name and isinstance(mesh, int) and mesh < len(meshes):
            name = meshes[mesh].get("name")
        if isinstance(mesh, int) and mesh < len(meshes) and mesh not in digests:
            digests[mesh] = mesh_digest(chunks, mesh)
        found.append(NodePart(index, str(name or f"node_{index}"), parents.get(index),
                              digests.get(mesh) if isinstance(mesh, int) else None))
    return found


def node_parts(path: Path) -> list[NodePart]:
    """Every node of a .glb with its mesh digest; ``GltfPartsError`` when it is not one."""
    try:
        return _parts(_read(path))
    except (KeyError, IndexError, TypeError, struct.error) as exc:
        raise GltfPartsError(f"{Path(path).name}: unreadable glTF ({exc!r})") from None


def tagged_copy(path: Path, target: Path) -> list[NodePart]:
    """Write ``path`` to ``target`` with each node's name, index and mesh digest in its
    ``extras`` (the binary chunk is copied as it is); returns the parts."""
    chunks = _read(path)
    try:
        found = _parts(chunks)
    except (KeyError, IndexError, TypeError, struct.error) as exc:
        raise GltfPartsError(f"{Path(path).name}: unreadable glTF ({exc!r})") from None
    for part, node in zip(found, chunks.doc.get("nodes") or [], strict=True):
        extras = node.get("extras") if isinstance(node.get("extras"), dict) else {}
        tags: dict[str, Any] = {NODE_NAME: part.name, NODE_INDEX: part.index}
        if part.digest is not None:
            tags[MESH_DIGEST] = part.digest
        node["extras"] = {**extras, **tags}
    text = json.dumps(chunks.doc, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    size = Path(path).stat().st_size
    rest = size - chunks.binary_at
    with open(target, "wb") as out, open(path, "rb") as source:
        out.write(struct.pack("<4sII", b"glTF", 2, 12 + 8 + len(text) + rest))
        out.write(struct.pack("<II", len(text), _JSON_CHUNK) + text)
        source.seek(chunks.binary_at)
        shutil.copyfileobj(source, out, 1 << 20)
    return found
