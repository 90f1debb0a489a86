"""Blender's own extension tooling on the checkout: validate, build, install, enable."""

import json
import shutil
import zipfile

from app.harness import EXTENSION, UserFolder

from tools.app.targets import ROOT

_CHECK_ENABLED = f"""
import bpy, json
print("CONJURE_CHECK", json.dumps({{
    "enabled": "{EXTENSION}" in bpy.context.preferences.addons,
    "pump_registered": hasattr(bpy.types, "CONJURE_OT_pump"),
    "user_dir": bpy.utils.extension_path_user("{EXTENSION}", create=False)
        if "{EXTENSION}" in bpy.context.preferences.addons else "",
}}))
"""


def _check_line(output: str) -> dict:
    lines = [ln for ln in output.splitlines() if ln.startswith("CONJURE_CHECK ")]
    assert lines, f"no CONJURE_CHECK line in:\n{output}"
    return json.loads(lines[-1].split(" ", 1)[1])


def test_blender_validates_the_manifest(target):
    proc = target.run([target.blender, "--command", "extension", "validate", target.checkout],
                      {"HOME": target.path(target.scratch)})
    assert proc.returncode == 0, proc.stdout


def test_blender_rejects_a_broken_manifest(target):
    # The same command must be able to say no, or the check above proves nothing.
    broken = target.scratch / "broken-manifest"
    broken.mkdir(exist_ok=True)
    shutil.copy(ROOT / "__init__.py", broken)
    (broken / "blender_manifest.toml").write_text(
        'schema_version = "1.0.0"\nid = "conjure"\nversion = "not a version"\n')
    proc = target.run([target.blender, "--command", "extension", "validate",
                       target.path(broken)], {"HOME": target.path(target.scratch)})
    assert proc.returncode != 0, proc.stdout


def test_built_zip_holds_the_extension_and_no_development_files(built_zip):
    names = zipfile.ZipFile(built_zip).namelist()
    for needed in ("blender_manifest.toml", "__init__.py", "blender/session.py",
                   "operators/pump.py", "blender/scene_import.py", "providers/thrixel/client.py"):
        assert needed in names, f"{needed} missing from {built_zip.name}"
    leaked = [n for n in names if n.split("/")[0] in
              ("tests", "sandbox", "tools", "benchmarks", "build", ".git", "Makefile")]
    assert not leaked, f"development files in the zip: {leaked[:10]}"


def test_installed_zip_is_enabled_on_a_later_start(user: UserFolder):
    proc = user.blender(["-b", "--python-exit-code", "1", "--python-expr", _CHECK_ENABLED])
    assert proc.returncode == 0, proc.stdout
    check = _check_line(proc.stdout)
    assert check["enabled"] and check["pump_registered"], check
    # The extension's user folder (journal, results) lives in this test's Blender user folder.
    assert check["user_dir"].startswith(user.target.path(user.user)), check


def test_factory_startup_does_not_load_it(user: UserFolder):
    # Control: the check above tells an installed extension from an absent one.
    proc = user.blender(["-b", "--factory-startup", "--python-exit-code", "1",
                         "--python-expr", _CHECK_ENABLED])
    assert proc.returncode == 0, proc.stdout
    check = _check_line(proc.stdout)
    assert not check["enabled"] and not check["pump_registered"], check
