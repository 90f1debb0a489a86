"""MagicaVoxel ``.vox``: the file format, its parser, the scene graph, the palette and the
mesher. bpy-free; ``blender/vox_import.py`` turns the result into Blender data."""
