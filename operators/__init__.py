"""Conjure's Blender operators (bpy), thin: one module per concern. Each reads its properties,
calls the session or the workflow, and reports; none holds state that another module reads."""
