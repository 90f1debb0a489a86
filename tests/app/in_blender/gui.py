"""Runs inside the Blender application, in a window under Xvfb, started by ``tests/app``.

    blender --python gui.py        with CONJURE_APP_CONFIG=<config.json>

Drives one scenario the way a user's session would unfold: everything happens from
``bpy.app.timers`` callbacks while Blender's event loop runs, so the extension's own modal pump
(armed by Conjure at start-up) is what moves jobs along — this script never calls
``engine.tick()``. It records what it saw in the config's ``result`` file (JSON), grabs the X
screen for screenshots, and quits; the test on the host asserts on the record.

Config keys: ``scenario`` (a name in SCENARIOS), ``result``, ``shots`` (folder), ``prefs``
(Conjure preference values to set), ``save_prefs``, ``task``, ``keys`` (name → Thrixel key),
``job_id`` (restart), ``hold`` (stay open after recording, to be killed).

Runs on the distribution's Python (3.13 in Debian 13) and Blender 4.3 to 5.2: bpy and the
standard library only.
"""

import importlib
import json
import os
import subprocess
import sys
import time
import traceback

import bpy

EXTENSION = "bl_ext.user_default.conjure"
CONFIG = json.loads(open(os.environ["CONJURE_APP_CONFIG"], encoding="utf-8").read())
T0 = time.monotonic()
RECORD = {"scenario": CONFIG["scenario"], "blender": bpy.app.version_string, "shots": [],
          "log": [], "pid": os.getpid()}

# Before the first frame: the splash would cover the viewport in every screenshot.
bpy.context.preferences.view.show_splash = False


def log(text):
    line = f"[conjure-app {time.monotonic() - T0:6.2f}s] {text}"
    RECORD["log"].append(line)
    print(line, flush=True)


def write_record():
    path = CONFIG["result"]
    with open(path + ".part", "w", encoding="utf-8") as f:
        json.dump(RECORD, f, indent=1, default=str)
    os.replace(path + ".part", path)


def module(name):
    return importlib.import_module(f"{EXTENSION}.{name}")


# -- the window ------------------------------------------------------------------------------

def view3d():
    window = bpy.context.window_manager.windows[0]
    area = next(a for a in window.screen.areas if a.type == "VIEW_3D")
    regions = {r.type: r for r in area.regions}
    return window, area, regions


def conjure_panels():
    """Registered sidebar panels on the "Conjure" tab of the 3D viewport."""
    return sorted(cls.__name__ for cls in bpy.types.Panel.__subclasses__()
                  if getattr(cls, "bl_category", "") == "Conjure"
                  and getattr(cls, "bl_space_type", "") == "VIEW_3D"
                  and getattr(cls, "bl_region_type", "") == "UI" and cls.is_registered)


def open_sidebar():
    """Open the viewport's sidebar on the "Conjure" tab, as a user would with N and a click."""
    _window, area, regions = view3d()
    area.spaces.active.show_region_ui = True
    area.tag_redraw()
    # The tab list exists once the opened sidebar has been drawn; before that it is read-only.
    yield 0.5
    try:
        regions["UI"].active_panel_category = "Conjure"
    except (AttributeError, TypeError, ValueError) as exc:  # no panel declares the tab yet
        log(f"sidebar tab not selectable: {exc}")
    area.tag_redraw()
    yield 0.5


def shot(state):
    """Grab the X screen to ``<shots>/<state>.png`` and note where the sidebar is on it."""
    window, area, regions = view3d()
    with bpy.context.temp_override(window=window, area=area, region=regions["WINDOW"]):
        bpy.ops.wm.redraw_timer(type="DRAW_WIN_SWAP", iterations=1)
    path = os.path.join(CONFIG["shots"], f"{state}.png")
    # Blender's own screen.screenshot writes black images under Xvfb with OpenGL; the X server's
    # copy of the window is what a user sees.
    grab = subprocess.run(["import", "-window", "root", path], capture_output=True, text=True,
                          timeout=30)
    ui = regions["UI"]
    # Region coordinates count from the window's bottom left; the window fills the X screen
    # from its top left (--window-geometry), so X's y is measured from the window's top.
    RECORD["shots"].append({
        "state": state, "path": path, "grab_rc": grab.returncode, "grab_err": grab.stderr,
        "window": [window.x, window.y, window.width, window.height],
        "sidebar": [ui.x - window.x, window.height - (ui.y - window.y) - ui.height,
                    ui.width, ui.height],
        "category": getattr(ui, "active_panel_category", ""),
        "conjure_panels": conjure_panels(),
    })
    log(f"screenshot {state}: {path} (import rc {grab.returncode})")


