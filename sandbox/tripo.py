"""Tripo3D under ``/tripo``: the v2 task API (``/tripo/v2/openapi/...``) and the v3 API
(``/tripo/v3/...``), sharing one task store, credits and signed, short-lived result URLs."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from .faults import DOWNLOAD_FAULTS, JOB_FAULTS
from .http import Request, Response, json_response, parse_multipart
from .images import candidate_image
from .models import glb_to_3mf, glb_to_fbx, glb_to_obj_zip, glb_to_stl, glb_to_usdz, thumbnail
from .service import Host, Service, authenticated, with_form
from .state import Account, iso_z
from .tripo_tasks import (
    CODES,
    GENERATION_TYPES,
    Task,
    TaskCheck,
    TaskStore,
    TripoError,
    Upload,
    check_task,
)
from .validate import Checker, image_kind

V2 = "/v2/openapi"
URL_LIFETIME = 300  # seconds; the docs disagree (60 s to 24 h), so clients must be prompt.
UPLOAD_LIMIT = 20 * 1024 * 1024
PER_MINUTE_QUOTA = 200
BATCH_LIMIT = 100  # task ids per batch read
P1_VERSION = "P1-20260311"

# Concurrency groups (per key): task type -> (group, limit).
GROUP_LIMITS = {
    "refine_model": ("refine", 5),
    "generate_multiview_image": ("multiview_image", 1),
    "edit_multiview_image": ("edit_multiview_image", 1),
}
for _type in (*GENERATION_TYPES, "text_to_image", "generate_image"):
    GROUP_LIMITS[_type] = ("generation", 10)
for _type in ("animate_prerigcheck", "animate_rig", "animate_retarget"):
    GROUP_LIMITS[_type] = ("animate", 10)



def _group(task_type: str, version: str | None) -> tuple[str, int]:
    """A task's concurrency group and its limit; P1 generations are a group of their own."""
    group, limit = GROUP_LIMITS.get(task_type, ("other", 10))
    if group == "generation" and version == P1_VERSION:
        return "p1", 5
    return group, limit


# v3 route -> v2 task type.
V3_ROUTES = {
    "generation/text-to-model": "text_to_model",
    "generation/image-to-model": "image_to_model",
    "generation/multiview-to-model": "multiview_to_model",
    "generation/text-to-image": "text_to_image",
    "generation/image-to-image": "generate_image",
    "generation/image-to-multiview": "generate_multiview_image",
    "generation/edit-multiview": "edit_multiview_image",
    "models/texture": "texture_model",
    "models/convert": "convert_model",
    "models/import": "import_model",
    "models/refine": "refine_model",
    "models/stylize": "stylize_model",
    "animations/rig-check": "animate_prerigcheck",
    "animations/rig": "animate_rig",
    "animations/retarget": "animate_retarget",
    "mesh/segment": "mesh_segmentation",
    "mesh/complete": "mesh_completion",
}


JsonHandler = Callable[["TripoService", Request, Account, dict[str, Any]], Response]


def _json_route(handler: JsonHandler) -> Callable[[TripoService, Request], Response]:
    """A route for a known caller whose body must be a JSON object (1003 otherwise)."""

    @authenticated
    def route(service: TripoService, req: Request, account: Account) -> Response:
        body = service._body(req)
        if isinstance(body, Response):
            return body
        return handler(service, req, account, body)

    return route


# A model result's format -> (conversion from the GLB, file name, content type).
MODEL_FILES: dict[str, tuple[Callable[[bytes], bytes] | None, str, str]] = {
    "glb": (None, "model.glb", "model/gltf-binary"),
    "fbx": (glb_to_fbx, "model.fbx", "application/octet-stream"),
    "obj": (glb_to_obj_zip, "model.zip", "application/zip"),
    "stl": (glb_to_stl, "model.stl", "model/stl"),
    "usdz": (glb_to_usdz, "model.usdz", "model/vnd.usdz+zip"),
    "3mf": (glb_to_3mf, "model.3mf", "model/3mf"),
}
# convert_model's ``format`` -> the model result's format.
CONVERTED = {"GLTF": "glb", "FBX": "fbx", "OBJ": "obj", "STL": "stl", "USDZ": "usdz", "3MF": "3mf"}


