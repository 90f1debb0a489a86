"""Blender's own extension tooling accepts the manifest and builds a zip of only what ships."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {"__init__.py", "blender_manifest.toml", "blender/session.py",
           "blender/preferences.py", "workflow/sequence.py", "formats/vox/parser.py",
           "operators/generate.py", "panels/generate.py", "cli/batch_run.py"}
NEVER = ("tests/", "sandbox/", "benchmarks/", "tools/", ".ci/", "build/", "__pycache__",
         ".pyc", ".git", "Makefile", "pyproject.toml")


def ext(*args):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "ext.py"), *args],
                          capture_output=True, text=True, timeout=120)


def test_manifest_validates():
    result = ext("validate")
    assert result.returncode == 0, result.stdout + result.stderr


def test_built_zip_holds_only_the_extension(tmp_path):
    result = ext("build", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    [built] = tmp_path.glob("conjure-*.zip")
    names = zipfile.ZipFile(built).namelist()
    assert SHIPPED <= set(names)
    assert any(n.startswith("jobs/") for n in names) and any(n.startswith("providers/")
                                                             for n in names)
    leaked = [n for n in names if any(bad in n for bad in NEVER)]
    assert leaked == []
