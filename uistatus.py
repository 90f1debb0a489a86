"""What the panels and preferences show that is not Blender-specific: icons per state, times,
labels, the cache folder's size and what Clear may delete, and answers fetched off the main
thread (balances, key tests). bpy-free so it is tested with plain pytest."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .jobs.model import ACTIVE, State

STATE_ICONS = {
    State.PENDING: "TIME", State.SUBMITTING: "EXPORT", State.QUEUED: "SORTTIME",
    State.RUNNING: "PLAY", State.DOWNLOADING: "IMPORT", State.READY: "CHECKMARK",
    State.IMPORTED: "CHECKBOX_HLT", State.FAILED: "ERROR", State.CANCELLED: "CANCEL",
    State.UNKNOWN: "QUESTION",
}
SERVICE_ICONS = {"thrixel": "MESH_ICOSPHERE", "tripo": "MESH_MONKEY", "pixazo": "SHADING_TEXTURE",
                 "voxelai": "MESH_GRID"}
#: Folders under the user folder that hold only re-creatable files (inputs, previews).
CACHE_DIRS = ("cache",)


def state_icon(state: str) -> str:
    try:
        return STATE_ICONS[State(state)]
    except ValueError:
        return "QUESTION"


def is_active(state: str) -> bool:
    try:
        return State(state) in ACTIVE
    except ValueError:
        return False


def duration(seconds: float) -> str:
    """``42s``, ``3m 05s``, ``1h 02m``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def timing(state: str, created_at: float, updated_at: float, eta_s: float,
           now: float | None = None) -> str:
    """Elapsed time (until now while the job runs, else until its last change) and the ETA."""
    if created_at <= 0:
        return ""
    end = (time.time() if now is None else now) if is_active(state) else updated_at
    text = duration(max(0.0, end - created_at))
    if is_active(state) and eta_s >= 0:
        text += f" · ETA {duration(eta_s)}"
    return text


def label(prompt: str, operation: str, job_id: str, width: int = 40) -> str:
    """A job's name in the list: its prompt, else its operation and id."""
    text = " ".join(prompt.split())
    if not text:
        return f"{operation} {job_id[:8]}".strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def wrap(text: str, width: int = 48) -> list[str]:
    """Lines for labels: Blender's labels do not wrap, and errors must be readable in full."""
    import textwrap

    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width, break_long_words=True) or [""])
    return lines


def folder_size(root: Path) -> int:
    total = 0
    if not root.is_dir():
        return 0
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


@dataclass
class ClearPlan:
    """What Clear deletes: the re-creatable cache and the results of imported jobs. Results of
    every other job (running, ready, failed with partial files, or no longer in the journal)
    are kept: they may be paid results nobody has brought into a scene yet."""

    delete: list[Path] = field(default_factory=list)
    keep: list[Path] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(folder_size(p) if p.is_dir() else p.stat().st_size for p in self.delete)


def clear_plan(root: Path, imported: Iterable[tuple[str, str]]) -> ClearPlan:
    """``imported``: (service, job id) of every job whose result is in a scene."""
    from .jobs.results import job_folder

    plan = ClearPlan()
    for name in CACHE_DIRS:
        if (root / name).exists():
            plan.delete.append(root / name)
    allowed = {job_folder(root, provider, job_id) for provider, job_id in imported}
    results = root / "results"
    if results.is_dir():
        for service in sorted(results.iterdir()):
            if not service.is_dir():
                continue
            for folder in sorted(service.iterdir()):
                (plan.delete if folder in allowed else plan.keep).append(folder)
    return plan


def clear(plan: ClearPlan) -> int:
    """Delete what ``plan`` lists; returns the bytes freed."""
    freed = 0
    for path in plan.delete:
        if path.is_dir():
            freed += folder_size(path)
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            freed += path.stat().st_size
            path.unlink(missing_ok=True)
    return freed


@dataclass
class Answer:
    text: str = ""
    ok: bool = False
    pending: bool = False
    at: float = 0.0


class Background:
    """Answers to slow questions (a balance, a key test) computed on daemon threads.

    The main thread asks ``get``; the first ask (or one older than ``max_age``) starts a worker
    and returns what is known so far, so a draw never waits on the network. Workers touch only
    this object."""

    def __init__(self, max_age: float = 120.0) -> None:
        self.max_age = max_age
        self._answers: dict[str, Answer] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def get(self, key: str, fetch: Callable[[], str], *, refresh: bool = False) -> Answer:
        with self._lock:
            answer = self._answers.get(key)
            stale = answer is None or (not answer.pending and (
                refresh or time.monotonic() - answer.at > self.max_age))
            if not stale:
                assert answer is not None
                return Answer(answer.text, answer.ok, answer.pending, answer.at)
            previous = answer or Answer()
            self._answers[key] = Answer(previous.text, previous.ok, True, previous.at)
            generation = self._generation
        threading.Thread(target=self._work, args=(key, fetch, generation),
                         name=f"conjure-ui-{key}", daemon=True).start()
        return Answer(previous.text, previous.ok, True, previous.at)

    def peek(self, key: str) -> Answer | None:
        with self._lock:
            return self._answers.get(key)

    def pending(self) -> bool:
        with self._lock:
            return any(a.pending for a in self._answers.values())

    def forget(self, key: str | None = None) -> None:
        """Drop answers (all when ``key`` is None); workers still running report into the void."""
        with self._lock:
            if key is None:
                self._answers.clear()
                self._generation += 1
            else:
                self._answers.pop(key, None)

    def _work(self, key: str, fetch: Callable[[], str], generation: int) -> None:
        try:
            text, ok = fetch(), True
        except Exception as exc:  # shown to the user; every error type says what to do
            text, ok = str(exc) or type(exc).__name__, False
        with self._lock:
            if generation == self._generation and key in self._answers:
                self._answers[key] = Answer(text, ok, False, time.monotonic())
