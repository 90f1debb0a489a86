"""Forms generated from the operation declarations, and what ``forms.values`` sends."""

import bpy
import pytest

INT_LIMIT = 2**31 - 1


@pytest.fixture
def forms(mod):
    return mod("blender.forms")


@pytest.fixture
def registry(mod):
    return mod("providers.registry")


def _prop(forms, op, attr, shared):
    holder = bpy.types.Scene.bl_rna.properties["conjure"].fixed_type
    if not shared:
        holder = holder.properties[forms.group_attr(op)].fixed_type
    return holder.properties[attr]


def test_every_declared_operation_has_a_form_of_the_right_types(forms, mod, registry):
    formspec = mod("workflow.formspec")
    ops = registry.operations()
    assert {op.service for op in ops} >= {"thrixel", "tripo"}
    checked = 0
    for op in ops:
        for field in formspec.fields(op):
            p = field.param
            prop = _prop(forms, op, field.shared or field.attr, bool(field.shared))
            if p.choices:
                ids = [item.identifier for item in prop.enum_items]
                expected = [str(c) for c in p.choices]
                assert ids == ([formspec.UNSET] if p.default is None else []) + expected, p
                assert prop.default == (formspec.UNSET if p.default is None else str(p.default))
            elif p.kind == "int":
                assert prop.type == "INT"
                assert prop.hard_min == (p.minimum if p.minimum is not None else -INT_LIMIT)
                assert prop.hard_max == (p.maximum if p.maximum is not None else INT_LIMIT)
                if p.default is not None:
                    assert prop.default == p.default
            elif p.kind == "float":
                assert prop.type == "FLOAT"
                if p.minimum is not None:
                    assert prop.hard_min == pytest.approx(p.minimum)
                if p.default is not None:
                    assert prop.default == pytest.approx(p.default)
            elif p.kind == "bool":
                if p.default is None:
                    assert prop.type == "ENUM" and prop.enum_items[0].name == "Default"
                else:
                    assert (prop.type, prop.default) == ("BOOLEAN", p.default)
            elif p.kind == "image":
                assert prop.type == "POINTER" and prop.fixed_type.identifier == "Image"
            elif p.kind == "image_list":
                assert prop.type == "COLLECTION"
            elif p.kind == "file":
                assert (prop.type, prop.subtype) == ("STRING", "FILE_PATH")
            else:
                assert prop.type == "STRING"
            if field.toggle:
                assert _prop(forms, op, field.toggle_attr, False).type == "BOOLEAN"
            checked += 1
        assert all(p.role != "parent" or p.name not in
                   _prop(forms, op, "rna_type", False).fixed_type.properties.keys()
                   for p in op.params)
    assert checked > 50


def test_modes_list_only_creation_operations(forms, registry, form_reset):
    for op in registry.operations():
        items = {i.identifier for i in bpy.types.Scene.bl_rna.properties["conjure"].fixed_type
                 .properties[f"{'follow_up' if op.needs_parent else 'mode'}_{op.service}"]
                 .enum_items}
        assert op.name in items
    form_reset.service = "tripo"
    form_reset.mode_tripo = "image_to_model"
    assert forms.selected(bpy.context) == ("tripo", "image_to_model")


def test_untouched_form_sends_nothing_but_required_defaults(forms, registry, form_reset):
    for op in registry.operations():
        values = forms.values(bpy.context, op.service, op.name)
        assert set(values) <= {p.name for p in op.params if p.required and p.default is not None}
    assert forms.values(bpy.context, "thrixel", "convert") == {"format": "fbx"}


def test_values_are_only_what_the_user_set_and_pass_validation(forms, registry, form_reset):
    op = registry.operation("tripo", "text_to_model")
    group = getattr(form_reset, forms.group_attr(op))
    form_reset.prompt = "  a stone gargoyle "
    group.face_limit = 5000                    # not sent until its toggle is on
    group.texture = False                      # differs from the service default
    group.pbr = True                           # equals the default: not sent
    group.texture_quality = "detailed"
    assert forms.values(bpy.context, "tripo", "text_to_model") == {
        "prompt": "a stone gargoyle", "texture": False, "texture_quality": "detailed"}
    group.use_face_limit = True
    values = forms.values(bpy.context, "tripo", "text_to_model")
    assert values["face_limit"] == 5000
    assert op.validate(values) == values

    edit = registry.operation("thrixel", "edit")
    egroup = getattr(form_reset, forms.group_attr(edit))
    egroup.modification_request = "make the door red"
    egroup.focus_on_node_names = "door_panel, lock_wheel,"
    assert forms.values(bpy.context, "thrixel", "edit") == {
        "modification_request": "make the door red",
        "focus_on_node_names": ["door_panel", "lock_wheel"]}
    # The prompt typed for generation is not the edit's request: follow-ups have their own.
    assert "a stone gargoyle" not in str(forms.values(bpy.context, "thrixel", "edit"))


