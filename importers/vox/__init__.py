"""MagicaVoxel ``.vox`` import: ``parser`` and ``mesher`` are bpy-free; ``builder`` and
``blender`` create Blender data and register the operator."""
