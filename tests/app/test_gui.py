"""The interactive path in a real Blender window under Xvfb: the modal pump Conjure arms at
start-up moves a job from the GUI session to the scene, and the sidebar is photographed in
each state a user meets.

One GUI run (``in_blender/gui.py``, scenario ``generate``) per target feeds every test here.
"""

import pytest
from app import harness

from sandbox import DEFAULT_KEYS
from support.fixtures import prompt_for

SLOW_KEY = "sk-thrixel-app-slow"
FAILING_KEY = "sk-thrixel-app-failing"
PARTS_KEY = "sk-thrixel-app-parts"
#: The parts of the orrery selected in the viewport, checked and edited in place.
PARTS_FOCUS = ["orbit_ring_inner", "pointer_arm"]
#: The progress bar's colour in the GUI run: one step from the default theme's blue, which the
#: selected row of a list shares (see gui.set_progress_colour).
PROGRESS_RGB = (0x47, 0x72, 0xB4)
#: The background of the sandbox's Voxel-AI candidate pictures (sandbox/images.py).
CANDIDATE_BACKGROUND = (236, 234, 228)

#: Sidebar states the screenshots cover. Each new panel adds its states here and in
#: ``scenario_generate``; a state the scenario does not produce yet says what it needs.
STATES = {
    "idle-no-key": None,
    "form-thrixel": None,
    "form-tripo": None,
    "form-pixal3d": None,
    "form-voxelai": None,
    "running": None,
    "finished": None,
    "failed": None,
    "details-open": None,
    "candidates": None,
    "parts": None,
    "parts-edited": None,
}


@pytest.fixture(scope="session")
def real_pace_sandbox():
    """A second sandbox at the services' typical timings, for the job that must still be
    running when photographed (a Tripo3D job runs about 30 s there)."""
    from sandbox import start_sandbox

    with start_sandbox(speed="real") as running:
        yield running


@pytest.fixture(scope="session")
def generate_run(target, display, sandbox, real_pace_sandbox, installed, tmp_path_factory):
    # A queue delay keeps the job visibly running for a few seconds of pump ticks.
    sandbox.add_key("thrixel", SLOW_KEY, faults="cold_start=3")
    sandbox.add_key("thrixel", FAILING_KEY, faults="fail")
    sandbox.add_key("thrixel", PARTS_KEY)
    user = harness.UserFolder(target, target.scratch / "gui-generate", template=installed.user)
    run = user.gui(display, "generate", {
        "scenario": "generate",
        "task": "a weathered bronze lantern",
        "running_task": "a ceramic teapot with a bamboo handle",
        "candidates_task": "a small voxel fox",
        "parts_task": prompt_for(sandbox, "orrery"),
        "parts_focus": PARTS_FOCUS,
        "running_progress": 0.2,
        "progress_colour": "#{:02x}{:02x}{:02x}".format(*PROGRESS_RGB),
        "prefs": {"thrixel_url": sandbox.service_url("thrixel"), "thrixel_key": "",
                  "tripo_url": real_pace_sandbox.service_url("tripo"),
                  "tripo_key": "tsk_sandbox",
                  "voxelai_url": sandbox.service_url("voxelai"),
                  "voxelai_key": "voxelai-sandbox-token"},
        "keys": {"slow": SLOW_KEY, "failing": FAILING_KEY, "parts": PARTS_KEY},
        # Every service's key, for the filled forms photographed before anything is sent.
        "form_prefs": {"thrixel_key": DEFAULT_KEYS["thrixel"],
                       "pixazo_url": sandbox.service_url("pixazo"),
                       "pixazo_key": DEFAULT_KEYS["pixazo"]},
    })
    harness.record_timing(f"{target.name}: GUI generate run {run.seconds:.1f} s "
                  f"(Blender exit {run.returncode})")
    harness.publish(target, run.record.get("shots", []), user.base / "shots")
    return run, user


@pytest.fixture
def run(generate_run):
    run, _ = generate_run
    assert run.returncode == 0 and run.record and not run.record.get("error"), run.explain()
    return run


