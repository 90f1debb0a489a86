"""Batch bookkeeping: the CSV's rows, which job each row became, and what to do on a re-run.

A re-run of the same CSV into the same output folder must never pay twice: each row's job id is
written to ``<output-dir>/conjure-batch.json`` the moment it is known, and its state is read
from the journal. A row whose job finished is skipped (imported again only if its output file is
missing); an unfinished job is waited for, not submitted again; only rows with no job, or whose
job failed or was cancelled, are submitted. bpy-free.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..jobs.model import ACTIVE, Job, State

MANIFEST = "conjure-batch.json"
COLUMNS = ("provider", "prompt", "mode", "options", "candidate")
REQUIRED = ("provider", "prompt")


class BatchError(Exception):
    """The CSV cannot be read as a batch (the message names the line and column)."""


@dataclass(frozen=True)
class Row:
    #: 1-based position among the data rows.
    number: int
    service: str
    prompt: str
    mode: str = ""
    options: str = ""
    candidate: int = 0
    #: Line in the file, for messages.
    line: int = 0

    @property
    def key(self) -> str:
        """Stable identity of the row across runs: its position and its content."""
        content = json.dumps([self.service.upper(), self.prompt, self.mode, self.options,
                              self.candidate])
        return f"{self.number:04d}-{hashlib.sha256(content.encode()).hexdigest()[:12]}"

    def output_name(self, fmt: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.prompt.lower()).strip("-")[:40] or "model"
        return f"{self.number:03d}-{self.service.lower()}-{slug}.{fmt}"


def read_rows(path: str | os.PathLike[str]) -> list[Row]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise BatchError(f"{path}: the first line must name the columns "
                                 f"provider,prompt[,mode,options,candidate]; missing "
                                 f"{', '.join(missing)}")
            unknown = [c for c in header if c and c not in COLUMNS]
            if unknown:
                raise BatchError(f"{path}: unknown column {unknown[0]!r}; columns are "
                                 f"{', '.join(COLUMNS)}")
            rows: list[Row] = []
            for raw in reader:
                values = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()
                          if k is not None}
                if not any(values.values()):
                    continue
                line = reader.line_num
                try:
                    candidate = int(values.get("candidate") or 0)
                except ValueError:
                    raise BatchError(f"{path} line {line}: candidate must be 0, 1 or 2") from None
                rows.append(Row(len(rows) + 1, values["provider"], values["prompt"],
                                values.get("mode", ""), values.get("options", ""), candidate,
                                line))
    except OSError as exc:
        raise BatchError(f"cannot read {path}: {exc.strerror or exc}") from None
    except csv.Error as exc:
        raise BatchError(f"{path}: not a valid CSV file ({exc})") from None
    if not rows:
        raise BatchError(f"{path}: no rows below the header")
    return rows


@dataclass
class Entry:
    """What the manifest remembers of one row."""

    job_id: str | None = None
    #: When the submit was begun (before the job id is known), to find the job after a crash.
    submit_started: float | None = None
    #: For that search: the request as sent.
    service: str = ""
    operation: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    #: The model job of a candidates row (Voxel-AI), once picked.
    model_job_id: str | None = None
    output: str = ""


class Manifest:
    """``conjure-batch.json`` in the output folder; every change is written at once
    (atomically), because it is what stops a re-run from paying twice."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / MANIFEST
        self.entries: dict[str, Entry] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.entries = {k: Entry(**v) for k, v in data.get("rows", {}).items()}
            except (ValueError, TypeError) as exc:
                raise BatchError(f"{self.path} is damaged ({exc}); move it away to start the "
                                 "batch afresh (its jobs stay in Conjure's job list)") from None

    def entry(self, row: Row) -> Entry:
        return self.entries.setdefault(row.key, Entry())

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"rows": {k: vars(v) for k, v in self.entries.items()}}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)

    def begin_submit(self, row: Row, service: str, operation: str,
                     params: dict[str, Any]) -> None:
        entry = self.entry(row)
        entry.job_id = None
        entry.model_job_id = None
        entry.submit_started = time.time()
        entry.service, entry.operation, entry.params = service, operation, dict(params)
        self.save()

    def submitted(self, row: Row, job_id: str) -> None:
        entry = self.entry(row)
        entry.job_id = job_id
        self.save()

    def picked(self, row: Row, job_id: str) -> None:
        self.entry(row).model_job_id = job_id
        self.save()

    def wrote(self, row: Row, output: str) -> None:
        self.entry(row).output = output
        self.save()


def adopt(entry: Entry, journal_jobs: Iterable[Job]) -> Job | None:
    """After a crash between writing the job and recording its id: the journal job this row's
    interrupted submit created (same request, written after the submit began)."""
    if entry.job_id or entry.submit_started is None:
        return None
    for job in journal_jobs:
        if (job.service == entry.service and job.operation == entry.operation
                and job.created_at >= entry.submit_started - 1.0
                and _same(job.params, entry.params)):
            return job
    return None


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# What to do with a row on this run.
SUBMIT, WAIT, IMPORT, DONE, STUCK = "submit", "wait", "import", "done", "stuck"


def plan(row: Row, entry: Entry, lookup: Callable[[str], Job | None],
         output_exists: Callable[[str], bool]) -> tuple[str, Job | None]:
    """The action for one row and the job it concerns (the model job where there is one)."""
    job_id = entry.model_job_id or entry.job_id
    job = lookup(job_id) if job_id else None
    if job is None:
        return SUBMIT, None
    if job.state in ACTIVE:
        return WAIT, job
    if job.state in (State.READY, State.IMPORTED):
        if entry.output and output_exists(entry.output):
            return DONE, job
        return IMPORT, job
    if job.state == State.UNKNOWN:
        # It may exist (and be charged) at the service: never sent again on its own.
        return STUCK, job
    return SUBMIT, job  # failed or cancelled: nothing was delivered, so try again


@dataclass
class Outcome:
    row: Row
    ok: bool
    text: str
    #: Not sent at all (the spending cap stopped the batch first); a re-run sends it.
    unsent: bool = False


def summary(outcomes: list[Outcome]) -> tuple[str, int]:
    """The closing lines and the exit code (1 when any row did not produce its output)."""
    failed = [o for o in outcomes if not o.ok and not o.unsent]
    unsent = [o for o in outcomes if o.unsent]
    done = len(outcomes) - len(failed) - len(unsent)
    lines = [f"[batch] {done}/{len(outcomes)} rows done"]
    lines += [f"[batch] row {o.row.number} (line {o.row.line}) FAILED: {o.text}" for o in failed]
    if unsent:
        lines.append(f"[batch] {len(unsent)} rows left unsent (rows "
                     f"{', '.join(str(o.row.number) for o in unsent)}): {unsent[0].text}; "
                     "run the batch again (with a higher --max-cost) to send them")
    return "\n".join(lines), 1 if failed or unsent else 0
