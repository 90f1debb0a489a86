"""Real-bpy import of every fixture: counts, colours, placement, layers, manifoldness."""

import importlib
import struct
from collections import Counter
from pathlib import Path

import bpy
import numpy as np
import pytest

from support.fixtures import FIXTURES as SHARED

FIXTURES = SHARED / "vox"
VOXEL = 0.1


@pytest.fixture(scope="module")
def vox_module(conjure):
    """The extension's vox entry points (registered by the extension itself)."""
    assert hasattr(bpy.types, "CONJURE_OT_import_vox")
    return importlib.import_module(f"{conjure.__name__}.blender.vox_import")


@pytest.fixture
def parser(conjure):
    return importlib.import_module(f"{conjure.__name__}.formats.vox.parser")


def fixture(name: str) -> str:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {path} not available")
    return str(path)


def mesh_objects(result):
    return [o for o in result.objects if o.type == "MESH"]


def world_bounds(obj):
    corners = np.array([obj.matrix_world @ v.co for v in obj.data.vertices])
    return corners.min(axis=0), corners.max(axis=0)


def face_colors_from_image(mesh, image):
    """Palette index each face samples, read back from its UVs."""
    uvs = np.zeros(len(mesh.loops) * 2, dtype=np.float32)
    mesh.uv_layers.active.data.foreach_get("uv", uvs)
    starts = np.zeros(len(mesh.polygons), dtype=np.int32)
    mesh.polygons.foreach_get("loop_start", starts)
    u = uvs.reshape(-1, 2)[starts, 0]
    index = np.floor(u * image.size[0]).astype(int)
    pixels = np.array(image.pixels[:]).reshape(-1, 4)
    return index, np.round(pixels[index] * 255).astype(int)


def voxel_count_from_volume(mesh):
    """Enclosed volume in voxels (divergence theorem over the mesh's faces)."""
    total = 0.0
    co = np.array([v.co for v in mesh.vertices], dtype=np.float64) / VOXEL
    for polygon in mesh.polygons:
        points = co[list(polygon.vertices)]
        for i in range(1, len(points) - 1):
            total += np.dot(points[0], np.cross(points[i], points[i + 1])) / 6.0
    return total


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.vox")))
def test_every_fixture_imports_with_palette_colours(name, vox_module, parser, fresh_scene):
    path = fixture(name)
    vox = parser.read_vox(path)
    result = vox_module.import_vox(bpy.context, path, voxel_size=VOXEL)
    meshes = mesh_objects(result)
    assert meshes
    image = bpy.data.images[f"{Path(path).stem} palette"]
    assert tuple(image.size) == (256, 1)
    for obj in meshes:
        model_id = int(obj.data.name.rsplit(" ", 1)[1])
        model = vox.models[model_id]
        assert len(obj.data.polygons) > 0
        # Sampled face colours equal the palette (the default one for files without RGBA).
        index, rgba = face_colors_from_image(obj.data, image)
        assert set(index.tolist()) <= set(model.voxels[:, 3].tolist())
        assert np.array_equal(rgba[:, :3], vox.palette[index, :3].astype(int))
    assert result.collection.name in bpy.context.scene.collection.children
    # Every model used by the scene is built once and shared by its instances.
    shared = Counter(o.data.name for o in meshes)
    assert len(result.meshes) == len(shared)


def test_default_palette_when_rgba_is_missing(vox_module, parser, fresh_scene):
    result = vox_module.import_vox(bpy.context, fixture("chr_cat.vox"))
    image = bpy.data.images["chr_cat palette"]
    _, rgba = face_colors_from_image(mesh_objects(result)[0].data, image)
    default = parser.parse_vox(b"VOX " + struct.pack("<i", 150) + b"MAIN" + bytes(8)).palette
    assert not parser.read_vox(fixture("chr_cat.vox")).has_palette
    assert {tuple(c) for c in rgba[:, :3]} <= {tuple(c) for c in default[:, :3].astype(int)}


