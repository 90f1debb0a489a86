"""Tripo3D client against ``responses`` mocks: request bodies of both API families, picture
uploads, what is (never) retried, status, results and the account."""

import pytest
import requests
import responses
from unit.providers.tripo.mocks import CDN, KEY, TASK_ID, V2, V3, ok, sent_json, service

from conjure.jobs.journal import Journal
from conjure.jobs.model import State
from conjure.jobs.polling import PollPolicy
from conjure.jobs.runner import Runner
from conjure.providers import errors
from conjure.providers.base import Phase
from conjure.providers.registry import ClientConfig, make_client
from conjure.providers.tripo.client import API_ENV
from conjure.providers.tripo.operations import BY_NAME
from support.jobs import job
from support.pictures import png


@responses.activate
@pytest.mark.parametrize(("operation", "params", "v2_body", "v3_route", "v3_body"), [
    ("text_to_model", {"prompt": "a small cat"},
     {"type": "text_to_model", "prompt": "a small cat"},
     "generation/text-to-model", {"prompt": "a small cat", "model_version": "v2.5-20250123"}),
    ("text_to_model", {"prompt": "a cat", "negative_prompt": "blurry", "image_seed": 1,
                       "model_seed": 2, "texture_seed": 3, "model_version": "v3.0-20250812",
                       "face_limit": 3000, "smart_low_poly": True, "quad": False,
                       "texture": True, "pbr": True, "texture_quality": "detailed",
                       "geometry_quality": "detailed", "auto_size": True,
                       "compress": "geometry", "export_uv": False},
     {"type": "text_to_model", "prompt": "a cat", "negative_prompt": "blurry", "image_seed": 1,
      "model_seed": 2, "texture_seed": 3, "model_version": "v3.0-20250812", "face_limit": 3000,
      "smart_low_poly": True, "quad": False, "texture": True, "pbr": True,
      "texture_quality": "detailed", "geometry_quality": "detailed", "auto_size": True,
      "compress": "geometry", "export_uv": False},
     "generation/text-to-model",
     {"prompt": "a cat", "negative_prompt": "blurry", "image_seed": 1, "model_seed": 2,
      "texture_seed": 3, "model_version": "v3.0-20250812", "face_limit": 3000,
      "smart_low_poly": True, "quad": False, "texture": True, "pbr": True,
      "texture_quality": "detailed", "geometry_quality": "detailed", "auto_size": True,
      "compress": "geometry", "export_uv": False}),
    ("text_to_model", {"prompt": "parts", "generate_parts": True, "texture": False, "pbr": False},
     {"type": "text_to_model", "prompt": "parts", "generate_parts": True, "texture": False,
      "pbr": False},
     "generation/text-to-model", {"prompt": "parts", "generate_parts": True, "texture": False,
                                  "pbr": False, "model_version": "v2.5-20250123"}),
    ("image_to_model", {"image": "https://example.com/dog.png", "texture_alignment": "geometry",
                        "orientation": "align_image", "enable_image_autofix": True},
     {"type": "image_to_model", "file": {"type": "png", "url": "https://example.com/dog.png"},
      "texture_alignment": "geometry", "orientation": "align_image",
      "enable_image_autofix": True},
     "generation/image-to-model",
     {"input": "https://example.com/dog.png", "texture_alignment": "geometry",
      "orientation": "align_image", "enable_image_autofix": True,
      "model_version": "v2.5-20250123"}),
    ("multiview_to_model", {"front": "https://e.com/f.jpg", "back": "https://e.com/b.jpeg",
                            "model_version": "v3.0-20250812"},
     {"type": "multiview_to_model", "model_version": "v3.0-20250812", "files": [
         {"type": "jpg", "url": "https://e.com/f.jpg"}, {},
         {"type": "jpg", "url": "https://e.com/b.jpeg"}, {}]},
     "generation/multiview-to-model",
     {"model_version": "v3.0-20250812", "files": [
         {"type": "jpg", "url": "https://e.com/f.jpg"}, {},
         {"type": "jpg", "url": "https://e.com/b.jpeg"}, {}]}),
    ("refine_model", {"draft_model_task_id": "d1"},
     {"type": "refine_model", "draft_model_task_id": "d1"}, "models/refine", {"input": "d1"}),
    ("text_to_image", {"prompt": "a small cat", "negative_prompt": "dog"},
     {"type": "text_to_image", "prompt": "a small cat", "negative_prompt": "dog"},
     "generation/text-to-image", {"prompt": "a small cat", "negative_prompt": "dog"}),
    ("generate_image", {"prompt": "image[1] in red", "images": ["https://e.com/a.webp"],
                        "model_version": "gpt_4o", "t_pose": True, "sketch_to_render": False},
     {"type": "generate_image", "prompt": "image[1] in red", "model_version": "gpt_4o",
      "t_pose": True, "sketch_to_render": False,
      "file": {"type": "webp", "url": "https://e.com/a.webp"}},
     "generation/image-to-image",
     {"prompt": "image[1] in red", "model_version": "gpt_4o", "t_pose": True,
      "sketch_to_render": False, "file": {"type": "webp", "url": "https://e.com/a.webp"}}),
    ("generate_image", {"prompt": "mix", "images": ["https://e.com/a.png", "https://e.com/b.png"]},
     {"type": "generate_image", "prompt": "mix", "files": [
         {"type": "png", "url": "https://e.com/a.png"},
         {"type": "png", "url": "https://e.com/b.png"}]},
     "generation/image-to-image", {"prompt": "mix", "files": [
         {"type": "png", "url": "https://e.com/a.png"},
         {"type": "png", "url": "https://e.com/b.png"}]}),
    ("texture_model", {"original_model_task_id": "m1", "texture_prompt": "rusty metal",
                       "texture_quality": "detailed", "part_names": ["lid"], "bake": False,
                       "model_version": "v3.0-20250812"},
     {"type": "texture_model", "original_model_task_id": "m1",
      "texture_prompt": {"text": "rusty metal"}, "texture_quality": "detailed",
      "part_names": ["lid"], "bake": False, "model_version": "v3.0-20250812"},
     "models/texture", {"input": "m1", "texture_prompt": {"text": "rusty metal"},
                        "texture_quality": "detailed", "part_names": ["lid"], "bake": False,
                        "model_version": "v3.0-20250812"}),
    ("convert_model", {"original_model_task_id": "m1", "format": "FBX", "quad": True,
                       "force_symmetry": True, "face_limit": 5000, "fbx_preset": "mixamo",
                       "texture_format": "PNG", "texture_size": 2048,
                       "export_orientation": "-y", "pivot_to_center_bottom": True},
     {"type": "convert_model", "original_model_task_id": "m1", "format": "FBX", "quad": True,
      "force_symmetry": True, "face_limit": 5000, "fbx_preset": "mixamo",
      "texture_format": "PNG", "texture_size": 2048, "export_orientation": "-y",
      "pivot_to_center_bottom": True},
     "models/convert", {"input": "m1", "format": "FBX", "quad": True, "force_symmetry": True,
                        "face_limit": 5000, "fbx_preset": "mixamo", "texture_format": "PNG",
                        "texture_size": 2048, "export_orientation": "-y",
                        "pivot_to_center_bottom": True}),
    ("animate_prerigcheck", {"original_model_task_id": "m1"},
     {"type": "animate_prerigcheck", "original_model_task_id": "m1"},
     "animations/rig-check", {"input": "m1"}),
    ("animate_rig", {"original_model_task_id": "m1", "out_format": "fbx", "rig_type": "avian",
                     "spec": "mixamo", "model_version": "v2.0-20250506"},
     {"type": "animate_rig", "original_model_task_id": "m1", "out_format": "fbx",
      "rig_type": "avian", "spec": "mixamo", "model_version": "v2.0-20250506"},
     "animations/rig", {"input": "m1", "out_format": "fbx", "rig_type": "avian",
                        "spec": "mixamo", "model_version": "v2.0-20250506"}),
    ("animate_retarget", {"original_model_task_id": "r1", "animations": ["preset:walk"],
                          "animate_in_place": True},
     {"type": "animate_retarget", "original_model_task_id": "r1", "animation": "preset:walk",
      "animate_in_place": True},
     "animations/retarget", {"input": "r1", "animation": "preset:walk",
                             "animate_in_place": True}),
    ("animate_retarget", {"original_model_task_id": "r1",
                          "animations": ["preset:idle", "preset:quadruped:walk"]},
     {"type": "animate_retarget", "original_model_task_id": "r1",
      "animations": ["preset:idle", "preset:quadruped:walk"]},
     "animations/retarget", {"input": "r1",
                             "animations": ["preset:idle", "preset:quadruped:walk"]}),
])
def test_each_operation_sends_the_documented_body(operation, params, v2_body, v3_route,
                                                  v3_body):
    cleaned = BY_NAME[operation].validate(params)
    responses.post(f"{V2}/task", json=ok({"task_id": TASK_ID}))
    responses.post(f"{V3}/{v3_route}", json={"code": 0, "status": "success",
                                             "data": {"task_id": TASK_ID}})
    assert service("v2").submit(job(operation, cleaned)).remote_id == TASK_ID
    assert service("v3").submit(job(operation, cleaned)).remote_id == TASK_ID
    v2_call, v3_call = responses.calls
    assert sent_json(v2_call) == v2_body
    assert sent_json(v3_call) == v3_body
    for call in (v2_call, v3_call):
        assert call.request.headers["Authorization"] == f"Bearer {KEY}"
        assert call.request.headers["Content-Type"] == "application/json"
    assert v3_call.request.headers["X-Request-ID"]


