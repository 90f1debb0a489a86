"""The add-on preferences window: keys, base-URL overrides, network, download limits, import and
cache settings.

Keys are masked password fields stored only in Blender's user preferences; when a field is empty
the service's environment variable is used (see ``providers.services``). Nothing here is ever
written to a .blend file, the journal or a log. Other code reads these values through
``settings``.
"""

from __future__ import annotations

from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from ..formats.vox.format import DEFAULT_MAX_FACES
from ..jobs.results import MB, SizeLimits
from ..providers import registry
from ..providers.http import STALL_BYTES, NetworkSettings
from ..providers.services import SERVICES
from ..workflow import cache, cost, status
from . import EXTENSION, library, paths, session, settings

#: Estimates above which the sidebar asks before sending, each in its service's unit: a
#: typical job passes, an expensive combination (or a large Pixazo texture run) asks.
ASK_ABOVE = {"thrixel": 20.0, "tripo": 50.0, "pixal3d": 1.0, "voxelai": 5.0}
#: Ledger lines the preferences show (the command line shows them all).
LEDGER_LINES = 14


def _changed(self: bpy.types.AddonPreferences, context: bpy.types.Context) -> None:
    session.settings_changed()


def _library_changed(self: Any, context: bpy.types.Context) -> None:
    """The library was turned off (its entry leaves Blender's asset libraries; its files stay)
    or moved (the entry follows, once it exists)."""
    if not self.library_enabled:
        library.unregister_library()
    elif library.registered():
        library.ensure_registered()


def _service_props() -> dict[str, object]:
    props: dict[str, object] = {}
    for s in SERVICES:
        props[f"{s.prefs_name}_key"] = StringProperty(
            name=f"{s.label} {s.key_label}", subtype="PASSWORD",
            description=f"Your {s.label} {s.key_words} ({s.key_help}). Leave empty "
                        f"to use the environment variable {s.key_env[0]}",
            update=_changed)
        props[f"{s.prefs_name}_url"] = StringProperty(
            name="Base URL", description=f"Replaces {s.default_url} (e.g. a local sandbox); "
                                         f"empty uses {s.url_env} or the real service",
            update=_changed)
        unit = registry.unit(s.id)
        props[f"{s.prefs_name}_ask_above"] = FloatProperty(
            name=f"Ask Above ({unit})", default=ASK_ABOVE[s.id], min=0.0, soft_max=1000.0,
            description=f"Generating from the sidebar asks first when a {s.label} job is "
                        f"estimated to cost more than this many {unit}; scripts and "
                        "blender -b never ask")
    return props


