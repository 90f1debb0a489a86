"""The Voxel-AI client. Both operations are jobs polled at ``/api/generate/status``:
``queued`` | ``running`` | ``completed`` | ``failed``, with RunPod's timings (no percentage).
Results arrive inline as base64 in the status answer, so the result files are decoded from it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Mapping
from typing import Any

from .. import errors
from ..base import Client, ClientConfig, Funds, Job, Phase, RemoteStatus, ResultFile, Submitted
from ..http import Body, HttpClient, bearer
from ..prices import Charge
from ..sources import image_payload
from .errors import error_body, map_error
from .operations import IMAGES_INTERVAL_S, OPERATIONS, SERVICE, UNIT, VOXELIZE_TOKENS

_PICTURE_KINDS = frozenset({"png", "jpg", "webp"})

# Per-user state that outlives a client rebuilt after a settings change, keyed by a digest of
# the token (never the token itself): when the last candidate request went out, and the last
# token balance the service reported.
_state_lock = threading.Lock()
_last_images: dict[str, float] = {}
_balances: dict[str, int] = {}


def _account(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class VoxelAiClient(Client):
    name = "voxelai"
    label = SERVICE
    operations = OPERATIONS
    max_active = 3

    def __init__(self, config: ClientConfig, *,
                 images_interval_s: float = IMAGES_INTERVAL_S) -> None:
        self.base = f"{config.base_url}/api/generate"
        self.images_interval_s = images_interval_s
        self._account = _account(config.key)
        self.http = HttpClient(SERVICE, config.network, guard=config.guard,
                               error_mapper=map_error, auth_headers=bearer(config.key))

    # -- submit ----------------------------------------------------------------------------
    def submit(self, job: Job) -> Submitted:
        op, params = self.validated(job)
        if op.name == "candidates":
            self._reserve_images_slot()
            body: dict[str, Any] = {"prompt": params["prompt"]}
            if "seed" in params:
                body["seed"] = params["seed"]
            try:
                # Free, but each request uses the user's 15 s allowance: never sent twice.
                data = self.http.request("POST", f"{self.base}/images", creates_job=True,
                                         json=body).json()
            except errors.RateLimitedError:
                self._note_images_request()  # the service's clock restarted too
                raise
            return Submitted(self._job_id(data), RemoteStatus(
                Phase.QUEUED, message="Candidate pictures queued at Voxel-AI"))
        body = {"image_base64": image_payload(params["image"], max_bytes=None,
                                              allow_links=False, service=SERVICE,
                                              field="image")}
        body.update({k: v for k, v in params.items() if k != "image"})
        data = self.http.request("POST", f"{self.base}/voxelize", creates_job=True,
                                 json=body).json()
        job_id = self._job_id(data)
        left = self._note_balance(data)
        message = "Voxelizing queued" + (f" ({left} tokens left)" if left is not None else "")
        # The token is deducted as the job is sent; a failure gives it back.
        return Submitted(job_id, RemoteStatus(Phase.QUEUED, message=message,
                                              charge=_charge(data)))

    def _reserve_images_slot(self) -> None:
        """Claim this user's candidate-request slot, or say how long until it is free; the
        engine shows that wait and sends the job then."""
        with _state_lock:
            now = time.monotonic()
            last = _last_images.get(self._account)
            if last is not None and now - last < self.images_interval_s:
                wait = self.images_interval_s - (now - last)
                raise errors.RateLimitedError(
                    f"Voxel-AI allows one candidate request per {self.images_interval_s:g} s; "
                    f"sending in {wait:.0f} s", service=SERVICE, retry_after=wait)
            _last_images[self._account] = now

    def _note_images_request(self) -> None:
        with _state_lock:
            _last_images[self._account] = time.monotonic()

    def _note_balance(self, data: Mapping[str, Any]) -> int | None:
        balance = data.get("balance")
        if isinstance(balance, int | float) and not isinstance(balance, bool):
            with _state_lock:
                _balances[self._account] = int(balance)
            return int(balance)
        return None

    @staticmethod
    def _job_id(data: Any) -> str:
        job_id = data.get("jobId") if isinstance(data, dict) else None
        if not job_id or not isinstance(job_id, str):
            raise errors.UnexpectedResponseError(f"Voxel-AI's answer has no jobId: "
                                                 f"{errors.said(data, 200)}", service=SERVICE,
                                                 status=200)
        return job_id

    # -- status ----------------------------------------------------------------------------
    def poll(self, job: Job) -> RemoteStatus:
        response = self.http.request("GET", f"{self.base}/status",
                                     params={"jobId": job.remote_id}, ok=(502,))
        if response.status_code == 502:
            body = error_body(response)
            if body.get("transient") is not True:
                raise self.http.map_error(response)
            # Documented: a hiccup while checking, the job itself is still running.
            return RemoteStatus(Phase.RUNNING, message="Voxel-AI had a hiccup checking the "
                                "job; it is still running")
        data = response.json()
        if not isinstance(data, dict):
            raise errors.UnexpectedResponseError(f"unreadable status: {errors.said(data, 200)}",
                                                 service=SERVICE)
        return self.status(data, job.operation)

    def status(self, data: Mapping[str, Any], operation: str) -> RemoteStatus:
        """The engine's view of a status answer (results decoded from it when completed)."""
        state = data.get("state")
        waited = _seconds(data.get("delayTime"))
        ran = _seconds(data.get("executionTime"))
        if state == "queued":
            return RemoteStatus(Phase.QUEUED, message="Waiting for a GPU worker" + (
                f" ({waited:.0f} s; a cold start can take a few minutes)" if waited else ""))
        if state == "running":
            return RemoteStatus(Phase.RUNNING, message="Running on a GPU worker" + (
                f" for {ran:.0f} s" if ran is not None else ""))
        if state == "failed":
            self._note_balance(data)
            voxelize = operation == "voxelize"
            refund = " The token was refunded." if voxelize else ""
            return RemoteStatus(Phase.FAILED, error_code="service_failed", message=(
                f"Voxel-AI could not finish: {errors.said(data.get('error') or 'no reason given')}."
                f"{refund}"), charge=Charge(0.0, UNIT, refunded=voxelize))
        if state != "completed":
            raise errors.UnexpectedResponseError(f"unknown state {state!r}", service=SERVICE)
        status = self._completed(data, operation)
        if waited is not None and ran is not None:
            status.took_s = waited + ran  # RunPod's own timings of the whole job
        return status

    def _completed(self, data: Mapping[str, Any], operation: str) -> RemoteStatus:
        output = data.get("output")
        if not isinstance(output, dict):
            raise errors.UnexpectedResponseError("a completed job without output",
                                                 service=SERVICE)
        if operation == "candidates":
            images = output.get("images")
            if not isinstance(images, list) or not images:
                raise errors.UnexpectedResponseError("no candidate pictures in the output",
                                                     service=SERVICE)
            results = [_inline(f"candidate_{int(item.get('index', i)) + 1}.png",
                               item.get("image_base64"), _PICTURE_KINDS)
                       for i, item in enumerate(images) if isinstance(item, dict)]
            seed = output.get("seed")
            return RemoteStatus(Phase.SUCCEEDED, progress=1.0, results=results, message=(
                f"{len(results)} candidates" + (f" (seed {seed})" if seed is not None else "")),
                charge=Charge(0.0, UNIT))
        self._note_balance(data)
        name = str(output.get("filename") or "voxel.vox")
        return RemoteStatus(Phase.SUCCEEDED, progress=1.0, message="Voxel model ready",
                            results=[_inline(name, output.get("vox_base64"),
                                             frozenset({"vox"}))], charge=_charge(data))

    # -- account ---------------------------------------------------------------------------
    def funds(self) -> Funds | None:
        """The last token balance Voxel-AI reported (it has no balance route)."""
        with _state_lock:
            left = _balances.get(self._account)
        if left is None:
            return None
        return Funds(f"{left} token" + ("" if left == 1 else "s"), float(left), UNIT)

    def check_key(self) -> str:
        # The status route without a jobId is free and checks the token first: 400 (missing
        # jobId) means the token was accepted, 401 that it was not.
        self.http.request("GET", f"{self.base}/status", ok=(400,))
        return "Voxel-AI token accepted"


