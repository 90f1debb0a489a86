"""The Tripo3D client: one class for both API families, v2 (``/v2/openapi``, one
``POST /task`` with a ``type``) and v3 (``/v3/...``, one route per capability).

Statuses: v2 ``queued|running|success|failed|cancelled|banned|expired|unknown`` with
``progress`` 0–100, ``queuing_num`` and ``running_left_time`` (-1 when not applicable); v3 only
``queued|running|success|failed|cancelled`` (banned → failed 2008, expired → failed 2018).
Result files are short-lived signed URLs, fetched without the key; an expired one is answered by
reading the task again, which signs fresh URLs.
"""

from __future__ import annotations

import os
import posixpath
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .. import errors, imagefiles
from ..base import (
    Client,
    ClientConfig,
    Funds,
    Job,
    Phase,
    RemoteStatus,
    ResultFile,
    SlotGroup,
    Submitted,
)
from ..http import HttpClient, bearer
from ..prices import Charge
from ..times import took
from .errors import data_of, error_for, map_download_error, map_error
from .operations import (
    ACCOUNT_CONCURRENCY,
    DEFAULT_MODEL_VERSION,
    IMAGE_MAX_BYTES,
    IMAGE_MAX_PX,
    IMAGE_MIN_PX,
    OPERATIONS,
    SERVICE,
    TASK_GROUPS,
    UNIT,
    task_group,
)

API_ENV = "CONJURE_TRIPO_API"
API_VERSIONS = ("v2", "v3")
#: v3 is the default for new installs: the docs report v2 shut down on 2026-10-31.
DEFAULT_API = "v3"
#: The real origins of each family, international and CN; an override (e.g. the sandbox) is
#: kept as it is for both families.
ORIGINS = {
    "v2": ("https://api.tripo3d.ai", "https://api.tripo3d.com"),
    "v3": ("https://openapi.tripo3d.ai", "https://openapi.tripo3d.com"),
}

#: Follow-up operations: the task id parameter each names (v2 body) and v3 sends as ``input``.
_SOURCE_FIELD = {"refine_model": "draft_model_task_id", "texture_model": "original_model_task_id",
                 "convert_model": "original_model_task_id",
                 "animate_prerigcheck": "original_model_task_id",
                 "animate_rig": "original_model_task_id",
                 "animate_retarget": "original_model_task_id"}
_V3_ROUTES = {
    "text_to_model": "generation/text-to-model", "image_to_model": "generation/image-to-model",
    "multiview_to_model": "generation/multiview-to-model",
    "text_to_image": "generation/text-to-image", "generate_image": "generation/image-to-image",
    "refine_model": "models/refine", "texture_model": "models/texture",
    "convert_model": "models/convert", "animate_prerigcheck": "animations/rig-check",
    "animate_rig": "animations/rig", "animate_retarget": "animations/retarget",
}
_GENERATION = ("text_to_model", "image_to_model", "multiview_to_model")
_IMAGE_OPS = ("text_to_image", "generate_image")


def _url_kind(url: str) -> str:
    ext = posixpath.splitext(urlsplit(url).path)[1].lower().lstrip(".")
    return {"jpeg": "jpg", "jpg": "jpg", "png": "png", "webp": "webp"}.get(ext, "jpg")