def test_pump_armed_by_conjure_ticks_while_the_job_runs(run):
    pump = run.record["pump"]
    assert pump["alive"], pump
    # The script never ticks the engine itself: every tick came from the modal pump's timer.
    assert run.record["ticks_at_ready"] > run.record["ticks_at_submit"] > 0, run.record
    assert pump["ticks"] >= run.record["ticks_at_ready"]
    if pump["modal_operators"]:
        assert "CONJURE_OT_pump" in pump["modal_operators"], pump


def test_job_from_the_gui_session_is_imported_with_lineage(run, sandbox):
    job = run.record["job"]
    assert job["imported"] > 0 and job["remote_id"], job
    ours = [ob for ob in run.record["objects"]
            if ob["props"].get("conjure_job_id") == job["id"]]
    assert len(ours) == job["imported"], run.record["objects"]
    # One new collection holds the job's objects.
    [collection] = {c for ob in ours for c in ob["collections"]}
    assert collection in run.record["scene_collections"]
    assert not [ob for ob in run.record["objects"]
                if collection in ob["collections"] and ob not in ours]
    for ob in ours:
        assert ob["props"]["conjure_provider"] == "thrixel"
        assert ob["props"]["conjure_remote_id"] == job["remote_id"]
    assert any(ob["type"] == "MESH" for ob in ours), ours
    remote = [s["submission_id"] for s in harness.submissions(sandbox, SLOW_KEY)]
    assert job["remote_id"] in remote


def test_failed_job_reaches_the_sidebar_with_its_message(run):
    failed = run.record["failed"]
    assert failed["message"].strip(), failed
    # The message is in the failed shot's Jobs panel in full, in sentences (the service's
    # code left for Details), on lines short enough for the sidebar: a label wider than the
    # space between the icon column and the box's edge (about 75 px of a sidebar) is cut off
    # with "…".
    shot = shot_of(run, "failed")
    labels = rows(shot, "CONJURE_PT_jobs", "label")
    words = " ".join(" ".join(label[1] for label in labels).split())
    said, code = failed["said"]
    assert said in words and code and code not in words, labels
    assert "Thrixel · Create · Failed" in words and "Retry sends it again" in words, words
    message = [label for label in labels if label[1] and label[1] in said]
    assert message, labels
    too_wide = [label for label in message if label[2] > shot["sidebar"][2] - 75]
    assert not too_wide, (shot["sidebar"], too_wide)
    # Retry beside Remove from List, both for this job.
    buttons = [r for r in rows(shot, "CONJURE_PT_jobs", "operator")
               if r[1] in ("conjure.retry_job", "conjure.remove_job")]
    assert [r[2] for r in buttons] == ["Retry", "Remove from List"], buttons
    assert ["panel", "job_details_open", False] in rows(shot, "CONJURE_PT_jobs")
    assert not [ob for ob in run.record["objects"]
                if ob["props"].get("conjure_job_id") == failed["id"]]


def test_details_open_shot_holds_the_ids_and_codes_with_one_copy(run):
    failed = run.record["failed"]
    shot = shot_of(run, "details-open")
    drawn = rows(shot, "CONJURE_PT_jobs")
    assert ["panel", "job_details_open", True] in drawn
    # Long ids wrap over two lines (at a hyphen): compare without the spaces.
    tight = "".join(r[1] for r in drawn if r[0] == "label").replace(" ", "")
    for said in (f"Job: {failed['id']}", f"Remote: {failed['remote_id']}",
                 f"Service said: {failed['said'][1]}"):
        assert said.replace(" ", "") in tight, (said, tight)
    copies = [r for r in drawn if r[0] == "operator" and r[1] == "conjure.copy_text"]
    assert [r[2] for r in copies] == ["Copy Details"], copies


def test_generate_button_result_is_imported_by_the_pump(run):
    # The job was started with conjure.generate('INVOKE_DEFAULT') in the sidebar's context,
    # which returns at once; the script only waited, so the import was Conjure's own.
    assert run.record["job"]["imported_by"] == "conjure", run.record["job"]


