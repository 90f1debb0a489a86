"""The job engine, bpy-free: Job and its states, the SQLite journal, the runner and its worker
threads (the only home of threads), events for the main thread, result files, polling cadence
and background answers."""
