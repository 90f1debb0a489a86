import logging

import pytest
import requests
import responses

from conjure.providers import errors
from conjure.providers.http import HttpClient, NetworkSettings, parse_retry_after
from conjure.providers.redaction import log, redact, register_secret

URL = "https://api.example.test/v1/jobs"


def client(**kwargs):
    sleeps = []
    http = HttpClient("svc", NetworkSettings(backoff_base=0.5, max_retries=3),
                      auth_headers=lambda: {"Authorization": "Bearer sk-thrixel-SECRET123"},
                      sleep=sleeps.append, **kwargs)
    return http, sleeps


@responses.activate
def test_get_retries_429_honouring_retry_after_then_succeeds():
    responses.get(URL, status=429, headers={"Retry-After": "7"})
    responses.get(URL, status=503)
    responses.get(URL, json={"ok": True})
    http, sleeps = client()
    assert http.request("GET", URL).json() == {"ok": True}
    assert sleeps[0] == 7.0
    assert 0.25 <= sleeps[1] <= 1.25
    assert len(responses.calls) == 3


@responses.activate
def test_get_gives_up_after_max_retries_with_transient_error():
    responses.get(URL, status=502)
    http, sleeps = client()
    with pytest.raises(errors.TransientServiceError) as caught:
        http.request("GET", URL)
    assert caught.value.status == 502
    assert len(responses.calls) == 4 and len(sleeps) == 3


@responses.activate
def test_job_creating_post_is_not_retried_after_a_read_timeout():
    responses.post(URL, body=requests.exceptions.ReadTimeout("read timed out"))
    http, sleeps = client()
    with pytest.raises(errors.TransientServiceError) as caught:
        http.request("POST", URL, creates_job=True, json={"prompt": "x"})
    assert not isinstance(caught.value, errors.ConnectionFailedError)
    assert caught.value.status is None
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_job_creating_post_is_not_retried_on_5xx_or_429():
    responses.post(URL, status=500)
    http, _ = client()
    with pytest.raises(errors.TransientServiceError):
        http.request("POST", URL, creates_job=True)
    assert len(responses.calls) == 1


def test_job_creating_post_is_retried_when_the_connection_never_opened():
    # A closed loopback port refuses the connection before a byte is sent.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    http, sleeps = client()
    with pytest.raises(errors.ConnectionFailedError):
        http.request("POST", f"http://127.0.0.1:{port}/submit", creates_job=True)
    assert len(sleeps) == 3  # retried: the service cannot have seen it


@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.InvalidRequestError), (422, errors.InvalidRequestError),
    (401, errors.AuthenticationError), (403, errors.AuthenticationError),
    (402, errors.InsufficientCreditsError), (404, errors.NotFoundError),
    (429, errors.RateLimitedError), (500, errors.TransientServiceError),
    (418, errors.UnexpectedResponseError),
])
@responses.activate
def test_generic_mapping(status, cls):
    responses.post(URL, status=status, json={"detail": "nope"})
    http, _ = client()
    with pytest.raises(cls) as caught:
        http.request("POST", URL, creates_job=True)
    assert caught.value.status == status
    assert "nope" in str(caught.value)


@responses.activate
def test_provider_mapper_wins():
    responses.post(URL, status=400, json={"code": 2010})

    def mapper(response):
        if response.json().get("code") == 2010:
            return errors.InsufficientCreditsError("top up", service="svc")
        return None

    http, _ = client(error_mapper=mapper)
    with pytest.raises(errors.InsufficientCreditsError, match="top up"):
        http.request("POST", URL, creates_job=True)


@responses.activate
def test_ok_statuses_are_returned_to_the_caller():
    responses.get(URL, status=202, json={"status": "preparing"})
    http, _ = client()
    assert http.request("GET", URL, ok=(202,)).status_code == 202


def test_guard_stops_the_request_before_sending():
    def offline():
        raise errors.OfflineError("Online access is off")

    http, _ = client(guard=offline)
    with responses.RequestsMock() as mock:
        with pytest.raises(errors.OfflineError):
            http.request("GET", URL)
        assert len(mock.calls) == 0


@responses.activate
def test_key_never_appears_in_errors_or_logs(caplog):
    body = "invalid key sk-thrixel-SECRET123 for Bearer sk-thrixel-SECRET123"
    responses.get(URL, status=401, body=body)
    http, _ = client()
    with caplog.at_level(logging.DEBUG, logger="conjure"), pytest.raises(errors.ServiceError) as e:
        http.request("GET", URL)
    log.error("failed: %s", e.value)
    assert "SECRET123" not in str(e.value)
    assert "SECRET123" not in caplog.text
    assert responses.calls[0].request.headers["Authorization"] == "Bearer sk-thrixel-SECRET123"


@responses.activate
def test_broken_download_body_is_transient():
    def broken(request):
        raise requests.exceptions.ChunkedEncodingError("connection broken")

    responses.add_callback(responses.GET, "https://cdn.example.test/m.glb", callback=broken)
    http, _ = client()
    with pytest.raises(errors.TransientServiceError):
        list(http.stream("https://cdn.example.test/m.glb"))


def test_settings_reach_the_session():
    http = HttpClient("svc", NetworkSettings(proxy="http://proxy:3128", ca_bundle="/etc/ca.pem"))
    assert http.session.proxies == {"http": "http://proxy:3128", "https": "http://proxy:3128"}
    assert http.session.verify == "/etc/ca.pem"
    http.configure(NetworkSettings(verify_tls=False))
    assert http.session.verify is False and http.session.proxies == {}


def test_parse_retry_after():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_redact_masks_registered_and_shaped_secrets():
    register_secret("voxel-session-token-xyz")
    text = ("token voxel-session-token-xyz, key tsk_abc123, Ocp-Apim-Subscription-Key: 0f0f0f, "
            "url https://cdn/x.glb?Signature=abcd&Expires=1")
    out = redact(text)
    for secret in ("voxel-session-token-xyz", "tsk_abc123", "0f0f0f", "abcd"):
        assert secret not in out
    assert "Expires=1" in out


def test_retry_waits_end_at_once_when_conjure_stops():
    import threading
    import time

    from conjure.providers import http as http_module

    started = time.monotonic()
    threading.Timer(0.1, http_module.stopping.set).start()
    try:
        with pytest.raises(errors.ConnectionFailedError, match="nothing more was sent"):
            http_module.wait_or_stop(30)
    finally:
        http_module.stopping.clear()
    assert time.monotonic() - started < 5
