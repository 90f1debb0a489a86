"""The Pixazo client: submit ``POST /pixal3d/v1/pixal3d-request`` → 202 ``{request_id, status,
polling_url}``; poll ``GET /v2/requests/status/{request_id}``: ``QUEUED`` → ``PROCESSING`` →
``COMPLETED`` | ``FAILED`` | ``ERROR`` (a system error, not charged), no progress figure; the
result is a public URL in ``output.media_url``.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from .. import errors, imagefiles
from ..base import Client, ClientConfig, Job, Phase, RemoteStatus, ResultFile, Submitted
from ..http import HttpClient, body_excerpt
from ..prices import Charge
from ..times import parse_time, took
from .errors import DASHBOARD, map_error
from .operations import BY_NAME, LOCAL_ONLY, OPERATIONS, SERVICE, UNIT, public_https_problem

#: The docs ask for a poll every 5–10 s.
POLL_EVERY = (5.0, 10.0)

_PHASES = {
    "QUEUED": Phase.QUEUED, "PENDING": Phase.QUEUED, "IN_QUEUE": Phase.QUEUED,
    "PROCESSING": Phase.RUNNING, "RUNNING": Phase.RUNNING, "IN_PROGRESS": Phase.RUNNING,
    # Pixazo's own sample app accepts these spellings from its older models too.
    "COMPLETED": Phase.SUCCEEDED, "SUCCEEDED": Phase.SUCCEEDED, "SUCCESS": Phase.SUCCEEDED,
    "DONE": Phase.SUCCEEDED, "FAILED": Phase.FAILED, "ERROR": Phase.FAILED,
}


class Pixal3dClient(Client):
    name = "pixal3d"
    label = SERVICE
    operations = OPERATIONS
    #: Pixazo publishes no concurrency limit; a modest number at once.
    max_active = 3
    poll_every = POLL_EVERY

    def __init__(self, config: ClientConfig) -> None:
        self.base = config.base_url.rstrip("/")
        key = config.key

        def auth() -> dict[str, str]:
            return {"Ocp-Apim-Subscription-Key": key} if key else {}

        self.http = HttpClient(SERVICE, config.network, guard=config.guard,
                               error_mapper=map_error, auth_headers=auth)
        # Results are public R2 URLs: fetched without the key.
        self.files = HttpClient(SERVICE, config.network, guard=config.guard)

    def request_body(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self.operation(operation)  # refuses one this client does not offer
        body = {k: v for k, v in params.items() if v is not None and k not in LOCAL_ONLY}
        image = body["image_url"]
        if imagefiles.is_url(image):
            problem = public_https_problem(image)
            if problem:
                raise errors.InvalidRequestError(f"image_url {problem}", field="image_url",
                                                 service=SERVICE)
        elif params.get("send_local_image"):
            body["image_url"] = imagefiles.load(image, field="image_url",
                                                service=SERVICE).data_url()
        else:
            raise errors.InvalidRequestError(
                "image_url must be a public https URL (or turn on send_local_image)",
                field="image_url", service=SERVICE)
        return body

    def submit(self, job: Job) -> Submitted:
        body = self.request_body(job.operation, job.params)
        inline = body["image_url"].startswith("data:")
        try:
            response = self.http.request(
                "POST", f"{self.base}/pixal3d/v1/pixal3d-request", creates_job=True, json=body,
                headers={"Cache-Control": "no-cache"})
        except errors.InvalidRequestError as exc:
            if inline and exc.status == 400:
                raise errors.InvalidRequestError(
                    f"Pixazo refused the inline picture ({exc.message}). It accepts only "
                    "public https URLs: put the picture somewhere public (e.g. an image host) "
                    "and paste its https link as the image", field="image_url",
                    service=SERVICE, status=exc.status) from None
            raise
        try:
            data = response.json()
        except ValueError:
            data = None
        request_id = data.get("request_id") if isinstance(data, dict) else None
        if not isinstance(request_id, str) or not request_id:
            # Accepted but unreadable: the request may exist, so no status (never re-sent).
            raise errors.UnexpectedResponseError(
                f"no request_id in Pixazo's answer: {body_excerpt(response)}", service=SERVICE)
        return Submitted(request_id, self.status_of(data, params=job.params))

    def poll(self, job: Job) -> RemoteStatus:
        response = self.http.request("GET", f"{self.base}/v2/requests/status/{job.remote_id}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise errors.UnexpectedResponseError(
                f"unreadable status from Pixazo: {body_excerpt(response)}", service=SERVICE)
        return self.status_of(data, params=job.params)

    def status_of(self, data: Mapping[str, Any], now: datetime | None = None,
                  params: Mapping[str, Any] | None = None) -> RemoteStatus:
        status = self._status(data, now)
        if status.phase in (Phase.SUCCEEDED, Phase.FAILED):
            status.charge = _charge(str(data.get("status") or "").strip().upper(),
                                    params or {})
        return status

    def _status(self, data: Mapping[str, Any], now: datetime | None) -> RemoteStatus:
        raw = str(data.get("status") or "").strip().upper()
        phase = _PHASES.get(raw)
        if phase is None:
            raise errors.UnexpectedResponseError(f"unknown Pixazo status {data.get('status')!r}",
                                                 service=SERVICE)
        now = now or datetime.now(UTC)
        created = parse_time(data.get("created_at"))
        waited = ""
        if created is not None:
            waited = f" for {max(0, int((now - created).total_seconds()))} s"
        if phase == Phase.QUEUED:
            return RemoteStatus(phase, message=f"Queued at Pixazo{waited}")
        if phase == Phase.RUNNING:
            return RemoteStatus(phase, message=f"Generating{waited}")
        error = errors.said(str(data.get("error") or "").strip())
        if phase == Phase.FAILED:
            if raw == "ERROR":
                return RemoteStatus(phase, error_code="service_error", message=(
                    f"Pixazo had a system error ({error or 'no details'}); it is not charged "
                    "— generate again"))
            return RemoteStatus(phase, error_code="service_failed", message=(
                f"Pixal3D could not make a model from this picture ({error or 'no details'}); "
                "try another picture or settings"))
        output = data.get("output")
        if not isinstance(output, Mapping):
            output = {}
        urls = output.get("media_url")
        if isinstance(urls, str):
            urls = [urls]
        urls = [u for u in urls or () if isinstance(u, str) and u]
        if not urls:
            raise errors.UnexpectedResponseError("Pixazo reports COMPLETED without a media_url",
                                                 service=SERVICE)
        kinds = frozenset({"glb"}) if "glb" in str(output.get("media_type") or "glb") else None
        results = []
        for index, url in enumerate(urls):
            name = posixpath.basename(urlsplit(url).path) or "output.glb"
            if len(urls) > 1:
                name = f"{index + 1}_{name}"
            results.append(ResultFile(name, functools.partial(self.files.stream, url), kinds))
        return RemoteStatus(phase, progress=1.0, message="Finished", results=results,
                            took_s=took(data.get("created_at"), data.get("completed_at")))

    def check_key(self) -> str:
        """Pixazo has no account route; asking for a request that cannot exist tells a valid
        key (404) from a refused one (401/403) for free."""
        try:
            self.http.request("GET", f"{self.base}/v2/requests/status/pixal3d_conjure-key-check")
        except errors.NotFoundError:
            pass
        return f"Pixazo key accepted (balance: {DASHBOARD})"


def _charge(raw: str, params: Mapping[str, Any]) -> Charge:
    """Pixazo reports no amount: a finished request costs its published price for the texture
    size asked, and a system error (``ERROR``) is not charged."""
    if raw == "ERROR":
        return Charge(0.0, UNIT, refunded=True)
    return Charge(BY_NAME["image_to_3d"].estimate(params).amount or 0.0, UNIT)


def make(config: ClientConfig) -> Pixal3dClient:
    return Pixal3dClient(config)
