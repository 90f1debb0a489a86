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
    key = f"{DEFAULT_KEYS[service]}-{request.node.name}"[:120]
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


def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config):
    # bpy 4.2 can segfault while the interpreter shuts down (after glTF export, for example),
    # turning a green run into exit code 139. Leave before that shutdown with pytest's own
    # status, so a real failure still fails.
    if bpy.app.version < (4, 3, 0):
        blender_dev.exit_now(_exit_status)