def _model_format(task_type: str, body: dict[str, Any]) -> str:
    if task_type in GENERATION_TYPES and body.get("quad") is True:
        return "fbx"
    if task_type in ("animate_rig", "animate_retarget") and body.get("out_format") == "fbx":
        return "fbx"
    if task_type == "convert_model":
        return CONVERTED[str(body.get("format"))]
    return "glb"


def _task_view(task: Task, status: str) -> dict[str, Any]:
    """The fields that open a task's view in both API families."""
    return {
        "task_id": task.task_id,
        "type": task.type,
        "status": status,
        "input": task.input,
        "output": {},
        "progress": 0,
    }


class TripoService(Service):
    name = "tripo"

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.store = TaskStore(self.state)
        r = self.router
        r.add("POST", V2 + "/task", self._v2_create)
        r.add("POST", V2 + "/task/batch", self._v2_batch)
        r.add("GET", V2 + "/task/{task_id}", self._v2_get)
        r.add("POST", V2 + "/upload", self._v2_upload)
        r.add("POST", V2 + "/upload/sts", self._v2_upload)
        r.add("GET", V2 + "/user/balance", self._v2_balance)
        r.add("GET", V2 + "/user/wallet/balance", self._v2_balance)
        for route in V3_ROUTES:
            r.add("POST", "/v3/" + route, self._v3_create)
        r.add("GET", "/v3/tasks/{task_id}", self._v3_get)
        r.add("POST", "/v3/tasks/list", self._v3_list)
        r.add("POST", "/v3/files", self._v3_upload)
        r.add("POST", "/v3/files/presign", self._v3_presign)
        r.add("GET", "/v3/account/balance", self._v3_balance)
        r.add("GET", "/v3/account/usage", self._v3_usage)

    # -- envelopes -------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        response = super().handle(req)
        response.headers.append(("X-Tripo-Trace-ID", self.state.uuid()))
        if req.path.startswith("/v3/"):
            response.headers.append(
                ("X-Request-ID", req.header("X-Request-ID") or self.state.uuid())
            )
        return response

    def _error(
        self,
        req: Request,
        code: int,
        message: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response:
        status, default_message, suggestion = CODES.get(code, (400, "Error.", ""))
        text = message or default_message
        if req.path.startswith("/v3/"):
            body: dict[str, Any] = {
                "code": 2 if code == 1002 else code,
                "status": "error",
                "message": text,
                "suggestion": suggestion,
                "request_id": req.header("X-Request-ID") or self.state.uuid(),
            }
        else:
            body = {"code": code, "message": text, "suggestion": suggestion}
        return json_response(status, body, headers)

    def _ok(self, req: Request, data: Any) -> Response:
        if req.path.startswith("/v3/"):
            return json_response(200, {"code": 0, "status": "success", "data": data})
        return json_response(200, {"code": 0, "data": data})

    def rate_limited(self, retry_after: int) -> Response:
        status, message, suggestion = CODES[2000]
        return json_response(
            status,
            {"code": 2000, "message": message, "suggestion": suggestion},
            [("Retry-After", str(retry_after))],
        )

    def server_error(self, status: int) -> Response:
        return json_response(
            status, {"code": 1000, "message": CODES[1000][1], "suggestion": CODES[1000][2]}
        )

    def not_found(self) -> Response:
        return json_response(404, {"code": 1003, "message": "Not found.", "suggestion": ""})

    def authenticate(self, req: Request) -> Account | Response:
        account = self.account_for(req)
        if account is None:
            return self._error(req, 1002)
        if account.forbidden:
            return self._error(req, 1005)
        return account

    def unreadable_body(self, req: Request) -> Response:
        return self._error(req, 1003)

    def invalid(self, req: Request, checker: Checker) -> Response:
        return self._error(req, 1004, "; ".join(p.text() for p in checker.problems))

    # -- files -----------------------------------------------------------------------------
    def _upload(self, req: Request, account: Account, token: str, answer: str) -> Response:
        """Keep a multipart image upload under ``token``; ``answer`` names the token's field."""
        if not req.content_type().startswith("multipart/"):
            return self._error(req, 1003, "Send the file as multipart/form-data field 'file'.")
        try:
            fields = parse_multipart(req.body, req.header("Content-Type") or "")
        except ValueError:
            return self._error(req, 1003)
        part = fields.get("file")
        if part is None or not part[1]:
            return self._error(req, 2003)
        data = part[1]
        if len(data) > UPLOAD_LIMIT:
            return self._error(req, 2021)
        kind = image_kind(data)
        if kind is None or kind == "gif":
            return self._error(req, 2004)
        with self.state.lock:
            self.store.uploads[token] = Upload(token, account.key, kind, data)
        return self._ok(req, {answer: token})

    @authenticated
    def _v2_upload(self, req: Request, account: Account) -> Response:
        return self._upload(req, account, self.state.uuid(), "image_token")

    @authenticated
    def _v3_upload(self, req: Request, account: Account) -> Response:
        return self._upload(req, account, "file_" + self.state.uuid(), "file_token")

    @with_form
    def _v3_presign(self, req: Request, account: Account, checker: Checker) -> Response:
        fmt = checker.string(
            "format",
            required=True,
            choices=("webp", "jpeg", "jpg", "png", "glb", "obj", "fbx", "stl"),
        )
        if not checker.ok:
            return self.invalid(req, checker)
        token = "file_" + self.state.uuid()

        def receive(data: bytes) -> None:
            with self.state.lock:
                self.store.uploads[token] = Upload(token, account.key, fmt or "png", data)

        url = self.host.cdn.accept_upload(f"/tripo-upload/{token}", receive)
        return self._ok(
            req, {"upload_url": url, "presigned_url": url, "file_token": token, "expires_in": 900}
        )

    # -- creation --------------------------------------------------------------------------
    def _create(self, req: Request, account: Account, body: dict[str, Any], api: str) -> Response:
        """Check a task body by its type's rules, admit and charge it, and queue the task."""
        if "reject" in req.faults:
            return self._rejected(req)
        try:
            check = check_task(self.store, account, body, api)
        except TripoError as exc:
            return self._error(req, exc.code, exc.message)
        now = self.state.now()
        with self.state.lock:
            refusal = self._admit(req, account, check, now)
            if refusal is not None:
                return refusal
            account.balance -= check.credits
            account.frozen += check.credits
            account.recent.append(now)
            task = self._new_task(req, account, check, now)
        self._plan_outputs(task, body, account, check.seed_text)
        return self._ok(req, {"task_id": task.task_id})

    def _rejected(self, req: Request) -> Response:
        """The ``reject`` fault: the submission fails with the code the fault names."""
        try:
            code = int(req.faults.value("reject"))
        except ValueError:
            code = 1000
        headers = [("Retry-After", "2")] if CODES.get(code, (0,))[0] == 429 else None
        return self._error(req, code, headers=headers)

    def _admit(
        self, req: Request, account: Account, check: TaskCheck, now: float
    ) -> Response | None:
        """Per-minute quota, the concurrency group's limit and credits, under the state lock."""
        self._settle_account(account, now)
        account.recent = [t for t in account.recent if now - t < 60]
        if len(account.recent) >= PER_MINUTE_QUOTA:
            return self._error(req, 1007, headers=[("Retry-After", "60")])
        group, limit = _group(check.type, check.version)
        ongoing = sum(
            1
            for t in self.store.tasks.values()
            if t.key == account.key
            and t.status(now) in ("queued", "running")
            and _group(t.type, t.version)[0] == group
        )
        if ongoing >= limit:
            return self._error(req, 2000, headers=[("Retry-After", "5")])
        if account.balance < check.credits:
            return self._error(req, 2010)
        return None

    def _new_task(self, req: Request, account: Account, check: TaskCheck, now: float) -> Task:
        """Store the admitted task; the caller holds the state lock."""
        faults = req.faults.subset(JOB_FAULTS)
        kind = "tripo-image" if check.type in ("text_to_image", "generate_image") else "tripo"
        prompt = check.body.get("prompt")
        task = Task(
            task_id=self.state.uuid(),
            key=account.key,
            type=check.type,
            api=check.api,
            input={k: v for k, v in check.body.items() if k != "type"},
            version=check.version,
            timeline=self.state.timeline(kind, faults),
            created_wall=self.state.wall(now),
            credits=check.credits,
            faults=faults,
            prompt=prompt if isinstance(prompt, str) else None,
        )
        self.store.tasks[task.task_id] = task
        return task

    def _plan_outputs(self, task: Task, body: dict[str, Any], account: Account, seed: str) -> None:
        """Publish the task's result files on the CDN (built lazily when first fetched)."""
        publish = functools.partial(self._publish, task)
        if task.type in ("text_to_image", "generate_image"):
            image = functools.partial(candidate_image, seed, 0, 0, size=256)
            publish("generated_image", "generated.png", image, "image/png")
        elif task.type in ("generate_multiview_image", "edit_multiview_image"):
            for index, view in enumerate(("front", "left", "back", "right")):
                image = functools.partial(candidate_image, seed, 0, index, size=256)
                publish(f"{view}_view_url", f"{view}.png", image, "image/png")
        elif task.type == "animate_prerigcheck":
            task.extra_output = {"riggable": True, "rig_type": "biped"}
        else:
            self._publish_model(task, body, account, seed)

    def _publish(
        self, task: Task, name: str, filename: str, producer: Callable[[], bytes], ctype: str
    ) -> None:
        path = f"/tripo/{task.task_id}/{filename}"
        faults = task.faults.subset(DOWNLOAD_FAULTS)
        self.host.cdn.publish(path, producer, ctype, faults, signed=True)
        task.outputs[name] = (path, ctype)

    def _publish_model(self, task: Task, body: dict[str, Any], account: Account, seed: str) -> None:
        source_model = self._model_source(task, body, account, seed)
        task.model_source = source_model
        fmt = _model_format(task.type, body)
        convert, filename, ctype = MODEL_FILES[fmt]
        producer = source_model if convert is None else (lambda: convert(source_model()))
        textured = body.get("texture") is not False or body.get("pbr") is True
        pbr = task.type in GENERATION_TYPES and textured and fmt == "glb"
        self._publish(task, "pbr_model" if pbr else "model", filename, producer, ctype)
        self._publish(
            task, "rendered_image", "rendered.png", lambda: thumbnail(source_model()), "image/png"
        )

    def _model_source(
        self, task: Task, body: dict[str, Any], account: Account, seed: str
    ) -> Callable[[], bytes]:
        source_id = body.get("original_model_task_id") or body.get("draft_model_task_id")
        if isinstance(source_id, str) and source_id in self.store.tasks:
            parent = self.store.tasks[source_id]
            if parent.model_source is not None:
                return parent.model_source
        library = self.host.models
        cache: list[bytes] = []

        def produce() -> bytes:
            if not cache:
                cache.append(library.choose(seed))
            return cache[0]

        if library.rotating:
            produce()  # take this task's turn now, so turns follow submission order
        return produce

    # -- settlement ------------------------------------------------------------------------
    def _settle(self, task: Task, now: float) -> None:
        if task.settled or task.status(now) in ("queued", "running"):
            return
        with self.state.lock:
            if task.settled:
                return
            task.settled = True
            account = self.state.account(self.name, task.key)
            if account is None:
                return
            account.frozen -= task.credits
            if task.status(now) != "success":
                # Failed tasks are refunded.
                account.balance += task.credits

    def _settle_account(self, account: Account, now: float) -> None:
        for task in list(self.store.tasks.values()):
            if task.key == account.key:
                self._settle(task, now)

    # -- views -----------------------------------------------------------------------------
    def _output_urls(self, task: Task, v3: bool) -> dict[str, Any]:
        expired = "expired_url" in task.faults
        cdn = self.host.cdn
        urls = {
            name: cdn.url(path, URL_LIFETIME, expired) for name, (path, _) in task.outputs.items()
        }
        out: dict[str, Any] = dict(task.extra_output)
        if v3:
            for name, url in urls.items():
                if name in ("model", "pbr_model"):
                    out["model_url"] = url
                elif name.endswith("_view_url"):
                    out.setdefault("multiview_urls", {})[name] = url
                else:
                    out[f"{name}_url"] = url
            return out
        views = {n: u for n, u in urls.items() if n.endswith("_view_url")}
        if views:
            out["generate_multiview_image"] = views
        out.update({n: u for n, u in urls.items() if not n.endswith("_view_url")})
        return out

    def _v2_view(self, task: Task, now: float) -> dict[str, Any]:
        self._settle(task, now)
        status = task.status(now)
        view: dict[str, Any] = {
            **_task_view(task, status),
            "create_time": int(task.created_wall),
            "queuing_num": -1,
            "running_left_time": -1,
        }
        if task.prompt is not None:
            view["prompt"] = task.prompt
        if status == "queued":
            remaining = task.timeline.run_start - now
            slot = max(self.state.speed.timing("tripo").queued / 3, 1e-3)
            view["queuing_num"] = max(0, math.ceil(remaining / slot) - 1)
        elif status == "running":
            view["progress"] = min(99, int(task.timeline.fraction(now) * 100))
            view["running_left_time"] = max(0, math.ceil(task.timeline.end - now))
        else:
            view["progress"] = 100
            code = task.outcome()[1]
            if status == "success":
                view["output"] = self._output_urls(task, v3=False)
                view["consumed_credit"] = task.credits
                if "rendered_image" in view["output"]:
                    view["thumbnail"] = view["output"]["rendered_image"]
            else:
                view["error_code"] = code
                view["error_msg"] = CODES.get(code or 1001, CODES[1001])[1]
                view["consumed_credit"] = 0
        return view

    def _v3_view(self, task: Task, now: float) -> dict[str, Any]:
        self._settle(task, now)
        status = task.status(now)
        if status in ("banned", "expired"):
            status = "failed"
        view: dict[str, Any] = {
            **_task_view(task, status),
            "created_at": iso_z(task.created_wall),
            "completed_at": None,
            "credits_consumed": 0,
            "error_code": None,
            "error_message": None,
        }
        if status == "running":
            view["progress"] = min(99, int(task.timeline.fraction(now) * 100))
        elif status in ("success", "failed"):
            view["progress"] = 100
            view["completed_at"] = iso_z(self.state.wall(task.timeline.end))
            if status == "success":
                view["output"] = self._output_urls(task, v3=True)
                view["credits_consumed"] = task.credits
            else:
                code = task.outcome()[1] or 1001
                view["error_code"] = code
                view["error_message"] = CODES.get(code, CODES[1001])[1]
        return view

    # -- v2 routes -------------------------------------------------------------------------
    def _body(self, req: Request) -> dict[str, Any] | Response:
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            return self._error(req, 1003)
        if not isinstance(body, dict):
            return self._error(req, 1003)
        return body

    @_json_route
    def _v2_create(self, req: Request, account: Account, body: dict[str, Any]) -> Response:
        return self._create(req, account, body, "v2")

    @authenticated
    def _v2_get(self, req: Request, account: Account) -> Response:
        return self._get(req, account, self._v2_view)

    @authenticated
    def _v3_get(self, req: Request, account: Account) -> Response:
        return self._get(req, account, self._v3_view)

    def _get(
        self, req: Request, account: Account, view: Callable[[Task, float], dict[str, Any]]
    ) -> Response:
        """One task of the caller's, in the API family's own shape (``view``)."""
        try:
            task = self.store.owned(account, req.params["task_id"])
        except TripoError as exc:
            return self._error(req, exc.code)
        return self._ok(req, view(task, self.state.now()))

    @_json_route
    def _v2_batch(self, req: Request, account: Account, body: dict[str, Any]) -> Response:
        return self._batch(req, account, body, v3=False)

    @_json_route
    def _v3_list(self, req: Request, account: Account, body: dict[str, Any]) -> Response:
        return self._batch(req, account, body, v3=True)

    def _batch(self, req: Request, account: Account, body: dict[str, Any], v3: bool) -> Response:
        """The caller's tasks among ``task_ids``, and the ids that are not theirs or unknown."""
        ids = body.get("task_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or not ids:
            return self._error(req, 1004, "task_ids must be a non-empty list of strings")
        if len(ids) > BATCH_LIMIT:
            return self._error(req, 1004, f"at most {BATCH_LIMIT} task_ids")
        now = self.state.now()
        tasks: dict[str, Any] = {}
        missed = []
        for task_id in ids:
            task = self.store.tasks.get(task_id)
            if task is None or task.key != account.key:
                missed.append(task_id)
            else:
                tasks[task_id] = self._v3_view(task, now) if v3 else self._v2_view(task, now)
        return self._ok(req, {"tasks": tasks, "missed": missed})

    @authenticated
    def _v2_balance(self, req: Request, account: Account) -> Response:
        with self.state.lock:
            self._settle_account(account, self.state.now())
            return self._ok(req, {"balance": int(account.balance), "frozen": int(account.frozen)})

    # -- v3 routes -------------------------------------------------------------------------
    @authenticated
    def _v3_create(self, req: Request, account: Account) -> Response:
        if req.content_type() != "application/json":
            return json_response(
                415,
                {
                    "code": 1003,
                    "status": "error",
                    "message": "Content-Type must be application/json",
                    "suggestion": "",
                    "request_id": self.state.uuid(),
                },
            )
        body = self._body(req)
        if isinstance(body, Response):
            return body
        route = req.path[len("/v3/") :].rstrip("/")
        task_type = V3_ROUTES[route]
        body = dict(body)
        body["type"] = task_type
        try:
            self._v3_inputs(body, task_type)
        except TripoError as exc:
            return self._error(req, exc.code, exc.message)
        return self._create(req, account, body, "v3")

    def _v3_inputs(self, body: dict[str, Any], task_type: str) -> None:
        """Turn v3's ``input``/``inputs`` strings into the v2 file objects and task ids."""

        def as_file(value: Any) -> dict[str, Any]:
            if not isinstance(value, str) or not value:
                raise TripoError(1004, "input must be a file token, URL or task id")
            if value.startswith("data:"):
                raise TripoError(1004, "base64 data is not accepted; upload the file")
            if value.startswith("file_"):
                return {"file_token": value}
            if value.startswith(("http://", "https://")):
                return {"url": value}
            raise TripoError(1004, "input must be a file token or URL")

        if "input" in body:
            value = body.pop("input")
            if task_type in ("image_to_model", "generate_multiview_image", "import_model"):
                body["file"] = as_file(value)
                if task_type == "import_model":
                    body["file"] = {
                        "object": {
                            "bucket": "tripo-data",
                            "key": body["file"].get("file_token", ""),
                        }
                    }
            elif task_type == "generate_image":
                body["files"] = [as_file(value)]
            else:
                body["original_model_task_id"] = value
                if task_type == "refine_model":
                    body["draft_model_task_id"] = value
        if "inputs" in body:
            values = body.pop("inputs")
            if not isinstance(values, list):
                raise TripoError(1004, "inputs must be a list")
            body["files"] = [as_file(v) if v else {} for v in values]

    @authenticated
    def _v3_balance(self, req: Request, account: Account) -> Response:
        with self.state.lock:
            self._settle_account(account, self.state.now())
            return self._ok(
                req, {"balance": round(account.balance, 2), "frozen": round(account.frozen, 2)}
            )

    @authenticated
    def _v3_usage(self, req: Request, account: Account) -> Response:
        try:
            limit = int(req.query.get("limit", "20"))
            offset = int(req.query.get("offset", "0"))
        except ValueError:
            return self._error(req, 1004, "limit and offset must be integers")
        if not 1 <= limit <= 200 or offset < 0:
            return self._error(req, 1004, "limit must be 1-200 and offset >= 0")
        now = self.state.now()
        mine = sorted(
            (t for t in self.store.tasks.values() if t.key == account.key),
            key=lambda t: t.created_wall,
            reverse=True,
        )
        items = []
        for task in mine[offset : offset + limit]:
            view = self._v3_view(task, now)
            items.append(
                {
                    k: view[k]
                    for k in ("task_id", "type", "status", "created_at", "credits_consumed")
                }
            )
        return self._ok(req, {"items": items})
