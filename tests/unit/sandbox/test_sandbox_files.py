"""Result files: where models come from, and that served GLB/FBX files are really readable."""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import pytest
import requests

import sandbox.models as models
from sandbox import start_sandbox

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "glb" / "thrixel"
TRIPO = {"Authorization": "Bearer tsk_sandbox"}


def tripo_model(sb, prompt: str, **options) -> bytes:
    body = {"type": "text_to_model", "prompt": prompt, **options}
    answer = requests.post(sb.url + "/tripo/v2/openapi/task", json=body, headers=TRIPO)
    task_id = answer.json()["data"]["task_id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        data = requests.get(f"{sb.url}/tripo/v2/openapi/task/{task_id}", headers=TRIPO).json()
        if data["data"]["status"] == "success":
            output = data["data"]["output"]
            return requests.get(output.get("pbr_model") or output["model"]).content
        time.sleep(0.03)
    raise AssertionError("task did not finish")


def converted(sb, prompt: str, fmt: str) -> bytes:
    url = sb.url + "/tripo/v2/openapi/task"
    base = requests.post(url, json={"type": "text_to_model", "prompt": prompt}, headers=TRIPO)
    body = {
        "type": "convert_model",
        "format": fmt,
        "original_model_task_id": base.json()["data"]["task_id"],
    }
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        answer = requests.post(url, json=body, headers=TRIPO).json()
        if answer["code"] == 0:
            break
        time.sleep(0.05)  # the source task is not finished yet
    task_id = answer["data"]["task_id"]
    while time.monotonic() < deadline:
        data = requests.get(f"{url}/{task_id}", headers=TRIPO).json()["data"]
        if data["status"] == "success":
            return requests.get(data["output"]["model"]).content
        time.sleep(0.03)
    raise AssertionError("conversion did not finish")


# -- an independent binary FBX reader ------------------------------------------------------
def read_fbx(data: bytes) -> list[tuple[str, list, list]]:
    """Top-level nodes as (name, properties, children), for FBX 7.x (32-bit offsets)."""
    assert data.startswith(b"Kaydara FBX Binary  \x00\x1a\x00")
    version = struct.unpack_from("<I", data, 23)[0]
    assert 7100 <= version < 7500

    def prop(offset):
        code = chr(data[offset])
        offset += 1
        if code in "YCIFDL":
            fmt = {"Y": "<h", "C": "<?", "I": "<i", "F": "<f", "D": "<d", "L": "<q"}[code]
            return struct.unpack_from(fmt, data, offset)[0], offset + struct.calcsize(fmt)
        if code in "SR":
            length = struct.unpack_from("<I", data, offset)[0]
            return data[offset + 4 : offset + 4 + length], offset + 4 + length
        count, encoding, length = struct.unpack_from("<III", data, offset)
        raw = data[offset + 12 : offset + 12 + length]
        if encoding == 1:
            raw = zlib.decompress(raw)
        fmt = {"d": "d", "i": "i", "f": "f", "l": "q", "b": "?"}[code]
        return list(struct.unpack(f"<{count}{fmt}", raw)), offset + 12 + length

    def node(offset):
        end, count, _, name_len = struct.unpack_from("<IIIB", data, offset)
        if end == 0:
            return None, offset + 13
        name = data[offset + 13 : offset + 13 + name_len].decode()
        offset += 13 + name_len
        props = []
        for _ in range(count):
            value, offset = prop(offset)
            props.append(value)
        children = []
        while offset < end:
            child, offset = node(offset)
            if child is None:
                break
            children.append(child)
        assert offset == end, name
        return (name, props, children), end

    nodes = []
    offset = 27
    while True:
        found, offset = node(offset)
        if found is None:
            return nodes
        nodes.append(found)


def child(node, name):
    return next(c for c in node[2] if c[0] == name)


def test_fbx_geometry_matches_the_glb(tmp_path):
    with start_sandbox() as sb:
        glb = tripo_model(sb, "a stone gargoyle")
        fbx = tripo_model(sb, "a stone gargoyle", quad=True)
    doc = json.loads(glb[20 : 20 + struct.unpack_from("<I", glb, 12)[0]])
    nodes = {n[0]: n for n in read_fbx(fbx)}
    assert {"FBXHeaderExtension", "GlobalSettings", "Objects", "Connections"} <= set(nodes)
    geometries = [c for c in nodes["Objects"][2] if c[0] == "Geometry"]
    models_ = [c for c in nodes["Objects"][2] if c[0] == "Model"]
    mesh_nodes = [n for n in doc["nodes"] if "mesh" in n]
    assert len(geometries) == len(models_) == len(mesh_nodes)
    names = sorted(m[1][1].split(b"\x00")[0].decode() for m in models_)
    assert names == sorted(n["name"] for n in mesh_nodes)
    for geometry, mesh_node in zip(geometries, mesh_nodes, strict=True):
        vertices = child(geometry, "Vertices")[1][0]
        polygons = child(geometry, "PolygonVertexIndex")[1][0]
        primitives = doc["meshes"][mesh_node["mesh"]]["primitives"]
        expected_vertices = sum(
            doc["accessors"][p["attributes"]["POSITION"]]["count"] for p in primitives
        )
        expected_triangles = sum(doc["accessors"][p["indices"]]["count"] // 3 for p in primitives)
        assert len(vertices) == 3 * expected_vertices
        assert sum(1 for i in polygons if i < 0) == expected_triangles
    connections = nodes["Connections"][2]
    assert len(connections) == 2 * len(mesh_nodes)


def test_same_prompt_gives_the_same_fixture_model():
    with start_sandbox() as sb:
        first = tripo_model(sb, "a potion cauldron")
        second = tripo_model(sb, "a potion cauldron")
    assert first == second
    if FIXTURES.is_dir():
        fixture_hashes = {
            hashlib.sha256(p.read_bytes()).hexdigest() for p in FIXTURES.glob("*.glb")
        }
        assert hashlib.sha256(first).hexdigest() in fixture_hashes


def test_models_dir_is_served_in_turn(tmp_path):
    sources = sorted(FIXTURES.glob("*.glb"))[:2] if FIXTURES.is_dir() else []
    if len(sources) < 2:
        sources = []
        for seed in (1, 2):
            path = tmp_path / f"m{seed}.glb"
            from sandbox.glb import build_model

            path.write_bytes(build_model(seed))
            sources.append(path)
    folder = tmp_path / "models"
    folder.mkdir()
    for path in sources:
        (folder / path.name).write_bytes(path.read_bytes())
    with start_sandbox(models_dir=folder) as sb:
        served = [tripo_model(sb, "same prompt") for _ in range(3)]
    wanted = [p.read_bytes() for p in sorted(folder.glob("*.glb"))]
    assert served == [wanted[0], wanted[1], wanted[0]]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"no \.glb"):
        start_sandbox(models_dir=empty)


def test_built_in_models_when_no_fixtures(monkeypatch, tmp_path):
    monkeypatch.setattr(models, "FIXTURE_DIR", tmp_path / "missing")
    with start_sandbox(seed=5) as sb:
        a = tripo_model(sb, "a lamp")
        b = tripo_model(sb, "a chair")
        key = {"Authorization": "Bearer sk-thrixel-sandbox"}
        sid = requests.post(
            sb.url + "/thrixel/api/v1/phase1/submit", json={"task": "a lamp"}, headers=key
        ).json()["submission_id"]
        deadline = time.monotonic() + 5
        while requests.get(f"{sb.url}/thrixel/api/v1/{sid}/info").json()["status"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.03)
        tree = requests.get(f"{sb.url}/thrixel/api/v1/{sid}/hierarchy").json()
    assert a[:4] == b"glTF" and a != b
    assert {c["name"] for c in tree["children"]} == {
        "plinth",
        "body",
        "crown",
        "handle_left",
        "handle_right",
    }


BLENDER_CHECK = """
import json, os, sys, tempfile
os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp()
import bpy
result = {}
for path in sys.argv[1:]:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    if path.endswith(".fbx"):
        bpy.ops.import_scene.fbx(filepath=path)
    elif path.endswith(".usdz"):
        bpy.ops.wm.usd_import(filepath=path)
    else:
        bpy.ops.import_scene.gltf(filepath=path)
    result[os.path.basename(path)] = sorted(
        (o.name, len(o.data.polygons)) for o in bpy.data.objects if o.type == "MESH")
print("RESULT", json.dumps(result))
"""


def _bpy_python() -> Path:
    """The bpy 5.0 environment's python, built by the project's own script if it is not yet."""
    out = subprocess.run(
        [
            "bash",
            str(ROOT / "tools" / "venv.sh"),
            str(ROOT / "tools" / "requirements" / "bpy-5.0.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return Path(out.stdout.strip().splitlines()[-1])


def test_blender_imports_served_glb_fbx_and_usdz():
    with start_sandbox() as sb:
        glb = tripo_model(sb, "an orrery")
        fbx = tripo_model(sb, "an orrery", quad=True)
        usdz = converted(sb, "an orrery", "USDZ")
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, data in (("model.glb", glb), ("model.fbx", fbx), ("model.usdz", usdz)):
            paths.append(Path(folder, name))
            paths[-1].write_bytes(data)
        out = subprocess.run(
            [str(_bpy_python()), "-c", BLENDER_CHECK, *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    assert result["model.glb"]
    assert result["model.glb"] == result["model.fbx"] == result["model.usdz"]
