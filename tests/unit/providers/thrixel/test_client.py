"""Thrixel client against ``responses`` mocks: request bodies and headers as documented,
status normalisation, downloads, cancelling and the account."""

from __future__ import annotations

import base64

import pytest
import requests
import responses
from responses import matchers
from unit.providers.thrixel.mocks import API, KEY, SID, queued, sent_json, service

from conjure.providers import errors
from conjure.providers.base import Phase
from support.jobs import job
from support.pictures import png


@responses.activate
def test_create_sends_the_documented_body_and_headers():
    responses.post(API + "/phase1/submit", json=queued())
    submitted = service().submit(job("create", {"task": "a small stone gargoyle"}))
    request = responses.calls[0].request
    assert sent_json() == {"task": "a small stone gargoyle"}
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert submitted.remote_id == SID and submitted.status.phase == Phase.QUEUED


@responses.activate
def test_create_inlines_local_pictures_and_keeps_links(tmp_path):
    picture = png(8, 8)
    path = tmp_path / "ref.png"
    path.write_bytes(picture)
    responses.post(API + "/phase1/submit", json=queued())
    service().submit(job("create", {
        "images": [str(path), "https://example.com/side.jpg"], "model": "architect-balanced",
        "project_id": "p1", "adaptive_thinking": True, "quality": "lite"}))
    body = sent_json()
    assert body == {"images": ["data:image/png;base64," + base64.b64encode(picture).decode(),
                               "https://example.com/side.jpg"],
                    "model": "architect-balanced", "project_id": "p1",
                    "adaptive_thinking": True}  # quality steers the download, is not sent


@responses.activate
def test_refine_edit_and_detail_bodies():
    for route in ("phase2/submit", "phase3/submit", "detailer/submit"):
        responses.post(f"{API}/{route}", json=queued())
    p = service()
    p.submit(job("refine", {"parent_submission_id": SID, "adaptive_thinking": False}))
    p.submit(job("edit", {"parent_submission_id": SID, "modification_request": "blue glow",
                          "focus_on_node_names": ["lantern_glass", "lid"]}))
    p.submit(job("detail", {"parent_submission_id": SID, "prompt": "mossy", "seed": 42,
                            "texture_size": 4096, "decimation_target": 160000,
                            "preserve_parts": True, "focus_on_node_names": ["lid"],
                            "adherence_level": 12, "image": "https://example.com/look.png"}))
    assert sent_json(0) == {"parent_submission_id": SID, "adaptive_thinking": False}
    assert sent_json(1) == {"parent_submission_id": SID, "modification_request": "blue glow",
                            "focus_on_node_names": ["lantern_glass", "lid"]}
    assert sent_json(2) == {"parent_submission_id": SID, "prompt": "mossy", "seed": 42,
                            "texture_size": 4096, "decimation_target": 160000,
                            "preserve_parts": True, "focus_on_node_names": ["lid"],
                            "adherence_level": 12, "image": "https://example.com/look.png"}


@responses.activate
def test_convert_posts_and_downloads_the_format():
    job_id = "conv-1"
    responses.post(API + "/convert", json={
        "job_id": job_id, "submission_id": SID, "format": "fbx", "status": "queued",
        "error": None, "download_url": None, "status_url": f"{API}/convert/{job_id}"},
        match=[matchers.json_params_matcher({"submission_id": SID, "format": "fbx",
                                             "force": False})])
    responses.get(f"{API}/convert/{job_id}", json={
        "job_id": job_id, "submission_id": SID, "format": "fbx", "status": "ready"})
    responses.get(f"{API}/{SID}/download", body=b"Kaydara FBX Binary  \x00rest",
                  match=[matchers.query_param_matcher({"format": "fbx", "target": "unity"})])
    p = service()
    params = {"parent_submission_id": SID, "format": "fbx", "target": "unity"}
    submitted = p.submit(job("convert", params))
    assert submitted.remote_id == job_id and submitted.status.phase == Phase.QUEUED
    status = p.poll(job("convert", params, job_id))
    assert status.phase == Phase.SUCCEEDED
    assert status.results[0].name == f"{SID}.fbx"
    assert b"".join(status.results[0].open()).startswith(b"Kaydara FBX Binary")