@responses.activate
@pytest.mark.parametrize(("api", "upload_url", "answer", "token"), [
    ("v2", f"{V2}/upload", {"image_token": "abc-uuid"}, "abc-uuid"),
    ("v3", f"{V3}/files", {"file_token": "file_123"}, "file_123"),
])
def test_local_pictures_are_uploaded_as_file_tokens(picture, api, upload_url, answer, token):
    responses.post(upload_url, json=ok(answer))
    responses.post(f"{V2}/task", json=ok({"task_id": TASK_ID}))
    responses.post(f"{V3}/generation/image-to-model", json=ok({"task_id": TASK_ID}))
    responses.post(f"{V3}/generation/multiview-to-model", json=ok({"task_id": TASK_ID}))
    responses.post(f"{V2}/task", json=ok({"task_id": TASK_ID}))
    client = service(api)
    client.submit(job("image_to_model", {"image": picture}))
    client.submit(job("multiview_to_model", {"front": picture, "right": picture}))
    upload, single, _, _, multi = responses.calls
    assert upload.request.url == upload_url
    assert b'name="file"; filename="image.png"' in upload.request.body
    assert png(64, 48) in upload.request.body
    assert upload.request.headers["Authorization"] == f"Bearer {KEY}"
    if api == "v2":
        assert sent_json(single)["file"] == {"type": "png", "file_token": token}
    else:
        assert sent_json(single)["input"] == token
    assert sent_json(multi)["files"] == [{"type": "png", "file_token": token}, {}, {},
                                         {"type": "png", "file_token": token}]


