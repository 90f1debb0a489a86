"""Thrixel client against ``responses`` mocks: request bodies and headers as documented, every
validation rule, every documented error, status normalisation, downloads, hierarchy."""

from __future__ import annotations

import base64
import json

import pytest
import requests
import responses
from responses import matchers

from conjure.providers import errors, registry
from conjure.providers.base import Phase
from conjure.providers.http import NetworkSettings
from conjure.providers.registry import ClientConfig
from conjure.providers.thrixel.client import ThrixelProvider
from conjure.providers.thrixel.errors import FAILURE_CODES, map_error
from conjure.providers.thrixel.hierarchy import parse_hierarchy
from conjure.providers.thrixel.operations import INLINE_IMAGE_BYTES, OPERATIONS, UNSUPPORTED
from conjure.providers.thrixel.stream import sse_progress
from conjure.providers.thrixel.upload import MultipartFile
from support.pictures import png

BASE = "https://api.thrixel.com"
API = BASE + "/api/v1"
KEY = "sk-thrixel-UNITKEY"
SID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"


class Job:
    def __init__(self, operation, params, remote_id=None):
        self.id = "job1"
        self.operation = operation
        self.params = params
        self.remote_id = remote_id


def provider(**kwargs):
    kwargs.setdefault("progress_budget_s", 0)
    settings = NetworkSettings(max_retries=2, backoff_base=0.0, backoff_cap=0.0)
    return ThrixelProvider(ClientConfig(BASE, KEY, settings), **kwargs)


def queued(sid=SID):
    return {"submission_id": sid, "status": "queued", "created_at": "2026-04-20T14:32:11Z"}


def sent_json(call=0):
    return json.loads(responses.calls[call].request.body)


# -- request bodies and headers ------------------------------------------------------------

