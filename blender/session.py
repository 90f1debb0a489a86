"""The Conjure session in this Blender: the one owner of the journal, the runner and its event
queue, the service clients, and the answers the UI shares (balances, key tests, what to do
with a job when it is ready).

Everything here that touches bpy runs on the main thread only; worker threads see plain values
captured here (keys, base URLs, network settings, whether online access is allowed). Events are
drained into the WindowManager's mirror by ``tick`` (the pump's timer, or the blocking loop in
``blender -b`` and scripts, where timers never fire).
"""

from __future__ import annotations

import atexit
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy

from ..jobs.background import Answer, Background
from ..jobs.events import EventQueue
from ..jobs.journal import Journal
from ..jobs.model import Job, State
from ..jobs.results import adopt_saved_folders, job_folder
from ..jobs.runner import Runner
from ..providers import errors, registry
from ..providers.base import Client, Funds
from ..providers.registry import ClientConfig, make_client
from ..providers.services import BY_ID, SERVICES
from ..workflow import cache, cost, status
from ..workflow.requests import Request
from ..workflow.sequence import Plan, has_lite
from . import EXTENSION, mirror, settings
from .scene_import import LITE_TAG

#: Main-thread time one pump tick may spend draining events.
TICK_BUDGET_S = 0.0015
#: How often the sidebar is redrawn while a job runs and nothing else changes, so the time
#: shown moves on.
CLOCK_REDRAW_S = 1.0
#: Which model of a job with a lite one is in the open file (``Session.in_scene``).
LITE, FULL, TRIED = "lite", "full", "tried"
#: How long a balance is shown before it is asked for again.
BALANCE_MAX_AGE_S = 300.0
#: How long a service's live price list is used before it is read again.
PRICES_MAX_AGE_S = 3600.0

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
class Pump:
    """Whether the modal pump runs, and whether it was told to stop (the extension is being
    disabled, so a pump left from before ends itself)."""

    alive: bool = False
    stop_requested: bool = False


#: Outlives sessions: the pump is armed at registration, before any session starts.
pump = Pump()


@dataclass
class Session:
    root: Path
    journal: Journal
    events: EventQueue
    runner: Runner
    stats: PumpStats = field(default_factory=PumpStats)
    #: Journal order of the jobs mirrored on the WindowManager: job id → item index.
    index: dict[str, int] = field(default_factory=dict)
    #: Jobs the pump carries on as soon as they are ready (interactive submits, resumed jobs).
    #: Blocking callers finish their own jobs and never put them here, so nothing is imported
    #: twice.
    autoimport: set[str] = field(default_factory=set)
    #: What to do with a job when it is ready besides importing it (a candidate to pick, the
    #: objects an upload sent). Kept in memory: after a restart, candidates are offered.
    plans: dict[str, Plan] = field(default_factory=dict)
    #: Jobs found ready but not imported at start-up: offered in the job list (or, with the
    #: auto-import preference, imported by the pump).
    offered: set[str] = field(default_factory=set)
    #: Jobs with a lite model, and which of their models is in the open file (``LITE``,
    #: ``FULL``; ``TRIED``: the lite model could not be imported, so it is not tried again).
    in_scene: dict[str, str] = field(default_factory=dict)
    #: Jobs whose preview picture the pump makes next, once their service's picture has
    #: arrived or was given up (``blender.previews.step``): imported and offered results.
    previews: set[str] = field(default_factory=set)
    #: When the sidebar last showed the jobs' times (monotonic seconds).
    clock_shown: float = 0.0


_session: Session | None = None
#: Stands for this Blender's file while it has never been saved (see ``origin``).
_UNSAVED = f"unsaved:{uuid.uuid4().hex[:12]}"
#: Key-test answers and balances, fetched on worker threads; panels and preferences read them.
#: Kept across sessions (a key test may run before any job does).
key_tests = Background(max_age=float("inf"))
balances = Background(max_age=BALANCE_MAX_AGE_S)
#: Thrixel models' part trees by submission (``hierarchies`` reads and keeps them).
hierarchies = Background(max_age=float("inf"))
#: Price lists services publish live (Thrixel ``/tiers``), fetched on worker threads.
price_lists = Background(max_age=PRICES_MAX_AGE_S)
_size_cache: dict[str, float] = {"at": -1e9, "size": 0}
_ledger_cache: dict[str, Any] = {"at": -1e9, "lines": []}


