"""Unit tier: plain Python, no bpy. The bpy-free layers are imported as ``conjure.<layer>``."""

from support import package

package.install()
