"""Conjure's asset library: every result as an asset in Blender's Asset Browser (main thread).

Each filed job becomes one .blend in the library folder holding one collection marked as an
asset: the job's model imported fresh from its result folder (so the user's open file is never
read or changed, and need not be saved), every object carrying its lineage tags so an appended
copy works with follow-ups, the job's preview picture (or a picture drawn here) as the asset
preview, the prompt as its description, tags and a catalog per service (and batch).

The import happens in a scratch scene; everything it created is removed again once the .blend
is written, so the open file ends as it was. The .blend is written under a temporary name and
renamed into place. Blender 4.3 and later drop a collection's preview when they write chosen
data-blocks (``bpy.data.libraries.write`` copies them, and a copied collection has no preview);
there the preview is put into the written file by a second Blender process (``_FINISH``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import bpy
import numpy as np

from ..jobs.model import Job, State
from ..jobs.results import preview_path
from ..providers.redaction import log
from ..workflow import library as assets
from ..workflow import lineage, sequence
from . import previews, scene_import, session, settings

#: The largest side of an asset preview, in pixels.
PREVIEW_MAX = 256
#: How long the process that adds the preview may take.
FINISH_TIMEOUT_S = 120.0
#: Data Blender keeps per window, never created by an import.
_NOT_DATA = frozenset({"window_managers", "screens", "workspaces", "libraries"})

_FINISH = """
import sys
import bpy
import numpy as np
source, target, raw, width, height, name = sys.argv[sys.argv.index("--") + 1:]
bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
with bpy.data.libraries.load(source, link=False) as (found, wanted):
    wanted.collections = [name]
collection = wanted.collections[0]
collection.use_fake_user = True
preview = collection.preview_ensure()
preview.image_size = (int(width), int(height))
preview.image_pixels_float.foreach_set(np.fromfile(raw, dtype=np.float32))
bpy.ops.wm.save_as_mainfile(filepath=target, copy=True, compress=True)
"""

_copies_keep_previews: bool | None = None


def enabled() -> bool:
    return settings.library_enabled()


def folder() -> Path:
    return assets.folder(session.user_dir(), settings.library_folder())


def asset_path(job: Job) -> Path:
    return assets.asset_file(folder(), job)


def _entry() -> Any:
    libraries = bpy.context.preferences.filepaths.asset_libraries
    return next((lib for lib in libraries if lib.name == assets.LIBRARY_NAME), None)


def registered() -> bool:
    return _entry() is not None


def ensure_registered() -> Path:
    """Add the Conjure library to Blender's preferences (or point it at the folder the
    preferences name now); returns the folder."""
    where = folder()
    where.mkdir(parents=True, exist_ok=True)
    entry = _entry()
    if entry is None:
        bpy.context.preferences.filepaths.asset_libraries.new(name=assets.LIBRARY_NAME,
                                                                directory=str(where))
    elif Path(bpy.path.abspath(entry.path)) != where:
        entry.path = str(where)
    return where


def unregister_library() -> None:
    """Take the Conjure library out of Blender's preferences (its files stay)."""
    entry = _entry()
    if entry is not None:
        bpy.context.preferences.filepaths.asset_libraries.remove(entry)


