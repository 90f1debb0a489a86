"""Words and icons for jobs as the panels, the console and the command line show them: icons per
state and service, operations by their titles, states and outcomes in sentences (whether a job
was charged, what to do), identifiers kept apart for *Details*, elapsed time and the time left,
progress lines, wrapped text. bpy-free so it is tested with plain pytest."""

from __future__ import annotations

import re
import textwrap
import time
from pathlib import PurePath

from ..jobs.model import ACTIVE, Job, State, can_download_again
from ..providers import registry
from ..providers.errors import ServiceError
from . import sequence

#: States drawn as what they are, never as something to click (no checkbox, no play button).
STATE_ICONS = {
    State.PENDING: "TIME", State.SUBMITTING: "INTERNET", State.QUEUED: "SORTTIME",
    State.RUNNING: "MOD_TIME", State.DOWNLOADING: "IMPORT", State.READY: "PACKAGE",
    State.IMPORTED: "CHECKMARK", State.FAILED: "ERROR", State.CANCELLED: "CANCEL",
    State.UNKNOWN: "QUESTION",
}
#: What each service makes, as a built-in icon: Thrixel models of named parts, Tripo3D textured
#: (PBR) models, Pixal3D a model from one picture, Voxel-AI voxels.
SERVICE_ICONS = {"thrixel": "OUTLINER_OB_GROUP_INSTANCE", "tripo": "MATERIAL",
                 "pixal3d": "IMAGE_DATA", "voxelai": "MOD_REMESH"}
#: A state in the words a user reads.
STATE_WORDS = {
    State.PENDING: "Waiting to send", State.SUBMITTING: "Sending", State.QUEUED: "Queued",
    State.RUNNING: "Running", State.DOWNLOADING: "Downloading", State.READY: "Ready to import",
    State.IMPORTED: "Imported", State.FAILED: "Failed", State.CANCELLED: "Cancelled",
    State.UNKNOWN: "Not known whether it was sent",
}
#: States a job can be sent again from, as a new job with the same inputs.
RETRYABLE = frozenset({State.FAILED, State.CANCELLED, State.UNKNOWN})


def _state(state: str) -> State | None:
    try:
        return State(state)
    except ValueError:
        return None


def state_icon(state: str) -> str:
    known = _state(state)
    return STATE_ICONS[known] if known is not None else "QUESTION"


def state_words(state: str) -> str:
    known = _state(state)
    return STATE_WORDS[known] if known is not None else state.capitalize()


def is_active(state: str) -> bool:
    return _state(state) in ACTIVE


def operation_title(service: str, operation: str) -> str:
    """The operation's title as its declaration gives it ("Text to Model", "Auto-refine"); an
    operation this version no longer declares is named from its id."""
    try:
        return registry.operation(service, operation).label
    except (ServiceError, KeyError):
        return operation.replace("_", " ").capitalize()


def headline(service: str, operation: str, state: str = "") -> str:
    """``Tripo3D · Text to Model · Running``: a job as a user names it."""
    parts = [sequence.service_label(service), operation_title(service, operation)]
    if state:
        parts.append(state_words(state))
    return " · ".join(parts)


# -- time -------------------------------------------------------------------------------------

def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def about(seconds: float) -> str:
    """A time left, rounded as an estimate should be: ``about 40 s left``."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return "a few seconds left"
    if seconds < 60:
        return f"about {round(seconds / 5) * 5:.0f} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60):.0f} min left"
    return f"about {seconds / 3600:.1f} h left"


def time_left(state: str, eta_s: float | None, eta_at: float,
              now: float | None = None) -> float | None:
    """Seconds left of an active job whose end was estimated at ``eta_at`` (unix seconds) as
    ``eta_s`` away; None without an estimate, or once the estimate has run out (it was wrong,
    and a countdown stuck at zero would say nothing true)."""
    if not is_active(state) or eta_s is None or eta_s < 0 or eta_at <= 0:
        return None
    left = eta_s - ((time.time() if now is None else now) - eta_at)
    return left if left > 0 else None


def timing(state: str, created_at: float, updated_at: float, left: float | None = None,
           now: float | None = None) -> str:
    """Elapsed time in words, and the time left where it is known: ``Running for 12 s · about
    40 s left``; a finished job's ``Took 1 min 05 s``."""
    if created_at <= 0:
        return ""
    if not is_active(state):
        return f"Took {duration(max(0.0, updated_at - created_at))}"
    elapsed = max(0.0, (time.time() if now is None else now) - created_at)
    text = f"{state_words(state)} for {duration(elapsed)}"
    if left is not None:
        text += f" · {about(left)}"
    return text


def job_time_left(job: Job, now: float | None = None) -> float | None:
    """Seconds left of ``job`` as of ``now``: the estimate written with it, counted down."""
    return time_left(job.state, job.eta_s, job.updated_at, now)


# -- words about what happened ------------------------------------------------------------------

#: A code at the end of a service's message, e.g. ``… later (LLM_SERVER_ERROR, The language
#: model returned an error.)``: detail for the curious, not for the sentence.
_TRAILING_CODE = re.compile(r"\s*\(([A-Z][A-Z0-9_]{2,}\b[^()]*)\)\s*$")


