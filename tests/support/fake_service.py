"""A minimal generation service on loopback, and a client for it, to test the job engine.

The service creates a job per submit, answers polls with queued → running → done, and streams a
deterministic GLB-looking result. It counts submissions per client job (to prove nothing is sent
twice) and can hold a request at a chosen point (mid-submit after creating the job, mid-poll,
mid-body of a download) so a test can kill the client there.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conjure.jobs.model import Job
from conjure.providers.base import Client, Phase, RemoteStatus, ResultFile, Submitted
from conjure.providers.http import HttpClient, NetworkSettings, wait_or_stop

BLOCK = 64 * 1024


def result_bytes(remote_id: str, name: str, size: int):
    """The deterministic body of one result file, in blocks."""
    seed = hashlib.sha256(f"{remote_id}/{name}".encode()).digest()
    block = (seed * (BLOCK // len(seed) + 1))[:BLOCK]
    sent = 0
    first = True
    while sent < size:
        piece = block[: min(BLOCK, size - sent)]
        if first:
            piece = (b"glTF" + piece[4:])[: len(piece)]
            first = False
        sent += len(piece)
        yield piece


def result_digest(remote_id: str, name: str, size: int) -> str:
    digest = hashlib.sha256()
    for piece in result_bytes(remote_id, name, size):
        digest.update(piece)
    return digest.hexdigest()


class FakeService:
    def __init__(self, *, size: int = 256 * 1024, files: tuple[str, ...] = ("model.glb",),
                 polls_to_finish: int = 3, key: str = "fake-key") -> None:
        self.size = size
        self.files = files
        self.polls_to_finish = polls_to_finish
        self.key = key
        self.lock = threading.Lock()
        self.submissions: Counter[str] = Counter()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.hold: str | None = None
        self.reached = threading.Event()
        self._release = threading.Event()
        self.authorizations: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                service.handle(self, "POST")

            def do_GET(self) -> None:
                service.handle(self, "GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeService:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def release(self) -> None:
        """Let requests held at ``hold`` go on, and hold no more."""
        self.hold = None
        self._release.set()

    def _block_here(self) -> None:
        self.reached.set()
        self._release.wait()

    def _json(self, handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = handler.path
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length) or b"{}") if length else {}
        auth = handler.headers.get("Authorization", "")
        self.authorizations.append(auth)
        if method == "POST" and path == "/jobs":
            if auth != f"Bearer {self.key}":
                return self._json(handler, 401, {"detail": "invalid key"})
            with self.lock:
                self.submissions[body["client_job"]] += 1
                remote_id = f"r{len(self.jobs) + 1:04d}"
                self.jobs[remote_id] = {"client_job": body["client_job"], "polls": 0,
                                        "cancelled": False}
            if self.hold == "submit":
                self._block_here()
            return self._json(handler, 201, {"id": remote_id})
        if m := re.fullmatch(r"/jobs/(\w+)", path):
            job = self.jobs.get(m[1])
            if job is None:
                return self._json(handler, 404, {"detail": "no such job"})
            with self.lock:
                job["polls"] += 1
                polls = job["polls"]
            if self.hold == "poll":
                self._block_here()
            if job["cancelled"]:
                return self._json(handler, 200, {"status": "cancelled"})
            if polls < self.polls_to_finish:
                status = "queued" if polls == 1 else "running"
                return self._json(handler, 200, {"status": status,
                                                 "progress": polls / self.polls_to_finish})
            files = [{"name": n, "url": f"{self.url}/files/{m[1]}/{n}"} for n in self.files]
            return self._json(handler, 200, {"status": "done", "files": files})
        if m := re.fullmatch(r"/jobs/(\w+)/cancel", path):
            job = self.jobs[m[1]]
            if job["polls"] >= 2:
                return self._json(handler, 409, {"detail": "already running"})
            job["cancelled"] = True
            return self._json(handler, 200, {"cancelled": True})
        if m := re.fullmatch(r"/files/(\w+)/([\w.]+)", path):
            handler.send_response(200)
            handler.send_header("Content-Type", "model/gltf-binary")
            handler.send_header("Content-Length", str(self.size))
            handler.end_headers()
            sent = 0
            for piece in result_bytes(m[1], m[2], self.size):
                handler.wfile.write(piece)
                sent += len(piece)
                if self.hold == "download" and sent >= self.size // 2:
                    handler.wfile.flush()
                    self._block_here()
            return None
        return self._json(handler, 404, {"detail": f"no route {path}"})


class FakeClient(Client):
    """A client of ``FakeService`` built the way real clients are: on ``HttpClient``."""

    name = "fake"

    def __init__(self, url: str, key: str = "fake-key", max_active: int = 3,
                 settings: NetworkSettings | None = None,
                 sleep: Callable[[float], None] = wait_or_stop) -> None:
        self.url = url
        self.max_active = max_active
        self.http = HttpClient("fake", settings or NetworkSettings(backoff_base=0.01),
                               auth_headers=lambda: {"Authorization": f"Bearer {key}"},
                               sleep=sleep)

    def submit(self, job: Job) -> Submitted:
        response = self.http.request("POST", f"{self.url}/jobs", creates_job=True,
                                     json={"client_job": job.id, **job.params})
        return Submitted(response.json()["id"])

    def poll(self, job: Job) -> RemoteStatus:
        data = self.http.request("GET", f"{self.url}/jobs/{job.remote_id}").json()
        if data["status"] == "done":
            files = [ResultFile(f["name"], lambda u=f["url"]: self.http.stream(u, chunk_size=BLOCK),
                                frozenset({"glb"})) for f in data["files"]]
            return RemoteStatus(Phase.SUCCEEDED, results=files)
        phase = {"queued": Phase.QUEUED, "running": Phase.RUNNING,
                 "cancelled": Phase.CANCELLED}[data["status"]]
        return RemoteStatus(phase, progress=data.get("progress"), poll_after=0.01)

    def cancel(self, job: Job) -> bool:
        self.http.request("POST", f"{self.url}/jobs/{job.remote_id}/cancel", idempotent=True)
        return True
