"""``blender -c conjure``: the thin part that runs inside Blender. Parsing (``cli.args``), the
batch's bookkeeping and its run (``cli.batch``, ``cli.batch_run``) and the workflow itself are
bpy-free; here each model is imported into a fresh file and written out.

Exit codes: 0 all done, 1 a job or row failed, 2 bad command line or input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import bpy

from ..cli import args as cli_args
from ..cli import batch as cli_batch
from ..cli.batch_run import BatchRun
from ..jobs.model import Job
from ..providers.base import SlotGroup
from ..providers.errors import InvalidRequestError
from ..workflow import cost, lineage, requests, sequence, status
from ..workflow import library as assets
from ..workflow import parts as part_rows
from . import hierarchies, library, session
from .scene_import import accepted_options
from .steps import SceneSteps, import_job, land


def _out(text: str) -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    """Entry point registered with ``bpy.utils.register_cli_command``."""
    try:
        ns = cli_args.parse(list(argv))
    except cli_args.UsageError as exc:
        if str(exc):
            (_out if exc.status == 0 else _err)(str(exc).rstrip())
        return exc.status
    try:
        if ns.command == "generate":
            return generate(ns)
        if ns.command == "batch":
            return run_batch(ns.csv, output_dir=ns.output_dir, concurrency=ns.concurrency,
                             fmt=ns.format, timeout=ns.timeout, max_cost=ns.max_cost,
                             library=ns.library)
        if ns.command == "library":
            return library_command(ns.rebuild, ns.add)
        if ns.command == "jobs":
            return list_costs() if ns.cost else list_jobs()
        if ns.command == "parts":
            return list_parts(ns.job_id)
        if ns.command == "edit":
            return edit(ns)
        return reimport(ns.job_id, ns.output)
    except (cli_batch.BatchError, *sequence.USER_ERRORS) as exc:
        _err(f"conjure: {sequence.message(exc)}")
        return 2 if isinstance(exc, cli_batch.BatchError | ValueError) else 1


def fresh_file() -> None:
    """Start the next model in an empty file, so each output holds that model alone. (The
    command line's file is its own; nothing of the user's is open.)"""
    bpy.ops.wm.read_homefile(use_empty=True)


def write_model(path: Path, objects: list[bpy.types.Object]) -> Path:
    """Save the current file (made by ``fresh_file`` and one import) as a .blend, or just the
    model's objects as a .glb. A whole-file save rather than ``bpy.data.libraries.write`` of a
    scene: the latter crashes Blender 5.2."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".glb":
        view_layer = bpy.context.view_layer
        assert view_layer is not None
        for ob in view_layer.objects:
            ob.select_set(ob in objects)
        exporter = cast(Any, bpy.ops).export_scene.gltf
        options = accepted_options(exporter, {"export_format": "GLB", "use_selection": True,
                                              "export_extras": True})
        exporter(filepath=str(path), **options)
        return path
    bpy.ops.wm.save_as_mainfile(filepath=str(path), copy=True)
    return path


class FileSteps(SceneSteps):
    """The workflow's steps for the command line: each model is imported into a fresh, empty
    file and written to the path ``output_for`` gives for its job."""

    def __init__(self, output_for: Callable[[Job], Path], timeout: float | None,
                 library_batch: str | None = None) -> None:
        super().__init__(bpy.context, echo=_out, timeout=timeout)
        self.output_for = output_for
        #: File each result in the asset library, in this batch's catalog ("": the service's);
        #: None: not at all.
        self.library_batch = library_batch

    def import_job(self, job: Job) -> sequence.Imported:
        fresh_file()
        objects = list(land(bpy.context, job, filing=False).objects)
        write_model(self.output_for(job), objects)
        if self.library_batch is not None:
            # The model file is written: a result the library refuses still counts as done.
            try:
                filed = library.file_job(session.job(job.id), self.library_batch)
                _out(f"[conjure] filed job {job.id} in the asset library: {filed}")
            except sequence.USER_ERRORS as exc:
                _err(f"conjure: job {job.id} not filed in the asset library: "
                     f"{sequence.message(exc)}")
        return sequence.Imported(len(objects), objects[0].users_collection[0].name)


def generate(ns: Any) -> int:
    request = requests.generation_request(
        ns.provider, mode=ns.mode, prompt=ns.prompt, negative_prompt=ns.negative_prompt,
        image_path=ns.image, image_url=ns.image_url, options=ns.options)
    output = Path(ns.output).resolve()
    steps = FileSteps(lambda _job: output, ns.timeout, "" if ns.library else None)
    job = steps.submit(request)
    _out(f"[conjure] submitted {status.headline(job.service, job.operation)} job {job.id}")
    plan = sequence.Plan(candidate=ns.candidate, candidate_options=request.later)
    outcome = sequence.run_to_end(job, plan, steps)
    if not outcome.ok:
        _err(f"conjure: {outcome.message}")
        return 1
    assert outcome.imported is not None
    _out(f"[conjure] imported {outcome.imported.count} objects from job {outcome.job.id}")
    _out(f"CONJURE_OUTPUT={output}")
    return 0


def list_jobs() -> int:
    jobs = session.get().journal.jobs(limit=500)
    _out(f"{'JOB':16}  {'SERVICE':8}  {'OPERATION':18}  {'STATE':11}  {'REMOTE ID':36}  PROMPT")
    for job in jobs:
        _out(f"{job.id:16}  {job.service:8}  {job.operation:18}  {job.state:11}  "
             f"{(job.remote_id or '-'):36}  {sequence.job_title(job)[:60]}")
    _out(f"{len(jobs)} jobs")
    return 0