def user_dir() -> Path:
    return Path(bpy.utils.extension_path_user(EXTENSION, create=True))


def build_clients() -> dict[str, Client]:
    """A client for every service, configured from the preferences right now."""
    network = settings.network()
    return {service.id: make_client(service.id, ClientConfig(
        base_url=settings.base_url(service), key=settings.key(service)[0], network=network,
        guard=_guard, options=settings.client_options(service))) for service in SERVICES}


def get() -> Session:
    """The running session, started (and unfinished jobs resumed) on first use."""
    global _session
    if _session is None:
        refresh_online()
        root = user_dir()
        journal = Journal(root / "jobs.sqlite")
        adopt_saved_folders(root)
        events = EventQueue()
        runner = Runner(journal, build_clients(), root, events=events,
                        workers=settings.workers(), limits=settings.size_limits())
        _session = Session(root, journal, events, runner)
        # Blender does not unregister add-ons when it quits; stop the workers before the
        # interpreter goes, or a thread mid-request can outlive the modules it runs in.
        atexit.unregister(shutdown)
        atexit.register(shutdown)
        resumed = runner.start(resume=True)
        # Start-up only reads the journal; jobs continue on worker threads and their results
        # are imported later by the pump, so opening Blender never waits on the network.
        if settings.auto_import():
            _session.autoimport |= {job.id for job in resumed if job.origin == origin()}
        file_loaded()
    return _session


def origin() -> str:
    """The file jobs submitted now belong to: its path, or this session's token while the file
    has never been saved."""
    return bpy.data.filepath or _UNSAVED


def file_loaded() -> None:
    """Another file is open: the job list is rebuilt, and this file's ready jobs are offered
    (and, with the auto-import preference, imported by the pump). Ready jobs of other files
    wait in the Jobs list to be imported by hand."""
    if _session is None:
        return
    here = origin()
    ready = _session.journal.jobs([State.READY], limit=50)
    _session.offered = {job.id for job in ready}
    _session.in_scene = {str(ob["conjure_job_id"]): str(ob[LITE_TAG])
                         for ob in bpy.data.objects
                         if str(ob.get(LITE_TAG, "")) in (LITE, FULL) and ob.get("conjure_job_id")}
    # Models in this file whose job has no preview yet (made before previews were, or Blender
    # stopped first) get one; the pump skips those that have one at once.
    _session.previews |= {str(ob["conjure_job_id"]) for ob in bpy.data.objects
                          if ob.get("conjure_job_id")}
    if settings.auto_import():
        _session.autoimport |= {job.id for job in ready if job.origin == here}
    rebuild_mirror()


def file_saved() -> None:
    """The file was saved: jobs it asked for while it had no path belong to its path now."""
    if _session is None or not bpy.data.filepath:
        return
    for job in _session.journal.jobs(limit=500):
        if job.origin == _UNSAVED:
            _session.journal.update(job.id, origin=bpy.data.filepath)
    rebuild_mirror()


def running() -> Session | None:
    return _session


def root() -> Path | None:
    """The user folder the running session keeps the journal and results in; None before a
    session started (drawing never starts one for this)."""
    return _session.root if _session is not None else None


def shutdown() -> None:
    global _session
    atexit.unregister(shutdown)
    if _session is not None:
        _session.runner.stop(timeout=2.0)
        _session.journal.close()
        _session = None


def forget_answers() -> None:
    balances.forget()
    key_tests.forget()
    hierarchies.forget()
    price_lists.forget()


def settings_changed() -> None:
    """Preferences changed: the clients are built again, once, for every later request, and
    the runner takes the new size limits for every later download."""
    if _session is not None:
        _session.runner.clients.update(build_clients())
        _session.runner.limits = settings.size_limits()


def submit(service_id: str, operation: str, params: dict[str, Any],
           parent_id: str | None = None) -> Job:
    """Queue a job; refuses at once (nothing written) when it could not be sent anyway:
    offline, no key, or parameters the operation's declaration does not accept."""
    if not refresh_online():
        raise errors.OfflineError(offline_message())
    service = BY_ID.get(service_id)
    if service is None:
        raise ValueError(f"unknown service {service_id!r}; choose one of {sorted(BY_ID)}")
    if not settings.key(service)[0]:
        raise errors.AuthenticationError(
            f"No {service.label} {service.key_words}: paste it in Edit > Preferences > "
            f"Add-ons > Conjure, or set ${service.key_env[0]} (get one at {service.key_help})")
    cleaned = registry.operation(service_id, operation).validate(params)
    return get().runner.submit(service_id, operation, cleaned, parent_id=parent_id,
                               origin=origin())


