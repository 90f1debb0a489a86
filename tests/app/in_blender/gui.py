"""Runs inside the Blender application, in a window under Xvfb, started by ``tests/app``.

    blender --python gui.py        with CONJURE_APP_CONFIG=<config.json>

Drives one scenario the way a user's session would unfold: everything happens from
``bpy.app.timers`` callbacks while Blender's event loop runs, so the extension's own modal pump
(armed by Conjure at start-up) is what moves jobs along — this script never calls
``session.tick()``. It records what it saw in the config's ``result`` file (JSON), grabs the X
screen for screenshots, and quits; the test on the host asserts on the record.

Config keys: ``scenario`` (a name in SCENARIOS), ``result``, ``shots`` (folder), ``prefs``
(Conjure preference values to set), ``save_prefs``, ``task``, ``keys`` (name → Thrixel key),
``job_id`` and ``blend`` (restart: the file saved before submitting), ``hold`` (stay open
after recording, to be killed), and for the ``generate`` scenario ``running_task`` and
``candidates_task`` (prompts of the Tripo3D and Voxel-AI jobs), ``progress_colour`` (hex
colour the progress bar is drawn in) and ``running_progress`` (the share done before the
running job is photographed), ``parts_task`` and ``parts_focus`` (a Thrixel model with parts and
the parts to select, check and edit in place).

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fit

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


def redraw():
    window, area, regions = view3d()
    with bpy.context.temp_override(window=window, area=area, region=regions["WINDOW"]):
        bpy.ops.wm.redraw_timer(type="DRAW_WIN_SWAP", iterations=1)


def scroll_sidebar(to, pages=40):
    """Scroll the sidebar towards its "top" or "end" a page at a time, as a user would with the
    wheel, until it stops moving or ``pages`` were turned; returns the view's top edge (0: not
    scrolled)."""
    window, area, regions = view3d()
    ui = regions["UI"]
    redraw()  # the region's extent is only known once the panels it now has were laid out
    scroll = bpy.ops.view2d.scroll_down if to == "end" else bpy.ops.view2d.scroll_up
    top = ui.view2d.region_to_view(0, ui.height - 1)[1]
    with bpy.context.temp_override(window=window, area=area, region=ui):
        for _ in range(pages):
            scroll(page=True)
            now = ui.view2d.region_to_view(0, ui.height - 1)[1]
            if now == top:
                break
            top = now
    return top


# -- what the panels drew ----------------------------------------------------------------------

#: Panel (or list) class name → the rows its last draw() put in the layout.
DRAWN = {}
#: Panel class name (or list name and row index) → the layout its last draw() built, as a
#: tree of nodes (see ``fit``): what the cut-text check measures.
TREES = {}
_CONTAINERS = ("row", "column", "box", "split", "grid_flow", "column_flow")


def _describe(name, args, kwargs):
    if name == "label":
        return ["label", kwargs.get("text", ""), label_px(kwargs.get("text", ""))]
    if name == "prop":
        data, prop = [*args, None, None][:2]
        value = getattr(data, prop, None) if data is not None and prop else None
        return ["prop", prop, value if isinstance(value, (str, int, float, bool)) else None]
    if name == "operator":
        return ["operator", args[0] if args else kwargs.get("operator"), kwargs.get("text"),
                kwargs.get("icon")]
    if name == "progress":
        return ["progress", kwargs.get("factor"), kwargs.get("text", "")]
    if name == "template_icon":
        return ["icon", kwargs.get("icon_value"), kwargs.get("scale")]
    if name == "template_list":
        return ["list", args[0] if args else kwargs.get("listtype_name")]
    return [name]


def label_px(text):
    """The width of a label's text in the UI font at the UI's size, in pixels."""
    import blf

    prefs = bpy.context.preferences
    blf.size(0, prefs.ui_styles[0].widget.points * (prefs.system.ui_scale or 1.0))
    return round(blf.dimensions(0, text)[0]) if text else 0


class RecordingLayout:
    """Passes every call on to Blender's UILayout (so the sidebar is drawn as usual) and notes
    the labels, properties, buttons, bars and icons that went in: the screenshot shows the
    pixels, this says what they are. ``node`` is this layout in the tree ``fit`` measures."""

    def __init__(self, layout, rows, node=None):
        object.__setattr__(self, "_layout", layout)
        object.__setattr__(self, "_rows", rows)
        object.__setattr__(self, "_node", node if node is not None else fit.container("column"))

    def __getattr__(self, name):
        attr = getattr(self._layout, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            result = attr(*args, **kwargs)
            if name in _CONTAINERS:
                child = fit.container(name, **kwargs)
                self._node["children"].append(child)
                return RecordingLayout(result, self._rows, child)
            if name in ("panel", "panel_prop"):  # a fold: (header, body), the body None while
                header, body = result               # it is closed
                if name == "panel_prop":  # its open state is a property: noted by its name
                    self._rows.append(["panel", args[1] if len(args) > 1 else "",
                                       body is not None])
                nodes = [fit.container("row"), fit.container("column")]
                self._node["children"].append(fit.container("fold", children=nodes))
                return (RecordingLayout(header, self._rows, nodes[0]),
                        RecordingLayout(body, self._rows, nodes[1]) if body else None)
            self._rows.append(_describe(name, args, kwargs))
            self._node["children"].append(fit.item(name, args, kwargs))
            return result
        return call

    def __setattr__(self, name, value):  # scale_y, enabled, ui_units_x, ...
        setattr(self._layout, name, value)
        if name == "use_property_split":
            self._node["split"] = bool(value)
        elif name == "ui_units_x":
            self._node["units_x"] = float(value)


class _RecordingPanel:
    """Stands in for the panel instance in draw(): ``self.layout`` records, the rest is the
    panel's own."""

    def __init__(self, panel, layout):
        self._panel = panel
        self.layout = layout

    def __getattr__(self, name):
        return getattr(self._panel, name)


