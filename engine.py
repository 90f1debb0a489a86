"""The job engine as this Blender session runs it.

Owns the journal (in the extension's user folder), the runner and its event queue, and the
main-thread side: the pump tick that drains events into the WindowManager's runtime properties,
and the blocking loop that does the same in ``blender -b`` and scripts, where timers never fire.
Everything here that touches bpy runs on the main thread only; worker threads see plain values
captured here (keys, base URLs, network settings, whether online access is allowed).
"""

from __future__ import annotations

import atexit
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy

from . import formspec, preferences
from .jobs.events import EventQueue
from .jobs.journal import Journal
from .jobs.model import Job, State
from .jobs.runner import Runner
from .providers import errors, registry
from .providers.base import Provider
from .providers.registry import ClientConfig, make_client
from .providers.services import BY_ID, SERVICES

#: Main-thread time one pump tick may spend draining events.
TICK_BUDGET_S = 0.0015

_online = False


def offline_message() -> str:
    if bpy.app.online_access_override:
        return ("Blender was started with online access turned off (--offline-mode); "
                "restart it without that option to let Conjure reach the services")
    return ("Online access is off: turn on Edit > Preferences > System > Network > "
            "Allow Online Access")


def _guard() -> None:
    # Runs on worker threads: reads the flag the main thread keeps, never bpy itself.
    if not _online:
        raise errors.OfflineError(offline_message())


def refresh_online() -> bool:
    global _online
    _online = bool(bpy.app.online_access)
    return _online


@dataclass
class PumpStats:
    ticks: int = 0
    longest_s: float = 0.0
    last_s: float = 0.0
    events: int = 0

    def record(self, seconds: float, events: int) -> None:
        self.ticks += 1
        self.last_s = seconds
        self.longest_s = max(self.longest_s, seconds)
        self.events += events


@dataclass
class Engine:
    root: Path
    journal: Journal
    events: EventQueue
    runner: Runner
    stats: PumpStats = field(default_factory=PumpStats)
    #: Journal order of the jobs mirrored on the WindowManager: job id → item index.
    index: dict[str, int] = field(default_factory=dict)
    #: Jobs the pump imports as soon as they are ready (interactive submits, resumed jobs).
    #: Blocking callers import their own jobs and never put them here, so nothing is imported
    #: twice.
    autoimport: set[str] = field(default_factory=set)
    #: Jobs found ready but not imported at start-up: offered in the job list (or, with the
    #: auto-import preference, imported by the pump).
    offered: set[str] = field(default_factory=set)


_engine: Engine | None = None
#: Set when the extension is being disabled, so a pump left from before stops itself.
pump_stop_requested = False


def user_dir() -> Path:
    return Path(bpy.utils.extension_path_user(__package__, create=True))


def build_providers() -> dict[str, Provider]:
    """Clients for every supported service, configured from the preferences right now."""
    prefs = preferences.get()
    network = prefs.network()
    clients: dict[str, Provider] = {}
    for service in SERVICES:
        config = ClientConfig(base_url=prefs.base_url(service), key=prefs.key(service)[0],
                              network=network, guard=_guard,
                              options=prefs.client_options(service))
        try:
            clients[service.id] = make_client(service.id, config)
        except NotImplementedError:
            continue
    return clients


def get() -> Engine:
    """The running engine, started (and unfinished jobs resumed) on first use."""
    global _engine
    if _engine is None:
        refresh_online()
        root = user_dir()
        journal = Journal(root / "jobs.sqlite")
        events = EventQueue()
        runner = Runner(journal, build_providers(), root, events=events,
                        workers=preferences.get().workers)
        _engine = Engine(root, journal, events, runner)
        # Blender does not unregister add-ons when it quits; stop the workers before the
        # interpreter goes, or a thread mid-request can outlive the modules it runs in.
        atexit.unregister(shutdown)
        atexit.register(shutdown)
        resumed = runner.start(resume=True)
        # Start-up only reads the journal; jobs continue on worker threads and their results
        # are imported later by the pump, so opening Blender never waits on the network.
        _engine.offered = {job.id for job in journal.jobs([State.READY], limit=50)}
        if auto_import_enabled():
            _engine.autoimport |= {job.id for job in resumed} | _engine.offered
        rebuild_mirror()
    return _engine


def auto_import_enabled() -> bool:
    return bool(getattr(preferences.get(), "auto_import", True))


def running() -> Engine | None:
    return _engine


def shutdown() -> None:
    global _engine
    atexit.unregister(shutdown)
    if _engine is not None:
        _engine.runner.stop(timeout=2.0)
        _engine.journal.close()
        _engine = None


def settings_changed() -> None:
    if _engine is not None:
        _engine.runner.providers.update(build_providers())


def submit(provider: str, operation: str, params: dict[str, Any],
           parent_id: str | None = None) -> Job:
    """Queue a job; refuses at once (nothing written) when it could not be sent anyway:
    offline, no key, or parameters the operation's declaration does not accept."""
    if not refresh_online():
        raise errors.OfflineError(offline_message())
    service = BY_ID.get(provider)
    if service is None:
        raise ValueError(f"unknown service {provider!r}; choose one of {sorted(BY_ID)}")
    if not preferences.get().key(service)[0]:
        raise errors.AuthenticationError(
            f"No {service.label} {service.key_label.lower()}: paste it in Edit > Preferences > "
            f"Add-ons > Conjure, or set ${service.key_env[0]} (get one at {service.key_help})")
    cleaned = registry.operation(provider, operation).validate(params)
    engine = get()
    if provider not in engine.runner.providers:
        raise NotImplementedError(f"{service.label} is not supported by this Conjure version")
    return engine.runner.submit(provider, operation, cleaned, parent_id=parent_id)


