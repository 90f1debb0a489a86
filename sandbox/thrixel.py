"""Thrixel (https://api.thrixel.com) under ``/thrixel``: submissions by phase, /info, the SSE
/stream, /download with its 202 answers, /hierarchy, /cancel, account and project routes."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import glb as glb_format
from .faults import DOWNLOAD_FAULTS, JOB_FAULTS, FaultSet
from .http import Request, Response, file_response, json_response, parse_multipart
from .models import glb_to_fbx, glb_to_obj_zip, glb_to_stl, glb_to_usdz, thumbnail
from .service import Host, Service, authenticated, with_form
from .state import Account, Timeline, iso_z
from .validate import Checker, decode_data_url

API = "/api/v1"
CONCURRENT_JOB_CAP = 3
MAX_IMAGES = 6
INLINE_IMAGE_BYTES = 12 * 1024 * 1024
UPLOAD_LIMIT = 100 * 1024 * 1024
MODELS = ("architect-plus", "architect-balanced", "thrixel+")

PHASE_LABEL = {1: "rough", 2: "fixed", 3: "edited", 4: "detailed", 5: "uploaded"}

# Cubes per operation (the sandbox's own figures; the real service meters some by usage).
COSTS = {
    "architect": 4,
    "architect-balanced": 2,
    "sculptor": 8,
    "autofix": 3,
    "edit": 3,
    "detailer": 14,
    "upload": 0,
    # A detail job without a reference picture has one made: from its prompt, or from the mesh.
    "reference_image": 3,
    "reference_image_mesh": 7,
}

ERROR_MESSAGES = {
    "CONTENT_BLOCKED": "The request was blocked by the content filter.",
    "INVALID_IMAGE": "The reference image could not be read.",
    "MULTI_VIEW_IMAGE": "The image shows several views; send a single view.",
    "LLM_RATE_LIMITED": "The language model is rate limited; try again shortly.",
    "LLM_OVERLOADED": "The language model is overloaded; try again shortly.",
    "LLM_CONNECTION_ERROR": "Could not reach the language model.",
    "LLM_SERVER_ERROR": "The language model returned an error.",
    "CANCELLED_BY_USER": "Cancelled by user.",
    "rig_unsupported": "This model cannot be rigged.",
    "rig_failed": "Rigging failed.",
    "TASK_LOST": "The job was lost by its worker.",
    "NEVER_DISPATCHED": "The job was never dispatched to a worker.",
}
DEFAULT_FAILURE = "LLM_SERVER_ERROR"

CONVERTIBLE = {
    "fbx": ("application/octet-stream", ".fbx", glb_to_fbx),
    "obj": ("application/zip", ".obj.zip", glb_to_obj_zip),
    "stl": ("model/stl", ".stl", glb_to_stl),
    "usdz": ("model/vnd.usdz+zip", ".usdz", glb_to_usdz),
}


def _input(
    kind: str,
    task: Any,
    *,
    image: Any = None,
    images: Any = None,
    modification_request: Any = None,
) -> dict[str, Any]:
    """A submission's ``input`` object as ``/info`` shows it."""
    return {
        "type": kind,
        "task": task,
        "image": image,
        "images": images,
        "modification_request": modification_request,
    }


def _architect_cost(model: str | None) -> int:
    return COSTS["architect-balanced" if model == "architect-balanced" else "architect"]


@dataclass
class Conversion:
    job_id: str
    submission_id: str
    format: str
    timeline: Timeline
    data: bytes | None = None


