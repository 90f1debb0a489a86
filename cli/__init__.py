"""``blender -c conjure ...``: the extension's command line.

``args`` (parsing) and ``batch`` (the CSV and its resumable bookkeeping) are bpy-free and unit
tested; ``blender`` is the thin part that runs inside Blender.
"""
