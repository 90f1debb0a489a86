"""The interactive path in a real Blender window under Xvfb: the modal pump Conjure arms at
start-up moves a job from the GUI session to the scene, and the sidebar is photographed in
each state a user meets.

One GUI run (``in_blender/gui.py``, scenario ``generate``) per target feeds every test here.
"""

import pytest
from app import harness

SLOW_KEY = "sk-thrixel-app-slow"
FAILING_KEY = "sk-thrixel-app-failing"

#: Sidebar states the screenshots cover. Each new panel adds its states here and in
#: ``scenario_generate``; a state the scenario does not produce yet says what it needs.
STATES = {
    "idle-no-key": None,
    "running": None,
    "finished": None,
    "failed": None,
    "candidates": ("issue #7, not scripted yet: a Voxel-AI job started from the sidebar "
                   "without a candidate, waiting in the Candidates panel for a pick"),
}


@pytest.fixture(scope="session")
def generate_run(target, display, sandbox, installed, tmp_path_factory):
    # A queue delay keeps the job visibly running for a few seconds of pump ticks.
    sandbox.add_key("thrixel", SLOW_KEY, faults="cold_start=3")
    sandbox.add_key("thrixel", FAILING_KEY, faults="fail")
    user = harness.UserFolder(target, target.scratch / "gui-generate", template=installed.user)
    run = user.gui(display, "generate", {
        "scenario": "generate",
        "task": "a weathered bronze lantern",
        "prefs": {"thrixel_url": sandbox.service_url("thrixel"), "thrixel_key": ""},
        "keys": {"slow": SLOW_KEY, "failing": FAILING_KEY},
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
    assert not [ob for ob in run.record["objects"]
                if ob["props"].get("conjure_job_id") == failed["id"]]


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
