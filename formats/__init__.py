"""File formats Conjure reads, bpy-free: MagicaVoxel ``.vox`` and glTF node names."""
