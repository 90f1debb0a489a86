"""What Thrixel offers: its operations, their parameters and the checks made before sending.

Phase 1 ``create`` makes a new multi-part model; the follow-ups (refine, edit, detail, convert)
name their parent submission; ``upload`` brings the user's own GLB in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..params import Operation, Param, Rule, exclusive, one_of
from ..prices import Price, Surcharge, Values, flat
from ..sources import image_rule

SERVICE = "Thrixel"
#: Inline (data URL) pictures; the service publishes its own figure at ``/tiers``, 12 MiB is
#: the fallback its own client uses.
INLINE_IMAGE_BYTES = 12 * 1024 * 1024
#: Phase 5 upload limit, "max 100 MB"; the decimal reading is the stricter one.
UPLOAD_BYTES = 100 * 1000 * 1000
MAX_IMAGES = 6
#: Jobs a key may have queued or processing at once: the documented default, until the
#: account's own figure (``/usage`` ``concurrent_job_cap``) is read; and how many Conjure runs
#: at once for an account that has no cap.
DEFAULT_JOB_CAP = 3
UNCAPPED_JOBS = 10
#: Formats ``convert`` offers (STL is checked by its layout, having no magic bytes).
CONVERT_FORMATS = ("fbx", "obj", "usdz", "stl")


#: Prices are in Cubes. Create, refine and edit are metered by actual usage (no fixed figure);
#: the flat figures are the constants of Thrixel's own MCP client, "subject to change". The
#: live list at ``GET /tiers`` (read by the client) wins over them, under these names.
UNIT = "Cubes"
_PRICES_FROM = "Thrixel's own MCP client (thrixel-mcp 1.3.26 pricing constants)"
_PRICES_DATED = "undated"
_METERED = "Thrixel meters this by actual usage and publishes no fixed figure"


def _metered(live_key: Any) -> Price:
    return Price(UNIT, _PRICES_FROM, _PRICES_DATED, flat(None),
                 live_key=live_key if callable(live_key) else lambda values: live_key,
                 note=_METERED)


def _own_reference(values: Values) -> bool:
    return bool(values.get("image") or values.get("reference_image_id"))


#: Detail needs a reference picture: one given costs nothing more; otherwise Thrixel makes one,
#: from the appearance prompt (3 Cubes) or from the model itself (7). Which case applies is
#: read from the MCP's figures ("reference image from a prompt 3, 7 for mesh-ref").
_DETAIL_PRICE = Price(
    UNIT, _PRICES_FROM, _PRICES_DATED, flat(14), live_key=lambda values: "detailer",
    surcharges=(
        Surcharge("reference picture from the prompt", 3,
                  lambda v: not _own_reference(v) and bool(v.get("prompt")), "reference_image"),
        Surcharge("reference picture from the model", 7,
                  lambda v: not _own_reference(v) and not v.get("prompt"),
                  "reference_image_mesh"),
    ))


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
        description="A new model made of parts you can edit one by one, from a prompt and/or "
                    "reference pictures",
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
               image_rule("image", max_bytes=INLINE_IMAGE_BYTES, service=SERVICE),
               image_rule("images", max_bytes=INLINE_IMAGE_BYTES, service=SERVICE)),
        price=_metered(lambda values: "architect-balanced"
                       if values.get("model") == "architect-balanced" else "architect"),
    ),
    Operation(
        "thrixel", "refine", "Auto-refine", "model", needs_parent=True,
        description="Thrixel looks at pictures of the model, compares them with what was asked "
                    "for and fixes what looks wrong (for a new, auto-refined or uploaded model)",
        params=(_PARENT, _PROJECT, _ADAPTIVE, _QUALITY),
        price=_metered("autofix"),
    ),
    Operation(
        "thrixel", "edit", "Edit", "model", needs_parent=True,
        description="Change the model by saying what to change, all of it or only the parts "
                    "you pick",
        params=(
            _PARENT,
            Param("modification_request", "str", "Change", "What to change", required=True,
                  role="prompt"),
            _FOCUS, _PROJECT, _ADAPTIVE, _QUALITY,
        ),
        price=_metered("edit"),
    ),
    Operation(
        "thrixel", "detail", "Detail & Texture", "model", needs_parent=True,
        description="A high-resolution copy of the model with full PBR textures (a detailed "
                    "model can no longer be edited)",
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
        rules=(image_rule("image", max_bytes=INLINE_IMAGE_BYTES, service=SERVICE),),
        price=_DETAIL_PRICE,
    ),
    Operation(
        "thrixel", "upload", "Upload GLB", "upload", paid=False,
        description="Bring your own .glb (at most 100 MB) into Thrixel to auto-refine, "
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

#: Parameters that steer the download rather than the request body.
CLIENT_ONLY = frozenset({"quality", "target", "format", "force", "glb_file"})
