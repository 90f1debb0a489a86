"""Pixazo Pixal3D client against ``responses`` mocks: the request, inline pictures, what is
(never) retried, statuses, results and the key check."""

import base64
import json
from datetime import UTC, datetime

import pytest
import requests
import responses
from unit.providers.pixal3d.mocks import (
    ACCEPTED,
    BASE,
    DOG,
    KEY,
    MEDIA,
    OP,
    RID,
    SEED_EXAMPLE,
    STATUS,
    SUBMIT,
    job,
    service,
)

from conjure.providers import errors
from conjure.providers.base import Phase
from conjure.providers.pixal3d.client import POLL_EVERY, parse_time
from support.pictures import png


@responses.activate
def test_submit_sends_the_documented_body_and_headers():
    responses.post(SUBMIT, status=202, json=ACCEPTED)
    params = OP.validate({**SEED_EXAMPLE, "seed": 7, "tex_slat_guidance_rescale": 0.2})
    submitted = service().submit(job(params))
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
    service().submit(job(OP.validate({"image_url": DOG})))
    assert json.loads(responses.calls[0].request.body) == {"image_url": DOG}


@responses.activate
def test_a_local_picture_is_sent_inline_only_when_opted_in(tmp_path):
    path = tmp_path / "dog.png"
    path.write_bytes(png())
    responses.post(SUBMIT, status=202, json=ACCEPTED)
    service().submit(job(OP.validate({"image_url": str(path), "send_local_image": True})))
    body = json.loads(responses.calls[0].request.body)
    assert body == {"image_url": "data:image/png;base64," + base64.b64encode(png()).decode()}
    with pytest.raises(errors.InvalidRequestError, match="send_local_image"):
        service().submit(job({"image_url": str(path)}))
    assert len(responses.calls) == 1


@responses.activate
def test_the_services_refusal_of_an_inline_picture_is_explained(tmp_path):
    path = tmp_path / "dog.png"
    path.write_bytes(png())
    responses.post(SUBMIT, status=400, json={
        "error": "Bad Request", "message": "image_url: must be a publicly accessible URL"})
    with pytest.raises(errors.InvalidRequestError) as caught:
        service().submit(job({"image_url": str(path), "send_local_image": True}))
    text = str(caught.value)
    assert "refused the inline picture" in text and "publicly accessible" in text
    assert "paste its https link" in text
    assert caught.value.status == 400 and caught.value.field == "image_url"


@responses.activate
def test_no_paid_post_is_retried_after_a_read_timeout():
    responses.post(SUBMIT, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(errors.TransientServiceError) as caught:
        service().submit(job({"image_url": DOG}))
    assert caught.value.status is None
    assert len(responses.calls) == 1


@responses.activate
def test_an_accepted_but_unreadable_answer_has_no_status():
    responses.post(SUBMIT, status=202, body="<html>gateway</html>")
    with pytest.raises(errors.UnexpectedResponseError) as caught:
        service().submit(job({"image_url": DOG}))
    assert caught.value.status is None  # the request may exist: unknown, never re-sent


@responses.activate
def test_status_polling_is_retried_on_server_errors_and_sends_the_key():
    responses.get(STATUS, status=503, json={"error": "x", "message": "busy"})
    responses.get(STATUS, json={"request_id": RID, "status": "PROCESSING",
                                "created_at": "2026-05-22T13:17:32.110Z"})
    result = service().poll(job({"image_url": DOG}, RID))
    assert result.phase == Phase.RUNNING and result.progress is None
    assert service().poll_every == POLL_EVERY == (5.0, 10.0)  # the docs: every 5-10 s
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
    status = service().status_of({"status": "QUEUED", "created_at": created}, now=now)
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
    status = service().status_of(data)
    assert (status.phase, status.error_code) == (phase, code)
    assert words in status.message
    if code:
        assert "Description of the error" in status.message


def test_an_unknown_status_is_an_unexpected_response():
    with pytest.raises(errors.UnexpectedResponseError, match="'WEIRD'"):
        service().status_of({"status": "WEIRD"})


@responses.activate
def test_completed_downloads_media_url_without_the_key():
    responses.get(STATUS, json={
        "request_id": RID, "status": "COMPLETED", "model_id": "pixal3d", "error": None,
        "output": {"media_url": [MEDIA], "media_type": "model/glb"},
        "created_at": "2026-05-22T13:17:32.110Z", "updated_at": "2026-05-22 13:19:23",
        "completed_at": "2026-05-22 13:19:23"})
    responses.get(MEDIA, body=b"glTF\x02\x00\x00\x00data")
    status = service().poll(job({"image_url": DOG}, RID))
    (result,) = status.results
    assert (result.name, result.kinds) == ("output.glb", {"glb"})
    assert status.took_s == pytest.approx(110.89)  # by Pixazo's own clock, both styles
    assert b"".join(result.open()) == b"glTF\x02\x00\x00\x00data"
    download = responses.calls[1].request
    assert "Ocp-Apim-Subscription-Key" not in download.headers


@responses.activate
def test_check_key_tells_a_valid_key_from_a_refused_one():
    check = f"{BASE}/v2/requests/status/pixal3d_conjure-key-check"
    responses.get(check, status=404, json={"error": "Not Found", "message": "Request not found"})
    assert service().check_key().startswith("Pixazo key accepted")
    responses.replace(responses.GET, check, status=401, json={"statusCode": 401, "message": "no"})
    with pytest.raises(errors.AuthenticationError):
        service().check_key()
    assert service().balance() is None


@pytest.mark.parametrize(("raw", "params", "amount", "refunded"), [
    ("COMPLETED", {"image_url": DOG}, 0.42, False),
    ("COMPLETED", {"image_url": DOG, "texture_size": 1024}, 0.30, False),
    ("FAILED", {"image_url": DOG, "texture_size": 4096}, 0.42, False),
    ("ERROR", {"image_url": DOG}, 0, True),  # a system error is not charged
])
def test_pixazo_reports_no_amount_so_a_finished_request_costs_its_price(raw, params, amount,
                                                                        refunded):
    data = {"status": raw, "error": "x", "output": {"media_url": [MEDIA]}}
    charge = service().status_of(data, params=params).charge
    assert (charge.amount, charge.unit, charge.refunded) == (pytest.approx(amount), "USD",
                                                             refunded)
    assert service().status_of({"status": "PROCESSING"}, params=params).charge is None