@responses.activate
def test_a_paid_post_is_not_retried_after_a_read_timeout():
    responses.post(API + "/phase1/submit", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(errors.TransientServiceError) as caught:
        service().submit(job("create", {"task": "x"}))
    assert caught.value.status is None  # the engine marks the job unknown, never re-sends
    assert len(responses.calls) == 1


@responses.activate
def test_status_normalisation_and_the_full_build_wait():
    responses.get(f"{API}/{SID}/info", json={"status": "queued", "status_note": "long queue"})
    responses.get(f"{API}/{SID}/info", json={"status": "processing"})
    responses.get(f"{API}/{SID}/info", json={"status": "completed", "phase": 1,
                                             "full_build_status": "pending"})
    responses.get(f"{API}/{SID}/info", json={"status": "completed", "phase": 1,
                                             "full_build_status": "completed"})
    p = service()
    polled = job("create", {"task": "x"}, SID)
    first = p.poll(polled)
    assert (first.phase, first.message) == (Phase.QUEUED, "long queue")
    assert p.poll(polled).phase == Phase.RUNNING
    baking = p.poll(polled)
    assert baking.phase == Phase.RUNNING and "full-detail" in baking.message
    done = p.poll(polled)
    assert done.phase == Phase.SUCCEEDED and done.results[0].name == f"{SID}_rough.glb"
    assert done.results[0].kinds == frozenset({"glb"})


@responses.activate
def test_lite_quality_does_not_wait_for_the_full_build():
    responses.get(f"{API}/{SID}/info", json={"status": "completed", "phase": 3,
                                             "full_build_status": "pending"})
    responses.get(f"{API}/{SID}/download", body=b"glTF lite",
                  match=[matchers.query_param_matcher({"format": "glb", "quality": "lite"})])
    status = service().poll(job("edit", {"quality": "lite"}, SID))
    assert status.phase == Phase.SUCCEEDED
    assert b"".join(status.results[0].open()) == b"glTF lite"


@responses.activate
def test_unknown_status_is_unexpected():
    responses.get(f"{API}/{SID}/info", json={"status": "exploded"})
    with pytest.raises(errors.UnexpectedResponseError, match="exploded"):
        service().poll(job("create", {}, SID))


@responses.activate
def test_download_202_preparing_then_200():
    url = f"{API}/{SID}/download"
    responses.get(url, status=202, json={"status": "preparing"})
    responses.get(url, body=b"glTF\x02\x00\x00\x00model", content_type="model/gltf-binary")
    responses.get(f"{API}/{SID}/info", json={"status": "completed", "phase": 1})
    result = service().poll(job("create", {}, SID)).results[0]
    with pytest.raises(errors.ResultNotReadyError, match="preparing"):
        b"".join(result.open())
    assert b"".join(result.open()).startswith(b"glTF")
    assert responses.calls[1].request.url.endswith("format=glb&quality=full")


@responses.activate
def test_download_follows_redirects_and_refuses_json():
    responses.get(f"{API}/{SID}/download", status=302,
                  headers={"Location": "https://cdn.thrixel.com/m.glb"})
    responses.get("https://cdn.thrixel.com/m.glb", body=b"glTFdata")
    p = service()
    assert b"".join(p.download(f"{API}/{SID}/download", {"format": "glb"})) == b"glTFdata"
    responses.get(f"{API}/other/download", json={"status": "queued", "job_id": "j"})
    with pytest.raises(errors.UnexpectedResponseError, match="JSON instead of a model"):
        b"".join(p.download(f"{API}/other/download", {"format": "fbx"}))


@responses.activate
def test_a_failed_conversion_answered_with_202_is_not_waited_for():
    responses.get(f"{API}/{SID}/download", status=202,
                  json={"job_id": "j", "status": "failed", "error": "bad mesh"})
    with pytest.raises(errors.UnexpectedResponseError, match="bad mesh"):
        b"".join(service().download(f"{API}/{SID}/download", {"format": "fbx"}))


@responses.activate
def test_cancel_queued_job_and_refusal_once_running():
    responses.post(f"{API}/{SID}/cancel", json={"cancelled": True, "status": "failed"},
                   match=[matchers.json_params_matcher({})])
    responses.post(f"{API}/run/cancel", status=409,
                   json={"detail": "The job is already running."})
    p = service()
    assert p.cancel(job("create", {}, SID)) is True
    with pytest.raises(errors.InvalidRequestError, match="cannot cancel it any more"):
        p.cancel(job("create", {}, "run"))
    assert p.can_cancel


@responses.activate
def test_usage_gives_the_balance_line_and_validate_checks_the_key():
    responses.get(API + "/usage", json={
        "plan": "free", "is_unlimited": False, "cubes_balance": 120.5,
        "monthly_runs": {"limit": 10, "used": {"architect": 3, "edit": 1}}})
    responses.get(API + "/usage", json={"plan": "studio", "is_unlimited": True,
                                        "cubes_balance": None})
    responses.get(API + "/validate", json={"valid": True, "name": "Ada", "role": "member"})
    p = service()
    assert p.balance() == "120.5 Cubes · 4/10 runs this month · free plan"
    assert p.balance() == "unlimited Cubes · studio plan"
    assert p.check_key() == "Thrixel key accepted (Ada, member)"


@responses.activate
@pytest.mark.parametrize(("info", "amount", "refunded"), [
    ({"status": "completed", "phase": 4, "full_build_status": "completed", "cubes_spent": 14,
      "cubes_reference_image": 7}, 21, False),
    ({"status": "completed", "phase": 1, "cubes_spent": 4}, 4, False),
    ({"status": "failed", "error_code": "LLM_SERVER_ERROR", "cubes_spent": 0}, 0, True),
    # A failed sculpt may still cost Cubes; then they stand.
    ({"status": "failed", "error_code": "TASK_LOST", "cubes_spent": 8}, 8, False),
    ({"status": "failed", "error_code": "CANCELLED_BY_USER", "cubes_spent": 0}, 0, True),
])
def test_the_cubes_info_reports_are_the_charge(info, amount, refunded):
    responses.get(f"{API}/{SID}/info", json=info)
    charge = service().poll(job("detail", {}, SID)).charge
    assert (charge.amount, charge.unit, charge.refunded) == (amount, "Cubes", refunded)


@responses.activate
def test_no_cubes_figure_no_charge_and_conversions_are_free():
    responses.get(f"{API}/{SID}/info", json={"status": "completed", "phase": 1})
    assert service().poll(job("create", {}, SID)).charge is None
    responses.get(f"{API}/convert/c1", json={"job_id": "c1", "status": "ready",
                                             "submission_id": SID, "format": "stl"})
    converted = service().poll(job("convert", {"parent_submission_id": SID, "format": "stl"},
                                   "c1"))
    assert (converted.charge.amount, converted.charge.refunded) == (0, False)


@responses.activate
def test_the_balance_as_a_number_and_unlimited_as_none():
    responses.get(API + "/usage", json={"cubes_balance": 120.5, "is_unlimited": False})
    responses.get(API + "/usage", json={"is_unlimited": True, "cubes_balance": None})
    p = service()
    counted = p.funds()
    assert (counted.amount, counted.unit, counted.line) == (120.5, "Cubes", "120.5 Cubes")
    unlimited = p.funds()
    assert (unlimited.amount, unlimited.line) == (None, "unlimited Cubes")


@responses.activate
def test_live_prices_come_from_the_public_tiers_list():
    responses.get(API + "/tiers", json={"tiers": [
        {"name": "free"}, {"name": "studio", "prices": {"architect": 4, "detailer": 12.5,
                                                        "note": "x", "flag": True}}],
        "upload_limits": {"image_bytes": 1}})
    responses.get(API + "/tiers", json={"prices": {"edit": 3}})
    responses.get(API + "/tiers", json={"plans": ["whatever the layout becomes"]})
    p = service()
    assert p.live_prices() == {"architect": 4.0, "detailer": 12.5}
    assert p.live_prices() == {"edit": 3.0}
    assert p.live_prices() == {}


@responses.activate
def test_a_finished_submission_offers_thrixels_thumbnail_as_its_picture():
    responses.get(f"{API}/{SID}/info", json={"status": "completed", "phase": 1,
                                             "full_build_status": "completed"})
    responses.get(f"{API}/{SID}/download", body=png(8, 8),
                  match=[matchers.query_param_matcher({"format": "thumbnail"})])
    done = service().poll(job("create", {"task": "x"}, SID))
    assert done.picture is not None and "png" in done.picture.kinds
    assert b"".join(done.picture.open()) == png(8, 8)
    assert done.results[0].kinds == frozenset({"glb"})  # the model itself is unchanged