@pytest.mark.parametrize("state", STATES)
def test_screenshot_shows_a_drawn_sidebar(run, target, state):
    if STATES[state]:
        pytest.skip(STATES[state])
    shots = {s["state"]: s for s in run.record["shots"]}
    assert state in shots, f"no {state} screenshot; taken: {sorted(shots)}"
    shot = shots[state]
    assert shot["grab_rc"] == 0, shot["grab_err"]
    png = harness.SCREENSHOTS / target.name / f"{state}.png"
    assert png.exists()
    x, y, w, h = shot["sidebar"]
    assert w > 100 and h > 200, f"sidebar closed? {shot}"
    assert x >= 0 and y >= 0 and x + w <= harness.SCREEN[0] and y + h <= harness.SCREEN[1], shot
    colours = harness.distinct_colours(target, png, shot["sidebar"])
    assert colours > harness.MIN_SIDEBAR_COLOURS, f"{png}: sidebar has {colours} colours"


def shot_of(run, state):
    shots = {s["state"]: s for s in run.record["shots"]}
    assert state in shots, f"no {state} screenshot; taken: {sorted(shots)}"
    return shots[state]


def rows(shot, panel, kind=None):
    """The rows ``panel`` put in the layout for the frame of ``shot`` (gui.RecordingLayout)."""
    drawn = shot["drawn"]
    assert panel in drawn, f"{panel} was not drawn for {shot['state']}: drew {sorted(drawn)}"
    return [r for r in drawn[panel] if kind is None or r[0] == kind]


def sidebar_colours(target, shot):
    return harness.colour_counts(target, harness.SCREENSHOTS / target.name
                                 / f"{shot['state']}.png", shot["sidebar"])


def test_every_shot_shows_a_filled_form_in_a_scene_without_the_default_cube(run):
    # The jobs came from the form, so the prompt a user typed is in every shot's form (but
    # Pixal3D's, which makes a model from a picture alone).
    for shot in run.record["shots"]:
        prompts = [r for r in rows(shot, "CONJURE_PT_generate", "prop") if r[1] == "prompt"]
        if shot["form"]["service"] == "pixal3d":
            assert not prompts, shot["state"]
            continue
        [prompt] = prompts
        assert prompt[2] and prompt[2] == shot["form"]["prompt"], shot["state"]
    assert "Cube" not in {ob["name"] for ob in run.record["objects"]}, run.record["objects"]


def test_running_shot_shows_the_active_jobs_progress_bar(run, target):
    shot = shot_of(run, "running")
    job = shot["job"]
    assert job["state"] == "running" and job["progress"] >= 0.2, job
    # The job is the active one in the Jobs list, and both its row and its details drew a bar
    # of its progress.
    items = rows(shot, "CONJURE_UL_jobs", "item")
    assert [i[1] for i in items if i[3]] == [job["id"]], items
    bars = [r for r in rows(shot, "CONJURE_PT_jobs", "progress") + rows(
        shot, "CONJURE_UL_jobs", "progress") if r[1] == pytest.approx(job["progress"])]
    assert len(bars) == 2, shot["drawn"]
    # On the picture: the bar's colour (unique to progress bars in this run) fills at least
    # the share done of a bar 5 units wide and a row high, and the idle sidebar has none of
    # it, so the count can fail.
    # Tripo3D says how long it has left: the bar says it in words, and the elapsed time is
    # labelled.
    texts = " ".join(r[2] for r in bars) + " ".join(
        r[1] for r in rows(shot, "CONJURE_PT_jobs", "label"))
    assert " left" in texts and "Running for " in texts, texts
    assert "Text to Model" in [r[1] for r in rows(shot, "CONJURE_UL_jobs", "label")]
    bar_pixels = harness.pixels_near(sidebar_colours(target, shot), PROGRESS_RGB)
    assert bar_pixels > 100 * job["progress"] * 18, f"{bar_pixels} progress bar pixels"
    idle = sidebar_colours(target, shot_of(run, "idle-no-key"))
    assert harness.pixels_near(idle, PROGRESS_RGB) == 0
    # Cancelled after its shot, through the Cancel button of the Jobs panel.
    assert run.record["running"]["state"] == "cancelled", run.record["running"]


