"""How long one pump tick holds Blender's main thread while 20 jobs stream events.

    python benchmarks/pump.py [seconds]     # run with a bpy environment's python

Twenty worker threads post progress snapshots as fast as a busy runner would (every 5 ms each,
far more often than any service answers), while the main thread calls the pump's tick every
10 ms, as the modal timer would. Prints the longest and 99th-percentile tick. Target: max < 2 ms.
"""

import statistics
import sys
import threading
import time
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.blender_dev import bpy, enable_extension, exit_now

JOBS = 20


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    conjure = enable_extension(online=False)
    session = import_module(f"{conjure.__name__}.blender.session")
    pump = import_module(f"{conjure.__name__}.blender.pump")
    model = import_module(f"{conjure.__name__}.jobs.model")
    running = session.get()
    stop = threading.Event()
    posted = [0] * JOBS

    def stream(n: int) -> None:
        job = model.Job("thrixel", "create", {"task": f"job {n}"}, state=model.State.RUNNING,
                        remote_id=f"r{n}")
        while not stop.is_set():
            posted[n] += 1
            job = model.Job(**{**job.to_dict(), "progress": (posted[n] % 100) / 100,
                               "message": f"step {posted[n]}", "state": model.State.RUNNING})
            running.events.put(job, "progress", "message")
            time.sleep(0.005)

    threads = [threading.Thread(target=stream, args=(n,), daemon=True) for n in range(JOBS)]
    for thread in threads:
        thread.start()
    ticks = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        pump.tick()  # what the modal timer calls: mirror the events, then any due import
        ticks.append(time.perf_counter() - start)
        time.sleep(0.01)
    stop.set()
    for thread in threads:
        thread.join()
    ticks_ms = sorted(t * 1000 for t in ticks)
    p99 = ticks_ms[int(len(ticks_ms) * 0.99) - 1]
    print(f"bpy {bpy.app.version_string}: {len(ticks_ms)} ticks, {sum(posted)} events from "
          f"{JOBS} jobs, {len(bpy.context.window_manager.conjure.jobs)} rows mirrored")
    print(f"tick max {ticks_ms[-1]:.3f} ms, p99 {p99:.3f} ms, "
          f"median {statistics.median(ticks_ms):.3f} ms (target max < 2 ms)")
    print(f"the session's own record of its longest tick: {running.stats.longest_s * 1000:.3f} ms")
    session.shutdown()
    return 0


if __name__ == "__main__":
    exit_now(main())
