"""The main job: one generation through Conjure, end to end, against the local sandbox.

Starts the sandbox on loopback, loads the checkout into the real ``bpy`` module as the extension
``bl_ext.dev.conjure``, generates a Thrixel model from a prompt through the job engine (journal,
worker threads) with ``bpy.ops.conjure.generate`` on its blocking path, which imports the
result into the scene, and saves a .blend.

    python tools/demo.py ["a prompt"]        # CONJURE_DEMO_SPEED=fast|real (default real)
"""

import os
import sys
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox import DEFAULT_KEYS, start_sandbox
from tools.blender_dev import ROOT, bpy, enable_extension, exit_now


def main() -> int:
    prompt = sys.argv[1] if len(sys.argv) > 1 else "a small stone gargoyle holding a lantern"
    speed = os.environ.get("CONJURE_DEMO_SPEED", "real")
    out = ROOT / "build" / "demo" / "conjure-demo.blend"
    with start_sandbox(speed=speed) as sandbox:
        print(f"sandbox: {sandbox.url} (speed {speed})")
        os.environ["CONJURE_THRIXEL_URL"] = sandbox.service_url("thrixel")
        os.environ["CONJURE_THRIXEL_KEY"] = DEFAULT_KEYS["thrixel"]
        conjure = enable_extension(online=True)
        session = import_module(f"{conjure.__name__}.blender.session")

        bpy.ops.wm.read_homefile(use_empty=True)
        try:
            bpy.ops.conjure.generate(provider="THRIXEL", prompt=prompt)
        except RuntimeError as exc:  # the operator's error report, in words
            print(f"demo: {exc}", file=sys.stderr)
            return 1
        job = session.get().journal.jobs(limit=1)[0]
        objects = [ob for ob in bpy.data.objects if ob.get("conjure_job_id") == job.id]
        session.shutdown()
        if not objects:
            print(f"demo: job {job.id} ended {job.state} with nothing in the scene",
                  file=sys.stderr)
            return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(out))
    names = ", ".join(sorted(ob.name for ob in objects))
    print(f"demo: imported {len(objects)} objects ({names})")
    print(f"DEMO_BLEND={out}")
    return 0


if __name__ == "__main__":
    exit_now(main())
