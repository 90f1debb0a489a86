"""Every sidebar panel drawn in every state (idle, no key, offline, invalid, running, failed,
done, imported, candidates), asserting on the buttons and words each state puts up."""

import time

import bpy
import pytest


class _Panels:
    """The sidebar's panel modules read as one: ``panels.CONJURE_PT_jobs``, looked up live."""

    def __init__(self, modules):
        self._modules = modules

    def __getattr__(self, name):
        for module in self._modules:
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(name)


@pytest.fixture
def panels(mod):
    return _Panels([mod(f"panels.{name}") for name in
                    ("generate", "jobs", "selected", "candidates", "widgets")])


@pytest.fixture
def keys(conjure, sandbox, monkeypatch):
    """Every service has a key (from the environment) and no real service is ever reached:
    the balance fetch is answered by a stand-in, and what else a drawn panel asks for (a
    model's part tree) goes to the sandbox, which refuses these keys at once."""
    session = __import__(f"{conjure.__name__}.blender.session", fromlist=["session"])
    services = __import__(f"{conjure.__name__}.providers.services", fromlist=["x"])
    prefs = bpy.context.preferences.addons[conjure.__package__].preferences
    for s in services.SERVICES:
        monkeypatch.setenv(s.key_env[0], f"test-key-{s.id}")
        setattr(prefs, f"{s.prefs_name}_url", sandbox.service_url(s.prefs_name))
    monkeypatch.setattr(session, "balance", lambda service_id: session.Answer(
        "1200 credits", True, False, time.monotonic()))
    monkeypatch.setattr(session, "live_prices", lambda service_id: {})
    bpy.context.preferences.system.use_online_access = True
    yield
    for s in services.SERVICES:
        setattr(prefs, f"{s.prefs_name}_url", "")
    bpy.context.preferences.system.use_online_access = True


def _generate(layout):
    [(_, _, props, _text, enabled)] = layout.ops("conjure.generate")
    return props, enabled


def test_generate_idle_for_every_creation_operation(panels, mod, form_reset, keys, paint):
    forms = mod("blender.forms")
    services = mod("providers.services")
    drawn = 0
    for service in services.SERVICES:
        form_reset.service = service.id
        ops = forms.creation_ops(service.id)
        layout = paint(panels.CONJURE_PT_generate)
        if not ops:
            assert "not available" in layout.text()
            assert not layout.ops("conjure.generate")
            continue
        for op in ops:
            setattr(form_reset, f"mode_{service.id}", op.name)
            form_reset.prompt = "a stone gargoyle"
            layout = paint(panels.CONJURE_PT_generate)
            props, _ = _generate(layout)
            assert (props.provider, props.mode, props.from_panel) == (service.public_name, op.name,
                                                                       True)
            assert "1200 credits" in layout.text()
            if op.param_for("prompt") is not None:
                assert form_reset in [e[1] for e in layout.log if e[0] == "prop"
                                       and e[2] == "prompt"]
            for param in op.params:
                if param.kind in ("image", "image_list") and not param.advanced:
                    assert layout.ops("conjure.capture_viewport"), (op.name, param.name)
            advanced = {p.name for p in op.params if p.advanced and p.role == ""}
            if advanced:
                # The fold of rarer options holds them, and comes before Generate.
                folds = [i for i, e in enumerate(layout.log) if e[0] == "panel"]
                generate = [i for i, e in enumerate(layout.log) if e[0] == "operator"
                            and e[1] == "conjure.generate"]
                assert len(folds) == 1 and folds[0] < generate[0], (op.name, layout.log)
                drawn_props = set(layout.props())
                assert advanced <= drawn_props | {n[4:] for n in drawn_props
                                                  if n.startswith("use_")}, op.name
            drawn += 1
    assert drawn >= 8


def test_generate_refuses_before_sending_an_invalid_form(panels, form_reset, keys, paint):
    form_reset.service = "tripo"
    form_reset.mode_tripo = "text_to_model"
    layout = paint(panels.CONJURE_PT_generate)
    assert "Prompt is required" in layout.text()
    assert _generate(layout)[1] is False
    form_reset.prompt = "a gargoyle"
    layout = paint(panels.CONJURE_PT_generate)
    assert "required" not in layout.text() and _generate(layout)[1] is True