@responses.activate
def test_create_sends_the_documented_body_and_headers():
    responses.post(API + "/phase1/submit", json=queued())
    submitted = provider().submit(Job("create", {"task": "a small stone gargoyle"}))
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
    provider().submit(Job("create", {
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
    p = provider()
    p.submit(Job("refine", {"parent_submission_id": SID, "adaptive_thinking": False}))
    p.submit(Job("edit", {"parent_submission_id": SID, "modification_request": "blue glow",
                          "focus_on_node_names": ["lantern_glass", "lid"]}))
    p.submit(Job("detail", {"parent_submission_id": SID, "prompt": "mossy", "seed": 42,
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
def test_upload_streams_a_multipart_glb_with_progress(tmp_path):
    glb = b"glTF" + b"\x02\x00\x00\x00" + b"x" * 3000
    path = tmp_path / "my model.glb"
    path.write_bytes(glb)
    responses.post(API + "/phase5/submit", json={
        "submission_id": SID, "status": "completed", "original_filename": "my model.glb",
        "file_size_bytes": len(glb), "created_at": "2026-04-20T14:40:15Z"})
    seen = []
    submitted = provider(on_upload=lambda job_id, sent, total: seen.append((job_id, sent,
                                                                            total))).submit(
        Job("upload", {"glb_file": str(path), "task": "hand-sculpted base mesh"}))
    request = responses.calls[0].request
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    body = b"".join(request.body) if not isinstance(request.body, bytes) else request.body
    assert int(request.headers["Content-Length"]) == len(body)
    assert b'name="task"\r\n\r\nhand-sculpted base mesh\r\n' in body
    assert (b'name="glb_file"; filename="my model.glb"\r\nContent-Type: model/gltf-binary'
            b"\r\n\r\n" + glb + b"\r\n") in body
    assert "Authorization" in request.headers
    assert seen[-1] == ("job1", len(body), len(body))
    # Phase 5 is complete at once: the result is ready to download.
    assert submitted.status.phase == Phase.SUCCEEDED
    assert submitted.status.results[0].name.endswith(".glb")


def test_multipart_body_can_be_read_twice(tmp_path):
    path = tmp_path / "m.glb"
    path.write_bytes(b"glTF1234")
    body = MultipartFile({"task": "t"}, "glb_file", str(path))
    first, second = b"".join(body), b"".join(body)
    assert first == second and len(first) == len(body)


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
    p = provider()
    params = {"parent_submission_id": SID, "format": "fbx", "target": "unity"}
    submitted = p.submit(Job("convert", params))
    assert submitted.remote_id == job_id and submitted.status.phase == Phase.QUEUED
    status = p.poll(Job("convert", params, job_id))
    assert status.phase == Phase.SUCCEEDED
    assert status.results[0].name == f"{SID}.fbx"
    assert b"".join(status.results[0].open()).startswith(b"Kaydara FBX Binary")


# -- validation -----------------------------------------------------------------------------

def op(name):
    return registry.operation("thrixel", name)


@pytest.mark.parametrize(("operation", "values", "field", "words"), [
    ("create", {}, "task", "give at least one of task, image, images"),
    ("create", {"image": "https://a.com/x.png", "images": ["https://a.com/y.png"]}, "images",
     "cannot be used together"),
    ("create", {"images": ["https://a.com/x.png"] * 7}, "images", "at most 6 items"),
    ("create", {"image": "http://a.com/x.png"}, "image", "must use https://"),
    ("create", {"image": "/no/such/picture.png"}, "image", "cannot read"),
    ("create", {"task": "x", "adaptive_thinking": "yes"}, "adaptive_thinking", "true or false"),
    ("create", {"task": "x", "quality": "best"}, "quality", "one of 'full', 'lite'"),
    ("refine", {}, "parent_submission_id", "is required"),
    ("edit", {"parent_submission_id": SID}, "modification_request", "is required"),
    ("edit", {"parent_submission_id": SID, "modification_request": "x",
              "focus_on_node_names": "lid"}, "focus_on_node_names", "a list"),
    ("detail", {"parent_submission_id": SID, "seed": 1_000_000}, "seed", "from 0 to 999999"),
    ("detail", {"parent_submission_id": SID, "texture_size": 3000}, "texture_size",
     "one of 512, 768, 1024, 2048, 4096"),
    ("detail", {"parent_submission_id": SID, "decimation_target": 9999}, "decimation_target",
     "from 10000 to 500000"),
    ("detail", {"parent_submission_id": SID, "control_mesh_voxelize_res": 128},
     "control_mesh_voxelize_res", "from 256 to 2048"),
    ("detail", {"parent_submission_id": SID, "pipeline_type": "2048"}, "pipeline_type",
     "one of '1024_cascade', '1536_cascade'"),
    ("detail", {"parent_submission_id": SID, "focus_mode": "x"}, "focus_mode", "latent"),
    ("detail", {"parent_submission_id": SID, "control_mesh_ss_lat_noise_t0idx": 13},
     "control_mesh_ss_lat_noise_t0idx", "from 0 to 12"),
    ("detail", {"parent_submission_id": SID, "adherence_level": -1}, "adherence_level",
     "at least 0"),
    ("upload", {}, "glb_file", "is required"),
    ("upload", {"glb_file": "/no/such.glb"}, "glb_file", "cannot read"),
    ("upload", {"glb_file": "x", "task": "y" * 2001}, "task", "at most 2000 characters"),
    ("convert", {"parent_submission_id": SID, "format": "3mf"}, "format",
     "one of 'fbx', 'obj', 'usdz', 'stl'"),
    ("convert", {"parent_submission_id": SID, "format": "obj", "target": "unity"}, "target",
     "FBX only"),
])
def test_validation_names_the_field_and_what_is_allowed(operation, values, field, words):
    with pytest.raises(errors.InvalidRequestError) as caught:
        op(operation).validate(values)
    assert caught.value.field == field, caught.value
    assert words in str(caught.value)


def test_inline_picture_over_the_cap_is_refused_before_sending(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(png(4, 4) + b"\x00" * INLINE_IMAGE_BYTES)
    with pytest.raises(errors.InvalidRequestError, match="at most 12 MB") as caught:
        op("create").validate({"image": str(big)})
    assert caught.value.field == "image" and caught.value.status is None
    with responses.RequestsMock() as mocked:  # nothing may be sent: no route registered
        with pytest.raises(errors.InvalidRequestError, match=r"big\.png"):
            provider().submit(Job("create", {"images": [str(big)]}))
        assert len(mocked.calls) == 0


def test_upload_refuses_a_file_that_is_not_glb_or_too_big(tmp_path):
    fake = tmp_path / "m.glb"
    fake.write_bytes(b"not a glb")
    with pytest.raises(errors.InvalidRequestError, match="not a binary glTF"):
        op("upload").validate({"glb_file": str(fake)})
    big = tmp_path / "big.glb"
    with open(big, "wb") as f:
        f.write(b"glTF")
        f.truncate(100 * 1000 * 1000 + 1)  # sparse: no 100 MB written
    with pytest.raises(errors.InvalidRequestError, match="at most 100 MB"):
        op("upload").validate({"glb_file": str(big)})


def test_every_operation_is_declared_once_and_unsupported_ones_say_why():
    names = [o.name for o in OPERATIONS]
    assert names == ["create", "refine", "edit", "detail", "upload", "convert"]
    assert all(o.param_for("parent") for o in OPERATIONS if o.needs_parent)
    assert all(reason for reason in UNSUPPORTED.values())


# -- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "body", "headers", "cls", "words"), [
    (400, {"detail": "decimation_target below 10000"}, {}, errors.InvalidRequestError,
     "decimation_target below 10000"),
    (422, {"detail": [{"loc": ["body", "texture_size"], "msg": "unsupported"}]}, {},
     errors.InvalidRequestError, "the live service takes 2048 or 4096"),
    (401, {"detail": "Invalid API key."}, {}, errors.AuthenticationError, "paste a valid key"),
    (402, {"detail": "Not enough Cubes"}, {}, errors.InsufficientCreditsError, "top up"),
    (402, {"detail": "Monthly allowance"}, {"X-Thrixel-Reason": "monthly_runs"},
     errors.InsufficientCreditsError, "free plan's monthly runs for this operation are used up"),
    (403, {"detail": "This API key has been revoked."}, {}, errors.AuthenticationError,
     "paste a valid key"),
    (403, {"detail": "Sculptor needs the Studio plan"}, {}, errors.AuthenticationError,
     "plan does not allow this"),
    (403, {"detail": {"code": "CONTENT_BLOCKED", "verdict": "block", "message": "no"}}, {},
     errors.ContentRejectedError, "content rules"),
    (404, {"detail": "Submission not found"}, {}, errors.NotFoundError, "does not know"),
    (409, {"detail": "busy"}, {}, errors.RateLimitedError, "trying again shortly"),
    (413, {"detail": "too big"}, {}, errors.InvalidRequestError, "at most 100 MB"),
    (429, {"detail": "You have 3 jobs already running"}, {"Retry-After": "5"},
     errors.RateLimitedError, "jobs already running"),
    (500, {"detail": "boom"}, {}, errors.TransientServiceError, "server error"),
    (503, {"detail": "down"}, {}, errors.TransientServiceError, "server error"),
])
@responses.activate
def test_every_documented_error_maps_to_the_taxonomy(status, body, headers, cls, words):
    responses.post(API + "/phase1/submit", json=body, status=status, headers=headers)
    with pytest.raises(cls) as caught:
        provider().submit(Job("create", {"task": "x"}))
    assert words in str(caught.value)
    assert caught.value.status == status
    assert KEY not in str(caught.value)
    assert len(responses.calls) == 1  # a paid POST is never sent twice
    if status == 429:
        assert caught.value.retry_after == 5.0
    if status == 422:
        assert caught.value.field == "texture_size"


@responses.activate
def test_a_paid_post_is_not_retried_after_a_read_timeout():
    responses.post(API + "/phase1/submit", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(errors.TransientServiceError) as caught:
        provider().submit(Job("create", {"task": "x"}))
    assert caught.value.status is None  # the engine marks the job unknown, never re-sends
    assert len(responses.calls) == 1


@pytest.mark.parametrize("code", sorted(FAILURE_CODES))
@responses.activate
def test_every_failure_code_is_explained(code):
    responses.get(f"{API}/{SID}/info", json={
        "submission_id": SID, "status": "failed", "error_code": code,
        "error_message": "server words"})
    status = provider().poll(Job("create", {}, SID))
    cls, advice = FAILURE_CODES[code]
    assert status.phase == Phase.FAILED
    assert status.error_code == cls.code
    assert status.message.startswith(advice) and code in status.message
    assert code != "CONTENT_BLOCKED" or status.error_code == "content_rejected"


@responses.activate
def test_cancelled_by_user_and_unknown_codes():
    responses.get(f"{API}/{SID}/info", json={"status": "failed",
                                             "error_code": "CANCELLED_BY_USER"})
    responses.get(f"{API}/x/info", json={"status": "failed", "error_code": "NEW_CODE"})
    assert provider().poll(Job("create", {}, SID)).phase == Phase.CANCELLED
    other = provider().poll(Job("create", {}, "x"))
    assert other.phase == Phase.FAILED and "NEW_CODE" in other.message


def test_map_error_leaves_unknown_statuses_to_the_generic_mapping():
    response = requests.Response()
    response.status_code = 418
    response._content = b"{}"
    assert map_error(response) is None


# -- status ---------------------------------------------------------------------------------

@responses.activate
def test_status_normalisation_and_the_full_build_wait():
    responses.get(f"{API}/{SID}/info", json={"status": "queued", "status_note": "long queue"})
    responses.get(f"{API}/{SID}/info", json={"status": "processing"})
    responses.get(f"{API}/{SID}/info", json={"status": "completed", "phase": 1,
                                             "full_build_status": "pending"})
    responses.get(f"{API}/{SID}/info", json={"status": "completed", "phase": 1,
                                             "full_build_status": "completed"})
    p = provider()
    job = Job("create", {"task": "x"}, SID)
    first = p.poll(job)
    assert (first.phase, first.message) == (Phase.QUEUED, "long queue")
    assert p.poll(job).phase == Phase.RUNNING
    baking = p.poll(job)
    assert baking.phase == Phase.RUNNING and "full-detail" in baking.message
    done = p.poll(job)
    assert done.phase == Phase.SUCCEEDED and done.results[0].name == f"{SID}_rough.glb"
    assert done.results[0].kinds == frozenset({"glb"})


@responses.activate
def test_lite_quality_does_not_wait_for_the_full_build():
    responses.get(f"{API}/{SID}/info", json={"status": "completed", "phase": 3,
                                             "full_build_status": "pending"})
    responses.get(f"{API}/{SID}/download", body=b"glTF lite",
                  match=[matchers.query_param_matcher({"format": "glb", "quality": "lite"})])
    status = provider().poll(Job("edit", {"quality": "lite"}, SID))
    assert status.phase == Phase.SUCCEEDED
    assert b"".join(status.results[0].open()) == b"glTF lite"


@responses.activate
def test_unknown_status_is_unexpected():
    responses.get(f"{API}/{SID}/info", json={"status": "exploded"})
    with pytest.raises(errors.UnexpectedResponseError, match="exploded"):
        provider().poll(Job("create", {}, SID))


@responses.activate
def test_progress_comes_from_the_event_stream():
    responses.get(f"{API}/{SID}/info", json={"status": "processing"})
    responses.get(f"{API}/{SID}/stream", content_type="text/event-stream", body=(
        b": heartbeat\n\n"
        b'data: {"type":"status","status":"processing"}\n\n'
        b'data: {"type":"progress","percent":0.42,"message":"Generating geometry..."}\n\n'))
    status = provider(progress_budget_s=1.0).poll(Job("create", {}, SID))
    assert status.phase == Phase.RUNNING and status.progress == pytest.approx(0.42)


@responses.activate
def test_a_failing_event_stream_costs_only_the_figure():
    responses.get(f"{API}/{SID}/info", json={"status": "processing"})
    responses.get(f"{API}/{SID}/stream", status=500)
    status = provider(progress_budget_s=1.0).poll(Job("create", {}, SID))
    assert status.phase == Phase.RUNNING and status.progress is None
    assert len(responses.calls) == 2  # the stream was not retried


def test_sse_progress_reads_both_shapes():
    assert sse_progress({"percent": 0.5}) == 0.5
    assert sse_progress({"progress": 42}) == 0.42
    assert sse_progress({"progress": 150}) == 1.0
    assert sse_progress({"type": "status"}) is None


# -- downloads ------------------------------------------------------------------------------

@responses.activate
def test_download_202_preparing_then_200():
    url = f"{API}/{SID}/download"
    responses.get(url, status=202, json={"status": "preparing"})
    responses.get(url, body=b"glTF\x02\x00\x00\x00model", content_type="model/gltf-binary")
    responses.get(f"{API}/{SID}/info", json={"status": "completed", "phase": 1})
    result = provider().poll(Job("create", {}, SID)).results[0]
    with pytest.raises(errors.ResultNotReadyError, match="preparing"):
        b"".join(result.open())
    assert b"".join(result.open()).startswith(b"glTF")
    assert responses.calls[1].request.url.endswith("format=glb&quality=full")


@responses.activate
def test_download_follows_redirects_and_refuses_json():
    responses.get(f"{API}/{SID}/download", status=302,
                  headers={"Location": "https://cdn.thrixel.com/m.glb"})
    responses.get("https://cdn.thrixel.com/m.glb", body=b"glTFdata")
    p = provider()
    assert b"".join(p.download(f"{API}/{SID}/download", {"format": "glb"})) == b"glTFdata"
    responses.get(f"{API}/other/download", json={"status": "queued", "job_id": "j"})
    with pytest.raises(errors.UnexpectedResponseError, match="JSON instead of a model"):
        b"".join(p.download(f"{API}/other/download", {"format": "fbx"}))


@responses.activate
def test_a_failed_conversion_answered_with_202_is_not_waited_for():
    responses.get(f"{API}/{SID}/download", status=202,
                  json={"job_id": "j", "status": "failed", "error": "bad mesh"})
    with pytest.raises(errors.UnexpectedResponseError, match="bad mesh"):
        b"".join(provider().download(f"{API}/{SID}/download", {"format": "fbx"}))


# -- hierarchy, cancel, account -------------------------------------------------------------

HIERARCHY = {
    "name": "Scene", "type": "Scene", "faces": 3000,
    "children": [
        {"name": "lantern", "type": "Group", "faces": 2000, "children": [
            {"name": "lantern_glass", "type": "Mesh", "faces": 1840, "children": []},
            {"name": "lid", "type": "Mesh", "faces": 160, "children": []}]},
        {"name": "lid", "type": "Mesh", "faces": 1000, "children": []},
    ],
    "bounds": {"min": [-1, 0, -1], "max": [1, 2, 1], "size": [2, 2, 2],
               "center": [0, 1, 0], "exact": False},
}


@responses.activate
def test_hierarchy_is_a_tree_of_parts_with_faces_and_bounds():
    responses.get(f"{API}/{SID}/hierarchy", json=HIERARCHY)
    tree = provider().hierarchy(SID)
    assert tree.synthetic_root
    assert tree.part_names() == ["lantern", "lantern_glass", "lid"]
    assert tree.total_faces == 3000  # leaves only; containers repeat their subtree
    assert tree.root.children[0].children[0].is_mesh
    assert tree.bounds.size == (2.0, 2.0, 2.0) and tree.bounds.exact is False


def test_hierarchy_without_bounds_and_malformed():
    tree = parse_hierarchy({"name": "crank", "type": "Mesh", "faces": 12})
    assert tree.bounds is None and tree.part_names() == ["crank"] and tree.total_faces == 12
    with pytest.raises(errors.UnexpectedResponseError):
        parse_hierarchy({"name": "x", "children": "nope"})
    with pytest.raises(errors.UnexpectedResponseError):
        parse_hierarchy({"name": "x", "bounds": {"min": [0, 0], "max": [1, 1, 1]}})


@responses.activate
def test_cancel_queued_job_and_refusal_once_running():
    responses.post(f"{API}/{SID}/cancel", json={"cancelled": True, "status": "failed"},
                   match=[matchers.json_params_matcher({})])
    responses.post(f"{API}/run/cancel", status=409,
                   json={"detail": "The job is already running."})
    p = provider()
    assert p.cancel(Job("create", {}, SID)) is True
    with pytest.raises(errors.InvalidRequestError, match="cannot cancel it any more"):
        p.cancel(Job("create", {}, "run"))
    assert p.can_cancel


@responses.activate
def test_usage_gives_the_balance_line_and_validate_checks_the_key():
    responses.get(API + "/usage", json={
        "plan": "free", "is_unlimited": False, "cubes_balance": 120.5,
        "monthly_runs": {"limit": 10, "used": {"architect": 3, "edit": 1}}})
    responses.get(API + "/usage", json={"plan": "studio", "is_unlimited": True,
                                        "cubes_balance": None})
    responses.get(API + "/validate", json={"valid": True, "name": "Ada", "role": "member"})
    p = provider()
    assert p.balance() == "120.5 Cubes · 4/10 runs this month · free plan"
    assert p.balance() == "unlimited Cubes · studio plan"
    assert p.check_key() == "Thrixel key accepted (Ada, member)"
