"""Tripo3D contract: v2 tasks, uploads, credits, error codes, signed URLs; v3 routes."""

from __future__ import annotations

import itertools
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
_keys = itertools.count()

DOCUMENTED_CODES = {
    1000: 500,
    1001: 500,
    1002: 401,
    1003: 400,
    1004: 400,
    1005: 403,
    1007: 429,
    2000: 429,
    2001: 404,
    2002: 400,
    2003: 400,
    2004: 400,
    2006: 400,
    2007: 400,
    2008: 400,
    2010: 403,
    2014: 500,
    2015: 400,
    2017: 400,
    2018: 400,
    2019: 404,
}


def v2(sb) -> str:
    return sb.url + "/tripo/v2/openapi"


def v3(sb) -> str:
    return sb.url + "/tripo/v3"


def new_key(sb, **options) -> dict[str, str]:
    key = f"tsk_test_{next(_keys)}"
    sb.add_key("tripo", key, **options)
    return {"Authorization": f"Bearer {key}"}


def create(sb, auth, body, fault=None) -> requests.Response:
    headers = {**auth, **({"X-Sandbox-Fault": fault} if fault else {})}
    return requests.post(v2(sb) + "/task", json=body, headers=headers)


def task_id(answer: requests.Response) -> str:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == 0
    return body["data"]["task_id"]


def wait_task(sb, auth, tid, final=("success", "failed", "banned", "expired"), api="v2") -> dict:
    url = f"{v2(sb)}/task/{tid}" if api == "v2" else f"{v3(sb)}/tasks/{tid}"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        data = requests.get(url, headers=auth).json()["data"]
        if data["status"] in final:
            return data
        time.sleep(0.03)
    raise AssertionError(f"task {tid} never finished")


def finished(sb, auth, body) -> dict:
    """Create a task and wait for its end; returns its v2 view."""
    return wait_task(sb, auth, task_id(create(sb, auth, body)))


def answer_code(sb, auth, body) -> int:
    return create(sb, auth, body).json()["code"]


def upload(sb, auth, data=PNG, name="a.png") -> str:
    answer = requests.post(v2(sb) + "/upload", headers=auth, files={"file": (name, data)})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["image_token"]


def balance(sb, auth) -> dict:
    return requests.get(v2(sb) + "/user/balance", headers=auth).json()["data"]


# -- auth and envelope ---------------------------------------------------------------------
def test_auth_errors_use_tripo_envelope(sb):
    missing = requests.get(v2(sb) + "/user/balance")
    assert missing.status_code == 401 and missing.json()["code"] == 1002
    assert "suggestion" in missing.json() and missing.headers["X-Tripo-Trace-ID"]
    forbidden = requests.get(v2(sb) + "/user/balance", headers=new_key(sb, forbidden=True))
    assert forbidden.status_code == 403 and forbidden.json()["code"] == 1005
    v3_missing = requests.get(v3(sb) + "/account/balance")
    assert v3_missing.status_code == 401
    assert v3_missing.json()["code"] == 2 and v3_missing.json()["status"] == "error"


def test_malformed_body_is_1003(sb):
    answer = requests.post(v2(sb) + "/task", data=b"{not json", headers=new_key(sb))
    assert answer.status_code == 400 and answer.json()["code"] == 1003


# -- the task life -------------------------------------------------------------------------
def test_text_to_model_lifecycle_and_signed_result(sb):
    auth = new_key(sb)
    tid = task_id(
        create(
            sb, auth, {"type": "text_to_model", "prompt": "a small cat"}, fault="cold_start=0.15"
        )
    )
    seen = {}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        data = requests.get(f"{v2(sb)}/task/{tid}", headers=auth).json()["data"]
        seen.setdefault(data["status"], data)
        if data["status"] == "success":
            break
        time.sleep(0.02)
    assert list(seen) == ["queued", "running", "success"]
    queued, running, done = seen["queued"], seen["running"], seen["success"]
    assert queued["progress"] == 0 and queued["queuing_num"] >= 0
    assert queued["running_left_time"] == -1
    assert 0 <= running["progress"] < 100 and running["running_left_time"] >= 0
    assert running["queuing_num"] == -1
    assert done["progress"] == 100 and done["type"] == "text_to_model"
    assert done["input"]["prompt"] == "a small cat" and isinstance(done["create_time"], int)
    url = done["output"]["pbr_model"]
    assert "Signature=" in url and "Expires=" in url
    model = requests.get(url)  # no Authorization: the URL itself is the credential
    assert model.status_code == 200 and model.content[:4] == b"glTF"
    image = requests.get(done["output"]["rendered_image"])
    assert image.content.startswith(b"\x89PNG")


