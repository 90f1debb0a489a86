"""Voxel-AI client against ``responses`` mocks: documented bodies and headers, the client-side
rate limit, what is (never) retried, status normalisation and inline results."""

from __future__ import annotations

import base64

import pytest
import requests
import responses
from responses import matchers
from unit.providers.voxelai.mocks import GEN, sent_json, service

from conjure.providers import errors
from conjure.providers.base import Phase
from conjure.providers.prices import Charge
from support.jobs import job
from support.pictures import png


@responses.activate
def test_candidates_send_prompt_and_seed_with_the_bearer_token():
    responses.post(GEN + "/images", json={"jobId": "abc123-def456"})
    p = service("eyJ-token-A")
    submitted = p.submit(job("candidates", {"prompt": "a magical floating island",
                                            "seed": 12345}))
    request = responses.calls[0].request
    assert sent_json() == {"prompt": "a magical floating island", "seed": 12345}
    assert request.headers["Authorization"] == "Bearer eyJ-token-A"
    assert request.headers["Content-Type"] == "application/json"
    assert submitted.remote_id == "abc123-def456"
    assert submitted.status.phase == Phase.QUEUED


@responses.activate
def test_voxelize_sends_the_picture_as_a_data_url_and_only_set_options(tmp_path):
    picture = png(8, 8)
    path = tmp_path / "candidate_2.png"
    path.write_bytes(picture)
    responses.post(GEN + "/voxelize", json={"jobId": "v1", "balance": 4, "charged": True})
    p = service()
    submitted = p.submit(job("voxelize", {"image": str(path), "voxel_size": 64,
                                          "texturing": "gray", "fill": True, "color": "vertex",
                                          "palette_size": 16}))
    assert sent_json() == {
        "image_base64": "data:image/png;base64," + base64.b64encode(picture).decode(),
        "voxel_size": 64, "texturing": "gray", "fill": True, "color": "vertex",
        "palette_size": 16}
    assert submitted.remote_id == "v1" and "4 tokens left" in submitted.status.message
    assert p.balance() == "4 tokens" and (p.funds().amount, p.funds().unit) == (4, "tokens")
    assert submitted.status.charge == Charge(1.0, "tokens")  # taken as the job is sent


@responses.activate
def test_voxelize_passes_a_data_url_through():
    data_url = "data:image/png;base64," + base64.b64encode(png(4, 4)).decode()
    responses.post(GEN + "/voxelize", json={"jobId": "v2", "balance": 1, "charged": True},
                   match=[matchers.json_params_matcher({"image_base64": data_url})])
    service().submit(job("voxelize", {"image": data_url}))
    assert len(responses.calls) == 1


