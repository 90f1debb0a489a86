"""glTF node names as Blender's importer makes them, and mapping renamed objects back."""

import json
import struct

from conjure.formats import gltf_nodes as nodes


def glb(tmp_path, doc):
    body = json.dumps(doc).encode()
    body += b" " * (-len(body) % 4)
    data = b"glTF" + struct.pack("<II", 2, 20 + len(body)) + struct.pack("<II", len(body),
                                                                        0x4E4F534A) + body
    path = tmp_path / "m.glb"
    path.write_bytes(data)
    return path


def test_node_names_from_a_glb(tmp_path):
    path = glb(tmp_path, {"nodes": [{"name": "door"}, {"mesh": 0}, {}],
                          "meshes": [{"name": "wheel_mesh"}]})
    assert nodes.node_names(path) == ["door", "wheel_mesh"]
    assert nodes.node_names(tmp_path / "missing.glb") == []
    (tmp_path / "x.vox").write_bytes(b"VOX ")
    assert nodes.node_names(tmp_path / "x.vox") == []


def test_blender_renames_map_back_to_original_names():
    originals = ["door", "door", "door.001", "wheel", "x" * 70]
    got = nodes.match_names(["door.002", "door.003", "door.001", "wheel.004", "x" * 63,
                             "Armature"], originals)
    assert got == {"door.002": "door", "door.003": "door", "door.001": "door.001",
                   "wheel.004": "wheel", "x" * 63: "x" * 70, "Armature": "Armature"}
