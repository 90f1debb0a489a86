"""The Conjure asset library against the sandbox: after a finished job of each service the
library folder holds a .blend whose collection is an asset with the job's tags, catalog and a
preview; appending it into an empty file gives objects with lineage from which follow-ups are
sent with the right parent; the user's open file is left as it was; no key is in any library
file."""

import os
import uuid
from pathlib import Path

import bpy
import numpy as np
import pytest
import zstandard

PROMPTS = {"thrixel": "a brass diving helmet with round portholes",
           "tripo": "a stone gargoyle crouching",
           "pixazo": "",
           "voxelai": "a small voxel fox"}
GENERATE = {"thrixel": {"provider": "THRIXEL"},
            "tripo": {"provider": "TRIPO"},
            "pixazo": {"provider": "PIXAL3D",
                       "image_url": "https://example.com/library-chair.png"},
            "voxelai": {"provider": "VOXELAI", "candidate_index": 0}}
#: A follow-up each service offers on a model (Pixazo and Voxel-AI offer none).
FOLLOW_UPS = {"thrixel": "refine", "tripo": "texture_model"}


@pytest.fixture
def library_folder(conjure, tmp_path, mod):
    prefs = bpy.context.preferences.addons[conjure.__package__].preferences
    folder = tmp_path / "Conjure Library"
    prefs.library_enabled = True
    prefs.library_folder = str(folder)
    yield folder
    prefs.library_folder = ""
    prefs.library_file_results = False
    mod("blender.library").unregister_library()


def user_data():
    """Everything of the open file an import could leave behind, by name."""
    kinds = ("objects", "meshes", "materials", "images", "collections", "scenes", "textures",
             "node_groups", "cameras", "lights", "armatures", "actions")
    return {kind: sorted(block.name for block in getattr(bpy.data, kind)) for kind in kinds}


def blend_bytes(path):
    """A .blend's bytes, unpacked when Blender compressed it (zstd frames)."""
    data = path.read_bytes()
    if data.startswith(b"BLENDER"):
        return data
    with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True) as reader:
        return reader.read()


def appended(path):
    """Append the library file's collection into the (emptied) open file, as the Asset Browser
    does when an asset is dragged in, and link it into the scene."""
    with bpy.data.libraries.load(str(path), link=False) as (found, wanted):
        assert len(found.collections) == 1, found.collections
        wanted.collections = list(found.collections)
    [collection] = wanted.collections
    bpy.context.scene.collection.children.link(collection)
    return collection


def empty_file():
    data = bpy.data
    data.batch_remove([*data.objects, *data.meshes, *data.materials, *data.images,
                       *data.collections, *data.node_groups])


def check_asset(collection, job, mod, catalog):
    assets = mod("workflow.library")
    data = collection.asset_data
    assert data is not None, "the collection is not an asset"
    tags = [t.name for t in data.tags]
    assert tags == assets.tags(job)
    assert tags[:2] == [assets.service_label(job.service), assets.operation_label(job)]
    assert data.description == assets.prompt(job)
    for word in assets.prompt_words(assets.prompt(job)):
        assert word in tags
    assert data.catalog_id == str(uuid.uuid5(assets.CATALOG_NAMESPACE, catalog))
    assert data.author == "" and data.license == ""
    preview = collection.preview
    assert preview is not None and tuple(preview.image_size) != (0, 0)
    pixels = np.array(preview.image_pixels_float[:], dtype=np.float32).reshape(-1, 4)
    # A picture of the model: some pixels covered, not all alike.
    assert (pixels[:, 3] > 0.5).sum() > 0.05 * len(pixels)
    assert pixels[:, :3].std() > 0.01