def test_signed_urls_expire_and_requery_gives_fresh_ones(sb):
    auth = new_key(sb)
    tid = task_id(
        create(sb, auth, {"type": "text_to_model", "prompt": "vase"}, fault="expired_url")
    )
    done = wait_task(sb, auth, tid)
    stale = done["output"]["pbr_model"]
    expired = requests.get(stale)
    assert expired.status_code == 403 and b"expired" in expired.content
    tampered = stale.replace("Expires=", "Expires=9").split("&Signature")[0] + "&Signature=00"
    assert requests.get(tampered).status_code == 403
    fresh_auth = new_key(sb)
    tid = task_id(create(sb, fresh_auth, {"type": "text_to_model", "prompt": "vase"}))
    first = wait_task(sb, fresh_auth, tid)["output"]["pbr_model"]
    time.sleep(1.1)
    second = wait_task(sb, fresh_auth, tid)["output"]["pbr_model"]
    assert first != second
    expiry = int(parse_qs(urlsplit(second).query)["Expires"][0])
    assert 0 < expiry - time.time() <= 300
    assert requests.get(second).status_code == 200


def test_quad_gives_an_fbx(sb):
    auth = new_key(sb)
    tid = task_id(create(sb, auth, {"type": "text_to_model", "prompt": "chair", "quad": True}))
    done = wait_task(sb, auth, tid)
    url = done["output"]["model"]
    assert urlsplit(url).path.endswith(".fbx") and "pbr_model" not in done["output"]
    assert requests.get(url).content.startswith(b"Kaydara FBX Binary  \x00")


def test_untextured_model_is_in_model(sb):
    auth = new_key(sb)
    body = {"type": "text_to_model", "prompt": "chair", "texture": False, "pbr": False}
    done = finished(sb, auth, body)
    assert set(done["output"]) == {"model", "rendered_image"}


def test_tasks_are_private_to_their_key(sb):
    auth = new_key(sb)
    tid = task_id(create(sb, auth, {"type": "text_to_model", "prompt": "x"}))
    other = requests.get(f"{v2(sb)}/task/{tid}", headers=new_key(sb))
    assert other.status_code == 404 and other.json()["code"] == 2001


def test_batch_lists_found_and_missed(sb):
    auth = new_key(sb)
    tid = task_id(create(sb, auth, {"type": "text_to_image", "prompt": "x"}))
    answer = requests.post(v2(sb) + "/task/batch", headers=auth, json={"task_ids": [tid, "nope"]})
    data = answer.json()["data"]
    assert list(data["tasks"]) == [tid] and data["missed"] == ["nope"]


# -- credits -------------------------------------------------------------------------------
def test_credits_frozen_charged_and_refunded_on_failure(sb):
    auth = new_key(sb, balance=100)
    ok = task_id(create(sb, auth, {"type": "text_to_model", "prompt": "x"}))
    assert balance(sb, auth) == {"balance": 80, "frozen": 20}
    wait_task(sb, auth, ok)
    assert balance(sb, auth) == {"balance": 80, "frozen": 0}
    bad = task_id(create(sb, auth, {"type": "text_to_model", "prompt": "x"}, fault="fail=2018"))
    failed = wait_task(sb, auth, bad)
    assert failed["status"] == "failed" and failed["error_code"] == 2018
    assert failed["output"] == {} and failed["queuing_num"] == -1
    assert balance(sb, auth) == {"balance": 80, "frozen": 0}


