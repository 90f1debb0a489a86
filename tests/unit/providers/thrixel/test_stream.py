"""Progress from the ``/stream`` event feed: both event shapes, and a failing feed."""

from __future__ import annotations

import pytest
import responses
from unit.providers.thrixel.mocks import API, SID, service

from conjure.providers.base import Phase
from conjure.providers.thrixel.stream import sse_progress
from support.jobs import job


@responses.activate
def test_progress_comes_from_the_event_stream():
    responses.get(f"{API}/{SID}/info", json={"status": "processing"})
    responses.get(f"{API}/{SID}/stream", content_type="text/event-stream", body=(
        b": heartbeat\n\n"
        b'data: {"type":"status","status":"processing"}\n\n'
        b'data: {"type":"progress","percent":0.42,"message":"Generating geometry..."}\n\n'))
    status = service(progress_budget_s=1.0).poll(job("create", {}, SID))
    assert status.phase == Phase.RUNNING and status.progress == pytest.approx(0.42)


@responses.activate
def test_a_failing_event_stream_costs_only_the_figure():
    responses.get(f"{API}/{SID}/info", json={"status": "processing"})
    responses.get(f"{API}/{SID}/stream", status=500)
    status = service(progress_budget_s=1.0).poll(job("create", {}, SID))
    assert status.phase == Phase.RUNNING and status.progress is None
    assert len(responses.calls) == 2  # the stream was not retried


def test_sse_progress_reads_both_shapes():
    assert sse_progress({"percent": 0.5}) == 0.5
    assert sse_progress({"progress": 42}) == 0.42
    assert sse_progress({"progress": 150}) == 1.0
    assert sse_progress({"type": "status"}) is None
