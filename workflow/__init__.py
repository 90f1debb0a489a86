"""bpy-free application layer: requests from what a user typed, form field specs, the one
submit→wait→pick→import sequence, status words, the cache plan. Tested with plain pytest."""
