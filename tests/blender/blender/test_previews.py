"""Every finished job has a preview picture beside its results: the service's own where it
offers one, else one rendered here from the imported objects; it outlives a restart and is
drawn in the Jobs list and the Selected Model panel."""

import importlib
import time

import bpy
import numpy as np
import pytest


@pytest.fixture
def previews(conjure):
    return importlib.import_module(f"{conjure.__name__}.blender.previews")


@pytest.fixture
def renders(previews, monkeypatch):
    """The jobs whose preview was rendered here (rather than taken from the service)."""
    rendered = []
    real = previews.render

    def render(objects, target, *args, **kwargs):
        objects = list(objects)
        rendered.append({ob["conjure_job_id"] for ob in objects})
        return real(objects, target, *args, **kwargs)

    monkeypatch.setattr(previews, "render", render)
    return rendered


def newest_job(session):
    return session.get().journal.jobs(limit=1)[0]


def picture(path):
    """(width, height, distinct colours) of a PNG, read by Blender."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    image = bpy.data.images.load(str(path), check_existing=False)
    try:
        width, height = image.size
        pixels = np.empty(width * height * 4, dtype=np.float32)
        image.pixels.foreach_get(pixels)
    finally:
        bpy.data.images.remove(image)
    colours = np.unique(np.round(pixels.reshape(-1, 4) * 255).astype(np.uint8), axis=0)
    return width, height, len(colours)


def preview_of(session, previews, job):
    path = previews.preview_path(session.get().root, job.service, job.id)
    assert path.is_file(), f"job {job.id} ({job.service}) has no preview"
    return path


@pytest.mark.parametrize(("provider", "fixture", "args", "rendered_here", "size"), [
    ("THRIXEL", "thrixel", {"prompt": "a brass orrery"}, False, 256),
    ("TRIPO", "tripo", {"prompt": "a stone gargoyle"}, False, 256),
    ("PIXAL3D", "pixazo", {"image_url": "https://example.com/chair.png"}, True, 256),
    ("VOXELAI", "voxelai", {"prompt": "a voxel fox", "candidate_index": 1}, False, 160),
])
def test_every_services_finished_job_has_a_preview(request, session, previews, renders,
                                                   fresh_scene, provider, fixture, args,
                                                   rendered_here, size):
    request.getfixturevalue(fixture)
    assert bpy.ops.conjure.generate(provider=provider, **args) == {"FINISHED"}
    job = newest_job(session)
    assert job.state == "imported"
    path = preview_of(session, previews, job)
    width, height, colours = picture(path)
    assert (width, height) == (size, size) and colours > 8, "a blank picture"
    assert bool(renders) == rendered_here
    if provider == "VOXELAI":  # the candidate the model was made from
        assert path.read_bytes() == open(job.params["image"], "rb").read()
    # Not one of the job's results: importing it again brings in the model only.
    assert path.name not in job.result_files


def test_a_failing_service_picture_leaves_a_ready_job_with_a_picture_drawn_here(
        session, previews, renders, thrixel, fresh_scene, monkeypatch, conjure):
    errors = importlib.import_module(f"{conjure.__name__}.providers.errors")
    client = session.get().runner.clients["thrixel"]
    broken = client._thumbnail("none")

    def refuse():
        raise errors.ConnectionFailedError("thumbnails are down", service="Thrixel")

    monkeypatch.setattr(broken, "open", refuse)
    monkeypatch.setattr(type(client), "_thumbnail", lambda self, remote_id: broken)
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a lantern") == {"FINISHED"}
    job = newest_job(session)
    assert job.state == "imported" and job.error_code is None
    assert renders == [{job.id}]
    assert picture(preview_of(session, previews, job))[:2] == (256, 256)


def test_the_pump_makes_the_preview_at_a_tick_of_its_own_after_the_import(
        session, previews, renders, pixazo, fresh_scene):
    pump = importlib.import_module(f"{session.__name__.rpartition('.')[0]}.pump")
    job = session.submit("pixal3d", "image_to_3d", {"image_url": "https://example.com/lamp.png"})
    session.follow(job.id)
    deadline = time.monotonic() + 60
    while session.get().journal.require(job.id).state != "imported":
        assert time.monotonic() < deadline, "never imported"
        pump.tick()
    assert not renders, "the import's tick rendered too"
    pump.tick()
    assert renders == [{job.id}]
    assert preview_of(session, previews, job)


def test_the_preview_outlives_a_restart_and_is_drawn(session, previews, tripo, fresh_scene,
                                                     conjure, paint, mirror, recorder,
                                                     monkeypatch):
    assert bpy.ops.conjure.generate(provider="TRIPO", prompt="an anvil") == {"FINISHED"}
    job = newest_job(session)
    path = preview_of(session, previews, job)
    before = path.read_bytes()
    session.shutdown()
    session.get()  # Blender starts again
    assert path.read_bytes() == before
    # Drawing loads it; Blender hands out icon ids only where it draws (the app tier shows it).
    drawn = []
    real = previews.loaded
    monkeypatch.setattr(previews, "loaded", lambda p: drawn.append((p, real(p))) or real(p))
    panels = importlib.import_module(f"{conjure.__name__}.panels.selected")
    bpy.context.view_layer.objects.active = next(
        ob for ob in bpy.data.objects if ob.get("conjure_job_id") == job.id)
    paint(panels.CONJURE_PT_selected)
    jobs_panel = importlib.import_module(f"{conjure.__name__}.panels.jobs")
    item = mirror(job.id, service=job.service, state="imported")
    jobs_panel.CONJURE_UL_jobs.draw_item(None, bpy.context, recorder(), None, item, 0, None, "")
    assert [p for p, _ in drawn] == [path, path]
    assert all(shown is not None and tuple(shown.image_size) == (256, 256) for _, shown in drawn)


def test_a_model_in_the_open_file_without_a_preview_gets_one(session, previews, renders,
                                                              pixazo, fresh_scene):
    """A model imported before previews existed (or Blender stopped before making one): once
    the file is loaded, the pump makes it."""
    pump = importlib.import_module(f"{session.__name__.rpartition('.')[0]}.pump")
    assert bpy.ops.conjure.generate(provider="PIXAL3D",
                                    image_url="https://example.com/stool.png") == {"FINISHED"}
    job = newest_job(session)
    path = preview_of(session, previews, job)
    path.unlink()
    renders.clear()
    session.file_loaded()
    for _ in range(50):
        pump.tick()
        if path.is_file():
            break
    assert renders == [{job.id}] and picture(path)[:2] == (256, 256)


def test_a_render_the_user_made_stays_in_the_render_result(session, previews, pixazo,
                                                          fresh_scene, tmp_path,
                                                          monkeypatch):
    scene = bpy.context.scene
    for name, value in (("engine", "BLENDER_WORKBENCH"), ("resolution_x", 40),
                        ("resolution_y", 30)):
        monkeypatch.setattr(scene.render, name, value)
    camera = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    scene.collection.objects.link(camera)
    monkeypatch.setattr(scene, "camera", camera)
    assert bpy.ops.render.render() == {"FINISHED"}
    result = bpy.data.images["Render Result"]
    slot = result.render_slots.active_index
    result.save_render(str(tmp_path / "before.png"))
    assert bpy.ops.conjure.generate(provider="PIXAL3D",
                                    image_url="https://example.com/bench.png") == {"FINISHED"}
    job = newest_job(session)
    assert picture(preview_of(session, previews, job))[:2] == (256, 256)  # rendered here
    assert result.render_slots.active_index == slot
    result.save_render(str(tmp_path / "after.png"))
    assert (tmp_path / "after.png").read_bytes() == (tmp_path / "before.png").read_bytes()
    assert [s.name for s in bpy.data.scenes] == [scene.name]
