"""Sandbox server core: start/stop, prefixes, the command line, fault injection, isolation."""

from __future__ import annotations

import ast
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sandbox import DEFAULT_KEYS, start_sandbox

ROOT = Path(__file__).resolve().parents[3]
THRIXEL_AUTH = {"Authorization": f"Bearer {DEFAULT_KEYS['thrixel']}"}


def test_binds_loopback_free_port_and_stops(sb):
    assert sb.url.startswith("http://127.0.0.1:")
    with start_sandbox() as other:
        port = int(other.url.rsplit(":", 1)[1])
        assert requests.get(other.url + "/_sandbox/health", timeout=5).json()["ok"] is True
    # After stop() the port is free again and nothing answers.
    with pytest.raises(requests.ConnectionError):
        requests.get(other.url + "/_sandbox/health", timeout=2)
    probe = socket.socket()
    probe.bind(("127.0.0.1", port))
    probe.close()


def test_refuses_non_loopback_host():
    with pytest.raises(ValueError, match="loopback"):
        start_sandbox(host="0.0.0.0")


def test_each_service_has_its_prefix(sb):
    assert sb.service_url("tripo") == sb.url + "/tripo"
    checks = {
        "/thrixel/api/v1/usage": 401,
        "/tripo/v2/openapi/user/balance": 401,
        "/tripo/v3/account/balance": 401,
        "/pixazo/v2/requests/status/pixal3d_x": 401,
        "/voxelai/api/generate/status?jobId=x": 401,
        "/elsewhere/api": 404,
        "/cdn/nothing/here.glb": 404,
    }
    for path, status in checks.items():
        assert requests.get(sb.url + path, timeout=5).status_code == status, path


def test_every_answered_request_is_logged_in_order(sb):
    before = len(sb.log.entries())
    requests.get(sb.url + "/thrixel/api/v1/usage", headers=THRIXEL_AUTH, timeout=5)
    requests.get(sb.url + "/voxelai/api/generate/status?jobId=abc", timeout=5)
    first, second = sb.log.entries()[before:]
    assert (first.service, first.method, first.path, first.status) == (
        "thrixel", "GET", "/api/v1/usage", 200)
    assert (second.service, second.path, second.query, second.status) == (
        "voxelai", "/api/generate/status", "jobId=abc", 401)
    assert first.at <= second.at


def test_default_keys_are_accepted(sb):
    assert requests.get(sb.url + "/thrixel/api/v1/usage", headers=THRIXEL_AUTH).status_code == 200
    tripo = {"Authorization": f"Bearer {DEFAULT_KEYS['tripo']}"}
    assert (
        requests.get(sb.url + "/tripo/v2/openapi/user/balance", headers=tripo).json()["code"] == 0
    )


def test_control_endpoint_adds_keys(sb):
    answer = requests.post(
        sb.url + "/_sandbox/keys",
        json={"service": "tripo", "key": "tsk_ctl", "balance": 7, "faults": "latency=1"},
    )
    assert answer.status_code == 201
    shown = requests.get(sb.url + "/_sandbox/keys/tripo/tsk_ctl").json()
    assert shown["balance"] == 7 and shown["faults"] == "latency=1"
    bad = requests.post(sb.url + "/_sandbox/keys", json={"service": "nope", "key": "k"})
    assert bad.status_code == 400


def test_unknown_fault_is_a_loud_400(sb):
    answer = requests.get(
        sb.url + "/thrixel/api/v1/usage",
        headers={**THRIXEL_AUTH, "X-Sandbox-Fault": "gremlins"},
    )
    assert answer.status_code == 400
    assert "gremlins" in answer.json()["sandbox_error"]


def test_latency_fault_delays_the_answer(sb):
    start = time.monotonic()
    answer = requests.get(
        sb.url + "/thrixel/api/v1/usage", headers={**THRIXEL_AUTH, "X-Sandbox-Fault": "latency=300"}
    )
    assert answer.status_code == 200
    assert time.monotonic() - start >= 0.3


@pytest.mark.parametrize(
    ("path", "auth", "shape_key"),
    [
        ("/thrixel/api/v1/usage", THRIXEL_AUTH, "detail"),
        ("/tripo/v2/openapi/user/balance", {"Authorization": "Bearer tsk_sandbox"}, "code"),
        (
            "/pixazo/v2/requests/status/x",
            {"Ocp-Apim-Subscription-Key": "pixazo-sandbox-key"},
            "message",
        ),
        (
            "/voxelai/api/generate/status?jobId=x",
            {"Authorization": "Bearer voxelai-sandbox-token"},
            "error",
        ),
    ],
)
def test_rate_limit_fault_uses_each_services_shape(sb, path, auth, shape_key):
    sep = "&" if "?" in path else "?"
    answer = requests.get(sb.url + path + sep + "sandbox_fault=rate_limit=7", headers=auth)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert shape_key in answer.json()


