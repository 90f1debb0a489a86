"""Thrixel contract: auth, validation, job states, SSE, downloads, hierarchy, edits, account."""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import struct
import time

import pytest
import requests

from sandbox import start_sandbox

ERROR_CODES = [
    "CONTENT_BLOCKED",
    "INVALID_IMAGE",
    "MULTI_VIEW_IMAGE",
    "LLM_RATE_LIMITED",
    "LLM_OVERLOADED",
    "LLM_CONNECTION_ERROR",
    "LLM_SERVER_ERROR",
    "CANCELLED_BY_USER",
    "rig_unsupported",
    "rig_failed",
    "TASK_LOST",
    "NEVER_DISPATCHED",
]
_keys = itertools.count()


def api(sb) -> str:
    return sb.url + "/thrixel/api/v1"


def new_key(sb, **options) -> dict[str, str]:
    key = f"sk-thrixel-test-{next(_keys)}"
    sb.add_key("thrixel", key, **options)
    return {"Authorization": f"Bearer {key}"}


def submit(sb, auth, path="/phase1/submit", body=None, fault=None) -> requests.Response:
    headers = dict(auth)
    if fault:
        headers["X-Sandbox-Fault"] = fault
    return requests.post(
        api(sb) + path, json={"task": "a brass orrery"} if body is None else body, headers=headers
    )


def edit(sb, auth, parent, request, focus=None, path="/phase3/submit") -> requests.Response:
    body = {"parent_submission_id": parent, "modification_request": request}
    if focus is not None:
        body["focus_on_node_names"] = focus
    return submit(sb, auth, path=path, body=body)


def wait_status(sb, sid, wanted=("completed", "failed"), timeout=5.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = requests.get(f"{api(sb)}/{sid}/info").json()
        if info["status"] in wanted:
            return info
        time.sleep(0.03)
    raise AssertionError(f"{sid} never reached {wanted}")


def completed(sb, auth, body=None) -> str:
    answer = submit(sb, auth, body=body)
    assert answer.status_code == 200, answer.text
    sid = answer.json()["submission_id"]
    wait_status(sb, sid, ("completed",))
    return sid


def full_glb(sb, sid) -> bytes:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        answer = requests.get(f"{api(sb)}/{sid}/download", params={"format": "glb"})
        if answer.status_code == 200:
            return answer.content
        assert answer.status_code == 202 and answer.json() == {"status": "preparing"}
        time.sleep(0.03)
    raise AssertionError("full GLB never became ready")


# -- an independent GLB reader (does not use sandbox.glb) ------------------------------------
def read_glb(data: bytes) -> tuple[dict, bytes]:
    magic, version, length = struct.unpack_from("<4sII", data)
    assert magic == b"glTF" and version == 2 and length == len(data)
    json_len = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20 : 20 + json_len])
    bin_start = 20 + json_len
    bin_len = struct.unpack_from("<I", data, bin_start)[0]
    return doc, data[bin_start + 8 : bin_start + 8 + bin_len]


def accessor_bytes(doc: dict, binary: bytes, index: int) -> bytes:
    accessor = doc["accessors"][index]
    view = doc["bufferViews"][accessor["bufferView"]]
    size = {5126: 4, 5125: 4, 5123: 2, 5121: 1}[accessor["componentType"]]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[accessor["type"]]
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    assert view.get("byteStride", size * width) == size * width
    return binary[start : start + size * width * accessor["count"]]


def node_mesh_bytes(doc: dict, binary: bytes) -> dict[str, list[bytes]]:
    out = {}
    for node in doc["nodes"]:
        if "mesh" in node:
            chunks = []
            for primitive in doc["meshes"][node["mesh"]]["primitives"]:
                for name in sorted(primitive["attributes"]):
                    chunks.append(accessor_bytes(doc, binary, primitive["attributes"][name]))
                if "indices" in primitive:
                    chunks.append(accessor_bytes(doc, binary, primitive["indices"]))
            out[node["name"]] = chunks
    return out


# -- auth ----------------------------------------------------------------------------------
def test_auth_missing_invalid_revoked(sb):
    missing = requests.post(api(sb) + "/phase1/submit", json={"task": "x"})
    assert missing.status_code == 401 and isinstance(missing.json()["detail"], str)
    invalid = submit(sb, {"Authorization": "Bearer sk-thrixel-nope"})
    assert invalid.status_code == 401
    revoked = submit(sb, new_key(sb, forbidden=True))
    assert revoked.status_code == 403 and "revoked" in revoked.json()["detail"]


