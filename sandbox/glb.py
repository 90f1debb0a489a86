"""Binary glTF 2.0 (GLB): read, write, inspect (hierarchy, world-space meshes) and edit.

Edits never rewrite existing bytes: changed geometry is appended to the binary chunk and only the
edited nodes are pointed at it, so every other node keeps byte-identical mesh data.
"""

from __future__ import annotations

import copy
import json
import math
import random
import struct
from typing import Any

GLB_MAGIC = b"glTF"
_JSON_CHUNK = 0x4E4F534A
_BIN_CHUNK = 0x004E4942

_COMPONENTS = {5120: "b", 5121: "B", 5122: "h", 5123: "H", 5125: "I", 5126: "f"}
_TYPE_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}

Matrix = list[float]  # 4x4, column-major as glTF stores it
Vec3 = tuple[float, float, float]
# A written model's part: name, (positions, normals, triangle indices), translation, colour.
Part = tuple[str, tuple[list[Vec3], list[Vec3], list[int]], Vec3, tuple[float, ...]]


class GlbError(ValueError):
    """The bytes are not a GLB this module can read."""


def is_glb(data: bytes) -> bool:
    return len(data) >= 12 and data[:4] == GLB_MAGIC


class Glb:
    def __init__(self, doc: dict[str, Any], binary: bytes) -> None:
        self.doc = doc
        self.binary = binary

    @classmethod
    def parse(cls, data: bytes) -> Glb:
        if not is_glb(data):
            raise GlbError("not a GLB file (magic is not 'glTF')")
        _, version, length = struct.unpack_from("<4sII", data, 0)
        if version != 2:
            raise GlbError(f"GLB version {version} is not 2")
        if length != len(data):
            raise GlbError(f"GLB header says {length} bytes, file has {len(data)}")
        offset = 12
        doc: dict[str, Any] | None = None
        binary = b""
        while offset + 8 <= len(data):
            chunk_length, chunk_type = struct.unpack_from("<II", data, offset)
            chunk = data[offset + 8 : offset + 8 + chunk_length]
            if len(chunk) != chunk_length:
                raise GlbError("GLB chunk runs past the end of the file")
            if chunk_type == _JSON_CHUNK and doc is None:
                try:
                    doc = json.loads(chunk.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise GlbError(f"GLB JSON chunk is not valid JSON: {exc}") from exc
            elif chunk_type == _BIN_CHUNK and not binary:
                binary = chunk
            offset += 8 + chunk_length
        if not isinstance(doc, dict) or "asset" not in doc:
            raise GlbError("GLB has no glTF JSON chunk")
        return cls(doc, binary)

    def to_bytes(self) -> bytes:
        json_bytes = json.dumps(self.doc, separators=(",", ":")).encode("utf-8")
        json_bytes += b" " * (-len(json_bytes) % 4)
        binary = self.binary + b"\0" * (-len(self.binary) % 4)
        total = 12 + 8 + len(json_bytes) + (8 + len(binary) if binary else 0)
        out = bytearray(struct.pack("<4sII", GLB_MAGIC, 2, total))
        out += struct.pack("<II", len(json_bytes), _JSON_CHUNK) + json_bytes
        if binary:
            out += struct.pack("<II", len(binary), _BIN_CHUNK) + binary
        return bytes(out)

    # -- accessors -------------------------------------------------------------------------
    def accessor_raw(self, index: int) -> bytes:
        """The accessor's element bytes, packed (strides removed): the mesh data identity."""
        accessor = self.doc["accessors"][index]
        fmt = _COMPONENTS[accessor["componentType"]]
        width = _TYPE_WIDTH[accessor["type"]]
        element = struct.calcsize("<" + fmt) * width
        count = accessor["count"]
        if "bufferView" not in accessor:
            return b"\0" * (element * count)
        view = self.doc["bufferViews"][accessor["bufferView"]]
        if view.get("buffer", 0) != 0:
            raise GlbError("only the GLB's own binary buffer is supported")
        start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
        stride = view.get("byteStride") or element
        if stride == element:
            return bytes(self.binary[start : start + element * count])
        return b"".join(
            bytes(self.binary[start + i * stride : start + i * stride + element])
            for i in range(count)
        )

    def accessor_values(self, index: int) -> list[tuple[float, ...]]:
        accessor = self.doc["accessors"][index]
        fmt = _COMPONENTS[accessor["componentType"]]
        width = _TYPE_WIDTH[accessor["type"]]
        raw = self.accessor_raw(index)
        return list(struct.iter_unpack("<" + fmt * width, raw))

    def append_accessor(self, template: dict[str, Any], values: list[Vec3]) -> int:
        """Append float VEC3 data as a new buffer view + accessor; returns the accessor index."""
        binary = bytearray(self.binary)
        binary += b"\0" * (-len(binary) % 4)
        offset = len(binary)
        for value in values:
            binary += struct.pack("<3f", *value)
        self.binary = bytes(binary)
        views = self.doc.setdefault("bufferViews", [])
        views.append({"buffer": 0, "byteOffset": offset, "byteLength": 12 * len(values)})
        accessor = {k: v for k, v in template.items() if k not in ("sparse", "byteOffset")}
        accessor.update(
            bufferView=len(views) - 1,
            componentType=5126,
            type="VEC3",
            count=len(values),
            min=[min(v[i] for v in values) for i in range(3)] if values else [0, 0, 0],
            max=[max(v[i] for v in values) for i in range(3)] if values else [0, 0, 0],
        )
        self.doc["accessors"].append(accessor)
        self.doc["buffers"] = [{"byteLength": len(self.binary)}]
        return len(self.doc["accessors"]) - 1

    # -- node graph ------------------------------------------------------------------------
    def scene_roots(self) -> list[int]:
        scenes = self.doc.get("scenes") or []
        if not scenes:
            children = {c for n in self.doc.get("nodes", []) for c in n.get("children", [])}
            return [i for i in range(len(self.doc.get("nodes", []))) if i not in children]
        return list(scenes[self.doc.get("scene", 0)].get("nodes", []))

    def world_matrices(self) -> dict[int, Matrix]:
        nodes = self.doc.get("nodes", [])
        result: dict[int, Matrix] = {}

        def visit(index: int, parent: Matrix) -> None:
            world = _multiply(parent, local_matrix(nodes[index]))
            result[index] = world
            for child in nodes[index].get("children", []):
                if child not in result:
                    visit(child, world)

        for root in self.scene_roots():
            visit(root, _IDENTITY)
        return result

    def mesh_triangle_count(self, mesh_index: int) -> int:
        total = 0
        for primitive in self.doc["meshes"][mesh_index].get("primitives", []):
            mode = primitive.get("mode", 4)
            if "indices" in primitive:
                count = self.doc["accessors"][primitive["indices"]]["count"]
            else:
                position = primitive.get("attributes", {}).get("POSITION")
                count = self.doc["accessors"][position]["count"] if position is not None else 0
            if mode == 4:
                total += count // 3
            elif mode in (5, 6):
                total += max(0, count - 2)
        return total

    def mesh_geometry(self, mesh_index: int) -> tuple[list[Vec3], list[tuple[int, int, int]]]:
        """All triangle primitives of a mesh merged into one vertex and one triangle list."""
        positions: list[Vec3] = []
        triangles: list[tuple[int, int, int]] = []
        for primitive in self.doc["meshes"][mesh_index].get("primitives", []):
            if primitive.get("mode", 4) != 4 or "POSITION" not in primitive.get("attributes", {}):
                continue
            base = len(positions)
            points = self.accessor_values(primitive["attributes"]["POSITION"])
            positions.extend((p[0], p[1], p[2]) for p in points)
            if "indices" in primitive:
                flat = [int(v[0]) for v in self.accessor_values(primitive["indices"])]
            else:
                flat = list(range(len(points)))
            for i in range(0, len(flat) - 2, 3):
                triangles.append((base + flat[i], base + flat[i + 1], base + flat[i + 2]))
        return positions, triangles

    def world_meshes(self) -> list[tuple[str, list[Vec3], list[tuple[int, int, int]]]]:
        """(node name, world-space positions, triangles) for every mesh node in the scene."""
        out = []
        nodes = self.doc.get("nodes", [])
        for index, world in self.world_matrices().items():
            node = nodes[index]
            if "mesh" not in node:
                continue
            positions, triangles = self.mesh_geometry(node["mesh"])
            placed = [transform_point(world, p) for p in positions]
            out.append((node.get("name") or f"node_{index}", placed, triangles))
        return out


# -- matrices ------------------------------------------------------------------------------
_IDENTITY: Matrix = [1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0]


def _multiply(a: Matrix, b: Matrix) -> Matrix:
    out = [0.0] * 16
    for col in range(4):
        for row in range(4):
            out[col * 4 + row] = sum(a[k * 4 + row] * b[col * 4 + k] for k in range(4))
    return out


def local_matrix(node: dict[str, Any]) -> Matrix:
    if "matrix" in node:
        return [float(v) for v in node["matrix"]]
    tx, ty, tz = node.get("translation", (0.0, 0.0, 0.0))
    qx, qy, qz, qw = node.get("rotation", (0.0, 0.0, 0.0, 1.0))
    sx, sy, sz = node.get("scale", (1.0, 1.0, 1.0))
    rotation = [
        1 - 2 * (qy * qy + qz * qz),
        2 * (qx * qy + qz * qw),
        2 * (qx * qz - qy * qw),
        2 * (qx * qy - qz * qw),
        1 - 2 * (qx * qx + qz * qz),
        2 * (qy * qz + qx * qw),
        2 * (qx * qz + qy * qw),
        2 * (qy * qz - qx * qw),
        1 - 2 * (qx * qx + qy * qy),
    ]
    return [
        rotation[0] * sx,
        rotation[1] * sx,
        rotation[2] * sx,
        0.0,
        rotation[3] * sy,
        rotation[4] * sy,
        rotation[5] * sy,
        0.0,
        rotation[6] * sz,
        rotation[7] * sz,
        rotation[8] * sz,
        0.0,
        tx,
        ty,
        tz,
        1.0,
    ]


def transform_point(m: Matrix, p: Vec3 | tuple[float, ...]) -> Vec3:
    x, y, z = p[0], p[1], p[2]
    return (
        m[0] * x + m[4] * y + m[8] * z + m[12],
        m[1] * x + m[5] * y + m[9] * z + m[13],
        m[2] * x + m[6] * y + m[10] * z + m[14],
    )


def _axis_aligned(m: Matrix) -> bool:
    """True when the linear part maps axes onto axes (so a transformed box stays exact)."""
    for col in range(3):
        nonzero = sum(1 for row in range(3) if abs(m[col * 4 + row]) > 1e-6)
        if nonzero > 1:
            return False
    return True


# -- hierarchy (Thrixel's /hierarchy) ---------------------------------------------------------
def hierarchy(glb: Glb) -> dict[str, Any]:
    """Thrixel's node tree: leaves carry triangle counts, containers their subtree's total."""
    nodes = glb.doc.get("nodes", [])
    worlds = glb.world_matrices()
    bounds = _Bounds()

    def visit(index: int) -> dict[str, Any]:
        node = nodes[index]
        children = [visit(c) for c in node.get("children", [])]
        faces = sum(c["faces"] for c in children)
        if "mesh" in node:
            faces += glb.mesh_triangle_count(node["mesh"])
            bounds.add_mesh(glb, node["mesh"], worlds.get(index, _IDENTITY))
        return {
            "name": node.get("name") or f"node_{index}",
            "type": "Mesh" if "mesh" in node else "Group",
            "faces": faces,
            "children": children,
        }

    roots = [visit(i) for i in glb.scene_roots()]
    return {
        "name": "Scene",
        "type": "Scene",
        "faces": sum(r["faces"] for r in roots),
        "children": roots,
        "bounds": bounds.view(),
    }


class _Bounds:
    """World-space box around the meshes added; exact while every transform maps axes onto
    axes (otherwise the box of the transformed corners is larger than the mesh's own)."""

    def __init__(self) -> None:
        self.low = [math.inf] * 3
        self.high = [-math.inf] * 3
        self.exact = True

    def add_mesh(self, glb: Glb, mesh: int, world: Matrix) -> None:
        self.exact = self.exact and _axis_aligned(world)
        for primitive in glb.doc["meshes"][mesh].get("primitives", []):
            box = _position_box(glb, primitive["attributes"]["POSITION"])
            if box is None:
                continue
            lo, hi = box
            for corner in range(8):
                point = (
                    hi[0] if corner & 1 else lo[0],
                    hi[1] if corner & 2 else lo[1],
                    hi[2] if corner & 4 else lo[2],
                )
                placed = transform_point(world, point)
                for i in range(3):
                    self.low[i] = min(self.low[i], placed[i])
                    self.high[i] = max(self.high[i], placed[i])

    def view(self) -> dict[str, Any]:
        low, high = self.low, self.high
        if low[0] == math.inf:
            low, high = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
        return {
            "min": [round(v, 6) for v in low],
            "max": [round(v, 6) for v in high],
            "size": [round(high[i] - low[i], 6) for i in range(3)],
            "center": [round((high[i] + low[i]) / 2, 6) for i in range(3)],
            "exact": self.exact,
        }


def _position_box(glb: Glb, accessor_index: int) -> tuple[list[float], list[float]] | None:
    """An accessor's (min, max): as declared, or read from its values; None when empty."""
    accessor = glb.doc["accessors"][accessor_index]
    if "min" in accessor and "max" in accessor:
        return accessor["min"], accessor["max"]
    values = glb.accessor_values(accessor_index)
    if not values:
        return None
    return [min(v[i] for v in values) for i in range(3)], [
        max(v[i] for v in values) for i in range(3)
    ]


def node_names(glb: Glb) -> list[str]:
    return [n.get("name") or f"node_{i}" for i, n in enumerate(glb.doc.get("nodes", []))]


# -- edits (Thrixel phases 2, 3, 4) -------------------------------------------------------------
def edit(data: bytes, focus: list[str] | None, scale: float) -> bytes:
    """Reshape the named nodes (and their subtrees), or every mesh node when focus is empty.

    Each edited primitive gets new POSITION data (scaled about its own centre); everything else
    stays byte-identical because new data is appended, never written over.
    """
    glb = Glb.parse(data)
    glb.doc = copy.deepcopy(glb.doc)
    nodes = glb.doc.get("nodes", [])
    if focus:
        wanted = set(focus)
        targets: set[int] = set()

        def collect(index: int) -> None:
            targets.add(index)
            for child in nodes[index].get("children", []):
                collect(child)

        for index, node in enumerate(nodes):
            if node.get("name") in wanted:
                collect(index)
    else:
        targets = set(range(len(nodes)))
    for index in sorted(targets):
        node = nodes[index]
        if "mesh" not in node:
            continue
        mesh = copy.deepcopy(glb.doc["meshes"][node["mesh"]])
        for primitive in mesh.get("primitives", []):
            position = primitive.get("attributes", {}).get("POSITION")
            if position is None:
                continue
            values = glb.accessor_values(position)
            if not values:
                continue
            centre = [sum(v[i] for v in values) / len(values) for i in range(3)]
            moved = [
                (
                    centre[0] + (v[0] - centre[0]) * scale,
                    centre[1] + (v[1] - centre[1]) * scale,
                    centre[2] + (v[2] - centre[2]) * scale,
                )
                for v in values
            ]
            template = glb.doc["accessors"][position]
            primitive["attributes"]["POSITION"] = glb.append_accessor(template, moved)
        glb.doc["meshes"].append(mesh)
        node["mesh"] = len(glb.doc["meshes"]) - 1
    return glb.to_bytes()


# -- models written from scratch -------------------------------------------------------------
def _box(sx: float, sy: float, sz: float) -> tuple[list[Vec3], list[Vec3], list[int]]:
    positions: list[Vec3] = []
    normals: list[Vec3] = []
    indices: list[int] = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            normal = [0.0, 0.0, 0.0]
            normal[axis] = sign
            u_axis, v_axis = [(1, 2), (2, 0), (0, 1)][axis]
            base = len(positions)
            for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                point = [0.0, 0.0, 0.0]
                point[axis] = sign
                point[u_axis] = du
                point[v_axis] = dv
                positions.append((point[0] * sx / 2, point[1] * sy / 2, point[2] * sz / 2))
                normals.append((normal[0], normal[1], normal[2]))
            quad = [base, base + 1, base + 2, base, base + 2, base + 3]
            if sign < 0:
                quad = [base, base + 2, base + 1, base, base + 3, base + 2]
            indices.extend(quad)
    return positions, normals, indices


def _lathe(
    profile: list[tuple[float, float]], segments: int
) -> tuple[list[Vec3], list[Vec3], list[int]]:
    """Surface of revolution around Y from (radius, height) points, bottom to top."""
    positions: list[Vec3] = []
    normals: list[Vec3] = []
    indices: list[int] = []
    for radius, height in profile:
        for s in range(segments):
            angle = 2 * math.pi * s / segments
            c, si = math.cos(angle), math.sin(angle)
            positions.append((radius * c, height, radius * si))
            normals.append((c, 0.0, si))
    for ring in range(len(profile) - 1):
        for s in range(segments):
            a = ring * segments + s
            b = ring * segments + (s + 1) % segments
            c2 = a + segments
            d = b + segments
            indices.extend([a, c2, b, b, c2, d])
    # Caps: a centre vertex at each end.
    for ring_index, (_, height), up in (
        (0, profile[0], -1.0),
        (len(profile) - 1, profile[-1], 1.0),
    ):
        centre = len(positions)
        positions.append((0.0, height, 0.0))
        normals.append((0.0, up, 0.0))
        for s in range(segments):
            a = ring_index * segments + s
            b = ring_index * segments + (s + 1) % segments
            indices.extend([centre, a, b] if up < 0 else [centre, b, a])
    return positions, normals, indices


def build_model(seed: int) -> bytes:
    """A small multi-part model (plinth, body, crown, two handles) shaped by ``seed``."""
    rng = random.Random(seed)
    parts: list[Part] = []
    width = rng.uniform(0.8, 1.2)
    parts.append(("plinth", _box(width, 0.2, width), (0.0, 0.1, 0.0), (0.35, 0.33, 0.3, 1.0)))
    waist = rng.uniform(0.25, 0.4)
    body_profile = [(waist * 1.3, 0.0), (waist * rng.uniform(1.4, 1.9), 0.4), (waist, 0.9)]
    parts.append(("body", _lathe(body_profile, 24), (0.0, 0.2, 0.0), (0.7, 0.45, 0.2, 1.0)))
    crown = [(waist * 1.1, 0.0), (waist * 0.2, rng.uniform(0.3, 0.6))]
    parts.append(("crown", _lathe(crown, 24), (0.0, 1.1, 0.0), (0.8, 0.75, 0.3, 1.0)))
    for side, name in ((-1, "handle_left"), (1, "handle_right")):
        parts.append(
            (name, _box(0.08, 0.3, 0.08), (side * waist * 1.7, 0.7, 0.0), (0.2, 0.2, 0.25, 1.0))
        )
    return write_glb(parts)


def write_glb(parts: list[Part]) -> bytes:
    """A GLB of one mesh node per part."""
    writer = _GlbWriter(len(parts))
    for index, part in enumerate(parts):
        writer.add(index, part)
    return writer.to_bytes()


class _GlbWriter:
    def __init__(self, part_count: int) -> None:
        self.doc: dict[str, Any] = {
            "asset": {"version": "2.0", "generator": "Conjure sandbox"},
            "scene": 0,
            "scenes": [{"name": "Scene", "nodes": list(range(part_count))}],
            "nodes": [],
            "meshes": [],
            "materials": [],
            "accessors": [],
            "bufferViews": [],
            "buffers": [],
        }
        self.binary = bytearray()

    def view(self, data: bytes, target: int) -> int:
        self.binary += b"\0" * (-len(self.binary) % 4)
        self.doc["bufferViews"].append(
            {"buffer": 0, "byteOffset": len(self.binary), "byteLength": len(data), "target": target}
        )
        self.binary += data
        return len(self.doc["bufferViews"]) - 1

    def add(self, index: int, part: Part) -> None:
        name, (positions, normals, indices), translation, colour = part
        pos_view = self.view(b"".join(struct.pack("<3f", *p) for p in positions), 34962)
        nrm_view = self.view(b"".join(struct.pack("<3f", *n) for n in normals), 34962)
        idx_view = self.view(struct.pack(f"<{len(indices)}I", *indices), 34963)
        accessors = self.doc["accessors"]
        first = len(accessors)
        accessors.append(
            {
                "bufferView": pos_view,
                "componentType": 5126,
                "count": len(positions),
                "type": "VEC3",
                "min": [min(p[i] for p in positions) for i in range(3)],
                "max": [max(p[i] for p in positions) for i in range(3)],
            }
        )
        accessors.append(
            {"bufferView": nrm_view, "componentType": 5126, "count": len(normals), "type": "VEC3"}
        )
        accessors.append(
            {"bufferView": idx_view, "componentType": 5125, "count": len(indices), "type": "SCALAR"}
        )
        self.doc["materials"].append(
            {"name": f"{name}_material", "pbrMetallicRoughness": {"baseColorFactor": list(colour)}}
        )
        primitive = {
            "attributes": {"POSITION": first, "NORMAL": first + 1},
            "indices": first + 2,
            "material": index,
        }
        self.doc["meshes"].append({"name": name, "primitives": [primitive]})
        self.doc["nodes"].append({"name": name, "mesh": index, "translation": list(translation)})

    def to_bytes(self) -> bytes:
        self.doc["buffers"].append({"byteLength": len(self.binary)})
        return Glb(self.doc, bytes(self.binary)).to_bytes()