class ConjurePreferences(bpy.types.AddonPreferences):
    bl_idname = EXTENSION

    # Per-service fields come from the SERVICES table, so they are added to the annotations
    # Blender reads; the shared ones are declared plainly.
    __annotations__ = _service_props()
    connect_timeout: FloatProperty(name="Connect Timeout", default=10.0, min=1.0, max=120.0,
                                   unit="TIME_ABSOLUTE", update=_changed)
    read_timeout: FloatProperty(name="Read Timeout", default=60.0, min=5.0, max=600.0,
                                unit="TIME_ABSOLUTE", update=_changed)
    proxy: StringProperty(name="Proxy", update=_changed,
                          description="e.g. http://proxy.example:3128; empty uses the "
                                      "system's HTTP(S)_PROXY")
    ca_bundle: StringProperty(name="CA Bundle", subtype="FILE_PATH", update=_changed,
                              options=paths.RELATIVE,
                              description="PEM file of extra certificate authorities")
    verify_tls: BoolProperty(name="Verify TLS Certificates", default=True, update=_changed)
    workers: IntProperty(name="Network Threads", default=4, min=1, max=16,
                         description="Threads started at once; more start while all are busy, "
                                     "up to the jobs the services allow at once (takes effect "
                                     "on restart)")
    ask_before_spending: BoolProperty(
        name="Ask Before Spending", default=True,
        description="Generating from the sidebar asks first when a job's estimate is above the "
                    "service's threshold or the balance is known to be short; scripts and "
                    "blender -b never ask")

    # Read through ``settings.size_limits`` and ``settings.network``.
    download_max_model_mb: IntProperty(
        name="Largest Model", default=SizeLimits().models // MB, min=1, soft_max=20_000,
        max=1_000_000, update=_changed,
        description="Megabytes a model result (or a zip of one) may have: a larger one is "
                    "refused as soon as its size is announced, or stopped there")
    download_max_picture_mb: IntProperty(
        name="Largest Picture", default=SizeLimits().pictures // MB, min=1, soft_max=2000,
        max=100_000, update=_changed,
        description="Megabytes a picture result (candidates, renders) may have")
    download_stall_timeout: FloatProperty(
        name="Stall Timeout", default=NetworkSettings().download_stall_s, min=5.0, max=3600.0,
        unit="TIME_ABSOLUTE", update=_changed,
        description=f"A download that receives less than {STALL_BYTES // 1024} KB in this "
                    "time is given up and tried again")
    download_time_limit: FloatProperty(
        name="Time Limit", default=NetworkSettings().download_time_s, min=60.0, max=86400.0,
        unit="TIME_ABSOLUTE", update=_changed,
        description="The longest one result download may take; a slower one is stopped")

    tripo_api: EnumProperty(
        name="Tripo3D API", update=_changed, default="AUTO",
        items=[("AUTO", "Automatic", "v3, or $CONJURE_TRIPO_API when set"),
               ("v3", "v3", "The current API"),
               ("v2", "v2 (OpenAPI)", "The older API, for accounts that still have it")])

    # Read through ``settings.import_settings`` and ``settings.auto_import``.
    import_at_cursor: BoolProperty(name="Place at 3D Cursor", default=True,
                                   description="Put imported models at the 3D cursor instead "
                                               "of the world origin")
    import_collection_per_job: BoolProperty(
        name="One Collection per Job", default=True,
        description="Put each job's objects in a new collection named after the job")
    auto_import: BoolProperty(name="Import When Done", default=True,
                              description="Bring finished results into the scene on their own; "
                                          "off: use Import in the Jobs panel")
    lite_first: BoolProperty(name="Lite Model First", default=True, update=_changed,
                             description="Thrixel: put the quick lite model in the scene as "
                                         "soon as the job is generated, and replace it with the "
                                         "full-quality model (same collection and place) once "
                                         "that is baked")
    import_merge_vertices: BoolProperty(name="Merge Vertices", default=False,
                                        description="Merge vertices at the same position after "
                                                    "import (closes split seams)")
    import_target_size: FloatProperty(name="Scale to Size", default=0.0, min=0.0,
                                      soft_max=100.0, subtype="DISTANCE", unit="LENGTH",
                                      description="Scale each imported model so its largest "
                                                  "side has this length; 0 keeps its size")
    keep_versions: BoolProperty(
        name="Keep Previous Version", default=True,
        description="When an edit arrives in place, keep the version it replaces in a hidden "
                    "history collection inside the model's (to swap back and forth)")
    gone_parts: EnumProperty(
        name="Parts an Edit Drops", default="REMOVE",
        items=[("REMOVE", "Remove", "Delete the objects of parts the edit no longer has"),
               ("HIDE", "Hide", "Keep their objects, hidden")])
    import_max_faces: IntProperty(
        name="Max Faces", default=DEFAULT_MAX_FACES, min=1000, soft_max=20_000_000,
        description="A MagicaVoxel result that would need more faces is refused instead of "
                    "meshed (a large one can take all memory); raise it to import it anyway")

    # Read through ``settings.library_enabled`` / ``library_folder`` / ``file_results``.
    library_enabled: BoolProperty(
        name="Conjure Asset Library", default=True, update=_library_changed,
        description="Keep results in a \"Conjure\" library of Blender's Asset Browser, added "
                    "to Blender's asset libraries the first time a result is filed there")
    library_folder: StringProperty(
        name="Library Folder", subtype="DIR_PATH", update=_library_changed,
        description="Where the library's .blend files are; empty: the \"library\" folder in "
                    "Conjure's user folder. Results filed earlier are written again here "
                    "when missing")
    library_file_results: BoolProperty(
        name="File Results in the Library", default=False,
        description="Every result imported into the scene is also filed in the asset "
                    "library (otherwise: Show in Asset Browser on a job files it)")

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        layout.use_property_split = True
        for s in SERVICES:
            box = layout.box()
            box.label(text=s.label)
            row = box.row(align=True)
            row.prop(self, f"{s.prefs_name}_key")
            row.operator("conjure.test_key", text="Test").service = s.id
            _, source = settings.key(s)
            if source and source != "preferences":
                box.label(text=f"Using the key from ${source}", icon="INFO")
            elif source:
                box.label(text="Using the key in this field", icon="LOCKED")
            else:
                box.label(text=f"No key: get one at {s.key_help}", icon="ERROR")
            if source:
                answer = session.key_tests.peek(session.answer_key(s.id))
                if answer is not None:
                    icon = "SORTTIME" if answer.pending else ("CHECKMARK" if answer.ok
                                                             else "ERROR")
                    text = "Testing…" if answer.pending else answer.text
                    for line in status.wrap(text, 70):
                        box.label(text=line, icon=icon)
                        icon = "BLANK1"
            box.prop(self, f"{s.prefs_name}_url")
            if s.id == "tripo":
                box.prop(self, "tripo_api")
            row = box.row()
            row.active = self.ask_before_spending
            row.prop(self, f"{s.prefs_name}_ask_above")

        box = layout.box()
        box.label(text="Network")
        for name in ("connect_timeout", "read_timeout", "proxy", "ca_bundle", "verify_tls",
                     "workers"):
            box.prop(self, name)
        if not bpy.app.online_access:
            box.label(text="Online access is off: Preferences > System > Network", icon="ERROR")

        self._draw_downloads(layout.box())
        _draw_spending(layout.box(), self)

        box = layout.box()
        box.label(text="Import")
        for name in ("auto_import", "lite_first", "import_at_cursor",
                     "import_collection_per_job", "import_merge_vertices", "import_target_size",
                     "import_max_faces", "keep_versions", "gone_parts"):
            box.prop(self, name)

        _draw_library(layout.box(), self)

        box = layout.box()
        box.label(text="Cache")
        try:
            box.label(text=str(session.user_dir()), icon="FILE_FOLDER")
            box.label(text=f"Results and cached pictures: "
                           f"{cache.human_size(session.cache_size())}")
        except (ValueError, KeyError, OSError) as exc:
            box.label(text=f"Cache folder unavailable: {exc}", icon="ERROR")
        row = box.row(align=True)
        row.operator("conjure.open_cache_folder", text="Open", icon="FILEBROWSER")
        row.operator("conjure.clear_cache", text="Clear…", icon="TRASH")

    def _draw_downloads(self, box: Any) -> None:
        box.label(text="Downloads")
        # The names say the unit here; messages name the settings without it.
        box.prop(self, "download_max_model_mb", text="Largest Model (MB)")
        box.prop(self, "download_max_picture_mb", text="Largest Picture (MB)")
        box.prop(self, "download_stall_timeout")
        box.prop(self, "download_time_limit")