# -- validation ----------------------------------------------------------------------------
PNG_URL = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n0000").decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "task"),
        ({"task": "x", "image": PNG_URL, "images": [PNG_URL]}, "images"),
        ({"images": [PNG_URL] * 7}, "images"),
        ({"image": "ftp://example.com/a.png"}, "image"),
        ({"image": "data:image/png;base64,@@@"}, "image"),
        ({"task": 5}, "task"),
        ({"task": "x", "model": "gpt-9"}, "model"),
        ({"task": "x", "adaptive_thinking": "yes"}, "adaptive_thinking"),
        ({"task": "x", "project_id": "no-such-project"}, "project_id"),
    ],
)
def test_phase1_validation_is_pydantic_422(sb, body, field):
    answer = submit(sb, new_key(sb), body=body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, list)
    assert any(field in item["loc"][-1] for item in detail), detail


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/architect/submit", {"model": "architect-plus"}, "task"),
        ("/architect/submit", {"task": "x", "target_size_m": 0.001}, "target_size_m"),
        ("/sculptor/submit", {"task": "x", "decimation_target": 9999}, "decimation_target"),
        ("/sculptor/submit", {"task": "x", "texture_size": 512}, "texture_size"),
        ("/phase2/submit", {}, "parent_submission_id"),
        (
            "/phase3/submit",
            {"parent_submission_id": "nope", "modification_request": "x"},
            "parent_submission_id",
        ),
        ("/detailer/submit", {"parent_submission_id": "nope"}, "parent_submission_id"),
    ],
)
def test_other_submit_routes_validate(sb, path, body, field):
    answer = submit(sb, new_key(sb), path=path, body=body)
    assert answer.status_code == 422, answer.text
    assert any(item["loc"][-1] == field for item in answer.json()["detail"])


def test_phase1_accepts_text_image_or_images(sb):
    auth = new_key(sb)
    for body in ({"task": "lamp"}, {"image": PNG_URL}, {"images": [PNG_URL] * 6}):
        answer = submit(sb, auth, body=body)
        assert answer.status_code == 200, answer.text
        created = answer.json()
        assert created["status"] == "queued" and created["created_at"].endswith("Z")


# -- state machine, progress ---------------------------------------------------------------
def test_info_walks_queued_processing_completed_without_progress(sb):
    auth = new_key(sb)
    sid = submit(sb, auth, fault="cold_start=0.2").json()["submission_id"]
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        info = requests.get(f"{api(sb)}/{sid}/info").json()
        assert "progress" not in info and "percent" not in info
        if not seen or seen[-1] != info["status"]:
            seen.append(info["status"])
        if info["status"] == "completed":
            break
        time.sleep(0.02)
    assert seen == ["queued", "processing", "completed"]
    assert info["phase"] == 1 and info["input"]["type"] == "text"
    assert info["completed_at"].endswith("Z") and info["cubes_spent"] > 0
    assert info["full_build_status"] in ("pending", "completed")


def test_info_of_unknown_submission_is_404(sb):
    assert requests.get(f"{api(sb)}/nope/info").status_code == 404


