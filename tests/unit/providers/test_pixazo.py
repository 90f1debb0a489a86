"""Pixazo Pixal3D client against ``responses`` mocks."""

import base64
import json
import struct
import zlib
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import requests
import responses

from conjure.providers import errors
from conjure.providers.base import Phase
from conjure.providers.http import NetworkSettings
from conjure.providers.pixazo.client import POLL_EVERY, parse_time
from conjure.providers.pixazo.operations import BY_NAME
from conjure.providers.registry import ClientConfig, make_client

KEY = "pixazo-unit-SECRET-key"
BASE = "https://gateway.pixazo.ai"
SUBMIT = f"{BASE}/pixal3d/v1/pixal3d-request"
RID = "pixal3d_019d0000-0000-7000-8000-000000000001"
STATUS = f"{BASE}/v2/requests/status/{RID}"
MEDIA = f"https://pub-582b7213209642b9b995c96c95a30381.r2.dev/v1/{RID}/output.glb"
OP = BY_NAME["image_to_3d"]
DOG = "https://example.com/example_inputs/dog.png"


def png(width=32, height=32):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = zlib.compress((b"\x00" + b"\x40" * 3 * width) * height)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def provider():
    network = NetworkSettings(max_retries=2, backoff_base=0.0, backoff_cap=0.0)
    return make_client("pixazo", ClientConfig(BASE, key=KEY, network=network))


def job(params, remote_id=None):
    return SimpleNamespace(id="j", operation="image_to_3d", params=params, remote_id=remote_id)


ACCEPTED = {"request_id": RID, "status": "QUEUED", "polling_url": STATUS}

#: The seed's example request: every documented field with its documented default.
SEED_EXAMPLE = {
    "image_url": DOG, "resolution": 1024, "ss_guidance_strength": 7.5,
    "ss_guidance_rescale": 0.7, "ss_sampling_steps": 12, "ss_rescale_t": 5,
    "shape_slat_guidance_strength": 7.5, "shape_slat_guidance_rescale": 0.5,
    "shape_slat_sampling_steps": 12, "shape_slat_rescale_t": 3,
    "tex_slat_guidance_strength": 1, "tex_slat_sampling_steps": 12, "tex_slat_rescale_t": 3,
    "mesh_scale": 1, "max_num_tokens": 49152, "decimation_target": 200000,
    "texture_size": 2048, "remesh": True,
}


def test_every_documented_parameter_is_declared_with_its_default_and_enum():
    declared = {p.name: p for p in OP.params}
    table = set(SEED_EXAMPLE) | {"seed", "tex_slat_guidance_rescale"}
    assert table | {"send_local_image"} == set(declared)
    for name, value in SEED_EXAMPLE.items():
        if name != "image_url":
            assert declared[name].default == value, name
    assert declared["resolution"].choices == (1024, 1536)
    assert declared["texture_size"].choices == (1024, 2048, 4096)
    assert declared["seed"].default is None and declared["tex_slat_guidance_rescale"].default \
        is None
    assert declared["image_url"].required


@responses.activate
def test_submit_sends_the_documented_body_and_headers():
    responses.post(SUBMIT, status=202, json=ACCEPTED)
    params = OP.validate({**SEED_EXAMPLE, "seed": 7, "tex_slat_guidance_rescale": 0.2})
    submitted = provider().submit(job(params))
    assert submitted.remote_id == RID
    assert submitted.status.phase == Phase.QUEUED
    (call,) = responses.calls
    assert json.loads(call.request.body) == {**SEED_EXAMPLE, "seed": 7,
                                             "tex_slat_guidance_rescale": 0.2}
    headers = call.request.headers
    assert headers["Ocp-Apim-Subscription-Key"] == KEY
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-cache"
    assert "Authorization" not in headers


@responses.activate
def test_only_the_image_is_sent_when_nothing_else_is_set():
    responses.post(SUBMIT, status=202, json=ACCEPTED)
    provider().submit(job(OP.validate({"image_url": DOG})))
    assert json.loads(responses.calls[0].request.body) == {"image_url": DOG}


