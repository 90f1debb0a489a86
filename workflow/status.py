"""Words and icons for jobs as the panels, the console and the command line show them: icons per
state and service, elapsed time and ETA, a job's name in the list, progress lines, wrapped
text. bpy-free so it is tested with plain pytest."""

from __future__ import annotations

import textwrap
import time
from pathlib import PurePath

from ..jobs.model import ACTIVE, Job, State

STATE_ICONS = {
    State.PENDING: "TIME", State.SUBMITTING: "EXPORT", State.QUEUED: "SORTTIME",
    State.RUNNING: "PLAY", State.DOWNLOADING: "IMPORT", State.READY: "CHECKMARK",
    State.IMPORTED: "CHECKBOX_HLT", State.FAILED: "ERROR", State.CANCELLED: "CANCEL",
    State.UNKNOWN: "QUESTION",
}
#: What each service makes, as a built-in icon: Thrixel models of named parts, Tripo3D textured
#: (PBR) models, Pixal3D a model from one picture, Voxel-AI voxels.
SERVICE_ICONS = {"thrixel": "OUTLINER_OB_GROUP_INSTANCE", "tripo": "MATERIAL",
                 "pixal3d": "IMAGE_DATA", "voxelai": "MOD_REMESH"}


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
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width, break_long_words=True) or [""])
    return lines


def progress_line(job: Job) -> str:
    """One console line about a job, printed whenever it changes (blocking path, batch)."""
    pct = "" if job.progress is None else f" {job.progress * 100:3.0f}%"
    eta = "" if not job.eta_s else f" ETA {job.eta_s:.0f}s"
    return f"[conjure] {job.service} {job.id} {job.state}{pct}{eta} {job.message}".rstrip()


def started_elsewhere(origin: str, here: str) -> str | None:
    """Where a job that another file asked for was started, in words; None for this file's."""
    if origin == here:
        return None
    if origin.startswith("unsaved:"):
        return "Started in a file that was never saved"
    if not origin:
        return "Started in an earlier session"
    return f"Started in {PurePath(origin).name}"