def _draw_library(box: Any, prefs: Any) -> None:
    box.label(text="Asset Library")
    box.prop(prefs, "library_enabled")
    column = box.column()
    column.active = prefs.library_enabled
    column.prop(prefs, "library_folder")
    column.prop(prefs, "library_file_results")
    try:
        column.label(text=str(library.folder()), icon="ASSET_MANAGER")
    except (ValueError, KeyError, OSError) as exc:
        column.label(text=f"Library folder unavailable: {exc}", icon="ERROR")
    row = column.row(align=True)
    row.operator("conjure.rebuild_library", text="Write Missing Assets", icon="FILE_REFRESH")


def _draw_spending(box: Any, prefs: Any) -> None:
    """The switch for asking, and what the services charged per day (newest first)."""
    box.label(text="Spending")
    box.prop(prefs, "ask_before_spending")
    try:
        lines = session.ledger()
    except Exception as exc:  # a locked or damaged journal must not break the window
        box.label(text=f"Ledger unavailable: {exc}", icon="ERROR")
        return
    if not lines:
        box.label(text="Nothing charged yet", icon="INFO")
        return
    grid = box.grid_flow(columns=4, even_columns=False, align=True)
    for title in ("Day", "Service", "Spent", "Jobs"):
        grid.label(text=title)
    for line in lines[:LEDGER_LINES]:
        grid.label(text=line.day)
        grid.label(text=cost.service_label(line.service))
        grid.label(text=line.spent_words)
        extra = (f", {line.refunded} refunded" if line.refunded else "") + (
            f", {line.unreported} not reported" if line.unreported else "")
        grid.label(text=f"{line.charged_jobs}{extra}")
    if len(lines) > LEDGER_LINES:
        box.label(text="Older days: blender -c conjure jobs --cost", icon="CONSOLE")


classes = (ConjurePreferences,)
