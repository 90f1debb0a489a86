"""Tripo3D's task types as data: error codes, model versions, prices, the task and upload
records, and each type's validation rules (``TASK_RULES``), shared by the v2 and v3 APIs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .faults import FaultSet
from .state import Account, SandboxState, Timeline
from .validate import Checker

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

# Base credits per task type; the rules of some types set their own price.
CREDITS = {
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


class TaskStore:
    """The tasks and uploads of every key, shared by the v2 and v3 APIs."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.tasks: dict[str, Task] = {}
        self.uploads: dict[str, Upload] = {}

    def owned(self, account: Account, task_id: Any) -> Task:
        """The caller's task of that id; 2001 for an unknown id or another key's task."""
        with self.state.lock:
            task = self.tasks.get(task_id) if isinstance(task_id, str) else None
        if task is None or task.key != account.key:
            raise TripoError(2001)
        return task

    def source(self, account: Account, body: dict[str, Any]) -> Task:
        """The finished model task that ``original_model_task_id`` names."""
        task = self.owned(account, body.get("original_model_task_id"))
        if task.status(self.state.now()) != "success":
            raise TripoError(1004, "original_model_task_id must be a successful task")
        if task.model_source is None:
            raise TripoError(1004, "original_model_task_id has no model output")
        return task

    def check_file(
        self, account: Account, value: Any, where: str, object_only: bool = False
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
        self._check_upload(account, value, given[0], where)

    def _check_upload(self, account: Account, value: dict[str, Any], kind: str, where: str) -> None:
        if kind == "file_token":
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


# -- validation by task type ---------------------------------------------------------------
@dataclass(frozen=True)
class VersionRule:
    """The model versions a task type takes, and which one it gets when none is named."""

    allowed: tuple[str, ...]
    default: str
    v3_default: str | None = None  # v3's own default, where it differs
    v3_required: bool = False


VERSION_RULES = {
    "text_to_model": VersionRule(MODEL_VERSIONS, DEFAULT_VERSION, v3_required=True),
    "image_to_model": VersionRule(MODEL_VERSIONS, DEFAULT_VERSION, v3_required=True),
    "multiview_to_model": VersionRule(MULTIVIEW_VERSIONS, DEFAULT_VERSION, v3_required=True),
    "texture_model": VersionRule(TEXTURE_VERSIONS, DEFAULT_VERSION, "v3.0-20250812"),
    "animate_rig": VersionRule(RIG_VERSIONS, "v1.0-20240301", "v2.5-20260210"),
    "mesh_segmentation": VersionRule(SEGMENT_VERSIONS, "v1.0-20250506"),
    "mesh_completion": VersionRule(("v1.0-20250506",), "v1.0-20250506"),
    "highpoly_to_lowpoly": VersionRule(LOWPOLY_VERSIONS, LOWPOLY_VERSIONS[0]),
}
TEXTURE_QUALITIES = ("standard", "detailed", "extreme")
TEXTURE_ALIGNMENTS = ("original_image", "geometry")
ORIENTATIONS = ("default", "align_image")
STYLES = ("lego", "voxel", "voronoi", "minecraft", "keyring", "fridge_magnet", "keycap")
# convert_model's documented defaults: an option sent with another value is "advanced".
CONVERT_DEFAULTS = {
    "quad": False,
    "force_symmetry": False,
    "face_limit": 10000,
    "flatten_bottom": False,
    "flatten_bottom_threshold": 0.01,
    "texture_size": 4096,
    "texture_format": "JPEG",
    "scale_factor": 1.0,
    "pivot_to_center_bottom": False,
    "with_animation": True,
    "pack_uv": False,
    "bake": True,
    "fbx_preset": "blender",
    "export_orientation": "+x",
}
CONVERT_SWITCHES = (
    "pivot_to_center_bottom",
    "with_animation",
    "pack_uv",
    "bake",
    "export_vertex_colors",
    "animate_in_place",
    "assemble_animation",
)


@dataclass
class TaskCheck:
    """One task body under check: what the rules read, and what they settle.

    A rule records field problems on ``checker`` (all reported together as 1004) and raises
    TripoError for a problem the service reports on its own (a missing file, an unknown task).
    """

    store: TaskStore
    account: Account
    body: dict[str, Any]
    api: str
    type: str
    checker: Checker
    credits: int
    version: str | None = None
    seed_text: str = ""
    source: Task | None = None

    def file(self, value: Any, where: str, object_only: bool = False) -> None:
        self.store.check_file(self.account, value, where, object_only)

    def prompt(self) -> None:
        self.seed_text = self.checker.string("prompt", required=True, min_len=1, max_len=1024) or ""

    def source_type(self) -> str:
        assert self.source is not None, "the rule runs after _source"
        return self.source.type


Rule = Callable[[TaskCheck], None]


def _model_version(check: TaskCheck) -> None:
    rule = VERSION_RULES[check.type]
    value = check.body.get("model_version")
    if value is None and check.api == "v3":
        value = check.body.get("model")
    if value is None:
        if rule.v3_required and check.api == "v3":
            raise TripoError(1004, "model_version is required")
        v3_default = rule.v3_default if check.api == "v3" else None
        check.version = v3_default or rule.default
        return
    if not isinstance(value, str):
        raise TripoError(1004, "model_version must be a string")
    if value in DEPRECATED_VERSIONS or (
        check.type == "multiview_to_model" and value == "v1.4-20240625"
    ):
        raise TripoError(2015)
    if value not in rule.allowed:
        raise TripoError(2017)
    check.version = value


def _prompt_and_negative(check: TaskCheck) -> None:
    check.prompt()
    check.checker.string("negative_prompt", max_len=255)


def _image_seed(check: TaskCheck) -> None:
    check.checker.integer("image_seed")


def _one_file(check: TaskCheck, object_only: bool = False) -> None:
    if "file" not in check.body:
        raise TripoError(2003)
    check.file(check.body["file"], "file", object_only)
    check.seed_text = repr(check.body["file"])


def _imported_file(check: TaskCheck) -> None:
    _one_file(check, object_only=True)


def _image_options(check: TaskCheck) -> None:
    check.checker.boolean("enable_image_autofix")
    check.checker.string("orientation", choices=ORIENTATIONS)


def _four_views(check: TaskCheck) -> None:
    """Multiview input: [front, left, back, right], the front and one more present."""
    files = check.body.get("files")
    if not isinstance(files, list) or len(files) != 4:
        raise TripoError(1004, "files must list exactly 4 items [front, left, back, right]")
    present = [i for i, f in enumerate(files) if isinstance(f, dict) and f]
    if 0 not in present:
        raise TripoError(1004, "the front image (files[0]) cannot be omitted")
    if len(present) < 2:
        raise TripoError(1004, "at least two images are required")
    for i in present:
        check.file(files[i], f"files[{i}]")
    check.seed_text = repr(files[0])
    check.checker.string("orientation", choices=ORIENTATIONS)


def _generation_options(check: TaskCheck) -> None:
    """The options every model generation takes, and its price."""
    checker = check.checker
    checker.integer("model_seed")
    checker.integer("texture_seed")
    texture = checker.boolean("texture")
    pbr = checker.boolean("pbr")
    quality = checker.string("texture_quality", choices=TEXTURE_QUALITIES)
    if check.type != "text_to_model":
        checker.string("texture_alignment", choices=TEXTURE_ALIGNMENTS)
    checker.boolean("auto_size")
    quad = checker.boolean("quad")
    checker.string("compress", choices=("geometry",))
    low_poly = checker.boolean("smart_low_poly")
    parts = checker.boolean("generate_parts")
    checker.boolean("export_uv")
    geometry = checker.string("geometry_quality", choices=("standard", "detailed"))
    _check_face_limit(check, checker.integer("face_limit", low=1), quad, low_poly)
    if parts:
        if texture is not False or pbr is not False:
            checker.fail("generate_parts", "needs texture=false and pbr=false")
        if quad:
            checker.fail("generate_parts", "is not compatible with quad=true")
    # texture and pbr both default to true, and pbr turns the texture on.
    textured = texture is not False or pbr is not False
    if check.type == "text_to_model":
        check.credits = 20 if textured else 10
    else:
        check.credits = 30 if textured else 20
    check.credits += 5 * bool(quad) + 10 * bool(low_poly) + 20 * bool(parts)
    check.credits += _texture_surcharge(quality) + 20 * (geometry == "detailed")


def _texture_surcharge(quality: str | None) -> int:
    """"detailed texture +10/20": +10 for detailed, +20 for extreme."""
    return {"detailed": 10, "extreme": 20}.get(quality or "", 0)


def _check_face_limit(
    check: TaskCheck, face_limit: int | None, quad: bool | None, low_poly: bool | None
) -> None:
    if check.version == "P1-20260311":
        for name in ("quad", "smart_low_poly", "generate_parts", "geometry_quality"):
            if name in check.body:
                check.checker.fail(name, "must be omitted for P1-20260311")
        if face_limit is not None and not 48 <= face_limit <= 20000:
            check.checker.fail("face_limit", "must be between 48 and 20000 for P1-20260311")
    elif face_limit is not None and low_poly:
        low, high = (500, 10000) if quad else (1000, 20000)
        if not low <= face_limit <= high:
            check.checker.fail("face_limit", f"must be between {low} and {high}")


def _image_generation(check: TaskCheck) -> None:
    """generate_image: a prompt, and as many reference images as the image model takes."""
    checker, body = check.checker, check.body
    check.prompt()
    version = checker.string("model_version", choices=tuple(IMAGE_MODELS)) or "flux.1_kontext_pro"
    check.version = version
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
        check.file(ref, f"files[{i}]")
    checker.boolean("t_pose")
    checker.boolean("sketch_to_render")


def _edited_views(check: TaskCheck) -> None:
    files = check.body.get("files")
    if not isinstance(files, list) or len(files) != 4:
        raise TripoError(1004, "files must list exactly 4 views")
    for i, ref in enumerate(files):
        check.file(ref, f"files[{i}]")
    check.prompt()


def _draft(check: TaskCheck) -> None:
    """refine_model: a finished draft, made by a generation before v2.0."""
    draft = check.store.owned(check.account, check.body.get("draft_model_task_id"))
    if draft.type not in GENERATION_TYPES or _is_version_at_least(draft.version, "v2.0"):
        raise TripoError(2006)
    if draft.status(check.store.state.now()) != "success":
        raise TripoError(2007)
    check.seed_text = draft.task_id


def _source(check: TaskCheck) -> None:
    """Post-processing: the finished model task the body names."""
    check.source = check.store.source(check.account, check.body)
    check.seed_text = check.source.task_id


def _texture(check: TaskCheck) -> None:
    checker = check.checker
    checker.boolean("texture")
    checker.boolean("pbr")
    checker.integer("model_seed")
    checker.integer("texture_seed")
    # "texture_model 10/20": 10 at standard quality, 20 detailed (30 extreme).
    check.credits = 10 + _texture_surcharge(
        checker.string("texture_quality", choices=TEXTURE_QUALITIES))
    checker.string("texture_alignment", choices=TEXTURE_ALIGNMENTS)
    checker.string_list("part_names")
    checker.string("compress", choices=("geometry",))
    checker.boolean("bake")
    prompt = check.body.get("texture_prompt")
    if prompt is None:
        return
    if not isinstance(prompt, dict) or not prompt:
        checker.fail("texture_prompt", "must be an object with text or image")
        return
    if "text" in prompt and not isinstance(prompt["text"], str):
        checker.fail("texture_prompt.text", "must be a string")
    for name in ("image", "style_image"):
        if name in prompt:
            check.file(prompt[name], f"texture_prompt.{name}")


def _rig(check: TaskCheck) -> None:
    check.checker.string("out_format", choices=("glb", "fbx"))
    check.checker.string("rig_type", choices=RIG_TYPES)
    check.checker.string("spec", choices=RIG_SPECS)


def _retarget(check: TaskCheck) -> None:
    checker = check.checker
    if check.source_type() != "animate_rig":
        checker.fail("original_model_task_id", "must be an animate_rig task")
    one = checker.string("animation", choices=ANIMATIONS)
    many = checker.string_list("animations", max_items=5, min_items=1)
    if one is None and many is None and checker.ok:
        checker.fail("animation", "animation or animations is required")
    for name in many or []:
        if name not in ANIMATIONS:
            checker.fail("animations", f"unknown animation {name!r}")
    check.credits = 10 * max(1, len(many or []))
    checker.string("out_format", choices=("glb", "fbx"))
    for name in ("bake_animation", "export_with_geometry", "animate_in_place"):
        checker.boolean(name)


def _stylize(check: TaskCheck) -> None:
    check.checker.string("style", required=True, choices=STYLES)
    check.checker.integer("block_size", low=1)


def _convert(check: TaskCheck) -> None:
    checker = check.checker
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
    for name in CONVERT_SWITCHES:
        checker.boolean(name)
    checker.string_list("part_names")
    checker.string("fbx_preset", choices=("blender", "mixamo", "3dsmax"))
    checker.string("export_orientation", choices=("+x", "+y", "-x", "-y"))
    if fmt in ("OBJ", "STL", "3MF") and check.source_type() in ("animate_rig", "animate_retarget"):
        checker.fail("format", f"{fmt} is not available for rigged models")
    # Options away from their documented defaults bill as an advanced conversion.
    advanced = [k for k, v in check.body.items()
                if k not in ("type", "format", "original_model_task_id")
                and CONVERT_DEFAULTS.get(k, object()) != v]
    check.credits = 10 if advanced else 5


def _completion(check: TaskCheck) -> None:
    if check.source_type() != "mesh_segmentation":
        check.checker.fail("original_model_task_id", "must be a mesh_segmentation task")
    check.checker.string_list("part_names")
    check.checker.string("completion_mode", choices=("ai_completion", "quick_cap"))


def _lowpoly(check: TaskCheck) -> None:
    quad = check.checker.boolean("quad")
    check.checker.integer("face_limit", low=500, high=10000 if quad else 20000)
    check.checker.string_list("part_names")
    check.checker.boolean("bake")


# Each task type's checks, in the order the service makes them.
TASK_RULES: dict[str, tuple[Rule, ...]] = {
    "text_to_model": (_model_version, _prompt_and_negative, _image_seed, _generation_options),
    "image_to_model": (_model_version, _one_file, _image_options, _generation_options),
    "multiview_to_model": (_model_version, _four_views, _generation_options),
    "text_to_image": (_prompt_and_negative,),
    "generate_image": (_image_generation,),
    "generate_multiview_image": (_one_file,),
    "edit_multiview_image": (_edited_views,),
    "refine_model": (_draft,),
    "import_model": (_imported_file,),
    "texture_model": (_source, _model_version, _texture),
    "animate_prerigcheck": (_source,),
    "animate_rig": (_source, _model_version, _rig),
    "animate_retarget": (_source, _retarget),
    "stylize_model": (_source, _stylize),
    "convert_model": (_source, _convert),
    "mesh_segmentation": (_source, _model_version),
    "mesh_completion": (_source, _model_version, _completion),
    "highpoly_to_lowpoly": (_source, _model_version, _lowpoly),
}


def check_task(store: TaskStore, account: Account, body: dict[str, Any], api: str) -> TaskCheck:
    """Run the rules of the body's task type; raises TripoError with the code to answer."""
    task_type = body.get("type")
    if task_type == "animate_model":
        raise TripoError(2016)
    if not isinstance(task_type, str) or task_type not in TASK_RULES:
        raise TripoError(2002)
    check = TaskCheck(store, account, body, api, task_type, Checker(body), CREDITS[task_type])
    for rule in TASK_RULES[task_type]:
        rule(check)
    if not check.checker.ok:
        raise TripoError(1004, "; ".join(p.text() for p in check.checker.problems))
    return check
