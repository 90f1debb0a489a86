"""A .glb's parts and their mesh digests, and the tagged copy Blender's importer reads."""

from __future__ import annotations

import json
import struct

import pytest

from conjure.formats import gltf_parts
from sandbox import glb
from support.fixtures import THRIXEL_GLBS


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_an_edit_changes_the_digests_of_exactly_the_focused_parts(tmp_path):
    source = (THRIXEL_GLBS / "orrery.glb").read_bytes()
    before = gltf_parts.node_parts(write(tmp_path, "a.glb", source))
    after = gltf_parts.node_parts(write(tmp_path, "b.glb",
                                        glb.edit(source, ["crank", "pointer_arm"], 1.2)))
    assert [p.name for p in before] == [p.name for p in after] == [
        "OrreryBody", "crank", "orbit_ring_inner", "orbit_ring_middle", "orbit_ring_outer",
        "pointer_arm"]
    changed = {a.name for a, b in zip(before, after, strict=True) if a.digest != b.digest}
    assert changed == {"crank", "pointer_arm"}
    assert all(p.digest and p.parent is None for p in before)


def test_containers_have_no_digest_and_know_their_children(tmp_path):
    parts = gltf_parts.node_parts(THRIXEL_GLBS / "lighthouse-rough.glb")
    by_name = {p.name: p for p in parts}
    assert by_name["Lantern_Group"].digest is None
    assert parts[by_name["LanternGlass"].parent].name == "Lantern_Group"
    assert by_name["Lighthouse_Group"].parent is None


def test_the_digest_is_the_content_not_how_it_is_stored(tmp_path):
    box = glb._box(1, 1, 1)
    plain = glb.Glb.parse(glb.write_glb([("a", box, (0, 0, 0), (1, 1, 1, 1))]))
    wide = gltf_parts.node_parts(write(tmp_path, "wide.glb", plain.to_bytes()))[0].digest
    # The same triangles stored as 16-bit indices, positions interleaved with a stride.
    doc = plain.doc
    positions = plain.accessor_raw(0)
    indices = [v[0] for v in plain.accessor_values(2)]
    binary = bytearray(plain.binary)
    narrow_at = len(binary)
    binary += struct.pack(f"<{len(indices)}H", *indices) + b"\0" * (-2 * len(indices) % 4)
    strided_at = len(binary)
    for i in range(0, len(positions), 12):
        binary += positions[i:i + 12] + b"\xff" * 4
    doc["bufferViews"] += [{"buffer": 0, "byteOffset": narrow_at, "byteLength": 2 * len(indices)},
                           {"buffer": 0, "byteOffset": strided_at, "byteStride": 16,
                            "byteLength": len(positions) // 12 * 16}]
    doc["accessors"][2].update(bufferView=len(doc["bufferViews"]) - 2, componentType=5123)
    doc["accessors"][0]["bufferView"] = len(doc["bufferViews"]) - 1
    doc["buffers"] = [{"byteLength": len(binary)}]
    moved = glb.Glb(doc, bytes(binary)).to_bytes()
    assert gltf_parts.node_parts(write(tmp_path, "narrow.glb", moved))[0].digest == wide
    # Renamed, recoloured, moved: the same mesh content.
    other = glb.write_glb([("b", box, (5, 0, 0), (0, 0, 1, 1))])
    assert gltf_parts.node_parts(write(tmp_path, "other.glb", other))[0].digest == wide
    bigger = glb.write_glb([("a", glb._box(1, 2, 1), (0, 0, 0), (1, 1, 1, 1))])
    assert gltf_parts.node_parts(write(tmp_path, "big.glb", bigger))[0].digest != wide


def test_the_tagged_copy_carries_the_parts_in_extras_and_the_same_binary(tmp_path):
    source = THRIXEL_GLBS / "delivery-cart-grouped.glb"
    target = tmp_path / "tagged.glb"
    parts = gltf_parts.tagged_copy(source, target)
    copy = glb.Glb.parse(target.read_bytes())
    original = glb.Glb.parse(source.read_bytes())
    assert copy.binary == original.binary
    for part, node in zip(parts, copy.doc["nodes"], strict=True):
        assert node["extras"][gltf_parts.NODE_NAME] == node["name"] == part.name
        assert node["extras"][gltf_parts.NODE_INDEX] == part.index
        assert node["extras"][gltf_parts.MESH_DIGEST] == part.digest
    assert json.dumps(copy.doc["meshes"]) == json.dumps(original.doc["meshes"])


def test_not_a_glb(tmp_path):
    with pytest.raises(gltf_parts.GltfPartsError, match="not a binary glTF"):
        gltf_parts.node_parts(write(tmp_path, "x.glb", b"{\"asset\": {}}"))
