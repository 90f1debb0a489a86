"""Blender tier: the real ``bpy`` module with Conjure loaded as a real extension.

See ``tools/blender_dev.py``: the extension is imported as ``bl_ext.dev.conjure`` exactly as an
installed one, with working ``__package__`` preferences and ``bpy.utils.extension_path_user``,
and Blender's user resources in a scratch folder.

Fixtures:
- ``conjure``: the extension's top-level module (``bl_ext.dev.conjure``), enabled once per session.
- ``fresh_scene``: removes every object and the data-blocks the tests create before a test.
- ``sandbox``: the local emulator of the four services on loopback (fast timings), per session.
- ``thrixel``: preferences pointing Conjure's Thrixel client at the sandbox with a valid key.
- ``tripo``, ``pixazo``, ``voxelai``: the same for the other services, each with a key of its
  own per test (``sandbox.add_key``), so balances, rate limits and faults never leak between
  tests.
"""

import dataclasses
import hashlib
import importlib
from types import SimpleNamespace

import pytest

from tools import blender_dev
from tools.blender_dev import bpy  # imported after BLENDER_USER_RESOURCES is set

_exit_status = 0


@pytest.fixture(scope="session")
def conjure():
    return blender_dev.enable_extension()


@pytest.fixture
def fresh_scene(conjure):
    if bpy.context.object is not None and bpy.context.object.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    data = bpy.data
    ids = [*data.objects, *data.meshes, *data.materials, *data.images, *data.cameras,
           *data.lights, *data.node_groups, *data.armatures, *data.actions, *data.collections]
    if ids:
        data.batch_remove(ids)
    return bpy.context.scene


@pytest.fixture(scope="session")
def sandbox():
    from sandbox import start_sandbox

    with start_sandbox(speed="fast") as running:
        yield running


@pytest.fixture
def thrixel(conjure, sandbox):
    """Conjure's preferences set for the sandbox's Thrixel; restored afterwards."""
    from sandbox import DEFAULT_KEYS

    prefs = bpy.context.preferences.addons[conjure.__package__].preferences
    prefs.thrixel_url = sandbox.service_url("thrixel")
    prefs.thrixel_key = DEFAULT_KEYS["thrixel"]
    bpy.context.preferences.system.use_online_access = True
    yield prefs
    prefs.thrixel_key = ""
    prefs.thrixel_url = ""
    bpy.context.preferences.system.use_online_access = True


def _keyed(conjure, sandbox, request, service):
    from sandbox import DEFAULT_KEYS

    prefs = bpy.context.preferences.addons[conjure.__package__].preferences
    # A digest, not the test's name: words of a key are masked wherever they appear.
    digest = hashlib.sha256(request.node.name.encode()).hexdigest()[:16]
    key = f"{DEFAULT_KEYS[service]}-{digest}"
    sandbox.add_key(service, key)
    setattr(prefs, f"{service}_url", sandbox.service_url(service))
    setattr(prefs, f"{service}_key", key)
    bpy.context.preferences.system.use_online_access = True
    return prefs, key


@pytest.fixture
def tripo(conjure, sandbox, request):
    """Preferences set for the sandbox's Tripo3D with a key of this test's own."""
    prefs, _ = _keyed(conjure, sandbox, request, "tripo")
    yield prefs
    prefs.tripo_key = prefs.tripo_url = ""


@pytest.fixture
def pixazo(conjure, sandbox, request):
    """Preferences set for the sandbox's Pixazo with a key of this test's own."""
    prefs, _ = _keyed(conjure, sandbox, request, "pixazo")
    yield prefs
    prefs.pixazo_key = prefs.pixazo_url = ""


@pytest.fixture
def voxelai(conjure, sandbox, request):
    """Preferences set for the sandbox's Voxel-AI with a token of this test's own (its
    one-request-per-interval limit is per token)."""
    prefs, _ = _keyed(conjure, sandbox, request, "voxelai")
    yield prefs
    prefs.voxelai_key = prefs.voxelai_url = ""


# -- panels without a window ------------------------------------------------------------

# Panel tests without a window: ``draw()`` runs against a layout that records what it was asked
# to show, so a test can assert on the operators, properties and labels a state produced.
#
# A real ``UILayout`` exists only while Blender draws a region, which never happens in the bpy
# module; the recorder checks what Blender would check (every ``prop`` names a real property,
# every icon is one Blender knows) and keeps the rest for assertions.
ICONS = frozenset(bpy.types.UILayout.bl_rna.functions["label"].parameters["icon"]
                  .enum_items.keys())


