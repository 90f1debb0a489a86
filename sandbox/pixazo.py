"""Pixazo's Pixal3D (https://gateway.pixazo.ai) under ``/pixazo``: 202 submit with
``polling_url``, the universal status route, R2-style public result URLs, optional webhooks."""

from __future__ import annotations

import ipaddress
import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from .faults import DOWNLOAD_FAULTS, JOB_FAULTS, FaultSet
from .http import Request, Response, json_response
from .service import Host, Service, authenticated, with_form
from .state import Account, Timeline, iso_z
from .validate import Checker, decode_data_url, image_kind

MODEL_ID = "pixal3d"
# Price per request in US dollars, by texture size (the seed's price table).
PRICES = {1024: 0.30, 2048: 0.42, 4096: 0.42}

FLOAT_FIELDS = (
    "ss_guidance_strength",
    "ss_guidance_rescale",
    "ss_rescale_t",
    "shape_slat_guidance_strength",
    "shape_slat_guidance_rescale",
    "shape_slat_rescale_t",
    "tex_slat_guidance_strength",
    "tex_slat_guidance_rescale",
    "tex_slat_rescale_t",
)
STEP_FIELDS = ("ss_sampling_steps", "shape_slat_sampling_steps", "tex_slat_sampling_steps")


def _plain_time(wall: float) -> str:
    """The second timestamp style the service uses: '2026-05-22 13:19:23'."""
    return datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _public_host(host: str) -> bool:
    if not host or host == "localhost" or host.endswith((".local", ".internal", ".localhost")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return address.is_global


def _gateway_refusal(status: int, message: str) -> Response:
    """The API gateway's own answer to a missing, unknown or unentitled key."""
    return json_response(status, {"statusCode": status, "message": message})


def _bad_request(message: str) -> Response:
    return json_response(400, {"error": "Bad Request", "message": message})


@dataclass
class PixazoRequest:
    request_id: str
    key: str
    timeline: Timeline
    created_wall: float
    price: float
    faults: FaultSet
    seed_text: str
    settled: bool = False

    def status(self, now: float) -> str:
        stage = self.timeline.stage(now)
        if stage == "queued":
            return "QUEUED"
        if stage == "running":
            return "PROCESSING"
        if "fail" in self.faults:
            return "ERROR" if self.faults.value("fail", "FAILED").upper() == "ERROR" else "FAILED"
        return "COMPLETED"


def _output_path(job: PixazoRequest) -> str:
    return f"/pixazo/v1/{job.request_id}/output.glb"


class PixazoService(Service):
    name = "pixazo"

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.requests: dict[str, PixazoRequest] = {}
        self.router.add("POST", "/pixal3d/v1/pixal3d-request", self._submit)
        self.router.add("POST", "/{api_id}/v1/{operation}", self._unknown_model)
        self.router.add("GET", "/v2/requests/status/{request_id}", self._status)

    def credential(self, req: Request) -> str | None:
        return req.header("Ocp-Apim-Subscription-Key") or req.query.get("subscription-key")

    # -- error shapes (the API gateway's own for auth and throttling) ----------------------
    def rate_limited(self, retry_after: int) -> Response:
        return json_response(
            429,
            {
                "statusCode": 429,
                "message": f"Rate limit is exceeded. Try again in {retry_after} seconds.",
            },
            [("Retry-After", str(retry_after))],
        )

    def server_error(self, status: int) -> Response:
        return json_response(
            status,
            {
                "error": "Internal Server Error",
                "message": "The service is temporarily unavailable.",
            },
        )

    def not_found(self) -> Response:
        return json_response(404, {"statusCode": 404, "message": "Resource not found"})

    def authenticate(self, req: Request) -> Account | Response:
        key = self.credential(req)
        if not key:
            return _gateway_refusal(
                401,
                "Access denied due to missing subscription key. Make sure to include "
                "subscription key when making requests to an API.",
            )
        account = self.state.account(self.name, key)
        if account is None:
            return _gateway_refusal(
                401,
                "Access denied due to invalid subscription key. Make sure to provide a "
                "valid key for an active subscription.",
            )
        if account.forbidden:
            return _gateway_refusal(
                403, "Access denied: this subscription does not include the requested API."
            )
        return account

    def unreadable_body(self, req: Request) -> Response:
        return _bad_request("Request body must be valid JSON.")

    def invalid(self, req: Request, checker: Checker) -> Response:
        return _bad_request("; ".join(p.text() for p in checker.problems))

    # -- routes ----------------------------------------------------------------------------
    @authenticated
    def _unknown_model(self, req: Request, account: Account) -> Response:
        api_id = req.params["api_id"]
        return json_response(
            400,
            {"error": "Model not found", "message": f"Model '{api_id}' not found or is disabled"},
        )

    @with_form
    def _submit(self, req: Request, account: Account, checker: Checker) -> Response:
        image_url, texture_size = self._check_fields(checker)
        webhook = self._check_webhook(req, checker)
        if not checker.ok:
            return self.invalid(req, checker)
        job = self._charge(account, PRICES[texture_size or 2048], req.faults, image_url or "")
        if isinstance(job, Response):
            return job
        self.host.cdn.publish(
            _output_path(job),
            lambda: self.host.models.choose(job.seed_text),
            "model/gltf-binary",
            job.faults.subset(DOWNLOAD_FAULTS),
        )
        if webhook is not None:
            threading.Thread(target=self._deliver, args=(job, *webhook), daemon=True).start()
        polling_url = f"{self.host.url}/pixazo/v2/requests/status/{job.request_id}"
        return json_response(
            202, {"request_id": job.request_id, "status": "QUEUED", "polling_url": polling_url}
        )

    def _check_fields(self, checker: Checker) -> tuple[str | None, int | None]:
        """The body's fields; returns the image URL and the texture size."""
        image_url = checker.string("image_url", required=True, min_len=1)
        checker.integer("seed")
        checker.integer("resolution", choices=(1024, 1536))
        for name in FLOAT_FIELDS:
            checker.number(name)
        for name in STEP_FIELDS:
            checker.integer(name, low=1, high=1000)
        mesh_scale = checker.number("mesh_scale")
        if mesh_scale is not None and mesh_scale <= 0:
            checker.fail("mesh_scale", "must be greater than 0")
        checker.integer("max_num_tokens", low=1, high=10**7)
        checker.integer("decimation_target", low=1, high=10**8)
        texture_size = checker.integer("texture_size", choices=(1024, 2048, 4096))
        checker.boolean("remesh")
        if image_url is not None:
            problem = self._check_image_url(image_url)
            if problem:
                checker.fail("image_url", problem)
        return image_url, texture_size

    def _check_webhook(self, req: Request, checker: Checker) -> tuple[str, str] | None:
        """The webhook headers; returns (URL, mode) when the caller asked for a webhook."""
        webhook = req.header("X-Webhook-URL")
        if webhook is None:
            return None
        mode = (req.header("X-Webhook-Mode") or "terminal").lower()
        allowed = ("https://", "http://") if self.host.webhooks_allow_http else ("https://",)
        if not webhook.startswith(allowed):
            checker.fail("X-Webhook-URL", "must be an https URL")
        if mode not in ("terminal", "sync"):
            checker.fail("X-Webhook-Mode", "must be terminal or sync")
        return webhook, mode

    def _charge(
        self, account: Account, price: float, faults: FaultSet, image_url: str
    ) -> PixazoRequest | Response:
        """Take the price from the wallet and queue the request, or refuse for the balance."""
        now = self.state.now()
        with self.state.lock:
            if account.balance + 1e-9 < price:
                return json_response(
                    402,
                    {
                        "error": "Insufficient Balance",
                        "message": "Your wallet does not have enough balance.",
                    },
                )
            account.balance -= price
            job_faults = faults.subset(JOB_FAULTS)
            job = PixazoRequest(
                f"{MODEL_ID}_{self.state.uuid7()}",
                account.key,
                self.state.timeline("pixazo", job_faults),
                self.state.wall(now),
                price,
                job_faults,
                image_url,
            )
            self.requests[job.request_id] = job
        return job

    def _check_image_url(self, url: str) -> str | None:
        if url.startswith("data:"):
            if not self.host.pixazo_allow_data_uri:
                return "must be a publicly accessible URL (data URIs are not accepted)"
            data = decode_data_url(url)
            if data is None or image_kind(data) is None:
                return "data URI does not hold a PNG, JPEG, WebP or GIF image"
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "must be an http(s) URL"
        if not _public_host(parts.hostname):
            return "must be publicly accessible"
        return None

    def _view(self, job: PixazoRequest, now: float) -> dict[str, Any]:
        status = job.status(now)
        terminal = status in ("COMPLETED", "FAILED", "ERROR")
        if terminal and not job.settled:
            with self.state.lock:
                if not job.settled:
                    job.settled = True
                    # System errors are not charged.
                    account = self.state.account(self.name, job.key)
                    if status == "ERROR" and account is not None:
                        account.balance += job.price
        if status == "QUEUED":
            updated = job.created_wall
        elif status == "PROCESSING":
            updated = self.state.wall(job.timeline.run_start)
        else:
            updated = self.state.wall(job.timeline.end)
        view: dict[str, Any] = {
            "request_id": job.request_id,
            "status": status,
            "model_id": MODEL_ID,
            "error": None,
            "output": None,
            "created_at": iso_z(job.created_wall, millis=True),
            "updated_at": _plain_time(updated),
            "completed_at": _plain_time(updated) if terminal else None,
        }
        if status == "COMPLETED":
            url = self.host.cdn.url(_output_path(job))
            view["output"] = {"media_url": [url], "media_type": "model/glb"}
        elif status == "FAILED":
            view["error"] = "Generation failed: the model could not reconstruct the image."
        elif status == "ERROR":
            view["error"] = "Internal error while processing the request."
        return view

    @authenticated
    def _status(self, req: Request, account: Account) -> Response:
        with self.state.lock:
            job = self.requests.get(req.params["request_id"])
        if job is None or job.key != account.key:
            return json_response(404, {"error": "Not Found", "message": "Request not found"})
        return json_response(200, self._view(job, self.state.now()))

    def _deliver(self, job: PixazoRequest, url: str, mode: str) -> None:
        """POST the status payload to the webhook: each change in sync mode, the terminal one
        in both; the terminal callback is sent twice, as network retries can do."""
        last = None
        deadline = job.timeline.end + 30.0
        while self.state.now() < deadline:
            now = self.state.now()
            status = job.status(now)
            if status != last:
                terminal = status in ("COMPLETED", "FAILED", "ERROR")
                if mode == "sync" or terminal:
                    for _ in range(2 if terminal else 1):
                        self._post(url, self._view(job, now))
                if terminal:
                    return
                last = status
            time.sleep(self.state.speed.sse_tick)

    @staticmethod
    def _post(url: str, payload: dict[str, Any]) -> None:
        request = urllib.request.Request(
            url, json.dumps(payload).encode(), {"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                answer.read()
        except OSError:
            pass  # a failing receiver does not stop the job