def test_generate_without_key_or_offline_says_what_to_do(panels, form_reset, paint,
                                                         monkeypatch, conjure):
    for name in ("CONJURE_TRIPO_KEY", "TRIPO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    bpy.context.preferences.addons[conjure.__package__].preferences.tripo_key = ""
    form_reset.service = "tripo"
    form_reset.prompt = "a gargoyle"
    layout = paint(panels.CONJURE_PT_generate)
    assert "CONJURE_TRIPO_KEY" in layout.text() and _generate(layout)[1] is False
    assert layout.ops("preferences.addon_show")
    monkeypatch.setenv("CONJURE_TRIPO_KEY", "k")
    bpy.context.preferences.system.use_online_access = False
    try:
        layout = paint(panels.CONJURE_PT_generate)
        assert "Allow Online Access" in layout.text() and _generate(layout)[1] is False
        assert "1200 credits" not in layout.text()  # offline: no balance is even asked for
    finally:
        bpy.context.preferences.system.use_online_access = True


STATES = {
    "pending": {"message": "Waiting to be sent"},
    "running": {"progress": 0.42, "eta_s": 30.0, "message": "Generating"},
    "downloading": {"progress": -1.0, "message": "Downloading"},
    "ready": {"remote_id": "task-7", "message": "Ready"},
    "imported": {"remote_id": "task-8", "message": "Imported"},
    "failed": {"remote_id": "task-9", "error_code": "2010",
               "message": "Tripo3D says the balance is too low for this task: top up at "
                          "platform.tripo3d.ai > billing and generate again"},
    "cancelled": {"message": "Cancelled"},
    "unknown": {"message": "Died while sending; check the service before trying again"},
}


@pytest.mark.parametrize("state", sorted(STATES))
def test_jobs_panel_for_every_state(panels, mirror, paint, recorder, state):
    item = mirror(f"job-{state}", state=state, prompt="a stone gargoyle on a ledge",
                  created_at=time.time() - 75, updated_at=int(time.time()),
                  eta_at=int(time.time()), **STATES[state])
    layout = paint(panels.CONJURE_PT_jobs)
    assert layout.log[0][0] == "template_list"
    ops = {e[1]: e[2] for e in layout.ops()}
    active = state in ("pending", "running", "downloading")
    assert ("conjure.cancel_job" in ops) == active
    assert ("conjure.remove_job" in ops) == (not active)
    assert ("conjure.import_result" in ops) == (state in ("ready", "imported"))
    assert ("conjure.open_result_folder" in ops) == (state in ("ready", "imported"))
    assert "conjure.download_again" not in ops  # the failure here was not the download
    for props in ops.values():
        if hasattr(props, "job_id"):
            assert props.job_id == item.job_id
    if state == "imported":
        assert any(e[3] == "Re-import" for e in layout.ops("conjure.import_result"))
    text = layout.text()
    # The error is there in full, over several lines, not cut off.
    assert " ".join(item.message.split()) in text
    assert "Tripo3D · Text to Model" in text and "text_to_model" not in text
    # The ids are in Details, closed until asked for, with one Copy for them all.
    assert "Details" in text and not layout.ops("conjure.copy_text")
    runtime = bpy.context.window_manager.conjure
    runtime.job_details_open = True
    try:
        details = paint(panels.CONJURE_PT_jobs)
    finally:
        runtime.job_details_open = False
    [(_, _, copy, _, _)] = details.ops("conjure.copy_text")
    assert f"Job: {item.job_id}" in copy.text and f"Job: {item.job_id}" in details.text()
    if item.remote_id:
        assert f"Remote: {item.remote_id}" in copy.text and item.remote_id not in text
    if state == "running":
        bars = [e for e in layout.log if e[0] == "progress"]
        if panels.has_progress_bar():
            assert bars and bars[0][1] == pytest.approx(0.42)
        assert "about 30 s left" in " ".join(e[2] for e in bars) + text
        assert "Running for 1 min 1" in text
    # The list row itself: the operation's title, the prompt being in full in the box.
    row = panels.CONJURE_UL_jobs
    rec = recorder()
    row.draw_item(None, bpy.context, rec, None, item, 0, None, "active_index", 0)
    assert rec.log[0][1] == "Text to Model"
    assert "a stone gargoyle on a ledge" in text


def test_jobs_panel_offers_download_again_when_only_the_download_failed(panels, mirror, paint):
    item = mirror("job-too-large", state="failed", remote_id="task-5",
                  error_code="download_limit",
                  message="Result not saved: model.glb is 2,500 MB, more than the 2,000 MB a "
                          "model may be; raise Largest Model")
    layout = paint(panels.CONJURE_PT_jobs)
    [again] = layout.ops("conjure.download_again")
    assert again[2].job_id == item.job_id and again[3] == "Download Again"
    assert layout.ops("conjure.remove_job")


def test_jobs_panel_idle_and_newest_first(panels, mirror, paint):
    assert "No jobs yet" in paint(panels.CONJURE_PT_jobs).text()
    mirror("old")
    mirror("new")
    ul = type("UL", (), {"bitflag_filter_item": 1, "filter_name": ""})()
    flags, order = panels.CONJURE_UL_jobs.filter_items(
        ul, bpy.context, bpy.context.window_manager.conjure, "jobs")
    assert flags == [1, 1] and order == [1, 0]


@pytest.fixture
def journal_jobs(mod):
    """Jobs written straight into the journal (a finished state, never picked up by workers)."""
    session = mod("blender.session")
    model = mod("jobs.model")
    added = []

    def add(service, operation, state, **fields):
        job = model.Job(service, operation, state=model.State(state), **fields)
        session.get().journal.add(job, claim=False)
        added.append(job.id)
        return job

    yield add
    for job_id in added:
        session.get().journal.remove(job_id)


def _tag(ob, job):
    ob["conjure_job_id"], ob["conjure_provider"] = job.id, job.service
    ob["conjure_remote_id"], ob["conjure_node_name"] = job.remote_id or "", "Door"
    bpy.context.view_layer.objects.active = ob


def test_selected_model_lineage_and_every_follow_up(panels, mod, form_reset, keys, paint,
                                                    journal_jobs):
    forms = mod("blender.forms")
    parent = journal_jobs("thrixel", "create", "imported", remote_id="sub_parent",
                          params={"task": "a brass orrery"})
    job = journal_jobs("thrixel", "refine", "imported", remote_id="sub_child",
                       parent_id=parent.id, params={})
    assert not panels.CONJURE_PT_selected.poll(bpy.context)
    bpy.ops.mesh.primitive_cube_add()
    _tag(bpy.context.object, job)
    assert panels.CONJURE_PT_selected.poll(bpy.context)
    ops = forms.follow_up_ops("thrixel")
    assert {"refine", "edit", "detail"} <= {op.name for op in ops}
    for op in ops:
        form_reset.follow_up_thrixel = op.name
        group = forms.group(bpy.context, op)
        if "modification_request" in group.bl_rna.properties:
            group.modification_request = "make the door red"
        layout = paint(panels.CONJURE_PT_selected)
        text = layout.text()
        assert "Thrixel · Auto-refine" in text and "Made from: Create of “a brass orrery”" in text
        assert "sub_child" not in text  # the ids are in Details
        runtime = bpy.context.window_manager.conjure
        runtime.model_details_open = True
        try:
            details = paint(panels.CONJURE_PT_selected)
        finally:
            runtime.model_details_open = False
        [(_, _, copy, _, _)] = details.ops("conjure.copy_text")
        assert copy.text == (f"Job: {job.id}\nRemote: sub_child\nParent: {parent.id}\n"
                             "Node: Door")
        [(_, _, props, _label, enabled)] = layout.ops("conjure.follow_up")
        assert (props.job_id, props.operation, props.from_panel) == (job.id, op.name, True)
        assert enabled, text
        if panels.CONJURE_PT_selected_advanced.poll(bpy.context):
            assert paint(panels.CONJURE_PT_selected_advanced).props()
    # An edit without its request is refused in the panel, before anything is sent.
    form_reset.follow_up_thrixel = "edit"
    forms.group(bpy.context, forms.registry.operation("thrixel", "edit")) \
        .modification_request = ""
    layout = paint(panels.CONJURE_PT_selected)
    assert "Change is required" in layout.text()  # the field's label, not the API's name
    assert layout.ops("conjure.follow_up")[0][4] is False


@pytest.mark.parametrize("service, operation, params, follow_up, reason", [
    ("thrixel", "edit", {}, "refine", "this is an edited model"),
    ("thrixel", "detail", {}, "edit", "cannot edit a detailed"),
    ("tripo", "text_to_model", {"prompt": "a mug"}, "refine_model", "before v2.0"),
])
def test_follow_ups_the_service_would_refuse_are_disabled_with_the_reason(
        panels, form_reset, keys, paint, journal_jobs, fresh_scene, service, operation,
        params, follow_up, reason):
    job = journal_jobs(service, operation, "imported", remote_id="sub_1", params=params)
    bpy.ops.mesh.primitive_cube_add()
    _tag(bpy.context.object, job)
    setattr(form_reset, f"follow_up_{service}", follow_up)
    layout = paint(panels.CONJURE_PT_selected)
    assert reason in layout.text()
    assert layout.ops("conjure.follow_up")[0][4] is False
    setattr(form_reset, f"follow_up_{service}", "convert" if service == "thrixel"
            else "convert_model")
    assert reason not in paint(panels.CONJURE_PT_selected).text()


def test_selected_model_not_in_journal_and_tripo_follow_ups(panels, mod, form_reset, keys,
                                                            paint, fresh_scene):
    bpy.ops.mesh.primitive_cube_add()
    ob = bpy.context.object
    ob["conjure_job_id"], ob["conjure_provider"], ob["conjure_remote_id"] = \
        "elsewhere", "tripo", "task-1"
    for op in mod("blender.forms").follow_up_ops("tripo"):
        form_reset.follow_up_tripo = op.name
        layout = paint(panels.CONJURE_PT_selected)
        assert "not in this computer's journal" in layout.text()
        assert layout.ops("conjure.follow_up")[0][2].operation == op.name


def _png(path, shade):
    image = bpy.data.images.new(path.stem, 32, 32)
    image.pixels.foreach_set([shade, 0.3, 0.6, 1.0] * 32 * 32)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(filepath=str(path))
    bpy.data.images.remove(image)


def test_candidates_show_large_previews_and_pick_buttons(panels, mod, mirror, keys, paint,
                                                         journal_jobs, monkeypatch):
    images_op, voxelize = panels.candidate_operations()
    session = mod("blender.session")
    results = mod("jobs.results")
    assert not panels.CONJURE_PT_candidates.poll(bpy.context)
    running = mirror("vx-running", service="voxelai", state="running",
                     operation=images_op.name, prompt="a voxel fox")
    assert panels.CONJURE_PT_candidates.poll(bpy.context)
    assert "Making pictures" in paint(panels.CONJURE_PT_candidates).text()
    names = [f"candidate_{i}.png" for i in range(3)]
    job = journal_jobs("voxelai", images_op.name, "ready", remote_id="vx-1",
                       result_files=names, params={"prompt": "a voxel fox"})
    folder = results.job_folder(session.user_dir(), "voxelai", job.id)
    for i, name in enumerate(names):
        _png(folder / name, i / 3)
    running.job_id, running.state = job.id, "ready"
    layout = paint(panels.CONJURE_PT_candidates)
    picks = layout.ops("conjure.pick_candidate")
    assert [(p[2].job_id, p[2].index, p[2].from_panel) for p in picks] == \
        [(job.id, i, True) for i in range(3)]
    icons = [e[1] for e in layout.log if e[0] == "template_icon"]
    assert len(icons) == 3
    # Icon ids are handed out only where Blender has a UI; the previews are loaded regardless.
    loaded = sorted(path for path, _, _ in (key.rpartition(":") for key in
                                            mod("blender.previews")._collection.keys())
                    if path.startswith(str(folder)))
    assert loaded == sorted(str(folder / name) for name in names)
    if voxelize is not None:
        assert layout.props(), "voxelize options missing"


def test_ready_candidates_job_points_to_the_pick_not_to_import(panels, mirror, paint):
    # Seen in the app tier's candidates screenshot: a ready Voxel-AI candidates job offered
    # "Import" in the Jobs panel, which conjure.import_result refuses (pictures, not a model).
    images_op, voxelize = panels.candidate_operations()
    assert images_op is not None and voxelize is not None
    item = mirror("vx-pictures", service="voxelai", state="ready", operation=images_op.name,
                  prompt="a voxel fox")
    layout = paint(panels.CONJURE_PT_jobs)
    assert not layout.ops("conjure.import_result")
    assert "Pick one in the Candidates panel" in layout.text()
    assert layout.ops("conjure.open_result_folder")  # the pictures are still there to open
    # The voxelized model of a pick is a model: Import is offered for it.
    item.job_id, item.operation = "vx-model", voxelize.name
    layout = paint(panels.CONJURE_PT_jobs)
    [(_, _, props, _text, _enabled)] = layout.ops("conjure.import_result")
    assert props.job_id == "vx-model"


def test_long_messages_are_wrapped_to_the_sidebar_width(panels, mod):
    # Seen in the app tier's failed-job screenshot: lines of 40 characters were wider than a
    # default sidebar (about 290 px), so Blender cut the error off with "…".
    import blf

    status = mod("workflow.status")
    message = ("Thrixel's language model failed; generate again later (LLM_SERVER_ERROR, "
               "The language model returned an error.)")
    space = 292 - panels.LABEL_MARGIN_PX

    def widest(lines):
        blf.size(0, bpy.context.preferences.ui_styles[0].widget.points)
        return max(blf.dimensions(0, line)[0] for line in lines)

    assert widest(status.wrap(message, 40)) > space  # what the sidebar used to get
    narrow = status.wrap(message, panels.chars_per_line(message, 292, 1.0))
    assert widest(narrow) <= space, narrow
    assert " ".join(narrow) == message
    # A wider sidebar gets longer lines, and a scaled UI shorter ones.
    assert panels.chars_per_line(message, 600, 1.0) > panels.chars_per_line(message, 292, 1.0)
    assert panels.chars_per_line(message, 292, 1.5) < panels.chars_per_line(message, 292, 1.0)