class Recorder:
    def __init__(self, log=None, parent=None):
        self.log = [] if log is None else log
        self.parent = parent
        self.enabled = True
        self.active = True

    # Anything settable on a UILayout (scale_y, ui_units_x, use_property_split, ...).
    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)

    def is_enabled(self):
        node = self
        while node is not None:
            if not node.enabled:
                return False
            node = node.parent
        return True

    def _child(self, *args, **kwargs):
        return Recorder(self.log, self)

    row = column = box = split = column_flow = _child

    def grid_flow(self, **kwargs):
        return Recorder(self.log, self)

    def panel(self, idname, default_closed=False):
        """A fold (``UILayout.panel``), drawn open: its header and its body."""
        self.log.append(("panel", idname, default_closed))
        return Recorder(self.log, self), Recorder(self.log, self)

    def prop_search(self, data, attr, search_data, search_attr, **kwargs):
        assert attr in data.bl_rna.properties, f"{data} has no property {attr!r}"
        self._icon(kwargs)
        self.log.append(("prop", data, attr, kwargs))

    def _icon(self, kwargs):
        icon = kwargs.get("icon", "NONE")
        assert icon in ICONS, f"unknown icon {icon!r}"
        return icon

    def label(self, text="", icon="NONE", **kwargs):
        self._icon({"icon": icon})
        self.log.append(("label", text, icon))

    def prop(self, data, attr, **kwargs):
        assert attr in data.bl_rna.properties, f"{data} has no property {attr!r}"
        self._icon(kwargs)
        self.log.append(("prop", data, attr, kwargs))

    def operator(self, idname, text="", icon="NONE", **kwargs):
        self._icon({"icon": icon})
        props = SimpleNamespace(_icon=icon)  # the icon drawn, for checkbox-like buttons
        self.log.append(("operator", idname, props, text, self.is_enabled()))
        return props

    def separator(self, factor=1.0, **kwargs):
        self.log.append(("separator", factor))

    def panel_prop(self, data, prop):
        """A layout panel: its header, and its body while ``data.prop`` says it is open."""
        assert prop in data.bl_rna.properties, f"{data} has no property {prop!r}"
        header = Recorder(self.log, self)
        return header, Recorder(self.log, self) if getattr(data, prop) else None

    def progress(self, factor=0.0, type="BAR", text=""):
        assert 0.0 <= factor <= 1.0
        self.log.append(("progress", factor, text))

    def template_list(self, listtype, list_id, data, prop, active_data, active_prop, **kw):
        assert prop in data.bl_rna.properties and active_prop in active_data.bl_rna.properties
        self.log.append(("template_list", listtype, data, prop))

    def template_ID(self, data, attr, **kwargs):
        assert attr in data.bl_rna.properties
        self.log.append(("template_ID", data, attr))

    def template_icon(self, icon_value=0, scale=1.0):
        self.log.append(("template_icon", icon_value))

    # -- queries for tests --
    def ops(self, idname=None):
        return [e for e in self.log if e[0] == "operator" and idname in (None, e[1])]

    def labels(self):
        return [e[1] for e in self.log if e[0] == "label"]

    def text(self):
        """Every label as one line of words (long texts are wrapped over several labels)."""
        return " ".join(" ".join(self.labels()).split())

    def props(self):
        return [e[2] for e in self.log if e[0] == "prop"]


class WithLayout:
    """``self`` for a draw method: the real object's members plus a recording ``layout``."""

    def __init__(self, target, layout):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "layout", layout)

    def __getattr__(self, name):
        return getattr(self._target, name)


def draw(panel_cls, context=None, target=None):
    layout = Recorder()
    panel_cls.draw(WithLayout(target or panel_cls, layout), context or bpy.context)
    return layout


@pytest.fixture
def mod(conjure):
    """Conjure's submodules by short name: ``mod("blender.forms")``."""
    return lambda name: importlib.import_module(f"{conjure.__name__}.{name}")


@pytest.fixture
def online():
    bpy.context.preferences.system.use_online_access = True
    yield
    bpy.context.preferences.system.use_online_access = True


@pytest.fixture
def recorder():
    return Recorder


@pytest.fixture
def paint():
    """``paint(panel_class, target=None)`` → the Recorder its ``draw`` filled."""
    return draw


@pytest.fixture
def mirror(conjure):
    """Fake rows in the WindowManager's job list; the real mirror is rebuilt afterwards."""
    runtime = bpy.context.window_manager.conjure
    runtime.jobs.clear()

    def add(job_id, service="tripo", state="running", **fields):
        item = runtime.jobs.add()
        item.job_id, item.service, item.state = job_id, service, state
        item.operation = fields.pop("operation", "text_to_model")
        item.created_at = int(fields.pop("created_at", 0))
        for name, value in fields.items():
            setattr(item, name, value)
        runtime.active_index = len(runtime.jobs) - 1
        return item

    yield add
    session = importlib.import_module(f"{conjure.__name__}.blender.session")
    runtime.jobs.clear()
    runtime.active_index = 0
    session.rebuild_mirror()


@pytest.fixture
def form_reset(conjure, fresh_scene):
    """A scene whose forms are at their defaults (they live on the Scene, so tests share them)."""
    state = fresh_scene.conjure
    for attr in list(state.keys()):
        del state[attr]
    yield state
    for attr in list(state.keys()):
        del state[attr]


@pytest.fixture
def session(conjure):
    """Conjure's session module (``blender.session``): the journal, runner and shared answers."""
    return importlib.import_module(f"{conjure.__name__}.blender.session")


@pytest.fixture
def quick_polling(session):
    """The sandbox runs at fast speed, so the session polls at a tenth of its real cadence (a
    real user's job polls every 2 s; waiting that long per test would make the tier slow
    without testing anything more)."""
    runner = session.get().runner
    runner.policy = dataclasses.replace(runner.policy, scale=0.1)
    yield


def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config):
    # bpy 4.2 can segfault while the interpreter shuts down (after glTF export, for example),
    # turning a green run into exit code 139. Leave before that shutdown with pytest's own
    # status, so a real failure still fails.
    if bpy.app.version < (4, 3, 0):
        blender_dev.exit_now(_exit_status)
