"""The Blender side of Conjure (bpy): the session that owns the job engine in this Blender, the
WindowManager mirror of the journal, the pump, preferences, panel forms, pictures, and putting
results into the scene. Operators and panels sit above it; ``workflow``, ``jobs``,
``providers`` and ``formats`` below it never import bpy."""

#: The extension's module name, which Blender uses for its preferences and user folder
#: (``bl_ext.<repository>.conjure``).
EXTENSION = __package__.rpartition(".")[0]