def submit_request(request: Request) -> Job:
    return submit(request.service, request.operation, request.params,
                  parent_id=request.parent_id)


def retry(job_id: str) -> Job:
    """Send a job that ended without a result again: a new job with the same service,
    operation, inputs and parent (the old one stays in the list as it was)."""
    failed = job(job_id)
    if not status.can_retry(failed.state, failed.remote_id or "", failed.error_code or ""):
        raise ValueError(f"Job {failed.id} is {status.state_words(failed.state).lower()}; only a "
                         "job that failed, was cancelled or may not have been sent can be sent "
                         "again")
    return submit(failed.service, failed.operation, dict(failed.params),
                  parent_id=failed.parent_id)


def follow(job_id: str, plan: Plan | None = None) -> None:
    """Have the pump carry ``job_id`` on when it is ready (import it, pick its candidate, tag
    the uploaded objects): the interactive path."""
    session = get()
    session.autoimport.add(job_id)
    if plan is not None and plan != Plan():
        session.plans[job_id] = plan


def due() -> list[tuple[Job, Plan]]:
    """Jobs the pump should carry on now, with their plans: asked for, ready, and asked for by
    the file that is open (a job of another file waits until that file is open again). Jobs
    that ended any other way drop out of the list."""
    session = _session
    if session is None or not session.autoimport:
        return []
    found_due = []
    here = origin()
    for job_id in sorted(session.autoimport):
        found = session.journal.get(job_id)
        if found is None or (found.finished and found.state != State.READY):
            session.autoimport.discard(job_id)
            session.plans.pop(job_id, None)
        elif found.state == State.READY and found.origin == here:
            found_due.append((found, session.plans.get(job_id, Plan())))
    return found_due


def lites_due() -> list[Job]:
    """Jobs whose lite model the pump should show now: asked for, still being finished, with
    the lite model downloaded (``sequence.has_lite``), asked for by the file that is open,
    and not shown (or tried) yet."""
    session = _session
    if session is None or not session.autoimport:
        return []
    here = origin()
    found = []
    for job_id in sorted(session.autoimport - session.in_scene.keys()):
        job = session.journal.get(job_id)
        if job is not None and job.origin == here and has_lite(job):
            found.append(job)
    return found


def showing(job_id: str, which: str) -> None:
    """Note which model of ``job_id`` is in the open file now (``LITE``, ``FULL``, ``TRIED``)."""
    get().in_scene[job_id] = which


def shown(job_id: str) -> str | None:
    """Which model of a job with a lite one is in the open file, if known (``LITE``, ``FULL``)."""
    return _session.in_scene.get(job_id) if _session is not None else None


def taken(job_id: str) -> Plan:
    """The pump starts carrying ``job_id`` on: it leaves the due list; returns its plan."""
    session = get()
    session.autoimport.discard(job_id)
    return session.plans.pop(job_id, Plan())


def job(job_id: str) -> Job:
    """The journal's record of ``job_id``; ``LookupError`` in words when there is none."""
    found = get().journal.get(job_id.strip())
    if found is None:
        raise LookupError(f"No job {job_id!r} in Conjure's job list (it may have been removed)")
    return found


def find(job_id: str) -> Job | None:
    """The journal's record of ``job_id``, or None; for drawing, where a locked or missing
    journal must not break the sidebar."""
    try:
        return get().journal.get(job_id)
    except Exception:
        return None


def result_paths(job: Job) -> list[Path]:
    folder = job_folder(get().root, job.service, job.id)
    return [folder / name for name in job.result_files]


def want_preview(job_id: str) -> None:
    """Have the pump make the job's preview picture, if it has none (``blender.previews``)."""
    get().previews.add(job_id)


def previews_wanted() -> list[str]:
    return sorted(_session.previews) if _session is not None else []


def preview_made(job_id: str) -> None:
    if _session is not None:
        _session.previews.discard(job_id)


