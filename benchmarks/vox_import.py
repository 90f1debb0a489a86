"""Times the .vox importer per stage on the shared fixtures; prints figures, asserts nothing.

    $(tools/venv.sh tools/requirements/bpy-5.0.txt) benchmarks/vox_import.py [files...]

Columns: parse, mesh and build seconds (best of --repeat runs) and the full import, faces with
greedy merging and with plain per-voxel quads, and the peak traced memory of parse + mesh
(tracemalloc, which sees NumPy buffers) divided by the voxel count. Without bpy only the
bpy-free stages run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "vox"

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="conjure-bench-"))
try:
    import bpy
except ImportError:
    bpy = None

# Import the checkout as package "conjure" without running its Blender registration.
if "conjure" not in sys.modules:
    package = types.ModuleType("conjure")
    package.__path__ = [str(ROOT)]
    sys.modules["conjure"] = package

from conjure.formats.vox.mesher import mesh_voxels  # noqa: E402
from conjure.formats.vox.parser import parse_vox  # noqa: E402

if bpy is not None:
    from conjure.blender.vox_import import import_vox


def best(repeat: int, work):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def measure(path: Path, repeat: int) -> dict[str, float | int | str]:
    data = path.read_bytes()
    parse_s, vox = best(repeat, lambda: parse_vox(data))
    voxels = sum(m.voxel_count for m in vox.models)

    def mesh_all(**options):
        return [mesh_voxels(m.voxels, m.size, **options) for m in vox.models]

    mesh_s, greedy = best(repeat, mesh_all)
    plain = mesh_all(greedy=False)
    watertight = mesh_all(watertight=True)

    tracemalloc.start()
    for model in parse_vox(data).models:
        mesh_voxels(model.voxels, model.size)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    row: dict[str, float | int | str] = {
        "file": path.name,
        "voxels": voxels,
        "parse": parse_s,
        "mesh": mesh_s,
        "greedy": sum(m.face_count for m in greedy),
        "plain": sum(m.face_count for m in plain),
        "watertight_loops": sum(m.loop_count for m in watertight),
        "peak_bytes": peak,
    }
    if bpy is not None:
        totals = []
        builds = []
        for run in range(repeat):
            _clear()
            started = time.perf_counter()
            result = import_vox(bpy.context, str(path), name=f"bench {run}")
            totals.append(time.perf_counter() - started)
            builds.append(result.timings["build"])
        row["build"] = min(builds)
        row["total"] = min(totals)
        _clear()
    return row


def _clear() -> None:
    data = bpy.data
    ids = [*data.objects, *data.meshes, *data.materials, *data.images, *data.collections]
    if ids:
        data.batch_remove(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = args.files or sorted(FIXTURES.glob("*.vox"))
    if bpy is not None:
        print(f"bpy {bpy.app.version_string}")
    else:
        print("bpy not importable: parse and mesh stages only")
    header = (
        f"{'file':<16}{'voxels':>8}{'parse ms':>10}{'mesh ms':>9}{'build ms':>10}{'total ms':>10}"
        f"{'greedy':>8}{'plain':>8}{'ratio':>7}{'peak B':>10}{'B/voxel':>9}"
    )
    print(header)
    for path in files:
        row = measure(path, args.repeat)
        build = f"{row['build'] * 1000:10.1f}" if "build" in row else f"{'-':>10}"
        total = f"{row['total'] * 1000:10.1f}" if "total" in row else f"{'-':>10}"
        ratio = int(row["greedy"]) / max(1, int(row["plain"]))
        per_voxel = int(row["peak_bytes"]) / max(1, int(row["voxels"]))
        print(
            f"{row['file']:<16}{row['voxels']:>8}{row['parse'] * 1000:10.1f}"
            f"{row['mesh'] * 1000:9.1f}{build}{total}{row['greedy']:>8}{row['plain']:>8}"
            f"{ratio:7.3f}{row['peak_bytes']:>10}{per_voxel:9.1f}"
        )
    sys.stdout.flush()
    if bpy is not None and bpy.app.version < (4, 3, 0):
        # bpy 4.2 may crash while the interpreter shuts down; the figures are already out.
        os._exit(0)


if __name__ == "__main__":
    main()
