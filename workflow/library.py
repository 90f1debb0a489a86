"""The Conjure asset library, bpy-free: where it is, what each result's asset is called and
tagged with, which catalog it goes in (``blender_assets.cats.txt``), and which jobs were filed
(so a missing .blend can be written again).

One .blend per job, named after the service and the job; Blender reads every .blend in the
folder (and below) as assets. Catalogs keep one UUID per path for good: the UUID is derived
from the path (uuid5), and a path already in the catalog file keeps the UUID written there, so
assets filed earlier never lose their catalog. Every file here is written to a temporary name
in the same folder and renamed over the old one, so a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..jobs.model import Job
from ..providers import registry
from ..providers.errors import ServiceError
from ..providers.services import BY_ID
from . import formspec
from .lineage import Find

#: The library's name in Blender's preferences and the Asset Browser.
LIBRARY_NAME = "Conjure"
#: Blender's catalog definition file, at the library's top.
CATALOG_FILE = "blender_assets.cats.txt"
#: The jobs filed in the library, kept in the user folder beside the journal (so moving the
#: library to a new, empty folder still knows what belongs in it).
RECORD_FILE = "library.json"
#: The library's folder inside the user folder, unless the preferences move it.
DEFAULT_FOLDER = "library"
#: Catalog UUIDs are uuid5 of the catalog path in this namespace (stable across machines).
CATALOG_NAMESPACE = uuid.UUID("6f1d3c2e-8b0a-4c55-9e3f-2a7d1b4c9e10")
#: The most prompt words a result is tagged with.
MAX_PROMPT_TAGS = 12
#: Words a prompt is made of that say nothing about the model.
STOP_WORDS = frozenset("""
a an the and or but of in on at to for with without from by as is are was were be been it its
this that these those into onto over under very some any each one two three made make model
3d style high low quality detailed""".split())
#: Parameters that name the service's model or version, in the order they are looked for.
MODEL_PARAMS = ("model_version", "model", "tier")

_HEADER = """\
# This is an Asset Catalog Definition file for Blender.
#
# Empty lines and lines starting with `#` will be ignored.
# The first non-ignored line should be the version indicator.
# Other lines are of the format "UUID:catalog/path/for/assets:simple catalog name"

VERSION 1

"""


def default_folder(user_dir: Path) -> Path:
    return user_dir / DEFAULT_FOLDER


def folder(user_dir: Path, chosen: str = "") -> Path:
    """The library folder: the one the preferences name, else the default in the user
    folder."""
    return Path(chosen).expanduser() if chosen.strip() else default_folder(user_dir)


def asset_file(library: Path, job: Job) -> Path:
    """The .blend holding ``job``'s asset."""
    return library / f"{job.service}_{job.id}.blend"


def operation_label(job: Job) -> str:
    try:
        return registry.operation(job.service, job.operation).label
    except ServiceError:
        return job.operation


def service_label(service_id: str) -> str:
    service = BY_ID.get(service_id)
    return service.label if service else service_id


def prompt_words(prompt: str, limit: int = MAX_PROMPT_TAGS) -> list[str]:
    """The words of a prompt worth a tag: lower case, once each, in order, no stop-words,
    numbers or single letters."""
    found: list[str] = []
    for word in re.findall(r"[^\W\d_]+(?:['-][^\W\d_]+)*", prompt.lower()):
        if len(word) > 1 and word not in STOP_WORDS and word not in found:
            found.append(word)
    return found[:limit]


def model_name(params: Mapping[str, Any]) -> str:
    """The service model or version a job asked for, where it named one."""
    for name in MODEL_PARAMS:
        value = params.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def prompt(job: Job) -> str:
    return formspec.job_prompt(job.service, job.operation, job.params).strip()


def tags(job: Job) -> list[str]:
    """An asset's tags: the service, the operation, the model or version when known, and the
    prompt's words."""
    found = [service_label(job.service), operation_label(job)]
    model = model_name(job.params)
    if model:
        found.append(model)
    for word in prompt_words(prompt(job)):
        if word not in found:
            found.append(word)
    return found


