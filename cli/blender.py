"""The part of ``blender -c conjure`` that runs inside Blender: submit through the engine, wait
with progress lines on stdout, import, write files. Parsing and the batch's bookkeeping live in
``args`` and ``batch`` (bpy-free).

Exit codes: 0 all done, 1 a job or row failed, 2 bad command line or input.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, cast

import bpy

from .. import engine, inputs
from ..importers.scene import accepted_options
from ..jobs.model import Job, State
from ..operators import common
from . import args as cli_args
from . import batch as cli_batch


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
                             fmt=ns.format, timeout=ns.timeout)
        if ns.command == "jobs":
            return list_jobs()
        return import_job(ns.job_id, ns.output)
    except (cli_batch.BatchError, *common.USER_ERRORS) as exc:
        _err(f"conjure: {common.message(exc)}")
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


def _finish(job: Job, timeout: float | None, candidate: int,
            later: dict[str, Any] | None) -> Job:
    """Wait for ``job``; where it delivered candidates, voxelize ``candidate`` and wait."""
    [job] = engine.run_blocking([job.id], timeout=timeout)
    if job.state == State.READY and inputs.is_candidates(job.result_files):
        child = common.pick(job, candidate, later)
        _out(f"[conjure] candidate {candidate} of job {job.id} → job {child.id}")
        [job] = engine.run_blocking([child.id], timeout=timeout)
    return job


def generate(ns: Any) -> int:
    request = inputs.generation_request(
        ns.provider, mode=ns.mode, prompt=ns.prompt, negative_prompt=ns.negative_prompt,
        image_path=ns.image, image_url=ns.image_url, options=ns.options)
    job = common.submit(request)
    _out(f"[conjure] submitted {job.provider} {job.operation} job {job.id}")
    job = _finish(job, ns.timeout, ns.candidate, request.later)
    problem = common.finished_problem(job)
    if problem:
        _err(f"conjure: {problem}")
        return 1
    fresh_file()
    objects = common.import_job(bpy.context, job)
    out = write_model(Path(ns.output).resolve(), objects)
    _out(f"[conjure] imported {len(objects)} objects from job {job.id}")
    _out(f"CONJURE_OUTPUT={out}")
    return 0


def list_jobs() -> int:
    jobs = engine.get().journal.jobs(limit=500)
    _out(f"{'JOB':16}  {'SERVICE':8}  {'OPERATION':18}  {'STATE':11}  {'REMOTE ID':36}  PROMPT")
    for job in jobs:
        _out(f"{job.id:16}  {job.provider:8}  {job.operation:18}  {job.state:11}  "
             f"{(job.remote_id or '-'):36}  {common.inputs_prompt(job)[:60]}")
    _out(f"{len(jobs)} jobs")
    return 0


def import_job(job_id: str, output: str) -> int:
    job = engine.job(job_id)
    if output:
        fresh_file()
    objects = common.import_job(bpy.context, job)
    _out(f"[conjure] imported {len(objects)} objects from job {job.id}")
    if output:
        out = write_model(Path(output).resolve(), objects)
        _out(f"CONJURE_OUTPUT={out}")
    return 0


class _BatchRun:
    """One run over a CSV: submits at most ``concurrency`` rows at a time, imports each
    finished row on the main thread and writes its file."""

    def __init__(self, rows: list[cli_batch.Row], folder: Path, concurrency: int,
                 fmt: str) -> None:
        self.rows = rows
        self.folder = folder
        self.concurrency = concurrency
        self.fmt = fmt
        self.manifest = cli_batch.Manifest(folder)
        self.outcomes: dict[int, cli_batch.Outcome] = {}
        self.later: dict[int, dict[str, Any]] = {}
        #: Row number → the job being waited for.
        self.active: dict[int, str] = {}
        self.total = len(rows)

    def say(self, row: cli_batch.Row, text: str) -> None:
        _out(f"[batch] row {row.number}/{self.total} {row.provider.upper()}: {text}")

    def done(self, row: cli_batch.Row, ok: bool, text: str) -> None:
        self.outcomes[row.number] = cli_batch.Outcome(row, ok, text)
        self.active.pop(row.number, None)
        self.say(row, text if ok else f"FAILED: {text}")

    def lookup(self, job_id: str) -> Job | None:
        return engine.get().journal.get(job_id)

    def start(self) -> list[cli_batch.Row]:
        """Settle every row from the manifest and the journal; returns rows to submit."""
        journal_jobs = engine.get().journal.jobs(limit=2000)
        to_submit = []
        for row in self.rows:
            entry = self.manifest.entry(row)
            found = cli_batch.adopt(entry, journal_jobs)
            if found is not None:
                self.manifest.submitted(row, found.id)
            action, job = cli_batch.plan(row, entry, self.lookup,
                                         lambda p: (self.folder / p).is_file())
            if action == cli_batch.DONE:
                self.done(row, True, f"already done ({entry.output})")
            elif action == cli_batch.STUCK:
                assert job is not None
                self.done(row, False, common.finished_problem(job) or str(job.state))
            elif action in (cli_batch.WAIT, cli_batch.IMPORT):
                assert job is not None
                self.active[row.number] = job.id
                self.say(row, f"continuing job {job.id} ({job.state})")
            else:
                to_submit.append(row)
        return to_submit

    def submit(self, row: cli_batch.Row) -> None:
        try:
            request = inputs.generation_request(row.provider, mode=row.mode, prompt=row.prompt,
                                                options=row.options)
            self.later[row.number] = request.later
            self.manifest.begin_submit(row, request.service, request.operation, request.params)
            job = common.submit(request)
        except common.USER_ERRORS as exc:
            self.done(row, False, common.message(exc))
            return
        self.manifest.submitted(row, job.id)
        self.active[row.number] = job.id
        self.say(row, f"submitted job {job.id}")

    def advance(self, row: cli_batch.Row, job: Job) -> None:
        """A job of ``row`` finished: pick a candidate, import, or record the failure."""
        problem = common.finished_problem(job)
        if problem:
            self.done(row, False, problem)
            return
        if inputs.is_candidates(job.result_files):
            try:
                child = common.pick(job, row.candidate, self.later.get(row.number))
            except common.USER_ERRORS as exc:
                self.done(row, False, common.message(exc))
                return
            self.manifest.picked(row, child.id)
            self.active[row.number] = child.id
            self.say(row, f"candidate {row.candidate} → job {child.id}")
            return
        try:
            fresh_file()
            objects = common.import_job(bpy.context, job)
            name = row.output_name(self.fmt)
            write_model(self.folder / name, objects)
        except common.USER_ERRORS as exc:
            self.done(row, False, common.message(exc))
            return
        self.manifest.wrote(row, name)
        self.done(row, True, f"{len(objects)} objects → {name}")

    def run(self, timeout: float | None) -> int:
        queue = self.start()
        by_number = {row.number: row for row in self.rows}
        deadline = None if timeout is None else time.monotonic() + timeout
        shown: dict[str, str] = {}
        while queue or self.active:
            while queue and len(self.active) < self.concurrency:
                self.submit(queue.pop(0))
            engine.tick()
            for number, job_id in list(self.active.items()):
                job = engine.get().journal.require(job_id)
                line = engine.progress_line(job)
                if shown.get(job_id) != line:
                    shown[job_id] = line
                    _out(line)
                if job.finished:
                    self.advance(by_number[number], job)
            if deadline is not None and time.monotonic() > deadline:
                for number in list(self.active):
                    self.done(by_number[number], False, "still running when --timeout "
                              "passed; run the batch again to continue it")
                break
            time.sleep(0.05)
        text, code = cli_batch.summary([self.outcomes[r.number] for r in self.rows
                                        if r.number in self.outcomes])
        _out(text)
        return code


def run_batch(csv_path: str, *, output_dir: str, concurrency: int = 3, fmt: str = "blend",
              timeout: float | None = None) -> int:
    """``blender -c conjure batch``: one model file per CSV row; resumable (see ``batch``)."""
    rows = cli_batch.read_rows(csv_path)
    folder = Path(output_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return _BatchRun(rows, folder, concurrency, fmt).run(timeout)
