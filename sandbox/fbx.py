"""A small binary FBX (7.4) writer: named mesh models with triangle geometry, Y-up, metres.

Enough for Blender's and other common importers; no materials, animation or skinning.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

FBX_MAGIC = b"Kaydara FBX Binary  \x00\x1a\x00"
FBX_VERSION = 7400
# Fixed blocks that close a binary FBX file (format facts, the same in every file).
_FOOTER_ID = bytes.fromhex("fabcab09d0c8d466b176fb831cf7267e")
_FOOTER_MAGIC = bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b")

Prop = tuple[str, object]


class Node:
    def __init__(
        self, name: str, props: Sequence[Prop] = (), children: Sequence[Node] = ()
    ) -> None:
        self.name = name
        self.props = list(props)
        self.children = list(children)

    def encode(self, offset: int) -> bytes:
        name = self.name.encode("ascii")
        props = b"".join(_encode_prop(kind, value) for kind, value in self.props)
        position = offset + 13 + len(name) + len(props)
        body = bytearray()
        for child in self.children:
            encoded = child.encode(position)
            body += encoded
            position += len(encoded)
        if self.children:
            # A node with children ends with an all-zero "null record".
            body += b"\0" * 13
            position += 13
        head = struct.pack("<IIIB", position, len(self.props), len(props), len(name))
        return head + name + props + bytes(body)


def _encode_prop(kind: str, value: object) -> bytes:
    if kind == "I":
        return b"I" + struct.pack("<i", value)
    if kind == "L":
        return b"L" + struct.pack("<q", value)
    if kind == "D":
        return b"D" + struct.pack("<d", value)
    if kind == "C":
        return b"C" + struct.pack("<?", value)
    if kind == "S":
        data = value.encode("utf-8") if isinstance(value, str) else _as_bytes(value)
        return b"S" + struct.pack("<I", len(data)) + data
    if kind == "R":
        data = _as_bytes(value)
        return b"R" + struct.pack("<I", len(data)) + data
    if kind in ("d", "i"):
        items = list(value)  # type: ignore[call-overload]
        raw = struct.pack(f"<{len(items)}{'d' if kind == 'd' else 'i'}", *items)
        packed = zlib.compress(raw)
        return kind.encode() + struct.pack("<III", len(items), 1, len(packed)) + packed
    raise ValueError(f"unsupported FBX property type {kind!r}")


def _as_bytes(value: object) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise TypeError(f"expected bytes, got {type(value).__name__}")
    return bytes(value)


def _p(name: str, kind: str, flavour: str, *values: Prop) -> Node:
    return Node("P", [("S", name), ("S", kind), ("S", flavour), ("S", ""), *values])


Mesh = tuple[str, Sequence[Sequence[float]], Sequence[Sequence[int]]]
# Y-up, Z front, X right: the axes glTF uses.
_AXES = (
    ("UpAxis", 1),
    ("UpAxisSign", 1),
    ("FrontAxis", 2),
    ("FrontAxisSign", 1),
    ("CoordAxis", 0),
    ("CoordAxisSign", 1),
    ("OriginalUpAxis", 1),
    ("OriginalUpAxisSign", 1),
)


def write_fbx(meshes: Sequence[Mesh]) -> bytes:
    """meshes: (name, positions in metres, Y-up, polygons as vertex index lists)."""
    objects: list[Node] = []
    connections: list[Node] = []
    for number, mesh in enumerate(meshes):
        geometry_id, model_id = 1_000_000 + 2 * number, 1_000_001 + 2 * number
        objects += _mesh_objects(mesh, geometry_id, model_id)
        connections.append(Node("C", [("S", "OO"), ("L", geometry_id), ("L", model_id)]))
        connections.append(Node("C", [("S", "OO"), ("L", model_id), ("L", 0)]))
    top = [
        *_header(),
        _definitions(len(meshes)),
        Node("Objects", [], objects),
        Node("Connections", [], connections),
    ]
    out = bytearray(FBX_MAGIC + struct.pack("<I", FBX_VERSION))
    for node in top:
        out += node.encode(len(out))
    out += b"\0" * 13
    out += _FOOTER_ID + b"\0" * 4
    out += b"\0" * (16 - len(out) % 16)
    out += struct.pack("<I", FBX_VERSION) + b"\0" * 120 + _FOOTER_MAGIC
    return bytes(out)


def _mesh_objects(mesh: Mesh, geometry_id: int, model_id: int) -> list[Node]:
    """The Geometry and Model records of one mesh."""
    name, positions, polygons = mesh
    flat_positions = [float(c) for p in positions for c in p[:3]]
    indices: list[int] = []
    for polygon in polygons:
        # The last index of each polygon is stored as its bitwise complement.
        indices.extend(int(i) for i in polygon[:-1])
        indices.append(~int(polygon[-1]))
    safe = name.replace("\0", "_")
    geometry = Node(
        "Geometry",
        [("L", geometry_id), ("S", f"{safe}\0\x01Geometry"), ("S", "Mesh")],
        [
            Node("Vertices", [("d", flat_positions)]),
            Node("PolygonVertexIndex", [("i", indices)]),
            Node("GeometryVersion", [("I", 124)]),
        ],
    )
    model = Node(
        "Model",
        [("L", model_id), ("S", f"{safe}\0\x01Model"), ("S", "Mesh")],
        [
            Node("Version", [("I", 232)]),
            Node("Properties70", [], [_p("DefaultAttributeIndex", "int", "Integer", ("I", 0))]),
            Node("Shading", [("C", True)]),
            Node("Culling", [("S", "CullingOff")]),
        ],
    )
    return [geometry, model]


def _header() -> list[Node]:
    settings = [_p(name, "int", "Integer", ("I", value)) for name, value in _AXES]
    # FBX's unit is the centimetre; 100 says "one unit is a metre", as glTF's is.
    settings.append(_p("UnitScaleFactor", "double", "Number", ("D", 100.0)))
    settings.append(_p("OriginalUnitScaleFactor", "double", "Number", ("D", 100.0)))
    return [
        Node(
            "FBXHeaderExtension",
            [],
            [
                Node("FBXHeaderVersion", [("I", 1003)]),
                Node("FBXVersion", [("I", FBX_VERSION)]),
                Node("Creator", [("S", "Conjure sandbox")]),
            ],
        ),
        Node("Creator", [("S", "Conjure sandbox")]),
        Node(
            "GlobalSettings",
            [],
            [Node("Version", [("I", 1000)]), Node("Properties70", [], settings)],
        ),
    ]


def _definitions(mesh_count: int) -> Node:
    return Node(
        "Definitions",
        [],
        [
            Node("Version", [("I", 100)]),
            Node("Count", [("I", 1 + 2 * mesh_count)]),
            Node("ObjectType", [("S", "GlobalSettings")], [Node("Count", [("I", 1)])]),
            Node("ObjectType", [("S", "Geometry")], [Node("Count", [("I", mesh_count)])]),
            Node("ObjectType", [("S", "Model")], [Node("Count", [("I", mesh_count)])]),
        ],
    )
