"""Pixazo's Pixal3D (gateway.pixazo.ai): one picture to a textured GLB.

Submit ``POST /pixal3d/v1/pixal3d-request`` → 202 ``{request_id, status, polling_url}``; poll
``GET /v2/requests/status/{request_id}``: ``QUEUED`` → ``PROCESSING`` → ``COMPLETED`` |
``FAILED`` | ``ERROR`` (a system error, not charged), no progress figure; the result is a public
URL in ``output.media_url``. The key goes in ``Ocp-Apim-Subscription-Key`` (not Bearer).

``image_url`` must be publicly reachable and Pixazo has no upload route. A local picture is sent
inline as a ``data:`` URI only when the user turns on ``send_local_image``: Pixal3D runs on
fal.ai, which usually accepts data URIs, but Pixazo does not document it, so a refusal is
explained rather than retried.
"""

from __future__ import annotations

import functools
import ipaddress
import posixpath
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from . import errors, imagefiles
from .base import Job, Phase, Provider, RemoteStatus, ResultFile, Submitted
from .client import ClientConfig
from .http import HttpClient, body_excerpt, parse_retry_after
from .params import Operation, Param, Rule

PROVIDER = "Pixazo"
DASHBOARD = "https://api-console.pixazo.ai/dashboard"
KEYS_PAGE = "https://api-console.pixazo.ai/api_keys"
#: The docs ask for a poll every 5–10 s.
POLL_EVERY = 5.0


