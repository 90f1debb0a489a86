"""What the user typed, as the user typed it: a refusal names the form's field (its label,
not the service's parameter) and the first thing wrong, and "//" paths are the open .blend's
folder, as in Blender's own file fields."""

import bpy
import pytest


@pytest.fixture
def saved_blend(tmp_path, fresh_scene):
    """The scene saved as ``tmp_path/scene.blend`` (so "//" means ``tmp_path``); an unsaved
    empty file again afterwards."""
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "scene.blend"))
    yield tmp_path
    bpy.ops.wm.read_homefile(use_empty=True)


def _picture(path):
    image = bpy.data.images.new("ref", 64, 64)
    image.pixels.foreach_set([0.3, 0.6, 0.2, 1.0] * 64 * 64)
    image.save(filepath=str(path))
    bpy.data.images.remove(image)


def test_an_empty_thrixel_form_names_its_prompt_and_pictures(mod, form_reset, thrixel):
    form_reset.service, form_reset.mode_thrixel = "thrixel", "create"
    said = mod("blender.forms").problem(bpy.context, "thrixel", "create")
    assert said == "Fill in Prompt or Images"
    # Pressing Generate anyway (a script, a stale button) says the same, before sending.
    with pytest.raises(RuntimeError, match="Fill in Prompt or Images") as refused:
        bpy.ops.conjure.generate(provider="THRIXEL", mode="create", from_panel=True)
    assert "task" not in str(refused.value)


@pytest.mark.parametrize("service, mode, field", [
    ("tripo", "image_to_model", "Image"),
    ("pixal3d", "image_to_3d", "Image"),
    ("voxelai", "voxelize", "Picture"),
])
def test_an_image_mode_with_a_prompt_and_no_picture_asks_for_the_picture(
        mod, form_reset, service, mode, field):
    registry = mod("providers.registry")
    if mode not in {op.name for op in registry.operations(service)}:
        pytest.skip(f"{service} has no {mode}")
    form_reset.service = service
    setattr(form_reset, f"mode_{service}", mode)
    form_reset.prompt = "a stone gargoyle"
    said = mod("blender.forms").problem(bpy.context, service, mode)
    assert said == f"{field}: add a picture (Render, Viewport or File)"


def test_a_script_asking_for_image_mode_without_a_picture_hears_that_first(conjure):
    with pytest.raises(RuntimeError, match="makes a model from a picture") as refused:
        bpy.ops.conjure.generate(provider="TRIPO", mode="image", prompt="a stone gargoyle")
    assert "takes no prompt" not in str(refused.value)


def test_image_path_relative_to_the_blend_is_read_from_its_folder(saved_blend):
    missing = saved_blend / "not-there.png"
    with pytest.raises(RuntimeError, match=f"no file at {missing}"):
        bpy.ops.conjure.generate(provider="TRIPO", mode="image", image_path="//not-there.png")


def test_a_relative_picture_is_sent_from_the_blends_folder(saved_blend, tripo, session):
    _picture(saved_blend / "ref.png")
    assert bpy.ops.conjure.generate(provider="TRIPO", mode="image",
                                    image_path="//ref.png") == {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    assert job.params["image"] == str(saved_blend / "ref.png")


def test_file_fields_of_the_form_resolve_relative_paths(mod, saved_blend, form_reset):
    forms = mod("blender.forms")
    upload = mod("providers.registry").operation("thrixel", "upload")
    forms.group(bpy.context, upload).glb_file = "//models/lamp.glb"
    values = forms.values(bpy.context, "thrixel", "upload")
    assert values["glb_file"] == str(saved_blend / "models" / "lamp.glb")


def test_what_only_the_written_picture_shows_is_said_in_the_forms_words(mod, form_reset,
                                                                        pixazo):
    # A picture from the scene is a local file; Pixal3D takes links unless sending it
    # inline is turned on, which only the written picture shows.
    form_reset.service, form_reset.mode_pixal3d = "pixal3d", "image_to_3d"
    image = bpy.data.images.new("ref", 64, 64)
    image.pixels.foreach_set([0.3, 0.6, 0.2, 1.0] * 64 * 64)
    form_reset.image = image
    with pytest.raises(RuntimeError, match="Image must be a public https URL") as refused:
        bpy.ops.conjure.generate(provider="PIXAL3D", mode="image_to_3d", from_panel=True)
    assert "turn on Send Local Image Inline" in str(refused.value)
    assert "image_url" not in str(refused.value)