def test_finished_shot_shows_the_selected_model_panel(run, target):
    shot = shot_of(run, "finished")
    job = run.record["job"]
    assert shot["active_object"]["job_id"] == job["id"], shot["active_object"]
    labels = [r[1] for r in rows(shot, "CONJURE_PT_selected", "label")]
    assert "Thrixel · Create" in labels and "Imported" in labels, labels
    # The ids wait in the closed Details section.
    assert not [label for label in labels if job["id"] in label], labels
    assert ["panel", "model_details_open", False] in rows(shot, "CONJURE_PT_selected")
    # Scrolled down to the Selected Model panel, the last panel drawn with, for a Thrixel
    # model, the Parts panel inside it.
    panels = [name for name in shot["drawn"] if name.startswith("CONJURE_PT_")]
    assert shot["scrolled_to"] < 0 and panels[-2:] == ["CONJURE_PT_selected",
                                                       "CONJURE_PT_parts"], (
        shot["scrolled_to"], panels)
    assert [i[1] for i in rows(shot, "CONJURE_UL_jobs", "item") if i[3]] == [job["id"]]
    # The model's preview (Thrixel's thumbnail), loaded, not blank, drawn large at the top of
    # the panel.
    preview = shot["preview"]
    assert preview["loaded"] and preview["distinct_values"] > 10, preview
    icons = rows(shot, "CONJURE_PT_selected", "icon")
    assert [i[1] for i in icons] == [preview["icon_id"]] and icons[0][2] >= 8, icons
    # Without the service's picture, the running pump draws one from the model in the scene.
    drawn = run.record["preview_drawn_here"]
    assert drawn["made"] and drawn["png"] and drawn["size"] == [256, 256], drawn
    harness.record_timing(f"{target.name}: a preview drawn by the pump {drawn['seconds']} s "
                          "after it was asked for")


def test_candidates_shot_shows_the_three_pictures_waiting_for_a_pick(run, target):
    shot = shot_of(run, "candidates")
    candidates = run.record["candidates"]
    # Started from the form without a candidate index: it stops at its pictures and nothing
    # was voxelized.
    assert shot["form"]["service"] == "voxelai"
    assert candidates["state"] == "ready" and candidates["children"] == [], candidates
    assert "candidate_index" not in candidates["params"], candidates["params"]
    previews = candidates["previews"]
    assert len(previews) == 3, previews
    for preview in previews:
        assert preview["loaded"] and min(preview["size"]) > 0, preview
        assert preview["distinct_values"] > 10, f"blank preview: {preview}"
    # The panel drew exactly those previews, large, each with its pick button, and is the
    # last panel, at the end the sidebar was scrolled to.
    icons = rows(shot, "CONJURE_PT_candidates", "icon")
    assert [i[1] for i in icons] == [p["icon_id"] for p in previews], icons
    assert all(i[2] >= 8 for i in icons), icons
    buttons = [r[2] for r in rows(shot, "CONJURE_PT_candidates", "operator")
               if r[1] == "conjure.pick_candidate"]
    assert buttons == ["Use 1", "Use 2", "Use 3"], buttons
    panels = [name for name in shot["drawn"] if name.startswith("CONJURE_PT_")]
    assert panels[-1] == "CONJURE_PT_candidates", panels
    # The job's details point to the pick; Import would be refused for pictures.
    jobs = rows(shot, "CONJURE_PT_jobs")
    assert not [r for r in jobs if r[0] == "operator" and r[1] == "conjure.import_result"]
    assert ["label", "Pick one in the Candidates panel"] in [r[:2] for r in jobs], jobs
    # On the picture: the candidates' light background fills most of three 160-pixel
    # previews; no other shot's sidebar has that colour.
    seen = harness.pixels_near(sidebar_colours(target, shot), CANDIDATE_BACKGROUND, 3)
    assert seen > 3 * 5000, f"{seen} pixels of the candidates' background"
    failed = sidebar_colours(target, shot_of(run, "failed"))
    assert harness.pixels_near(failed, CANDIDATE_BACKGROUND, 3) < 100


