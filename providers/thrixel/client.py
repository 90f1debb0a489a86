"""The Thrixel client: submissions, their status, downloads, cancelling and the account.

Statuses: ``queued`` → ``processing`` → ``completed`` | ``failed``. ``/info`` carries no
progress; the ``/stream`` SSE feed, held open while a job runs, carries it and the job's end
(``feed``). The download endpoint answers 202 while the full-quality GLB (or a conversion) is
being prepared; ``/info.full_build_status`` says when it is done, so a job counts as finished
only then. Meanwhile the ``lite`` GLB, available at once, is offered as a quicker version of
the result (the ``lite_first`` option).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .. import errors
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
from ..http import Body, HttpClient, bearer, body_excerpt, parse_retry_after
from ..prices import Charge
from ..sources import image_payload
from ..times import took
from .errors import KEY_HELP, failure_status, map_error
from .hierarchy import Hierarchy, parse_hierarchy
from .operations import (
    CLIENT_ONLY,
    DEFAULT_JOB_CAP,
    INLINE_IMAGE_BYTES,
    OPERATIONS,
    SERVICE,
    UNCAPPED_JOBS,
    UNIT,
)
from .stream import HEARTBEAT_S, EventFeed
from .upload import MultipartFile

_PHASES = {"queued": Phase.QUEUED, "processing": Phase.RUNNING, "completed": Phase.SUCCEEDED,
           "failed": Phase.FAILED}
_PHASE_LABEL = {1: "rough", 2: "fixed", 3: "edited", 4: "detailed", 5: "uploaded"}
#: Kinds (``jobs.results.sniff``) each download format may arrive as.
_KINDS = {"glb": frozenset({"glb"}), "fbx": frozenset({"fbx", "zip"}),
          "obj": frozenset({"zip"}), "usdz": frozenset({"zip"}), "stl": frozenset({"stl"})}
_EXTENSION = {"glb": "glb", "fbx": "fbx", "obj": "obj.zip", "usdz": "usdz", "stl": "stl"}

_ROUTES = {"create": "phase1/submit", "refine": "phase2/submit", "edit": "phase3/submit",
           "detail": "detailer/submit"}
#: How often to ask whether the full-quality GLB is baked (it takes from seconds to 30 min).
FULL_BUILD_POLL_S = 10.0


class ThrixelClient(Client):
    name = "thrixel"
    label = SERVICE
    operations = OPERATIONS
    #: Jobs queued or processing at once: the key's own cap once it is read (``slot_group``).
    max_active = DEFAULT_JOB_CAP
    #: How long to wait before asking for the account's cap again after it could not be read.
    CAP_RETRY_S = 60.0

    def __init__(self, config: ClientConfig, *,
                 on_upload: Callable[[str, int, int], None] | None = None) -> None:
        """``on_upload(job_id, sent, total)`` hears upload progress. ``config.options``:
        ``lite_first`` ("1", the default, or "0"): offer the lite GLB while the full one bakes.
        """
        self.api = f"{config.base_url}/api/v1"
        self.on_upload = on_upload
        self.lite_first = config.options.get("lite_first", "1") != "0"
        self.http = HttpClient(SERVICE, config.network, guard=config.guard,
                               error_mapper=map_error, auth_headers=bearer(config.key))
        self._cap_lock = threading.Lock()
        self._cap_known = False
        self._cap_asked_at = -float("inf")

    # -- how many jobs at once ---------------------------------------------------------------
    def slot_group(self, operation: str, params: Mapping[str, Any]) -> SlotGroup:
        """All of the key's jobs count together; their cap is the account's own, read from
        ``/usage`` the first time (the documented default until it can be read)."""
        with self._cap_lock:
            now = time.monotonic()
            if not self._cap_known and now - self._cap_asked_at >= self.CAP_RETRY_S:
                self._cap_asked_at = now
                try:
                    # One try: a missing figure only means the default applies a while longer.
                    usage = self.http.request("GET", f"{self.api}/usage", idempotent=False)
                    self._note_cap(usage.json())
                except (errors.ServiceError, ValueError):
                    pass
            return SlotGroup(self.name, self.max_active)

    def _note_cap(self, usage: Any) -> None:
        """Take the account's cap from a ``/usage`` answer (null: the plan has none)."""
        if not isinstance(usage, dict) or "concurrent_job_cap" not in usage:
            return
        cap = usage["concurrent_job_cap"]
        if cap is None:
            self.max_active, self._cap_known = UNCAPPED_JOBS, True
        elif isinstance(cap, int) and not isinstance(cap, bool) and cap > 0:
            self.max_active, self._cap_known = cap, True

    # -- submit ----------------------------------------------------------------------------
    def submit(self, job: Job) -> Submitted:
        op, params = self.validated(job)
        if op.name == "upload":
            data = self._upload(job, params)
        elif op.name == "convert":
            # Asking twice returns the same conversion and costs nothing, so it may be retried.
            data = self.http.request("POST", f"{self.api}/convert", idempotent=True, json={
                "submission_id": params["parent_submission_id"], "format": params["format"],
                "force": bool(params.get("force", False))}).json()
            return Submitted(self._remote_id(data, "job_id"), self._convert_status(data, params))
        else:
            data = self.http.request("POST", f"{self.api}/{_ROUTES[op.name]}", creates_job=True,
                                     json=self.body(op.name, params)).json()
        remote_id = self._remote_id(data, "submission_id")
        return Submitted(remote_id, self._status(data, remote_id, params))

    def body(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body of a generation request: the set parameters, pictures inlined."""
        body = {k: v for k, v in params.items() if k not in CLIENT_ONLY}
        if isinstance(body.get("image"), str):
            body["image"] = image_payload(body["image"], max_bytes=INLINE_IMAGE_BYTES,
                                          allow_links=True, service=SERVICE, field="image")
        if isinstance(body.get("images"), list):
            body["images"] = [image_payload(v, max_bytes=INLINE_IMAGE_BYTES, allow_links=True,
                                            service=SERVICE, field=f"images[{i}]")
                              for i, v in enumerate(body["images"])]
        return body

    def _upload(self, job: Job, params: Mapping[str, Any]) -> dict[str, Any]:
        """Stream the GLB up; ``params`` were just validated, so the file is a GLB that fits."""
        path = os.path.expanduser(params["glb_file"])
        fields = {k: params[k] for k in ("task", "project_id") if params.get(k)}
        report = self.on_upload
        body = MultipartFile(fields, "glb_file", path, "model/gltf-binary",
                             progress=(lambda sent, total: report(job.id, sent, total))
                             if report else None)
        # Uploads of up to 100 MB take longer than a generation request's read timeout allows.
        s = self.http.settings
        return self.http.request(
            "POST", f"{self.api}/phase5/submit", creates_job=True, data=body,
            headers={"Content-Type": body.content_type},
            timeout=(s.connect_timeout, max(s.read_timeout, 300.0))).json()

    @staticmethod
    def _remote_id(data: Any, key: str) -> str:
        remote_id = data.get(key) if isinstance(data, dict) else None
        if not remote_id or not isinstance(remote_id, str):
            raise errors.UnexpectedResponseError(
                f"Thrixel's answer has no {key}: {errors.said(data, 200)}", service=SERVICE,
                status=200)
        return remote_id

    # -- status ----------------------------------------------------------------------------
    def poll(self, job: Job) -> RemoteStatus:
        if job.operation == "convert":
            data = self.http.request("GET", f"{self.api}/convert/{job.remote_id}").json()
            return self._convert_status(data, job.params)
        data = self.http.request("GET", f"{self.api}/{job.remote_id}/info").json()
        return self._status(data, str(job.remote_id), job.params)

    def feeds(self, job: Job) -> bool:
        return job.operation in _ROUTES  # generations; an upload is done at once, a conversion
        # has no stream

    def feed(self, job: Job) -> EventFeed:
        """The job's ``/stream``, held open: a read may wait through two heartbeats before the
        stream counts as dropped. Not retried here; the engine reconnects with back-off."""
        s = self.http.settings
        response = self.http.request(
            "GET", f"{self.api}/{job.remote_id}/stream", stream=True, idempotent=False,
            headers={"Accept": "text/event-stream"},
            timeout=(s.connect_timeout, max(s.read_timeout, 2 * HEARTBEAT_S)))
        return EventFeed(response)

    def _status(self, data: Any, remote_id: str, params: Mapping[str, Any]) -> RemoteStatus:
        if not isinstance(data, dict):
            raise errors.UnexpectedResponseError(f"unreadable status: {errors.said(data, 200)}",
                                                 service=SERVICE)
        phase = _PHASES.get(str(data.get("status")))
        if phase is None:
            raise errors.UnexpectedResponseError(f"unknown status {data.get('status')!r}",
                                                 service=SERVICE)
        note = str(data.get("status_note") or "")
        if phase == Phase.QUEUED:
            return RemoteStatus(phase, message=note or "Queued at Thrixel")
        if phase == Phase.RUNNING:
            return RemoteStatus(phase, message=note or "Thrixel is generating")
        if phase == Phase.FAILED:
            failed = failure_status(data)
            failed.charge = _charge(data, failed=True)
            return failed
        quality = params.get("quality", "full")
        took_s = took(data.get("created_at"), data.get("completed_at"))
        if quality == "full" and data.get("full_build_status") == "pending":
            # The full GLB is still baking; its download would answer 202 until it is done.
            return RemoteStatus(Phase.RUNNING, progress=None, poll_after=FULL_BUILD_POLL_S,
                                took_s=took_s, message="Finishing the full-detail model",
                                lite=[self._glb(data, remote_id, "lite", "_lite")]
                                if self.lite_first else [])
        return RemoteStatus(Phase.SUCCEEDED, progress=1.0, message="Completed", took_s=took_s,
                            results=[self._glb(data, remote_id, quality)],
                            charge=_charge(data, failed=False))

    def _glb(self, data: Mapping[str, Any], remote_id: str, quality: str,
             suffix: str = "") -> ResultFile:
        """The finished submission's GLB in ``quality``; ``suffix`` ends the file's name."""
        url = f"{self.api}/{remote_id}/download"
        query = {"format": "glb", "quality": quality}
        label = _PHASE_LABEL.get(data.get("phase") or 0)
        stem = f"{remote_id}_{label}" if label else remote_id
        return ResultFile(f"{stem}{suffix}.glb", lambda: self.download(url, query),
                          _KINDS["glb"])

    def _convert_status(self, data: Any, params: Mapping[str, Any]) -> RemoteStatus:
        if not isinstance(data, dict):
            raise errors.UnexpectedResponseError(f"unreadable conversion: {errors.said(data, 200)}",
                                                 service=SERVICE)
        state = str(data.get("status"))
        if state == "queued":
            return RemoteStatus(Phase.QUEUED, message="Conversion queued")
        if state == "processing":
            return RemoteStatus(Phase.RUNNING, message="Converting")
        if state == "failed":
            return RemoteStatus(Phase.FAILED, error_code="conversion_failed",
                                message=f"Thrixel could not convert the model: "
                                        f"{errors.said(data.get('error') or 'no reason given')}")
        if state not in ("ready", "completed"):
            raise errors.UnexpectedResponseError(f"unknown conversion status {state!r}",
                                                 service=SERVICE)
        fmt = str(params.get("format") or data.get("format") or "fbx")
        sid = str(params.get("parent_submission_id") or data.get("submission_id"))
        query = {"format": fmt}
        if fmt == "fbx" and params.get("target", "generic") != "generic":
            query["target"] = str(params["target"])
        ext = "zip" if query.get("target") == "roblox" else _EXTENSION.get(fmt, fmt)
        url = f"{self.api}/{sid}/download"
        # Conversions are free.
        return RemoteStatus(Phase.SUCCEEDED, progress=1.0, message="Converted", results=[
            ResultFile(f"{sid}.{ext}", lambda: self.download(url, query),
                       _KINDS.get(fmt))], charge=Charge(0.0, UNIT))

    # -- results ---------------------------------------------------------------------------
    def download(self, url: str, query: Mapping[str, str]) -> Body:
        """The file's bytes; 202 (still preparing, or a conversion queued) raises
        ``ResultNotReadyError``, a JSON body in place of a file raises
        ``UnexpectedResponseError`` before anything is written. Redirects are followed."""
        response = self.http.request("GET", url, params=dict(query), stream=True, ok=(202,),
                                     timeout=self.http.download_timeout())
        if response.status_code == 202:
            response.close()  # what it said was kept (``HttpClient.read_note``)
            try:
                info = response.json()
            except ValueError:
                info = {}
            state = info.get("status") if isinstance(info, dict) else None
            if state == "failed":
                raise errors.UnexpectedResponseError(
                    f"Thrixel could not prepare the file: {info.get('error') or 'failed'}",
                    service=SERVICE, status=202)
            # Without a Retry-After the engine's own back-off decides when to ask again.
            retry = parse_retry_after(response.headers.get("Retry-After"))
            raise errors.ResultNotReadyError(
                f"Thrixel is still preparing the file ({state or 'preparing'})",
                service=SERVICE, retry_after=retry)
        if "json" in response.headers.get("Content-Type", "").lower():
            self.http.read_note(response, url)
            raise errors.UnexpectedResponseError(
                f"Thrixel sent JSON instead of a model: {body_excerpt(response, 200)}",
                service=SERVICE, status=response.status_code)
        return self.http.body(response, url)

    def hierarchy(self, submission_id: str) -> Hierarchy:
        """The finished model's parts (names for ``focus_on_node_names``) and bounds."""
        return parse_hierarchy(self.hierarchy_data(submission_id))

    def hierarchy_data(self, submission_id: str) -> dict[str, Any]:
        """The ``/hierarchy`` answer as the service sent it (to keep beside the results),
        refused like ``hierarchy`` when it is not a readable tree."""
        data = self.http.request("GET", f"{self.api}/{submission_id}/hierarchy").json()
        parse_hierarchy(data)  # refuses anything but a tree of node objects
        return dict(data)

    # -- account ---------------------------------------------------------------------------
    def cancel(self, job: Job) -> bool:
        if job.operation == "convert":
            return False  # conversions are free and have no cancel route
        response = self.http.request("POST", f"{self.api}/{job.remote_id}/cancel", json={},
                                     idempotent=True, ok=(409,))
        if response.status_code == 409:
            raise errors.InvalidRequestError(
                "Thrixel has already started this job and cannot cancel it any more; it will "
                "finish (and be charged)", service=SERVICE, status=409)
        data = response.json()
        return bool(data.get("cancelled")) if isinstance(data, dict) else False

    def funds(self) -> Funds | None:
        data = self.http.request("GET", f"{self.api}/usage").json()
        if not isinstance(data, dict):
            return None
        with self._cap_lock:
            self._note_cap(data)
        cubes = data.get("cubes_balance")
        amount = None
        if data.get("is_unlimited") or cubes is None:
            parts = ["unlimited Cubes"]
        elif isinstance(cubes, int | float) and not isinstance(cubes, bool):
            parts, amount = [f"{cubes:g} Cubes"], float(cubes)
        else:
            parts = [f"{str(cubes)[:20]} Cubes"]
        runs = data.get("monthly_runs")
        if isinstance(runs, dict) and runs.get("limit"):
            used = sum(v for v in (runs.get("used") or {}).values() if isinstance(v, int))
            parts.append(f"{used}/{runs['limit']} runs this month")
        if data.get("plan"):
            parts.append(f"{data['plan']} plan")
        return Funds(" · ".join(parts), amount, UNIT)

    def live_prices(self) -> dict[str, float]:
        """Cubes per operation from the public ``/tiers`` list (see ``tier_prices``)."""
        return tier_prices(self.http.request("GET", f"{self.api}/tiers").json())

    def check_key(self) -> str:
        data = self.http.request("GET", f"{self.api}/validate").json()
        if not isinstance(data, dict) or not data.get("valid", False):
            raise errors.AuthenticationError(
                f"Thrixel says the key is not valid; get one at {KEY_HELP}", service=SERVICE)
        who = ", ".join(str(data[k]) for k in ("name", "role") if data.get(k))
        return "Thrixel key accepted" + (f" ({who})" if who else "")


def tier_prices(data: Any) -> dict[str, float]:
    """The figures of a ``/tiers`` answer: a ``prices`` object at the top or in the first tier
    that has one, by Thrixel's operation names (``architect``, ``detailer``, ...). The answer's
    layout is not published beyond "plans and prices", so anything else gives no figures."""
    if not isinstance(data, dict):
        return {}
    tiers = data.get("tiers")
    places = [data, *(t for t in tiers if isinstance(t, dict))] if isinstance(tiers, list) \
        else [data]
    for place in places:
        prices = place.get("prices")
        if isinstance(prices, dict):
            return {str(name): float(value) for name, value in prices.items()
                    if isinstance(value, int | float) and not isinstance(value, bool)}
    return {}


def _charge(info: Mapping[str, Any], *, failed: bool) -> Charge | None:
    """What a finished submission cost, from ``/info``: ``cubes_spent`` and the Cubes of a
    reference picture Thrixel made for it. A failure with nothing spent was refunded (a failed
    sculpt may still cost Cubes, which then stand)."""
    spent = [value for value in (info.get("cubes_spent"), info.get("cubes_reference_image"))
             if isinstance(value, int | float) and not isinstance(value, bool)]
    if not spent:
        return None
    total = float(sum(spent))
    return Charge(total, UNIT, refunded=failed and total == 0)


def make(config: ClientConfig) -> ThrixelClient:
    return ThrixelClient(config)
