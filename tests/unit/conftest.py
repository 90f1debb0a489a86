"""Unit tier: plain Python, no bpy.

The checkout is the extension package itself, whose ``__init__.py`` registers Blender classes.
Tests import the bpy-free layers as ``conjure.<layer>`` through a package object that points at the
checkout without running that ``__init__.py``.
"""

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

if "conjure" not in sys.modules:
    package = types.ModuleType("conjure")
    package.__path__ = [str(ROOT)]
    package.__file__ = str(ROOT / "__init__.py")
    sys.modules["conjure"] = package