@pytest.mark.parametrize("service", ["thrixel", "tripo", "pixazo", "voxelai"])
def test_every_service_result_is_an_asset_with_lineage(service, request, session, mod,
                                                      fresh_scene, library_folder):
    request.getfixturevalue(service)
    prompt = {"prompt": PROMPTS[service]} if PROMPTS[service] else {}
    assert bpy.ops.conjure.generate(**GENERATE[service], **prompt) == {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    before = user_data()

    assert bpy.ops.conjure.file_in_library(job_id=job.id) == {"FINISHED"}

    assert user_data() == before, "filing changed the open file"
    path = library_folder / f"{job.service}_{job.id}.blend"
    assert path.is_file()
    assert sorted(p.name for p in library_folder.iterdir()) == sorted(
        [path.name, "blender_assets.cats.txt"]), "a temporary file was left behind"
    catalog = f"Conjure/{mod('workflow.library').service_label(job.service)}"
    cats = (library_folder / "blender_assets.cats.txt").read_text()
    assert f"{uuid.uuid5(mod('workflow.library').CATALOG_NAMESPACE, catalog)}:{catalog}:" in cats
    [entry] = [lib for lib in bpy.context.preferences.filepaths.asset_libraries
               if lib.name == "Conjure"]
    assert Path(entry.path) == library_folder

    empty_file()
    collection = appended(path)
    check_asset(collection, job, mod, catalog)
    objects = list(collection.all_objects)
    assert objects
    for ob in objects:
        assert ob["conjure_provider"] == job.service
        assert ob["conjure_job_id"] == job.id
        assert ob["conjure_remote_id"] == job.remote_id and job.remote_id
        assert ob["conjure_node_name"]
    if service in FOLLOW_UPS:
        root = next(ob for ob in objects if ob.parent is None)
        for ob in bpy.context.view_layer.objects:
            ob.select_set(ob == root)
        bpy.context.view_layer.objects.active = root
        assert bpy.ops.conjure.follow_up(operation=FOLLOW_UPS[service]) == {"FINISHED"}
        child = session.get().journal.jobs(limit=1)[0]
        assert (child.operation, child.parent_id) == (FOLLOW_UPS[service], job.id)
        assert job.remote_id in child.params.values()


def test_the_preference_files_every_import_and_the_library_holds_no_key(
        conjure, session, sandbox, mod, fresh_scene, library_folder, monkeypatch):
    prefs = bpy.context.preferences.addons[conjure.__package__].preferences
    sentinel = f"sk-thrixel-sentinel-{uuid.uuid4().hex}"
    env_sentinel = f"tsk_sentinel_{uuid.uuid4().hex}"
    sandbox.add_key("thrixel", sentinel)
    prefs.thrixel_url = sandbox.service_url("thrixel")
    prefs.thrixel_key = sentinel
    monkeypatch.setenv(mod("providers.services").BY_ID["tripo"].key_env[0], env_sentinel)
    prefs.library_file_results = True
    try:
        assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a lantern") == {"FINISHED"}
    finally:
        prefs.thrixel_key = prefs.thrixel_url = ""
    job = session.get().journal.jobs(limit=1)[0]
    files = [p for p in library_folder.rglob("*") if p.is_file()]
    assert library_folder / f"thrixel_{job.id}.blend" in files
    record = session.user_dir() / "library.json"
    for path in [*files, record]:
        data = blend_bytes(path) if path.suffix == ".blend" else path.read_bytes()
        for secret in (sentinel, env_sentinel):
            assert secret.encode() not in data, f"a key is in {path}"
            assert secret[-12:].encode() not in data, f"part of a key is in {path}"


def test_removing_a_job_keeps_its_asset_and_a_missing_asset_is_written_again(
        thrixel, session, mod, fresh_scene, library_folder, tmp_path, conjure, capsys):
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a copper kettle") == \
        {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    assert bpy.ops.conjure.file_in_library(job_id=job.id) == {"FINISHED"}
    path = library_folder / f"thrixel_{job.id}.blend"
    first = path.stat().st_mtime_ns

    # The library moves to an empty folder: its asset is written there again, with its UUIDs.
    prefs = bpy.context.preferences.addons[conjure.__package__].preferences
    moved = tmp_path / "moved"
    prefs.library_folder = str(moved)
    library = mod("blender.library")
    # (Earlier tests' assets are missing there too: the record is this user folder's.)
    assert job.id in [j.id for j in library.missing()]
    assert bpy.ops.conjure.rebuild_library() == {"FINISHED"}
    assert (moved / path.name).is_file() and not library.missing()
    assert path.stat().st_mtime_ns == first
    [line] = [line for line in (library_folder / "blender_assets.cats.txt").read_text()
              .splitlines() if line.endswith(":Conjure/Thrixel:Conjure-Thrixel")]
    assert line in (moved / "blender_assets.cats.txt").read_text().splitlines()
    [entry] = [lib for lib in bpy.context.preferences.filepaths.asset_libraries
               if lib.name == "Conjure"]
    assert Path(entry.path) == moved

    prefs.library_folder = str(library_folder)
    assert bpy.ops.conjure.remove_job(job_id=job.id) == {"FINISHED"}
    assert path.is_file() and path.stat().st_mtime_ns == first
    assert job.id not in [j.id for j in library.missing()]


def test_show_in_asset_browser_without_a_window_says_where(thrixel, session, fresh_scene,
                                                            library_folder, capsys):
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a tin robot") == {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    assert bpy.ops.conjure.show_in_asset_browser(job_id=job.id) == {"FINISHED"}
    assert (library_folder / f"thrixel_{job.id}.blend").is_file()


def test_turned_off_the_library_files_nothing(thrixel, session, conjure, fresh_scene,
                                              library_folder):
    prefs = bpy.context.preferences.addons[conjure.__package__].preferences
    prefs.library_file_results = True
    prefs.library_enabled = False
    try:
        assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a clay pot") == \
            {"FINISHED"}
        job = session.get().journal.jobs(limit=1)[0]
        with pytest.raises(RuntimeError, match="turned off"):
            bpy.ops.conjure.file_in_library(job_id=job.id)
        assert not library_folder.exists()
        assert not [lib for lib in bpy.context.preferences.filepaths.asset_libraries
                    if lib.name == "Conjure"]
    finally:
        prefs.library_enabled = True


def test_command_line_batch_files_each_row_in_a_batch_catalog(thrixel, session, mod, tmp_path,
                                                              library_folder, capsys):
    csv = tmp_path / "props.csv"
    csv.write_text("provider,prompt\nTHRIXEL,a wooden barrel\n")
    command_line = mod("blender.command_line")
    code = command_line.main(["batch", str(csv), "--output-dir", str(tmp_path / "out"),
                              "--library"])
    assert code == 0, capsys.readouterr()
    [blend] = library_folder.glob("*.blend")
    job = session.get().journal.get(blend.stem.split("_", 1)[1])
    collection = appended(blend)
    check_asset(collection, job, mod, "Conjure/Thrixel/props")
    assert command_line.main(["library"]) == 0
    assert f"Conjure asset library: {library_folder}" in capsys.readouterr().out
    os.remove(blend)
    assert command_line.main(["library", "--rebuild"]) == 0
    assert blend.is_file()
    # Written again into the batch's catalog.
    bpy.data.batch_remove([collection, *collection.all_objects])
    check_asset(appended(blend), job, mod, "Conjure/Thrixel/props")


def test_the_jobs_own_picture_is_the_asset_preview(thrixel, session, mod, fresh_scene,
                                                   library_folder):
    assert bpy.ops.conjure.generate(provider="THRIXEL", prompt="a red mailbox") == {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    # The picture the Jobs panel shows for a result, kept with its files: 512 × 384, red.
    picture = mod("jobs.results").job_folder(session.user_dir(), job.service, job.id) / \
        "preview.png"
    image = bpy.data.images.new("picture", 512, 384, alpha=True)
    image.pixels.foreach_set(np.tile(np.float32([0.9, 0.1, 0.1, 1.0]), 512 * 384))
    image.filepath_raw, image.file_format = str(picture), "PNG"
    image.save()
    bpy.data.images.remove(image)
    before = user_data()
    assert bpy.ops.conjure.file_in_library(job_id=job.id) == {"FINISHED"}
    assert user_data() == before
    empty_file()
    preview = appended(library_folder / f"thrixel_{job.id}.blend").preview
    assert tuple(preview.image_size) == (256, 192)  # scaled to the preview's size
    pixels = np.array(preview.image_pixels_float[:]).reshape(-1, 4)
    assert np.allclose(pixels.mean(axis=0), [0.9, 0.1, 0.1, 1.0], atol=0.02)


def test_a_job_without_a_picture_gets_one_rendered_and_kept_with_its_results(
        pixazo, session, mod, fresh_scene, library_folder):
    assert bpy.ops.conjure.generate(provider="PIXAL3D",
                                    image_url="https://example.com/library-lamp.png") == \
        {"FINISHED"}
    job = session.get().journal.jobs(limit=1)[0]
    picture = mod("jobs.results").preview_path(session.user_dir(), job.service, job.id)
    picture.unlink(missing_ok=True)  # e.g. a result from before previews existed
    before = user_data()
    assert bpy.ops.conjure.file_in_library(job_id=job.id) == {"FINISHED"}
    assert user_data() == before, "rendering the preview changed the open file"
    assert picture.is_file() and picture.read_bytes()[:4] == b"\x89PNG"
    empty_file()
    check_asset(appended(library_folder / f"pixal3d_{job.id}.blend"), job, mod,
                "Conjure/Pixal3D (Pixazo)")
