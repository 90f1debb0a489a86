"""The session inside Blender: submit, pump, blocking path, online guard, secrets."""

import importlib
import logging
import sqlite3

import bpy
import pytest


@pytest.fixture
def errors(conjure):
    return importlib.import_module(f"{conjure.__name__}.providers.errors")


def test_generation_runs_to_ready_and_the_pump_mirrors_it(session, thrixel, sandbox,
                                                          fresh_scene):
    # Queued for a moment, as a real job is: the stream reports each state as it comes.
    sandbox.add_key("thrixel", "sk-thrixel-queued-a-moment", faults="cold_start=0.5")
    thrixel.thrixel_key = "sk-thrixel-queued-a-moment"
    job = session.submit("thrixel", "create", {"task": "a brass orrery"})
    lines = []
    [done] = session.run_blocking([job.id], timeout=60, echo=lines.append)
    assert done.state == "ready", done.message
    assert done.remote_id and done.result_files
    assert any("· Queued for " in line for line in lines) and "· Ready to import ·" in lines[-1]
    path = session.result_paths(done)[0]
    assert path.read_bytes()[:4] == b"glTF"
    assert path.is_relative_to(session.user_dir() / "results" / "thrixel")

    # The pump's tick (what the modal timer calls) mirrored the job onto the WindowManager.
    bpy.ops.conjure.pump()
    items = {item.job_id: item for item in bpy.context.window_manager.conjure.jobs}
    assert items[job.id].state == "ready" and items[job.id].remote_id == done.remote_id
    assert session.running().stats.ticks > 0


def test_import_puts_tagged_objects_in_a_job_collection(conjure, session, thrixel, fresh_scene):
    scene_import = importlib.import_module(f"{conjure.__name__}.blender.scene_import")
    job = session.submit("thrixel", "create", {"task": "a potion cauldron"})
    [done] = session.run_blocking([job.id], timeout=60, echo=lambda line: None)
    objects = scene_import.import_result(
        bpy.context, service="thrixel", job_id=done.id, remote_id=done.remote_id,
        paths=session.result_paths(done))
    assert objects
    collection = bpy.data.collections[f"Conjure thrixel {done.id}"]
    assert set(collection.objects) == set(objects)
    for ob in objects:
        assert (ob["conjure_job_id"], ob["conjure_remote_id"]) == (done.id, done.remote_id)
    assert session.mark_imported(done).state == "imported"


def test_offline_sends_nothing_and_names_the_preference(session, errors, thrixel):
    before = len(session.get().journal.jobs())
    bpy.context.preferences.system.use_online_access = False
    with pytest.raises(errors.OfflineError, match="Allow Online Access"):
        session.submit("thrixel", "create", {"task": "x"})
    assert len(session.get().journal.jobs()) == before


def test_missing_key_names_the_field_and_the_variable(session, errors, thrixel, monkeypatch):
    monkeypatch.delenv("CONJURE_THRIXEL_KEY", raising=False)
    monkeypatch.delenv("THRIXEL_API_KEY", raising=False)
    thrixel.thrixel_key = ""
    with pytest.raises(errors.AuthenticationError, match="CONJURE_THRIXEL_KEY"):
        session.submit("thrixel", "create", {"task": "x"})


def test_key_from_environment_is_used_and_shown(session, thrixel, sandbox, monkeypatch):
    sandbox.add_key("thrixel", "sk-thrixel-from-env")
    monkeypatch.setenv("CONJURE_THRIXEL_KEY", "sk-thrixel-from-env")
    thrixel.thrixel_key = ""
    assert session.settings.key(session.BY_ID["thrixel"]) == ("sk-thrixel-from-env",
                                                          "CONJURE_THRIXEL_KEY")
    job = session.submit("thrixel", "create", {"task": "a lantern"})
    [done] = session.run_blocking([job.id], timeout=60, echo=lambda line: None)
    assert done.state == "ready", done.message


def test_sentinel_key_is_in_no_blend_journal_or_log(session, thrixel, sandbox, fresh_scene,
                                                    tmp_path, capsys):
    sentinel = "sk-thrixel-SENTINEL-7f3a9c"
    sandbox.add_key("thrixel", sentinel)
    thrixel.thrixel_key = sentinel
    log_file = tmp_path / "conjure.log"
    handler = logging.FileHandler(log_file)
    logging.getLogger("conjure").addHandler(handler)
    logging.getLogger("conjure").setLevel(logging.DEBUG)
    try:
        ok = session.submit("thrixel", "create", {"task": "a street lamp"})
        session.run_blocking([ok.id], timeout=60)
        # A failing job too: its error text comes back from the service.
        sandbox.add_key("thrixel", sentinel, forbidden=True)
        bad = session.submit("thrixel", "create", {"task": "a bench"})
        session.run_blocking([bad.id], timeout=60)
    finally:
        logging.getLogger("conjure").removeHandler(handler)
        handler.close()
    bpy.ops.conjure.pump()
    blend = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), copy=True)
    journal = session.get().journal.path
    sqlite3.connect(journal).execute("PRAGMA wal_checkpoint(FULL)")
    out = capsys.readouterr()
    places = {
        "blend": blend.read_bytes(),
        "journal": journal.read_bytes(),
        "wal": journal.with_name(journal.name + "-wal").read_bytes()
        if journal.with_name(journal.name + "-wal").exists() else b"",
        "log": log_file.read_bytes(),
        "stdout": (out.out + out.err).encode(),
    }
    assert places["stdout"], "the run printed nothing, so the check would prove nothing"
    for where, data in places.items():
        assert sentinel.encode() not in data, f"key found in {where}"
        assert b"SENTINEL" not in data, f"part of the key found in {where}"


def test_invalid_parameters_are_refused_before_anything_is_written(session, errors, thrixel):
    before = len(session.get().journal.jobs())
    with pytest.raises(errors.InvalidRequestError, match="image and images") as caught:
        session.submit("thrixel", "create", {"image": "https://x/a.png",
                                            "images": ["https://x/b.png"]})
    assert caught.value.field == "images"
    assert len(session.get().journal.jobs()) == before


def test_tripo_api_family_follows_the_preference(conjure, session, thrixel):
    prefs = thrixel
    prefs.tripo_api = "v2"
    try:
        assert session.build_clients()["tripo"].api == "v2"
        prefs.tripo_api = "v3"
        assert session.build_clients()["tripo"].api == "v3"
    finally:
        prefs.tripo_api = "AUTO"
