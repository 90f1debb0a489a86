"""Original node names of a model file, and matching them to the names Blender gave the objects.

Blender renames an imported object ``door.001`` when ``door`` is already taken (and cuts names
to 63 bytes), so a node's name as the service knows it (what Thrixel's ``focus_on_node_names``
needs) cannot be read back from the object. It is read from the file before import and matched
here. bpy-free.
"""

from __future__ import annotations

import json
import re
import struct
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

#: Blender's longest ID name, in bytes.
MAX_NAME_BYTES = 63
_SUFFIX = re.compile(r"\.\d{3,}$")


def gltf_json(path: Path) -> dict | None:
    """The JSON part of a .glb or .gltf file, or None when it cannot be read as one."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if head[:4] == b"glTF":
                chunk_len, chunk_type = struct.unpack("<II", f.read(8))
                if chunk_type != 0x4E4F534A:  # "JSON"
                    return None
                data = f.read(chunk_len)
            else:
                data = head + f.read()
        parsed = json.loads(data.decode("utf-8"))
    except (OSError, ValueError, struct.error, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def node_names(path: Path) -> list[str]:
    """Names of the file's nodes as Blender's glTF importer would name their objects: the
    node's name, else its mesh's name. Empty for files that are not glTF."""
    doc = gltf_json(path)
    if doc is None:
        return []
    meshes = doc.get("meshes") or []
    names = []
    for node in doc.get("nodes") or []:
        name = node.get("name")
        if not name and isinstance(node.get("mesh"), int) and node["mesh"] < len(meshes):
            name = meshes[node["mesh"]].get("name")
        if name:
            names.append(str(name))
    return names


def _blender_name(name: str) -> str:
    encoded = name.encode("utf-8")
    if len(encoded) <= MAX_NAME_BYTES:
        return name
    return encoded[:MAX_NAME_BYTES].decode("utf-8", errors="ignore")


def match_names(object_names: Iterable[str], originals: Iterable[str]) -> dict[str, str]:
    """Map each Blender object name to the original node name it came from.

    An exact (possibly truncated) match wins; otherwise Blender's ``.NNN`` suffix is dropped
    and the base looked up. Each original is used as many times as it occurs in the file.
    Objects with no match map to their own name (e.g. objects the importer adds itself).
    """
    by_blender: dict[str, list[str]] = {}
    for original in originals:
        by_blender.setdefault(_blender_name(original), []).append(original)
    left = Counter({k: len(v) for k, v in by_blender.items()})
    object_names = list(object_names)
    result: dict[str, str] = {}
    # Exact names first, so a node really called "door.001" is not taken by a renamed "door".
    for name in object_names:
        if left[name] > 0:
            left[name] -= 1
            result[name] = by_blender[name][left[name]]
    for name in object_names:
        if name in result:
            continue
        base = _SUFFIX.sub("", name)
        if left[base] > 0:
            left[base] -= 1
            result[name] = by_blender[base][left[base]]
        else:
            result[name] = base if base in by_blender else name
    return result