# -- the main-thread side ------------------------------------------------------------------------

def _runtime() -> Any:
    return bpy.context.window_manager.conjure


def _mirror(item: Any, job: Job) -> None:
    item.job_id = job.id
    item.provider = job.provider
    item.operation = job.operation
    item.state = str(job.state)
    item.progress = -1.0 if job.progress is None else job.progress
    item.eta_s = -1.0 if job.eta_s is None else job.eta_s
    item.message = job.message
    item.remote_id = job.remote_id or ""
    item.prompt = formspec.job_prompt(job.provider, job.operation, job.params)
    item.error_code = job.error_code or ""
    item.parent_id = job.parent_id or ""
    item.created_at = int(job.created_at)
    item.updated_at = int(job.updated_at)


def rebuild_mirror() -> None:
    """Fill the WindowManager's job list from the journal (start-up, after a file load)."""
    if _engine is None:
        return
    runtime = _runtime()
    runtime.jobs.clear()
    _engine.index.clear()
    for job in reversed(_engine.journal.jobs(limit=200)):
        _engine.index[job.id] = len(runtime.jobs)
        _mirror(runtime.jobs.add(), job)


def _redraw() -> None:
    for window in bpy.context.window_manager.windows:
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                for region in area.regions:
                    if region.type == "UI":
                        region.tag_redraw()


def tick(budget_s: float = TICK_BUDGET_S) -> int:
    """Drain worker events into the UI for at most about ``budget_s``; returns how many jobs
    changed. Called by the modal pump on its timer, and by blocking loops."""
    start = time.perf_counter()
    refresh_online()
    engine = _engine
    if engine is None:
        return 0
    changed = engine.events.drain(budget_s)
    if changed:
        runtime = _runtime()
        for event in changed:
            index = engine.index.get(event.job.id)
            if index is None or index >= len(runtime.jobs):
                engine.index[event.job.id] = len(runtime.jobs)
                item = runtime.jobs.add()
            else:
                item = runtime.jobs[index]
            _mirror(item, event.job)
        runtime.revision += 1
        _redraw()
    engine.stats.record(time.perf_counter() - start, len(changed))
    return len(changed)


def progress_line(job: Job) -> str:
    pct = "" if job.progress is None else f" {job.progress * 100:3.0f}%"
    eta = "" if not job.eta_s else f" ETA {job.eta_s:.0f}s"
    return f"[conjure] {job.provider} {job.id} {job.state}{pct}{eta} {job.message}".rstrip()


def run_blocking(job_ids: Iterable[str], *, timeout: float | None = None,
                 echo: Callable[[str], None] = print, interval: float = 0.05) -> list[Job]:
    """Pump until every job is finished (ready, failed, cancelled, unknown); prints a line
    whenever a job's state, progress or message changes. This is ``execute()``'s path."""
    engine = get()
    ids = list(job_ids)
    deadline = None if timeout is None else time.monotonic() + timeout
    shown: dict[str, str] = {}
    while True:
        tick()
        jobs = [engine.journal.require(i) for i in ids]
        for job in jobs:
            line = progress_line(job)
            if shown.get(job.id) != line:
                shown[job.id] = line
                echo(line)
        if all(job.finished for job in jobs):
            return jobs
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"jobs still running after {timeout:.0f} s: " + "; ".join(
                f"{j.id} {j.state} ({j.message})" for j in jobs if not j.finished))
        time.sleep(interval)


def result_paths(job: Job) -> list[Path]:
    from .jobs.results import job_folder

    folder = job_folder(get().root, job.provider, job.id)
    return [folder / name for name in job.result_files]


def mark_imported(job: Job) -> Job:
    engine = get()
    engine.autoimport.discard(job.id)
    engine.offered.discard(job.id)
    if job.state == State.READY:
        job = engine.journal.update(job.id, state=State.IMPORTED, message="Imported")
        engine.events.put(job, "state")
    return job


def job(job_id: str) -> Job:
    """The journal's record of ``job_id``; ``LookupError`` in words when there is none."""
    found = get().journal.get(job_id.strip())
    if found is None:
        raise LookupError(f"No job {job_id!r} in Conjure's job list (it may have been removed)")
    return found


def cancel(job_id: str) -> Job:
    engine = get()
    engine.autoimport.discard(job_id)
    return engine.runner.cancel(job_id)


def remove(job_id: str) -> None:
    """Forget a finished job. Its result files stay on disk; a job still running at the
    service is refused, because forgetting it would lose a result that is being paid for."""
    engine = get()
    found = job(job_id)
    if not found.finished:
        raise ValueError(f"Job {job_id} is still {found.state}; cancel it first (or wait for "
                         "it) before removing it from the list")
    engine.journal.remove(job_id)
    engine.autoimport.discard(job_id)
    engine.offered.discard(job_id)
    rebuild_mirror()


def want_import(job_id: str) -> None:
    """Have the pump import ``job_id`` when it is ready (the interactive path)."""
    get().autoimport.add(job_id)


def due_imports() -> list[Job]:
    """Jobs the pump should import now: asked for and ready. Jobs that ended any other way
    drop out of the list."""
    engine = _engine
    if engine is None or not engine.autoimport:
        return []
    due = []
    for job_id in sorted(engine.autoimport):
        found = engine.journal.get(job_id)
        if found is None or (found.finished and found.state != State.READY):
            engine.autoimport.discard(job_id)
        elif found.state == State.READY:
            due.append(found)
    return due
