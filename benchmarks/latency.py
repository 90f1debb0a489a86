"""From "the service has the result" to "objects in the scene": the gap per service, and the
requests each job costs.

    python benchmarks/latency.py [--jobs 3] [--speed real] [--against REV]
    # with a bpy environment's python; --against REV: before (REV) and after in one run

Starts the sandbox in this process at its real pace, loads the checkout as the extension, and
starts ``--jobs`` rounds of one generation with each of the four services, ``--stagger`` seconds
apart (like a user making one model after another, so that later jobs can be timed by how long
the service's earlier ones took), as the Generate button does (the pump
carries them on: Voxel-AI's first candidate is voxelized), ticking the pump every 0.1 s as the
modal timer does. For each model it takes the time the sandbox finished the
job from the sandbox's own timeline and the time the job's objects first appeared in the scene,
and counts the requests the sandbox answered for the job (a Voxel-AI model is two jobs:
candidates and voxelize; both are counted). Thrixel also shows when the full-quality model was
in the scene after its bake ended, and how many ``/stream`` requests the job opened.

Targets (issue 14): median gap <= 1.0 s for every service; Thrixel's first model <= 1.0 s after
generation ends; <= 8 requests per Thrixel job besides one stream.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sandboxed import (
    environment,
    median,
    options,
    report,
    run,
)
from sandbox import start_sandbox
from tools.blender_dev import bpy, enable_extension, exit_now

#: What each service is asked to make (public service name → generation inputs).
INPUTS = {
    "THRIXEL": {"prompt": "a brass orrery"},
    "TRIPO": {"prompt": "a stone gargoyle"},
    "PIXAL3D": {"image_url": "https://example.com/chair.png"},
    "VOXELAI": {"prompt": "a red barn"},
}
#: The sandbox's name for each service.
SANDBOX_NAME = {"thrixel": "thrixel", "tripo": "tripo", "pixal3d": "pixazo", "voxelai": "voxelai"}
#: The modal pump's timer interval (operators/pump.py).
TICK_S = 0.1


@dataclass
class Model:
    """One generation: its first job and the job whose objects land in the scene."""

    service: str
    root: str
    model_job: str | None = None
    first_seen: float | None = None
    full_seen: float | None = None
    failed: str = ""


def finished_at(sandbox: Any, service: str, remote_id: str) -> float:
    """When the sandbox finished the job (time.monotonic(), this process's clock)."""
    svc = sandbox.services[SANDBOX_NAME[service]]
    if service == "thrixel":
        return svc.submissions[remote_id].timeline.end
    if service == "tripo":
        return svc.store.tasks[remote_id].timeline.end
    if service == "pixal3d":
        return svc.requests[remote_id].timeline.end
    return svc.jobs[remote_id].timeline.end


def full_built_at(sandbox: Any, remote_id: str) -> float:
    sub = sandbox.services["thrixel"].submissions[remote_id]
    return sub.timeline.end + sub.full_build


def start_round(conjure: Any, n: int) -> list[Model]:
    """Start one generation per service the way the Generate button does."""
    session = import_module(f"{conjure.__name__}.blender.session")
    requests = import_module(f"{conjure.__name__}.workflow.requests")
    sequence = import_module(f"{conjure.__name__}.workflow.sequence")
    models = []
    for public, inputs in INPUTS.items():
        values = {k: (f"{v} no. {n + 1}" if k == "prompt" else v) for k, v in inputs.items()}
        request = requests.generation_request(public, **values)
        job = session.submit_request(request)
        candidate = 0 if public == "VOXELAI" else -1
        session.follow(job.id, sequence.Plan(candidate=candidate,
                                             candidate_options=request.later))
        models.append(Model(job.service, job.id))
    return models


def in_scene() -> dict[str, set[str]]:
    """Job id → the qualities of its objects in the scene ("lite" or "full")."""
    found: dict[str, set[str]] = {}
    for ob in bpy.data.objects:
        job_id = ob.get("conjure_job_id")
        if job_id:
            found.setdefault(job_id, set()).add(str(ob.get("conjure_quality", "full")))
    return found


def note(journal: Any, model: Model, seen: dict[str, set[str]], now: float) -> None:
    """Record what of ``model`` is in the scene at ``now`` (or that it failed)."""
    if model.model_job is None:
        children = [j for j in journal.jobs(limit=500) if j.parent_id == model.root]
        model.model_job = children[0].id if children else (
            model.root if model.service != "voxelai" else None)
    for job_id in (model.root, model.model_job):
        job = journal.get(job_id) if job_id else None
        if job is not None and job.state in ("failed", "cancelled", "unknown"):
            model.failed = f"{job.state}: {job.message}"
    qualities = seen.get(model.model_job or "", set())
    if qualities and model.first_seen is None:
        model.first_seen = now
    if "full" in qualities:
        model.full_seen = now


def watch(conjure: Any, rounds: int, stagger: float, timeout: float) -> list[Model]:
    """Start the rounds and tick the pump until every model's full-quality objects are in the
    scene (or it failed)."""
    session = import_module(f"{conjure.__name__}.blender.session")
    pump = import_module(f"{conjure.__name__}.blender.pump")
    journal = session.get().journal
    models: list[Model] = []
    began = time.monotonic()
    while time.monotonic() < began + timeout:
        tick_start = time.monotonic()
        if len(models) < rounds * len(INPUTS) and tick_start >= began + stagger * (
                len(models) // len(INPUTS)):
            models += start_round(conjure, len(models) // len(INPUTS))
        pump.tick()
        now = time.monotonic()
        seen = in_scene()
        for model in models:
            if model.full_seen is None and not model.failed:
                note(journal, model, seen, now)
        if len(models) == rounds * len(INPUTS) and all(
                m.full_seen is not None or m.failed for m in models):
            break
        time.sleep(max(0.0, TICK_S - (time.monotonic() - tick_start)))
    return models


def requests_of(sandbox: Any, remote_ids: list[str]) -> tuple[int, int]:
    """Requests the sandbox answered that name one of ``remote_ids`` (plus one submit each),
    and how many of them opened Thrixel's ``/stream``."""
    count = len(remote_ids)
    streams = 0
    for entry in sandbox.log.entries():
        where = f"{entry.path}?{entry.query}"
        if any(rid in where for rid in remote_ids):
            count += 1
            streams += entry.path.endswith("/stream")
    return count, streams


def figures(sandbox: Any, conjure: Any, models: list[Model]) -> dict[str, Any]:
    session = import_module(f"{conjure.__name__}.blender.session")
    journal = session.get().journal
    out: dict[str, Any] = {}
    for model in models:
        row = out.setdefault(model.service, {"gaps": [], "full_gaps": [], "requests": [],
                                             "streams": [], "failed": []})
        if model.failed or model.model_job is None:
            row["failed"].append(model.failed or "no model job")
            continue
        jobs = [journal.require(model.root)]
        if model.model_job != model.root:
            jobs.append(journal.require(model.model_job))
        model_job = jobs[-1]
        if model.first_seen is not None:
            done = finished_at(sandbox, model.service, model_job.remote_id)
            row["gaps"].append(model.first_seen - done)
        if model.service == "thrixel" and model.full_seen is not None:
            row["full_gaps"].append(model.full_seen - full_built_at(sandbox, model_job.remote_id))
        count, streams = requests_of(sandbox, [j.remote_id for j in jobs if j.remote_id])
        row["requests"].append(count)
        row["streams"].append(streams)
    return out


def seconds(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.2f}"


def table(label: str, results: dict[str, Any]) -> None:
    print(f"-- {label}: median (min..max) of {sum(len(r['requests']) for r in results.values())}"
          " models")
    print(f"{'service':9} {'gap s':>22} {'requests/model':>16}  notes")
    for service, row in results.items():
        gaps = row["gaps"]
        spread = f"({min(gaps):.2f}..{max(gaps):.2f})" if gaps else ""
        notes = []
        if service == "thrixel":
            notes.append(f"full-quality gap after the bake {seconds(median(row['full_gaps']))} s")
            notes.append(f"stream opens {median(row['streams'])}")
        if service == "voxelai":
            notes.append("two jobs per model")
        if row["failed"]:
            notes.append(f"FAILED {len(row['failed'])}: {row['failed'][0]}")
        print(f"{service:9} {seconds(median(gaps))} {spread:>15} "
              f"{median(row['requests']) or 0:16.1f}  {'; '.join(notes)}")


def measure(args: Any) -> int:
    with start_sandbox(speed=args.speed) as sandbox:
        os.environ.update(environment(sandbox))
        conjure = enable_extension(online=True, root=args.extension)
        session = import_module(f"{conjure.__name__}.blender.session")
        bpy.ops.wm.read_homefile(use_empty=True)
        models = watch(conjure, args.jobs, args.stagger, args.timeout)
        results = figures(sandbox, conjure, models)
        session.shutdown()
    table(args.label, results)
    report(results)
    return 0


def main() -> int:
    parser = options(__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3, help="generations per service")
    parser.add_argument("--stagger", type=float, default=60.0,
                        help="seconds between the rounds of one generation per service")
    parser.add_argument("--speed", default="real", choices=("real", "fast"))
    parser.add_argument("--timeout", type=float, default=900.0)
    return run(Path(__file__), parser.parse_args(), measure, table)


if __name__ == "__main__":
    exit_now(main())
