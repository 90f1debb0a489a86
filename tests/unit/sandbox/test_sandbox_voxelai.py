"""Voxel-AI contract: images with rate limit, voxelize with token accounting, status, .vox."""

from __future__ import annotations

import base64
import itertools
import struct
import time
import zlib

import pytest
import requests

_keys = itertools.count()


def base(sb) -> str:
    return sb.url + "/voxelai/api/generate"


def new_key(sb, **options) -> dict[str, str]:
    key = f"voxel-token-{next(_keys)}"
    sb.add_key("voxelai", key, **options)
    return {"Authorization": f"Bearer {key}"}


def wait_job(sb, auth, job_id, timeout=10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(base(sb) + "/status", params={"jobId": job_id}, headers=auth)
        body = answer.json()
        if answer.status_code == 200 and body["state"] in ("completed", "failed"):
            return body
        time.sleep(0.03)
    raise AssertionError("job never finished")


# -- independent readers (no sandbox code) ---------------------------------------------------
def make_png(width: int, height: int, pixel) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def read_vox(data: bytes):
    """Returns (size, voxels [(x, y, z, index)], palette {index: (r, g, b, a)})."""
    assert data[:4] == b"VOX " and struct.unpack_from("<i", data, 4)[0] in (150, 200)
    assert data[8:12] == b"MAIN"
    content, children = struct.unpack_from("<ii", data, 12)
    assert 20 + content + children == len(data)
    offset = 20 + content
    size = None
    voxels = []
    palette = {}
    while offset < len(data):
        kind = data[offset : offset + 4]
        n, m = struct.unpack_from("<ii", data, offset + 4)
        body = data[offset + 12 : offset + 12 + n]
        if kind == b"SIZE":
            size = struct.unpack("<3i", body)
        elif kind == b"XYZI":
            count = struct.unpack_from("<i", body)[0]
            voxels = [tuple(body[4 + 4 * i : 8 + 4 * i]) for i in range(count)]
        elif kind == b"RGBA":
            palette = {i + 1: tuple(body[4 * i : 4 * i + 4]) for i in range(255)}
        offset += 12 + n + m
    assert size is not None
    for x, y, z, c in voxels:
        assert x < size[0] and y < size[1] and z < size[2] and c >= 1
    return size, voxels, palette


def voxelize(sb, auth, image: bytes, **options) -> tuple[dict, dict]:
    payload = {"image_base64": "data:image/png;base64," + base64.b64encode(image).decode()}
    payload.update(options)
    answer = requests.post(base(sb) + "/voxelize", json=payload, headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json(), wait_job(sb, auth, answer.json()["jobId"])


# -- images --------------------------------------------------------------------------------
def test_images_job_returns_three_real_pngs(sb):
    auth = new_key(sb)
    answer = requests.post(
        base(sb) + "/images", json={"prompt": "a crystal tree", "seed": 7}, headers=auth
    )
    assert answer.status_code == 200 and set(answer.json()) == {"jobId"}
    done = wait_job(sb, auth, answer.json()["jobId"])
    assert done["state"] == "completed" and done["output"]["seed"] == 7
    images = done["output"]["images"]
    assert [i["index"] for i in images] == [0, 1, 2]
    decoded = [base64.b64decode(i["image_base64"]) for i in images]
    assert all(png_size(d)[0] >= 64 for d in decoded)
    assert len(set(decoded)) == 3


def test_images_rate_limit_per_token(sb):
    auth = new_key(sb)
    assert requests.post(base(sb) + "/images", json={"prompt": "a"}, headers=auth).ok
    again = requests.post(base(sb) + "/images", json={"prompt": "b"}, headers=auth)
    assert again.status_code == 429 and "error" in again.json()
    assert requests.post(base(sb) + "/images", json={"prompt": "c"}, headers=new_key(sb)).ok


@pytest.mark.parametrize(
    "body",
    [{}, {"prompt": ""}, {"prompt": "   "}, {"prompt": "x" * 501}, {"prompt": "x", "seed": "7"}],
)
def test_images_validation(sb, body):
    answer = requests.post(base(sb) + "/images", json=body, headers=new_key(sb))
    assert answer.status_code == 400 and "error" in answer.json()


def test_status_progress_fields_while_waiting(sb):
    auth = new_key(sb)
    job = requests.post(
        base(sb) + "/images",
        json={"prompt": "slow"},
        headers={**auth, "X-Sandbox-Fault": "cold_start=0.3"},
    ).json()["jobId"]
    first = requests.get(base(sb) + "/status", params={"jobId": job}, headers=auth).json()
    assert first["state"] == "queued" and first["executionTime"] == 0
    time.sleep(0.35)
    running = requests.get(base(sb) + "/status", params={"jobId": job}, headers=auth).json()
    assert running["state"] == "running" and running["delayTime"] >= 300


# -- voxelize ------------------------------------------------------------------------------
def red_bar(x, y):
    """A red bar, twice as wide as tall, on white."""
    return (220, 20, 20) if 10 <= x < 70 and 25 <= y < 55 else (255, 255, 255)


def test_voxelize_charges_and_returns_a_real_vox(sb):
    auth = new_key(sb, balance=5)
    submitted, done = voxelize(sb, auth, make_png(80, 80, red_bar), voxel_size=24, palette_size=4)
    assert submitted["charged"] is True and submitted["balance"] == 4
    assert done["state"] == "completed" and done["charged"] is True and done["balance"] == 4
    assert done["output"]["filename"].endswith(".vox")
    size, voxels, palette = read_vox(base64.b64decode(done["output"]["vox_base64"]))
    assert max(size) == 24 and size[0] == 24 and size[2] == 12
    used = {palette[c][:3] for *_, c in voxels}
    assert len(used) <= 4
    assert all(r > 150 and g < 80 and b < 80 for r, g, b in used)


def test_voxelize_honours_fill_texturing_palette_and_color(sb):
    auth = new_key(sb)

    def rainbow(x, y):
        inside = (x - 32) ** 2 + (y - 32) ** 2 < 28**2
        return ((x * 4) % 256, (y * 4) % 256, 128) if inside else (250, 250, 250)

    image = make_png(64, 64, rainbow)
    hollow = read_vox(
        base64.b64decode(voxelize(sb, auth, image, voxel_size=32)[1]["output"]["vox_base64"])
    )
    solid = read_vox(
        base64.b64decode(
            voxelize(sb, auth, image, voxel_size=32, fill=True)[1]["output"]["vox_base64"]
        )
    )
    assert hollow[0] == solid[0]
    assert len(solid[1]) > len(hollow[1])
    assert set(v[:3] for v in hollow[1]) <= set(v[:3] for v in solid[1])
    gray = read_vox(
        base64.b64decode(voxelize(sb, auth, image, texturing="gray")[1]["output"]["vox_base64"])
    )
    assert all(len(set(gray[2][c][:3])) == 1 for *_, c in gray[1])
    few = read_vox(
        base64.b64decode(voxelize(sb, auth, image, palette_size=3)[1]["output"]["vox_base64"])
    )
    assert len({c for *_, c in few[1]}) <= 3
    many = read_vox(
        base64.b64decode(voxelize(sb, auth, image, palette_size=64)[1]["output"]["vox_base64"])
    )
    assert len({c for *_, c in many[1]}) > 3
    vertex = voxelize(sb, auth, image, color="vertex")[1]["output"]["vox_base64"]
    surface = voxelize(sb, auth, image, color="surface")[1]["output"]["vox_base64"]
    assert vertex != surface
    big = read_vox(
        base64.b64decode(voxelize(sb, auth, image, voxel_size=128)[1]["output"]["vox_base64"])
    )
    assert max(big[0]) == 128


def test_voxelize_a_candidate_image(sb):
    auth = new_key(sb)
    job = requests.post(base(sb) + "/images", json={"prompt": "castle"}, headers=auth).json()
    chosen = base64.b64decode(
        wait_job(sb, auth, job["jobId"])["output"]["images"][1]["image_base64"]
    )
    _, done = voxelize(sb, auth, chosen, voxel_size=40)
    size, voxels, _ = read_vox(base64.b64decode(done["output"]["vox_base64"]))
    assert max(size) == 40 and len(voxels) > 100


@pytest.mark.parametrize(
    "options",
    [
        {"voxel_size": 7},
        {"voxel_size": 129},
        {"palette_size": 1},
        {"palette_size": 257},
        {"texturing": "shiny"},
        {"color": "face"},
        {"fill": "yes"},
    ],
)
def test_voxelize_validation(sb, options):
    auth = new_key(sb)
    payload = {"image_base64": base64.b64encode(make_png(8, 8, red_bar)).decode(), **options}
    answer = requests.post(base(sb) + "/voxelize", json=payload, headers=auth)
    assert answer.status_code == 400
    assert sb.account("voxelai", auth["Authorization"][7:]).balance == 100


def test_voxelize_needs_an_image(sb):
    auth = new_key(sb)
    for payload in (
        {},
        {"image_base64": ""},
        {"image_base64": "not base64!"},
        {"image_base64": base64.b64encode(b"plain text").decode()},
    ):
        assert requests.post(base(sb) + "/voxelize", json=payload, headers=auth).status_code == 400


def test_voxelize_token_errors(sb):
    payload = {"image_base64": base64.b64encode(make_png(8, 8, red_bar)).decode()}
    broke = requests.post(base(sb) + "/voxelize", json=payload, headers=new_key(sb, balance=0))
    assert broke.status_code == 402 and broke.json()["code"] == "INSUFFICIENT_TOKENS"
    none = requests.post(base(sb) + "/voxelize", json=payload, headers=new_key(sb, forbidden=True))
    assert none.status_code == 403 and none.json()["code"] == "NO_BALANCE"
    nobody = requests.post(base(sb) + "/voxelize", json=payload)
    assert nobody.status_code == 401


def test_failed_job_refunds_exactly_once(sb):
    auth = new_key(sb, balance=3)
    payload = {"image_base64": base64.b64encode(make_png(8, 8, red_bar)).decode()}
    answer = requests.post(
        base(sb) + "/voxelize",
        json=payload,
        headers={**auth, "X-Sandbox-Fault": "fail=GPU out of memory"},
    )
    assert answer.json()["balance"] == 2
    for _ in range(3):
        failed = wait_job(sb, auth, answer.json()["jobId"])
        assert failed["state"] == "failed" and failed["error"] == "GPU out of memory"
    assert sb.account("voxelai", auth["Authorization"][7:]).balance == 3


def test_unvoxelisable_image_fails_and_refunds(sb):
    auth = new_key(sb, balance=3)
    blank = make_png(16, 16, lambda x, y: (255, 255, 255))
    _, done = voxelize(sb, auth, blank)
    assert done["state"] == "failed" and "no subject" in done["error"]
    assert sb.account("voxelai", auth["Authorization"][7:]).balance == 3


def test_status_errors_and_transient_502(sb):
    auth = new_key(sb)
    assert requests.get(base(sb) + "/status", headers=auth).status_code == 400
    assert (
        requests.get(base(sb) + "/status", params={"jobId": "x"}, headers=auth).status_code == 404
    )
    job = requests.post(base(sb) + "/images", json={"prompt": "p"}, headers=auth).json()["jobId"]
    stranger = requests.get(base(sb) + "/status", params={"jobId": job}, headers=new_key(sb))
    assert stranger.status_code == 403
    flaky = {**auth, "X-Sandbox-Fault": "transient=2"}
    answers = [
        requests.get(base(sb) + "/status", params={"jobId": job}, headers=flaky) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [502, 502, 200]
    assert answers[0].json()["transient"] is True
