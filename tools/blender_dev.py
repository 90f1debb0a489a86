"""Load this checkout into the ``bpy`` module as the real extension ``bl_ext.dev.conjure``.

Used by the Blender test tier and the demo. Blender's user resources go to a scratch folder
(``BLENDER_USER_RESOURCES`` must be set before bpy is imported, so import this module first);
the checkout is exposed through a local extension repository holding a ``conjure`` link to it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
REPO_MODULE = "dev"
EXTENSION = f"bl_ext.{REPO_MODULE}.conjure"

SCRATCH = Path(tempfile.mkdtemp(prefix="conjure-bpy-"))
os.environ["BLENDER_USER_RESOURCES"] = str(SCRATCH / "user")

import bpy  # noqa: E402, I001  (must follow BLENDER_USER_RESOURCES)
import addon_utils  # noqa: E402  (on the path only once bpy is loaded)


def _raise(exc: BaseException) -> None:
    raise exc


def enable_extension(online: bool = True, root: Path = ROOT) -> ModuleType:
    """Enable Conjure from the checkout (or another copy of it at ``root``, e.g. an earlier
    revision a benchmark compares with) and return its top-level module."""
    repo_dir = SCRATCH / "repo"
    repo_dir.mkdir(exist_ok=True)
    link = repo_dir / "conjure"
    if not link.exists():
        link.symlink_to(root, target_is_directory=True)
    prefs = bpy.context.preferences
    if not any(r.module == REPO_MODULE for r in prefs.extensions.repos):
        prefs.extensions.repos.new(name=REPO_MODULE, module=REPO_MODULE,
                                   custom_directory=str(repo_dir))
    prefs.system.use_online_access = online
    addon_utils.enable(EXTENSION, default_set=True, handle_error=_raise)
    return sys.modules[EXTENSION]


def exit_now(status: int) -> None:
    """Leave without interpreter shutdown: bpy 4.2 can segfault there (exit code 139) after
    some operations, which would turn a good run into a failure."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