class TripoClient(Client):
    name = "tripo"
    label = SERVICE
    operations = OPERATIONS
    #: Each task group has a cap of its own (``slot_group``); this is the largest.
    max_active = ACCOUNT_CONCURRENCY

    def __init__(self, config: ClientConfig, api: str = DEFAULT_API) -> None:
        if api not in API_VERSIONS:
            raise ValueError(f"Tripo3D API must be one of {API_VERSIONS}; got {api!r}")
        self.api = api
        self.base = _origin_for(config.base_url, api)
        self.http = HttpClient(SERVICE, config.network, guard=config.guard,
                               error_mapper=map_error, auth_headers=bearer(config.key))
        # Result files come from a CDN with signed URLs: no key, and its own error meanings.
        self.cdn = HttpClient(SERVICE, config.network, guard=config.guard,
                              error_mapper=map_download_error)

    # -- routes -------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        prefix = "/v2/openapi" if self.api == "v2" else "/v3"
        return f"{self.base}{prefix}/{path}"

    # -- uploads ------------------------------------------------------------------------------

    def _upload(self, image: imagefiles.LocalImage) -> str:
        """Upload a picture; returns its file token (v2 ``image_token``, v3 ``file_<uuid>``).

        Uploads are free, so a failure that may pass is reported as "not sent": the engine
        tries the whole job again later, nothing paid having been sent.
        """
        path = "upload" if self.api == "v2" else "files"
        files = {"file": (f"image.{image.kind}", image.data, image.mime)}
        try:
            response = self.http.request("POST", self._url(path), files=files, idempotent=True)
        except errors.TransientServiceError as exc:
            raise errors.ConnectionFailedError(
                f"image upload failed ({exc.message}); the paid task was not sent",
                service=SERVICE, retry_after=exc.retry_after) from None
        data = data_of(response)
        token = data.get("image_token") or data.get("file_token")
        if not isinstance(token, str) or not token:
            raise errors.ConnectionFailedError(
                f"the image upload gave no file token ({data}); the paid task was not sent",
                service=SERVICE)
        return token

    def _file(self, value: str, field: str) -> dict[str, Any]:
        """A Tripo file object for a parameter value: URLs as they are, local pictures
        checked (size, pixels) and uploaded."""
        if imagefiles.is_url(value):
            return {"type": _url_kind(value), "url": value}
        image = imagefiles.load(value, field=field, service=SERVICE, min_px=IMAGE_MIN_PX,
                                max_px=IMAGE_MAX_PX, max_bytes=IMAGE_MAX_BYTES)
        return {"type": image.kind, "file_token": self._upload(image)}

    # -- requests -----------------------------------------------------------------------------

    def request_body(self, operation: str, params: Mapping[str, Any]) -> tuple[str, dict]:
        """The route (v3) or ``task`` (v2) and the JSON body for a job; uploads local images.

        Only the options the user set are sent, so the service's own defaults apply.
        """
        self.operation(operation)  # refuses one this client does not offer
        body: dict[str, Any] = {k: v for k, v in params.items() if v is not None}
        v3 = self.api == "v3"
        if operation == "image_to_model":
            image = self._file(body.pop("image"), "image")
            if v3:  # v3's own form: one string, a file token or a URL
                body["input"] = image.get("file_token") or image["url"]
            else:
                body["file"] = image
        elif operation == "multiview_to_model":
            # Always four entries in the order front, left, back, right; an omitted view is {}.
            body["files"] = [self._file(body.pop(v), v) if body.get(v) else {}
                             for v in ("front", "left", "back", "right")]
            for view in ("left", "back", "right"):
                body.pop(view, None)
        elif operation == "generate_image":
            images = [self._file(v, "images") for v in body.pop("images", None) or ()]
            if len(images) == 1:
                body["file"] = images[0]
            elif images:
                body["files"] = images
        elif operation == "texture_model":
            prompt: dict[str, Any] = {}
            if "texture_prompt" in body:
                prompt["text"] = body.pop("texture_prompt")
            if "texture_image" in body:
                prompt["image"] = self._file(body.pop("texture_image"), "texture_image")
            if "style_image" in body:
                prompt["style_image"] = self._file(body.pop("style_image"), "style_image")
            if prompt:
                body["texture_prompt"] = prompt
        elif operation == "animate_retarget":
            animations = body.pop("animations")
            if len(animations) == 1:
                body["animation"] = animations[0]
            else:
                body["animations"] = animations
        if operation in _GENERATION and v3:
            body.setdefault("model_version", DEFAULT_MODEL_VERSION)  # required on v3
        source = _SOURCE_FIELD.get(operation)
        if source and v3:
            body["input"] = body.pop(source)
        if v3:
            return _V3_ROUTES[operation], body
        return "task", {"type": operation, **body}

    def submit(self, job: Job) -> Submitted:
        path, body = self.request_body(job.operation, job.params)
        # v3 echoes X-Request-ID; Tripo support can find a request by it.
        headers = {"X-Request-ID": str(uuid.uuid4())} if self.api == "v3" else {}
        response = self.http.request("POST", self._url(path), creates_job=True, json=body,
                                     headers=headers)
        # An unreadable answer raises without an HTTP status: the task may exist, so the
        # engine marks the job unknown and never sends it again.
        data = data_of(response)
        task_id = data.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            raise errors.UnexpectedResponseError(f"no task_id in Tripo3D's answer: {data}",
                                                 service=SERVICE)
        return Submitted(task_id, RemoteStatus(Phase.QUEUED, message="Queued at Tripo3D"))

    def slot_group(self, operation: str, params: Mapping[str, Any]) -> SlotGroup:
        group = task_group(operation, params)
        return SlotGroup(group, TASK_GROUPS[group])

    def poll(self, job: Job) -> RemoteStatus:
        path = f"task/{job.remote_id}" if self.api == "v2" else f"tasks/{job.remote_id}"
        data = data_of(self.http.request("GET", self._url(path)))
        return self.status_of(data, job.operation, job.params)

    # -- status -------------------------------------------------------------------------------

    def status_of(self, task: Mapping[str, Any], operation: str,
                  params: Mapping[str, Any] | None = None) -> RemoteStatus:
        """A task object (either API family) in the engine's words."""
        raw = str(task.get("status") or "")
        progress = _number(task.get("progress"))
        fraction = None if progress is None else max(0.0, min(1.0, progress / 100))
        left = _number(task.get("running_left_time"))
        eta = left if left is not None and left >= 0 else None
        if raw == "queued":
            place = _number(task.get("queuing_num"))
            text = "In Tripo3D's queue" + (f", position {int(place) + 1}"
                                           if place is not None and place >= 0 else "")
            return RemoteStatus(Phase.QUEUED, progress=fraction, eta_s=eta, message=text)
        if raw in ("running", "unknown"):
            # "unknown" is not final (the SDK keeps waiting); say so and keep asking.
            text = ("Generating" if raw == "running" else
                    "Tripo3D reports the task's state as unknown; still checking")
            if fraction is not None:
                text += f" ({int(fraction * 100)}%)"
            return RemoteStatus(Phase.RUNNING, progress=fraction, eta_s=eta, message=text)
        if raw == "success":
            status = self._succeeded(task, operation, params or {})
            status.charge = _charge(task, refunded_when_zero=False)
            status.took_s = took(task.get("created_at"), task.get("completed_at"))  # v3 only
            return status
        if raw == "cancelled":
            return RemoteStatus(Phase.CANCELLED, message="Cancelled at Tripo3D",
                                charge=_charge(task, refunded_when_zero=True))
        if raw in ("failed", "banned", "expired"):
            code = task.get("error_code")
            if raw == "banned" and not isinstance(code, int):
                code = 2008
            if raw == "expired" and not isinstance(code, int):
                code = 2018
            said = str(task.get("error_msg") or task.get("error_message") or "")
            error = error_for(code if isinstance(code, int) else None, None, said)
            if error is not None:
                message, kind = error.message, error.code
            else:
                message = f"Tripo3D reports the task failed ({code or raw}" + (
                    f": {errors.said(said)}" if said else "") + "); failed tasks are refunded"
                kind = "service_failed"
            if raw == "expired" and error is not None:
                message = "the task timed out in Tripo3D's queue; generate again"
            return RemoteStatus(Phase.FAILED, message=message, error_code=kind,
                                charge=_charge(task, refunded_when_zero=True))
        raise errors.UnexpectedResponseError(f"unknown Tripo3D task status {raw!r}",
                                             service=SERVICE)

    def _succeeded(self, task: Mapping[str, Any], operation: str,
                   params: Mapping[str, Any]) -> RemoteStatus:
        output = _mapping(task.get("output"))
        legacy = _mapping(task.get("result"))  # older answers: {name: {type, url}}
        if operation == "animate_prerigcheck":
            riggable = output.get("riggable")
            rig_type = output.get("rig_type") or "unknown type"
            text = (f"Riggable as {rig_type}" if riggable else "Not riggable") if isinstance(
                riggable, bool) else "Rig check finished without an answer"
            return RemoteStatus(Phase.SUCCEEDED, progress=1.0, message=text, no_files=True)
        if operation in _IMAGE_OPS:
            names = ("generated_image_url", "generated_image", "rendered_image_url",
                     "rendered_image")
            kinds = frozenset({"png", "jpg", "webp"})
            fallback = "image.png"
        else:
            # The textured model first: pbr_model > model > base_model (v3: one model_url).
            names = ("model_url", "pbr_model", "model", "base_model")
            kinds = _model_kinds(operation, params)
            fallback = "model.glb"
        url = None
        for name in names:
            url = _url_of(output.get(name)) or _url_of(legacy.get(name))
            if url:
                break
        if not url:
            raise errors.UnexpectedResponseError(
                f"Tripo3D reports success but gives no result URL (output keys: "
                f"{sorted(output)})", service=SERVICE)
        stem = posixpath.basename(urlsplit(url).path)
        name = stem if "." in stem else fallback
        return RemoteStatus(Phase.SUCCEEDED, progress=1.0, message="Finished", results=[
            ResultFile(name, lambda: self.cdn.stream(url), kinds)])

    # -- account ------------------------------------------------------------------------------

    def funds(self) -> Funds | None:
        path = "user/balance" if self.api == "v2" else "account/balance"
        data = data_of(self.http.request("GET", self._url(path)))
        balance, frozen = _number(data.get("balance")), _number(data.get("frozen"))
        if balance is None:
            return None
        line = f"{balance:g} credits"
        if frozen:
            line += f" ({frozen:g} held by running tasks)"
        # Credits held by running tasks are already out of ``balance``: it is what can be spent.
        return Funds(line, balance, UNIT)

    def check_key(self) -> str:
        line = self.balance()
        return f"Tripo3D key accepted ({self.api} API)" + (f": {line}" if line else "")