@pytest.mark.parametrize("name", ["chr_knight.vox", "monu1.vox", "teapot.vox"])
def test_voxel_counts_equal_the_parser(name, vox_module, parser, fresh_scene):
    """Enclosed volume in voxels equals the parser's voxel count (solid, single-model files)."""
    path = fixture(name)
    model = parser.read_vox(path).models[0]
    result = vox_module.import_vox(bpy.context, path, voxel_size=VOXEL, watertight=True)
    volume = voxel_count_from_volume(mesh_objects(result)[0].data)
    assert volume == pytest.approx(model.voxel_count, abs=0.5)


def test_test_groups_objects_sit_where_their_transforms_put_them(vox_module, parser, fresh_scene):
    path = fixture("test_groups.vox")
    vox = parser.read_vox(path)
    result = vox_module.import_vox(bpy.context, path, voxel_size=VOXEL)
    bpy.context.view_layer.update()
    meshes = mesh_objects(result)
    assert len(meshes) == 19  # 19 nTRN show one of the 15 shapes; letters repeat
    by_model = {}
    for obj in meshes:
        by_model.setdefault(int(obj.data.name.rsplit(" ", 1)[1]), []).append(obj)

    def expected_low(model_id, translation):
        model = vox.models[model_id]
        corner = model.voxels[:, :3].astype(int).min(axis=0)
        return np.array(translation) - np.array(model.size) // 2 + corner

    # Model 0 under nTRN 2 (46,0,24) > 4 (0,0,0) > 6 'characters' (0,0,-14) > 8 (-36,0,0).
    low, high = world_bounds(by_model[0][0])
    assert np.allclose(low, expected_low(0, (10, 0, 10)) * VOXEL, atol=1e-5)
    top = expected_low(0, (10, 0, 10)) + np.ptp(vox.models[0].voxels[:, :3].astype(int), axis=0) + 1
    assert np.allclose(high, top * VOXEL, atol=1e-5)
    # Model 9 is shown by three transforms, 28 (-3,0,5), 34 (27,0,5) and 43 (-15,0,-5), all
    # under 16 'text' (-10,0,15) > 5 > 3 > 2 (46,0,24); the three share one mesh.
    assert len(by_model[9]) == 3
    assert len({o.data.name for o in by_model[9]}) == 1
    lows = sorted(tuple(np.round(world_bounds(o)[0] / VOXEL, 4)) for o in by_model[9])
    expected = sorted(
        tuple(expected_low(9, (46 - 10 + dx, 0, 24 + 15 + dz)).astype(float))
        for dx, dz in ((-3, 5), (27, 5), (-15, -5))
    )
    assert np.allclose(lows, expected, atol=1e-4)
    names = {o.name for o in result.objects}
    assert "characters" in names and "text" in names


def test_hierarchy_rotation_and_nesting(vox_module, parser, fresh_scene):
    path = fixture("hierarchy.vox")
    vox = parser.read_vox(path)
    result = vox_module.import_vox(bpy.context, path, voxel_size=VOXEL, origin="FILE")
    bpy.context.view_layer.update()
    meshes = {int(o.data.name.rsplit(" ", 1)[1]): o for o in mesh_objects(result)}
    assert all(vox.models[m].size == (4, 4, 4) for m in meshes)
    # Model 0: nTRN 2 (rotation 17: x -> y, y -> -x; translation -6,9,16) > 4 (-7,10,7) > 6
    # (0,0,8). Its 4x4x4 box spans [-2, 2) around the pivot; rotation 17 keeps that box.
    low, high = world_bounds(meshes[0])
    model0 = vox.models[0].voxels[:, :3].astype(float) + 0.5 - 2
    rotation = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    offset = np.array([-7, 10, 7]) + np.array([0, 0, 8])
    centres = (rotation @ (model0 + offset).T).T + np.array([-6, 9, 16])
    assert np.allclose(low, (centres.min(axis=0) - 0.5) * VOXEL, atol=1e-5)
    assert np.allclose(high, (centres.max(axis=0) + 0.5) * VOXEL, atol=1e-5)
    # Model 3: directly under the root group, nTRN 12 (15, 0, 2).
    low, _ = world_bounds(meshes[3])
    model3 = vox.models[3].voxels[:, :3].astype(int)
    assert np.allclose(low, (model3.min(axis=0) - 2 + np.array([15, 0, 2])) * VOXEL, atol=1e-5)
    assert meshes[0].parent is not None and meshes[0].parent.parent is not None