@pytest.mark.parametrize(("body", "credits"), [
    ({"type": "text_to_model", "prompt": "x", "texture_quality": "extreme"}, 40),
    ({"type": "text_to_model", "prompt": "x", "texture": False}, 20),  # pbr still textures
    ({"type": "text_to_model", "prompt": "x", "texture": False, "pbr": False}, 10),
])
def test_what_a_generation_costs(sb, body, credits):
    auth = new_key(sb, balance=100)
    task_id(create(sb, auth, body))
    assert balance(sb, auth)["frozen"] == credits


def test_insufficient_credits_is_2010(sb):
    answer = create(sb, new_key(sb, balance=5), {"type": "text_to_model", "prompt": "x"})
    assert answer.status_code == 403 and answer.json()["code"] == 2010


def test_concurrency_limit_is_2000_with_retry_after(sb):
    auth = new_key(sb)
    for _ in range(10):
        task_id(create(sb, auth, {"type": "text_to_image", "prompt": "x"}, fault="cold_start=5"))
    answer = create(sb, auth, {"type": "text_to_model", "prompt": "x"})
    assert answer.status_code == 429 and answer.json()["code"] == 2000
    assert int(answer.headers["Retry-After"]) > 0
    # Post-processing has its own bucket; other keys are not affected at all.
    assert create(sb, auth, {"type": "animate_prerigcheck"}).json()["code"] == 2001
    assert create(sb, new_key(sb), {"type": "text_to_model", "prompt": "x"}).status_code == 200


def test_p1_generations_are_a_group_of_five_of_their_own(sb):
    auth = new_key(sb)
    p1 = {"type": "text_to_model", "prompt": "x", "model_version": "P1-20260311"}
    for _ in range(5):
        task_id(create(sb, auth, p1, fault="cold_start=5"))
    assert create(sb, auth, p1).json()["code"] == 2000
    # The other generations' bucket is untouched by the five P1 tasks.
    for _ in range(10):
        task_id(create(sb, auth, {"type": "text_to_model", "prompt": "x"}, fault="cold_start=5"))
    assert create(sb, auth, {"type": "text_to_model", "prompt": "x"}).json()["code"] == 2000


@pytest.mark.parametrize("code", sorted(DOCUMENTED_CODES))
def test_every_documented_code_has_its_http_status(sb, code):
    answer = create(
        sb, new_key(sb), {"type": "text_to_model", "prompt": "x"}, fault=f"reject={code}"
    )
    assert answer.status_code == DOCUMENTED_CODES[code]
    body = answer.json()
    assert body["code"] == code and body["message"] and "suggestion" in body


@pytest.mark.parametrize(
    ("fail", "status", "code"),
    [
        ("banned", "banned", 2008),
        ("expired", "expired", 2018),
        ("1001", "failed", 1001),
        ("2014", "failed", 2014),
    ],
)
def test_failed_task_statuses(sb, fail, status, code):
    auth = new_key(sb)
    data = wait_task(
        sb,
        auth,
        task_id(create(sb, auth, {"type": "text_to_model", "prompt": "x"}, fault=f"fail={fail}")),
    )
    assert data["status"] == status and data["error_code"] == code


