
import numpy as np
import pytest
from unit.formats.vox import vox_bytes as vb

from conjure.formats.vox.format import Material
from conjure.formats.vox.mesher import mesh_voxels
from conjure.formats.vox.palette import (
    palette_uvs,
    shader_settings,
    srgb_to_linear,
    transparent_indices,
)
from conjure.formats.vox.parser import parse_vox, read_vox
from conjure.formats.vox.scene import flatten_scene
from support.fixtures import FIXTURES as SHARED

FIXTURES = SHARED / "vox"


def test_flatten_test_groups():
    path = FIXTURES / "test_groups.vox"
    if not path.exists():
        pytest.skip("test_groups.vox not available")
    nodes = flatten_scene(read_vox(path))
    assert sum(n.kind == "GROUP" for n in nodes) == 5
    assert sum(n.kind == "SHAPE" for n in nodes) == 19
    assert all(n.parent is None or n.parent < i for i, n in enumerate(nodes))
    characters = next(n for n in nodes if n.name == "characters")
    assert characters.kind == "GROUP"
    assert np.array_equal(characters.matrix[:3, 3], [0, 0, -14])
    below = [n for n in nodes if n.parent == nodes.index(characters)]
    assert [n.model_id for n in below] == [0, 1, 2, 3]


def test_flatten_without_scene_graph_places_each_model_at_the_origin():
    vox = parse_vox(vb.vox_file(vb.size(1, 1, 1), vb.xyzi([]), vb.size(2, 2, 2), vb.xyzi([])))
    nodes = flatten_scene(vox)
    assert [(n.kind, n.model_id, n.parent) for n in nodes] == [
        ("SHAPE", 0, None),
        ("SHAPE", 1, None),
    ]
    assert all(np.array_equal(n.matrix, np.eye(4)) for n in nodes)


def test_flatten_hidden_propagates_and_animated_shape_shows_frame_0():
    animated = vb.chunk(
        b"nSHP",
        vb.i32(3)
        + vb.dictionary()
        + vb.i32(2)
        + vb.i32(0)
        + vb.dictionary({"_f": "4"})
        + vb.i32(1)
        + vb.dictionary({"_f": "0"}),
    )
    vox = parse_vox(
        vb.vox_file(
            vb.size(1, 1, 1),
            vb.xyzi([(0, 0, 0, 1)]),
            vb.size(1, 1, 1),
            vb.xyzi([(0, 0, 0, 2)]),
            vb.ntrn(0, 1),
            vb.ngrp(1, [2]),
            vb.ntrn(2, 4, attributes={"_hidden": "1", "_name": "outer"}),
            vb.ngrp(4, [5]),
            vb.ntrn(5, 3, layer=2, frames=[{"_r": "17", "_t": "1 2 3"}]),
            animated,
        )
    )
    nodes = flatten_scene(vox)
    shape = nodes[-1]
    assert shape.kind == "SHAPE" and shape.model_id == 1 and shape.layer_id == 2
    assert shape.hidden and nodes[1].hidden and nodes[1].name == "outer"
    assert not nodes[0].hidden
    assert np.array_equal(shape.matrix[:3, :3], [[0, -1, 0], [1, 0, 0], [0, 0, 1]])


def test_shader_settings_per_material_type():
    assert shader_settings(None).roughness == 1.0
    diffuse = shader_settings(Material(1, {"_type": "_diffuse", "_rough": "0.1"}))
    assert diffuse.roughness == 1.0 and diffuse.metallic == 0.0
    metal = shader_settings(Material(2, {"_type": "_metal", "_weight": "0.8", "_rough": "0.2"}))
    assert (metal.metallic, metal.roughness) == (pytest.approx(0.8), pytest.approx(0.2))
    glass = shader_settings(Material(3, {"_type": "_glass", "_trans": "0.6", "_ior": "0.3"}))
    assert glass.transmission == pytest.approx(0.6) and glass.ior == pytest.approx(1.3)
    newer = shader_settings(Material(3, {"_type": "_glass", "_ri": "1.45", "_ior": "0.3"}))
    assert newer.ior == pytest.approx(1.45)
    emit = shader_settings(Material(4, {"_type": "_emit", "_emit": "0.5", "_flux": "2"}))
    assert emit.emission_strength == pytest.approx(2.0)
    blend = shader_settings(Material(5, {"_type": "_blend", "_trans": "0.25"}))
    assert blend.alpha == pytest.approx(0.75)
    junk = shader_settings(Material(6, {"_type": "_metal", "_rough": "nan", "_weight": "x"}))
    assert junk.roughness == pytest.approx(0.1) and junk.metallic == 1.0
    flags = transparent_indices([glass, diffuse, blend, metal])
    assert flags.tolist() == [True, False, True, False]


def test_palette_uvs_hit_pixel_centres_and_srgb_conversion():
    mesh = mesh_voxels(np.array([[0, 0, 0, 7], [1, 0, 0, 255]], dtype=np.uint8), (2, 1, 1))
    uvs = palette_uvs(mesh)
    assert uvs.shape == (mesh.loop_count, 2)
    pixel = np.floor(uvs[:, 0] * 256).astype(int)
    assert np.array_equal(pixel, mesh.loop_face_colors())
    assert np.allclose(uvs[:, 1], 0.5)
    linear = srgb_to_linear(np.array([0, 255, 128, 128], dtype=np.uint8))
    assert np.allclose(linear[:2], [0.0, 1.0])
    assert linear[2] == pytest.approx(0.2158605)
    assert linear[3] == pytest.approx(128 / 255)