def plain_message(message: str) -> tuple[str, str]:
    """A job's message as (the sentence a user reads, the service's codes for *Details*)."""
    text = " ".join(message.split())
    found = _TRAILING_CODE.search(text)
    detail = ""
    if found:
        detail, text = found.group(1), text[: found.start()]
    return sentence(text), detail


def sentence(text: str) -> str:
    """``text`` as a sentence: capitalised, ending with a full stop."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def reached_service(state: str, remote_id: str) -> bool:
    """Whether the job may exist at the service (and so may have been charged): it has the
    service's id, or it died while its submit was in flight."""
    return bool(remote_id) or state == State.UNKNOWN


def can_retry(state: str, remote_id: str, error_code: str) -> bool:
    """A job that ended without a result and can be sent again as a new job (one whose
    result only failed to download is fetched again instead: ``can_download_again``)."""
    return _state(state) in RETRYABLE and not can_download_again(state, remote_id, error_code)


def charge_sentence(service: str, state: str, remote_id: str, charge: str) -> str:
    """Whether a job that ended was charged, in a sentence (``charge``: ``cost.charge_words``)."""
    label = sequence.service_label(service)
    if not reached_service(state, remote_id):
        return f"It never reached {label}, so nothing was charged." \
            if state in (State.FAILED, State.CANCELLED) else ""
    if charge:
        return sentence(charge)
    if state == State.UNKNOWN:
        return f"{label} may have received it and charged for it; check your account."
    return ""


def retry_question(service: str, state: str, remote_id: str, charge: str) -> str | None:
    """What to ask before a job is sent again, saying whether the first try was charged; None
    for a job that never reached the service (nothing can be charged twice: no question)."""
    if not reached_service(state, remote_id):
        return None
    label = sequence.service_label(service)
    charged = charge_sentence(service, state, remote_id, charge) or \
        f"{label} has not said whether it charged for the first try."
    return f"{charged} Sending it again is a new job, charged as one."


def explain(service: str, state: str, message: str, remote_id: str, charge: str,
            error_code: str = "") -> list[str]:
    """What happened to a job, in sentences: the service's or Conjure's words (codes left for
    *Details*), whether it was charged, and what can be done now."""
    said, _ = plain_message(message)
    if said.lower().startswith(f"{service}: "):  # a service error names its service by id
        said = f"{sequence.service_label(service)}: {said[len(service) + 2:]}"
    known = _state(state)
    lines = [said] if said else []
    if known in RETRYABLE:
        lines.append(charge_sentence(service, state, remote_id, charge))
        if known == State.UNKNOWN:
            lines.append("Conjure did not send it again, so it is never charged twice; Retry "
                         "sends it as a new job if your account shows no such job.")
        elif can_retry(state, remote_id, error_code):
            lines.append("Retry sends it again as a new job with the same inputs.")
    elif known in (State.READY, State.IMPORTED) and charge:
        lines.append(sentence(charge))
    return [line for line in lines if line]


def details(ids: list[tuple[str, str]], error_code: str = "", message: str = "") -> \
        list[tuple[str, str]]:
    """The identifiers and codes of a job for its *Details*: ``ids`` (label, value) with a
    value, then the error code and the service's own code from its ``message``."""
    found = [(name, value) for name, value in ids if value]
    if error_code:
        found.append(("Error", error_code))
    code = plain_message(message)[1]
    if code:
        found.append(("Service said", code))
    return found


def details_text(found: list[tuple[str, str]]) -> str:
    """*Details* as text to copy: one ``Label: value`` line each."""
    return "\n".join(f"{name}: {value}" for name, value in found)


def wrap(text: str, width: int = 48) -> list[str]:
    """Lines for labels: Blender's labels do not wrap, and errors must be readable in full."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width, break_long_words=True) or [""])
    return lines


def progress_line(job: Job, now: float | None = None) -> str:
    """One console line about a job, printed whenever it changes (blocking path, batch):
    ``[conjure] Tripo3D · Text to Model · Running 42% for 12 s · about 40 s left · <message>
    (job <id>)``; a finished one ``… · Ready to import · took 30 s · …``."""
    line = headline(job.service, job.operation, job.state)
    parts = []
    if is_active(job.state):
        if job.progress is not None:
            line += f" {job.progress * 100:.0f}%"
        elapsed = (time.time() if now is None else now) - job.created_at
        line += f" for {duration(elapsed)}"
        left = job_time_left(job, now)
        if left is not None:
            parts.append(about(left))
    elif job.created_at > 0:
        parts.append(f"took {duration(job.updated_at - job.created_at)}")
    said = plain_message(job.message)[0].rstrip(".")
    if said and said.lower() != state_words(job.state).lower():  # not "Running · Running"
        parts.append(said)
    return f"[conjure] {' · '.join([line, *parts])} (job {job.id})"


def progress_key(job: Job) -> tuple[str, int, str]:
    """What a console line is printed again for: the state, whole percents, the message
    (not every second of elapsed time)."""
    percent = -1 if job.progress is None else int(job.progress * 100)
    return str(job.state), percent, job.message


def started_elsewhere(origin: str, here: str) -> str | None:
    """Where a job that another file asked for was started, in words; None for this file's."""
    if origin == here:
        return None
    if origin.startswith("unsaved:"):
        return "Started in a file that was never saved"
    if not origin:
        return "Started in an earlier session"
    return f"Started in {PurePath(origin).name}"