def test_not_a_picture_is_refused_before_sending(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with responses.RequestsMock() as mocked:
        with pytest.raises(errors.InvalidRequestError, match="not a PNG, JPEG or WebP"):
            service().submit(job("voxelize", {"image": str(text)}))
        assert len(mocked.calls) == 0


@responses.activate
def test_second_candidate_request_within_15_s_is_held_back_without_sending():
    responses.post(GEN + "/images", json={"jobId": "one"})
    token = "eyJ-rate-limited"
    service(token).submit(job("candidates", {"prompt": "a"}))
    # A client rebuilt after a settings change still knows the user's last request.
    with pytest.raises(errors.RateLimitedError, match="one candidate request per 15 s") as caught:
        service(token).submit(job("candidates", {"prompt": "b"}))
    assert 14 < caught.value.retry_after <= 15
    assert len(responses.calls) == 1
    # Voxelizing is not limited.
    responses.post(GEN + "/voxelize", json={"jobId": "v", "balance": 3, "charged": True})
    service(token).submit(job("voxelize", {"image": "data:image/png;base64,"
                                            + base64.b64encode(png(2, 2)).decode()}))


@responses.activate
def test_the_service_429_restarts_the_wait():
    responses.post(GEN + "/images", status=429, headers={"Retry-After": "9"},
                   json={"error": "Too many requests. Please wait before trying again."})
    p = service(images_interval_s=0.0)
    with pytest.raises(errors.RateLimitedError) as caught:
        p.submit(job("candidates", {"prompt": "a"}))
    assert caught.value.retry_after == 9.0 and caught.value.status == 429
    assert len(responses.calls) == 1


@responses.activate
def test_a_paid_post_is_not_retried_after_a_read_timeout():
    responses.post(GEN + "/voxelize", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(errors.TransientServiceError) as caught:
        service().submit(job("voxelize", {"image": "data:image/png;base64,"
                                           + base64.b64encode(png(2, 2)).decode()}))
    assert caught.value.status is None and len(responses.calls) == 1


@responses.activate
def test_502_transient_keeps_polling_then_the_result_arrives():
    vox = b"VOX " + (200).to_bytes(4, "little") + b"MAIN" + b"\x00" * 8
    status_url = GEN + "/status"
    match = [matchers.query_param_matcher({"jobId": "v1"})]
    responses.get(status_url, json={"state": "queued", "delayTime": 1820, "executionTime": 0},
                  match=match)
    responses.get(status_url, status=502, json={"error": "hiccup", "transient": True},
                  match=match)
    responses.get(status_url, json={"state": "running", "delayTime": 1820,
                                    "executionTime": 45000}, match=match)
    responses.get(status_url, match=match, json={
        "state": "completed", "delayTime": 1820, "executionTime": 210000, "balance": 4,
        "charged": True,
        "output": {"filename": "voxel_00000.vox", "vox_base64": base64.b64encode(vox).decode()}})
    p = service()
    polled = job("voxelize", {}, "v1")
    queued = p.poll(polled)
    assert queued.phase == Phase.QUEUED and "2 s" in queued.message and queued.progress is None
    hiccup = p.poll(polled)
    assert hiccup.phase == Phase.RUNNING and "still running" in hiccup.message
    assert len(responses.calls) == 2  # the 502 answer was taken as it is, not retried
    running = p.poll(polled)
    assert running.phase == Phase.RUNNING and "45 s" in running.message
    done = p.poll(polled)
    assert done.phase == Phase.SUCCEEDED
    assert done.took_s == pytest.approx(211.82)  # RunPod's queue and run time together
    [result] = done.results
    assert result.name == "voxel_00000.vox" and result.kinds == frozenset({"vox"})
    assert b"".join(result.open()) == vox
    assert p.balance() == "4 tokens"
    assert done.charge == Charge(1.0, "tokens")


@responses.activate
def test_candidates_come_back_as_three_picture_files():
    pictures = [png(2, 2, lambda x, y, i=i: (i, i, i)) for i in range(3)]
    responses.get(GEN + "/status", json={"state": "completed", "executionTime": 38000, "output": {
        "seed": 12345, "images": [{"index": i, "image_base64": base64.b64encode(p).decode()}
                                  for i, p in enumerate(pictures)]}})
    done = service().poll(job("candidates", {}, "c1"))
    assert done.phase == Phase.SUCCEEDED and "seed 12345" in done.message
    assert [r.name for r in done.results] == ["candidate_1.png", "candidate_2.png",
                                              "candidate_3.png"]
    assert [b"".join(r.open()) for r in done.results] == pictures
    assert done.charge == Charge(0.0, "tokens")  # free


@responses.activate
def test_failed_voxelize_says_the_token_came_back():
    responses.get(GEN + "/status", json={"state": "failed", "error": "worker crashed",
                                         "balance": 5, "charged": False})
    p = service()
    failed = p.poll(job("voxelize", {}, "v"))
    assert failed.phase == Phase.FAILED and "worker crashed" in failed.message
    assert "refunded" in failed.message and p.balance() == "5 tokens"
    assert failed.charge == Charge(0.0, "tokens", refunded=True)


@responses.activate
def test_502_without_transient_and_unknown_states_are_errors():
    responses.get(GEN + "/status", status=502, json={"error": "bad gateway"})
    responses.get(GEN + "/status", json={"state": "melting"})
    with pytest.raises(errors.TransientServiceError):
        service().poll(job("voxelize", {}, "v"))
    with pytest.raises(errors.UnexpectedResponseError, match="melting"):
        service().poll(job("voxelize", {}, "v"))


@responses.activate
def test_damaged_base64_is_never_saved():
    responses.get(GEN + "/status", json={"state": "completed", "output": {
        "filename": "v.vox", "vox_base64": "not*base64"}})
    [result] = service().poll(job("voxelize", {}, "v")).results
    with pytest.raises(errors.UnexpectedResponseError, match="damaged"):
        b"".join(result.open())


@responses.activate
def test_check_key_uses_the_free_status_route():
    responses.get(GEN + "/status", status=400, json={"error": "Missing jobId"})
    responses.get(GEN + "/status", status=401, json={"error": "Unauthorized"})
    assert service().check_key() == "Voxel-AI token accepted"
    with pytest.raises(errors.AuthenticationError, match="fresh token"):
        service().check_key()
    assert service().balance() is None  # nothing reported yet for a new token