def _charge(task: Mapping[str, Any], *, refunded_when_zero: bool) -> Charge | None:
    """What a finished task cost: v2 ``consumed_credit``, v3 ``credits_consumed``. Tripo3D
    refunds tasks that did not succeed, so one that reports nothing spent was refunded."""
    spent = _number(task.get("consumed_credit", task.get("credits_consumed")))
    if spent is None:
        return Charge(0.0, UNIT, refunded=True) if refunded_when_zero else None
    return Charge(spent, UNIT, refunded=refunded_when_zero and spent == 0)


def _model_kinds(operation: str, params: Mapping[str, Any]) -> frozenset[str]:
    if operation == "convert_model":
        fmt = params.get("format")
        # USDZ and 3MF are zip containers; OBJ arrives zipped with its materials; GLTF may
        # come as binary glTF or zipped with its buffers; STL is checked by its length.
        return {"FBX": frozenset({"fbx"}), "GLTF": frozenset({"glb", "zip"}),
                "STL": frozenset({"stl"})}.get(str(fmt), frozenset({"zip"}))
    return frozenset({"glb", "fbx"})


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _url_of(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping) and isinstance(value.get("url"), str):  # legacy {type, url}
        return str(value["url"])
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _origin_for(base_url: str, api: str) -> str:
    """The family's own origin when ``base_url`` is one of Tripo's real ones (same region);
    any other base URL (a proxy, the sandbox) serves both families under its paths."""
    base = base_url.rstrip("/")
    for origins in ORIGINS.values():
        if base in origins:
            return ORIGINS[api][origins.index(base)]
    return base


def api_version(config: ClientConfig, environ: Mapping[str, str] | None = None) -> str:
    """The API family: ``config.options["api"]`` (Preferences), else ``$CONJURE_TRIPO_API``,
    else v3."""
    environ = os.environ if environ is None else environ
    chosen = (config.options.get("api") or environ.get(API_ENV) or DEFAULT_API).strip().lower()
    if chosen not in API_VERSIONS:
        raise ValueError(f"Tripo3D API version must be v2 or v3 (from Preferences or "
                         f"${API_ENV}); got {chosen!r}")
    return chosen


def make(config: ClientConfig) -> TripoClient:
    return TripoClient(config, api_version(config))