def mark_imported(job: Job) -> Job:
    session = get()
    session.autoimport.discard(job.id)
    session.offered.discard(job.id)
    session.previews.add(job.id)
    if job.state == State.READY:
        job = session.journal.update(job.id, state=State.IMPORTED, message="Imported")
        session.events.put(job, "state")
    return job


def cancel(job_id: str) -> Job:
    session = get()
    session.autoimport.discard(job_id)
    return session.runner.cancel(job_id)


def download_again(job_id: str) -> Job:
    """Fetch the result of a job whose download failed from the service again (e.g. once a
    download limit was raised); refuses at once when offline."""
    if not refresh_online():
        raise errors.OfflineError(offline_message())
    return get().runner.download_again(job(job_id).id)


def remove(job_id: str) -> None:
    """Forget a finished job. Its result files stay on disk; a job still running at the
    service is refused, because forgetting it would lose a result that is being paid for."""
    session = get()
    found = job(job_id)
    if not found.finished:
        raise ValueError(f"Job {job_id} is still {status.state_words(found.state).lower()}; "
                         "cancel it first (or wait for it) before removing it from the list")
    session.journal.remove(job_id)
    session.autoimport.discard(job_id)
    session.offered.discard(job_id)
    rebuild_mirror()


# -- the main-thread side ------------------------------------------------------------------------

def rebuild_mirror() -> None:
    """Fill the WindowManager's job list from the journal (start-up, after a file load)."""
    if _session is not None:
        mirror.rebuild(reversed(_session.journal.jobs(limit=200)), _session.index)


def tick(budget_s: float = TICK_BUDGET_S) -> int:
    """Drain worker events into the UI for at most about ``budget_s``; returns how many jobs
    changed. Called by the modal pump on its timer, and by blocking loops."""
    start = time.perf_counter()
    refresh_online()
    session = _session
    if session is None:
        return 0
    changed = session.events.drain(budget_s)
    if changed:
        mirror.update((event.job for event in changed), session.index)
        # A ready job's preview: the pump redraws it once the service's picture is saved.
        session.previews |= {e.job.id for e in changed if e.job.state == State.READY}
        _forget_spent_balances(event.job for event in changed)
        session.clock_shown = time.monotonic()
    elif time.monotonic() - session.clock_shown >= CLOCK_REDRAW_S:
        # A running job's elapsed time and time left move on between its changes.
        session.clock_shown = time.monotonic()
        if mirror.any_active():
            mirror.redraw(preferences=False)
    session.stats.record(time.perf_counter() - start, len(changed))
    return len(changed)


def run_blocking(job_ids: Iterable[str], *, timeout: float | None = None,
                 echo: Callable[[str], None] = print, interval: float = 0.05) -> list[Job]:
    """Pump until every job is finished (ready, failed, cancelled, unknown); prints a line
    whenever a job's state, progress or message changes. This is ``execute()``'s path."""
    session = get()
    ids = list(job_ids)
    deadline = None if timeout is None else time.monotonic() + timeout
    shown: dict[str, tuple[str, int, str]] = {}
    while True:
        tick()
        jobs = [session.journal.require(i) for i in ids]
        for found in jobs:
            key = status.progress_key(found)
            if shown.get(found.id) != key:
                shown[found.id] = key
                echo(status.progress_line(found))
        if all(found.finished for found in jobs):
            return jobs
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"jobs still running after {timeout:.0f} s: " + "; ".join(
                f"{j.id} {j.state} ({j.message})" for j in jobs if not j.finished))
        time.sleep(interval)


# -- answers the UI shares -----------------------------------------------------------------------

def answer_key(service_id: str) -> str:
    """Cache key of a service's answers: changes when its key or base URL changes, so an old
    balance never shows for a new key. Only a hash of the key is kept."""
    service = BY_ID[service_id]
    secret = settings.key(service)[0]
    digest = hashlib.sha256(f"{settings.base_url(service)}\0{secret}".encode()).hexdigest()[:16]
    return f"{service_id}:{digest}"


def client(service_id: str) -> Client:
    """The service's client as the preferences configure it now, for background answers
    (jobs go through ``submit``)."""
    refresh_online()
    return get().runner.clients[service_id]


def balance(service_id: str) -> Answer | None:
    """The service's balance line as known now; starts a fetch when there is none or it is old.
    None when nothing can be asked (offline, no key)."""
    if not bpy.app.online_access or not settings.key(BY_ID[service_id])[0]:
        return None
    asked = client(service_id)
    answer = balances.get(answer_key(service_id), lambda: asked.funds() or "")
    if answer.pending:
        watch()
    return answer