def test_stream_sends_status_and_progress_then_closes(sb):
    # A cold start keeps the job queued for a second, so the stream is open before it runs
    # even on a loaded machine.
    sid = submit(sb, new_key(sb), fault="cold_start").json()["submission_id"]
    events = []
    with requests.get(f"{api(sb)}/{sid}/stream", stream=True, timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith(b"data: "):
                events.append(json.loads(line[6:]))
    statuses = [e["status"] for e in events if e["type"] == "status"]
    assert statuses[-1] == "completed" and "processing" in statuses
    progress = [e for e in events if e["type"] == "progress"]
    assert progress, events
    assert all(
        0 <= e["percent"] <= 1 and e["progress"] == round(e["percent"] * 100) for e in progress
    )
    assert [e["percent"] for e in progress] == sorted(e["percent"] for e in progress)


def test_stream_tells_a_change_of_status_when_it_happens_not_at_the_next_tick():
    with start_sandbox(speed="fast") as slow_ticks:
        # Progress every 5 s, as a slow stream would send it; the job itself takes 0.25 s.
        slow_ticks.state.speed = dataclasses.replace(slow_ticks.state.speed, sse_tick=5.0)
        sid = submit(slow_ticks, new_key(slow_ticks)).json()["submission_id"]
        began = time.monotonic()
        with requests.get(f"{api(slow_ticks)}/{sid}/stream", stream=True,
                          timeout=10) as answer:
            statuses = [json.loads(line[6:])["status"] for line in answer.iter_lines()
                        if line.startswith(b"data: ")]
        assert statuses[-1] == "completed"
        assert time.monotonic() - began < 2.0


def test_stream_drop_fault_closes_the_stream_before_the_end(sb):
    sid = submit(sb, new_key(sb), fault="cold_start").json()["submission_id"]
    headers = {"X-Sandbox-Fault": "stream_drop=2"}
    with requests.get(f"{api(sb)}/{sid}/stream", headers=headers, stream=True,
                      timeout=10) as answer:
        events = [json.loads(line[6:]) for line in answer.iter_lines()
                  if line.startswith(b"data: ")]
    assert events and not [e for e in events if e.get("status") in ("completed", "failed")]


def test_stream_silent_fault_sends_nothing(sb):
    sid = submit(sb, new_key(sb), fault="cold_start").json()["submission_id"]
    headers = {"X-Sandbox-Fault": "stream_silent"}
    with requests.get(f"{api(sb)}/{sid}/stream", headers=headers, stream=True,
                      timeout=(5, 0.5)) as answer:
        assert answer.status_code == 200
        with pytest.raises(requests.ConnectionError):
            next(answer.iter_content(1))


def test_failed_stream_carries_error_code(sb):
    sid = submit(sb, new_key(sb), fault="fail=TASK_LOST").json()["submission_id"]
    with requests.get(f"{api(sb)}/{sid}/stream", stream=True, timeout=10) as answer:
        last = [json.loads(line[6:]) for line in answer.iter_lines() if line.startswith(b"data: ")][
            -1
        ]
    assert last == {**last, "type": "status", "status": "failed", "error_code": "TASK_LOST"}


def test_job_fails_with_each_documented_error_code_and_is_refunded(sb):
    ids = {}
    for chunk_start in range(0, len(ERROR_CODES), 3):
        auth = new_key(sb)
        for code in ERROR_CODES[chunk_start : chunk_start + 3]:
            answer = submit(sb, auth, fault=f"fail={code}")
            assert answer.status_code == 200
            ids[code] = (answer.json()["submission_id"], auth)
    for code, (sid, _auth) in ids.items():
        info = wait_status(sb, sid)
        assert info["status"] == "failed" and info["error_code"] == code
        assert info["error_message"]
    # Balances once every job of a key has failed (a sibling still running holds its Cubes).
    for auth in {tuple(auth.items()): auth for _, auth in ids.values()}.values():
        usage = requests.get(api(sb) + "/usage", headers=auth).json()
        assert usage["cubes_balance"] == 500


# -- downloads -----------------------------------------------------------------------------
def test_download_202_preparing_then_full_glb_and_lite_at_once(sb):
    sid = completed(sb, new_key(sb))
    info = requests.get(f"{api(sb)}/{sid}/info").json()
    first = requests.get(f"{api(sb)}/{sid}/download")
    if info["full_build_status"] == "pending":
        assert first.status_code == 202 and first.json() == {"status": "preparing"}
        lite = requests.get(f"{api(sb)}/{sid}/download", params={"quality": "lite"})
        assert lite.status_code == 200 and lite.content[:4] == b"glTF"
    data = full_glb(sb, sid)
    read_glb(data)
    assert requests.get(f"{api(sb)}/{sid}/info").json()["full_build_status"] == "completed"


def test_full_build_fault_keeps_the_full_glb_baking(sb):
    sid = submit(sb, new_key(sb), fault="full_build=30").json()["submission_id"]
    info = wait_status(sb, sid)
    assert info["status"] == "completed" and info["full_build_status"] == "pending"
    assert requests.get(f"{api(sb)}/{sid}/download").status_code == 202
    lite = requests.get(f"{api(sb)}/{sid}/download", params={"quality": "lite"})
    assert lite.status_code == 200 and lite.content[:4] == b"glTF"


def test_download_before_completion_is_refused(sb):
    sid = submit(sb, new_key(sb), fault="cold_start=5").json()["submission_id"]
    answer = requests.get(f"{api(sb)}/{sid}/download")
    assert answer.status_code == 409 and "not ready" in answer.json()["detail"]


def test_fbx_is_converted_on_request_then_served(sb):
    sid = completed(sb, new_key(sb))
    first = requests.get(f"{api(sb)}/{sid}/download", params={"format": "fbx"})
    assert first.status_code == 202
    job = first.json()
    assert job["status"] in ("queued", "processing") and job["format"] == "fbx"
    deadline = time.monotonic() + 5
    while requests.get(job["status_url"]).json()["status"] != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.03)
    answer = requests.get(f"{api(sb)}/{sid}/download", params={"format": "fbx"})
    assert answer.status_code == 200
    assert answer.content.startswith(b"Kaydara FBX Binary  \x00\x1a\x00")