def test_tristate_and_choice_numbers_round_trip(forms, registry, form_reset):
    op = registry.operation("thrixel", "detail")
    group = getattr(form_reset, forms.group_attr(op))
    assert forms.values(bpy.context, "thrixel", "detail") == {}
    group.preserve_parts = "OFF"
    group.texture_size = "2048"
    values = forms.values(bpy.context, "thrixel", "detail")
    assert values == {"preserve_parts": False, "texture_size": 2048}
    parent = op.param_for("parent").name
    assert op.validate({**values, parent: "sub_1"})[parent] == "sub_1"


def test_validation_problem_is_reported_before_sending(forms, form_reset):
    form_reset.service = "tripo"
    form_reset.mode_tripo = "text_to_model"
    assert forms.problem(bpy.context, "tripo", "text_to_model") == "Prompt is required"
    form_reset.prompt = "x" * 1100
    assert forms.problem(bpy.context, "tripo", "text_to_model").startswith(
        "Prompt must be text of at most 1024 characters")
    form_reset.prompt = "a gargoyle"
    assert forms.problem(bpy.context, "tripo", "text_to_model") is None
    assert forms.problem(bpy.context, "tripo", "multiview_to_model") == \
        "Front: add a picture (Render, Viewport or File)"


def _picture(name, size=64):
    image = bpy.data.images.new(name, size, size)
    image.pixels.foreach_set([0.2, 0.5, 0.8, 1.0] * size * size)
    return image


def test_image_inputs_become_png_files_the_operation_accepts(forms, registry, form_reset):
    form_reset.image = _picture("ref")
    values = forms.values(bpy.context, "tripo", "image_to_model")
    with open(values["image"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert registry.operation("tripo", "image_to_model").validate(values)["image"] == \
        values["image"]
    # A picture already on disk is sent as it is, not copied.
    loaded = bpy.data.images.load(values["image"])
    form_reset.image = loaded
    assert forms.values(bpy.context, "tripo", "image_to_model")["image"] == values["image"]


def test_image_list_operators_append_and_remove(forms, form_reset, tmp_path):
    path = tmp_path / "pic.png"
    image = _picture("listed")
    image.save(filepath=str(path))
    for _ in range(2):
        assert bpy.ops.conjure.load_image(target="shared:images", filepath=str(path)) == \
            {"FINISHED"}
    assert len(form_reset.images) == 2
    assert forms.values(bpy.context, "thrixel", "create")["images"] == [str(path)] * 2
    bpy.ops.conjure.remove_image(target="shared:images", index=0)
    assert len(form_reset.images) == 1
    op = forms.group_attr(forms.registry.operation("tripo", "multiview_to_model"))
    bpy.ops.conjure.load_image(target=f"{op}:left", filepath=str(path))
    assert forms.values(bpy.context, "tripo", "multiview_to_model")["left"] == str(path)


def test_image_operators_say_what_to_do(form_reset, tmp_path):
    with pytest.raises(RuntimeError, match="choose a PNG"):
        bpy.ops.conjure.load_image(target="shared:image", filepath=str(tmp_path / "no.png"))
    for image in [i for i in bpy.data.images if i.type == "RENDER_RESULT"]:
        bpy.data.images.remove(image)
    with pytest.raises(RuntimeError, match="F12"):
        bpy.ops.conjure.use_render_result(target="shared:image")


def test_capture_viewport_is_a_picture_of_the_scene(forms, form_reset):
    bpy.ops.mesh.primitive_monkey_add(size=3)
    assert bpy.ops.conjure.capture_viewport(target="shared:image") == {"FINISHED"}
    image = form_reset.image
    assert image is not None and image.size[0] >= 64
    pixels = list(image.pixels)
    greys = {round(v, 2) for v in pixels[0::4]}
    assert len(greys) > 5, "blank capture"
    assert not any(ob.name.startswith("Conjure Capture") for ob in bpy.data.objects)
    # Use Render Result works now that the capture left a render behind.
    assert bpy.ops.conjure.use_render_result(target="shared:image") == {"FINISHED"}
    path = forms.values(bpy.context, "thrixel", "create")["image"]
    assert path.endswith(".png")