def _charge(data: Mapping[str, Any]) -> Charge | None:
    """A voxelize answer's ``charged``: true when the token was taken (the documented price,
    since no amount is given), false when it was not or was given back."""
    charged = data.get("charged")
    if not isinstance(charged, bool):
        return None
    return Charge(float(VOXELIZE_TOKENS) if charged else 0.0, UNIT)


def _seconds(ms: Any) -> float | None:
    if isinstance(ms, int | float) and not isinstance(ms, bool) and ms >= 0:
        return ms / 1000
    return None


def _inline(name: str, text: Any, kinds: frozenset[str]) -> ResultFile:
    """A result file whose bytes are base64 text in the status answer."""
    if not isinstance(text, str) or not text:
        raise errors.UnexpectedResponseError(f"{name}: no file data in the output",
                                             service=SERVICE)

    def open_() -> Body:
        payload = text.split(",", 1)[1] if text[:5].lower() == "data:" else text
        payload = "".join(payload.split())  # line-wrapped base64 is still base64
        try:
            return Body.of(base64.b64decode(payload, validate=True))
        except (binascii.Error, ValueError):
            raise errors.UnexpectedResponseError(f"{name}: the base64 data is damaged",
                                                 service=SERVICE) from None

    return ResultFile(name, open_, kinds)


def make(config: ClientConfig) -> VoxelAiClient:
    return VoxelAiClient(config)