def test_convert_endpoint_reuses_ready_job(sb):
    sid = completed(sb, new_key(sb))
    first = requests.post(api(sb) + "/convert", json={"submission_id": sid, "format": "stl"}).json()
    again = requests.post(api(sb) + "/convert", json={"submission_id": sid, "format": "stl"}).json()
    assert first["job_id"] == again["job_id"]
    forced = requests.post(
        api(sb) + "/convert", json={"submission_id": sid, "format": "stl", "force": True}
    ).json()
    assert forced["job_id"] != first["job_id"]
    bad = requests.post(api(sb) + "/convert", json={"submission_id": sid, "format": "blend"})
    assert bad.status_code == 422


def test_thumbnail_is_a_png(sb):
    sid = completed(sb, new_key(sb))
    for fmt in ("thumbnail", "thumbnail_back"):
        answer = requests.get(f"{api(sb)}/{sid}/download", params={"format": fmt})
        assert answer.status_code == 200 and answer.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_hierarchy_matches_the_served_glb(sb):
    sid = completed(sb, new_key(sb), body={"task": "a lighthouse on a rock"})
    tree = requests.get(f"{api(sb)}/{sid}/hierarchy").json()
    doc, _ = read_glb(full_glb(sb, sid))

    def triangles(mesh_index):
        total = 0
        for primitive in doc["meshes"][mesh_index]["primitives"]:
            total += doc["accessors"][primitive["indices"]]["count"] // 3
        return total

    def leaves(node):
        if not node["children"]:
            yield node
        for child in node["children"]:
            yield from leaves(child)

    expected = {n["name"]: triangles(n["mesh"]) for n in doc["nodes"] if "mesh" in n}
    got = {leaf["name"]: leaf["faces"] for leaf in leaves(tree) if leaf["type"] == "Mesh"}
    assert got == expected
    assert tree["faces"] == sum(expected.values())
    bounds = tree["bounds"]
    assert set(bounds) == {"min", "max", "size", "center", "exact"}
    assert all(s > 0 for s in bounds["size"])


def test_download_faults_damage_the_file(sb):
    auth = new_key(sb, faults="corrupt")
    sid = completed(sb, auth)
    corrupt = requests.get(f"{api(sb)}/{sid}/download", params={"quality": "lite"})
    assert corrupt.status_code == 200 and corrupt.content[:4] != b"glTF"
    sid = completed(sb, new_key(sb))
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        requests.get(f"{api(sb)}/{sid}/download?quality=lite&sandbox_fault=truncate")
    broken = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    with pytest.raises(broken, match="reset"):
        requests.get(f"{api(sb)}/{sid}/download?quality=lite&sandbox_fault=reset")


# -- cancel, limits, billing ---------------------------------------------------------------
def test_cancel_queued_then_refused_once_running(sb):
    auth = new_key(sb)
    sid = submit(sb, auth, fault="cold_start=5").json()["submission_id"]
    answer = requests.post(f"{api(sb)}/{sid}/cancel", json={}, headers=auth)
    assert answer.status_code == 200 and answer.json()["cancelled"] is True
    info = requests.get(f"{api(sb)}/{sid}/info").json()
    assert info["status"] == "failed" and info["error_code"] == "CANCELLED_BY_USER"
    assert requests.get(api(sb) + "/usage", headers=auth).json()["cubes_balance"] == 500
    running = submit(sb, auth).json()["submission_id"]
    wait_status(sb, running, ("processing",))
    refused = requests.post(f"{api(sb)}/{running}/cancel", json={}, headers=auth)
    assert refused.status_code == 409