def _recording_draw(name, original):
    # Blender sizes the arguments it passes by the function's positional parameters, so the
    # wrappers take exactly the method's own (extra ones, even with defaults, crash it).
    def draw(self, context):
        rows = DRAWN[name] = []
        tree = TREES[name] = fit.container("column")
        original(_RecordingPanel(self, RecordingLayout(self.layout, rows, tree)), context)
    return draw


def _recording_draw_item(name, original):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname,
                  index):
        # Blender draws a list's rows several times per frame, not only inside the panel's
        # draw(): keep each row's latest drawing, by its index in the collection.
        rows = DRAWN.setdefault(name, {})[index] = [
            ["item", item.job_id, item.state, index == getattr(active_data, active_propname)]]
        tree = TREES[f"{name}[{index}]"] = fit.container("row")
        original(self, context, RecordingLayout(layout, rows, tree), data, item, icon,
                 active_data, active_propname, index)
    return draw_item


def record_drawing():
    """Wrap the Conjure panels' draw() (and the job list's draw_item) so each draw is noted in
    DRAWN. Blender looks the method up on the class at every redraw, so the wrapper is what
    runs; a collapsed or hidden panel is not drawn and so not noted."""
    for cls in bpy.types.Panel.__subclasses__():
        if cls.__name__.startswith("CONJURE_PT_"):
            cls.draw = _recording_draw(cls.__name__, cls.draw)
    for cls in bpy.types.UIList.__subclasses__():
        if cls.__name__.startswith("CONJURE_UL_"):
            cls.draw_item = _recording_draw_item(cls.__name__, cls.draw_item)


