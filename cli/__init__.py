"""``blender -c conjure ...``, bpy-free: argument parsing (``args``), the batch CSV and its
resumable bookkeeping (``batch``) and a batch run over the workflow (``batch_run``). The thin
part that runs inside Blender is ``blender/command_line.py``.
"""