@pytest.mark.parametrize(("values", "field", "words"), [
    ({}, "image_url", "image_url is required"),
    ({"image_url": "http://example.com/dog.png"}, "image_url", "public https:// URL"),
    ({"image_url": "https://localhost/dog.png"}, "image_url", "cannot reach"),
    ({"image_url": "https://192.168.1.4/dog.png"}, "image_url", "private address"),
    ({"image_url": "/tmp/dog.png"}, "image_url", "turn on send_local_image"),
    ({"image_url": "data:image/png;base64,AAAA"}, "image_url", "turn on send_local_image"),
    ({"image_url": "/no/such/dog.png", "send_local_image": True}, "image_url", "cannot read"),
    ({"image_url": DOG, "resolution": 2048}, "resolution", "one of 1024, 1536"),
    ({"image_url": DOG, "texture_size": 512}, "texture_size", "one of 1024, 2048, 4096"),
    ({"image_url": DOG, "ss_sampling_steps": 0}, "ss_sampling_steps", "at least 1"),
    ({"image_url": DOG, "mesh_scale": 0}, "mesh_scale", "at least 0.001"),
    ({"image_url": DOG, "remesh": "yes"}, "remesh", "true or false"),
    ({"image_url": DOG, "decimation_target": 10.5}, "decimation_target", "a whole number"),
])
def test_each_rule_names_the_field_and_what_is_allowed(values, field, words):
    with pytest.raises(errors.InvalidRequestError) as caught:
        OP.validate(values)
    assert caught.value.field == field
    assert words in str(caught.value)


@responses.activate
def test_a_local_picture_is_sent_inline_only_when_opted_in(tmp_path):
    path = tmp_path / "dog.png"
    path.write_bytes(png())
    responses.post(SUBMIT, status=202, json=ACCEPTED)
    provider().submit(job(OP.validate({"image_url": str(path), "send_local_image": True})))
    body = json.loads(responses.calls[0].request.body)
    assert body == {"image_url": "data:image/png;base64," + base64.b64encode(png()).decode()}
    with pytest.raises(errors.InvalidRequestError, match="send_local_image"):
        provider().submit(job({"image_url": str(path)}))
    assert len(responses.calls) == 1


@responses.activate
def test_the_services_refusal_of_an_inline_picture_is_explained(tmp_path):
    path = tmp_path / "dog.png"
    path.write_bytes(png())
    responses.post(SUBMIT, status=400, json={
        "error": "Bad Request", "message": "image_url: must be a publicly accessible URL"})
    with pytest.raises(errors.InvalidRequestError) as caught:
        provider().submit(job({"image_url": str(path), "send_local_image": True}))
    text = str(caught.value)
    assert "refused the inline picture" in text and "publicly accessible" in text
    assert "paste its https link" in text
    assert caught.value.status == 400 and caught.value.field == "image_url"


ERRORS = [
    (400, {"error": "Model not found", "message": "Model 'pixal3d' not found or is disabled"},
     errors.InvalidRequestError, "Pixal3D is not available to this key"),
    (400, {"error": "Bad Request", "message": "resolution must be 1024 or 1536"},
     errors.InvalidRequestError, "refused the request: resolution must be"),
    (401, {"statusCode": 401, "message": "Access denied due to invalid subscription key."},
     errors.AuthenticationError, "https://api-console.pixazo.ai/api_keys"),
    (402, {"error": "Insufficient Balance", "message": "Your wallet does not have enough "
           "balance."}, errors.InsufficientCreditsError,
     "not enough balance in the Pixazo wallet — top up at https://api-console.pixazo.ai/dashboard"),
    (403, {"statusCode": 403, "message": "Access denied"}, errors.AuthenticationError,
     "does not allow this key to use Pixal3D"),
    (429, {"statusCode": 429, "message": "Rate limit is exceeded."}, errors.RateLimitedError,
     "too many requests"),
    (500, {"error": "Internal Server Error", "message": "oops"}, errors.TransientServiceError,
     "server error 500"),
]


@responses.activate
@pytest.mark.parametrize(("status", "body", "cls", "words"), ERRORS)
def test_each_documented_status_maps_to_its_class_and_message(status, body, cls, words):
    responses.post(SUBMIT, status=status, json=body, headers={"Retry-After": "3"})
    with pytest.raises(errors.ServiceError) as caught:
        provider().submit(job({"image_url": DOG}))
    assert type(caught.value) is cls
    assert words in str(caught.value)
    assert caught.value.status == status and caught.value.retry_after == 3
    assert len(responses.calls) == 1  # never re-sent: it may charge
    assert KEY not in str(caught.value)


