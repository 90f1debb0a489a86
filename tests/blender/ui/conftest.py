"""Panel tests without a window: ``draw()`` runs against a layout that records what it was asked
to show, so a test can assert on the operators, properties and labels a state produced.

A real ``UILayout`` exists only while Blender draws a region, which never happens in the bpy
module; the recorder checks what Blender would check (every ``prop`` names a real property,
every icon is one Blender knows) and keeps the rest for assertions.
"""

import importlib
from types import SimpleNamespace

import bpy
import pytest

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
        props = SimpleNamespace()
        self.log.append(("operator", idname, props, text, self.is_enabled()))
        return props

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
    """Conjure's submodules by short name: ``mod("forms")``."""
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

    def add(job_id, provider="tripo", state="running", **fields):
        item = runtime.jobs.add()
        item.job_id, item.provider, item.state = job_id, provider, state
        item.operation = fields.pop("operation", "text_to_model")
        item.created_at = int(fields.pop("created_at", 0))
        for name, value in fields.items():
            setattr(item, name, value)
        runtime.active_index = len(runtime.jobs) - 1
        return item

    yield add
    engine = importlib.import_module(f"{conjure.__name__}.engine")
    runtime.jobs.clear()
    runtime.active_index = 0
    engine.rebuild_mirror()


@pytest.fixture
def form_reset(conjure, fresh_scene):
    """A scene whose forms are at their defaults (they live on the Scene, so tests share them)."""
    state = fresh_scene.conjure
    for attr in list(state.keys()):
        del state[attr]
    yield state
    for attr in list(state.keys()):
        del state[attr]