# -- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"type": "text_to_model"}, 1004),
        ({"type": "text_to_model", "prompt": "x" * 1025}, 1004),
        ({"type": "text_to_model", "prompt": "x", "negative_prompt": "n" * 256}, 1004),
        ({"type": "text_to_model", "prompt": "x", "model_version": "v9.9-20300101"}, 2017),
        ({"type": "text_to_model", "prompt": "x", "model_version": "v1.3-20240522"}, 2015),
        ({"type": "text_to_model", "prompt": "x", "texture_quality": "ultra"}, 1004),
        ({"type": "text_to_model", "prompt": "x", "quad": "yes"}, 1004),
        ({"type": "text_to_model", "prompt": "x", "generate_parts": True}, 1004),
        (
            {
                "type": "text_to_model",
                "prompt": "x",
                "generate_parts": True,
                "texture": False,
                "pbr": False,
                "quad": True,
            },
            1004,
        ),
        ({"type": "text_to_model", "prompt": "x", "smart_low_poly": True, "face_limit": 900}, 1004),
        (
            {
                "type": "text_to_model",
                "prompt": "x",
                "smart_low_poly": True,
                "quad": True,
                "face_limit": 12000,
            },
            1004,
        ),
        (
            {"type": "text_to_model", "prompt": "x", "model_version": "P1-20260311", "quad": False},
            1004,
        ),
        (
            {
                "type": "text_to_model",
                "prompt": "x",
                "model_version": "P1-20260311",
                "face_limit": 40,
            },
            1004,
        ),
        ({"type": "text_to_model", "prompt": "x", "geometry_quality": "ultra"}, 1004),
        ({"type": "image_to_model"}, 2003),
        ({"type": "image_to_model", "file": {"type": "png"}}, 2003),
        ({"type": "image_to_model", "file": {"file_token": "nope"}}, 2019),
        ({"type": "image_to_model", "file": {"url": "https://a/b.png", "file_token": "t"}}, 1004),
        ({"type": "image_to_model", "file": {"url": "ftp://a/b.png"}}, 1004),
        ({"type": "image_to_model", "file": {"url": "https://a/b.png"}, "orientation": "up"}, 1004),
        (
            {
                "type": "image_to_model",
                "file": {"url": "https://a/b.png"},
                "texture_alignment": "best",
            },
            1004,
        ),
        ({"type": "multiview_to_model", "files": [{"url": "https://a/b.png"}] * 3}, 1004),
        (
            {
                "type": "multiview_to_model",
                "files": [{}, {"url": "https://a"}, {"url": "https://b"}, {}],
            },
            1004,
        ),
        ({"type": "multiview_to_model", "files": [{"url": "https://a"}, {}, {}, {}]}, 1004),
        (
            {
                "type": "multiview_to_model",
                "files": [{"url": "https://a"}, {"url": "https://b"}, {}, {}],
                "model_version": "v1.4-20240625",
            },
            2015,
        ),
        ({"type": "text_to_image", "prompt": ""}, 1004),
        (
            {
                "type": "generate_image",
                "prompt": "x",
                "model_version": "flux.1_dev",
                "file": {"url": "https://a/b.png"},
            },
            1004,
        ),
        (
            {"type": "generate_image", "prompt": "x", "files": [{"url": "https://a/b.png"}] * 5},
            1004,
        ),
        ({"type": "generate_image", "prompt": "x", "model_version": "dall-e"}, 1004),
        ({"type": "refine_model", "draft_model_task_id": "nope"}, 2001),
        ({"type": "texture_model", "original_model_task_id": "nope"}, 2001),
        ({"type": "animate_model"}, 2016),
        ({"type": "render_video"}, 2002),
        ({"type": "make_coffee"}, 2002),
        ({}, 2002),
    ],
)
def test_validation_codes(sb, body, code):
    answer = create(sb, new_key(sb), body)
    assert answer.json()["code"] == code, answer.text
    assert answer.status_code == DOCUMENTED_CODES.get(code, 400)


def test_valid_variants_are_accepted(sb):
    auth = new_key(sb)
    token = upload(sb, auth)
    bodies = [
        {"type": "image_to_model", "file": {"type": "png", "file_token": token}},
        {
            "type": "image_to_model",
            "file": {"type": "png", "object": {"bucket": "tripo-data", "key": token}},
        },
        {
            "type": "multiview_to_model",
            "model_version": "v2.5-20250123",
            "files": [{"file_token": token}, {}, {"url": "https://a/b.jpg"}, {"url": "https://c"}],
        },
        {
            "type": "text_to_model",
            "prompt": "x",
            "smart_low_poly": True,
            "face_limit": 1000,
            "texture_quality": "detailed",
            "geometry_quality": "detailed",
            "model_version": "v3.0-20250812",
        },
        {
            "type": "generate_image",
            "prompt": "x",
            "model_version": "gpt_4o",
            "files": [{"file_token": token}] * 10,
        },
    ]
    for body in bodies:
        task_id(create(sb, auth, body))


