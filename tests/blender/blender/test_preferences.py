"""Preferences: key tests off the main thread, import options, download limits, the cache folder,
and no key in a saved .blend."""

import bpy
import pytest

SENTINEL = "sk-SENTINEL-never-in-a-blend-0451"


@pytest.fixture
def prefs(conjure):
    return bpy.context.preferences.addons[conjure.__package__].preferences


def test_import_options_exist_with_expected_defaults(prefs):
    assert (prefs.import_at_cursor, prefs.import_collection_per_job, prefs.auto_import,
            prefs.import_merge_vertices, prefs.import_target_size) == (True, True, True,
                                                                       False, 0.0)


def test_preferences_draw_every_service_with_test_button_and_cache(prefs, paint, recorder,
                                                                    monkeypatch, mod):
    services = mod("providers.services")
    monkeypatch.setenv("CONJURE_TRIPO_KEY", "from-env")
    monkeypatch.delenv("TRIPO_API_KEY", raising=False)
    layout = paint(type(prefs), target=prefs)
    tests = [e[2].service for e in layout.ops("conjure.test_key")]
    assert tests == [s.id for s in services.SERVICES]
    text = layout.text()
    assert "$CONJURE_TRIPO_KEY" in text
    assert {"import_at_cursor", "import_target_size", "auto_import"} <= set(layout.props())
    assert layout.ops("conjure.clear_cache") and layout.ops("conjure.open_cache_folder")
    assert "Results and cached pictures" in text


def test_download_limits_reach_the_runner_and_every_client(prefs, mod, paint):
    session, results, http = mod("blender.session"), mod("jobs.results"), mod("providers.http")
    runner = session.get().runner
    assert runner.limits == results.SizeLimits()  # the defaults, 2000 and 200 MB
    names = ("download_max_model_mb", "download_max_picture_mb", "download_stall_timeout",
             "download_time_limit")
    assert set(names) <= set(paint(type(prefs), target=prefs).props())
    try:
        prefs.download_max_model_mb = 5
        prefs.download_max_picture_mb = 1
        prefs.download_stall_timeout = 12.0
        prefs.download_time_limit = 600.0
        # Plain values, captured on the main thread when the preferences changed.
        assert runner.limits == results.SizeLimits(models=5_000_000, pictures=1_000_000)
        for name, client in runner.clients.items():
            clients = [v for v in vars(client).values() if isinstance(v, http.HttpClient)]
            assert clients, name
            for one in clients:
                settings = one.settings
                assert (settings.download_stall_s, settings.download_time_s) == (12.0, 600.0)
                assert one.download_timeout()[1] == 12.0
    finally:
        for name in names:
            prefs.property_unset(name)
        session.settings_changed()
    assert runner.limits == results.SizeLimits()


def test_key_test_reports_the_services_answer(prefs, thrixel, mod, paint):
    ui = mod("blender.session")
    assert bpy.ops.conjure.test_key(service="thrixel") == {"FINISHED"}
    answer = ui.key_tests.peek(ui.answer_key("thrixel"))
    assert answer.ok and "accepted" in answer.text
    assert "accepted" in paint(type(prefs), target=prefs).text()
    thrixel.thrixel_key = "sk-wrong"
    with pytest.raises(RuntimeError) as refused:
        bpy.ops.conjure.test_key(service="thrixel")
    assert "sk-wrong" not in str(refused.value)
    assert not ui.key_tests.peek(ui.answer_key("thrixel")).ok


def test_key_test_without_key_or_offline_says_what_to_do(prefs, monkeypatch, online):
    for name in ("CONJURE_PIXAZO_KEY", "PIXAZO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="CONJURE_PIXAZO_KEY"):
        bpy.ops.conjure.test_key(service="pixal3d")
    monkeypatch.setenv("CONJURE_PIXAZO_KEY", "k")
    bpy.context.preferences.system.use_online_access = False
    with pytest.raises(RuntimeError, match="Allow Online Access"):
        bpy.ops.conjure.test_key(service="pixal3d")


def test_saved_blend_holds_prompts_but_no_key(prefs, fresh_scene, tmp_path):
    prefs.tripo_key = SENTINEL
    try:
        fresh_scene.conjure.prompt = "a stone gargoyle"
        bpy.ops.wm.save_userpref()
        path = tmp_path / "scene.blend"
        bpy.ops.wm.save_as_mainfile(filepath=str(path), copy=True, compress=False)
        data = path.read_bytes()
        assert b"a stone gargoyle" in data
        assert SENTINEL.encode() not in data
    finally:
        prefs.tripo_key = ""


def test_clear_cache_keeps_results_not_yet_imported(mod, prefs):
    session, model, results = mod("blender.session"), mod("jobs.model"), mod("jobs.results")
    journal = session.get().journal
    root = session.user_dir()
    jobs = {state: model.Job("tripo", "text_to_model", state=model.State(state),
                             result_files=["model.glb"])
            for state in ("imported", "ready", "failed")}
    folders = {}
    for state, job in jobs.items():
        journal.add(job, claim=False)
        folders[state] = results.job_folder(root, "tripo", job.id)
        folders[state].mkdir(parents=True)
        (folders[state] / "model.glb").write_bytes(b"glTF" + b"\0" * 100)
    orphan = results.job_folder(root, "tripo", "not-in-journal")
    orphan.mkdir(parents=True)
    (orphan / "model.glb").write_bytes(b"glTF")
    inputs = root / "cache" / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / "picture.png").write_bytes(b"\x89PNG")
    try:
        assert bpy.ops.conjure.clear_cache() == {"FINISHED"}
        assert not folders["imported"].exists() and not inputs.exists()
        assert (folders["ready"] / "model.glb").is_file()
        assert folders["failed"].exists() and orphan.exists()
    finally:
        for job in jobs.values():
            journal.remove(job.id)