def test_hidden_layers_and_nodes_are_hidden(vox_module, tmp_path, fresh_scene):
    voxel = struct.pack("<4B", 0, 0, 0, 1)

    def chunk(name, content):
        return name + struct.pack("<ii", len(content), 0) + content

    def text(value):
        return struct.pack("<i", len(value)) + value.encode()

    def dictionary(pairs):
        return struct.pack("<i", len(pairs)) + b"".join(text(k) + text(v) for k, v in pairs)

    def transform(node, child, layer, pairs=()):
        return chunk(
            b"nTRN",
            struct.pack("<i", node)
            + dictionary(pairs)
            + struct.pack("<iiii", child, -1, layer, 1)
            + dictionary([]),
        )

    def shape(node):
        return chunk(
            b"nSHP",
            struct.pack("<i", node) + dictionary([]) + struct.pack("<ii", 1, 0) + dictionary([]),
        )

    body = b"".join(
        [
            chunk(b"SIZE", struct.pack("<iii", 1, 1, 1)),
            chunk(b"XYZI", struct.pack("<i", 1) + voxel),
            transform(0, 1, -1),
            chunk(
                b"nGRP", struct.pack("<i", 1) + dictionary([]) + struct.pack("<iiii", 3, 2, 4, 6)
            ),
            transform(2, 3, 0, [("_name", "shown")]),
            shape(3),
            transform(4, 5, 1, [("_name", "on hidden layer")]),
            shape(5),
            transform(6, 7, 0, [("_name", "hidden node"), ("_hidden", "1")]),
            shape(7),
            chunk(b"LAYR", struct.pack("<i", 0) + dictionary([("_name", "front")]) + b"\xff" * 4),
            chunk(
                b"LAYR",
                struct.pack("<i", 1)
                + dictionary([("_name", "back"), ("_hidden", "1")])
                + b"\xff" * 4,
            ),
        ]
    )
    path = tmp_path / "layers.vox"
    path.write_bytes(
        b"VOX " + struct.pack("<i", 150) + b"MAIN" + struct.pack("<ii", 0, len(body)) + body
    )
    result = vox_module.import_vox(bpy.context, str(path))
    bpy.context.view_layer.update()
    objects = {o.name: o for o in result.objects}
    assert objects["shown"].visible_get()
    assert not objects["on hidden layer"].visible_get()
    assert not objects["hidden node"].visible_get() and objects["hidden node"].hide_render
    back = objects["on hidden layer"].users_collection[0]
    assert back.name == "layers back" and back.hide_render
    assert objects["shown"].users_collection[0].name == "layers front"
    # The three instances share one mesh.
    assert len({o.data.name for o in objects.values() if o.type == "MESH"}) == 1


def test_watertight_closed_model_is_manifold(vox_module, fresh_scene):
    import bmesh

    result = vox_module.import_vox(bpy.context, fixture("monu1.vox"), watertight=True)
    mesh = mesh_objects(result)[0].data
    bm = bmesh.new()
    bm.from_mesh(mesh)
    try:
        non_manifold = [e for e in bm.edges if not e.is_manifold]
        # Voxels that touch only along an edge are non-manifold by nature; monu1 has none.
        assert non_manifold == []
        assert all(e.is_contiguous for e in bm.edges)
    finally:
        bm.free()
    # Without the option merged faces leave T-junctions, which show up as boundary edges.
    plain = vox_module.import_vox(bpy.context, fixture("monu1.vox"), name="open")
    bm = bmesh.new()
    bm.from_mesh(mesh_objects(plain)[0].data)
    try:
        assert any(e.is_boundary for e in bm.edges)
    finally:
        bm.free()


def test_operator_one_call_per_file_and_options(vox_module, fresh_scene):
    path = fixture("chr_knight.vox")
    state = bpy.ops.conjure.import_vox(
        filepath=path, voxel_size=0.5, color_mode="MATERIAL_PER_COLOR", origin="FILE"
    )
    assert state == {"FINISHED"}
    obj = next(o for o in bpy.data.objects if o.type == "MESH")
    size = np.array([v.co for v in obj.data.vertices]).ptp(axis=0)
    assert size.max() > 5  # 0.5 m voxels on a ~20-voxel model
    slots = [m.name for m in obj.data.materials]
    indices = np.zeros(len(obj.data.polygons), dtype=np.int32)
    obj.data.polygons.foreach_get("material_index", indices)
    assert len(slots) == len(set(indices.tolist())) > 1