def test_concurrency_cap_of_three(sb):
    auth = new_key(sb)
    for _ in range(3):
        assert submit(sb, auth, fault="cold_start=5").status_code == 200
    answer = submit(sb, auth)
    assert answer.status_code == 429 and "already running" in answer.json()["detail"]
    usage = requests.get(api(sb) + "/usage", headers=auth).json()
    assert usage["concurrent_in_flight"] == 3 and usage["concurrent_job_cap"] == 3


def test_402_out_of_cubes_and_monthly_runs(sb):
    broke = submit(sb, new_key(sb, balance=1))
    assert broke.status_code == 402 and broke.headers["X-Thrixel-Reason"] == "cubes"
    auth = new_key(sb, monthly_runs_left=1)
    assert submit(sb, auth).status_code == 200
    used_up = submit(sb, auth)
    assert used_up.status_code == 402
    assert used_up.headers["X-Thrixel-Reason"] == "monthly_runs"


def test_usage_reports_balance_after_charge(sb):
    auth = new_key(sb)
    completed(sb, auth)
    usage = requests.get(api(sb) + "/usage", headers=auth).json()
    assert usage["cubes_balance"] == 496 and usage["monthly_runs"]["used"] == {"architect": 1}


# -- derived phases ------------------------------------------------------------------------
def test_phase3_focus_keeps_other_nodes_byte_identical(sb):
    auth = new_key(sb)
    parent = completed(sb, auth, body={"task": "an orrery with rings"})
    parent_bytes = node_mesh_bytes(*read_glb(full_glb(sb, parent)))
    names = sorted(parent_bytes)
    focus = names[:2]
    answer = edit(sb, auth, parent, "make it glow", focus=focus)
    assert answer.status_code == 200, answer.text
    child = answer.json()["submission_id"]
    info = wait_status(sb, child, ("completed",))
    assert info["phase"] == 3 and info["parent_submission_id"] == parent
    child_bytes = node_mesh_bytes(*read_glb(full_glb(sb, child)))
    assert sorted(child_bytes) == names
    for name in names:
        if name in focus:
            assert child_bytes[name] != parent_bytes[name], name
        else:
            assert child_bytes[name] == parent_bytes[name], name


def test_phase3_without_focus_changes_every_node(sb):
    auth = new_key(sb)
    parent = completed(sb, auth)
    before = node_mesh_bytes(*read_glb(full_glb(sb, parent)))
    child = edit(sb, auth, parent, "taller", path="/edit/submit").json()["submission_id"]
    wait_status(sb, child, ("completed",))
    after = node_mesh_bytes(*read_glb(full_glb(sb, child)))
    assert all(after[name] != before[name] for name in before)


def test_phase3_rejects_unknown_node_names(sb):
    auth = new_key(sb)
    parent = completed(sb, auth)
    answer = edit(sb, auth, parent, "x", focus=["no_such_part"])
    assert answer.status_code == 422 and "no_such_part" in answer.text


def test_phase2_and_detailer_chain(sb):
    auth = new_key(sb)
    parent = completed(sb, auth)
    refined = submit(sb, auth, path="/phase2/submit", body={"parent_submission_id": parent})
    refined_id = refined.json()["submission_id"]
    assert wait_status(sb, refined_id)["phase"] == 2
    bad = submit(
        sb,
        auth,
        path="/detailer/submit",
        body={"parent_submission_id": refined_id, "seed": 1_000_000},
    )
    assert bad.status_code == 422
    detailed = submit(
        sb,
        auth,
        path="/detailer/submit",
        body={"parent_submission_id": refined_id, "texture_size": 2048},
    )
    detailed_id = detailed.json()["submission_id"]
    info = wait_status(sb, detailed_id)
    assert info["phase"] == 4 and info["status"] == "completed" and info["cubes_spent"] == 14
    # No reference picture was given and no prompt: one was made from the model.
    assert info["cubes_reference_image"] == 7
    assert edit(sb, auth, detailed_id, "x").status_code == 422
    refine_detail = submit(
        sb, auth, path="/phase2/submit", body={"parent_submission_id": detailed_id}
    )
    assert refine_detail.status_code == 422


