"""Pixazo Pixal3D contract: 202 submit, uppercase statuses, CDN results, errors, webhooks."""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from sandbox import start_sandbox

IMAGE = "https://example.com/example_inputs/dog.png"
_keys = itertools.count()


@pytest.fixture(scope="module")
def sb():
    with start_sandbox(speed="fast", webhooks_allow_http=True) as sandbox:
        yield sandbox


def new_key(sb, **options) -> dict[str, str]:
    key = f"pixazo-key-{next(_keys)}"
    sb.add_key("pixazo", key, **options)
    return {"Ocp-Apim-Subscription-Key": key, "Cache-Control": "no-cache"}


def submit(sb, auth, body=None, headers=None) -> requests.Response:
    return requests.post(
        sb.url + "/pixazo/pixal3d/v1/pixal3d-request",
        json={"image_url": IMAGE} if body is None else body,
        headers={**auth, **(headers or {})},
    )


def wait(sb, auth, polling_url, final=("COMPLETED", "FAILED", "ERROR")) -> dict:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = requests.get(polling_url, headers=auth).json()
        if status["status"] in final:
            return status
        time.sleep(0.03)
    raise AssertionError("request never finished")


def test_submit_is_202_with_request_id_and_polling_url(sb):
    answer = submit(sb, new_key(sb))
    assert answer.status_code == 202
    body = answer.json()
    assert body["status"] == "QUEUED"
    assert re.fullmatch(
        r"pixal3d_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        body["request_id"],
    )
    assert body["polling_url"] == f"{sb.url}/pixazo/v2/requests/status/{body['request_id']}"


def test_status_flow_and_result(sb):
    auth = new_key(sb)
    body = submit(sb, auth, headers={"X-Sandbox-Fault": "cold_start=0.15"}).json()
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = requests.get(body["polling_url"], headers=auth).json()
        if not seen or seen[-1] != status["status"]:
            seen.append(status["status"])
        if status["status"] == "COMPLETED":
            break
        time.sleep(0.02)
    assert seen == ["QUEUED", "PROCESSING", "COMPLETED"]
    assert status["model_id"] == "pixal3d" and status["error"] is None
    assert status["output"]["media_type"] == "model/glb"
    assert "polling_url" not in status
    # Both timestamp styles the service uses.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", status["created_at"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", status["updated_at"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", status["completed_at"])
    url = status["output"]["media_url"][0]
    assert url.endswith(f"/v1/{body['request_id']}/output.glb") and "/cdn/" in url
    model = requests.get(url)  # public URL, no key
    assert model.status_code == 200 and model.content[:4] == b"glTF"


def test_auth_errors_are_gateway_shaped(sb):
    missing = submit(sb, {})
    assert missing.status_code == 401 and missing.json()["statusCode"] == 401
    assert "missing subscription key" in missing.json()["message"]
    wrong = submit(sb, {"Ocp-Apim-Subscription-Key": "nope"})
    assert wrong.status_code == 401 and "invalid subscription key" in wrong.json()["message"]
    forbidden = submit(sb, new_key(sb, forbidden=True))
    assert forbidden.status_code == 403
    bearer = submit(sb, {"Authorization": "Bearer pixazo-sandbox-key"})
    assert bearer.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"image_url": ""},
        {"image_url": "ftp://example.com/a.png"},
        {"image_url": "http://127.0.0.1/a.png"},
        {"image_url": "https://192.168.1.4/a.png"},
        {"image_url": "https://localhost/a.png"},
        {"image_url": "data:image/png;base64,iVBORw0KGgo="},
        {"image_url": IMAGE, "resolution": 2048},
        {"image_url": IMAGE, "texture_size": 3000},
        {"image_url": IMAGE, "remesh": "true"},
        {"image_url": IMAGE, "seed": 1.5},
        {"image_url": IMAGE, "ss_sampling_steps": 0},
        {"image_url": IMAGE, "ss_guidance_strength": "high"},
        {"image_url": IMAGE, "mesh_scale": 0},
        {"image_url": IMAGE, "decimation_target": -5},
    ],
)
def test_validation_is_400(sb, body):
    answer = submit(sb, new_key(sb), body=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "Bad Request" and answer.json()["message"]


def test_full_documented_body_is_accepted(sb):
    body = {
        "image_url": IMAGE,
        "resolution": 1536,
        "seed": 3,
        "ss_guidance_strength": 7.5,
        "ss_guidance_rescale": 0.7,
        "ss_sampling_steps": 12,
        "ss_rescale_t": 5,
        "shape_slat_guidance_strength": 7.5,
        "shape_slat_guidance_rescale": 0.5,
        "shape_slat_sampling_steps": 12,
        "shape_slat_rescale_t": 3,
        "tex_slat_guidance_strength": 1,
        "tex_slat_guidance_rescale": 0.2,
        "tex_slat_sampling_steps": 12,
        "tex_slat_rescale_t": 3,
        "mesh_scale": 1,
        "max_num_tokens": 49152,
        "decimation_target": 200000,
        "texture_size": 4096,
        "remesh": True,
    }
    assert submit(sb, new_key(sb), body=body).status_code == 202


def test_data_uri_only_behind_the_flag():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(16)).decode()
    with start_sandbox(pixazo_allow_data_uri=True) as flagged:
        answer = submit(
            flagged, new_key(flagged), body={"image_url": f"data:image/png;base64,{png}"}
        )
        assert answer.status_code == 202


