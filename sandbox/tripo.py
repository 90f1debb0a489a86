"""Tripo3D under ``/tripo``: the v2 task API (``/tripo/v2/openapi/...``) and the v3 API
(``/tripo/v3/...``), sharing one task store, credits and signed, short-lived result URLs."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .faults import DOWNLOAD_FAULTS, JOB_FAULTS, FaultSet
from .http import Request, Response, json_response, parse_multipart
from .images import candidate_image
from .models import glb_to_3mf, glb_to_fbx, glb_to_obj_zip, glb_to_stl, glb_to_usdz, thumbnail
from .service import Host, Service, authenticated, with_form
from .state import Account, Timeline, iso_z
from .validate import Checker, image_kind

V2 = "/v2/openapi"
URL_LIFETIME = 300  # seconds; the docs disagree (60 s to 24 h), so clients must be prompt.
UPLOAD_LIMIT = 20 * 1024 * 1024
PER_MINUTE_QUOTA = 200
BATCH_LIMIT = 100  # task ids per batch read

# code -> (HTTP status, message, suggestion)
CODES: dict[int, tuple[int, str, str]] = {
    1000: (500, "Unknown server error.", "Please retry later."),
    1001: (500, "Fatal server error.", "Please retry later or contact support."),
    1002: (401, "Authentication failed.", "Please check your API key."),
    1003: (400, "The request body is malformed.", "Please send a valid JSON body."),
    1004: (400, "Invalid parameter.", "Please check the parameters you passed."),
    1005: (403, "You are not allowed to access this resource.", "Please contact support."),
    1007: (429, "You have exceeded the creation quota per minute.", "Please retry later."),
    2000: (429, "You have exceeded the limit of generation.", "Please retry later."),
    2001: (404, "Task not found.", "Please check the task id."),
    2002: (400, "The task type is unsupported.", "Please check the task type."),
    2003: (400, "The input file is empty.", "Please check the file you passed."),
    2004: (400, "The file type is unsupported.", "Please check the file type."),
    2006: (400, "The task is not a draft task.", "Please use a draft model to start refine."),
    2007: (400, "The status of the draft task is not success.", "Use a successful draft."),
    2008: (
        400,
        "Task is rejected because the input violates our content policy.",
        "Please modify your input and retry.",
    ),
    2010: (403, "You need more credits to start a new task.", "Please purchase more credits."),
    2013: (403, "Your tier does not allow this priority.", "Please upgrade your plan."),
    2014: (500, "Audit service error.", "Please retry or contact support."),
    2015: (400, "The version has been deprecated, please try higher version.", "Try higher."),
    2016: (400, "animate_model has been retired.", "Use animate_rig and animate_retarget."),
    2017: (400, "Invalid model version.", "Please check the available versions."),
    2018: (400, "The model is too complex to remesh", "Try another model."),
    2019: (404, "File not found.", "Please verify the file reference."),
    2021: (400, "The file is too large.", "Please upload a smaller file."),
    2022: (400, "The model is too large.", "Please use a smaller model."),
}

MODEL_VERSIONS = (
    "P1-20260311",
    "v3.1-20260211",
    "Turbo-v1.0-20250506",
    "v3.0-20250812",
    "v2.5-20250123",
    "v2.0-20240919",
    "v1.4-20240625",
)
MULTIVIEW_VERSIONS = ("v3.0-20250812", "v2.5-20250123", "v2.0-20240919")
DEPRECATED_VERSIONS = ("v1.3-20240522",)
DEFAULT_VERSION = "v2.5-20250123"
IMAGE_MODELS = {
    "flux.1_kontext_pro": 4,
    "flux.1_dev": 0,
    "gpt_4o": 10,
    "gemini_2.5_flash_image_preview": 10,
    "z_image": 0,
}
TEXTURE_VERSIONS = ("v2.5-20250123", "v3.0-20250812", "v3.5-20260815")
RIG_VERSIONS = ("v1.0-20240301", "v2.0-20250506", "v2.5-20260210", "v3.0-20260909")
RIG_TYPES = ("biped", "quadruped", "hexapod", "octopod", "avian", "serpentine", "aquatic", "others")
RIG_SPECS = ("tripo", "mixamo", "actorcore", "unity", "unreal", "vrm")
ANIMATIONS = tuple(
    f"preset:{name}"
    for name in (
        "idle",
        "walk",
        "run",
        "dive",
        "climb",
        "jump",
        "slash",
        "shoot",
        "hurt",
        "fall",
        "turn",
        "quadruped:walk",
        "hexapod:walk",
        "octopod:walk",
        "serpentine:march",
        "aquatic:march",
    )
)
CONVERT_FORMATS = ("GLTF", "USDZ", "FBX", "OBJ", "STL", "3MF")
TEXTURE_FORMATS = ("BMP", "DPX", "HDR", "JPEG", "OPEN_EXR", "PNG", "TARGA", "TIFF", "WEBP")
SEGMENT_VERSIONS = ("v1.0-20250506", "v2.0-20260430")
LOWPOLY_VERSIONS = ("P-v2.0-20251226", "P-v2.0-20251225")
GENERATION_TYPES = ("text_to_model", "image_to_model", "multiview_to_model")
RETIRED_TYPES = ("classification", "render_video", "render_image")

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


class TripoError(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or CODES[code][1])
        self.code = code
        self.message = message or CODES[code][1]


@dataclass
class Upload:
    token: str
    key: str
    kind: str
    data: bytes


@dataclass
class Task:
    task_id: str
    key: str
    type: str
    api: str
    input: dict[str, Any]
    version: str | None
    timeline: Timeline
    created_wall: float
    credits: int
    faults: FaultSet
    outputs: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (cdn path, type)
    extra_output: dict[str, Any] = field(default_factory=dict)
    model_source: Callable[[], bytes] | None = None
    settled: bool = False
    prompt: str | None = None

    def outcome(self) -> tuple[str, int | None]:
        """Terminal (status, error code) this task reaches, as v2 names it."""
        if "fail" not in self.faults:
            return "success", None
        value = self.faults.value("fail", "1001")
        if value == "banned":
            return "banned", 2008
        if value == "expired":
            return "expired", 2018
        try:
            return "failed", int(value)
        except ValueError:
            return "failed", 1001

    def status(self, now: float) -> str:
        stage = self.timeline.stage(now)
        if stage == "queued":
            return "queued"
        if stage == "running":
            return "running"
        return self.outcome()[0]


def _is_version_at_least(version: str | None, floor: str) -> bool:
    """Compare 'vX.Y-date' versions by their number; Turbo/P1 count as new."""
    if version is None:
        return False
    if not version.startswith("v"):
        return True
    try:
        number = tuple(int(p) for p in version[1:].split("-")[0].split("."))
        wanted = tuple(int(p) for p in floor[1:].split("-")[0].split("."))
    except ValueError:
        return False
    return number >= wanted


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


class TripoService(Service):
    name = "tripo"

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.tasks: dict[str, Task] = {}
        self.uploads: dict[str, Upload] = {}
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
            self.uploads[token] = Upload(token, account.key, kind, data)
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
                self.uploads[token] = Upload(token, account.key, fmt or "png", data)

        url = self.host.cdn.accept_upload(f"/tripo-upload/{token}", receive)
        return self._ok(
            req, {"upload_url": url, "presigned_url": url, "file_token": token, "expires_in": 900}
        )

    def _check_file(
        self, req: Request, account: Account, value: Any, where: str, object_only: bool = False
    ) -> None:
        """Validate one file reference object; raises TripoError with the documented code."""
        if not isinstance(value, dict):
            raise TripoError(1004, f"{where} must be an object")
        if "data" in value:
            raise TripoError(1004, f"{where}: base64 data is not accepted; upload the file")
        given = [k for k in ("file_token", "url", "object") if value.get(k)]
        if not given:
            raise TripoError(2003)
        if len(given) > 1:
            raise TripoError(1004, f"{where}: file_token, url and object are mutually exclusive")
        if object_only and given[0] != "object":
            raise TripoError(1004, f"{where}: import_model accepts only file.object")
        if "type" in value and not isinstance(value["type"], str):
            raise TripoError(1004, f"{where}.type must be a string")
        if given[0] == "url":
            url = value["url"]
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise TripoError(1004, f"{where}.url must be an http(s) URL")
            return
        if given[0] == "file_token":
            token = value["file_token"]
        else:
            ref = value["object"]
            if not isinstance(ref, dict) or not isinstance(ref.get("key"), str):
                raise TripoError(1004, f"{where}.object needs bucket and key")
            token = ref["key"]
        with self.state.lock:
            upload = self.uploads.get(str(token))
        if upload is None or upload.key != account.key:
            raise TripoError(2019)

    # -- validation by task type ----------------------------------------------------------
    def _validate(
        self, req: Request, account: Account, body: dict[str, Any], api: str
    ) -> tuple[str | None, int, str]:
        """Check a task body; returns (model version, credits, seed text) or raises."""
        task_type = body.get("type")
        if task_type == "animate_model":
            raise TripoError(2016)
        if not isinstance(task_type, str) or task_type not in _CREDITS:
            raise TripoError(2002)
        checker = Checker(body)
        version: str | None = None
        seed_text = ""
        credits = _CREDITS[task_type]

        def versions(allowed: tuple[str, ...], default: str | None, required: bool = False) -> None:
            nonlocal version
            value = body.get("model_version")
            if value is None and api == "v3":
                value = body.get("model")
            if value is None:
                if required:
                    raise TripoError(1004, "model_version is required")
                version = default
                return
            if not isinstance(value, str):
                raise TripoError(1004, "model_version must be a string")
            if value in DEPRECATED_VERSIONS or (
                task_type == "multiview_to_model" and value == "v1.4-20240625"
            ):
                raise TripoError(2015)
            if value not in allowed:
                raise TripoError(2017)
            version = value

        if task_type in GENERATION_TYPES:
            allowed = MULTIVIEW_VERSIONS if task_type == "multiview_to_model" else MODEL_VERSIONS
            versions(allowed, DEFAULT_VERSION, required=api == "v3")
            if task_type == "text_to_model":
                seed_text = checker.string("prompt", required=True, min_len=1, max_len=1024) or ""
                checker.string("negative_prompt", max_len=255)
                checker.integer("image_seed")
            elif task_type == "image_to_model":
                if "file" not in body:
                    raise TripoError(2003)
                self._check_file(req, account, body["file"], "file")
                seed_text = repr(body["file"])
                checker.boolean("enable_image_autofix")
                checker.string("orientation", choices=("default", "align_image"))
            else:
                files = body.get("files")
                if not isinstance(files, list) or len(files) != 4:
                    raise TripoError(
                        1004, "files must list exactly 4 items [front, left, back, right]"
                    )
                present = [i for i, f in enumerate(files) if isinstance(f, dict) and f]
                if 0 not in present:
                    raise TripoError(1004, "the front image (files[0]) cannot be omitted")
                if len(present) < 2:
                    raise TripoError(1004, "at least two images are required")
                for i in present:
                    self._check_file(req, account, files[i], f"files[{i}]")
                seed_text = repr(files[0])
                checker.string("orientation", choices=("default", "align_image"))
            checker.integer("model_seed")
            checker.integer("texture_seed")
            texture = checker.boolean("texture")
            pbr = checker.boolean("pbr")
            quality = checker.string("texture_quality", choices=("standard", "detailed", "extreme"))
            if task_type != "text_to_model":
                checker.string("texture_alignment", choices=("original_image", "geometry"))
            checker.boolean("auto_size")
            quad = checker.boolean("quad")
            checker.string("compress", choices=("geometry",))
            low_poly = checker.boolean("smart_low_poly")
            parts = checker.boolean("generate_parts")
            checker.boolean("export_uv")
            geometry = checker.string("geometry_quality", choices=("standard", "detailed"))
            face_limit = checker.integer("face_limit", low=1)
            if version == "P1-20260311":
                for name in ("quad", "smart_low_poly", "generate_parts", "geometry_quality"):
                    if name in body:
                        checker.fail(name, "must be omitted for P1-20260311")
                if face_limit is not None and not 48 <= face_limit <= 20000:
                    checker.fail("face_limit", "must be between 48 and 20000 for P1-20260311")
            elif face_limit is not None and low_poly:
                low, high = (500, 10000) if quad else (1000, 20000)
                if not low <= face_limit <= high:
                    checker.fail("face_limit", f"must be between {low} and {high}")
            if parts:
                if texture is not False or pbr is not False:
                    checker.fail("generate_parts", "needs texture=false and pbr=false")
                if quad:
                    checker.fail("generate_parts", "is not compatible with quad=true")
            textured = texture is not False or bool(pbr)
            if task_type == "text_to_model":
                credits = 20 if textured else 10
            else:
                credits = 30 if textured else 20
            credits += 5 * bool(quad) + 10 * bool(low_poly) + 20 * bool(parts)
            credits += 10 * (quality == "detailed") + 20 * (geometry == "detailed")
        elif task_type == "text_to_image":
            seed_text = checker.string("prompt", required=True, min_len=1, max_len=1024) or ""
            checker.string("negative_prompt", max_len=255)
        elif task_type == "generate_image":
            seed_text = checker.string("prompt", required=True, min_len=1, max_len=1024) or ""
            model = checker.string("model_version", choices=tuple(IMAGE_MODELS))
            version = model or "flux.1_kontext_pro"
            if "file" in body and "files" in body:
                checker.fail("files", "file and files are mutually exclusive")
            limit = IMAGE_MODELS[version]
            references = [body["file"]] if "file" in body else body.get("files") or []
            if not isinstance(references, list):
                raise TripoError(1004, "files must be a list")
            if references and limit == 0:
                checker.fail("model_version", f"{version} cannot be used with an image file")
            elif len(references) > limit:
                checker.fail("files", f"at most {limit} files for {version}")
            for i, ref in enumerate(references):
                self._check_file(req, account, ref, f"files[{i}]")
            checker.boolean("t_pose")
            checker.boolean("sketch_to_render")
        elif task_type in ("generate_multiview_image", "edit_multiview_image"):
            if task_type == "generate_multiview_image":
                if "file" not in body:
                    raise TripoError(2003)
                self._check_file(req, account, body["file"], "file")
                seed_text = repr(body["file"])
            else:
                files = body.get("files")
                if not isinstance(files, list) or len(files) != 4:
                    raise TripoError(1004, "files must list exactly 4 views")
                for i, ref in enumerate(files):
                    self._check_file(req, account, ref, f"files[{i}]")
                seed_text = checker.string("prompt", required=True, min_len=1, max_len=1024) or ""
        elif task_type == "refine_model":
            draft = self._owned_task(account, body.get("draft_model_task_id"))
            if draft.type not in GENERATION_TYPES or _is_version_at_least(draft.version, "v2.0"):
                raise TripoError(2006)
            if draft.status(self.state.now()) != "success":
                raise TripoError(2007)
            seed_text = draft.task_id
        elif task_type == "import_model":
            if "file" not in body:
                raise TripoError(2003)
            self._check_file(req, account, body["file"], "file", object_only=True)
            seed_text = repr(body["file"])
        else:
            source = self._source_task(account, body)
            seed_text = source.task_id
            if task_type == "texture_model":
                versions(TEXTURE_VERSIONS, "v3.0-20250812" if api == "v3" else DEFAULT_VERSION)
                textured = checker.boolean("texture") is not False or bool(checker.boolean("pbr"))
                credits = 20 if textured else 10
                checker.integer("model_seed")
                checker.integer("texture_seed")
                checker.string("texture_quality", choices=("standard", "detailed", "extreme"))
                checker.string("texture_alignment", choices=("original_image", "geometry"))
                checker.string_list("part_names")
                checker.string("compress", choices=("geometry",))
                checker.boolean("bake")
                prompt = body.get("texture_prompt")
                if prompt is not None:
                    if not isinstance(prompt, dict) or not prompt:
                        checker.fail("texture_prompt", "must be an object with text or image")
                    else:
                        if "text" in prompt and not isinstance(prompt["text"], str):
                            checker.fail("texture_prompt.text", "must be a string")
                        for name in ("image", "style_image"):
                            if name in prompt:
                                self._check_file(
                                    req, account, prompt[name], f"texture_prompt.{name}"
                                )
            elif task_type == "animate_rig":
                versions(RIG_VERSIONS, "v2.5-20260210" if api == "v3" else "v1.0-20240301")
                checker.string("out_format", choices=("glb", "fbx"))
                checker.string("rig_type", choices=RIG_TYPES)
                checker.string("spec", choices=RIG_SPECS)
            elif task_type == "animate_retarget":
                if source.type != "animate_rig":
                    checker.fail("original_model_task_id", "must be an animate_rig task")
                one = checker.string("animation", choices=ANIMATIONS)
                many = checker.string_list("animations", max_items=5, min_items=1)
                if one is None and many is None and checker.ok:
                    checker.fail("animation", "animation or animations is required")
                for name in many or []:
                    if name not in ANIMATIONS:
                        checker.fail("animations", f"unknown animation {name!r}")
                credits = 10 * max(1, len(many or []))
                checker.string("out_format", choices=("glb", "fbx"))
                for name in ("bake_animation", "export_with_geometry", "animate_in_place"):
                    checker.boolean(name)
            elif task_type == "stylize_model":
                checker.string(
                    "style",
                    required=True,
                    choices=(
                        "lego",
                        "voxel",
                        "voronoi",
                        "minecraft",
                        "keyring",
                        "fridge_magnet",
                        "keycap",
                    ),
                )
                checker.integer("block_size", low=1)
            elif task_type == "convert_model":
                fmt = checker.string("format", required=True, choices=CONVERT_FORMATS)
                quad = checker.boolean("quad")
                if checker.boolean("force_symmetry") and not quad:
                    checker.fail("force_symmetry", "only valid with quad=true")
                checker.integer("face_limit", low=1)
                checker.boolean("flatten_bottom")
                checker.number("flatten_bottom_threshold", low=0)
                checker.integer("texture_size", low=1)
                checker.string("texture_format", choices=TEXTURE_FORMATS)
                checker.number("scale_factor", low=0)
                for name in (
                    "pivot_to_center_bottom",
                    "with_animation",
                    "pack_uv",
                    "bake",
                    "export_vertex_colors",
                    "animate_in_place",
                    "assemble_animation",
                ):
                    checker.boolean(name)
                checker.string_list("part_names")
                checker.string("fbx_preset", choices=("blender", "mixamo", "3dsmax"))
                checker.string("export_orientation", choices=("+x", "+y", "-x", "-y"))
                if fmt in ("OBJ", "STL", "3MF") and source.type in (
                    "animate_rig",
                    "animate_retarget",
                ):
                    checker.fail("format", f"{fmt} is not available for rigged models")
                advanced = [
                    k for k in body if k not in ("type", "format", "original_model_task_id")
                ]
                credits = 10 if advanced else 5
            elif task_type == "mesh_segmentation":
                versions(SEGMENT_VERSIONS, "v1.0-20250506")
            elif task_type == "mesh_completion":
                if source.type != "mesh_segmentation":
                    checker.fail("original_model_task_id", "must be a mesh_segmentation task")
                versions(("v1.0-20250506",), "v1.0-20250506")
                checker.string_list("part_names")
                checker.string("completion_mode", choices=("ai_completion", "quick_cap"))
            elif task_type == "highpoly_to_lowpoly":
                versions(LOWPOLY_VERSIONS, LOWPOLY_VERSIONS[0])
                quad = checker.boolean("quad")
                high = 10000 if quad else 20000
                checker.integer("face_limit", low=500, high=high)
                checker.string_list("part_names")
                checker.boolean("bake")
        if not checker.ok:
            raise TripoError(1004, "; ".join(p.text() for p in checker.problems))
        return version, credits, seed_text

    def _owned_task(self, account: Account, task_id: Any) -> Task:
        with self.state.lock:
            task = self.tasks.get(task_id) if isinstance(task_id, str) else None
        if task is None or task.key != account.key:
            raise TripoError(2001)
        return task

    def _source_task(self, account: Account, body: dict[str, Any]) -> Task:
        task = self._owned_task(account, body.get("original_model_task_id"))
        if task.status(self.state.now()) != "success":
            raise TripoError(1004, "original_model_task_id must be a successful task")
        if task.model_source is None:
            raise TripoError(1004, "original_model_task_id has no model output")
        return task

    # -- creation --------------------------------------------------------------------------
    def _create(self, req: Request, account: Account, body: dict[str, Any], api: str) -> Response:
        if "reject" in req.faults:
            try:
                code = int(req.faults.value("reject"))
            except ValueError:
                code = 1000
            headers = [("Retry-After", "2")] if CODES.get(code, (0,))[0] == 429 else None
            return self._error(req, code, headers=headers)
        try:
            version, credits, seed_text = self._validate(req, account, body, api)
        except TripoError as exc:
            return self._error(req, exc.code, exc.message)
        task_type = body["type"]
        now = self.state.now()
        with self.state.lock:
            self._settle_account(account, now)
            account.recent = [t for t in account.recent if now - t < 60]
            if len(account.recent) >= PER_MINUTE_QUOTA:
                return self._error(req, 1007, headers=[("Retry-After", "60")])
            group, limit = GROUP_LIMITS.get(task_type, ("other", 10))
            if version == "P1-20260311":
                group, limit = "p1", 5
            ongoing = sum(
                1
                for t in self.tasks.values()
                if t.key == account.key
                and t.status(now) in ("queued", "running")
                and GROUP_LIMITS.get(t.type, ("other", 10))[0] == group
            )
            if ongoing >= limit:
                return self._error(req, 2000, headers=[("Retry-After", "5")])
            if account.balance < credits:
                return self._error(req, 2010)
            account.balance -= credits
            account.frozen += credits
            account.recent.append(now)
            faults = req.faults.subset(JOB_FAULTS)
            kind = "tripo-image" if task_type in ("text_to_image", "generate_image") else "tripo"
            task = Task(
                task_id=self.state.uuid(),
                key=account.key,
                type=task_type,
                api=api,
                input={k: v for k, v in body.items() if k != "type"},
                version=version,
                timeline=self.state.timeline(kind, faults),
                created_wall=self.state.wall(now),
                credits=credits,
                faults=faults,
                prompt=body.get("prompt") if isinstance(body.get("prompt"), str) else None,
            )
            self.tasks[task.task_id] = task
        self._plan_outputs(task, body, account, seed_text)
        return self._ok(req, {"task_id": task.task_id})

    def _plan_outputs(self, task: Task, body: dict[str, Any], account: Account, seed: str) -> None:
        """Publish the task's result files on the CDN (built lazily when first fetched)."""
        cdn = self.host.cdn
        faults = task.faults.subset(DOWNLOAD_FAULTS)
        base = f"/tripo/{task.task_id}"

        def publish(name: str, filename: str, producer: Callable[[], bytes], ctype: str) -> None:
            cdn.publish(f"{base}/{filename}", producer, ctype, faults, signed=True)
            task.outputs[name] = (f"{base}/{filename}", ctype)

        t = task.type
        if t in ("text_to_image", "generate_image"):
            publish(
                "generated_image",
                "generated.png",
                lambda: candidate_image(seed, 0, 0, size=256),
                "image/png",
            )
            return
        if t in ("generate_multiview_image", "edit_multiview_image"):
            for index, view in enumerate(("front", "left", "back", "right")):
                publish(
                    f"{view}_view_url",
                    f"{view}.png",
                    functools.partial(candidate_image, seed, 0, index, size=256),
                    "image/png",
                )
            return
        if t == "animate_prerigcheck":
            task.extra_output = {"riggable": True, "rig_type": "biped"}
            return
        source_model = self._model_source(task, body, account, seed)
        task.model_source = source_model
        fmt = "glb"
        if t in GENERATION_TYPES and body.get("quad") is True:
            fmt = "fbx"
        elif t in ("animate_rig", "animate_retarget") and body.get("out_format") == "fbx":
            fmt = "fbx"
        elif t == "convert_model":
            fmt = {
                "GLTF": "glb",
                "FBX": "fbx",
                "OBJ": "obj",
                "STL": "stl",
                "USDZ": "usdz",
                "3MF": "3mf",
            }[str(body.get("format"))]
        producers: dict[str, tuple[Callable[[], bytes], str, str]] = {
            "glb": (source_model, "model.glb", "model/gltf-binary"),
            "fbx": (lambda: glb_to_fbx(source_model()), "model.fbx", "application/octet-stream"),
            "obj": (lambda: glb_to_obj_zip(source_model()), "model.zip", "application/zip"),
            "stl": (lambda: glb_to_stl(source_model()), "model.stl", "model/stl"),
            "usdz": (lambda: glb_to_usdz(source_model()), "model.usdz", "model/vnd.usdz+zip"),
            "3mf": (lambda: glb_to_3mf(source_model()), "model.3mf", "model/3mf"),
        }
        producer, filename, ctype = producers[fmt]
        textured = body.get("texture") is not False or body.get("pbr") is True
        name = "pbr_model" if (t in GENERATION_TYPES and textured and fmt == "glb") else "model"
        publish(name, filename, producer, ctype)
        publish("rendered_image", "rendered.png", lambda: thumbnail(source_model()), "image/png")

    def _model_source(
        self, task: Task, body: dict[str, Any], account: Account, seed: str
    ) -> Callable[[], bytes]:
        source_id = body.get("original_model_task_id") or body.get("draft_model_task_id")
        if isinstance(source_id, str) and source_id in self.tasks:
            parent = self.tasks[source_id]
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
        for task in list(self.tasks.values()):
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
            "task_id": task.task_id,
            "type": task.type,
            "status": status,
            "input": task.input,
            "output": {},
            "progress": 0,
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
            "task_id": task.task_id,
            "type": task.type,
            "status": status,
            "input": task.input,
            "output": {},
            "progress": 0,
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
            task = self._owned_task(account, req.params["task_id"])
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
            task = self.tasks.get(task_id)
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
            (t for t in self.tasks.values() if t.key == account.key),
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


# Base credits per task type (surcharges for generation options are added in _validate).
_CREDITS = {
    "text_to_model": 20,
    "image_to_model": 30,
    "multiview_to_model": 30,
    "text_to_image": 5,
    "generate_image": 5,
    "generate_multiview_image": 10,
    "edit_multiview_image": 10,
    "refine_model": 30,
    "texture_model": 20,
    "animate_prerigcheck": 0,
    "animate_rig": 25,
    "animate_retarget": 10,
    "stylize_model": 20,
    "convert_model": 5,
    "mesh_segmentation": 20,
    "mesh_completion": 20,
    "highpoly_to_lowpoly": 20,
    "import_model": 0,
}