# -- waiting inside the event loop -----------------------------------------------------------

def wait_for(condition, what, timeout):
    """Yield to Blender's event loop until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        yield 0.1
    log(f"{what}: yes")


def pump_ticks():
    running = module("engine").running()
    return running.stats.ticks if running is not None else 0


def wait_for_pump():
    pump = module("operators.pump")
    yield from wait_for(lambda: pump.pump_alive() and pump_ticks() > 0,
                        "the modal pump armed by Conjure ticks", 60)


def mirrored(job_id):
    """The job as the pump mirrored it onto the WindowManager (None before its first tick)."""
    for item in bpy.context.window_manager.conjure.jobs:
        if item.job_id == job_id:
            return item
    return None


def wait_for_state(job_id, states, timeout):
    def reached():
        item = mirrored(job_id)
        return item is not None and item.state in states
    yield from wait_for(reached, f"job {job_id} shows {'/'.join(states)} in the sidebar mirror",
                        timeout)


def set_prefs(values):
    prefs = bpy.context.preferences.addons[EXTENSION].preferences
    for name, value in values.items():
        setattr(prefs, name, value)
    bpy.context.preferences.system.use_online_access = True
    if CONFIG.get("save_prefs"):
        bpy.ops.wm.save_userpref()


def submit(key_name):
    """Press Generate: the operator's interactive path in the sidebar's context, which queues
    the job and returns at once; the pump is left to bring the result in."""
    set_prefs({"thrixel_key": CONFIG["keys"][key_name]})
    engine = module("engine")
    before = {j.id for j in engine.get().journal.jobs(limit=500)}
    window, area, regions = view3d()
    with bpy.context.temp_override(window=window, area=area, region=regions["UI"]):
        result = bpy.ops.conjure.generate("INVOKE_DEFAULT", provider="THRIXEL",
                                          prompt=CONFIG["task"])
    if result != {"FINISHED"}:
        raise RuntimeError(f"conjure.generate returned {result}")
    [job] = [j for j in engine.get().journal.jobs(limit=500) if j.id not in before]
    log(f"Generate pressed: job {job.id} with the {key_name} key")
    return job


def select_in_job_list(job_id):
    """Click the job in the sidebar's Jobs list, so its details (and message) are shown."""
    runtime = bpy.context.window_manager.conjure
    for index, item in enumerate(runtime.jobs):
        if item.job_id == job_id:
            runtime.active_index = index
    view3d()[1].tag_redraw()


def import_when_ready(job_id, timeout):
    """Wait until the pump has imported the job. Conjure's pump imports what the Generate
    button started and what resumed after a restart; should a job stop at "ready" instead,
    the script imports it and the record says so, for the test to judge."""
    yield from wait_for_state(job_id, ("ready", "imported"), timeout)
    deadline = time.monotonic() + 5  # the pump imports on one of its next ticks
    while mirrored(job_id).state == "ready" and time.monotonic() < deadline:
        yield 0.1
    engine = module("engine")
    job = engine.running().journal.require(job_id)
    by = "conjure"
    if str(job.state) == "ready":
        module("importers.scene").import_result(
            bpy.context, provider=job.provider, job_id=job.id, remote_id=job.remote_id or "",
            paths=engine.result_paths(job), name=f"Conjure {job.id}")
        engine.mark_imported(job)
        by = "script"
    yield from wait_for_state(job_id, ("imported",), 10)
    imported = [ob for ob in bpy.data.objects if ob.get("conjure_job_id") == job_id]
    RECORD["job"] = {"id": job.id, "remote_id": job.remote_id, "imported": len(imported),
                     "imported_by": by}
    log(f"job {job_id}: {len(imported)} objects imported by the {by}")