def test_upload_checks_file(sb):
    auth = new_key(sb)
    empty = requests.post(v2(sb) + "/upload", headers=auth, files={"file": ("a.png", b"")})
    assert empty.json()["code"] == 2003
    text = requests.post(v2(sb) + "/upload", headers=auth, files={"file": ("a.txt", b"hello")})
    assert text.json()["code"] == 2004 and text.status_code == 400
    token = upload(sb, auth, b"\xff\xd8\xff\xe0" + b"\0" * 16, "a.jpg")
    assert len(token) == 36
    other = create(sb, new_key(sb), {"type": "image_to_model", "file": {"file_token": token}})
    assert other.json()["code"] == 2019


def test_refine_rules(sb):
    auth = new_key(sb)
    modern = task_id(create(sb, auth, {"type": "text_to_model", "prompt": "x"}))
    wait_task(sb, auth, modern)
    assert (
        create(sb, auth, {"type": "refine_model", "draft_model_task_id": modern}).json()["code"]
        == 2006
    )
    old = task_id(
        create(
            sb,
            auth,
            {"type": "text_to_model", "prompt": "x", "model_version": "v1.4-20240625"},
            fault="cold_start=5",
        )
    )
    assert (
        create(sb, auth, {"type": "refine_model", "draft_model_task_id": old}).json()["code"]
        == 2007
    )


def test_rig_check_rig_and_retarget(sb):
    auth = new_key(sb)
    base = finished(sb, auth, {"type": "text_to_model", "prompt": "robot"})["task_id"]
    check = finished(sb, auth, {"type": "animate_prerigcheck", "original_model_task_id": base})
    assert check["output"]["riggable"] is True and check["output"]["rig_type"] == "biped"
    rig_body = {"original_model_task_id": base, "out_format": "fbx", "spec": "mixamo"}
    rigged = finished(sb, auth, {"type": "animate_rig", **rig_body})
    assert requests.get(rigged["output"]["model"]).content.startswith(b"Kaydara FBX")
    rig = rigged["task_id"]
    retarget = {"type": "animate_retarget", "original_model_task_id": rig}
    assert answer_code(sb, auth, {**retarget, "animation": "preset:moonwalk"}) == 1004
    not_rig = {**retarget, "original_model_task_id": base, "animation": "preset:walk"}
    assert answer_code(sb, auth, not_rig) == 1004
    both = finished(sb, auth, {**retarget, "animations": ["preset:walk", "preset:run"]})
    assert both["consumed_credit"] == 20


def test_convert_and_texture_a_finished_model(sb):
    auth = new_key(sb)
    base = finished(sb, auth, {"type": "text_to_model", "prompt": "robot"})["task_id"]
    convert = {"type": "convert_model", "original_model_task_id": base}
    converted = finished(sb, auth, {**convert, "format": "STL"})
    stl = requests.get(converted["output"]["model"]).content
    assert len(stl) == 84 + 50 * int.from_bytes(stl[80:84], "little")
    assert answer_code(sb, auth, {**convert, "format": "FBX", "force_symmetry": True}) == 1004
    texture = {"type": "texture_model", "original_model_task_id": base}
    textured = finished(sb, auth, {**texture, "texture_prompt": {"text": "rusty"}})
    assert requests.get(textured["output"]["model"]).content[:4] == b"glTF"