def list_costs() -> int:
    """``jobs --cost``: what the services charged, per service and day."""
    for line in cost.ledger_rows(cost.ledger(session.get().journal.jobs())):
        _out(line)
    return 0


def reimport(job_id: str, output: str) -> int:
    job = session.job(job_id)
    if output:
        fresh_file()
    objects = import_job(bpy.context, job)
    _out(f"[conjure] imported {len(objects)} objects from job {job.id}")
    if output:
        out = write_model(Path(output).resolve(), objects)
        _out(f"CONJURE_OUTPUT={out}")
    return 0


def library_command(rebuild: bool, add: list[str]) -> int:
    """``blender -c conjure library [--rebuild] [--add JOB_ID ...]``: the library's folder and
    what is missing from it; writes the missing assets again, files the jobs named."""
    failed = 0
    for job_id in add:
        path = library.file_job(session.job(job_id))
        _out(f"[conjure] filed job {job_id}: {path}")
    if rebuild:
        written, failed = library.rebuild(echo=_out)
        _out(f"[conjure] wrote {written} missing assets" + (f", {failed} failed" if failed
                                                             else ""))
    record = assets.Record.load(session.user_dir())
    _out(f"Conjure asset library: {library.folder()}")
    _out(f"{len(record.jobs)} jobs filed, {len(library.missing())} missing"
         + ("" if library.enabled() else " (turned off in the preferences)"))
    return 1 if failed else 0


def list_parts(job_id: str) -> int:
    """``blender -c conjure parts JOB_ID``: the model's part tree with face counts (read from
    the copy kept with the job's results, else asked of Thrixel once)."""
    tree = hierarchies.wait(session.job(job_id))
    rows = part_rows.rows(tree)
    width = max((2 * row.depth + len(row.name) for row in rows), default=4) + 2
    _out(f"{'PART':{width}}  FACES")
    for row in rows:
        label = "  " * row.depth + row.name
        _out(f"{label:{width}}  {row.faces:>9,}{'  (group)' if row.container else ''}")
    leaves = sum(1 for row in rows if not row.container)
    _out(f"{leaves} parts, {tree.total_faces:,} faces")
    return 0


def edit(ns: Any) -> int:
    """``blender -c conjure edit JOB_ID --request ... --parts a,b [--output f]``: the model
    imported into a fresh file, the focused edit sent (its part names checked first) and
    applied in place, the updated model written out."""
    source = session.job(ns.job_id)
    names = requests.split_parts(ns.parts)
    refused = lineage.refusal(source, "edit", session.find)
    if refused:
        raise InvalidRequestError(refused, field="job_id")
    hierarchies.check_parts(source, names, blocking=True)
    request = requests.follow_up_request(
        source.service, "edit", parent_remote_id=lineage.submission_id(source),
        parent_job_id=source.id, prompt=ns.request, parts=names)
    fresh_file()
    import_job(bpy.context, source)
    if not names:
        _out("[conjure] No parts given: Thrixel may change the whole model")
    steps = SceneSteps(bpy.context, echo=_out, timeout=ns.timeout)
    job = steps.submit(request)
    _out(f"[conjure] submitted {status.headline(job.service, job.operation)} job {job.id} of "
         f"job {source.id}")
    outcome = sequence.run_to_end(job, sequence.Plan(), steps)
    if not outcome.ok or outcome.imported is None:
        _err(f"conjure: {outcome.message}")
        return 1
    _out(f"[conjure] {outcome.message}")
    if ns.output:
        out = write_model(Path(ns.output).resolve(), list(outcome.imported.objects))
        _out(f"CONJURE_OUTPUT={out}")
    return 0


def run_batch(csv_path: str, *, output_dir: str, concurrency: int | None = None,
              fmt: str = "blend", timeout: float | None = None,
              max_cost: float | str | Mapping[str, float] | None = None,
              library: bool = False) -> int:
    """``blender -c conjure batch``: one model file per CSV row; resumable (see ``batch``).
    ``concurrency`` None: as many rows at once as each service allows. ``max_cost``: stop
    sending rows before their estimates pass it: a number for each service in its own unit, or
    per service (``{"TRIPO": 200, "PIXAL3D": 2}`` or ``"TRIPO=200"``). ``library``: file
    every result in the asset library too, in a catalog named after the CSV file."""
    caps = cli_args.caps(max_cost)
    rows = cli_batch.read_rows(csv_path)
    folder = Path(output_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    run = BatchRun(rows, folder, concurrency, fmt, out=_out, caps=caps,
                   prices=session.live_prices_now)
    steps = FileSteps(run.output_for, timeout, Path(csv_path).stem if library else None)
    return run.run(_SessionJobs(), steps, timeout)


class _SessionJobs:
    """The session as ``BatchRun`` reads it."""

    def tick(self) -> int:
        return session.tick()

    def get(self, job_id: str) -> Job | None:
        return session.get().journal.get(job_id)

    def recent(self, limit: int) -> list[Job]:
        return session.get().journal.jobs(limit=limit)

    def slot_group(self, service: str, operation: str, params: dict[str, Any]) -> SlotGroup:
        return session.get().runner.clients[service].slot_group(operation, params)


_handle: Any = None


def register() -> None:
    global _handle
    _handle = bpy.utils.register_cli_command("conjure", main)


def unregister() -> None:
    global _handle
    if _handle is not None:
        bpy.utils.unregister_cli_command(_handle)
        _handle = None