def _public_https(url: str) -> str | None:
    """Why ``url`` cannot be fetched by the service, or None when it looks public."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        return "must be a public https:// URL"
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith((".local", ".localhost", ".internal")):
        return f"points at {host}, which Pixazo cannot reach; use a public https URL"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return f"points at the private address {host}; use a public https URL"
    return None


def _image_rule(values: Mapping[str, Any]) -> str | None:
    value = values.get("image_url")
    if not value:
        return None
    if imagefiles.is_url(value):
        problem = _public_https(value)
        return f"image_url {problem}" if problem else None
    if not values.get("send_local_image"):
        return ("image_url must be a public https URL: Pixazo fetches the picture itself and "
                "has no upload. Paste a public link, or turn on send_local_image to try "
                "sending this picture inline (Pixazo may refuse it)")
    try:
        imagefiles.load(value, field="image_url", provider=PROVIDER)
    except errors.InvalidRequestError as exc:
        return exc.message
    return None


def _sampler(stage: str, label: str, strength: float, rescale: float | None, steps: int,
             rescale_t: float, what: str) -> tuple[Param, ...]:
    return (
        Param(f"{stage}_guidance_strength", "float", f"{label} Guidance", f"How closely the "
              f"{what} follows the picture", default=strength, minimum=0, advanced=True),
        Param(f"{stage}_guidance_rescale", "float", f"{label} Guidance Rescale", "Dampens "
              "artifacts from high guidance", default=rescale, minimum=0, advanced=True),
        Param(f"{stage}_sampling_steps", "int", f"{label} Steps", "Denoising steps",
              default=steps, minimum=1, advanced=True),
        Param(f"{stage}_rescale_t", "float", f"{label} Schedule Sharpness", "Noise schedule "
              "sharpness; higher stresses early denoising", default=rescale_t, minimum=0,
              advanced=True),
    )


OPERATIONS = (
    Operation(
        "pixazo", "image_to_3d", "Image to 3D", "image",
        description="A textured GLB from one picture (Pixal3D)",
        params=(
            Param("image_url", "image", "Image", "A public https URL of the picture (or a "
                  "local picture with send_local_image on)", required=True, role="image"),
            Param("send_local_image", "bool", "Send Local Image Inline", "Send a local "
                  "picture as a data: URI; Pixazo documents only public URLs and may refuse "
                  "it", default=False),
            Param("resolution", "enum", "Resolution", "Structure resolution; 1536 is more "
                  "detailed and slower", default=1024, choices=(1024, 1536)),
            Param("texture_size", "enum", "Texture Size", "Baked texture size (1024: $0.30, "
                  "2048/4096: $0.42)", default=2048, choices=(1024, 2048, 4096)),
            Param("decimation_target", "int", "Vertex Target", "Vertices in the final mesh",
                  default=200000, minimum=1),
            Param("remesh", "bool", "Remesh", "Cleaner, more uniform triangles", default=True),
            Param("seed", "int", "Seed", "Unset: random", advanced=True),
            *_sampler("ss", "Structure", 7.5, 0.7, 12, 5.0, "initial structure"),
            *_sampler("shape_slat", "Shape", 7.5, 0.5, 12, 3.0, "detailed geometry"),
            *_sampler("tex_slat", "Texture", 1.0, None, 12, 3.0, "texture"),
            Param("mesh_scale", "float", "Mesh Scale", "Scale of the inferred mesh",
                  default=1.0, minimum=0.001, advanced=True),
            Param("max_num_tokens", "int", "Max Tokens", "High-resolution tokens of the shape "
                  "sampler; more detail, more memory and time", default=49152, minimum=1,
                  advanced=True),
        ),
        rules=(Rule("image_url", _image_rule),),
    ),
)
BY_NAME = {op.name: op for op in OPERATIONS}
#: Conjure-side switches that are not sent to the service.
_LOCAL_ONLY = ("send_local_image",)

UNSUPPORTED = {
    "trellis-2-image-to-3d": "another model on Pixazo's gateway; Conjure offers Pixal3D only",
    "hunyuan-3d": "another model on Pixazo's gateway; Conjure offers Pixal3D only",
    "hyper3d-rodin": "another model on Pixazo's gateway; Conjure offers Pixal3D only",
}

_PHASES = {
    "QUEUED": Phase.QUEUED, "PENDING": Phase.QUEUED, "IN_QUEUE": Phase.QUEUED,
    "PROCESSING": Phase.RUNNING, "RUNNING": Phase.RUNNING, "IN_PROGRESS": Phase.RUNNING,
    # Pixazo's own sample app accepts these spellings from its older models too.
    "COMPLETED": Phase.SUCCEEDED, "SUCCEEDED": Phase.SUCCEEDED, "SUCCESS": Phase.SUCCEEDED,
    "DONE": Phase.SUCCEEDED, "FAILED": Phase.FAILED, "ERROR": Phase.FAILED,
}


def parse_time(value: Any) -> datetime | None:
    """Both of the service's timestamp styles, as UTC: ``2026-05-22T13:17:32.110Z`` and
    ``2026-05-22 13:19:23`` (no zone given; the service's clock is UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _said(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", body_excerpt(response)
    if not isinstance(body, dict):
        return "", body_excerpt(response)
    message = body.get("message")
    return str(body.get("error") or ""), errors.said(message) if message else body_excerpt(response)


def map_error(response: requests.Response) -> errors.ServiceError | None:
    status = response.status_code
    title, message = _said(response)
    kwargs: dict[str, Any] = {"provider": PROVIDER, "status": status,
                              "retry_after": parse_retry_after(response.headers.get("Retry-After"))}
    if status == 400 and title == "Model not found":
        return errors.InvalidRequestError(
            f"Pixal3D is not available to this key ({message}); check the model is enabled "
            f"for your subscription at {DASHBOARD}", **kwargs)
    if status == 400:
        return errors.InvalidRequestError(f"Pixazo refused the request: {message}", **kwargs)
    if status == 401:
        return errors.AuthenticationError(
            f"Pixazo refused the subscription key ({message}); paste a valid key from "
            f"{KEYS_PAGE} in Preferences", **kwargs)
    if status == 402:
        return errors.InsufficientCreditsError(
            f"not enough balance in the Pixazo wallet — top up at {DASHBOARD}", **kwargs)
    if status == 403:
        return errors.AuthenticationError(
            f"Pixazo does not allow this key to use Pixal3D ({message}); check the "
            f"subscription at {DASHBOARD}", **kwargs)
    if status == 404:
        return errors.NotFoundError(f"Pixazo has no such request for this key ({message})",
                                    **kwargs)
    if status == 429:
        return errors.RateLimitedError(f"too many requests to Pixazo ({message}); Conjure "
                                       "waits and tries again", **kwargs)
    if status >= 500:
        return errors.TransientServiceError(f"Pixazo server error {status} ({message}); try "
                                            "again later", **kwargs)
    return None


class PixazoProvider(Provider):
    name = "pixazo"
    max_active = 3

    def __init__(self, config: ClientConfig) -> None:
        self.base = config.base_url.rstrip("/")
        key = config.key

        def auth() -> dict[str, str]:
            return {"Ocp-Apim-Subscription-Key": key} if key else {}

        self.http = HttpClient(PROVIDER, config.network, guard=config.guard,
                               error_mapper=map_error, auth_headers=auth)
        # Results are public R2 URLs: fetched without the key.
        self.files = HttpClient(PROVIDER, config.network, guard=config.guard)

    def request_body(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        if operation not in BY_NAME:
            raise errors.InvalidRequestError(
                f"Pixazo has no operation {operation!r} in Conjure; it offers "
                + ", ".join(BY_NAME), field="operation", provider=PROVIDER)
        body = {k: v for k, v in params.items() if v is not None and k not in _LOCAL_ONLY}
        image = body["image_url"]
        if imagefiles.is_url(image):
            problem = _public_https(image)
            if problem:
                raise errors.InvalidRequestError(f"image_url {problem}", field="image_url",
                                                 provider=PROVIDER)
        elif params.get("send_local_image"):
            body["image_url"] = imagefiles.load(image, field="image_url",
                                                provider=PROVIDER).data_url()
        else:
            raise errors.InvalidRequestError(
                "image_url must be a public https URL (or turn on send_local_image)",
                field="image_url", provider=PROVIDER)
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
                    provider=PROVIDER, status=exc.status) from None
            raise
        try:
            data = response.json()
        except ValueError:
            data = None
        request_id = data.get("request_id") if isinstance(data, dict) else None
        if not isinstance(request_id, str) or not request_id:
            # Accepted but unreadable: the request may exist, so no status (never re-sent).
            raise errors.UnexpectedResponseError(
                f"no request_id in Pixazo's answer: {body_excerpt(response)}", provider=PROVIDER)
        return Submitted(request_id, self.status_of(data))

    def poll(self, job: Job) -> RemoteStatus:
        response = self.http.request("GET", f"{self.base}/v2/requests/status/{job.remote_id}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise errors.UnexpectedResponseError(
                f"unreadable status from Pixazo: {body_excerpt(response)}", provider=PROVIDER)
        return self.status_of(data)

    def status_of(self, data: Mapping[str, Any], now: datetime | None = None) -> RemoteStatus:
        raw = str(data.get("status") or "").strip().upper()
        phase = _PHASES.get(raw)
        if phase is None:
            raise errors.UnexpectedResponseError(f"unknown Pixazo status {data.get('status')!r}",
                                                 provider=PROVIDER)
        now = now or datetime.now(UTC)
        created = parse_time(data.get("created_at"))
        waited = ""
        if created is not None:
            waited = f" for {max(0, int((now - created).total_seconds()))} s"
        if phase == Phase.QUEUED:
            return RemoteStatus(phase, message=f"Queued at Pixazo{waited}",
                                poll_after=POLL_EVERY)
        if phase == Phase.RUNNING:
            return RemoteStatus(phase, message=f"Generating{waited}", poll_after=POLL_EVERY)
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
                                                 provider=PROVIDER)
        kinds = frozenset({"glb"}) if "glb" in str(output.get("media_type") or "glb") else None
        results = []
        for index, url in enumerate(urls):
            name = posixpath.basename(urlsplit(url).path) or "output.glb"
            if len(urls) > 1:
                name = f"{index + 1}_{name}"
            results.append(ResultFile(name, functools.partial(self.files.stream, url), kinds))
        return RemoteStatus(phase, progress=1.0, message="Finished", results=results)

    def check_key(self) -> str:
        """Pixazo has no account route; asking for a request that cannot exist tells a valid
        key (404) from a refused one (401/403) for free."""
        try:
            self.http.request("GET", f"{self.base}/v2/requests/status/pixal3d_conjure-key-check")
        except errors.NotFoundError:
            pass
        return f"Pixazo key accepted (balance: {DASHBOARD})"


def make(config: ClientConfig) -> PixazoProvider:
    return PixazoProvider(config)
