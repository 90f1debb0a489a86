"""Thrixel (api.thrixel.com): create, refine, edit, detail and upload models; convert them.

Every generation is a *submission* with an id; follow-ups (refine, edit, detail, convert) name
their parent submission. Statuses: ``queued`` → ``processing`` → ``completed`` | ``failed``.
``/info`` carries no progress, so a short look at the ``/stream`` SSE feed supplies it. The
download endpoint answers 202 while the full-quality GLB (or a conversion) is being prepared;
``/info.full_build_status`` says when it is done, so a job counts as finished only then.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3

from . import errors
from .base import Job, Phase, Provider, RemoteStatus, ResultFile, Submitted
from .client import ClientConfig
from .http import HttpClient, body_excerpt, parse_retry_after
from .params import Operation, Param, Rule, exclusive, one_of
from .sources import image_payload, image_rule

PROVIDER = "Thrixel"
#: Inline (data URL) pictures; the service publishes its own figure at ``/tiers``, 12 MiB is
#: the fallback its own client uses.
INLINE_IMAGE_BYTES = 12 * 1024 * 1024
#: Phase 5 upload limit, "max 100 MB"; the decimal reading is the stricter one.
UPLOAD_BYTES = 100 * 1000 * 1000
MAX_IMAGES = 6
KEY_HELP = "thrixel.com/create/#settings/api-keys"
TOP_UP = "thrixel.com (Settings > Billing)"

_PHASES = {"queued": Phase.QUEUED, "processing": Phase.RUNNING, "completed": Phase.SUCCEEDED,
           "failed": Phase.FAILED}
_PHASE_LABEL = {1: "rough", 2: "fixed", 3: "edited", 4: "detailed", 5: "uploaded"}
#: Formats ``convert`` offers (STL is checked by its layout, having no magic bytes).
CONVERT_FORMATS = ("fbx", "obj", "usdz", "stl")
#: Kinds (``jobs.results.sniff``) each download format may arrive as.
_KINDS = {"glb": frozenset({"glb"}), "fbx": frozenset({"fbx", "zip"}),
          "obj": frozenset({"zip"}), "usdz": frozenset({"zip"}), "stl": frozenset({"stl"})}
_EXTENSION = {"glb": "glb", "fbx": "fbx", "obj": "obj.zip", "usdz": "usdz", "stl": "stl"}


def _glb_file(field_name: str) -> Rule:
    """The upload must be a GLB no larger than the service takes, checked before sending."""
    def check(values: Mapping[str, Any]) -> str | None:
        path = values.get(field_name)
        if not path:
            return None
        try:
            problem = _glb_problem(os.path.expanduser(path))
        except OSError as exc:
            return f"{field_name}: cannot read {path!r} ({exc.strerror or exc})"
        return f"{field_name}: {problem}" if problem else None
    return Rule(field_name, check)


def _glb_problem(path: str) -> str | None:
    size = os.path.getsize(path)
    if size > UPLOAD_BYTES:
        return f"{os.path.basename(path)} is {size / 1e6:.1f} MB; Thrixel accepts at most 100 MB"
    with open(path, "rb") as f:
        if f.read(4) != b"glTF":
            return (f"{os.path.basename(path)} is not a binary glTF (.glb) file; export the "
                    "model as .glb first")
    return None


_PROJECT = Param("project_id", "str", "Project", "Thrixel project to file the result under",
                 advanced=True)
_ADAPTIVE = Param("adaptive_thinking", "bool", "Adaptive Thinking",
                  "Deeper reasoning pass: slower, higher quality", default=False, advanced=True)
_PARENT = Param("parent_submission_id", "str", "Source model",
                "Thrixel submission id of the model to work on", required=True, role="parent")
_QUALITY = Param("quality", "enum", "Download",
                 "full: the complete model (may bake a while after the job ends); lite: "
                 "simplified surface colours, available at once",
                 default="full", choices=("full", "lite"), advanced=True)
_FOCUS = Param("focus_on_node_names", "str_list", "Only these parts",
               "Part names from the model's hierarchy; every other part stays as it is. "
               "Empty: the whole model")

OPERATIONS = (
    Operation(
        "thrixel", "create", "Create", "text",
        description="Phase 1: a new editable multi-part model from a prompt and/or reference "
                    "images",
        params=(
            Param("task", "str", "Prompt", "What to make", role="prompt"),
            Param("image", "image", "Image", "One reference picture (file, https or data URL)",
                  role="image"),
            Param("images", "image_list", "Images", "Up to 6 reference pictures",
                  max_items=MAX_IMAGES, role="images"),
            Param("model", "str", "Model", "Service model override, e.g. architect-plus or "
                  "architect-balanced; empty uses the default", advanced=True),
            _PROJECT, _ADAPTIVE, _QUALITY,
        ),
        rules=(one_of("task", "image", "images"), exclusive("image", "images"),
               image_rule("image", max_bytes=INLINE_IMAGE_BYTES, provider=PROVIDER),
               image_rule("images", max_bytes=INLINE_IMAGE_BYTES, provider=PROVIDER)),
    ),
    Operation(
        "thrixel", "refine", "Auto-refine", "model", needs_parent=True,
        description="Phase 2: a vision-critique pass that improves a finished Phase 1 or 2 model",
        params=(_PARENT, _PROJECT, _ADAPTIVE, _QUALITY),
    ),
    Operation(
        "thrixel", "edit", "Edit", "model", needs_parent=True,
        description="Phase 3: change a model in words, optionally only some of its parts",
        params=(
            _PARENT,
            Param("modification_request", "str", "Change", "What to change", required=True,
                  role="prompt"),
            _FOCUS, _PROJECT, _ADAPTIVE, _QUALITY,
        ),
    ),
    Operation(
        "thrixel", "detail", "Detail & Texture", "model", needs_parent=True,
        description="Phase 4: a high-resolution PBR-textured version of a finished model "
                    "(terminal: a detailed model cannot be edited)",
        params=(
            _PARENT,
            Param("prompt", "str", "Appearance", "How the surface should look", role="prompt"),
            Param("image", "image", "Reference image",
                  "Look reference (file, https or data URL); made from the model if empty",
                  role="image"),
            Param("seed", "int", "Seed", "Empty: random", minimum=0, maximum=999_999,
                  advanced=True),
            # Docs: 512/768/1024/2048 (default 768); the live service takes 2048/4096 and was
            # seen refusing 1024. Both sets are offered; unset lets the service pick.
            Param("texture_size", "int", "Texture size",
                  "Docs list 512-2048, the live service 2048 or 4096; empty: service default",
                  choices=(512, 768, 1024, 2048, 4096), advanced=True),
            # Docs: 10,000-500,000; Thrixel's own client: 10,000-250,000. The wider range is
            # allowed here and a refusal names both.
            Param("decimation_target", "int", "Triangles", "Target triangle count",
                  minimum=10_000, maximum=500_000, advanced=True),
            Param("preserve_parts", "bool", "Keep parts",
                  "Keep the model's parts separate; empty: the service decides", advanced=True),
            _FOCUS,
            Param("adherence_level", "int", "Adherence",
                  "How closely to follow the source shape (service default 9; 12 for thin or "
                  "hard-surface parts)", minimum=0, advanced=True),
            Param("mesh", "str", "Source mesh override", "https URL or data URL of a mesh to "
                  "use instead of the parent's", advanced=True),
            Param("reference_image_id", "str", "Image hub picture", advanced=True),
            Param("control_mesh_voxelize_res", "int", "Voxelize resolution",
                  "Older servers only", minimum=256, maximum=2048, advanced=True),
            Param("pipeline_type", "enum", "Pipeline", "Older servers only",
                  choices=("1024_cascade", "1536_cascade"), advanced=True),
            Param("control_mesh_ss_lat_noise_t0idx", "int", "Noise start", "Older servers only",
                  minimum=0, maximum=12, advanced=True),
            Param("focus_mode", "enum", "Focus mode", "Older servers only",
                  choices=("latent", "sparse_structure"), advanced=True),
            _PROJECT, _QUALITY,
        ),
        rules=(image_rule("image", max_bytes=INLINE_IMAGE_BYTES, provider=PROVIDER),),
    ),
    Operation(
        "thrixel", "upload", "Upload GLB", "upload", paid=False,
        description="Phase 5: bring your own .glb (at most 100 MB) into Thrixel to refine, "
                    "edit or detail it",
        params=(
            Param("glb_file", "file", "GLB file", "The .glb to upload", required=True),
            Param("task", "str", "Label", "What the model is", max_length=2000),
            _PROJECT,
        ),
        rules=(_glb_file("glb_file"),),
    ),
    Operation(
        "thrixel", "convert", "Convert", "model", needs_parent=True, paid=False,
        description="Another file format of a finished model (FBX, zipped OBJ, USDZ, STL "
                    "without textures)",
        params=(
            _PARENT,
            Param("format", "enum", "Format", default="fbx", choices=CONVERT_FORMATS,
                  required=True),
            Param("target", "enum", "FBX target", "Engine-specific FBX (roblox arrives as a "
                  ".zip with textures)", default="generic",
                  choices=("generic", "unity", "ue5", "roblox"), advanced=True),
            Param("force", "bool", "Convert again", "Make a new conversion even if one exists",
                  default=False, advanced=True),
        ),
        rules=(Rule("target", lambda v: "target applies to FBX only" if v.get("target") and
                    v.get("format") != "fbx" else None),),
    ),
)
#: Operations of the service Conjure does not offer, and why (for the docs table).
UNSUPPORTED = {
    "architect / sculptor (newer Phase 1 routes)":
        "the documented /phase1/submit covers create; the newer routes are known only from "
        "Thrixel's own MCP client",
    "remesh (/detailer/remesh)": "needs a Detailer checkpoint up the chain; not in the issue",
    "decimate, group, transform (/filter/*)": "mesh clean-up is better done in Blender itself",
    "texture (/texture/generate and rebake)": "known only from the MCP client; not in the issue",
    "rig (/rig/submit)": "known only from the MCP client; Blender rigging is out of scope",
    "projects, image hub, nicknames": "account housekeeping, done on thrixel.com",
    "download as py, thumbnails, reference images": "not models",
}

_BY_NAME = {op.name: op for op in OPERATIONS}
#: Parameters that steer the download rather than the request body.
_CLIENT_ONLY = frozenset({"quality", "target", "format", "force", "glb_file"})
_ROUTES = {"create": "phase1/submit", "refine": "phase2/submit", "edit": "phase3/submit",
           "detail": "detailer/submit"}

#: Service ``error_code`` of a failed job → (taxonomy class, what the user can do).
FAILURE_CODES: dict[str, tuple[type[errors.ServiceError], str]] = {
    "CONTENT_BLOCKED": (errors.ContentRejectedError,
                        "Thrixel's content filter refused the prompt or picture; change it and "
                        "generate again"),
    "INVALID_IMAGE": (errors.InvalidRequestError,
                      "Thrixel could not read the reference picture; use a PNG or JPEG"),
    "MULTI_VIEW_IMAGE": (errors.InvalidRequestError,
                         "the picture shows several views at once; give one view per picture "
                         "(several views go in Images)"),
    "LLM_RATE_LIMITED": (errors.TransientServiceError,
                         "Thrixel's language model was rate limited; generate again in a few "
                         "minutes"),
    "LLM_OVERLOADED": (errors.TransientServiceError,
                       "Thrixel's language model was overloaded; generate again in a few minutes"),
    "LLM_CONNECTION_ERROR": (errors.TransientServiceError,
                             "Thrixel could not reach its language model; generate again later"),
    "LLM_SERVER_ERROR": (errors.TransientServiceError,
                         "Thrixel's language model failed; generate again later"),
    "TASK_LOST": (errors.TransientServiceError,
                  "Thrixel lost the job on its workers; generate again"),
    "NEVER_DISPATCHED": (errors.TransientServiceError,
                         "Thrixel never started the job; generate again"),
    "rig_unsupported": (errors.InvalidRequestError, "Thrixel cannot rig this model"),
    "rig_failed": (errors.TransientServiceError, "Thrixel's rigging failed; try again"),
}


# -- errors -----------------------------------------------------------------------------------

def _detail(response: requests.Response) -> tuple[str, str | None, Any]:
    """(readable detail, field it names, the structured guard's code) of an error body."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return body_excerpt(response, 200), None, None
    if isinstance(detail, list):  # Pydantic: [{loc: ["body", field], msg}]
        items = [d for d in detail if isinstance(d, dict)]
        fields = [".".join(map(str, d.get("loc", [])[1:])) for d in items]
        text = "; ".join(f"{f}: {d.get('msg')}" if f else str(d.get("msg")) for f, d in
                         zip(fields, items, strict=True))
        return text, next((f for f in fields if f), None), None
    if isinstance(detail, dict):  # a structured guard {code, verdict, message}
        return str(detail.get("message") or detail), None, detail.get("code") or detail.get(
            "verdict")
    return str(detail or body_excerpt(response, 200)), None, None


#: Extra words for refusals of fields where the docs and the live service disagree.
_FIELD_HINTS = {
    "texture_size": "the docs list 512, 768, 1024 or 2048 while the live service takes 2048 or "
                    "4096; try the other set, or leave it empty",
    "decimation_target": "the docs allow 10,000-500,000, the live service may stop at 250,000",
}


def map_error(response: requests.Response) -> errors.ServiceError | None:
    """Every documented Thrixel HTTP failure in the shared taxonomy, with what to do."""
    status = response.status_code
    detail, field_name, guard = _detail(response)
    detail = errors.said(detail)
    kwargs: dict[str, Any] = {"provider": PROVIDER, "status": status,
                              "retry_after": parse_retry_after(response.headers.get("Retry-After"))}
    if guard is not None:
        kwargs["service_code"] = guard
    lowered = detail.lower()
    if status == 402:
        if response.headers.get("X-Thrixel-Reason", "").lower() == "monthly_runs":
            return errors.InsufficientCreditsError(
                "the free plan's monthly runs for this operation are used up; wait for next "
                f"month or upgrade at {TOP_UP}", service_code="monthly_runs",
                **{k: v for k, v in kwargs.items() if k != "service_code"})
        return errors.InsufficientCreditsError(
            f"not enough Cubes ({detail}); top up at {TOP_UP}", **kwargs)
    if guard is not None and any(w in str(guard).lower() for w in ("content", "block", "policy",
                                                                    "moderat", "unsafe")):
        return errors.ContentRejectedError(
            f"refused by Thrixel's content rules: {detail}; change the prompt or picture",
            **kwargs)
    if status == 401 or (status == 403 and any(w in lowered for w in ("invalid", "revoked",
                                                                      "api key"))):
        return errors.AuthenticationError(
            f"the API key was refused ({detail}); paste a valid key in Preferences > Add-ons > "
            f"Conjure (keys: {KEY_HELP})", **kwargs)
    if status == 403:
        return errors.AuthenticationError(
            f"your Thrixel plan does not allow this ({detail}); check your plan at {TOP_UP}",
            **kwargs)
    if status == 404:
        return errors.NotFoundError(
            f"Thrixel does not know this submission or file ({detail}); it may have been "
            "deleted or made with another key", **kwargs)
    if status == 409:
        # A conflict the service expects to pass; nothing was created, so trying again is safe.
        kwargs["retry_after"] = kwargs["retry_after"] or 5.0
        return errors.RateLimitedError(f"Thrixel is busy with this model ({detail}); trying "
                                       "again shortly", **kwargs)
    if status == 429:
        return errors.RateLimitedError(
            f"too many jobs or requests at once ({detail}); Conjure sends it when one finishes",
            **kwargs)
    if status == 413:
        return errors.InvalidRequestError(
            f"too large for Thrixel ({detail}): a GLB may be at most 100 MB, an inline picture "
            "12 MiB", **kwargs)
    if status in (400, 422):
        hint = _FIELD_HINTS.get(field_name or "")
        return errors.InvalidRequestError(
            f"Thrixel refused the request: {detail}" + (f" ({hint})" if hint else ""),
            field=field_name, **kwargs)
    if status >= 500:
        return errors.TransientServiceError(
            f"Thrixel had a server error (HTTP {status}); it usually passes, try again shortly",
            **kwargs)
    return None


# -- hierarchy --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bounds:
    """World bounds of the exported (Y-up) model; ``exact`` False: a conservative outer box."""

    min: tuple[float, float, float]
    max: tuple[float, float, float]
    size: tuple[float, float, float]
    center: tuple[float, float, float]
    exact: bool = True


@dataclass
class Part:
    """A node of the model: a mesh (``faces`` = its triangles) or a container (``faces`` = the
    total of its subtree, as the service reports it)."""

    name: str
    type: str
    faces: int
    children: list[Part] = field(default_factory=list)

    @property
    def is_mesh(self) -> bool:
        return self.type == "Mesh"

    def walk(self) -> Iterator[Part]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Hierarchy:
    root: Part
    bounds: Bounds | None

    @property
    def synthetic_root(self) -> bool:
        """The service names a made-up root "Scene" or "root"; it is not a part to focus on."""
        return self.root.name in ("Scene", "root") and len(self.root.children) > 1

    @property
    def total_faces(self) -> int:
        """Triangles of the whole model: the leaves summed (containers repeat their subtree)."""
        return sum(p.faces for p in self.root.walk() if not p.children)

    def part_names(self) -> list[str]:
        """Names for ``focus_on_node_names``, each once, in tree order."""
        parts = self.root.walk()
        if self.synthetic_root:
            next(parts)
        return list(dict.fromkeys(p.name for p in parts if p.name))


def _vec(value: Any) -> tuple[float, float, float]:
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise ValueError(f"not a 3-vector: {value!r}")
    return float(value[0]), float(value[1]), float(value[2])


def _part(data: Any, depth: int = 0) -> Part:
    if not isinstance(data, dict) or depth > 200:
        raise ValueError("a node must be an object (and the tree at most 200 deep)")
    children = data.get("children") or []
    if not isinstance(children, list):
        raise ValueError("children must be a list")
    return Part(str(data.get("name") or ""), str(data.get("type") or ""),
                int(data.get("faces") or 0), [_part(c, depth + 1) for c in children])


def parse_hierarchy(data: Any) -> Hierarchy:
    """The ``/hierarchy`` answer as a tree; raises ``UnexpectedResponseError`` when malformed."""
    try:
        root = _part(data)
        raw = data.get("bounds")
        bounds = None
        if isinstance(raw, dict):
            lo, hi = _vec(raw["min"]), _vec(raw["max"])
            size = _vec(raw["size"]) if "size" in raw else tuple(h - x for x, h in zip(lo, hi,
                                                                                       strict=True))
            center = _vec(raw["center"]) if "center" in raw else tuple(
                (x + h) / 2 for x, h in zip(lo, hi, strict=True))
            bounds = Bounds(lo, hi, size, center, bool(raw.get("exact", True)))  # type: ignore[arg-type]
    except (ValueError, TypeError, KeyError) as exc:
        raise errors.UnexpectedResponseError(f"unreadable model hierarchy: {exc}",
                                             provider=PROVIDER) from None
    return Hierarchy(root, bounds)


# -- uploads ----------------------------------------------------------------------------------

class MultipartFile:
    """A multipart/form-data body streamed from disk: ``requests`` reads it in pieces and,
    because it has a length, sends a Content-Length instead of chunked encoding.

    Iterating again starts over, so a send that never connected can be repeated.
    """

    CHUNK = 1 << 20

    def __init__(self, fields: Mapping[str, str], file_field: str, path: str,
                 content_type: str = "application/octet-stream",
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.boundary = uuid.uuid4().hex
        self.path = path
        self.progress = progress
        parts = []
        for name, value in fields.items():
            parts.append(f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{value}\r\n".encode())
        filename = os.path.basename(path).replace('"', "_")
        parts.append(f'--{self.boundary}\r\nContent-Disposition: form-data; name="{file_field}";'
                     f' filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode())
        self.head = b"".join(parts)
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.file_size = os.path.getsize(path)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.head) + self.file_size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        total = len(self)
        sent = len(self.head)
        yield self.head
        with open(self.path, "rb") as f:
            while chunk := f.read(self.CHUNK):
                sent += len(chunk)
                if self.progress:
                    self.progress(sent, total)
                yield chunk
        yield self.tail
        if self.progress:
            self.progress(total, total)


# -- the client -------------------------------------------------------------------------------

class ThrixelProvider(Provider):
    name = "thrixel"
    #: The documented default plan cap of jobs queued or processing at once.
    max_active = 3

    def __init__(self, config: ClientConfig, *, progress_budget_s: float = 1.5,
                 on_upload: Callable[[str, int, int], None] | None = None) -> None:
        """``progress_budget_s``: how long one poll may listen to ``/stream`` for a progress
        figure (0: never). ``on_upload(job_id, sent, total)`` hears upload progress."""
        self.api = f"{config.base_url}/api/v1"
        self.progress_budget_s = progress_budget_s
        self.on_upload = on_upload
        key = config.key
        self.http = HttpClient(
            PROVIDER, config.network, guard=config.guard, error_mapper=map_error,
            auth_headers=lambda: {"Authorization": f"Bearer {key}"} if key else {},
        )

    # -- submit ----------------------------------------------------------------------------
    def submit(self, job: Job) -> Submitted:
        op = _BY_NAME.get(job.operation)
        if op is None:
            raise errors.InvalidRequestError(
                f"Thrixel has no operation {job.operation!r}; it offers "
                + ", ".join(_BY_NAME), field="operation", provider=PROVIDER)
        params = op.validate(job.params)
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
        body = {k: v for k, v in params.items() if k not in _CLIENT_ONLY}
        if isinstance(body.get("image"), str):
            body["image"] = image_payload(body["image"], max_bytes=INLINE_IMAGE_BYTES,
                                          allow_links=True, provider=PROVIDER, field="image")
        if isinstance(body.get("images"), list):
            body["images"] = [image_payload(v, max_bytes=INLINE_IMAGE_BYTES, allow_links=True,
                                            provider=PROVIDER, field=f"images[{i}]")
                              for i, v in enumerate(body["images"])]
        return body

    def _upload(self, job: Job, params: Mapping[str, Any]) -> dict[str, Any]:
        path = os.path.expanduser(params["glb_file"])
        try:
            problem = _glb_problem(path)
        except OSError as exc:
            problem = f"cannot read {params['glb_file']!r} ({exc.strerror or exc})"
        if problem:
            raise errors.InvalidRequestError(f"glb_file: {problem}", field="glb_file",
                                             provider=PROVIDER)
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
                f"Thrixel's answer has no {key}: {errors.said(data, 200)}", provider=PROVIDER,
                status=200)
        return remote_id

    # -- status ----------------------------------------------------------------------------
    def poll(self, job: Job) -> RemoteStatus:
        if job.operation == "convert":
            data = self.http.request("GET", f"{self.api}/convert/{job.remote_id}").json()
            return self._convert_status(data, job.params)
        data = self.http.request("GET", f"{self.api}/{job.remote_id}/info").json()
        status = self._status(data, str(job.remote_id), job.params)
        if status.phase == Phase.RUNNING and status.progress is None and self.progress_budget_s:
            status.progress = self.stream_progress(str(job.remote_id))
        return status

    def _status(self, data: Any, remote_id: str, params: Mapping[str, Any]) -> RemoteStatus:
        if not isinstance(data, dict):
            raise errors.UnexpectedResponseError(f"unreadable status: {errors.said(data, 200)}",
                                                 provider=PROVIDER)
        phase = _PHASES.get(str(data.get("status")))
        if phase is None:
            raise errors.UnexpectedResponseError(f"unknown status {data.get('status')!r}",
                                                 provider=PROVIDER)
        note = str(data.get("status_note") or "")
        if phase == Phase.QUEUED:
            return RemoteStatus(phase, message=note or "Queued at Thrixel")
        if phase == Phase.RUNNING:
            return RemoteStatus(phase, message=note or "Thrixel is generating")
        if phase == Phase.FAILED:
            return failure_status(data)
        quality = params.get("quality", "full")
        if quality == "full" and data.get("full_build_status") == "pending":
            # The full GLB is still baking; its download would answer 202 until it is done.
            return RemoteStatus(Phase.RUNNING, progress=None,
                                message="Finishing the full-detail model")
        url = f"{self.api}/{remote_id}/download"
        query = {"format": "glb", "quality": quality}
        label = _PHASE_LABEL.get(data.get("phase") or 0)
        name = f"{remote_id}_{label}.glb" if label else f"{remote_id}.glb"
        return RemoteStatus(Phase.SUCCEEDED, progress=1.0, message="Completed", results=[
            ResultFile(name, lambda: self.download(url, query), _KINDS["glb"])])

    def _convert_status(self, data: Any, params: Mapping[str, Any]) -> RemoteStatus:
        if not isinstance(data, dict):
            raise errors.UnexpectedResponseError(f"unreadable conversion: {errors.said(data, 200)}",
                                                 provider=PROVIDER)
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
                                                 provider=PROVIDER)
        fmt = str(params.get("format") or data.get("format") or "fbx")
        sid = str(params.get("parent_submission_id") or data.get("submission_id"))
        query = {"format": fmt}
        if fmt == "fbx" and params.get("target", "generic") != "generic":
            query["target"] = str(params["target"])
        ext = "zip" if query.get("target") == "roblox" else _EXTENSION.get(fmt, fmt)
        url = f"{self.api}/{sid}/download"
        return RemoteStatus(Phase.SUCCEEDED, progress=1.0, message="Converted", results=[
            ResultFile(f"{sid}.{ext}", lambda: self.download(url, query),
                       _KINDS.get(fmt))])

    def stream_progress(self, remote_id: str) -> float | None:
        """A progress figure (0-1) from the job's SSE feed, listening at most about
        ``progress_budget_s``; None when the feed says nothing in that time or fails."""
        budget = self.progress_budget_s
        deadline = time.monotonic() + budget
        try:
            # Not retried (idempotent=False): a missed figure is not worth a back-off sleep.
            response = self.http.request(
                "GET", f"{self.api}/{remote_id}/stream", stream=True, idempotent=False,
                headers={"Accept": "text/event-stream"},
                timeout=(self.http.settings.connect_timeout, budget))
        except errors.ServiceError:
            return None
        found: float | None = None
        try:
            for event in _sse_events(response, deadline):
                value = sse_progress(event)
                if value is not None:
                    found = value
                    break
                if event.get("status") in ("completed", "failed"):
                    break
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
            pass  # a read timeout on a quiet feed is the usual way this ends
        finally:
            response.close()
        return found

    # -- results ---------------------------------------------------------------------------
    def download(self, url: str, query: Mapping[str, str]) -> Iterator[bytes]:
        """The file's bytes; 202 (still preparing, or a conversion queued) raises
        ``ResultNotReadyError``, a JSON body in place of a file raises
        ``UnexpectedResponseError`` before anything is written. Redirects are followed."""
        response = self.http.request("GET", url, params=dict(query), stream=True, ok=(202,))
        try:
            if response.status_code == 202:
                try:
                    info = response.json()
                except ValueError:
                    info = {}
                state = info.get("status") if isinstance(info, dict) else None
                if state == "failed":
                    raise errors.UnexpectedResponseError(
                        f"Thrixel could not prepare the file: {info.get('error') or 'failed'}",
                        provider=PROVIDER, status=202)
                # Without a Retry-After the engine's own back-off decides when to ask again.
                retry = parse_retry_after(response.headers.get("Retry-After"))
                raise errors.ResultNotReadyError(
                    f"Thrixel is still preparing the file ({state or 'preparing'})",
                    provider=PROVIDER, retry_after=retry)
            if "json" in response.headers.get("Content-Type", "").lower():
                raise errors.UnexpectedResponseError(
                    f"Thrixel sent JSON instead of a model: {body_excerpt(response, 200)}",
                    provider=PROVIDER, status=response.status_code)
            try:
                yield from response.iter_content(1 << 20)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                raise errors.TransientServiceError(
                    f"download broke off ({type(exc).__name__}); trying again",
                    provider=PROVIDER) from None
        finally:
            response.close()

    def hierarchy(self, submission_id: str) -> Hierarchy:
        """The finished model's parts (names for ``focus_on_node_names``) and bounds."""
        data = self.http.request("GET", f"{self.api}/{submission_id}/hierarchy").json()
        return parse_hierarchy(data)

    # -- account ---------------------------------------------------------------------------
    def cancel(self, job: Job) -> bool:
        if job.operation == "convert":
            return False  # conversions are free and have no cancel route
        response = self.http.request("POST", f"{self.api}/{job.remote_id}/cancel", json={},
                                     idempotent=True, ok=(409,))
        if response.status_code == 409:
            raise errors.InvalidRequestError(
                "Thrixel has already started this job and cannot cancel it any more; it will "
                "finish (and be charged)", provider=PROVIDER, status=409)
        data = response.json()
        return bool(data.get("cancelled")) if isinstance(data, dict) else False

    def balance(self) -> str | None:
        data = self.http.request("GET", f"{self.api}/usage").json()
        if not isinstance(data, dict):
            return None
        cubes = data.get("cubes_balance")
        if data.get("is_unlimited") or cubes is None:
            parts = ["unlimited Cubes"]
        elif isinstance(cubes, int | float) and not isinstance(cubes, bool):
            parts = [f"{cubes:g} Cubes"]
        else:
            parts = [f"{str(cubes)[:20]} Cubes"]
        runs = data.get("monthly_runs")
        if isinstance(runs, dict) and runs.get("limit"):
            used = sum(v for v in (runs.get("used") or {}).values() if isinstance(v, int))
            parts.append(f"{used}/{runs['limit']} runs this month")
        if data.get("plan"):
            parts.append(f"{data['plan']} plan")
        return " · ".join(parts)

    def check_key(self) -> str:
        data = self.http.request("GET", f"{self.api}/validate").json()
        if not isinstance(data, dict) or not data.get("valid", False):
            raise errors.AuthenticationError(
                f"Thrixel says the key is not valid; get one at {KEY_HELP}", provider=PROVIDER)
        who = ", ".join(str(data[k]) for k in ("name", "role") if data.get(k))
        return "Thrixel key accepted" + (f" ({who})" if who else "")


def failure_status(data: Mapping[str, Any]) -> RemoteStatus:
    """A failed submission: cancelled by the user, or the service's code and what to do."""
    code = str(data.get("error_code") or "")
    said = errors.said(data.get("error_message") or "")
    if code == "CANCELLED_BY_USER":
        return RemoteStatus(Phase.CANCELLED, error_code=code, message="Cancelled at Thrixel")
    cls, advice = FAILURE_CODES.get(code, (errors.ServiceError, "Thrixel reported a failure"))
    detail = ", ".join(x for x in (code, said) if x)
    return RemoteStatus(Phase.FAILED, error_code=cls.code if code in FAILURE_CODES else
                        "service_failed", message=advice + (f" ({detail})" if detail else ""))


def _sse_events(response: requests.Response, deadline: float) -> Iterator[dict[str, Any]]:
    """``data:`` events of an SSE body as objects, until ``deadline`` or the body ends."""
    buffer = b""
    raw = response.raw
    read = getattr(raw, "read1", None)
    while time.monotonic() < deadline:
        # read1 returns what has arrived rather than waiting for a full buffer.
        chunk = read(4096) if read else raw.read(1)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            line = line.strip()
            if not line.startswith(b"data:"):
                continue  # comments (": heartbeat"), event names, blank separators
            try:
                event = json.loads(line[5:].strip())
            except ValueError:
                continue
            if isinstance(event, dict):
                yield event


def sse_progress(event: Mapping[str, Any]) -> float | None:
    """Progress 0-1 from an SSE event in either shape in evidence: the docs' ``percent``
    (0-1) or the official client's ``progress`` (0-100)."""
    percent = event.get("percent")
    if isinstance(percent, int | float) and not isinstance(percent, bool):
        return min(1.0, max(0.0, float(percent)))
    progress = event.get("progress")
    if isinstance(progress, int | float) and not isinstance(progress, bool):
        return min(1.0, max(0.0, float(progress) / 100))
    return None


def make(config: ClientConfig) -> ThrixelProvider:
    return ThrixelProvider(config)
