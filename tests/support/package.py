"""Makes the checkout importable as the package ``conjure`` without running its ``__init__.py``
(which registers Blender classes), for tests and child processes of the bpy-free layers."""

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def install() -> None:
    if "conjure" not in sys.modules:
        package = types.ModuleType("conjure")
        package.__path__ = [str(ROOT)]
        package.__file__ = str(ROOT / "__init__.py")
        sys.modules["conjure"] = package