def shot(state, **extra):
    """Grab the X screen to ``<shots>/<state>.png`` and note where the sidebar is on it, which
    panels drew what for this very frame, and ``extra`` facts about the state."""
    window, _area, regions = view3d()
    DRAWN.clear()
    TREES.clear()
    redraw()
    drawn = {name: rows if isinstance(rows, list) else
             [row for _, item in sorted(rows.items()) for row in item]
             for name, rows in DRAWN.items()}
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
        "drawn": drawn,
        # Text Blender had to shorten ("…") in this frame's Conjure panels, measured.
        "cut": fit.cuts(TREES, ui.width),
        "planted_cut": fit.planted(ui.width),
        "view_top": ui.view2d.region_to_view(0, ui.height - 1)[1],
        "active_object": describe_active(),
        "form": {"service": bpy.context.scene.conjure.service,
                 "prompt": bpy.context.scene.conjure.prompt},
        **extra,
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
    running = module("blender.session").running()
    return running.stats.ticks if running is not None else 0


def wait_for_pump():
    session = module("blender.session")
    yield from wait_for(lambda: session.pump.alive and pump_ticks() > 0,
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


def fill_form(service, mode, prompt):
    """Type into the Generate panel: pick the service and its mode, then write the prompt."""
    form = bpy.context.scene.conjure
    form.service = service
    setattr(form, f"mode_{service}", mode)
    form.prompt = prompt
    # Typing redraws the sidebar; setting properties from Python does not.
    view3d()[1].tag_redraw()


def press_generate(what):
    """Press the Generate panel's button: ``conjure.generate`` with the properties
    ``panels.generate.draw_submit`` gives the button (service, mode, ``from_panel``), invoked in the
    sidebar's context. The operator reads the form, queues the job and returns at once; the
    pump is left to bring the result in. A button the panel would grey out is not pressed."""
    forms = module("blender.forms")
    service_id, mode = forms.selected(bpy.context)
    problem = forms.problem(bpy.context, service_id, mode)
    if problem:
        raise RuntimeError(f"the Generate button is disabled: {problem}")
    session = module("blender.session")
    before = {j.id for j in session.get().journal.jobs(limit=500)}
    window, area, regions = view3d()
    op_id = module("providers.services").BY_ID[service_id].public_name
    with bpy.context.temp_override(window=window, area=area, region=regions["UI"]):
        result = bpy.ops.conjure.generate("INVOKE_DEFAULT", provider=op_id, mode=mode,
                                          from_panel=True)
    if result != {"FINISHED"}:
        raise RuntimeError(f"conjure.generate returned {result}")
    [job] = [j for j in session.get().journal.jobs(limit=500) if j.id not in before]
    log(f"Generate pressed: {service_id} {mode} job {job.id} ({what})")
    return job


def submit(key_name):
    """A Thrixel job of the config's task with one of the config's keys, from the form."""
    set_prefs({"thrixel_key": CONFIG["keys"][key_name]})
    fill_form("thrixel", "create", CONFIG["task"])
    return press_generate(f"the {key_name} key")


def describe_active():
    ob = bpy.context.view_layer.objects.active
    if ob is None:
        return None
    return {"name": ob.name, "job_id": str(ob.get("conjure_job_id", ""))}


def delete_default_cube():
    """A user's first step in a new scene: the startup file's cube goes before anything is
    imported, so the model is not drawn inside it."""
    cube = bpy.data.objects.get("Cube")
    if cube is not None:
        bpy.data.objects.remove(cube)
        log("default cube deleted")


def set_progress_colour(hex_colour):
    """Draw progress bars in ``hex_colour``. The default theme fills bars with the same blue
    as the selected row of a list, so the job's own row would pass for a bar; a colour one
    step from that blue looks the same to a person and can only come from a progress bar."""
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    theme = bpy.context.preferences.themes[0].user_interface.wcol_progress
    theme.item = (*rgb, theme.item[3])


def loaded_preview(path):
    """A picture as Blender holds it in Conjure's preview collection: whether it is loaded (has
    a size), its icon id, and whether it is blank (how many pixel values differ)."""
    collection = module("blender.previews")._collection  # the one bpy.utils.previews set
    key = f"{path}:{path.stat().st_mtime_ns}"
    preview = collection.get(key) if collection is not None else None
    if preview is None:
        return {"file": path.name, "loaded": False}
    width, height = preview.image_size
    pixels = list(preview.image_pixels_float) if width and height else []
    # A sample of pixel values (RGBA floats, every 97th) is enough to tell an image from a
    # flat fill.
    sample = {round(v, 3) for v in pixels[::97]}
    return {"file": path.name, "loaded": bool(width and height), "icon_id": preview.icon_id,
            "size": [width, height], "distinct_values": len(sample)}


def candidate_previews(job_id):
    """The Candidates panel's previews of the job's pictures (``loaded_preview``)."""
    return [loaded_preview(path) for path in module("panels.candidates").candidate_files(job_id)]


def job_preview(job_id):
    """Wait until the job has its preview picture and the sidebar has loaded it (Blender
    loads a preview's picture after the first draw asks for it); then what it holds."""
    session = module("blender.session")
    job = session.running().journal.require(job_id)
    path = module("jobs.results").preview_path(session.running().root, job.service, job.id)
    deadline = time.monotonic() + 10
    while not (path.is_file() and loaded_preview(path).get("loaded")) \
            and time.monotonic() < deadline:
        redraw()
        yield 0.2
    return loaded_preview(path) if path.is_file() else {"file": path.name, "loaded": False}


def preview_drawn_here(job_id):
    """Have the pump draw the job's preview from its objects in the scene, as for a service
    with no picture of its own: the service's is removed and a new one asked for."""
    session = module("blender.session")
    job = session.running().journal.require(job_id)
    path = module("jobs.results").preview_path(session.running().root, job.service, job.id)
    path.unlink()
    session.want_preview(job_id)
    started = time.monotonic()
    while not path.is_file() and time.monotonic() - started < 30:
        yield 0.1
    made = path.is_file()
    head = path.read_bytes()[:24] if made else b""
    return {"made": made, "seconds": round(time.monotonic() - started, 2),
            "png": head[:8] == b"\x89PNG\r\n\x1a\n",
            "size": [int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")]}


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
    session = module("blender.session")
    job = session.running().journal.require(job_id)
    by = "conjure"
    if str(job.state) == "ready":
        module("blender.scene_import").import_result(
            bpy.context, service=job.service, job_id=job.id, remote_id=job.remote_id or "",
            paths=session.result_paths(job), name=f"Conjure {job.id}")
        session.mark_imported(job)
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
    session = module("blender.session")
    window = bpy.context.window_manager.windows[0]
    RECORD["pump"] = {
        "alive": session.pump.alive, "ticks": pump_ticks(),
        "longest_tick_ms": module("blender.session").running().stats.longest_s * 1000,
        # Window.modal_operators exists from Blender 4.2; it shows the pump really is modal.
        "modal_operators": [op.bl_idname for op in getattr(window, "modal_operators", [])],
    }


def journal_jobs(parent=None):
    return [{"id": j.id, "state": str(j.state), "remote_id": j.remote_id,
             "parent_id": j.parent_id}
            for j in module("blender.session").running().journal.jobs(limit=50)
            if parent is None or j.parent_id == parent]


# -- scenarios ---------------------------------------------------------------------------------

def wait_for_progress(job_id, share, timeout):
    def reached():
        item = mirrored(job_id)
        return item is not None and item.state == "running" and item.progress >= share
    yield from wait_for(reached, f"job {job_id} runs with {share:.0%} done or more", timeout)


def cancel(job_id):
    """Press the job's Cancel button in the Jobs panel."""
    window, area, regions = view3d()
    with bpy.context.temp_override(window=window, area=area, region=regions["UI"]):
        bpy.ops.conjure.cancel_job("INVOKE_DEFAULT", job_id=job_id)


#: The form of each service as an artist fills it before pressing Generate: the service,
#: its mode, the prompt (long enough to wrap below its field) and, where the mode takes
#: one, a picture captured from the viewport with the form's own Viewport button.
FORMS = (
    ("thrixel", "create", "a weathered bronze lantern with a cracked glass pane and a ring "
                          "handle on top", False),
    ("tripo", "text_to_model", "a ceramic teapot with a bamboo handle", False),
    ("pixal3d", "image_to_3d", "", True),
    ("voxelai", "candidates", "a small voxel fox", False),
)


def capture_picture():
    """Press the picture box's Viewport button, in the sidebar's context."""
    window, area, regions = view3d()
    with bpy.context.temp_override(window=window, area=area, region=regions["UI"]):
        result = bpy.ops.conjure.capture_viewport(target="shared:image")
    if result != {"FINISHED"}:
        raise RuntimeError(f"conjure.capture_viewport returned {result}")


def filled_forms():
    """Each service's form filled in, with its key set, photographed before Generate."""
    set_prefs(CONFIG["form_prefs"])
    for service, mode, prompt, picture in FORMS:
        fill_form(service, mode, prompt or CONFIG["task"])
        if picture:
            capture_picture()
        # The panels below slide to the form's new size over a few frames.
        for _ in range(3):
            redraw()
            yield 0.4
        shot(f"form-{service}", problem=module("blender.forms").problem(bpy.context, service,
                                                                         mode))
    bpy.context.scene.conjure.image = None
    set_prefs({"thrixel_key": ""})


def scenario_generate():
    """The sidebar in each state a user meets, one screenshot each: idle without a key, a
    Tripo3D job running with its progress bar and time left, a Thrixel job finished and
    imported with the Selected Model panel, a failed job with its message and Retry, then with
    its Details open, and Voxel-AI's candidate pictures waiting for a pick."""
    yield from wait_for_pump()
    record_drawing()
    set_progress_colour(CONFIG["progress_colour"])
    set_prefs(CONFIG["prefs"])
    delete_default_cube()
    yield from open_sidebar()
    fill_form("thrixel", "create", CONFIG["task"])
    # Blender slides the panels below to the form's new size over a few frames.
    yield 0.6
    shot("idle-no-key")
    yield from filled_forms()

    # Tripo3D reports how far a job is; its sandbox runs at the services' real pace, so the
    # job is still running when the shot is taken.
    fill_form("tripo", "text_to_model", CONFIG["running_task"])
    running = press_generate("Tripo3D, progress reported")
    yield from wait_for_progress(running.id, CONFIG["running_progress"], 60)
    select_in_job_list(running.id)
    yield 0.3
    item = mirrored(running.id)
    shot("running", job={"id": running.id, "state": item.state, "progress": item.progress})
    # Stop it rather than wait half a minute: its result would arrive in a later shot.
    cancel(running.id)
    yield from wait_for_state(running.id, ("cancelled",), 30)

    job = submit("slow")
    yield from wait_for_state(job.id, ("queued", "running"), 30)
    RECORD["ticks_at_submit"] = pump_ticks()
    yield from import_when_ready(job.id, 90)
    RECORD["ticks_at_ready"] = pump_ticks()
    select_in_job_list(job.id)
    preview = yield from job_preview(job.id)
    # The Selected Model panel comes after Generate and Jobs, its Parts sub-panel filling the
    # sidebar's end: scroll down as a user would, then a page up to the panel's top, with the
    # model's picture.
    scroll_sidebar("end")
    top = scroll_sidebar("top", pages=1)
    yield 0.5
    shot("finished", scrolled_to=top, preview=preview)
    RECORD["preview_drawn_here"] = yield from preview_drawn_here(job.id)

    failing = submit("failing")
    yield from wait_for_state(failing.id, ("failed",), 60)
    item = mirrored(failing.id)
    RECORD["failed"] = {"id": failing.id, "message": item.message, "remote_id": item.remote_id,
                        "said": module("workflow.status").plain_message(item.message)}
    select_in_job_list(failing.id)
    top = scroll_sidebar("top")
    yield 0.5
    shot("failed", scrolled_to=top)
    # Its Details opened, as a user asking for the ids to report it would, with nothing
    # selected (so the Jobs panel is the sidebar's last) and scrolled down to them.
    runtime = bpy.context.window_manager.conjure
    runtime.job_details_open = True
    view_layer = bpy.context.view_layer
    active = view_layer.objects.active
    view_layer.objects.active = None
    yield 0.3
    top = scroll_sidebar("end")
    yield 0.5
    shot("details-open", scrolled_to=top)
    runtime.job_details_open = False
    view_layer.objects.active = active

    # Voxel-AI's candidate pictures, started without a candidate index: the job stops at its
    # three pictures and the Candidates panel offers them for a pick.
    fill_form("voxelai", "candidates", CONFIG["candidates_task"])
    pictures = press_generate("Voxel-AI candidates, no index")
    yield from wait_for_state(pictures.id, ("ready",), 60)
    select_in_job_list(pictures.id)
    # Blender loads a preview's picture after the first draw asks for it; give it a few
    # frames, then scroll down to the Candidates panel, the sidebar's last.
    for _ in range(5):
        redraw()
        yield 0.2
    top = scroll_sidebar("end")
    yield 0.5
    shot("candidates", scrolled_to=top)
    session = module("blender.session")
    RECORD["candidates"] = {
        "id": pictures.id, "state": mirrored(pictures.id).state,
        "params": session.running().journal.require(pictures.id).params,
        "previews": candidate_previews(pictures.id),
        "children": [j["id"] for j in journal_jobs(parent=pictures.id)],
    }
    RECORD["running"] = {"id": running.id, "state": mirrored(running.id).state}
    if CONFIG.get("parts_task"):
        yield from parts_steps()
    describe_scene()
    describe_pump()


def model_parts(job_id):
    """The model's objects by part name: object and mesh names, and whether they show."""
    return {ob["conjure_node_name"]: {"object": ob.name, "pointer": ob.as_pointer(),
                                      "mesh": ob.data.name if ob.data else "",
                                      "visible": ob.visible_get(),
                                      "selected": ob.select_get()}
            for ob in bpy.context.view_layer.objects
            if ob.get("conjure_job_id") == job_id and ob.get("conjure_node_name")}


def select_parts(job_id, names):
    """Click the parts' objects in the viewport (the first one active)."""
    view_layer = bpy.context.view_layer
    chosen = [ob for ob in view_layer.objects
              if ob.get("conjure_job_id") == job_id and ob.get("conjure_node_name") in names]
    for ob in view_layer.objects:
        ob.select_set(ob in chosen)
    view_layer.objects.active = chosen[0]
    view3d()[1].tag_redraw()


def press_edit_parts(job_id, change):
    """Type the change in the Parts panel and press its Edit button (``conjure.edit`` from
    the panel, with the checked parts), in the sidebar's context."""
    forms = module("blender.forms")
    edit = module("providers.registry").operation("thrixel", "edit")
    forms.group(bpy.context, edit).modification_request = change
    window, area, regions = view3d()
    with bpy.context.temp_override(window=window, area=area, region=regions["UI"]):
        result = bpy.ops.conjure.edit("INVOKE_DEFAULT", job_id=job_id, from_panel=True)
    if result != {"FINISHED"}:
        raise RuntimeError(f"conjure.edit returned {result}")
    return module("blender.session").running().journal.jobs(limit=1)[0]


def clear_stage(job_id):
    """Only the model with parts in view, as an artist working on it would have it: earlier
    models hidden, and finished candidate pictures removed from the list (their panel would
    push the Parts panel out of the sidebar's view)."""
    for ob in bpy.context.view_layer.objects:
        if ob.get("conjure_job_id") not in (None, job_id):
            ob.hide_set(True)
    for item in list(bpy.context.window_manager.conjure.jobs):
        if item.operation == "candidates" and item.state in ("ready", "imported"):
            bpy.ops.conjure.remove_job(job_id=item.job_id)
    view3d()[1].tag_redraw()


def parts_steps():
    """A real multi-part Thrixel model: some parts selected in the viewport (so checked in the
    Parts panel), photographed; then the checked parts edited from the panel, the result
    applied in place by the pump, photographed again."""
    set_prefs({"thrixel_key": CONFIG["keys"]["parts"]})
    fill_form("thrixel", "create", CONFIG["parts_task"])
    submitted = press_generate("Thrixel, a model with parts")
    yield from wait_for_state(submitted.id, ("imported",), 90)
    job = module("blender.session").running().journal.require(submitted.id)  # its remote id
    hierarchies = module("blender.hierarchies")
    yield from wait_for(lambda: hierarchies.known(job) is not None, "the part tree is in", 30)
    clear_stage(job.id)
    select_in_job_list(job.id)
    select_parts(job.id, CONFIG["parts_focus"])
    scene_parts = module("blender.parts")
    yield 0.3
    # The viewport selection checks the parts by itself (Conjure's depsgraph handler); should
    # it not, the record says so and Check Selected is pressed, so the edit still runs.
    checked_by_selecting = sorted(scene_parts.checked(job.id))
    if checked_by_selecting != sorted(CONFIG["parts_focus"]):
        scene_parts.check_selected(bpy.context.view_layer, job.id)
    top = scroll_sidebar("end")
    yield 0.5
    before = model_parts(job.id)
    shot("parts", scrolled_to=top, job_id=job.id, checked_by_selecting=checked_by_selecting,
         checked=sorted(scene_parts.checked(job.id)), parts=before)
    edit = press_edit_parts(job.id, "gilded rings")
    yield from wait_for_state(edit.id, ("imported",), 90)
    select_in_job_list(edit.id)
    yield 0.3
    top = scroll_sidebar("end")
    yield 0.5
    after = model_parts(edit.id)
    shot("parts-edited", scrolled_to=top, job_id=edit.id, parts=after)
    RECORD["parts"] = {
        "job": job.id, "edit": edit.id,
        "params": module("blender.session").running().journal.require(edit.id).params,
        "before": before, "after": after,
        "history": [ob.name for c in bpy.data.collections if c.get("conjure_replaced_by")
                    == edit.id for ob in c.objects],
        "visible": sorted(ob["conjure_node_name"] for ob in bpy.context.view_layer.objects
                          if ob.get("conjure_job_id") in (job.id, edit.id)
                          and ob.get("conjure_node_name") and ob.visible_get()),
    }


def scenario_restart_submit():
    """Save the file, submit with saved preferences, then wait to be killed once the service
    has the job."""
    yield from wait_for_pump()
    set_prefs(CONFIG["prefs"])
    bpy.ops.wm.save_as_mainfile(filepath=CONFIG["blend"])
    job = submit("restart")
    yield from wait_for(lambda: bool(getattr(mirrored(job.id), "remote_id", "")),
                        "the service's id is in the journal", 30)
    RECORD["job"] = {"id": job.id, "remote_id": mirrored(job.id).remote_id,
                     "state": mirrored(job.id).state}
    RECORD["journal"] = journal_jobs()


def scenario_restart_resume():
    """After the kill, Blender started with the file that asked: the journal's unfinished job
    resumes by itself and is imported into it."""
    yield from wait_for_pump()
    yield from import_when_ready(CONFIG["job_id"], CONFIG.get("resume_timeout", 90))
    RECORD["journal"] = journal_jobs()
    describe_scene()
    describe_pump()


def asset_browser():
    """The window's Asset Browser: where it is on the X screen and what it shows."""
    window = bpy.context.window_manager.windows[0]
    area = next((a for a in window.screen.areas if a.ui_type == "ASSETS"), None)
    if area is None:
        return None
    params = getattr(area.spaces.active, "params", None)
    return {"rect": [area.x - window.x, window.height - (area.y - window.y) - area.height,
                     area.width, area.height],
            "library": getattr(params, "asset_library_reference", None),
            "catalog_id": getattr(params, "catalog_id", None)}


def drop_asset(path, cursor):
    """What dropping a collection asset from the Asset Browser into the viewport does with
    its "Instance" option off: the collection appended and linked into the scene, its model
    at the 3D cursor, selected with the root active."""
    with bpy.data.libraries.load(str(path), link=False) as (found, wanted):
        wanted.collections = list(found.collections)
    [collection] = wanted.collections
    bpy.context.scene.collection.children.link(collection)
    roots = [ob for ob in collection.all_objects if ob.parent is None]
    for ob in bpy.context.view_layer.objects:
        ob.select_set(False)
    for ob in collection.all_objects:
        ob.select_set(True)
    for ob in roots:
        ob.location = (ob.location[0] + cursor[0], ob.location[1] + cursor[1],
                       ob.location[2] + cursor[2])
    bpy.context.view_layer.objects.active = roots[0]
    return collection


def scenario_library():
    """Results in Blender's Asset Browser: Thrixel models filed in the Conjure library as they
    are imported (the File Results in the Library preference), the last one shown with its
    Jobs panel button Show in Asset Browser, then one dragged into an emptied scene."""
    yield from wait_for_pump()
    record_drawing()
    set_prefs({**CONFIG["prefs"], "library_file_results": True,
               "thrixel_key": CONFIG["keys"]["library"]})
    delete_default_cube()
    yield from open_sidebar()
    session = module("blender.session")
    library = module("blender.library")
    jobs = []
    for task in CONFIG["library_tasks"]:
        fill_form("thrixel", "create", task)
        job = press_generate(f"library: {task}")
        yield from import_when_ready(job.id, 90)
        jobs.append(session.job(job.id))
    paths = [library.asset_path(job) for job in jobs]
    yield from wait_for(lambda: all(p.is_file() for p in paths), "every result is filed", 60)
    select_in_job_list(jobs[-1].id)
    window, area, regions = view3d()
    with bpy.context.temp_override(window=window, area=area, region=regions["UI"]):
        result = bpy.ops.conjure.show_in_asset_browser("INVOKE_DEFAULT", job_id=jobs[-1].id)
    log(f"Show in Asset Browser: {result}")
    yield from wait_for(lambda: (asset_browser() or {}).get("library") == "Conjure",
                        "an Asset Browser shows the Conjure library", 20)
    # The browser reads the library's files and their previews over a few frames.
    for _ in range(20):
        for each in window.screen.areas:
            each.tag_redraw()
        yield 0.25
    RECORD["library"] = {"jobs": [job.id for job in jobs], "files": [str(p) for p in paths],
                         "folder": str(library.folder()),
                         "catalogs": (library.folder() / "blender_assets.cats.txt")
                         .read_text(encoding="utf-8"),
                         "registered": [(lib.name, lib.path) for lib in
                                        bpy.context.preferences.filepaths.asset_libraries]}
    shot("asset-browser", asset_browser=asset_browser())

    # The scene emptied, then the last model dragged in from the browser.
    for ob in list(bpy.data.objects):
        bpy.data.objects.remove(ob)
    for collection in list(bpy.context.scene.collection.children):
        bpy.data.collections.remove(collection)
    dropped = drop_asset(paths[-1], tuple(bpy.context.scene.cursor.location))
    RECORD["dropped"] = {"collection": dropped.name,
                         "asset": dropped.asset_data is not None}
    top = scroll_sidebar("end")
    yield 0.5
    shot("asset-dropped", scrolled_to=top, asset_browser=asset_browser())
    describe_scene()


SCENARIOS = {
    "generate": scenario_generate,
    "library": scenario_library,
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