@responses.activate
def test_a_data_url_is_decoded_and_uploaded():
    data_url = "data:image/png;base64," + __import__("base64").b64encode(png(64, 48)).decode()
    responses.post(f"{V3}/files", json=ok({"file_token": "file_9"}))
    responses.post(f"{V3}/generation/image-to-image", json=ok({"task_id": TASK_ID}))
    service().submit(job("generate_image", {"prompt": "x", "images": [data_url]}))
    assert png(64, 48) in responses.calls[0].request.body
    assert sent_json(responses.calls[1])["file"] == {"type": "png", "file_token": "file_9"}


@responses.activate
def test_a_picture_that_broke_after_validation_fails_the_submit_without_sending(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(png(8, 8))
    with pytest.raises(errors.InvalidRequestError) as caught:
        service().submit(job("image_to_model", {"image": str(path)}))
    assert caught.value.status is None  # the engine fails it (nothing was sent)
    assert len(responses.calls) == 0


@responses.activate
def test_no_paid_post_is_retried_after_a_read_timeout():
    responses.post(f"{V3}/generation/text-to-model",
                   body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(errors.TransientServiceError) as caught:
        service("v3").submit(job("text_to_model", {"prompt": "a"}))
    assert caught.value.status is None  # the engine marks it unknown, never re-sends
    assert len(responses.calls) == 1


@responses.activate
def test_no_paid_post_is_retried_after_a_server_error_but_uploads_are(picture):
    responses.post(f"{V2}/upload", status=503, json={"code": 1000, "message": "busy"})
    responses.post(f"{V2}/upload", json=ok({"image_token": "tok"}))
    responses.post(f"{V2}/task", status=503, json={"code": 1000, "message": "busy"})
    with pytest.raises(errors.TransientServiceError):
        service("v2").submit(job("image_to_model", {"image": picture}))
    urls = [c.request.url for c in responses.calls]
    assert urls == [f"{V2}/upload", f"{V2}/upload", f"{V2}/task"]


@responses.activate
def test_a_failed_upload_is_reported_as_not_sent(picture):
    responses.post(f"{V3}/files", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(errors.ConnectionFailedError, match="paid task was not sent"):
        service("v3").submit(job("image_to_model", {"image": picture}))
    assert all(c.request.url == f"{V3}/files" for c in responses.calls)


@responses.activate
def test_an_unreadable_submit_answer_has_no_status_so_the_job_becomes_unknown():
    responses.post(f"{V2}/task", body="{\"code\": 0, \"da")
    with pytest.raises(errors.UnexpectedResponseError) as caught:
        service("v2").submit(job("text_to_model", {"prompt": "a"}))
    assert caught.value.status is None


def status(task, operation="text_to_model", params=None):
    return service("v2").status_of(task, operation, params or {})


def test_v2_queue_and_progress_become_phase_progress_eta_and_position():
    queued = status({"status": "queued", "progress": 0, "queuing_num": 3,
                     "running_left_time": -1})
    assert (queued.phase, queued.progress, queued.eta_s) == (Phase.QUEUED, 0.0, None)
    assert "position 4" in queued.message
    running = status({"status": "running", "progress": 45, "queuing_num": -1,
                      "running_left_time": 12})
    assert (running.phase, running.progress, running.eta_s) == (Phase.RUNNING, 0.45, 12)
    v3 = status({"status": "running", "progress": 80, "created_at": "2026-01-01T00:00:00Z"})
    assert (v3.phase, v3.progress, v3.eta_s) == (Phase.RUNNING, 0.8, None)
    assert status({"status": "running"}).progress is None
    assert status({"status": "unknown"}).phase == Phase.RUNNING


@pytest.mark.parametrize(("task", "code", "words"), [
    ({"status": "failed", "error_code": 1001, "error_msg": "boom"}, "transient", "fatal"),
    ({"status": "failed", "error_code": 2008, "error_message": "nope"}, "content_rejected",
     "content policy"),
    ({"status": "banned"}, "content_rejected", "content policy"),
    ({"status": "expired"}, "invalid_request", "timed out in Tripo3D's queue"),
    ({"status": "failed", "error_code": 9999}, "service_failed", "failed (9999"),
])
def test_failures_carry_the_taxonomy_code_and_an_actionable_message(task, code, words):
    result = status(task)
    assert (result.phase, result.error_code) == (Phase.FAILED, code)
    assert words in result.message


def test_cancelled_and_unknown_statuses():
    assert status({"status": "cancelled"}).phase == Phase.CANCELLED
    with pytest.raises(errors.UnexpectedResponseError, match="'paused'"):
        status({"status": "paused"})


@pytest.mark.parametrize(("output", "url"), [
    ({"pbr_model": "https://c/p.glb", "model": "https://c/m.glb", "base_model": "https://c/b"},
     "https://c/p.glb"),
    ({"model": "https://c/m.fbx", "base_model": "https://c/b.glb"}, "https://c/m.fbx"),
    ({"base_model": "https://c/b.glb", "rendered_image": "https://c/r.webp"},
     "https://c/b.glb"),
    ({"model_url": "https://c/v3.glb", "rendered_image_url": "https://c/r.png"},
     "https://c/v3.glb"),
])
@responses.activate
def test_result_priority_is_pbr_model_then_model_then_base_model(output, url):
    responses.get(url, body=b"glTF....")
    result = status({"status": "success", "output": output})
    assert result.phase == Phase.SUCCEEDED
    (file,) = result.results
    assert file.name == url.rsplit("/", 1)[1] and file.kinds == {"glb", "fbx"}
    assert b"".join(file.open()) == b"glTF...."
    assert "Authorization" not in responses.calls[0].request.headers  # signed URL, no key


def test_a_v3_success_says_how_long_the_task_took_by_tripos_clock():
    done = status({"status": "success", "output": {"model_url": "https://c/v3.glb"},
                   "created_at": "2026-12-01T10:00:03Z", "completed_at": "2026-12-01T10:00:36Z"})
    assert done.took_s == 33.0
    assert status({"status": "success", "output": {"model_url": "https://c/v3.glb"},
                   "create_time": 1}).took_s is None  # v2 gives no completion time


def test_legacy_result_objects_and_image_and_rig_check_outputs():
    legacy = status({"status": "success", "output": {},
                     "result": {"pbr_model": {"type": "glb", "url": "https://c/x.glb"}}})
    assert legacy.results[0].name == "x.glb"
    image = status({"status": "success", "output": {"generated_image": "https://c/i"}},
                   "text_to_image")
    assert image.results[0].name == "image.png" and "png" in image.results[0].kinds
    check = status({"status": "success", "output": {"riggable": True, "rig_type": "biped"}},
                   "animate_prerigcheck")
    assert (check.results, check.message, check.no_files) == ([], "Riggable as biped", True)
    converted = status({"status": "success", "output": {"model": "https://c/m.zip"}},
                       "convert_model", {"format": "USDZ"})
    assert converted.results[0].kinds == {"zip"}
    with pytest.raises(errors.UnexpectedResponseError, match="no result URL"):
        status({"status": "success", "output": {"rendered_image": "https://c/r.webp"}})


@responses.activate
def test_an_expired_url_is_answered_with_a_fresh_one_by_the_engine(tmp_path):
    """The signed URL has expired by the time of the download (403); the engine reads the task
    again, gets a freshly signed URL and the file arrives."""
    old, new = CDN + "?Expires=1&Signature=old", CDN + "?Expires=2&Signature=new"
    responses.post(f"{V3}/generation/text-to-model", json=ok({"task_id": TASK_ID}))
    answer = {"status": "success", "progress": 100, "output": {"model_url": old}}
    responses.get(f"{V3}/tasks/{TASK_ID}", json=ok(answer))
    responses.get(f"{V3}/tasks/{TASK_ID}", json=ok(answer | {"output": {"model_url": new}}))
    responses.get(old, status=403, body=b"<Error><Code>AccessDenied</Code></Error>")
    responses.get(new, body=b"glTF\x02\x00\x00\x00rest")
    journal = Journal(tmp_path / "jobs.sqlite")
    runner = Runner(journal, {"tripo": service("v3")}, tmp_path, policy=PollPolicy(scale=0.01))
    runner.start()
    try:
        submitted = runner.submit("tripo", "text_to_model", {"prompt": "a cat"})
        done = runner.wait(submitted.id, timeout=10)
    finally:
        runner.stop()
        journal.close()
    assert done.state == State.READY, done.message
    path = tmp_path / "results" / "tripo" / done.id / "model.glb"
    assert path.read_bytes() == b"glTF\x02\x00\x00\x00rest"
    fetched = [c.request.url for c in responses.calls if c.request.url.startswith(CDN)]
    assert fetched == [old, new]
    assert sum(c.request.method == "POST" for c in responses.calls) == 1


@responses.activate
def test_expired_download_raises_result_expired():
    responses.get(CDN, status=403, body="<Error><Code>AccessDenied</Code>"
                  "<Message>Request has expired</Message></Error>")
    (file,) = status({"status": "success", "output": {"model": CDN}}).results
    with pytest.raises(errors.ResultExpiredError):
        b"".join(file.open())


@responses.activate
def test_balance_lines_for_both_families():
    responses.get(f"{V2}/user/balance", json=ok({"balance": 1200, "frozen": 30}))
    responses.get(f"{V3}/account/balance", json=ok({"balance": 99.5, "frozen": 0}))
    assert service("v2").balance() == "1200 credits (30 held by running tasks)"
    assert service("v3").balance() == "99.5 credits"
    funds = service("v2").funds()
    assert (funds.amount, funds.unit) == (1200, "credits")  # held credits are already out
    assert service("v3").check_key() == "Tripo3D key accepted (v3 API): 99.5 credits"


def test_api_version_comes_from_the_config_then_the_environment_then_v3(monkeypatch):
    monkeypatch.delenv(API_ENV, raising=False)
    config = ClientConfig("https://api.tripo3d.ai", key=KEY)
    assert make_client("tripo", config).api == "v3"
    assert make_client("tripo", config).base == "https://openapi.tripo3d.ai"
    monkeypatch.setenv(API_ENV, "v2")
    assert make_client("tripo", config).api == "v2"
    assert make_client("tripo", config).base == "https://api.tripo3d.ai"
    v3_cn = ClientConfig("https://api.tripo3d.com", key=KEY, options={"api": "v3"})
    assert make_client("tripo", v3_cn).base == "https://openapi.tripo3d.com"
    sandbox = ClientConfig("http://127.0.0.1:9/tripo", key=KEY)
    assert make_client("tripo", sandbox).base == "http://127.0.0.1:9/tripo"
    monkeypatch.setenv(API_ENV, "v4")
    with pytest.raises(ValueError, match="v2 or v3"):
        make_client("tripo", config)


@pytest.mark.parametrize(("task", "amount", "refunded"), [
    ({"status": "success", "output": {"model": "https://c/m.glb"}, "consumed_credit": 30},
     30, False),
    ({"status": "success", "output": {"model_url": "https://c/m.glb"}, "credits_consumed": 45},
     45, False),
    ({"status": "failed", "error_code": 1001, "consumed_credit": 0}, 0, True),
    ({"status": "failed", "error_code": 1001, "credits_consumed": 0}, 0, True),
    ({"status": "banned"}, 0, True),  # says nothing: Tripo3D refunds tasks that fail
    ({"status": "cancelled", "consumed_credit": 0}, 0, True),
])
def test_the_credits_a_finished_task_consumed_are_its_charge(task, amount, refunded):
    charge = status(task).charge
    assert (charge.amount, charge.unit, charge.refunded) == (amount, "credits", refunded)


def test_a_running_task_or_a_success_without_a_figure_charges_nothing_yet():
    assert status({"status": "running", "credits_consumed": 0}).charge is None
    assert status({"status": "success", "output": {"model": "https://c/m.glb"}}).charge is None