# -- v3 ------------------------------------------------------------------------------------
def test_v3_generation_task_files_and_account(sb):
    auth = new_key(sb)
    missing_version = requests.post(
        v3(sb) + "/generation/text-to-model", headers=auth, json={"prompt": "x"}
    )
    assert missing_version.status_code == 400 and missing_version.json()["status"] == "error"
    assert missing_version.json()["request_id"]
    answer = requests.post(
        v3(sb) + "/generation/text-to-model",
        headers=auth,
        json={"prompt": "a teapot", "model_version": "v3.1-20260211"},
    )
    assert answer.json()["status"] == "success" and answer.headers["X-Request-ID"]
    tid = answer.json()["data"]["task_id"]
    done = wait_task(sb, auth, tid, final=("success", "failed"), api="v3")
    assert set(done) >= {
        "created_at",
        "completed_at",
        "credits_consumed",
        "error_code",
        "error_message",
    }
    assert "running_left_time" not in done and "queuing_num" not in done
    assert requests.get(done["output"]["model_url"]).content[:4] == b"glTF"
    uploaded = requests.post(v3(sb) + "/files", headers=auth, files={"file": ("a.png", PNG)})
    token = uploaded.json()["data"]["file_token"]
    assert token.startswith("file_")
    image_task = requests.post(
        v3(sb) + "/generation/image-to-model",
        headers=auth,
        json={"input": token, "model_version": "v2.5-20250123"},
    )
    assert image_task.json()["code"] == 0, image_task.text
    base64_input = requests.post(
        v3(sb) + "/generation/image-to-model",
        headers=auth,
        json={"input": "data:image/png;base64,AAAA", "model_version": "v2.5-20250123"},
    )
    assert base64_input.json()["code"] == 1004
    listed = requests.post(v3(sb) + "/tasks/list", headers=auth, json={"task_ids": [tid, "x"]})
    assert list(listed.json()["data"]["tasks"]) == [tid]
    money = requests.get(v3(sb) + "/account/balance", headers=auth).json()["data"]
    assert isinstance(money["balance"], float) and money["balance"] < 3000
    usage = requests.get(v3(sb) + "/account/usage", headers=auth, params={"limit": 10}).json()
    assert [item["task_id"] for item in usage["data"]["items"]][-1] == tid
    too_many = requests.get(v3(sb) + "/account/usage", headers=auth, params={"limit": 201})
    assert too_many.json()["code"] == 1004


def test_v3_presigned_upload(sb):
    auth = new_key(sb)
    presign = requests.post(v3(sb) + "/files/presign", headers=auth, json={"format": "png"})
    data = presign.json()["data"]
    assert requests.put(data["upload_url"], data=PNG).status_code == 200
    assert requests.put(data["upload_url"], data=PNG).status_code == 403  # one use only
    answer = requests.post(
        v3(sb) + "/generation/image-to-model",
        headers=auth,
        json={"input": data["file_token"], "model_version": "v3.0-20250812"},
    )
    assert answer.json()["code"] == 0


def test_v3_failed_statuses_fold_banned_and_expired(sb):
    auth = new_key(sb)
    answer = requests.post(
        v3(sb) + "/generation/text-to-model",
        headers={**auth, "X-Sandbox-Fault": "fail=banned"},
        json={"prompt": "x", "model": "v3.0-20250812"},
    )
    done = wait_task(sb, auth, answer.json()["data"]["task_id"], final=("failed",), api="v3")
    assert done["error_code"] == 2008


def test_v3_needs_json_content_type(sb):
    answer = requests.post(
        v3(sb) + "/generation/text-to-model", headers=new_key(sb), data="prompt=x"
    )
    assert answer.status_code == 415 and answer.json()["code"] == 1003


@pytest.mark.parametrize("fmt", ["USDZ", "3MF", "OBJ", "GLTF"])
def test_convert_to_every_format(sb, fmt):
    import io
    import zipfile

    auth = new_key(sb)
    base = finished(sb, auth, {"type": "text_to_model", "prompt": "stool"})["task_id"]
    done = finished(
        sb, auth, {"type": "convert_model", "original_model_task_id": base, "format": fmt}
    )
    assert done["status"] == "success"
    data = requests.get(done["output"]["model"]).content
    if fmt == "GLTF":
        assert data[:4] == b"glTF"
        return
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    if fmt == "USDZ":
        first = archive.infolist()[0]
        assert names[0].endswith(".usda") and first.compress_type == zipfile.ZIP_STORED
        start = first.header_offset + 30 + len(first.filename) + len(first.extra)
        assert start % 64 == 0
        layer = archive.read(names[0]).decode()
        assert layer.startswith("#usda 1.0") and "def Mesh" in layer
    elif fmt == "3MF":
        assert "3D/3dmodel.model" in names
        model = archive.read("3D/3dmodel.model").decode()
        assert "<triangle " in model and 'unit="meter"' in model
    else:
        obj = archive.read(names[0]).decode()
        assert obj.count("\nf ") > 10 and "\no " in obj