def test_402_when_the_wallet_is_short(sb):
    auth = new_key(sb, balance=0.5)
    assert submit(sb, auth, body={"image_url": IMAGE, "texture_size": 1024}).status_code == 202
    answer = submit(sb, auth, body={"image_url": IMAGE, "texture_size": 1024})
    assert answer.status_code == 402
    assert answer.json() == {
        "error": "Insufficient Balance",
        "message": "Your wallet does not have enough balance.",
    }


def test_failed_and_error_outcomes(sb):
    auth = new_key(sb, balance=1.0)
    failed = submit(sb, auth, headers={"X-Sandbox-Fault": "fail=FAILED"}).json()
    errored = submit(sb, auth, headers={"X-Sandbox-Fault": "fail=ERROR"}).json()
    failed_status = wait(sb, auth, failed["polling_url"])
    error_status = wait(sb, auth, errored["polling_url"])
    assert failed_status["status"] == "FAILED" and failed_status["error"]
    assert error_status["status"] == "ERROR" and error_status["output"] is None
    # ERROR is a system error and is not charged; FAILED is.
    assert sb.account("pixazo", auth["Ocp-Apim-Subscription-Key"]).balance == pytest.approx(0.58)


def test_unknown_model_and_unknown_request(sb):
    auth = new_key(sb)
    answer = requests.post(sb.url + "/pixazo/nomodel/v1/nomodel-request", json={}, headers=auth)
    assert answer.status_code == 400
    assert answer.json()["message"] == "Model 'nomodel' not found or is disabled"
    missing = requests.get(sb.url + "/pixazo/v2/requests/status/pixal3d_nope", headers=auth)
    assert missing.status_code == 404
    mine = submit(sb, auth).json()
    other = requests.get(mine["polling_url"], headers=new_key(sb))
    assert other.status_code == 404


def test_webhook_must_be_https_and_mode_known():
    with start_sandbox() as strict:
        auth = new_key(strict)
        plain = submit(strict, auth, headers={"X-Webhook-URL": "http://example.com/hook"})
        assert plain.status_code == 400
        mode = submit(
            strict,
            auth,
            headers={"X-Webhook-URL": "https://example.com/hook", "X-Webhook-Mode": "often"},
        )
        assert mode.status_code == 400


class _Receiver(BaseHTTPRequestHandler):
    calls: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("mode", ["terminal", "sync"])
def test_webhook_delivery(sb, mode):
    receiver = type("Receiver", (_Receiver,), {"calls": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
        auth = new_key(sb)
        body = submit(sb, auth, headers={"X-Webhook-URL": hook, "X-Webhook-Mode": mode}).json()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            c["status"] == "COMPLETED" for c in receiver.calls
        ):
            time.sleep(0.05)
        time.sleep(0.1)
    finally:
        server.shutdown()
        server.server_close()
    statuses = [c["status"] for c in receiver.calls]
    assert all(c["request_id"] == body["request_id"] for c in receiver.calls)
    assert statuses.count("COMPLETED") == 2  # delivered twice: handlers must dedupe
    if mode == "terminal":
        assert set(statuses) == {"COMPLETED"}
    else:
        assert "PROCESSING" in statuses