@responses.activate
def test_no_paid_post_is_retried_after_a_read_timeout():
    responses.post(SUBMIT, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(errors.TransientServiceError) as caught:
        provider().submit(job({"image_url": DOG}))
    assert caught.value.status is None
    assert len(responses.calls) == 1


@responses.activate
def test_an_accepted_but_unreadable_answer_has_no_status():
    responses.post(SUBMIT, status=202, body="<html>gateway</html>")
    with pytest.raises(errors.UnexpectedResponseError) as caught:
        provider().submit(job({"image_url": DOG}))
    assert caught.value.status is None  # the request may exist: unknown, never re-sent


@responses.activate
def test_status_polling_is_retried_on_server_errors_and_sends_the_key():
    responses.get(STATUS, status=503, json={"error": "x", "message": "busy"})
    responses.get(STATUS, json={"request_id": RID, "status": "PROCESSING",
                                "created_at": "2026-05-22T13:17:32.110Z"})
    result = provider().poll(job({"image_url": DOG}, RID))
    assert result.phase == Phase.RUNNING and result.progress is None
    assert result.poll_after == POLL_EVERY
    assert all(c.request.headers["Ocp-Apim-Subscription-Key"] == KEY for c in responses.calls)


def test_both_timestamp_styles_are_read_as_utc():
    assert parse_time("2026-05-22T13:17:32.110Z") == datetime(
        2026, 5, 22, 13, 17, 32, 110000, tzinfo=UTC)
    assert parse_time("2026-05-22 13:19:23") == datetime(2026, 5, 22, 13, 19, 23,
                                                                 tzinfo=UTC)
    assert parse_time("2026-03-31T10:00:15.000+02:00") == datetime(
        2026, 3, 31, 8, 0, 15, tzinfo=UTC)
    assert parse_time("yesterday") is None and parse_time(None) is None


@pytest.mark.parametrize("created", ["2026-05-22T13:17:32.110Z", "2026-05-22 13:17:32"])
def test_waiting_time_is_shown_from_either_timestamp_style(created):
    now = datetime(2026, 5, 22, 13, 18, 14, tzinfo=UTC)
    status = provider().status_of({"status": "QUEUED", "created_at": created}, now=now)
    assert status.phase == Phase.QUEUED
    assert status.message in ("Queued at Pixazo for 41 s", "Queued at Pixazo for 42 s")


@pytest.mark.parametrize(("raw", "phase", "code", "words"), [
    ("FAILED", Phase.FAILED, "service_failed", "could not make a model"),
    ("ERROR", Phase.FAILED, "service_error", "not charged"),
    ("processing", Phase.RUNNING, None, "Generating"),
    ("succeeded", Phase.SUCCEEDED, None, "Finished"),
])
def test_statuses_are_normalised(raw, phase, code, words):
    data = {"status": raw, "error": "Description of the error" if code else None,
            "output": {"media_url": [MEDIA], "media_type": "model/glb"}}
    status = provider().status_of(data)
    assert (status.phase, status.error_code) == (phase, code)
    assert words in status.message
    if code:
        assert "Description of the error" in status.message


def test_an_unknown_status_is_an_unexpected_response():
    with pytest.raises(errors.UnexpectedResponseError, match="'WEIRD'"):
        provider().status_of({"status": "WEIRD"})


@responses.activate
def test_completed_downloads_media_url_without_the_key():
    responses.get(STATUS, json={
        "request_id": RID, "status": "COMPLETED", "model_id": "pixal3d", "error": None,
        "output": {"media_url": [MEDIA], "media_type": "model/glb"},
        "created_at": "2026-05-22T13:17:32.110Z", "updated_at": "2026-05-22 13:19:23",
        "completed_at": "2026-05-22 13:19:23"})
    responses.get(MEDIA, body=b"glTF\x02\x00\x00\x00data")
    status = provider().poll(job({"image_url": DOG}, RID))
    (result,) = status.results
    assert (result.name, result.kinds) == ("output.glb", {"glb"})
    assert b"".join(result.open()) == b"glTF\x02\x00\x00\x00data"
    download = responses.calls[1].request
    assert "Ocp-Apim-Subscription-Key" not in download.headers


@responses.activate
def test_check_key_tells_a_valid_key_from_a_refused_one():
    check = f"{BASE}/v2/requests/status/pixal3d_conjure-key-check"
    responses.get(check, status=404, json={"error": "Not Found", "message": "Request not found"})
    assert provider().check_key().startswith("Pixazo key accepted")
    responses.replace(responses.GET, check, status=401, json={"statusCode": 401, "message": "no"})
    with pytest.raises(errors.AuthenticationError):
        provider().check_key()
    assert provider().balance() is None
