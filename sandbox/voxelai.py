"""Voxel-AI (https://voxelai.studio) under ``/voxelai``: candidate images, voxelize with token
accounting, and the status route with RunPod-style timings and base64 results."""

from __future__ import annotations

import base64
import math
import threading
from dataclasses import dataclass, field
from typing import Any

from .faults import JOB_FAULTS, FaultSet
from .http import Request, Response, json_response
from .images import candidate_image
from .png import PngError, decode_png
from .service import Host, Service, authenticated, with_form
from .state import Account, Timeline
from .validate import Checker, decode_data_url, image_kind
from .vox import VoxelizeError, voxelize

PROMPT_LIMIT = 500
IMAGE_LIMIT = 20 * 1024 * 1024


@dataclass
class VoxelJob:
    job_id: str
    key: str
    kind: str  # "images" or "voxelize"
    timeline: Timeline
    faults: FaultSet
    params: dict[str, Any]
    charged: bool = False
    refunded: bool = False
    number: int = 0
    result: dict[str, Any] | None = None
    error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)


class VoxelAiService(Service):
    name = "voxelai"

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.jobs: dict[str, VoxelJob] = {}
        self._vox_count = 0
        self.router.add("POST", "/api/generate/images", self._images)
        self.router.add("POST", "/api/generate/voxelize", self._voxelize)
        self.router.add("GET", "/api/generate/status", self._status)

    # -- error shapes ----------------------------------------------------------------------
    @staticmethod
    def _error(status: int, message: str, **extra: Any) -> Response:
        return json_response(status, {"error": message, **extra})

    def rate_limited(self, retry_after: int) -> Response:
        return json_response(
            429,
            {"error": "Too many requests. Please wait before trying again."},
            [("Retry-After", str(retry_after))],
        )

    def server_error(self, status: int) -> Response:
        return self._error(status, "Internal server error")

    def not_found(self) -> Response:
        return self._error(404, "Not found")

    def authenticate(self, req: Request) -> Account | Response:
        account = self.account_for(req)
        if account is None:
            return self._error(
                401, "Unauthorized: missing, expired, or invalid authentication token"
            )
        return account

    def unreadable_body(self, req: Request) -> Response:
        return self._error(400, "Invalid request body")

    def invalid(self, req: Request, checker: Checker) -> Response:
        return self._error(400, "; ".join(p.text() for p in checker.problems))

    # -- routes ----------------------------------------------------------------------------
    @with_form
    def _images(self, req: Request, account: Account, checker: Checker) -> Response:
        prompt = checker.string("prompt", required=True, min_len=1, max_len=PROMPT_LIMIT)
        if prompt is not None and not prompt.strip():
            checker.fail("prompt", "must not be empty")
        seed = checker.integer("seed")
        if not checker.ok:
            return self.invalid(req, checker)
        now = self.state.now()
        interval = self.state.speed.voxelai_image_interval
        with self.state.lock:
            last = account.last_images_request
            if last is not None and now - last < interval:
                wait = math.ceil(interval - (now - last))
                return json_response(
                    429,
                    {"error": f"Rate limit exceeded: one image request per {interval:g} seconds."},
                    [("Retry-After", str(wait))],
                )
            account.last_images_request = now
            job = self._new_job(
                account,
                "images",
                req.faults,
                {
                    "prompt": prompt,
                    "seed": seed if seed is not None else self.state.random_int(0, 2**31 - 1),
                },
            )
        return json_response(200, {"jobId": job.job_id})

    @with_form
    def _voxelize(self, req: Request, account: Account, checker: Checker) -> Response:
        image_text = checker.string("image_base64", required=True, min_len=1)
        voxel_size = checker.integer("voxel_size", low=8, high=128)
        texturing = checker.string("texturing", choices=("textured", "gray"))
        fill = checker.boolean("fill")
        color = checker.string("color", choices=("surface", "vertex"))
        palette_size = checker.integer("palette_size", low=2, high=256)
        image = None
        if image_text is not None:
            image = decode_data_url(image_text)
            if image is None or image_kind(image) is None:
                checker.fail("image_base64", "must be a base64-encoded image")
            elif len(image) > IMAGE_LIMIT:
                checker.fail("image_base64", "image is too large")
        if not checker.ok:
            return self.invalid(req, checker)
        if account.forbidden:
            return self._error(403, "No token balance found for this account", code="NO_BALANCE")
        with self.state.lock:
            if account.balance < 1:
                return self._error(402, "Insufficient tokens", code="INSUFFICIENT_TOKENS")
            account.balance -= 1
            self._vox_count += 1
            job = self._new_job(
                account,
                "voxelize",
                req.faults,
                {
                    "image": image,
                    "voxel_size": voxel_size or 32,
                    "texturing": texturing or "textured",
                    "fill": bool(fill),
                    "color": color or "surface",
                    "palette_size": palette_size or 32,
                },
            )
            job.charged = True
            job.number = self._vox_count - 1
            balance = account.balance
        return json_response(200, {"jobId": job.job_id, "balance": int(balance), "charged": True})

    def _new_job(
        self, account: Account, kind: str, faults: FaultSet, params: dict[str, Any]
    ) -> VoxelJob:
        job_faults = faults.subset((*JOB_FAULTS, "transient"))
        job = VoxelJob(
            self.state.uuid(),
            account.key,
            kind,
            self.state.timeline(f"voxelai-{kind}", job_faults),
            job_faults,
            params,
        )
        self.jobs[job.job_id] = job
        return job

    @authenticated
    def _status(self, req: Request, account: Account) -> Response:
        job_id = req.query.get("jobId", "")
        if not job_id:
            return self._error(400, "Missing jobId")
        with self.state.lock:
            job = self.jobs.get(job_id)
        if job is None:
            return self._error(404, "Job not found")
        if job.key != account.key:
            return self._error(403, "Forbidden: this job belongs to another account")
        transient = job.faults if "transient" in job.faults else req.faults
        if "transient" in transient:
            burst = int(transient.number("transient", 1))
            if self.state.count(f"voxelai|transient|{job.job_id}|{transient.text}") <= burst:
                return self._error(502, "Upstream status check failed", transient=True)
        return json_response(200, self._view(job, account))

    # -- job life --------------------------------------------------------------------------
    def _finish(self, job: VoxelJob) -> None:
        """Build the result once; a job that cannot be built fails (and is refunded)."""
        with job._lock:
            if job.result is not None or job.error is not None:
                return
            if "fail" in job.faults:
                job.error = job.faults.value(
                    "fail", "The GPU worker failed while processing the job."
                )
                return
            if job.kind == "images":
                prompt, seed = job.params["prompt"], job.params["seed"]
                job.result = {
                    "seed": seed,
                    "images": [
                        {
                            "index": i,
                            "image_base64": base64.b64encode(
                                candidate_image(prompt, seed, i)
                            ).decode("ascii"),
                        }
                        for i in range(3)
                    ],
                }
                return
            try:
                picture = decode_png(job.params["image"])
                vox = voxelize(
                    picture,
                    voxel_size=job.params["voxel_size"],
                    texturing=job.params["texturing"],
                    fill=job.params["fill"],
                    color=job.params["color"],
                    palette_size=job.params["palette_size"],
                )
            except PngError as exc:
                job.error = f"Could not read the image: {exc}"
                return
            except VoxelizeError as exc:
                job.error = f"Could not voxelize the image: {exc}"
                return
            job.result = {
                "filename": f"voxel_{job.number:05d}.vox",
                "vox_base64": base64.b64encode(vox).decode("ascii"),
            }

    def _view(self, job: VoxelJob, account: Account) -> dict[str, Any]:
        now = self.state.now()
        stage = job.timeline.stage(now)
        queued_ms = int(job.timeline.queued * 1000)
        if stage == "queued":
            return {
                "state": "queued",
                "delayTime": int((now - job.timeline.start) * 1000),
                "executionTime": 0,
            }
        if stage == "running":
            return {
                "state": "running",
                "delayTime": queued_ms,
                "executionTime": int((now - job.timeline.run_start) * 1000),
            }
        self._finish(job)
        execution_ms = int(job.timeline.running * 1000)
        if job.error is not None:
            view: dict[str, Any] = {"state": "failed", "error": job.error}
            if job.charged:
                with self.state.lock:
                    # The token comes back exactly once, however often the status is read.
                    if not job.refunded:
                        job.refunded = True
                        account.balance += 1
                view["balance"] = int(account.balance)
                view["charged"] = False
            return view
        view = {
            "state": "completed",
            "delayTime": queued_ms,
            "executionTime": execution_ms,
            "output": job.result,
        }
        if job.kind == "voxelize":
            view["balance"] = int(account.balance)
            view["charged"] = True
        return view
