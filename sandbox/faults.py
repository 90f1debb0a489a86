"""Fault specifications: what can go wrong on purpose, and where it is asked for.

A spec is a comma-separated list of ``name`` or ``name=value`` items, e.g.
``latency=300,5xx_burst=2`` or ``fail=CONTENT_BLOCKED``. It arrives per request (header
``X-Sandbox-Fault`` or query parameter ``sandbox_fault``) or is attached to a key, so a test can
name a key that always misbehaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FAULT_HEADER = "X-Sandbox-Fault"
FAULT_QUERY = "sandbox_fault"

# name -> (takes a value?, one-line description). The README's table is generated from the same
# facts by hand; keep both in step.
FAULTS: dict[str, tuple[bool, str]] = {
    "latency": (True, "sleep this many milliseconds before answering"),
    "rate_limit": (False, "answer 429 with Retry-After (value: seconds, default 2)"),
    "5xx_burst": (True, "answer 503 this many times for the same request, then recover"),
    "malformed_json": (False, "cut a JSON answer in half (status and headers unchanged)"),
    "reset": (False, "result download: send half the body, then reset the connection"),
    "truncate": (False, "result download: announce the full length, send half, close"),
    "corrupt": (False, "result download: damage the file's magic and a stretch of its bytes"),
    "expired_url": (False, "Tripo: signed result URLs are issued already expired"),
    "fail": (False, "the job fails; value: the service's error code (default per service)"),
    "reject": (True, "Tripo: refuse the submission with this documented error code"),
    "cold_start": (False, "the job waits in the queue much longer (value: seconds)"),
    "transient": (True, "Voxel-AI status: answer 502 {transient: true} this many times"),
    "stream_drop": (True, "Thrixel /stream: close after this many messages, before the end"),
    "stream_silent": (False, "Thrixel /stream: answer 200, then send nothing at all"),
    "full_build": (True, "Thrixel: the full-quality GLB bakes this many seconds after the end"),
}

# Faults captured on a job when it is created; they shape the job's life and its downloads.
JOB_FAULTS = ("fail", "cold_start", "expired_url", "reset", "truncate", "corrupt", "full_build")
# Faults that damage a result file as it is sent.
DOWNLOAD_FAULTS = ("reset", "truncate", "corrupt")


class FaultSpecError(ValueError):
    """A fault spec names an unknown fault or lacks a required value."""


@dataclass(frozen=True)
class FaultSet:
    """Parsed faults; ``items`` maps fault name to its value text ('' when none given)."""

    items: dict[str, str] = field(default_factory=dict)
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.items)

    def __contains__(self, name: object) -> bool:
        return name in self.items

    def value(self, name: str, default: str = "") -> str:
        value = self.items.get(name, "")
        return value if value else default

    def number(self, name: str, default: float) -> float:
        text = self.items.get(name, "")
        if not text:
            return default
        try:
            return float(text)
        except ValueError as exc:
            raise FaultSpecError(f"fault {name!r} needs a number, got {text!r}") from exc

    def merged(self, other: FaultSet) -> FaultSet:
        """Union of both sets; ``other`` wins where both name the same fault."""
        if not other:
            return self
        if not self:
            return other
        items = dict(self.items)
        items.update(other.items)
        return FaultSet(items, ",".join(t for t in (self.text, other.text) if t))

    def subset(self, names: tuple[str, ...]) -> FaultSet:
        items = {k: v for k, v in self.items.items() if k in names}
        return FaultSet(items, ",".join(f"{k}={v}" if v else k for k, v in items.items()))


NO_FAULTS = FaultSet()


def parse_faults(text: str | None) -> FaultSet:
    """Parse a spec; raises FaultSpecError so a typo in a test is loud, not silently ignored."""
    if not text or not text.strip():
        return NO_FAULTS
    items: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        name = name.strip().lower().replace("-", "_")
        value = value.strip()
        if name not in FAULTS:
            raise FaultSpecError(f"unknown fault {name!r}; known: {', '.join(sorted(FAULTS))}")
        needs_value, _ = FAULTS[name]
        if needs_value and not value:
            raise FaultSpecError(f"fault {name!r} needs a value, e.g. {name}=2")
        items[name] = value
    return FaultSet(items, text.strip())