@dataclass
class Submission:
    submission_id: str
    key: str
    phase: int
    operation: str
    model: str
    input: dict[str, Any]
    parent_id: str | None
    project_id: str | None
    adaptive_thinking: bool
    timeline: Timeline
    created_wall: float
    cost: int
    faults: FaultSet
    produce: Callable[[], bytes]
    full_build: float
    focus: list[str] | None = None
    # Cubes for a reference picture made for the job (reported as cubes_reference_image).
    reference_cost: int = 0
    cancelled_at: float | None = None
    settled: bool = False
    nickname: str | None = None
    _glb: bytes | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    conversions: dict[str, Conversion] = field(default_factory=dict)

    def glb(self) -> bytes:
        # The model is built when first needed (edits read the parent's GLB).
        with self._lock:
            if self._glb is None:
                self._glb = self.produce()
            return self._glb

    def status(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "failed"
        stage = self.timeline.stage(now)
        if stage == "queued":
            return "queued"
        if stage == "running":
            return "processing"
        return "failed" if "fail" in self.faults else "completed"

    def error_code(self) -> str | None:
        if self.cancelled_at is not None:
            return "CANCELLED_BY_USER"
        if "fail" in self.faults:
            return self.faults.value("fail", DEFAULT_FAILURE)
        return None

    def completed_wall(self, sandbox_wall: Callable[[float], float]) -> float:
        if self.cancelled_at is not None:
            return sandbox_wall(self.cancelled_at)
        return sandbox_wall(self.timeline.end)


@dataclass
class Plan:
    """What one submit route asks for, once its fields are checked."""

    phase: int
    operation: str
    model: str
    input: dict[str, Any]
    cost: int
    # Builds the model when its GLB is first needed (edits read the parent's GLB).
    produce: Callable[[], bytes]
    parent: Submission | None = None
    project_id: str | None = None
    adaptive: bool = False
    kind: str = "thrixel"  # the timing profile of the job
    focus: list[str] | None = None
    reference_cost: int = 0

    @property
    def total(self) -> int:
        return self.cost + self.reference_cost


def _check_detailer_options(checker: Checker) -> tuple[str | None, list[str] | None]:
    """The detailer's own fields; returns its prompt and focus node names."""
    checker.string("image")
    checker.string("mesh")
    prompt = checker.string("prompt")
    checker.integer("seed", low=0, high=999_999)
    # The docs list 512-2048 and the live service 2048/4096; both sets are accepted.
    checker.integer("texture_size", choices=(512, 768, 1024, 2048, 4096))
    checker.integer("decimation_target", low=10_000, high=500_000)
    checker.boolean("preserve_parts")
    focus = checker.string_list("focus_on_node_names")
    checker.integer("adherence_level", low=0, high=20)
    checker.string("reference_image_id")
    checker.integer("control_mesh_voxelize_res", low=256, high=2048)
    checker.string("pipeline_type", choices=("1024_cascade", "1536_cascade"))
    checker.integer("control_mesh_ss_lat_noise_t0idx", low=0, high=12)
    checker.string("focus_mode", choices=("latent", "sparse_structure"))
    return prompt, focus


def _validation_error(checker: Checker) -> Response:
    detail = [
        {"loc": ["body", p.field] if p.field else ["body"], "msg": p.message, "type": p.kind}
        for p in checker.problems
    ]
    return json_response(422, {"detail": detail})


def _detail(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return json_response(status, {"detail": message}, headers)


PlanRule = Callable[["ThrixelService", Checker, Account], "Plan | None"]


def _submit_route(rule: PlanRule) -> Callable[[ThrixelService, Request], Response]:
    """A submit route: authenticate, read the body, let ``rule`` check the route's fields and
    plan the job, then answer 422 with every problem found, or admit and queue the job."""

    @with_form
    def submit(
        service: ThrixelService, req: Request, account: Account, checker: Checker
    ) -> Response:
        plan = rule(service, checker, account)
        if plan is None or not checker.ok:
            return service.invalid(req, checker)
        return service._create(req, account, plan)

    return submit


SubmissionHandler = Callable[["ThrixelService", Request, Submission], Response]


def _submission_route(handler: SubmissionHandler) -> Callable[[ThrixelService, Request], Response]:
    """A route on one submission by id, open to any caller (the id is the secret)."""

    def route(service: ThrixelService, req: Request) -> Response:
        sub = service._get(req.params["sid"])
        if sub is None:
            return _detail(404, "Submission not found")
        return handler(service, req, sub)

    return route


def _own_submission_route(
    handler: SubmissionHandler,
) -> Callable[[ThrixelService, Request], Response]:
    """A route that changes one submission: only its owner finds it."""

    @authenticated
    def route(service: ThrixelService, req: Request, account: Account) -> Response:
        sub = service._get(req.params["sid"])
        if sub is None or sub.key != account.key:
            return _detail(404, "Submission not found")
        return handler(service, req, sub)

    return route


ProjectHandler = Callable[["ThrixelService", Request, dict[str, Any]], Response]


def _project_route(handler: ProjectHandler) -> Callable[[ThrixelService, Request], Response]:
    """A route on one of the caller's projects; another caller's is not found."""

    @authenticated
    def route(service: ThrixelService, req: Request, account: Account) -> Response:
        project = service.projects.get(req.params["project_id"])
        if project is None or project["_key"] != account.key:
            return _detail(404, "Project not found")
        return handler(service, req, project)

    return route


class ThrixelService(Service):
    name = "thrixel"

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.submissions: dict[str, Submission] = {}
        self.conversions: dict[str, Conversion] = {}
        self.projects: dict[str, dict[str, Any]] = {}
        r = self.router
        r.add("POST", API + "/phase1/submit", self._submit_create)
        r.add("POST", API + "/architect/submit", self._submit_architect)
        r.add("POST", API + "/sculptor/submit", self._submit_sculptor)
        r.add("POST", API + "/phase2/submit", self._submit_autofix)
        r.add("POST", API + "/phase3/submit", self._submit_edit)
        r.add("POST", API + "/edit/submit", self._submit_edit)
        r.add("POST", API + "/detailer/submit", self._submit_detailer)
        r.add("POST", API + "/phase5/submit", self._submit_upload)
        r.add("GET", API + "/usage", self._usage)
        r.add("GET", API + "/validate", self._validate_key)
        r.add("GET", API + "/tiers", self._tiers)
        r.add("GET", API + "/submissions", self._list_submissions)
        r.add("GET", API + "/submissions/active", self._active_submissions)
        r.add("GET", API + "/projects", self._list_projects)
        r.add("POST", API + "/projects", self._create_project)
        r.add("GET", API + "/projects/{project_id}", self._get_project)
        r.add("PATCH", API + "/projects/{project_id}", self._update_project)
        r.add("DELETE", API + "/projects/{project_id}", self._delete_project)
        r.add("POST", API + "/convert", self._convert)
        r.add("GET", API + "/convert/{job_id}", self._convert_status)
        r.add("GET", API + "/{sid}/info", self._info)
        r.add("GET", API + "/{sid}/stream", self._stream)
        r.add("GET", API + "/{sid}/download", self._download)
        r.add("GET", API + "/{sid}/hierarchy", self._hierarchy)
        r.add("POST", API + "/{sid}/cancel", self._cancel)
        r.add("PATCH", API + "/{sid}/nickname", self._nickname)

    # -- error shapes ----------------------------------------------------------------------
    def rate_limited(self, retry_after: int) -> Response:
        return _detail(429, "Rate limit exceeded; slow down.", [("Retry-After", str(retry_after))])

    def server_error(self, status: int) -> Response:
        return _detail(status, "Service temporarily unavailable")

    def internal_error(self) -> Response:
        return _detail(500, "Internal Server Error")

    # -- helpers ---------------------------------------------------------------------------
    def authenticate(self, req: Request) -> Account | Response:
        token = req.bearer()
        if token is None:
            return _detail(401, "Missing API key. Send 'Authorization: Bearer sk-thrixel-...'.")
        account = self.state.account(self.name, token)
        if account is None:
            return _detail(401, "Invalid API key.")
        if account.forbidden:
            return _detail(403, "This API key has been revoked.")
        return account

    def read_form(self, req: Request) -> Checker:
        # A body that is not JSON is one more problem in the 422 list.
        try:
            body = req.json()
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
            body = None
        return Checker(body)

    def invalid(self, req: Request, checker: Checker) -> Response:
        return _validation_error(checker)

    def _get(self, sid: str) -> Submission | None:
        with self.state.lock:
            return self.submissions.get(sid)

    def _settle(self, sub: Submission, now: float) -> None:
        """Refund a failed or cancelled job once, when its end is first observed."""
        if sub.settled or sub.status(now) not in ("completed", "failed"):
            return
        with self.state.lock:
            if sub.settled:
                return
            sub.settled = True
            if sub.status(now) == "failed":
                account = self.state.account(self.name, sub.key)
                if account is not None:
                    account.balance += sub.cost + sub.reference_cost

    def _in_flight(self, key: str, now: float) -> int:
        return sum(
            1
            for s in self.submissions.values()
            if s.key == key and s.status(now) in ("queued", "processing")
        )

    def _admit(self, account: Account, cost: int, now: float) -> Response | None:
        """Concurrency cap, monthly runs and Cubes, in the order the real service checks."""
        if self._in_flight(account.key, now) >= CONCURRENT_JOB_CAP:
            return _detail(
                429,
                f"You have {CONCURRENT_JOB_CAP} jobs already running. Wait for one to finish.",
                [("Retry-After", "5")],
            )
        if account.monthly_runs_left is not None and account.monthly_runs_left <= 0:
            return _detail(
                402,
                "Monthly run allowance used up for this operation on the free plan.",
                [("X-Thrixel-Reason", "monthly_runs")],
            )
        if account.balance < cost:
            return _detail(
                402,
                f"Not enough Cubes: this costs {cost}, balance is {account.balance:g}.",
                [("X-Thrixel-Reason", "cubes")],
            )
        return None

    def _check_project(self, checker: Checker, account: Account) -> str | None:
        project_id = checker.string("project_id")
        if project_id is not None:
            project = self.projects.get(project_id)
            if project is None or project["_key"] != account.key:
                checker.fail("project_id", "project not found")
        return project_id

    def _check_images(self, checker: Checker, field_name: str, values: list[str]) -> None:
        for i, value in enumerate(values):
            if value.startswith("https://"):
                continue
            if value.startswith("data:"):
                data = decode_data_url(value)
                if data is None:
                    checker.fail(
                        f"{field_name}[{i}]" if field_name == "images" else field_name,
                        "not a valid base64 data URL",
                    )
                elif len(data) > INLINE_IMAGE_BYTES:
                    checker.fail(field_name, f"inline image larger than {INLINE_IMAGE_BYTES} bytes")
                continue
            checker.fail(field_name, "must be an https URL or a base64 data URL")

    def _parent(self, checker: Checker, account: Account) -> Submission | None:
        parent_id = checker.string("parent_submission_id", required=True)
        if parent_id is None:
            return None
        parent = self._get(parent_id)
        if parent is None or parent.key != account.key:
            checker.fail("parent_submission_id", "submission not found")
            return None
        if parent.status(self.state.now()) != "completed":
            checker.fail("parent_submission_id", "parent submission is not completed")
            return None
        return parent

    def _create(self, req: Request, account: Account, plan: Plan) -> Response:
        """Admit a checked submission, charge it and queue its job."""
        now = self.state.now()
        with self.state.lock:
            refusal = self._admit(account, plan.total, now)
            if refusal is not None:
                return refusal
            account.balance -= plan.total
            if account.monthly_runs_left is not None:
                account.monthly_runs_left -= 1
            faults = req.faults.subset(JOB_FAULTS)
            timeline = self.state.timeline(plan.kind, faults)
            full_build = faults.number("full_build", self.state.speed.thrixel_full_build)
            sub = self._record(account, plan, timeline, faults, full_build, now)
        return json_response(
            200,
            {
                "submission_id": sub.submission_id,
                "status": "queued",
                "created_at": iso_z(sub.created_wall),
            },
        )

    def _record(
        self,
        account: Account,
        plan: Plan,
        timeline: Timeline,
        faults: FaultSet,
        full_build: float,
        now: float,
    ) -> Submission:
        """Store a new submission; the caller holds the state lock."""
        parent = plan.parent
        sub = Submission(
            submission_id=self.state.uuid(),
            key=account.key,
            phase=plan.phase,
            operation=plan.operation,
            model=plan.model,
            input=plan.input,
            parent_id=parent.submission_id if parent else None,
            project_id=plan.project_id or (parent.project_id if parent else None),
            adaptive_thinking=plan.adaptive,
            timeline=timeline,
            created_wall=self.state.wall(now),
            cost=plan.cost,
            faults=faults,
            produce=plan.produce,
            full_build=full_build,
            focus=plan.focus,
            reference_cost=plan.reference_cost,
        )
        self.submissions[sub.submission_id] = sub
        return sub

    def _generated(self, seed_text: str) -> Callable[[], bytes]:
        """A new model, chosen when the submission's GLB is first needed."""
        return lambda: self.host.models.choose(seed_text)

    def _check_focus(
        self, checker: Checker, parent: Submission | None, focus: list[str] | None
    ) -> None:
        if parent is None or not focus:
            return
        known = set(glb_format.node_names(glb_format.Glb.parse(parent.glb())))
        missing = [name for name in focus if name not in known]
        if missing:
            checker.fail("focus_on_node_names", f"unknown node names: {', '.join(missing)}")

    # -- submissions: each route's fields, and the job it asks for -------------------------
    @_submit_route
    def _submit_create(self, checker: Checker, account: Account) -> Plan | None:
        task = checker.string("task")
        image = checker.string("image")
        images = checker.string_list("images", max_items=MAX_IMAGES)
        model = checker.string("model", choices=MODELS)
        project_id = self._check_project(checker, account)
        adaptive = checker.boolean("adaptive_thinking")
        if image is not None and images is not None:
            checker.fail("images", "image and images are mutually exclusive")
        if not task and image is None and not images:
            checker.fail("task", "at least one of task, image or images is required")
        if image is not None:
            self._check_images(checker, "image", [image])
        if images:
            self._check_images(checker, "images", images)
        input_type = "images" if images else "image" if image else "text"
        return Plan(
            phase=1,
            operation="architect",
            model=model or "thrixel+",
            input=_input(input_type, task, image=image, images=images),
            cost=_architect_cost(model),
            produce=self._generated(task or image or "|".join(images or [])),
            project_id=project_id,
            adaptive=bool(adaptive),
        )

    @_submit_route
    def _submit_architect(self, checker: Checker, account: Account) -> Plan | None:
        task = checker.string("task", required=True, min_len=1)
        model = checker.string("model", choices=("architect-plus", "architect-balanced"))
        images = checker.string_list("images", max_items=MAX_IMAGES)
        checker.string("reference_image_id")
        checker.string("style_reference_submission_id")
        checker.number("target_size_m", low=0.01, high=1000)
        project_id = self._check_project(checker, account)
        adaptive = checker.boolean("adaptive_thinking")
        if images:
            self._check_images(checker, "images", images)
        return Plan(
            phase=1,
            operation="architect",
            model=model or "architect-plus",
            input=_input("images" if images else "text", task, images=images),
            cost=_architect_cost(model),
            produce=self._generated(task or ""),
            project_id=project_id,
            adaptive=bool(adaptive),
        )

    @_submit_route
    def _submit_sculptor(self, checker: Checker, account: Account) -> Plan | None:
        task = checker.string("task")
        images = checker.string_list("images", max_items=1)
        checker.string("reference_image_id")
        checker.string("style_reference_submission_id")
        checker.integer("texture_size", choices=(1024, 2048, 4096))
        checker.integer("decimation_target", low=10000, high=250000)
        checker.number("target_size_m", low=0.01, high=1000)
        project_id = self._check_project(checker, account)
        if not task and not images and not checker.has("reference_image_id"):
            checker.fail("task", "a prompt, an image or a reference image is required")
        if images:
            self._check_images(checker, "images", images)
        return Plan(
            phase=1,
            operation="sculptor",
            model="sculptor",
            input=_input("image" if images else "text", task, images=images),
            cost=COSTS["sculptor"],
            produce=self._generated(task or "|".join(images or [])),
            project_id=project_id,
            kind="thrixel-gpu",
        )

    @_submit_route
    def _submit_autofix(self, checker: Checker, account: Account) -> Plan | None:
        parent = self._parent(checker, account)
        project_id = self._check_project(checker, account)
        adaptive = checker.boolean("adaptive_thinking")
        if parent is None:
            return None
        # Phase 5's own text offers uploads to phases 2, 3 and 4.
        if parent.phase not in (1, 2, 5):
            checker.fail(
                "parent_submission_id",
                "auto-refine needs a Phase 1 or Phase 2 submission or an upload",
            )
        return Plan(
            phase=2,
            operation="autofix",
            model=parent.model,
            input=_input("refine", parent.input.get("task")),
            cost=COSTS["autofix"],
            produce=lambda: glb_format.edit(parent.glb(), None, 0.96),
            parent=parent,
            project_id=project_id,
            adaptive=bool(adaptive),
        )

    @_submit_route
    def _submit_edit(self, checker: Checker, account: Account) -> Plan | None:
        parent = self._parent(checker, account)
        request_text = checker.string("modification_request", required=True, min_len=1)
        focus = checker.string_list("focus_on_node_names")
        project_id = self._check_project(checker, account)
        adaptive = checker.boolean("adaptive_thinking")
        if parent is not None and parent.phase == 4:
            checker.fail("parent_submission_id", "a detailed (Phase 4) model cannot be edited")
        self._check_focus(checker, parent, focus)
        if parent is None:
            return None
        return Plan(
            phase=3,
            operation="edit",
            model=parent.model,
            input=_input("edit", parent.input.get("task"), modification_request=request_text),
            cost=COSTS["edit"],
            produce=lambda: glb_format.edit(parent.glb(), focus or None, 1.15),
            parent=parent,
            project_id=project_id,
            adaptive=bool(adaptive),
            focus=focus or None,
        )

    @_submit_route
    def _submit_detailer(self, checker: Checker, account: Account) -> Plan | None:
        parent = self._parent(checker, account)
        prompt, focus = _check_detailer_options(checker)
        project_id = self._check_project(checker, account)
        if checker.has("image"):
            self._check_images(checker, "image", [str(checker.body["image"])])
        self._check_focus(checker, parent, focus)
        if parent is None:
            return None
        request = {"mode": "detailer", "prompt": prompt, "parent_task": parent.input.get("task")}
        own_reference = checker.has("image") or checker.has("reference_image_id")
        reference = "reference_image" if prompt else "reference_image_mesh"
        return Plan(
            phase=4,
            operation="detailer",
            model="detailer",
            input=_input("detail", json.dumps(request)),
            cost=COSTS["detailer"],
            reference_cost=0 if own_reference else COSTS[reference],
            produce=lambda: glb_format.edit(parent.glb(), focus or None, 1.05),
            parent=parent,
            project_id=project_id,
            kind="thrixel-gpu",
            focus=focus or None,
        )

    @authenticated
    def _submit_upload(self, req: Request, account: Account) -> Response:
        """Phase 5: a GLB of the caller's own, complete at once and free."""
        form = self._read_upload(req, account)
        if isinstance(form, Response):
            return form
        task, project_id, filename, data = form
        plan = Plan(
            phase=5,
            operation="upload",
            model="upload",
            input=_input("upload", task),
            cost=0,
            produce=lambda: data,
            project_id=project_id,
        )
        now = self.state.now()
        with self.state.lock:
            faults = req.faults.subset(DOWNLOAD_FAULTS)
            sub = self._record(account, plan, Timeline(now, 0.0, 0.0), faults, 0.0, now)
        return json_response(
            200,
            {
                "submission_id": sub.submission_id,
                "status": "completed",
                "original_filename": filename,
                "file_size_bytes": len(data),
                "created_at": iso_z(sub.created_wall),
            },
        )

    def _read_upload(
        self, req: Request, account: Account
    ) -> tuple[str | None, str | None, str | None, bytes] | Response:
        """The upload form's (task, project id, file name, GLB bytes), or the refusal."""
        # Refuse an oversized upload before reading it into memory.
        if req.content_length > UPLOAD_LIMIT + 64 * 1024:
            req.discard_body()
            return _detail(413, "glb_file is larger than 100 MB.")
        if req.content_type() != "multipart/form-data":
            checker = Checker({})
            checker.fail("glb_file", "multipart/form-data with a glb_file is required", "missing")
            return _validation_error(checker)
        try:
            fields = parse_multipart(req.body, req.header("Content-Type") or "")
        except ValueError as exc:
            return _detail(400, f"Malformed multipart body: {exc}")
        checker = Checker(
            {k: v[1].decode("utf-8", "replace") for k, v in fields.items() if v[0] is None}
        )
        task = checker.string("task", max_len=2000)
        project_id = self._check_project(checker, account)
        upload = fields.get("glb_file")
        if upload is None or upload[0] is None:
            checker.fail("glb_file", "field required", "missing")
        if not checker.ok or upload is None:
            return _validation_error(checker)
        filename, data = upload
        if len(data) > UPLOAD_LIMIT:
            return _detail(413, "glb_file is larger than 100 MB.")
        try:
            glb_format.Glb.parse(data)
        except glb_format.GlbError as exc:
            return _detail(400, f"glb_file is not a valid GLB: {exc}")
        return task, project_id, filename, data

    # -- progress --------------------------------------------------------------------------
    def _info_payload(self, sub: Submission, now: float) -> dict[str, Any]:
        status = sub.status(now)
        payload: dict[str, Any] = {
            "submission_id": sub.submission_id,
            "phase": sub.phase,
            "operation": sub.operation,
            "status": status,
            "model": sub.model,
            "input": sub.input,
            "prompt": sub.input.get("task"),
            "parent_submission_id": sub.parent_id,
            "project_id": sub.project_id,
            "nickname": sub.nickname,
            "is_archived": False,
            "is_visible": True,
            "is_deleted": False,
            "is_pinned": False,
            "adaptive_thinking": sub.adaptive_thinking,
            "created_at": iso_z(sub.created_wall),
            "completed_at": None,
            "error_message": None,
            "error_code": None,
            "cubes_spent": sub.cost,
            "cubes_reference_image": sub.reference_cost,
        }
        if (
            status == "queued"
            and now - sub.timeline.start > 2 * self.state.speed.timing("thrixel").queued
        ):
            payload["status_note"] = "Waiting for a worker; long queues are normal, not stuck."
        if status in ("completed", "failed"):
            payload["completed_at"] = iso_z(sub.completed_wall(self.state.wall))
        if status == "failed":
            code = sub.error_code() or DEFAULT_FAILURE
            payload["error_code"] = code
            payload["error_message"] = ERROR_MESSAGES.get(code, "The job failed.")
            payload["cubes_spent"] = 0
            payload["cubes_reference_image"] = 0
        if status == "completed":
            payload["full_build_status"] = (
                "pending" if self._full_pending(sub, now) else "completed"
            )
        return payload

    def _full_pending(self, sub: Submission, now: float) -> bool:
        return now < sub.timeline.end + sub.full_build

    @_submission_route
    def _info(self, req: Request, sub: Submission) -> Response:
        now = self.state.now()
        self._settle(sub, now)
        return json_response(200, self._info_payload(sub, now))

    @_submission_route
    def _stream(self, req: Request, sub: Submission) -> Response:
        if "stream_silent" in req.faults:
            return Response(200, content_type="text/event-stream", stream=self._silence(sub))
        events = self._events(sub)
        if "stream_drop" in req.faults:
            events = itertools.islice(events, int(req.faults.number("stream_drop", 1)))
        return Response(200, content_type="text/event-stream", stream=events)

    def _silence(self, sub: Submission) -> Iterator[bytes]:
        """Nothing at all, until well after the job's end (the ``stream_silent`` fault)."""
        until = sub.timeline.end + 10 * self.state.speed.sse_heartbeat
        while self.state.now() < until:
            time.sleep(self.state.speed.sse_tick)
        yield b""

    def _events(self, sub: Submission) -> Iterator[bytes]:
        speed = self.state.speed

        def event(payload: dict[str, Any]) -> bytes:
            return f"data: {json.dumps(payload)}\n\n".encode()

        last_status = None
        last_beat = time.monotonic()
        # Never hold a connection much past the job's own end.
        give_up = sub.timeline.end + 10 * speed.sse_heartbeat + 5.0
        while True:
            now = self.state.now()
            status = sub.status(now)
            if status != last_status:
                payload: dict[str, Any] = {
                    "type": "status",
                    "status": status,
                    "submission_id": sub.submission_id,
                }
                if status == "failed":
                    code = sub.error_code() or DEFAULT_FAILURE
                    payload["error_code"] = code
                    payload["error_message"] = ERROR_MESSAGES.get(code, "The job failed.")
                yield event(payload)
                last_status = status
            if status in ("completed", "failed"):
                self._settle(sub, now)
                return
            if status == "processing":
                # Both scales from the same rounded figure, so they never disagree by one.
                percent = round(sub.timeline.fraction(now), 3)
                message = "Generating geometry..." if percent < 0.7 else "Assembling parts..."
                yield event(
                    {
                        "type": "progress",
                        "percent": percent,
                        "progress": round(percent * 100),
                        "message": message,
                        "progress_message": message,
                        "status": status,
                    }
                )
            elif time.monotonic() - last_beat >= speed.sse_heartbeat:
                yield b": heartbeat\n\n"
                last_beat = time.monotonic()
            if now > give_up:
                return
            # Progress every tick; a change of status (queued to processing, the end) as it
            # happens, not at the next tick.
            change = sub.timeline.run_start if status == "queued" else sub.timeline.end
            wait = change - self.state.now()
            time.sleep(min(speed.sse_tick, wait + 0.001) if wait > 0 else speed.sse_tick)

    @_own_submission_route
    def _cancel(self, req: Request, sub: Submission) -> Response:
        now = self.state.now()
        with self.state.lock:
            status = sub.status(now)
            if status == "processing":
                return _detail(409, "The job is already running and can no longer be cancelled.")
            if status == "queued":
                sub.cancelled_at = now
                sub.timeline.stopped_at = now
                self._settle(sub, now)
                return json_response(200, {"cancelled": True, "status": "failed"})
        return json_response(200, {"cancelled": False, "status": status})

    # -- results ---------------------------------------------------------------------------
    @_submission_route
    def _download(self, req: Request, sub: Submission) -> Response:
        fmt = req.query.get("format", "glb").lower()
        now = self.state.now()
        status = sub.status(now)
        if status == "failed":
            return _detail(404, "This submission failed; there is no model to download.")
        if status != "completed":
            return _detail(409, f"The model is not ready yet (status: {status}).")
        label = PHASE_LABEL[sub.phase]
        faults = sub.faults.subset(DOWNLOAD_FAULTS)
        if fmt == "glb":
            quality = req.query.get("quality", "full").lower()
            if quality not in ("full", "lite"):
                return _detail(422, "quality must be full or lite")
            if quality == "full" and self._full_pending(sub, now):
                return json_response(202, {"status": "preparing"})
            return file_response(
                sub.glb(), "model/gltf-binary", f"{sub.submission_id}_{label}.glb", faults
            )
        if fmt in ("thumbnail", "thumbnail_back"):
            return file_response(
                thumbnail(sub.glb(), back=fmt == "thumbnail_back"),
                "image/png",
                f"{sub.submission_id}_{fmt}.png",
                faults,
            )
        if fmt in CONVERTIBLE:
            conversion = self._conversion(sub, fmt)
            if conversion.timeline.stage(now) != "finished":
                return json_response(202, self._conversion_payload(conversion, now))
            content_type, suffix, _ = CONVERTIBLE[fmt]
            return file_response(
                self._converted(conversion, sub),
                content_type,
                f"{sub.submission_id}_{label}{suffix}",
                faults,
            )
        if fmt in ("py", "reference_image"):
            return _detail(404, f"Format '{fmt}' is not available for this submission.")
        return _detail(422, f"Unknown format '{fmt}'.")

    def _conversion(self, sub: Submission, fmt: str, force: bool = False) -> Conversion:
        with self.state.lock:
            existing = sub.conversions.get(fmt)
            if existing is not None and not force:
                return existing
            job = Conversion(
                self.state.uuid(),
                sub.submission_id,
                fmt,
                Timeline(self.state.now(), 0.0, self.state.speed.thrixel_convert),
            )
            sub.conversions[fmt] = job
            self.conversions[job.job_id] = job
            return job

    def _converted(self, conversion: Conversion, sub: Submission) -> bytes:
        if conversion.data is None:
            conversion.data = CONVERTIBLE[conversion.format][2](sub.glb())
        return conversion.data

    def _conversion_payload(self, conversion: Conversion, now: float) -> dict[str, Any]:
        stage = conversion.timeline.stage(now)
        status = {"queued": "queued", "running": "processing"}.get(stage, "ready")
        base = f"{self.host.url}/thrixel{API}"
        return {
            "job_id": conversion.job_id,
            "submission_id": conversion.submission_id,
            "format": conversion.format,
            "status": status,
            "error": None,
            "download_url": (
                f"{base}/{conversion.submission_id}/download?format={conversion.format}"
                if status == "ready"
                else None
            ),
            "status_url": f"{base}/convert/{conversion.job_id}",
        }

    def _convert(self, req: Request) -> Response:
        checker = self.read_form(req)
        sid = checker.string("submission_id", required=True)
        fmt = checker.string("format", required=True, choices=tuple(CONVERTIBLE))
        force = checker.boolean("force")
        if not checker.ok:
            return _validation_error(checker)
        sub = self._get(sid or "")
        if sub is None:
            return _detail(404, "Submission not found")
        if sub.status(self.state.now()) != "completed":
            return _detail(409, "The submission is not completed.")
        conversion = self._conversion(sub, fmt or "fbx", force=bool(force))
        return json_response(200, self._conversion_payload(conversion, self.state.now()))

    def _convert_status(self, req: Request) -> Response:
        with self.state.lock:
            conversion = self.conversions.get(req.params["job_id"])
        if conversion is None:
            return _detail(404, "Conversion job not found")
        return json_response(200, self._conversion_payload(conversion, self.state.now()))

    @_submission_route
    def _hierarchy(self, req: Request, sub: Submission) -> Response:
        status = sub.status(self.state.now())
        if status != "completed":
            return _detail(409, f"The model is not ready yet (status: {status}).")
        return json_response(200, glb_format.hierarchy(glb_format.Glb.parse(sub.glb())))

    @_own_submission_route
    def _nickname(self, req: Request, sub: Submission) -> Response:
        checker = self.read_form(req)
        nickname = checker.string("nickname", required=True, max_len=255)
        if not checker.ok:
            return _validation_error(checker)
        sub.nickname = nickname
        return json_response(200, {"submission_id": sub.submission_id, "nickname": nickname})

    # -- account ---------------------------------------------------------------------------
    @authenticated
    def _usage(self, req: Request, account: Account) -> Response:
        now = self.state.now()
        with self.state.lock:
            mine = [s for s in self.submissions.values() if s.key == account.key]
            for sub in mine:
                self._settle(sub, now)
            gpu_depth = sum(
                1
                for s in self.submissions.values()
                if s.operation in ("detailer", "sculptor") and s.status(now) == "queued"
            )
            used: dict[str, int] = {}
            for sub in mine:
                used[sub.operation] = used.get(sub.operation, 0) + 1
            limit = account.monthly_runs_left
            return json_response(
                200,
                {
                    "plan": "sandbox",
                    "is_unlimited": False,
                    "cubes_balance": account.balance,
                    "concurrent_job_cap": CONCURRENT_JOB_CAP,
                    "concurrent_in_flight": self._in_flight(account.key, now),
                    "gpu_lane_depth": gpu_depth,
                    "monthly_runs": {
                        "limit": None if limit is None else limit + sum(used.values()),
                        "limits": {},
                        "used": used,
                        "resets_at": iso_z(self.state.wall() + 30 * 86400),
                    },
                },
            )

    @authenticated
    def _validate_key(self, req: Request, account: Account) -> Response:
        return json_response(200, {"valid": True, "name": "Sandbox user", "role": "member"})

    def _tiers(self, req: Request) -> Response:
        return json_response(
            200,
            {
                "tiers": [
                    {
                        "name": "sandbox",
                        "concurrent_job_cap": CONCURRENT_JOB_CAP,
                        "prices": dict(COSTS),
                    }
                ],
                "upload_limits": {"image_bytes": INLINE_IMAGE_BYTES, "glb_bytes": UPLOAD_LIMIT},
            },
        )

    def _summary(self, sub: Submission, now: float) -> dict[str, Any]:
        return {
            "submission_id": sub.submission_id,
            "operation": sub.operation,
            "phase": sub.phase,
            "status": sub.status(now),
            "created_at": iso_z(sub.created_wall),
            "display_name": sub.nickname or (sub.input.get("task") or "")[:60],
            "nickname": sub.nickname,
            "slug": sub.submission_id[:8],
            "parent_submission_id": sub.parent_id,
            "project_id": sub.project_id,
            "prompt": sub.input.get("task"),
        }

    @authenticated
    def _list_submissions(self, req: Request, account: Account) -> Response:
        now = self.state.now()
        try:
            limit = int(req.query.get("limit", "50"))
        except ValueError:
            return _detail(422, "limit must be an integer")
        with self.state.lock:
            mine = [s for s in self.submissions.values() if s.key == account.key]
        mine.sort(key=lambda s: s.created_wall, reverse=True)
        items = [self._summary(s, now) for s in mine]
        for name in ("status", "phase", "project_id"):
            if name in req.query:
                items = [i for i in items if str(i[name]) == req.query[name]]
        return json_response(200, {"submissions": items[: max(0, limit)]})

    @authenticated
    def _active_submissions(self, req: Request, account: Account) -> Response:
        now = self.state.now()
        with self.state.lock:
            active = [
                s
                for s in self.submissions.values()
                if s.key == account.key and s.status(now) in ("queued", "processing")
            ]
        return json_response(
            200,
            {
                "active": [
                    {
                        "submission_id": s.submission_id,
                        "display_name": (s.input.get("task") or "")[:60],
                        "task": s.input.get("task"),
                        "status": s.status(now),
                        "progress": round(s.timeline.fraction(now) * 100)
                        if s.status(now) == "processing"
                        else 0,
                    }
                    for s in active
                ]
            },
        )

    # -- projects --------------------------------------------------------------------------
    def _project_view(self, project: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in project.items() if not k.startswith("_")}
        view["submission_count"] = sum(
            1 for s in self.submissions.values() if s.project_id == project["id"]
        )
        return view

    @authenticated
    def _list_projects(self, req: Request, account: Account) -> Response:
        include_archived = req.query.get("include_archived", "false").lower() == "true"
        with self.state.lock:
            projects = [
                self._project_view(p)
                for p in self.projects.values()
                if p["_key"] == account.key and (include_archived or not p["is_archived"])
            ]
        return json_response(200, {"projects": projects, "count": len(projects)})

    @with_form
    def _create_project(self, req: Request, account: Account, checker: Checker) -> Response:
        name = checker.string("name", required=True, min_len=1, max_len=255)
        description = checker.string("description", max_len=2000)
        if not checker.ok:
            return _validation_error(checker)
        stamp = iso_z(self.state.wall())
        project = {
            "id": self.state.uuid(),
            "name": name,
            "description": description,
            "is_archived": False,
            "created_at": stamp,
            "updated_at": stamp,
            "_key": account.key,
        }
        with self.state.lock:
            self.projects[str(project["id"])] = project
            return json_response(201, self._project_view(project))

    @_project_route
    def _get_project(self, req: Request, project: dict[str, Any]) -> Response:
        now = self.state.now()
        view = self._project_view(project)
        view["submissions"] = [
            self._summary(s, now)
            for s in self.submissions.values()
            if s.project_id == project["id"]
        ]
        return json_response(200, view)

    @_project_route
    def _update_project(self, req: Request, project: dict[str, Any]) -> Response:
        checker = self.read_form(req)
        name = checker.string("name", min_len=1, max_len=255)
        description = checker.string("description", max_len=2000)
        if checker.ok and name is None and description is None:
            checker.fail("", "at least one of name or description is required")
        if not checker.ok:
            return _validation_error(checker)
        with self.state.lock:
            if name is not None:
                project["name"] = name
            if description is not None:
                project["description"] = description
            project["updated_at"] = iso_z(self.state.wall())
            return json_response(200, self._project_view(project))

    @_project_route
    def _delete_project(self, req: Request, project: dict[str, Any]) -> Response:
        with self.state.lock:
            del self.projects[project["id"]]
        return json_response(200, {"deleted": True, "id": project["id"]})
