"""Thrixel (api.thrixel.com): create a model from a prompt, follow it, download the GLB.

Statuses: ``queued`` → ``processing`` → ``completed`` | ``failed``; ``/info`` carries no progress.
The download endpoint answers 202 while the full GLB is still being prepared.
"""

from __future__ import annotations

from typing import Any

import requests

from . import errors
from .base import Job, Phase, Provider, RemoteStatus, ResultFile, Submitted
from .client import ClientConfig
from .http import HttpClient, parse_retry_after
from .params import Operation, Param, exclusive, one_of

_PHASES = {"queued": Phase.QUEUED, "processing": Phase.RUNNING, "completed": Phase.SUCCEEDED,
           "failed": Phase.FAILED}
OPERATIONS = (
    Operation(
        "thrixel", "create", "Create", "text",
        description="A new editable multi-part model from a prompt and/or reference images",
        params=(
            Param("task", "str", "Prompt", "What to make"),
            Param("image", "image", "Image", "One reference image (data URL or https URL)"),
            Param("images", "image_list", "Images", "Up to 6 reference images", max_items=6),
            Param("model", "str", "Model", "Service model override; empty uses the default",
                  advanced=True),
            Param("project_id", "str", "Project", advanced=True),
            Param("adaptive_thinking", "bool", "Adaptive Thinking",
                  "Deeper reasoning pass: slower, higher quality", default=False, advanced=True),
        ),
        rules=(one_of("task", "image", "images"), exclusive("image", "images")),
    ),
)
#: Submit route per operation.
_ROUTES = {"create": "phase1/submit"}


def _detail(response: requests.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text[:200]
    if isinstance(detail, list):  # a validation list: [{loc: [...], msg: ...}]
        return "; ".join(f"{'.'.join(map(str, d.get('loc', [])[1:]))}: {d.get('msg')}"
                         for d in detail if isinstance(d, dict))
    if isinstance(detail, dict):
        return str(detail.get("message") or detail)
    return str(detail or "")


def map_error(response: requests.Response) -> errors.ServiceError | None:
    status = response.status_code
    detail = _detail(response)
    kwargs: dict[str, Any] = {"provider": "Thrixel", "status": status,
                              "retry_after": parse_retry_after(response.headers.get("Retry-After"))}
    if status == 402:
        if response.headers.get("X-Thrixel-Reason") == "monthly_runs":
            return errors.InsufficientCreditsError(
                "the free plan's monthly runs for this operation are used up", **kwargs)
        return errors.InsufficientCreditsError(f"out of Cubes: {detail}", **kwargs)
    if status == 429:
        return errors.RateLimitedError(f"too many jobs at once: {detail}", **kwargs)
    if status in (401, 403):
        return errors.AuthenticationError(f"key refused ({detail}); check the Thrixel key in "
                                          "Preferences", **kwargs)
    return None


class ThrixelProvider(Provider):
    name = "thrixel"
    max_active = 3

    def __init__(self, config: ClientConfig) -> None:
        self.api = f"{config.base_url}/api/v1"
        key = config.key
        self.http = HttpClient(
            "Thrixel", config.network, guard=config.guard, error_mapper=map_error,
            auth_headers=lambda: {"Authorization": f"Bearer {key}"} if key else {},
        )

    def submit(self, job: Job) -> Submitted:
        route = _ROUTES.get(job.operation)
        if route is None:
            raise errors.InvalidRequestError(f"Thrixel has no operation {job.operation!r}",
                                             field="operation", provider="Thrixel")
        data = self.http.request("POST", f"{self.api}/{route}", creates_job=True,
                                 json=job.params).json()
        remote_id = data.get("submission_id")
        if not remote_id:
            raise errors.UnexpectedResponseError(f"no submission_id in {data}", provider="Thrixel")
        return Submitted(remote_id, self._status(data, remote_id))

    def poll(self, job: Job) -> RemoteStatus:
        data = self.http.request("GET", f"{self.api}/{job.remote_id}/info").json()
        return self._status(data, job.remote_id)

    def _status(self, data: dict[str, Any], remote_id: str | None = None) -> RemoteStatus:
        phase = _PHASES.get(str(data.get("status")))
        if phase is None:
            raise errors.UnexpectedResponseError(f"unknown status {data.get('status')!r}",
                                                 provider="Thrixel")
        status = RemoteStatus(phase, message=data.get("status_note") or "")
        if phase == Phase.FAILED:
            status.error_code = data.get("error_code") or "failed"
            status.message = data.get("error_message") or "Thrixel reported a failure"
        elif phase == Phase.SUCCEEDED and remote_id:
            url = f"{self.api}/{remote_id}/download"
            status.results = [ResultFile(
                f"{remote_id}.glb",
                lambda: self.http.stream(url, params={"format": "glb"}, authenticated=True,
                                         not_ready=(202,)),
                frozenset({"glb"}),
            )]
        return status


def make(config: ClientConfig) -> ThrixelProvider:
    return ThrixelProvider(config)