def test_5xx_burst_then_recovery_per_request(sb):
    headers = {**THRIXEL_AUTH, "X-Sandbox-Fault": "5xx_burst=2"}
    statuses = [
        requests.get(sb.url + "/thrixel/api/v1/validate", headers=headers).status_code
        for _ in range(4)
    ]
    assert statuses == [503, 503, 200, 200]


def test_key_that_always_misbehaves(sb):
    sb.add_key("thrixel", "sk-thrixel-flaky", faults="5xx_burst=1")
    sb.add_key("thrixel", "sk-thrixel-throttled", faults="rate_limit=3")
    flaky = {"Authorization": "Bearer sk-thrixel-flaky"}
    first = requests.get(sb.url + "/thrixel/api/v1/validate", headers=flaky)
    second = requests.get(sb.url + "/thrixel/api/v1/validate", headers=flaky)
    assert (first.status_code, second.status_code) == (503, 200)
    throttled = {"Authorization": "Bearer sk-thrixel-throttled"}
    for _ in range(2):
        answer = requests.get(sb.url + "/thrixel/api/v1/validate", headers=throttled)
        assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"


def test_malformed_json_fault(sb):
    answer = requests.get(
        sb.url + "/thrixel/api/v1/usage",
        headers={**THRIXEL_AUTH, "X-Sandbox-Fault": "malformed_json"},
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        answer.json()


def test_keep_alive_survives_unread_bodies(sb):
    with requests.Session() as session:
        for _ in range(3):
            # 404 routes never read the body; the next request must still parse.
            assert session.post(sb.url + "/nowhere", data=b"x" * 5000).status_code == 404
        assert session.get(sb.url + "/_sandbox/health").status_code == 200


def _run_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sandbox", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_command_line_prints_url_first_and_stops_on_signal(stop_signal):
    process = _run_cli("--port", "0", "--speed", "fast", "--seed", "3", "--key", "tripo:tsk_cli")
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("SANDBOX_URL=http://127.0.0.1:")
        url = first.split("=", 1)[1]
        tripo = {"Authorization": "Bearer tsk_cli"}
        assert (
            requests.get(url + "/tripo/v2/openapi/user/balance", headers=tripo).status_code == 200
        )
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_command_line_rejects_bad_options():
    process = _run_cli("--host", "10.1.2.3")
    _, err = process.communicate(timeout=20)
    assert process.returncode == 2 and "loopback" in err


def test_sandbox_imports_no_client_code():
    forbidden = {"providers", "jobs", "operators", "panels", "importers", "bpy", "conjure"}
    for path in (ROOT / "sandbox").glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    names = [node.module or ""]
                    assert (node.module or "").split(".")[0] not in forbidden, path
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
    # Relative imports may not climb out of the package either.
    for path in (ROOT / "sandbox").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1, f"{path.name} imports from outside sandbox/"


def _sandbox_imports(path: Path, modules: set[str]) -> set[str]:
    """The sandbox modules one file imports, wherever the import stands (functions and
    ``if TYPE_CHECKING:`` blocks included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and not module.startswith("sandbox"):
                continue
            module = module.removeprefix("sandbox").lstrip(".")
            names = [module.split(".")[0]] if module else [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("sandbox.")]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def test_sandbox_imports_point_one_way():
    paths = {path.stem: path for path in (ROOT / "sandbox").glob("*.py")}
    graph = {name: _sandbox_imports(path, set(paths)) for name, path in paths.items()}

    def reaches(start: str, goal: str) -> bool:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            name = todo.pop()
            if name == goal:
                return True
            if name not in seen:
                seen.add(name)
                todo.extend(graph[name])
        return False

    circles = sorted(name for name in graph if reaches(name, name))
    assert circles == [], f"modules on an import circle: {', '.join(circles)}"
    # The server is the one module that knows the services.
    services = {"cdn", "pixazo", "thrixel", "tripo", "voxelai"}
    assert {name for name in graph if graph[name] & services} == {"server"}


def test_sandbox_runs_with_the_standard_library_only():
    code = (
        "import sys, sandbox, sandbox.__main__; "
        "third = {m.split('.')[0] for m in sys.modules} & {'numpy', 'requests', 'urllib3'}; "
        "print(sorted(third))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_real_speed_keeps_jobs_waiting_like_the_services():
    with pytest.raises(ValueError):
        start_sandbox(speed="ludicrous")
    with start_sandbox(speed="real") as sb:
        answer = requests.post(
            sb.url + "/thrixel/api/v1/phase1/submit", json={"task": "x"}, headers=THRIXEL_AUTH
        )
        sid = answer.json()["submission_id"]
        time.sleep(0.3)
        assert requests.get(f"{sb.url}/thrixel/api/v1/{sid}/info").json()["status"] == "queued"
        voxel = {"Authorization": f"Bearer {DEFAULT_KEYS['voxelai']}"}
        images = sb.url + "/voxelai/api/generate/images"
        assert requests.post(images, json={"prompt": "a"}, headers=voxel).status_code == 200
        again = requests.post(images, json={"prompt": "b"}, headers=voxel)
        assert again.status_code == 429 and 10 < int(again.headers["Retry-After"]) <= 15
