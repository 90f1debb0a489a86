"""Thrixel's ``/stream``: server-sent events for one submission, held open while it runs.

Each event is a ``data: {json}`` line; a comment line (``: heartbeat``) about every 30 s keeps a
long queue from looking dead, and the stream closes after the terminal status. Two field shapes
are in evidence (docs: ``percent`` 0-1 and ``message``; the official client: ``progress`` 0-100
and ``progress_message``), so both are read. The stream can race the job's record, so the end it
reports is only a cue to read ``/info``, which is the truth.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import requests
import urllib3

from ..base import Feed, Phase, RemoteStatus

#: The service's heartbeat interval: a stream silent for two of them has dropped.
HEARTBEAT_S = 30.0
#: Statuses after which the stream closes.
TERMINAL = ("completed", "failed")


def sse_events(response: requests.Response) -> Iterator[dict[str, Any] | None]:
    """The events of an SSE body as objects, and None for each comment (a sign of life), until
    the body ends. Lines of one event are joined as the SSE format says; an event whose data is
    not a JSON object is skipped."""
    raw = response.raw
    # read1 returns what has arrived rather than waiting for a full buffer.
    read = getattr(raw, "read1", None) or getattr(getattr(raw, "_fp", None), "read1", None)
    buffer = b""
    data: list[bytes] = []
    while True:
        chunk = read(4096) if read else raw.read(1)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            line = line.rstrip(b"\r")
            if line.startswith(b":"):
                yield None
            elif line.startswith(b"data:"):
                data.append(line[5:].removeprefix(b" "))
            elif not line and data:
                event = _parsed(b"\n".join(data))
                data = []
                if event is not None:
                    yield event


def _parsed(data: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(data)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


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


def event_status(event: Mapping[str, Any]) -> RemoteStatus | None:
    """What an event says about the job while it runs; None for an event that says nothing the
    engine shows (the terminal status is handled by the feed)."""
    state = event.get("status")
    progress = sse_progress(event)
    said = str(event.get("message") or event.get("progress_message") or "")
    if state == "queued":
        return RemoteStatus(Phase.QUEUED, message=said or "Queued at Thrixel")
    if progress is not None or state == "processing":
        return RemoteStatus(Phase.RUNNING, progress=progress,
                            message=said or "Thrixel is generating")
    return None


class EventFeed(Feed):
    """One held-open ``/stream`` response as the engine's ``Feed``."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response
        self._closed = threading.Event()
        self.ended = False

    def __iter__(self) -> Iterator[RemoteStatus | None]:
        try:
            for event in sse_events(self._response):
                if self._closed.is_set():
                    return
                if event is None:
                    yield None  # a heartbeat: the service is there, nothing new
                    continue
                if event.get("status") in TERMINAL:
                    self.ended = True
                    return
                status = event_status(event)
                if status is not None:
                    yield status
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError,
                AttributeError):
            # A read timeout, a reset, or the socket shut by ``close``: the stream dropped.
            # (http.client raises AttributeError or ValueError when read after a close.)
            return
        finally:
            self._response.close()

    def close(self) -> None:
        """End the iteration soon, from any thread: a read blocked on the socket returns."""
        self._closed.set()
        sock = _socket_of(self._response)
        if sock is None:
            self._response.close()
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket under a streamed response (urllib3 keeps it on its connection, or, for a
    response that closes its connection, under http.client's reader), if it can be found."""
    raw = response.raw
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is None:
        reader = getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None)
        sock = getattr(reader, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None
