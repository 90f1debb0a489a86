"""Blender tier: the real ``bpy`` module with Conjure loaded as a real extension.

The checkout is exposed to Blender through a local extension repository named ``dev`` (a
temporary folder holding a ``conjure`` link to the checkout), so the extension is imported as
``bl_ext.dev.conjure`` exactly as an installed one, with working ``__package__`` preferences and
``bpy.utils.extension_path_user``. Blender's user resources live in a temporary folder so no test
touches the machine's own Blender configuration.

Fixtures:
- ``conjure``: the extension's top-level module (``bl_ext.dev.conjure``), enabled once per session.
- ``fresh_scene``: removes every object and the data-blocks the tests create before a test.
"""

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPO_MODULE = "dev"
EXTENSION = f"bl_ext.{REPO_MODULE}.conjure"

_scratch = Path(tempfile.mkdtemp(prefix="conjure-bpy-"))
os.environ["BLENDER_USER_RESOURCES"] = str(_scratch / "user")

import bpy  # noqa: E402  (must follow BLENDER_USER_RESOURCES)

_exit_status = 0


def _raise(exc: BaseException) -> None:
    raise exc


def _enable_extension():
    import addon_utils

    repo_dir = _scratch / "repo"
    repo_dir.mkdir(exist_ok=True)
    link = repo_dir / "conjure"
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    prefs = bpy.context.preferences
    if not any(r.module == REPO_MODULE for r in prefs.extensions.repos):
        prefs.extensions.repos.new(
            name=REPO_MODULE, module=REPO_MODULE, custom_directory=str(repo_dir)
        )
    prefs.system.use_online_access = True
    addon_utils.enable(EXTENSION, default_set=True, handle_error=_raise)
    return sys.modules[EXTENSION]


@pytest.fixture(scope="session")
def conjure():
    return _enable_extension()


@pytest.fixture
def fresh_scene(conjure):
    if bpy.context.object is not None and bpy.context.object.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    data = bpy.data
    ids = [*data.objects, *data.meshes, *data.materials, *data.images, *data.cameras,
           *data.lights, *data.node_groups, *data.armatures, *data.actions]
    ids += [c for c in data.collections]
    if ids:
        data.batch_remove(ids)
    return bpy.context.scene


def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config):
    # bpy 4.2 can segfault while the interpreter shuts down (after glTF export, for example),
    # turning a green run into exit code 139. Leave before that shutdown, with pytest's own
    # status, so a real failure still fails.
    if bpy.app.version < (4, 3, 0):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