def describe_scene():
    RECORD["objects"] = [
        {"name": ob.name, "type": ob.type,
         "collections": [c.name for c in ob.users_collection],
         "props": {k: ob[k] for k in ob.keys() if k.startswith("conjure_")}}
        for ob in bpy.data.objects]
    RECORD["scene_collections"] = [c.name for c in bpy.context.scene.collection.children]


def describe_pump():
    pump = module("operators.pump")
    window = bpy.context.window_manager.windows[0]
    RECORD["pump"] = {
        "alive": pump.pump_alive(), "ticks": pump_ticks(),
        "longest_tick_ms": module("engine").running().stats.longest_s * 1000,
        # Window.modal_operators exists from Blender 4.2; it shows the pump really is modal.
        "modal_operators": [op.bl_idname for op in getattr(window, "modal_operators", [])],
    }


def journal_jobs():
    return [{"id": j.id, "state": str(j.state), "remote_id": j.remote_id}
            for j in module("engine").running().journal.jobs(limit=50)]


# -- scenarios ---------------------------------------------------------------------------------

def scenario_generate():
    """Idle without a key, a job running, imported, and a failed job: one screenshot each."""
    yield from wait_for_pump()
    set_prefs(CONFIG["prefs"])
    yield from open_sidebar()
    shot("idle-no-key")

    job = submit("slow")
    yield from wait_for_state(job.id, ("queued", "running"), 30)
    RECORD["ticks_at_submit"] = pump_ticks()
    select_in_job_list(job.id)
    yield 0.5
    shot("running")
    yield from import_when_ready(job.id, 90)
    RECORD["ticks_at_ready"] = pump_ticks()
    yield 0.5
    shot("finished")

    failing = submit("failing")
    yield from wait_for_state(failing.id, ("failed",), 60)
    RECORD["failed"] = {"id": failing.id, "message": mirrored(failing.id).message}
    select_in_job_list(failing.id)
    yield 0.5
    shot("failed")
    describe_scene()
    describe_pump()


def scenario_restart_submit():
    """Submit with saved preferences, then wait to be killed once the service has the job."""
    yield from wait_for_pump()
    set_prefs(CONFIG["prefs"])
    job = submit("restart")
    yield from wait_for(lambda: bool(getattr(mirrored(job.id), "remote_id", "")),
                        "the service's id is in the journal", 30)
    RECORD["job"] = {"id": job.id, "remote_id": mirrored(job.id).remote_id,
                     "state": mirrored(job.id).state}
    RECORD["journal"] = journal_jobs()


def scenario_restart_resume():
    """After the kill: the journal's unfinished job resumes by itself and is imported."""
    yield from wait_for_pump()
    yield from import_when_ready(CONFIG["job_id"], CONFIG.get("resume_timeout", 90))
    RECORD["journal"] = journal_jobs()
    describe_scene()
    describe_pump()


SCENARIOS = {
    "generate": scenario_generate,
    "restart-submit": scenario_restart_submit,
    "restart-resume": scenario_restart_resume,
}


# -- driving ---------------------------------------------------------------------------------

def finish(error):
    RECORD["error"] = error
    RECORD["seconds"] = round(time.monotonic() - T0, 2)
    write_record()
    log("RESULT " + ("error" if error else "ok"))
    if CONFIG.get("hold") and not error:
        return  # the test kills this Blender now
    if error:
        sys.stdout.flush()
        os._exit(3)  # quit_blender would exit 0
    window = bpy.context.window_manager.windows[0]
    with bpy.context.temp_override(window=window):
        bpy.ops.wm.quit_blender()


def drive(steps):
    def step():
        try:
            return next(steps)
        except StopIteration:
            finish(None)
        except Exception:
            finish(traceback.format_exc())
        return None
    bpy.app.timers.register(step, first_interval=0.1)


log(f"Blender {bpy.app.version_string}, scenario {CONFIG['scenario']}")
drive(SCENARIOS[CONFIG["scenario"]]())