# -- phase 5 upload ------------------------------------------------------------------------
def test_phase5_upload_round_trip(sb):
    auth = new_key(sb)
    source = full_glb(sb, completed(sb, auth))
    answer = requests.post(
        api(sb) + "/phase5/submit",
        headers=auth,
        files={"glb_file": ("mine.glb", source, "model/gltf-binary")},
        data={"task": "hand-made"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "completed" and body["original_filename"] == "mine.glb"
    assert body["file_size_bytes"] == len(source)
    served = requests.get(f"{api(sb)}/{body['submission_id']}/download").content
    assert served == source


def test_phase5_uploads_go_on_to_phases_2_3_and_4(sb):
    """The seed's Phase 5 text: an upload can be refined, edited or detailed."""
    auth = new_key(sb)
    source = full_glb(sb, completed(sb, auth))
    uploaded = requests.post(
        api(sb) + "/phase5/submit", headers=auth, files={"glb_file": ("mine.glb", source)}
    ).json()["submission_id"]
    for path, body, phase in (
        ("/phase2/submit", {}, 2),
        ("/phase3/submit", {"modification_request": "taller"}, 3),
        ("/detailer/submit", {}, 4),
    ):
        answer = submit(sb, auth, path=path, body={"parent_submission_id": uploaded, **body})
        assert answer.status_code == 200, (path, answer.text)
        assert wait_status(sb, answer.json()["submission_id"])["phase"] == phase


def test_phase5_refuses_non_glb_and_long_label(sb):
    auth = new_key(sb)
    not_glb = requests.post(
        api(sb) + "/phase5/submit",
        headers=auth,
        files={"glb_file": ("x.glb", b"PK\x03\x04 not a glb")},
    )
    assert not_glb.status_code == 400
    long_task = requests.post(
        api(sb) + "/phase5/submit",
        headers=auth,
        files={"glb_file": ("x.glb", b"glTF")},
        data={"task": "x" * 2001},
    )
    assert long_task.status_code == 422
    missing = requests.post(api(sb) + "/phase5/submit", headers=auth, data={"task": "x"})
    assert missing.status_code == 422


def test_phase5_refuses_more_than_100_mb(sb):
    auth = new_key(sb)
    big = b"glTF" + bytes(100 * 1024 * 1024)
    answer = requests.post(
        api(sb) + "/phase5/submit", headers=auth, files={"glb_file": ("big.glb", big)}
    )
    assert answer.status_code == 413


# -- listing, projects ---------------------------------------------------------------------
def test_projects_crud_and_submission_filing(sb):
    auth = new_key(sb)
    created = requests.post(api(sb) + "/projects", headers=auth, json={"name": "Props"})
    assert created.status_code == 201
    project_id = created.json()["id"]
    assert requests.post(api(sb) + "/projects", headers=auth, json={"name": ""}).status_code == 422
    sid = completed(sb, auth, body={"task": "crate", "project_id": project_id})
    listed = requests.get(api(sb) + "/projects", headers=auth).json()
    assert listed["count"] == 1 and listed["projects"][0]["submission_count"] == 1
    one = requests.get(f"{api(sb)}/projects/{project_id}", headers=auth).json()
    assert [s["submission_id"] for s in one["submissions"]] == [sid]
    patched = requests.patch(f"{api(sb)}/projects/{project_id}", headers=auth, json={})
    assert patched.status_code == 422
    patched = requests.patch(
        f"{api(sb)}/projects/{project_id}", headers=auth, json={"description": "crates"}
    )
    assert patched.json()["description"] == "crates"
    assert requests.delete(f"{api(sb)}/projects/{project_id}", headers=auth).status_code == 200
    assert requests.get(f"{api(sb)}/projects/{project_id}", headers=auth).status_code == 404
    other = requests.get(api(sb) + "/submissions", headers=new_key(sb)).json()
    assert other["submissions"] == []
    mine = requests.get(api(sb) + "/submissions", headers=auth, params={"limit": 5}).json()
    assert [s["submission_id"] for s in mine["submissions"]] == [sid]
