"""Reading Thrixel's ``/stream`` server-sent events: the progress figure ``/info`` lacks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import requests
import urllib3


def _sse_events(response: requests.Response, deadline: float) -> Iterator[dict[str, Any]]:
    """``data:`` events of an SSE body as objects, until ``deadline`` or the body ends."""
    buffer = b""
    raw = response.raw
    read = getattr(raw, "read1", None)
    while time.monotonic() < deadline:
        # read1 returns what has arrived rather than waiting for a full buffer.
        chunk = read(4096) if read else raw.read(1)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            line = line.strip()
            if not line.startswith(b"data:"):
                continue  # comments (": heartbeat"), event names, blank separators
            try:
                event = json.loads(line[5:].strip())
            except ValueError:
                continue
            if isinstance(event, dict):
                yield event


def sse_progress(event: Mapping[str, Any]) -> float | None:
    """Progress 0-1 from an SSE event in either shape in evidence: the docs' ``percent``
    (0-1) or the official client's ``progress`` (0-100)."""
    percent = event.get("percent")
    if isinstance(percent, int | float) and not isinstance(percent, bool):
        return min(1.0, max(0.0, float(percent)))
    progress = event.get("progress")
    if isinstance(progress, int | float) and not isinstance(progress, bool):
        return min(1.0, max(0.0, float(progress) / 100))
    return None


def first_progress(response: requests.Response, deadline: float) -> float | None:
    """The first progress figure the feed gives before ``deadline``; None when it gives none,
    ends, reports the job finished, or breaks off. Closes ``response``."""
    try:
        for event in _sse_events(response, deadline):
            value = sse_progress(event)
            if value is not None:
                return value
            if event.get("status") in ("completed", "failed"):
                return None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        pass  # a read timeout on a quiet feed is the usual way this ends
    finally:
        response.close()
    return None
