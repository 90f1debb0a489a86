"""Thrixel's ``/stream`` as a held-open feed: its events in both shapes, its end, a stream that
ends without one, a stream that never starts, and closing it from another thread."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import responses
from unit.providers.thrixel.mocks import API, SID, service

from conjure.providers import errors
from conjure.providers.base import Phase
from conjure.providers.thrixel.stream import sse_progress
from support.jobs import job

RUNNING_JOB = job("create", {}, SID)


def stream_body(*lines: bytes) -> bytes:
    return b"".join(lines)


@responses.activate
def test_the_feed_carries_progress_and_the_end():
    responses.get(f"{API}/{SID}/stream", content_type="text/event-stream", body=stream_body(
        b": heartbeat\n\n",
        b'data: {"type":"status","status":"queued"}\n\n',
        b'data: {"type":"status","status":"processing"}\n\n',
        b'data: {"type":"progress","percent":0.42,"message":"Generating geometry..."}\n\n',
        b'data: {"progress":70,"progress_message":"Assembling parts...","status":"processing"}'
        b"\n\n",
        b'data: {"type":"status","status":"completed"}\n\n',
        b'data: {"type":"progress","percent":0.99}\n\n'))  # after the end: never read
    feed = service().feed(RUNNING_JOB)
    news = list(feed)
    assert feed.ended
    assert news[0] is None  # the heartbeat: a sign of life
    assert [(n.phase, n.progress, n.message) for n in news[1:]] == [
        (Phase.QUEUED, None, "Queued at Thrixel"),
        (Phase.RUNNING, None, "Thrixel is generating"),
        (Phase.RUNNING, pytest.approx(0.42), "Generating geometry..."),
        (Phase.RUNNING, pytest.approx(0.70), "Assembling parts...")]
    assert responses.calls[0].request.headers["Accept"] == "text/event-stream"


@responses.activate
def test_a_failed_job_ends_the_feed_too():
    responses.get(f"{API}/{SID}/stream", content_type="text/event-stream", body=(
        b'data: {"type":"status","status":"failed","error_code":"TASK_LOST"}\n\n'))
    feed = service().feed(RUNNING_JOB)
    assert list(feed) == [] and feed.ended


@responses.activate
def test_a_stream_that_ends_without_a_terminal_event_has_not_ended():
    responses.get(f"{API}/{SID}/stream", content_type="text/event-stream", body=(
        b'data: {"type":"progress","percent":0.5}\n\n'
        b'data: {"type":"prog'))  # cut off mid-event
    feed = service().feed(RUNNING_JOB)
    news = list(feed)
    assert [n.progress for n in news] == [0.5]
    assert not feed.ended


@responses.activate
def test_a_stream_that_never_starts_raises_and_is_not_retried_here():
    responses.get(f"{API}/{SID}/stream", status=503, json={"detail": "busy"})
    with pytest.raises(errors.TransientServiceError):
        service().feed(RUNNING_JOB)
    assert len(responses.calls) == 1  # the engine decides when to try again


class SilentStream:
    """A server that answers a stream with its headers and then says nothing, holding the
    connection open until the test ends."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Connection: close\r\n\r\n")
        self.done.wait(10)
        conn.close()

    def close(self) -> None:
        self.done.set()
        self.server.close()


@pytest.fixture
def silent():
    server = SilentStream()
    yield server
    server.close()


def silent_client(silent, monkeypatch, heartbeat=0.2):
    monkeypatch.setattr("conjure.providers.thrixel.client.HEARTBEAT_S", heartbeat)
    client = service()
    client.api = silent.url  # the stream's path does not matter to this server
    client.http.settings = client.http.settings.__class__(read_timeout=0.1)
    return client


def test_a_stream_that_opens_but_stays_silent_drops_after_two_heartbeats(silent, monkeypatch):
    feed = silent_client(silent, monkeypatch).feed(RUNNING_JOB)
    began = time.monotonic()
    assert list(feed) == [] and not feed.ended
    assert 0.3 <= time.monotonic() - began < 5


def test_closing_a_feed_from_another_thread_ends_a_blocked_read(silent, monkeypatch):
    feed = silent_client(silent, monkeypatch, heartbeat=30.0).feed(RUNNING_JOB)
    threading.Timer(0.2, feed.close).start()
    began = time.monotonic()
    assert list(feed) == [] and not feed.ended
    assert time.monotonic() - began < 5  # not the 60 s of two heartbeats


def test_sse_progress_reads_both_shapes():
    assert sse_progress({"percent": 0.5}) == 0.5
    assert sse_progress({"progress": 42}) == 0.42
    assert sse_progress({"progress": 150}) == 1.0
    assert sse_progress({"type": "status"}) is None