def test_vertex_colour_mode(vox_module, parser, fresh_scene):
    path = fixture("chr_sword.vox")
    vox = parser.read_vox(path)
    result = vox_module.import_vox(bpy.context, path, color_mode="VERTEX_COLOR")
    mesh = mesh_objects(result)[0].data
    attribute = mesh.color_attributes["Color"]
    assert attribute.domain == "CORNER"
    colors = np.zeros(len(mesh.loops) * 4, dtype=np.float32)
    attribute.data.foreach_get("color_srgb", colors)
    observed = {tuple(c) for c in np.round(colors.reshape(-1, 4)[:, :3] * 255).astype(int)}
    expected = {
        tuple(vox.palette[i, :3].astype(int)) for i in np.unique(vox.models[0].voxels[:, 3])
    }
    assert observed == expected


def test_malformed_file_reports_error_and_creates_nothing(vox_module, tmp_path, fresh_scene):
    path = tmp_path / "broken.vox"
    data = Path(fixture("chr_knight.vox")).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    before = len(bpy.data.objects)
    with pytest.raises(RuntimeError, match="MAIN chunk at byte 8"):
        bpy.ops.conjure.import_vox(filepath=str(path))
    assert len(bpy.data.objects) == before


def checkerboard_file(tmp_path, n=16):
    """A model with every other voxel set: 3 n^3 faces, none of them mergeable."""
    voxels = bytes(v for x in range(n) for y in range(n) for z in range(n) if (x + y + z) % 2 == 0
                   for v in (x, y, z, 1))

    def chunk(name, content=b"", children=b""):
        return name + struct.pack("<ii", len(content), len(children)) + content + children

    model = chunk(b"SIZE", struct.pack("<3i", n, n, n)) + chunk(
        b"XYZI", struct.pack("<i", len(voxels) // 4) + voxels)
    path = tmp_path / "checkerboard.vox"
    path.write_bytes(b"VOX " + struct.pack("<i", 150) + chunk(b"MAIN", b"", model))
    return path


def test_a_file_over_max_faces_is_refused_before_anything_is_built(conjure, vox_module,
                                                                   tmp_path, fresh_scene):
    path = checkerboard_file(tmp_path)
    faces = 3 * 16**3
    before = (len(bpy.data.objects), len(bpy.data.meshes), len(bpy.data.collections))
    error_type = importlib.import_module(f"{conjure.__name__}.formats.vox.format")
    with pytest.raises(error_type.VoxFormatError, match=f"{faces:,} faces.*Max Faces"):
        vox_module.import_vox(bpy.context, str(path), max_faces=faces - 1)
    with pytest.raises(RuntimeError, match="Max Faces"):
        bpy.ops.conjure.import_vox(filepath=str(path), max_faces=faces - 1)
    assert (len(bpy.data.objects), len(bpy.data.meshes), len(bpy.data.collections)) == before
    assert bpy.ops.conjure.import_vox(filepath=str(path), max_faces=faces) == {"FINISHED"}
    assert sum(len(o.data.polygons) for o in bpy.data.objects if o.type == "MESH") == faces


def test_a_job_result_over_max_faces_fails_with_the_reason(conjure, tmp_path, fresh_scene):
    scene = importlib.import_module(f"{conjure.__name__}.blender.scene_import")
    path = checkerboard_file(tmp_path)
    refused = r"checkerboard\.vox: .*Max Faces allows \(1,000\)"
    failed = importlib.import_module(f"{conjure.__name__}.workflow.sequence").ImportFailed
    with pytest.raises(failed, match=refused):
        scene.import_result(bpy.context, service="voxelai", job_id="big", remote_id="r1",
                            paths=[path], settings=scene.ImportSettings(max_faces=1000))
    assert not bpy.data.objects
    objects = scene.import_result(bpy.context, service="voxelai", job_id="fits", remote_id="r2",
                                  paths=[path], settings=scene.ImportSettings())
    assert sum(len(o.data.polygons) for o in objects if o.type == "MESH") == 3 * 16**3
