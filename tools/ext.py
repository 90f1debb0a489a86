"""Blender's own extension tool (``blender_ext.py``, shipped inside the bpy wheel) on this checkout.

    python tools/ext.py validate        # check blender_manifest.toml
    python tools/ext.py build [DIR]     # DIR/conjure-<version>.zip (default build/)

Run it with the python of a bpy environment; bpy itself is not imported.
"""

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def blender_ext() -> Path:
    site = Path(sysconfig.get_paths()["purelib"]) / "bpy"
    found = sorted(site.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        sys.exit(f"blender_ext.py not found under {site}: run this with a bpy environment's python")
    return found[-1]


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    tool = [sys.executable, str(blender_ext())]
    if command == "validate":
        return subprocess.call([*tool, "validate", str(ROOT)])
    if command == "build":
        out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "build"
        out.mkdir(parents=True, exist_ok=True)
        return subprocess.call([*tool, "build", "--source-dir", str(ROOT),
                                "--output-dir", str(out)])
    sys.exit("usage: ext.py validate|build")


if __name__ == "__main__":
    sys.exit(main())
