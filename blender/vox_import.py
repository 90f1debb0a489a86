"""MagicaVoxel ``.vox`` files into Blender data: meshes, objects, collections, materials (the
format itself is read by ``formats.vox``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import bpy
import numpy as np
from mathutils import Matrix

from ..formats.vox.format import DEFAULT_MAX_FACES, VoxFile
from ..formats.vox.mesher import MeshArrays, check_face_budget, mesh_voxels
from ..formats.vox.palette import (
    PALETTE_WIDTH,
    ShaderSettings,
    palette_pixels,
    palette_shader_settings,
    palette_uvs,
    srgb_to_linear,
    transparent_indices,
)
from ..formats.vox.parser import parse_vox
from ..formats.vox.scene import SceneNode, flatten_scene

COLOR_MODES = ("PALETTE_IMAGE", "VERTEX_COLOR", "MATERIAL_PER_COLOR")
ORIGINS = ("BOTTOM_CENTER", "FILE")


@dataclass
class ImportOptions:
    voxel_size: float = 0.1
    greedy: bool = True
    watertight: bool = False
    color_mode: str = "PALETTE_IMAGE"
    origin: str = "BOTTOM_CENTER"
    #: Faces the import may build in all (the "Max Faces" setting); None: no limit.
    max_faces: int | None = DEFAULT_MAX_FACES


@dataclass
class ImportResult:
    collection: bpy.types.Collection
    objects: list[bpy.types.Object] = field(default_factory=list)
    meshes: dict[int, bpy.types.Mesh] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    face_count: int = 0


def build(
    context: bpy.types.Context,
    vox: VoxFile,
    name: str,
    options: ImportOptions | None = None,
    progress: Callable[[float], None] | None = None,
) -> ImportResult:
    """Build ``vox`` into a new collection called ``name`` inside the active collection.

    Raises ``VoxFormatError``, having created nothing, when the models would make more faces
    than ``options.max_faces``.
    """
    options = options or ImportOptions()
    if options.color_mode not in COLOR_MODES:
        raise ValueError(f"colour mode {options.color_mode!r} is not one of {COLOR_MODES}")
    if options.origin not in ORIGINS:
        raise ValueError(f"origin {options.origin!r} is not one of {ORIGINS}")
    report = progress or (lambda _fraction: None)

    nodes = flatten_scene(vox)
    used_models = sorted({node.model_id for node in nodes if node.kind == "SHAPE"})
    settings = palette_shader_settings(vox)
    see_through = transparent_indices(settings)
    check_face_budget([vox.models[m] for m in used_models], options.max_faces,
                      greedy=options.greedy, transparent=see_through)

    mesh_seconds = 0.0
    build_started = time.perf_counter()
    result = ImportResult(collection=bpy.data.collections.new(name))
    # Without an active collection (some headless contexts) the scene's master collection holds it.
    (context.collection or context.scene.collection).children.link(result.collection)
    used_colors = sorted(
        set().union(*(np.unique(vox.models[m].voxels[:, 3]).tolist() for m in used_models))
    )
    materials = _Materials(vox, name, settings, options.color_mode, used_colors)

    for done, model_id in enumerate(used_models):
        model = vox.models[model_id]
        started = time.perf_counter()
        arrays = mesh_voxels(model.voxels, model.size, greedy=options.greedy,
                             watertight=options.watertight, transparent=see_through)
        mesh_seconds += time.perf_counter() - started
        origin = _model_origin(model.size, options.origin)
        mesh = _create_mesh(f"{name} model {model_id}", arrays, origin, options, vox, materials)
        result.meshes[model_id] = mesh
        result.face_count += arrays.face_count
        report(0.9 * (done + 1) / max(1, len(used_models)))

    layer_collections = _layer_collections(context, vox, nodes, result.collection, name)
    created: list[bpy.types.Object] = []
    for node in nodes:
        created.append(_create_object(node, created, result, layer_collections, vox, options, name))
    _hide(context, created, nodes)
    result.objects = created
    report(1.0)
    result.timings["mesh"] = mesh_seconds
    result.timings["build"] = time.perf_counter() - build_started - mesh_seconds
    return result


def _hide(context: bpy.types.Context, objects: list[bpy.types.Object],
          nodes: list[SceneNode]) -> None:
    """Objects of nodes MagicaVoxel hides stay hidden, in the viewport and in renders."""
    for obj, node in zip(objects, nodes, strict=True):
        if node.hidden:
            obj.hide_set(True, view_layer=context.view_layer)
            obj.hide_render = True


def _model_origin(size: tuple[int, int, int], origin: str) -> np.ndarray:
    """The model-space point (voxel units) that becomes the object's origin."""
    if origin == "FILE":
        # MagicaVoxel places and rotates a model about the voxel corner at size // 2.
        return np.array([s // 2 for s in size], dtype=np.float64)
    return np.array([size[0] / 2, size[1] / 2, 0.0])


def _object_matrix(node: SceneNode, vox: VoxFile, options: ImportOptions) -> Matrix:
    matrix = node.matrix.copy()
    if node.kind == "SHAPE" and vox.has_scene_graph:
        # The file's transform acts about the pivot; move the origin without moving geometry.
        size = vox.models[node.model_id].size
        shift = _model_origin(size, options.origin) - _model_origin(size, "FILE")
        matrix[:3, 3] += matrix[:3, :3] @ shift
    matrix[:3, 3] *= options.voxel_size
    return Matrix(matrix.tolist())


def _create_mesh(
    name: str,
    arrays: MeshArrays,
    origin: np.ndarray,
    options: ImportOptions,
    vox: VoxFile,
    materials: _Materials,
) -> bpy.types.Mesh:
    mesh = bpy.data.meshes.new(name)
    positions = (arrays.positions - origin.astype(np.float32)) * np.float32(options.voxel_size)
    mesh.vertices.add(arrays.vertex_count)
    mesh.vertices.foreach_set("co", positions.reshape(-1))
    mesh.loops.add(arrays.loop_count)
    mesh.loops.foreach_set("vertex_index", arrays.loop_vertices)
    mesh.polygons.add(arrays.face_count)
    mesh.polygons.foreach_set("loop_start", arrays.face_loop_start)
    if arrays.face_count:
        # Voxel faces are flat; smooth shading would blur their edges.
        mesh.polygons.foreach_set("use_smooth", np.zeros(arrays.face_count, dtype=bool))

    uv_layer = mesh.uv_layers.new(name="UVMap")
    uv_layer.data.foreach_set("uv", palette_uvs(arrays).reshape(-1))
    if options.color_mode == "VERTEX_COLOR":
        colors = mesh.color_attributes.new("Color", "BYTE_COLOR", "CORNER")
        corner_rgba = vox.palette[arrays.loop_face_colors()].astype(np.float32) / 255.0
        colors.data.foreach_set("color_srgb", corner_rgba.reshape(-1))  # type: ignore[attr-defined]
        mesh.color_attributes.active_color = colors
    materials.assign(mesh, arrays)
    mesh.update()
    return mesh


def _create_object(
    node: SceneNode,
    created: list[bpy.types.Object],
    result: ImportResult,
    layer_collections: dict[int, bpy.types.Collection],
    vox: VoxFile,
    options: ImportOptions,
    name: str,
) -> bpy.types.Object:
    if node.kind == "SHAPE":
        label = node.name or f"{name} model {node.model_id}"
        obj = bpy.data.objects.new(label, result.meshes[node.model_id])
    else:
        label = node.name or (name if node.parent is None else f"{name} group")
        obj = bpy.data.objects.new(label, None)
        obj.empty_display_type = "PLAIN_AXES"
        obj.empty_display_size = max(options.voxel_size * 4, 0.01)
    layer_collections.get(node.layer_id, result.collection).objects.link(obj)
    if node.parent is not None:
        obj.parent = created[node.parent]
    # Parent inverse stays identity, so matrix_basis is the transform relative to the parent.
    obj.matrix_basis = _object_matrix(node, vox, options)
    return obj


def _layer_collections(
    context: bpy.types.Context,
    vox: VoxFile,
    nodes: list[SceneNode],
    parent: bpy.types.Collection,
    name: str,
) -> dict[int, bpy.types.Collection]:
    """One child collection per layer holding objects; hidden layers hidden in the view layer."""
    used = sorted({node.layer_id for node in nodes if node.layer_id >= 0})
    if not vox.layers:
        return {}
    collections = {}
    for layer_id in used:
        layer = vox.layers.get(layer_id)
        label = layer.name if layer and layer.name else f"layer {layer_id}"
        collection = bpy.data.collections.new(f"{name} {label}")
        parent.children.link(collection)
        collections[layer_id] = collection
        if layer is not None and layer.hidden:
            collection.hide_render = True
            found = _find_layer_collection(context.view_layer.layer_collection, collection)
            if found is not None:
                found.hide_viewport = True
    return collections


def _find_layer_collection(
    root: bpy.types.LayerCollection, collection: bpy.types.Collection
) -> bpy.types.LayerCollection | None:
    pending = [root]
    while pending:
        current = pending.pop()
        if current.collection == collection:
            return current
        pending.extend(current.children)
    return None


class _Materials:
    """Creates the materials a colour mode needs, once per import, and assigns them."""

    def __init__(
        self,
        vox: VoxFile,
        name: str,
        settings: list[ShaderSettings],
        color_mode: str,
        used_colors: list[int],
    ) -> None:
        self.used_colors = used_colors
        self.vox = vox
        self.name = name
        self.settings = settings
        self.color_mode = color_mode
        self.shared: bpy.types.Material | None = None
        self.per_color: dict[int, bpy.types.Material] = {}

    def assign(self, mesh: bpy.types.Mesh, arrays: MeshArrays) -> None:
        if self.color_mode == "MATERIAL_PER_COLOR":
            used, slot_of_face = np.unique(arrays.face_colors, return_inverse=True)
            for index in used.tolist():
                mesh.materials.append(self._color_material(index))
            if arrays.face_count:
                mesh.polygons.foreach_set("material_index", slot_of_face.astype(np.int32))
        else:
            mesh.materials.append(self._shared_material())

    def _shared_material(self) -> bpy.types.Material:
        if self.shared is None:
            self.shared = self._build_shared()
        return self.shared

    def _color_material(self, index: int) -> bpy.types.Material:
        if index not in self.per_color:
            material = bpy.data.materials.new(f"{self.name} {index}")
            _enable_nodes(material)
            bsdf = _principled(material)
            color = srgb_to_linear(self.vox.palette[index])
            bsdf.inputs["Base Color"].default_value = (*color[:3], 1.0)  # type: ignore[attr-defined]
            material.diffuse_color = (*color[:3], 1.0)
            _apply_settings(material, bsdf, self.settings[index], color[:3])
            self.per_color[index] = material
        return self.per_color[index]

    def _build_shared(self) -> bpy.types.Material:
        suffix = "palette" if self.color_mode == "PALETTE_IMAGE" else "vertex colour"
        material = bpy.data.materials.new(f"{self.name} {suffix}")
        _enable_nodes(material)
        tree = material.node_tree
        bsdf = _principled(material)
        if self.color_mode == "PALETTE_IMAGE":
            image = bpy.data.images.new(f"{self.name} palette", PALETTE_WIDTH, 1, alpha=True)
            image.pixels.foreach_set(palette_pixels(self.vox.palette))  # type: ignore[attr-defined]
            image.pack()
            texture = tree.nodes.new("ShaderNodeTexImage")
            texture.image = image
            # Each face samples one pixel centre; any blending would bleed neighbouring colours.
            texture.interpolation = "Closest"
            texture.location = (-600, 300)
            tree.links.new(texture.outputs["Color"], bsdf.inputs["Base Color"])
            color_source = texture.outputs["Color"]
        else:
            attribute = tree.nodes.new("ShaderNodeVertexColor")
            attribute.layer_name = "Color"
            attribute.location = (-600, 300)
            tree.links.new(attribute.outputs["Color"], bsdf.inputs["Base Color"])
            color_source = attribute.outputs["Color"]

        used = {self.settings[index] for index in self.used_colors}
        if len(used) <= 1:
            _apply_settings(
                material, bsdf, used.pop() if used else ShaderSettings(), None, color_source
            )
        else:
            self._link_property_texture(material, bsdf, color_source)
        return material

    def _link_property_texture(
        self, material: bpy.types.Material, bsdf: bpy.types.Node, color_source
    ) -> None:
        """Per-colour metal, roughness, transmission and emission through a 256x1 data image."""
        tree = material.node_tree
        strengths = [s.emission_strength for s in self.settings]
        peak = max(strengths) or 1.0
        values = np.zeros((PALETTE_WIDTH, 4), dtype=np.float32)
        for index, s in enumerate(self.settings):
            values[index] = (s.metallic, s.roughness, s.transmission, s.emission_strength / peak)
        image = bpy.data.images.new(
            f"{self.name} material", PALETTE_WIDTH, 1, alpha=True, float_buffer=True
        )
        image.colorspace_settings.name = "Non-Color"
        image.alpha_mode = "CHANNEL_PACKED"
        image.pixels.foreach_set(values.reshape(-1))  # type: ignore[attr-defined]
        image.pack()
        texture = tree.nodes.new("ShaderNodeTexImage")
        texture.image = image
        texture.interpolation = "Closest"
        texture.location = (-900, -100)
        separate = tree.nodes.new("ShaderNodeSeparateColor")
        separate.location = (-600, -100)
        tree.links.new(texture.outputs["Color"], separate.inputs["Color"])
        tree.links.new(separate.outputs["Red"], bsdf.inputs["Metallic"])
        tree.links.new(separate.outputs["Green"], bsdf.inputs["Roughness"])
        tree.links.new(
            separate.outputs["Blue"], _input(bsdf, "Transmission Weight", "Transmission")
        )
        strength = tree.nodes.new("ShaderNodeMath")
        strength.operation = "MULTIPLY"
        strength.inputs[1].default_value = peak
        strength.location = (-300, -300)
        tree.links.new(texture.outputs["Alpha"], strength.inputs[0])
        tree.links.new(strength.outputs["Value"], _input(bsdf, "Emission Strength"))
        tree.links.new(color_source, _input(bsdf, "Emission Color", "Emission"))
        glass = [s.ior for s in self.settings if s.transmission > 0]
        if glass:
            bsdf.inputs["IOR"].default_value = float(np.mean(glass))  # type: ignore[attr-defined]


def _enable_nodes(material: bpy.types.Material) -> None:
    # Blender 5.0 gives every new material a node tree and deprecates the switch.
    if bpy.app.version < (5, 0, 0):
        material.use_nodes = True


def _principled(material: bpy.types.Material) -> bpy.types.Node:
    for node in material.node_tree.nodes:
        if node.bl_idname == "ShaderNodeBsdfPrincipled":
            return node
    raise RuntimeError("new node material has no Principled BSDF")


def _input(node: bpy.types.Node, *names: str):
    for name in names:
        if name in node.inputs:
            return node.inputs[name]
    raise KeyError(f"{node.name} has none of the inputs {names}")


def _apply_settings(
    material: bpy.types.Material,
    bsdf: bpy.types.Node,
    settings: ShaderSettings,
    color: np.ndarray | None,
    color_source=None,
) -> None:
    bsdf.inputs["Metallic"].default_value = settings.metallic  # type: ignore[attr-defined]
    bsdf.inputs["Roughness"].default_value = settings.roughness  # type: ignore[attr-defined]
    bsdf.inputs["IOR"].default_value = settings.ior  # type: ignore[attr-defined]
    _input(bsdf, "Specular IOR Level", "Specular").default_value = settings.specular
    _input(bsdf, "Transmission Weight", "Transmission").default_value = settings.transmission
    if settings.emission_strength > 0:
        _input(bsdf, "Emission Strength").default_value = settings.emission_strength
        emission = _input(bsdf, "Emission Color", "Emission")
        if color_source is not None:
            material.node_tree.links.new(color_source, emission)
        elif color is not None:
            emission.default_value = (*color, 1.0)
    if settings.alpha < 1.0:
        bsdf.inputs["Alpha"].default_value = settings.alpha  # type: ignore[attr-defined]
        if hasattr(material, "surface_render_method"):
            material.surface_render_method = "BLENDED"
        else:
            material.blend_method = "BLEND"


def import_vox(
    context: bpy.types.Context,
    filepath: str,
    *,
    voxel_size: float = 0.1,
    greedy: bool = True,
    watertight: bool = False,
    color_mode: str = "PALETTE_IMAGE",
    origin: str = "BOTTOM_CENTER",
    name: str | None = None,
    max_faces: int | None = DEFAULT_MAX_FACES,
) -> ImportResult:
    """Import the ``.vox`` file at ``filepath`` into a new collection in the active collection.

    Raises :class:`VoxFormatError` for a malformed file, or one whose meshes would have more
    than ``max_faces`` faces (None: no limit), and ``OSError`` for an unreadable one; nothing
    is created in any of these cases. ``result.timings`` holds parse, mesh and build seconds.
    """
    window_manager = context.window_manager
    window_manager.progress_begin(0, 100)
    try:
        started = time.perf_counter()
        with open(filepath, "rb") as stream:
            vox = parse_vox(stream.read())
        parse_seconds = time.perf_counter() - started
        window_manager.progress_update(5)
        options = ImportOptions(voxel_size, greedy, watertight, color_mode, origin, max_faces)
        label = name or os.path.splitext(os.path.basename(filepath))[0]
        result = build(
            context,
            vox,
            label,
            options,
            progress=lambda fraction: window_manager.progress_update(5 + int(95 * fraction)),
        )
        result.timings["parse"] = parse_seconds
        return result
    finally:
        window_manager.progress_end()
