"""Time and peak memory of importing a 3-D checkerboard ``.vox`` (every other voxel set, so every
face is exposed and nothing merges: the worst case for the mesher); prints figures, asserts
nothing.

    $(tools/venv.sh tools/requirements/dev.txt) benchmarks/vox_budget.py [--sizes 128 256]
    $(tools/venv.sh tools/requirements/bpy-5.0.txt) benchmarks/vox_budget.py --bpy

Each run happens in a child process of its own, which reports its peak resident memory: the
high-water mark of its own address space (``VmHWM`` in ``/proc/self/status``), because
``getrusage``'s ``ru_maxrss`` also keeps the peak of the parent it was started from (Linux
carries it across exec); ``ru_maxrss`` where there is no ``/proc``. Without ``--bpy`` the child
runs the bpy-free stages (parse, face budget, mesh); with ``--bpy`` it imports the file into a
scene as File > Import does, and ``base MB`` is the child's memory after loading bpy. ``--root``
measures another checkout instead of this one (for example an older commit unpacked with
``git archive``); one without the face budget meshes whatever it is given. ``--cap-gb`` limits
each child's address space, so a run that would take all memory fails with a MemoryError
instead of taking the machine down.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "vox"))

from vox_bytes import checkerboard  # noqa: E402  # the tests' .vox writer, found just above


def _peak_mb() -> float:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) / 1024


def _child(args: argparse.Namespace) -> None:
    """One measured run; prints one JSON line."""
    if args.cap_gb:
        limit = int(args.cap_gb * (1 << 30))
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    bpy = None
    if args.bpy:
        os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="conjure-bench-"))
        import bpy  # noqa: PLC0415  (only the --bpy child may load Blender)
    package = types.ModuleType("conjure")
    package.__path__ = [str(args.root)]
    sys.modules["conjure"] = package
    # Known only now: the checkout named by --root.
    from conjure.formats.vox import format as vox_format  # noqa: PLC0415
    from conjure.formats.vox import mesher, parser  # noqa: PLC0415

    base = _peak_mb()
    greedy, watertight = args.mode != "plain", args.mode == "watertight"
    started = time.perf_counter()
    try:
        if bpy is not None:
            from conjure.blender.vox_import import import_vox  # noqa: PLC0415  (--root's)

            options = {"greedy": greedy, "watertight": watertight}
            if "max_faces" in inspect.signature(import_vox).parameters and args.max_faces:
                options["max_faces"] = args.max_faces
            result = import_vox(bpy.context, args.file, **options)
            outcome = f"imported, {result.face_count:,} faces"
        else:
            vox = parser.read_vox(args.file)
            budget = getattr(mesher, "check_face_budget", None)
            if budget is not None:
                limit = args.max_faces or vox_format.DEFAULT_MAX_FACES
                budget(vox.models, limit, greedy=greedy)
            faces = sum(mesher.mesh_voxels(m.voxels, m.size, greedy=greedy,
                                           watertight=watertight).face_count
                        for m in vox.models)
            outcome = f"meshed, {faces:,} faces"
    except MemoryError:
        outcome = f"MemoryError (address space capped at {args.cap_gb:g} GB)"
    except ValueError as error:  # VoxFormatError: the budget refused the file
        outcome = f"refused: {error}"
    seconds = time.perf_counter() - started
    print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_mb": _peak_mb(),
                      "base_mb": base}))
    sys.stdout.flush()
    os._exit(0)  # bpy 4.2 may crash while the interpreter shuts down; the figures are out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--modes", nargs="+", default=["greedy", "watertight"],
                        choices=["greedy", "watertight", "plain"])
    parser.add_argument("--max-faces", type=int, default=0,
                        help="the budget to pass (0: the importer's default)")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--cap-gb", type=float, default=0.0, help="address-space cap per run")
    parser.add_argument("--bpy", action="store_true", help="import into a scene with bpy")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="greedy", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    print(f"checkout {args.root}; {'bpy import' if args.bpy else 'parse + budget + mesh'}")
    print(f"{'size':>5} {'file MB':>8} {'mode':<11}{'seconds':>8}{'peak MB':>9}{'base MB':>9}  "
          "outcome")
    with tempfile.TemporaryDirectory(prefix="conjure-vox-budget-") as folder:
        for n in args.sizes:
            path = Path(folder) / f"checkerboard-{n}.vox"
            path.write_bytes(checkerboard(n))
            megabytes = path.stat().st_size / 1e6
            for mode in args.modes:
                command = [sys.executable, __file__, "--child", "--file", str(path),
                           "--mode", mode, "--root", str(args.root),
                           "--max-faces", str(args.max_faces), "--cap-gb", str(args.cap_gb)]
                if args.bpy:
                    command.append("--bpy")
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
                if not lines:
                    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                    print(f"{n:>5} {megabytes:8.1f} {mode:<11}  child failed "
                          f"(exit {done.returncode}): {tail}")
                    continue
                row = json.loads(lines[-1])
                print(f"{n:>5} {megabytes:8.1f} {mode:<11}{row['seconds']:8.2f}"
                      f"{row['peak_mb']:9.0f}{row['base_mb']:9.0f}  {row['outcome'][:150]}")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
