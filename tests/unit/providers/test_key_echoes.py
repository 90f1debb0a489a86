"""A service that echoes the user's key back in an error answer (whole, across the cut of an
excerpt, percent-encoded, inside base64("user:KEY"), JSON-escaped, with the request's headers,
in response headers) never gets a piece of it into an exception text, the journal file or the
log: no FRAGMENT-long piece of the key can be read there in any of those encodings."""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
from types import SimpleNamespace

import pytest
import responses

from conjure.jobs.journal import Journal
from conjure.jobs.model import State
from conjure.jobs.polling import PollPolicy
from conjure.jobs.runner import Runner
from conjure.providers import errors
from conjure.providers.http import NetworkSettings
from conjure.providers.registry import ClientConfig, make_client
from support.keyleaks import across_cuts, echoes, fragments
from support.pictures import png

PICTURE = "data:image/png;base64," + base64.b64encode(png()).decode()

#: Per service: its base URL, a fresh key of its shape, and one paid operation with parameters.
SERVICES = {
    "thrixel": ("https://api.thrixel.com", lambda: "sk-thrixel-" + secrets.token_urlsafe(24),
                "create", {"task": "a stone gargoyle"}),
    "tripo": ("https://api.tripo3d.ai", lambda: "tsk_" + secrets.token_urlsafe(30),
              "text_to_model", {"prompt": "a stone gargoyle"}),
    "pixal3d": ("https://gateway.pixazo.ai", lambda: secrets.token_hex(16),
               "image_to_3d", {"image_url": "https://example.com/dog.png"}),
    "voxelai": ("https://voxelai.studio",
                lambda: "eyJhbGciOiJIUzI1NiJ9." + secrets.token_urlsafe(48),
                "voxelize", {"image": PICTURE}),
}
ANY_URL = re.compile(r"https://.*")


def answer(status: int, text: str, key: str, as_json: bool) -> dict:
    """An error answer carrying ``text`` in every field the services put their words in, and
    the key in the headers a service might echo it in."""
    headers = {"X-Tripo-Trace-ID": key, "X-Request-ID": key,
               "WWW-Authenticate": f'Bearer error="invalid_token", token="{key}"'}
    if not as_json:
        return {"status": status, "body": text, "headers": headers}
    fields = {name: text for name in ("message", "error", "detail", "suggestion")}
    body = fields | {"code": 1002 if status == 401 else 1000,
                     "request": {"headers": {"Authorization": f"Bearer {key}"}}}
    return {"status": status, "body": json.dumps(body), "headers": headers,
            "content_type": "application/json"}


def client(service: str, key: str):
    base, _, _, _ = SERVICES[service]
    network = NetworkSettings(max_retries=1, backoff_base=0.0, backoff_cap=0.0)
    return make_client(service, ClientConfig(base, key=key, network=network))


def leaks_through_runner(service: str, key: str, tmp_path) -> set[str]:
    """Submit one job through the engine; the pieces of the key in its journal files."""
    _, _, operation, params = SERVICES[service]
    journal = Journal(tmp_path / "jobs.sqlite")
    runner = Runner(journal, {service: client(service, key)}, tmp_path,
                    policy=PollPolicy(scale=0.01))
    runner.start()
    try:
        job = runner.wait(runner.submit(service, operation, dict(params)).id, timeout=10)
    finally:
        runner.stop()
        journal.close()
    assert job.state == State.FAILED, job.message
    found = fragments(job.message, key)
    for path in tmp_path.glob("jobs.sqlite*"):
        found |= fragments(path.read_bytes().decode("latin-1"), key)
    return found


@pytest.mark.parametrize("echo", ["plain", "percent", "basic", "base64", "json", "headers"])
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_piece_of_an_echoed_key_is_kept(service, echo, tmp_path, caplog):
    key = SERVICES[service][1]()
    text = across_cuts(echoes(key)[echo])
    _, _, operation, params = SERVICES[service]
    job = SimpleNamespace(id="job1", operation=operation, params=dict(params), remote_id="r-1",
                          service=service)
    caplog.set_level(logging.INFO, logger="conjure")
    for status in (401, 500):
        for as_json in (True, False):
            with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
                for method in ("GET", "POST"):
                    mock.add(method, ANY_URL, **answer(status, text, key, as_json))
                with pytest.raises(errors.ServiceError) as polled:
                    client(service, key).poll(job)
                with pytest.raises(errors.ServiceError) as sent:
                    client(service, key).submit(job)
                found = leaks_through_runner(service, key, tmp_path / f"{status}-{as_json}")
                assert len(mock.calls) >= 3, "the service was not asked each time"
            found |= fragments(str(polled.value), key) | fragments(str(sent.value), key)
            assert not found, (status, as_json, str(sent.value))
    assert "retrying" in caplog.text  # the 500 answers to polls were logged
    assert not fragments(caplog.text, key)


def test_pixazo_message_of_any_length_is_cut():
    key = SERVICES["pixal3d"][1]()
    with responses.RequestsMock() as mock:
        mock.add("POST", ANY_URL, status=400, json={"error": "Bad Request",
                                                    "message": "the picture is wrong " * 10_000})
        with pytest.raises(errors.InvalidRequestError) as refused:
            client("pixal3d", key).submit(SimpleNamespace(
                id="job1", operation="image_to_3d", params=dict(SERVICES["pixal3d"][3]),
                remote_id=None, service="pixal3d"))
    assert "the picture is wrong" in refused.value.message
    assert len(refused.value.message) < errors.SAID_LIMIT + 100