def test_sidebar_is_on_the_conjure_tab(run):
    shots = run.record["shots"]
    if not any(s["conjure_panels"] for s in shots):
        pytest.skip("issue #6: no sidebar panel declares the 'Conjure' tab yet")
    for shot in shots:
        assert shot["category"] == "Conjure", shot


def test_blank_check_tells_a_blank_region_from_a_drawn_one(run, target, tmp_path_factory):
    # The colour count must be able to fail: a flat grey image, as a black or empty grab
    # would be, stays at or under the limit.
    flat = target.scratch / "flat.png"
    tool = "magick" if target.which("magick") else "convert"
    made = target.run([tool, "-size", "300x600", "xc:#303030", target.path(flat)])
    assert made.returncode == 0, made.stdout
    assert harness.distinct_colours(target, flat) <= harness.MIN_SIDEBAR_COLOURS


def test_parts_shot_shows_the_tree_with_the_viewport_selection_checked(run):
    shot = shot_of(run, "parts")
    assert shot["checked_by_selecting"] == PARTS_FOCUS  # no button was pressed
    assert shot["checked"] == PARTS_FOCUS
    assert sorted(name for name, part in shot["parts"].items() if part["selected"]) == \
        PARTS_FOCUS
    checks = [r for r in rows(shot, "CONJURE_PT_parts", "operator")
              if r[1] == "conjure.check_part"]
    assert [r[2] for r in checks] == ["OrreryBody", "crank", "orbit_ring_inner",
                                      "orbit_ring_middle", "orbit_ring_outer", "pointer_arm"]
    assert sorted(r[2] for r in checks if r[3] == "CHECKBOX_HLT") == PARTS_FOCUS
    labels = " ".join(r[1] for r in rows(shot, "CONJURE_PT_parts", "label"))
    assert "6 parts · 24,874 faces" in labels and "1,168" in labels
    assert "Changes orbit_ring_inner, pointer_arm; holds OrreryBody" in " ".join(labels.split())
    edit = [r for r in rows(shot, "CONJURE_PT_parts", "operator") if r[1] == "conjure.edit"]
    assert [r[2] for r in edit] == ["Edit 2 Parts"]


def test_parts_edited_shot_shows_the_model_changed_in_place(run):
    parts = run.record["parts"]
    assert parts["params"]["focus_on_node_names"] == PARTS_FOCUS
    before, after = parts["before"], parts["after"]
    assert sorted(after) == sorted(before)
    for name, part in after.items():
        # The same objects; only the focused parts got new meshes.
        assert part["pointer"] == before[name]["pointer"], name
        assert part["object"] == before[name]["object"], name
        assert (part["mesh"] != before[name]["mesh"]) == (name in PARTS_FOCUS), name
    assert parts["visible"] == sorted(before)  # one copy shows
    assert len(parts["history"]) == len(before)  # the replaced version, kept hidden
    shot = shot_of(run, "parts-edited")
    assert "Show Version Before This Edit" in [r[2] for r in rows(shot, "CONJURE_PT_parts",
                                                                   "operator")]


def test_no_label_or_button_text_is_cut_at_the_default_sidebar_width(run):
    # Every text Conjure's panels drew in every shot, measured in the UI font against the
    # width the layout gives it (in_blender/fit.py): Blender would shorten it with "…".
    cut = {shot["state"]: shot["cut"] for shot in run.record["shots"] if shot["cut"]}
    assert not cut, "cut at the sidebar's width ([panel, text, needs px, has px]): " + \
        "; ".join(f"{state}: {found}" for state, found in cut.items())
    # The same measure finds a label planted to be one word too long, so it can fail.
    for shot in run.record["shots"]:
        assert shot["planted_cut"], shot["state"]


