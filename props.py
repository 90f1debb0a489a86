"""Runtime properties on the WindowManager: the UI's mirror of the journal.

They hold no secrets and are rebuilt from the journal after every file load, so what a .blend
happens to carry of them is never trusted.
"""

from __future__ import annotations

import bpy
from bpy.props import CollectionProperty, FloatProperty, IntProperty, StringProperty


class ConjureJobItem(bpy.types.PropertyGroup):
    job_id: StringProperty(name="Job")
    provider: StringProperty(name="Service")
    operation: StringProperty(name="Operation")
    state: StringProperty(name="State")
    #: 0–1, or -1 when the service gives no progress.
    progress: FloatProperty(name="Progress", default=-1.0)
    eta_s: FloatProperty(name="ETA", default=-1.0)
    message: StringProperty(name="Message")
    remote_id: StringProperty(name="Remote ID")
    #: What the job was asked for (its prompt), shown as its name.
    prompt: StringProperty(name="Prompt")
    error_code: StringProperty(name="Error Code")
    parent_id: StringProperty(name="Parent Job")
    #: Unix seconds; ints because a FloatProperty (32-bit) would round them to minutes.
    created_at: IntProperty(name="Created")
    updated_at: IntProperty(name="Updated")


class ConjureRuntime(bpy.types.PropertyGroup):
    jobs: CollectionProperty(type=ConjureJobItem)
    active_index: IntProperty(name="Active Job")
    #: Bumped whenever the pump changed something, so panels know when to redraw.
    revision: IntProperty()


classes = (ConjureJobItem, ConjureRuntime)


def register() -> None:
    bpy.types.WindowManager.conjure = bpy.props.PointerProperty(type=ConjureRuntime)  # type: ignore[attr-defined]


def unregister() -> None:
    del bpy.types.WindowManager.conjure  # type: ignore[attr-defined]
