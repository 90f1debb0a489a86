"""The asset library's bpy-free side: tags, names, catalogs and the record of filed jobs."""

from __future__ import annotations

import uuid

from conjure.jobs.model import Job
from conjure.workflow import library


def test_tags_are_service_operation_model_and_the_prompts_words():
    job = Job("tripo", "text_to_model", {"prompt": "A stone Gargoyle, crouching on a 3D "
                                                   "ledge of the old tower; stone!",
                                         "model_version": "v2.5-20250123"})
    assert library.tags(job) == ["Tripo3D", "Text to Model", "v2.5-20250123", "stone",
                                 "gargoyle", "crouching", "ledge", "old", "tower"]
    assert library.prompt_words("the  an  of a") == []
    assert library.prompt_words("knight's sword, x 42 sci-fi") == ["knight's", "sword",
                                                                   "sci-fi"]
    words = " ".join(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
                      "hotel", "india", "juliet", "kilo", "lima", "mike", "november"])
    assert library.prompt_words(words) == words.split()[:library.MAX_PROMPT_TAGS]


def test_a_job_without_prompt_or_model_is_tagged_with_its_service_and_operation():
    job = Job("pixal3d", "image_to_3d", {"image_url": "https://example.com/a.png"})
    assert library.tags(job)[2:] == []
    assert library.tags(job)[0] == library.service_label("pixal3d")
    assert library.asset_name(job) == f"{library.operation_label(job)} ({job.id[:6]})"


def test_asset_names_are_short_and_keep_the_job_apart():
    job = Job("thrixel", "create", {"task": "a " * 80 + "lamp"})
    name = library.asset_name(job)
    assert name.endswith(f"({job.id[:6]})") and len(name) <= 48 + 9


def test_catalog_paths_per_service_and_batch_with_stable_uuids(tmp_path):
    assert library.catalog_path("thrixel") == "Conjure/Thrixel"
    assert library.catalog_path("tripo", "props: a/b") == "Conjure/Tripo3D/props a b"
    ids = library.ensure_catalogs(tmp_path, ["Conjure/Tripo3D/props"])
    assert ids["Conjure/Tripo3D/props"] == str(
        uuid.uuid5(library.CATALOG_NAMESPACE, "Conjure/Tripo3D/props"))
    text = (tmp_path / library.CATALOG_FILE).read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "VERSION 1"
    assert [line.split(":", 1)[1] for line in lines[1:]] == [
        "Conjure:Conjure", "Conjure/Tripo3D:Conjure-Tripo3D",
        "Conjure/Tripo3D/props:Conjure-Tripo3D-props"]


def test_catalogs_already_there_keep_their_uuids_and_the_users_own_stay(tmp_path):
    mine = "0f0f0f0f-0000-4000-8000-000000000001"
    theirs = "0f0f0f0f-0000-4000-8000-000000000002"
    (tmp_path / library.CATALOG_FILE).write_text(
        f"VERSION 1\n\n{mine}:Conjure/Thrixel:Conjure-Thrixel\n{theirs}:Props:My Props\n")
    ids = library.ensure_catalogs(tmp_path, ["Conjure/Thrixel", "Conjure/Voxel-AI"])
    assert ids["Conjure/Thrixel"] == mine
    catalogs = {c.path: c for c in library.read_catalogs(tmp_path)}
    assert catalogs["Props"] == library.Catalog(theirs, "Props", "My Props")
    assert set(catalogs) == {"Conjure", "Conjure/Thrixel", "Conjure/Voxel-AI", "Props"}
    before = (tmp_path / library.CATALOG_FILE).read_bytes()
    library.ensure_catalogs(tmp_path, ["Conjure/Thrixel"])
    assert (tmp_path / library.CATALOG_FILE).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [library.CATALOG_FILE]


def test_the_record_knows_what_is_missing_from_a_moved_library(tmp_path):
    kept, gone, forgotten = (Job("thrixel", "create") for _ in range(3))
    record = library.Record.load(tmp_path)
    for job in (kept, gone, forgotten):
        record.add(job.id, "Conjure/Thrixel")
    again = library.Record.load(tmp_path)
    assert again.jobs == record.jobs
    shelf = tmp_path / "library"
    shelf.mkdir()
    library.asset_file(shelf, kept).write_bytes(b"BLENDER")
    journal = {job.id: job for job in (kept, gone)}
    assert library.missing(again, shelf, journal.get) == [gone]
    (tmp_path / library.RECORD_FILE).write_text("not json")
    assert library.Record.load(tmp_path).jobs == {}


def test_library_folder_defaults_to_the_user_folder(tmp_path):
    assert library.folder(tmp_path) == tmp_path / "library"
    assert library.folder(tmp_path, " ") == tmp_path / "library"
    assert library.folder(tmp_path, str(tmp_path / "x")) == tmp_path / "x"
    assert library.temporary_name(tmp_path / "a.blend").suffix == ".part"