def test_each_services_filled_form_is_ready_to_send(run):
    for service in ("thrixel", "tripo", "pixal3d", "voxelai"):
        shot = shot_of(run, f"form-{service}")
        assert shot["form"]["service"] == service
        assert shot["problem"] is None, (service, shot["problem"])
        generate = [r for r in rows(shot, "CONJURE_PT_generate", "operator")
                    if r[1] == "conjure.generate"]
        assert len(generate) == 1, shot["drawn"]["CONJURE_PT_generate"]
    # The long prompt is written out in full below its field, on lines that fit.
    shot = shot_of(run, "form-thrixel")
    words = " ".join(label[1] for label in rows(shot, "CONJURE_PT_generate", "label"))
    assert shot["form"]["prompt"] in " ".join(words.split())


# -- the asset library ---------------------------------------------------------------------

LIBRARY_KEY = "sk-thrixel-app-library"
#: Thrixel fixtures the library scenario generates (two, so the browser shows two previews).
LIBRARY_MODELS = ("delivery-cart-grouped", "orrery")


@pytest.fixture(scope="session")
def library_run(target, display, sandbox, installed):
    sandbox.add_key("thrixel", LIBRARY_KEY)
    user = harness.UserFolder(target, target.scratch / "gui-library", template=installed.user)
    run = user.gui(display, "library", {
        "scenario": "library",
        "library_tasks": [prompt_for(sandbox, stem) for stem in LIBRARY_MODELS],
        "prefs": {"thrixel_url": sandbox.service_url("thrixel")},
        "keys": {"library": LIBRARY_KEY},
    })
    harness.record_timing(f"{target.name}: GUI library run {run.seconds:.1f} s "
                          f"(Blender exit {run.returncode})")
    harness.publish(target, run.record.get("shots", []), user.base / "shots")
    assert run.returncode == 0 and run.record and not run.record.get("error"), run.explain()
    return run


def test_library_shot_shows_the_conjure_library_with_previews(library_run, target):
    record = library_run.record
    library = record["library"]
    assert ["Conjure", library["folder"]] in [list(entry) for entry in library["registered"]]
    assert "Conjure/Thrixel:Conjure-Thrixel" in library["catalogs"]
    shot = shot_of(library_run, "asset-browser")
    browser = shot["asset_browser"]
    assert browser and browser["library"] == "Conjure", browser
    _x, _y, width, height = browser["rect"]
    assert width > 300 and height > 150, browser
    # Two previews of clay models on the browser's flat ground: many shades there.
    png = harness.SCREENSHOTS / target.name / "asset-browser.png"
    colours = harness.distinct_colours(target, png, browser["rect"])
    assert colours > 60, f"{png}: the Asset Browser has {colours} colours"
    # The job whose button was pressed is the Jobs panel's active one, with the button.
    shows = [r for r in rows(shot, "CONJURE_PT_jobs", "operator")
             if r[1] == "conjure.show_in_asset_browser"]
    assert shows, rows(shot, "CONJURE_PT_jobs", "operator")


def test_dropped_asset_is_a_model_with_lineage_and_follow_ups(library_run):
    record = library_run.record
    job_id = record["library"]["jobs"][-1]
    ours = [ob for ob in record["objects"] if ob["props"].get("conjure_job_id") == job_id]
    assert ours and len(ours) == len(record["objects"]), record["objects"]
    assert {c for ob in ours for c in ob["collections"]} == {record["dropped"]["collection"]}
    for ob in ours:
        assert ob["props"]["conjure_provider"] == "thrixel"
        assert ob["props"]["conjure_remote_id"] and ob["props"]["conjure_node_name"]
    shot = shot_of(library_run, "asset-dropped")
    assert shot["active_object"]["job_id"] == job_id
    follow_ups = [r for r in rows(shot, "CONJURE_PT_selected", "operator")
                  if r[1] == "conjure.follow_up"]
    assert follow_ups, rows(shot, "CONJURE_PT_selected", "operator")
