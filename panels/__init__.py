"""The "Conjure" tab of the 3D viewport's sidebar (bpy): one module per panel, in the order they
appear, and ``widgets`` for what they draw alike.

Panels only read properties, the session and the journal and put operator buttons in the
layout; nothing here waits on the network (balances come from a background cache).
"""