def file_job(job: Job, batch: str = "") -> Path:
    """Write ``job``'s result into the library as an asset (again, when it was filed before);
    returns the .blend. ``batch``: the batch run it came from (its catalog)."""
    if not enabled():
        raise ValueError("The Conjure asset library is turned off: Edit > Preferences > "
                         "Add-ons > Conjure > Asset Library")
    if job.state not in (State.READY, State.IMPORTED):
        raise ValueError(f"Job {job.id} is {job.state}; only a finished result can go into "
                         "the asset library")
    paths = session.result_paths(job)
    sequence.check_importable(job, paths)
    library = ensure_registered()
    catalog = assets.catalog_path(job.service, batch)
    catalog_id = assets.ensure_catalogs(library, [catalog])[catalog]
    target = assets.asset_file(library, job)
    part = assets.temporary_name(target)
    try:
        with _scratch() as scene:
            objects = _import(scene, job, paths)
            collection = bpy.data.collections.new(assets.asset_name(job))
            for ob in objects:
                for old in list(ob.users_collection):
                    old.objects.unlink(ob)
                collection.objects.link(ob)
            _describe(collection, job, catalog_id)
            pixels, size = _preview_pixels(job, objects)
            _set_preview(collection, pixels, size)
            bpy.data.libraries.write(str(part), {collection}, fake_user=True, compress=True,
                                     path_remap="ABSOLUTE")
            if not _copies_keep_previews_now():
                _finish(part, collection.name, pixels, size)
        os.replace(part, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    assets.Record.load(session.user_dir()).add(job.id, catalog)
    return target


def file_quietly(job: Job, batch: str = "") -> Path | None:
    """``file_job`` where a failure must not stop what asked for it (an import): logged."""
    try:
        return file_job(job, batch)
    except Exception as exc:
        log.error("job %s could not be filed in the asset library: %s", job.id,
                  sequence.message(exc))
        return None


def missing() -> list[Job]:
    """Filed jobs whose .blend is not in the library folder (moved, deleted), that can be
    written again: still in the journal, with their result files."""
    found = assets.missing(assets.Record.load(session.user_dir()), folder(), session.find)
    return [job for job in found if scene_import.model_files(session.result_paths(job))
            and all(p.is_file() for p in session.result_paths(job))]


def rebuild(echo: Callable[[str], None] = print) -> tuple[int, int]:
    """Write every missing .blend again; returns (written, failed)."""
    record = assets.Record.load(session.user_dir())
    written = failed = 0
    for job in missing():
        batch = record.jobs.get(job.id, "").split("/", 2)[2:]
        try:
            path = file_job(job, batch[0] if batch else "")
        except Exception as exc:
            failed += 1
            echo(f"[conjure] job {job.id}: {sequence.message(exc)}")
            continue
        written += 1
        echo(f"[conjure] filed job {job.id} → {path}")
    return written, failed


@contextlib.contextmanager
def _scratch() -> Iterator[bpy.types.Scene]:
    """A scene of its own to import into; every data-block created meanwhile (objects,
    meshes, materials, images, the scene) is removed afterwards."""
    before = _data()
    scene = bpy.data.scenes.new("Conjure Library Scratch")
    try:
        yield scene
    finally:
        created = [block for name, pointers in _data().items()
                   for block in getattr(bpy.data, name)
                   if block.as_pointer() in pointers - before.get(name, set())]
        if created:
            bpy.data.batch_remove(created)


def _data() -> dict[str, set[int]]:
    found = {}
    for name in dir(bpy.data):
        blocks = getattr(bpy.data, name, None)
        if name not in _NOT_DATA and isinstance(blocks, bpy.types.bpy_prop_collection):
            found[name] = {block.as_pointer() for block in blocks}
    return found


def _import(scene: bpy.types.Scene, job: Job, paths: list[Path]) -> list[bpy.types.Object]:
    layer = scene.view_layers[0]
    options = replace(settings.import_settings(), at_cursor=False)
    with bpy.context.temp_override(scene=scene, view_layer=layer):
        objects = scene_import.import_model(
            bpy.context, service=job.service, job_id=job.id,
            remote_id=lineage.submission_id(job), paths=paths, settings=options)
        layer.update()
    return objects


def _describe(collection: bpy.types.Collection, job: Job, catalog_id: str) -> None:
    collection.asset_mark()
    data: Any = collection.asset_data
    data.description = assets.prompt(job)
    for tag in assets.tags(job):
        data.tags.new(tag, skip_if_exists=True)
    data.catalog_id = catalog_id
    # Also on the collection: an instance of it (Blender's default drop) points here.
    scene_import.tag_id(collection, job.service, job.id, lineage.submission_id(job))


def _preview_pixels(job: Job, objects: list[bpy.types.Object]) -> tuple[Any, tuple[int, int]]:
    """The asset preview: the job's own picture, rendered now (and kept with the job's
    results) when it has none yet or it cannot be read."""
    picture = preview_path(session.get().root, job.service, job.id)
    if picture.is_file():
        try:
            return _picture_pixels(picture)
        except (RuntimeError, ValueError) as exc:
            log.error("the preview of job %s could not be read (%s); rendering one", job.id, exc)
    previews.render(objects, picture)
    return _picture_pixels(picture)


def _picture_pixels(path: Path) -> tuple[Any, tuple[int, int]]:
    image = bpy.data.images.load(str(path), check_existing=False)  # removed with the scratch
    width, height = image.size
    if max(width, height) > PREVIEW_MAX:
        factor = PREVIEW_MAX / max(width, height)
        width, height = max(1, round(width * factor)), max(1, round(height * factor))
        image.scale(width, height)
    pixels = np.empty(width * height * 4, dtype=np.float32)
    cast(Any, image.pixels).foreach_get(pixels)
    return pixels, (width, height)


def _set_preview(collection: bpy.types.Collection, pixels: Any, size: tuple[int, int]) -> None:
    preview: Any = collection.preview_ensure()
    preview.image_size = size
    preview.image_pixels_float.foreach_set(pixels)


def _copies_keep_previews_now() -> bool:
    """Whether this Blender keeps a collection's preview when it copies the collection (what
    writing chosen data-blocks does); asked once."""
    global _copies_keep_previews
    if _copies_keep_previews is None:
        with _scratch():
            probe = bpy.data.collections.new("Conjure Preview Probe")
            _set_preview(probe, np.zeros(4, dtype=np.float32), (1, 1))
            copy = probe.copy()
            _copies_keep_previews = copy.preview is not None and \
                tuple(copy.preview.image_size) == (1, 1)
    return _copies_keep_previews


def _finish(path: Path, name: str, pixels: Any, size: tuple[int, int]) -> None:
    """Put the preview into the written file with a second Blender process (the Blender
    binary, or this Python when Blender runs as the bpy module); without it the asset keeps
    Blender's default icon, which the log says."""
    with tempfile.TemporaryDirectory(prefix="conjure-asset-") as scratch:
        raw = Path(scratch) / "preview.f32"
        np.asarray(pixels, dtype=np.float32).tofile(raw)
        finished = Path(scratch) / "finished.blend"
        program = [bpy.app.binary_path, "-b", "--factory-startup", "--python-expr"] \
            if bpy.app.binary_path else [sys.executable, "-c"]
        env = dict(os.environ, BLENDER_USER_RESOURCES=str(Path(scratch) / "user"))
        try:
            subprocess.run([*program, _FINISH, "--", str(path), str(finished), str(raw),
                            str(size[0]), str(size[1]), name], check=True, env=env,
                           timeout=FINISH_TIMEOUT_S, capture_output=True)
            shutil.copyfile(finished, path)
        except (OSError, subprocess.SubprocessError) as exc:
            log.error("the asset preview could not be added to %s (%s); it shows Blender's "
                      "default icon", path.name, exc)


# -- showing it ------------------------------------------------------------------------------

#: How many redraws the Asset Browser gets to set itself up before it is pointed at the
#: library (a space just switched to has no browsing settings until it is drawn once).
_POINT_TRIES = 20


def show(context: bpy.types.Context, job: Job) -> str:
    """Make sure ``job`` is in the library, then show the library's catalog of it in an Asset
    Browser: one already open in the window, else the lower part of the 3D View, split off.
    Without a window (``blender -b``, the bpy module) it says where the asset is."""
    path = asset_path(job)
    if path.is_file():
        ensure_registered()
    else:
        path = file_job(job)
    catalog = assets.Record.load(session.user_dir()).jobs.get(
        job.id, assets.catalog_path(job.service))
    catalog_id = assets.ensure_catalogs(folder(), [catalog])[catalog]
    window = getattr(context, "window", None)
    if bpy.app.background or window is None:
        return (f"Job {job.id} is in the Conjure asset library ({path}); open an Asset "
                "Browser on the Conjure library in Blender's window to see it")
    area, opened = _asset_area(context, window)
    if area is None:
        return (f"Job {job.id} is in the Conjure asset library ({path}); no area could be "
                "turned into an Asset Browser")
    tries = iter(range(_POINT_TRIES))

    def point() -> float | None:
        if _point(window, area, catalog_id, refresh=not opened) or next(tries, None) is None:
            return None
        return 0.05

    bpy.app.timers.register(point, first_interval=0.05)
    return f"Showing job {job.id} in the Conjure asset library ({catalog})"


def _asset_area(context: bpy.types.Context, window: bpy.types.Window) -> tuple[Any, bool]:
    """An Asset Browser in ``window``, and whether it was opened now."""
    screen = window.screen
    for area in screen.areas:
        if area.ui_type == "ASSETS":
            return area, False
    views = sorted((a for a in screen.areas if a.type == "VIEW_3D"),
                   key=lambda a: a.width * a.height, reverse=True)
    if not views:
        return None, False
    before = set(screen.areas)
    with context.temp_override(window=window, screen=screen, area=views[0]):
        bpy.ops.screen.area_split(direction="HORIZONTAL", factor=0.4)
    new = [a for a in screen.areas if a not in before]
    # The split's lower part is the new area, or the old one moved down; take the lower.
    area = min([*new, views[0]], key=lambda a: a.y) if new else views[0]
    area.ui_type = "ASSETS"
    return area, True


def _point(window: bpy.types.Window, area: Any, catalog_id: str, refresh: bool) -> bool:
    """Point an Asset Browser at the Conjure library and a catalog; False while it is not set
    up yet. ``refresh``: it was open already, so it reads the library again to list a file
    added meanwhile (one opened now reads it anyway; a refresh reads every library, online
    ones included, which can only fail without a network)."""
    space = area.spaces.active
    params = getattr(space, "params", None)
    if params is None:
        area.tag_redraw()
        return False
    try:
        params.asset_library_reference = assets.LIBRARY_NAME
    except TypeError:  # the browser does not list the library just added yet
        area.tag_redraw()
        return False
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        params.catalog_id = catalog_id
    if refresh:
        with contextlib.suppress(RuntimeError, TypeError), \
                bpy.context.temp_override(window=window, screen=window.screen, area=area):
            bpy.ops.asset.library_refresh()
    area.tag_redraw()
    return True


# -- writing missing assets in the background -----------------------------------------------

#: Seconds between looks for missing assets while the application runs.
REBUILD_EVERY_S = 30.0
#: Jobs the background writing tried this session (a result that fails is not tried again
#: and again; the Write Missing Assets button and the command line still try it).
_tried: set[str] = set()


def _rebuild_step() -> float | None:
    """Write one missing asset per call, from a timer, once a session runs (the library is
    never the reason the session starts)."""
    if session.running() is None or not enabled():
        return REBUILD_EVERY_S
    try:
        due = [job for job in missing() if job.id not in _tried]
        if due:
            _tried.add(due[0].id)
            file_quietly(due[0])
            return 1.0
    except Exception as exc:  # a locked journal or unreadable record: try again later
        log.error("looking for missing library assets failed: %s", exc)
    return REBUILD_EVERY_S


def register() -> None:
    if not bpy.app.background and not bpy.app.timers.is_registered(_rebuild_step):
        bpy.app.timers.register(_rebuild_step, first_interval=5.0, persistent=True)


def unregister() -> None:
    if bpy.app.timers.is_registered(_rebuild_step):
        bpy.app.timers.unregister(_rebuild_step)