def funds(service_id: str) -> Funds | None:
    """The service's balance as a number where it is known now (see ``balance``)."""
    answer = balance(service_id)
    value = answer.value if answer is not None and answer.ok else None
    return value if isinstance(value, Funds) else None


def _forget_spent_balances(jobs: Iterable[Job]) -> None:
    """A job was charged or refunded: its service's balance is asked for again."""
    for found in jobs:
        if found.finished and (found.charged is not None or found.refunded):
            balances.forget(answer_key(found.service))


def live_prices(service_id: str) -> Mapping[str, float]:
    """The prices the service lists live, as known now (a fetch starts when there are none or
    they are old); empty while unknown, offline, or for services that list none. Never
    waits: for drawing."""
    if not bpy.app.online_access:
        return {}
    asked = client(service_id)
    if not asked.lists_prices:
        return {}
    answer = price_lists.get(answer_key(service_id), asked.live_prices)
    if answer.pending:
        watch()
    return answer.value if answer.ok and isinstance(answer.value, dict) else {}


def live_prices_now(service_id: str) -> Mapping[str, float]:
    """The prices the service lists live, asked for now (the command line may wait); empty
    when it lists none or cannot be asked."""
    asked = client(service_id)
    if not asked.lists_prices or not bpy.app.online_access:
        return {}
    try:
        return asked.live_prices()
    except errors.ServiceError:
        return {}


def before_sending(request: Request) -> cost.BeforeSending:
    """What to say, and whether to ask, before ``request`` is sent: its estimate (a live
    figure where the service lists one), the balance it leaves and the preference's
    threshold. From what is known now; never waits on the network."""
    estimate = cost.request_estimate(request, live_prices(request.service))
    return cost.before_sending(estimate, funds(request.service),
                               settings.ask_above(BY_ID[request.service]))


def ledger(max_age: float = 5.0) -> list[cost.LedgerLine]:
    """What the services charged, per service and day, read again at most every ``max_age``
    seconds (the preferences redraw often)."""
    if time.monotonic() - _ledger_cache["at"] > max_age:
        _ledger_cache["lines"] = cost.ledger(get().journal.jobs())
        _ledger_cache["at"] = time.monotonic()
    return list(_ledger_cache["lines"])


def test_key(service_id: str) -> None:
    """Ask the service whether its key works; the answer arrives in ``key_tests``."""
    asked = client(service_id)
    key_tests.get(answer_key(service_id), lambda: str(asked.check_key()), refresh=True)
    watch()


def watch() -> None:
    """Redraw the sidebar and preferences once background answers arrive (timers run only in the
    application; elsewhere the next redraw shows them)."""
    if not bpy.app.timers.is_registered(_redraw_when_answered):
        bpy.app.timers.register(_redraw_when_answered, first_interval=0.3)


def _redraw_when_answered() -> float | None:
    if (balances.pending() or key_tests.pending() or hierarchies.pending()
            or price_lists.pending()):
        return 0.3
    mirror.redraw(preferences=True)
    return None


def stop_watching() -> None:
    if bpy.app.timers.is_registered(_redraw_when_answered):
        bpy.app.timers.unregister(_redraw_when_answered)


def cache_size(max_age: float = 10.0) -> int:
    """The user folder's results and cache in bytes, recounted at most every ``max_age`` s
    (the preferences redraw often; walking a large folder each time would stutter)."""
    if time.monotonic() - _size_cache["at"] > max_age:
        root = user_dir()
        _size_cache["size"] = sum(cache.folder_size(root / name)
                                  for name in ("results", *cache.CACHE_DIRS))
        _size_cache["at"] = time.monotonic()
    return int(_size_cache["size"])


def clear_plan() -> cache.ClearPlan:
    imported = [(found.service, found.id)
                for found in get().journal.jobs(states=[State.IMPORTED])]
    return cache.clear_plan(user_dir(), imported)


def clear_cache() -> tuple[int, int]:
    """Delete what ``clear_plan`` allows; returns (bytes freed, result folders kept)."""
    plan = clear_plan()
    freed = cache.clear(plan)
    _size_cache["at"] = -1e9
    return freed, len(plan.keep)