def asset_name(job: Job) -> str:
    """The asset's name in the Asset Browser: its prompt (shortened), else the operation, with
    the job's id so two results of one prompt stay apart."""
    title = prompt(job) or operation_label(job)
    title = " ".join(title.split())
    if len(title) > 48:
        title = title[:47].rstrip() + "…"
    return f"{title} ({job.id[:6]})"


def _catalog_part(text: str) -> str:
    """A catalog path component: no separators Blender reads (``/``, ``:``, ``\\``)."""
    cleaned = re.sub(r"[/:\\\n\r\t]+", " ", text)
    return " ".join(cleaned.split())[:64] or "Unnamed"


def catalog_path(service_id: str, batch: str = "") -> str:
    """The catalog a result goes in: its service's, or a batch's within it."""
    path = f"{LIBRARY_NAME}/{_catalog_part(service_label(service_id))}"
    return f"{path}/{_catalog_part(batch)}" if batch.strip() else path


def catalog_uuid(path: str) -> str:
    return str(uuid.uuid5(CATALOG_NAMESPACE, path))


def simple_name(path: str) -> str:
    """Blender's "simple name" of a catalog: its path with ``-`` for ``/``."""
    return path.replace("/", "-")


@dataclass(frozen=True)
class Catalog:
    uuid: str
    path: str
    simple_name: str

    def line(self) -> str:
        return f"{self.uuid}:{self.path}:{self.simple_name}"


def read_catalogs(library: Path) -> list[Catalog]:
    """The catalogs defined in the library's catalog file (none when it has none)."""
    try:
        text = (library / CATALOG_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("VERSION"):
            continue
        ident, _, rest = line.partition(":")
        path, _, simple = rest.partition(":")
        if ident and path:
            found.append(Catalog(ident, path, simple or simple_name(path)))
    return found


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def ensure_catalogs(library: Path, paths: Iterable[str]) -> dict[str, str]:
    """Make sure the catalog file defines each path (and its parents); returns path → UUID.
    Catalogs already there, the user's own included, are kept as they are."""
    existing = read_catalogs(library)
    by_path = {c.path: c for c in existing}
    added = []
    for wanted in paths:
        for path in _parents(wanted):
            if path not in by_path:
                by_path[path] = Catalog(catalog_uuid(path), path, simple_name(path))
                added.append(by_path[path])
    if added or not (library / CATALOG_FILE).is_file():
        text = _HEADER + "".join(f"{c.line()}\n" for c in [*existing, *added])
        write_atomic(library / CATALOG_FILE, text.encode("utf-8"))
    return {path: c.uuid for path, c in by_path.items()}


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = temporary_name(path)
    try:
        with open(part, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


def temporary_name(path: Path) -> Path:
    """A name beside ``path`` that Blender's asset scan skips (it reads only ``*.blend``)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")


@dataclass
class Record:
    """The jobs filed in the library (job id → the catalog path it was filed in), kept in the
    user folder."""

    path: Path
    jobs: dict[str, str]

    @classmethod
    def load(cls, user_dir: Path) -> Record:
        path = user_dir / RECORD_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            jobs = {str(k): str(v) for k, v in dict(data.get("jobs", {})).items()}
        except (FileNotFoundError, ValueError, AttributeError, TypeError):
            jobs = {}
        return cls(path, jobs)

    def add(self, job_id: str, catalog: str) -> None:
        if self.jobs.get(job_id) != catalog:
            self.jobs[job_id] = catalog
            self.save()

    def save(self) -> None:
        text = json.dumps({"jobs": self.jobs}, indent=1, sort_keys=True)
        write_atomic(self.path, text.encode("utf-8"))


def missing(record: Record, library: Path, find: Find) -> list[Job]:
    """Filed jobs whose .blend is not in ``library`` and that can be filed again: still in the
    journal (``find(job_id)`` → Job or None)."""
    found = []
    for job_id in record.jobs:
        job = find(job_id)
        if job is not None and not asset_file(library, job).is_file():
            found.append(job)
    return found
