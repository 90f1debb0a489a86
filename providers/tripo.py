"""Tripo3D: text, image and multi-view to 3D, images, texturing, conversion and rigging.

Two API families, chosen per client (``make``): v2 (``https://api.tripo3d.ai/v2/openapi``, one
``POST /task`` with a ``type``), which the docs report shut down on 2026-10-31, and v3
(``https://openapi.tripo3d.ai/v3/...``, one route per capability), the default. Both share the
keys, the error codes and the operations declared below; only routes, envelopes, uploads and the
task object differ, and that difference lives in ``_V2``/``_V3`` and ``TripoProvider``.

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
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from . import errors, imagefiles
from .base import Job, Phase, Provider, RemoteStatus, ResultFile, Submitted
from .client import ClientConfig
from .http import HttpClient, body_excerpt, parse_retry_after
from .params import Operation, Param, Rule, exclusive

PROVIDER = "Tripo3D"
API_ENV = "CONJURE_TRIPO_API"
API_VERSIONS = ("v2", "v3")
#: v3 is the default for new installs: the docs report v2 shut down on 2026-10-31.
DEFAULT_API = "v3"
TOP_UP = "https://platform.tripo3d.ai/billing"
KEYS_PAGE = "https://platform.tripo3d.ai/api-keys"
#: The real origins of each family, international and CN; an override (e.g. the sandbox) is
#: kept as it is for both families.
ORIGINS = {
    "v2": ("https://api.tripo3d.ai", "https://api.tripo3d.com"),
    "v3": ("https://openapi.tripo3d.ai", "https://openapi.tripo3d.com"),
}

IMAGE_MIN_PX, IMAGE_MAX_PX = 20, 6000
IMAGE_MAX_BYTES = 20 * 1024 * 1024

# -- declarations ----------------------------------------------------------------------------

P1 = "P1-20260311"
V1_4 = "v1.4-20240625"
MODEL_VERSIONS = ("P1-20260311", "v3.1-20260211", "v3.0-20250812", "v2.5-20250123",
                  "v2.0-20240919", "Turbo-v1.0-20250506", "v1.4-20240625")
MULTIVIEW_VERSIONS = ("v3.0-20250812", "v2.5-20250123", "v2.0-20240919")
#: The seed's default; v3 requires a version, so the same one is sent there when unset.
DEFAULT_MODEL_VERSION = "v2.5-20250123"
IMAGE_MODELS = ("flux.1_kontext_pro", "flux.1_dev", "gpt_4o", "gemini_2.5_flash_image_preview",
                "z_image")
#: Reference images each image model takes (flux.1_dev and z_image take none).
IMAGE_MODEL_FILES = {"flux.1_kontext_pro": 4, "flux.1_dev": 0, "gpt_4o": 10,
                     "gemini_2.5_flash_image_preview": 10, "z_image": 0}
TEXTURE_VERSIONS = ("v2.5-20250123", "v3.0-20250812", "v3.5-20260815")
RIG_VERSIONS = ("v1.0-20240301", "v2.0-20250506", "v2.5-20260210", "v3.0-20260909")
RIG_TYPES = ("biped", "quadruped", "hexapod", "octopod", "avian", "serpentine", "aquatic",
             "others")
RIG_SPECS = ("tripo", "mixamo", "actorcore", "unity", "unreal", "vrm")
ANIMATIONS = tuple(f"preset:{n}" for n in (
    "idle", "walk", "run", "dive", "climb", "jump", "slash", "shoot", "hurt", "fall", "turn",
    "quadruped:walk", "hexapod:walk", "octopod:walk", "serpentine:march", "aquatic:march"))
CONVERT_FORMATS = ("GLTF", "USDZ", "FBX", "OBJ", "STL", "3MF")
TEXTURE_FORMATS = ("BMP", "DPX", "HDR", "JPEG", "OPEN_EXR", "PNG", "TARGA", "TIFF", "WEBP")
#: Options the seed lists as valid only for model_version >= v2.0-20240919.
V2_ONLY = ("face_limit", "texture", "pbr", "texture_seed", "texture_alignment",
           "texture_quality", "auto_size", "orientation", "quad", "compress", "smart_low_poly",
           "generate_parts", "export_uv")
#: Options P1-20260311 refuses.
NOT_FOR_P1 = ("quad", "smart_low_poly", "generate_parts", "geometry_quality")


def _set(values: Mapping[str, Any], name: str) -> bool:
    return values.get(name) is not None


def _version_rules(default: str) -> tuple[Rule, ...]:
    """Rules that depend on the chosen model version (generation operations)."""

    def version(values: Mapping[str, Any]) -> str:
        return values.get("model_version") or default

    def old_version(values: Mapping[str, Any]) -> str | None:
        if version(values) != V1_4:
            return None
        given = [n for n in V2_ONLY if _set(values, n)]
        if given:
            return (f"{', '.join(given)} need model_version v2.0-20240919 or newer; "
                    f"{V1_4} does not take them")
        return None

    def p1(values: Mapping[str, Any]) -> str | None:
        if version(values) != P1:
            return None
        given = [n for n in NOT_FOR_P1 if _set(values, n)]
        if given:
            return f"{', '.join(given)} must be left unset with model_version {P1}"
        return None

    def geometry_quality(values: Mapping[str, Any]) -> str | None:
        if _set(values, "geometry_quality") and not str(version(values)).startswith("v3."):
            return ("geometry_quality needs a v3.x model_version (v3.0-20250812 or "
                    f"v3.1-20260211); it is {version(values)}")
        return None

    def face_limit(values: Mapping[str, Any]) -> str | None:
        limit = values.get("face_limit")
        if limit is None:
            return None
        if version(values) == P1:
            low, high, why = 48, 20000, f"with model_version {P1}"
        elif values.get("smart_low_poly"):
            quad = bool(values.get("quad"))
            low, high = (500, 10000) if quad else (1000, 20000)
            why = "with smart_low_poly" + (" and quad" if quad else "")
        else:
            return None
        if not low <= limit <= high:
            return f"face_limit must be from {low} to {high} {why}; got {limit}"
        return None

    def parts(values: Mapping[str, Any]) -> str | None:
        if not values.get("generate_parts"):
            return None
        # texture and pbr default to true at the service, so they must be turned off
        # explicitly for parts.
        if values.get("texture") is not False or values.get("pbr") is not False:
            return "generate_parts needs texture=false and pbr=false (parts come untextured)"
        if values.get("quad"):
            return "generate_parts cannot be combined with quad=true"
        return None

    return (Rule("model_version", old_version), Rule("model_version", p1),
            Rule("geometry_quality", geometry_quality), Rule("face_limit", face_limit),
            Rule("generate_parts", parts))


def _image_rule(*names: str, min_items: int = 0) -> Rule:
    """Local pictures (paths or data URLs) must be readable PNG/JPEG/WebP of 20–6000 px and at
    most 20 MB: checked before the job is even written, and again before the upload."""

    def check(values: Mapping[str, Any]) -> str | None:
        for name in names:
            value = values.get(name)
            for item in value if isinstance(value, list) else [value]:
                if not item or imagefiles.is_url(item):
                    continue
                try:
                    imagefiles.load(item, field=name, provider=PROVIDER, min_px=IMAGE_MIN_PX,
                                    max_px=IMAGE_MAX_PX, max_bytes=IMAGE_MAX_BYTES)
                except errors.InvalidRequestError as exc:
                    return exc.message
        return None

    return Rule(names[0], check)


def _model_params(versions: tuple[str, ...]) -> tuple[Param, ...]:
    """The options text, image and multi-view generation share (seed: Text/Image to Model)."""
    return (
        Param("model_version", "enum", "Model Version", "Generation model; v3 needs one, so "
              f"{DEFAULT_MODEL_VERSION} is sent there when unset", default=DEFAULT_MODEL_VERSION,
              choices=versions),
        Param("texture", "bool", "Texture", "Textured model; off gives a base mesh",
              default=True),
        Param("pbr", "bool", "PBR", "PBR materials (turns texture on)", default=True),
        Param("texture_quality", "enum", "Texture Quality", "detailed: high-resolution "
              "textures (extra credits); extreme is newer and not in every account",
              default="standard", choices=("standard", "detailed", "extreme")),
        Param("geometry_quality", "enum", "Geometry Quality", "detailed (Ultra): most detail, "
              "v3.x versions only", default="standard", choices=("standard", "detailed"),
              advanced=True),
        Param("face_limit", "int", "Face Limit", "Faces in the output; unset: adaptive. "
              "smart_low_poly: 1000–20000 (500–10000 with quad); P1: 48–20000", minimum=1,
              advanced=True),
        Param("quad", "bool", "Quad Mesh", "Quad topology; the result is an FBX file",
              default=False, advanced=True),
        Param("smart_low_poly", "bool", "Smart Low Poly", "Hand-crafted low-poly topology; "
              "may fail on complex shapes", default=False, advanced=True),
        Param("generate_parts", "bool", "Generate Parts", "Editable separate parts; needs "
              "texture and pbr off and no quad", default=False, advanced=True),
        Param("auto_size", "bool", "Real-World Size", "Scale to real-world metres",
              default=False, advanced=True),
        Param("export_uv", "bool", "UV Unwrap", "Unwrap UVs during generation; off is faster "
              "(UVs are made when texturing)", default=True, advanced=True),
        Param("compress", "enum", "Compression", "geometry: meshopt compression",
              choices=("geometry",), advanced=True),
        Param("model_seed", "int", "Model Seed", "Same seed, same geometry", advanced=True),
        Param("texture_seed", "int", "Texture Seed", "Same seed, same texture", advanced=True),
    )


_PROMPT = Param("prompt", "str", "Prompt", "What to make (no emoji)", required=True,
                max_length=1024, role="prompt")
_NEGATIVE = Param("negative_prompt", "str", "Negative Prompt", "What to avoid",
                  max_length=255, advanced=True, role="negative_prompt")
_ALIGNMENT = Param("texture_alignment", "enum", "Texture Alignment", "original_image: close to "
                   "the picture; geometry: consistent with the shape",
                   default="original_image", choices=("original_image", "geometry"),
                   advanced=True)
_ORIENTATION = Param("orientation", "enum", "Orientation", "align_image: rotate the model to "
                     "match the picture", default="default", choices=("default", "align_image"),
                     advanced=True)
_SOURCE = Param("original_model_task_id", "str", "Source Task", "The Tripo task whose model "
                "this works on", required=True, role="parent")
_IMAGE_HELP = "PNG, JPEG or WebP file, or an https URL; 20–6000 px, at most 20 MB"


def _animation_rule(values: Mapping[str, Any]) -> str | None:
    unknown = [a for a in values.get("animations") or () if a not in ANIMATIONS]
    if unknown:
        return f"unknown animation {unknown[0]!r}; choose from " + ", ".join(ANIMATIONS)
    return None


def _only_for_formats(name: str, formats: tuple[str, ...]) -> Rule:
    def check(values: Mapping[str, Any]) -> str | None:
        if _set(values, name) and values.get("format") not in formats:
            return f"{name} applies only to format {' or '.join(formats)}"
        return None
    return Rule(name, check)


def _image_model_rule(values: Mapping[str, Any]) -> str | None:
    model = values.get("model_version") or "flux.1_kontext_pro"
    count = len(values.get("images") or ())
    limit = IMAGE_MODEL_FILES[model]
    if count and limit == 0:
        return f"model_version {model} cannot use reference images"
    if count > limit:
        return f"model_version {model} takes at most {limit} reference images; got {count}"
    return None


def _multiview_rule(values: Mapping[str, Any]) -> str | None:
    views = [v for v in ("front", "left", "back", "right") if values.get(v)]
    if len(views) < 2:
        return "give the front view and at least one more of left, back, right"
    return None


OPERATIONS = (
    Operation(
        "tripo", "text_to_model", "Text to Model", "text",
        description="A 3D model from a prompt",
        params=(_PROMPT, _NEGATIVE,
                Param("image_seed", "int", "Image Seed", "Seed of the prompt's picture stage",
                      advanced=True),
                *_model_params(MODEL_VERSIONS)),
        rules=_version_rules(DEFAULT_MODEL_VERSION),
    ),
    Operation(
        "tripo", "image_to_model", "Image to Model", "image",
        description="A 3D model from one picture",
        params=(Param("image", "image", "Image", _IMAGE_HELP, required=True, role="image"),
                Param("enable_image_autofix", "bool", "Fix Image", "Optimise the picture first "
                      "(slower)", default=False, advanced=True),
                _ALIGNMENT, _ORIENTATION, *_model_params(MODEL_VERSIONS)),
        rules=(_image_rule("image"), *_version_rules(DEFAULT_MODEL_VERSION)),
    ),
    Operation(
        "tripo", "multiview_to_model", "Multiview to Model", "multiview",
        description="A 3D model from front, left, back and right views (front and at least one "
                    "more; views at 0°, 90°, 180°, 270°)",
        params=(Param("front", "image", "Front", _IMAGE_HELP, required=True, role="image"),
                Param("left", "image", "Left", "The object's own left side"),
                Param("back", "image", "Back"),
                Param("right", "image", "Right"),
                _ALIGNMENT, _ORIENTATION, *_model_params(MULTIVIEW_VERSIONS)),
        rules=(Rule("left", _multiview_rule), _image_rule("front", "left", "back", "right"),
               *_version_rules(DEFAULT_MODEL_VERSION)),
    ),
    Operation(
        "tripo", "refine_model", "Refine Model", "model", needs_parent=True,
        description="Refine a draft model (only drafts made before model v2.0)",
        params=(Param("draft_model_task_id", "str", "Draft Task", "A successful text, image or "
                      "multiview task of model_version below v2.0", required=True,
                      role="parent"),),
    ),
    Operation(
        "tripo", "text_to_image", "Text to Image", "text",
        description="A picture from a prompt (e.g. to check an idea before paying for 3D)",
        params=(_PROMPT, _NEGATIVE),
    ),
    Operation(
        "tripo", "generate_image", "Generate Image", "text",
        description="A picture from a prompt and optional reference images (refer to them as "
                    "image[1], image[2] in the prompt)",
        params=(_PROMPT,
                Param("model_version", "enum", "Image Model", "flux.1_dev and z_image take no "
                      "reference images; flux.1_kontext_pro up to 4, the others up to 10",
                      default="flux.1_kontext_pro", choices=IMAGE_MODELS),
                Param("images", "image_list", "Reference Images", _IMAGE_HELP, max_items=10,
                      role="images"),
                Param("t_pose", "bool", "T-Pose", "Put the subject in a T-pose", default=False,
                      advanced=True),
                Param("sketch_to_render", "bool", "Sketch to Render", "Render a sketch",
                      default=False, advanced=True)),
        rules=(Rule("images", _image_model_rule), _image_rule("images")),
    ),
    Operation(
        "tripo", "texture_model", "Texture Model", "model", needs_parent=True,
        description="New textures for an earlier model, optionally guided by text or a picture",
        params=(_SOURCE,
                Param("texture_prompt", "str", "Texture Prompt", "Describe the texture",
                      max_length=1024),
                Param("texture_image", "image", "Texture Image", "A picture to texture from; "
                      + _IMAGE_HELP),
                Param("style_image", "image", "Style Image", "A picture whose style to follow",
                      advanced=True),
                Param("model_version", "enum", "Texture Model", "Unset: v2.5-20250123 on v2, "
                      "v3.0-20250812 on v3", choices=TEXTURE_VERSIONS, advanced=True),
                Param("texture", "bool", "Texture", default=True),
                Param("pbr", "bool", "PBR", default=True),
                Param("texture_quality", "enum", "Texture Quality", default="standard",
                      choices=("standard", "detailed", "extreme")),
                _ALIGNMENT,
                Param("part_names", "str_list", "Parts", "Only these parts (empty: all)",
                      advanced=True),
                Param("bake", "bool", "Bake", "Bake the texture", default=True, advanced=True),
                Param("compress", "enum", "Compression", choices=("geometry",), advanced=True),
                Param("model_seed", "int", "Model Seed", advanced=True),
                Param("texture_seed", "int", "Texture Seed", advanced=True)),
        rules=(exclusive("texture_prompt", "texture_image"),
               _image_rule("texture_image", "style_image")),
    ),
    Operation(
        "tripo", "convert_model", "Convert Model", "model", needs_parent=True,
        description="The model of an earlier task in another format (non-default options bill "
                    "as advanced conversion)",
        params=(_SOURCE,
                Param("format", "enum", "Format", "OBJ, STL and 3MF are not for rigged models; "
                      "3MF is geometry only, STL drops textures", required=True,
                      choices=CONVERT_FORMATS),
                Param("quad", "bool", "Quad Mesh", default=False),
                Param("force_symmetry", "bool", "Force Symmetry", "Only with quad",
                      default=False, advanced=True),
                Param("face_limit", "int", "Face Limit", default=10000, minimum=1,
                      advanced=True),
                Param("flatten_bottom", "bool", "Flatten Bottom", default=False, advanced=True),
                Param("flatten_bottom_threshold", "float", "Flatten Threshold", default=0.01,
                      minimum=0, advanced=True),
                Param("texture_size", "int", "Texture Size", default=4096, minimum=1,
                      advanced=True),
                Param("texture_format", "enum", "Texture Format", default="JPEG",
                      choices=TEXTURE_FORMATS, advanced=True),
                Param("scale_factor", "float", "Scale", default=1.0, minimum=0, advanced=True),
                Param("pivot_to_center_bottom", "bool", "Pivot to Bottom", default=False,
                      advanced=True),
                Param("with_animation", "bool", "With Animation", default=True, advanced=True),
                Param("pack_uv", "bool", "Pack UVs", default=False, advanced=True),
                Param("bake", "bool", "Bake", default=True, advanced=True),
                Param("part_names", "str_list", "Parts", advanced=True),
                Param("export_vertex_colors", "bool", "Vertex Colours", "OBJ and GLTF only",
                      advanced=True),
                Param("fbx_preset", "enum", "FBX Preset", "FBX only", default="blender",
                      choices=("blender", "mixamo", "3dsmax"), advanced=True),
                Param("export_orientation", "enum", "Facing", default="+x",
                      choices=("+x", "+y", "-x", "-y"), advanced=True),
                Param("animate_in_place", "bool", "Animate in Place", advanced=True),
                Param("assemble_animation", "bool", "Assemble Animation", advanced=True)),
        rules=(Rule("force_symmetry",
                    lambda v: "force_symmetry needs quad=true"
                    if v.get("force_symmetry") and not v.get("quad") else None),
               _only_for_formats("export_vertex_colors", ("OBJ", "GLTF")),
               _only_for_formats("fbx_preset", ("FBX",))),
    ),
    Operation(
        "tripo", "animate_prerigcheck", "Rig Check", "model", needs_parent=True, paid=False,
        description="Whether an earlier model can be rigged, and as what (free)",
        params=(_SOURCE,),
    ),
    Operation(
        "tripo", "animate_rig", "Rig", "model", needs_parent=True,
        description="A skeleton for an earlier model",
        params=(_SOURCE,
                Param("model_version", "enum", "Rig Model", "Unset: v1.0-20240301 on v2, "
                      "v2.5-20260210 on v3", choices=RIG_VERSIONS, advanced=True),
                Param("out_format", "enum", "Format", default="glb", choices=("glb", "fbx")),
                Param("rig_type", "enum", "Rig Type", "Unset: detected", choices=RIG_TYPES),
                Param("spec", "enum", "Skeleton", "actorcore, unity, unreal and vrm need the "
                      "newer rig models", default="tripo", choices=RIG_SPECS)),
    ),
    Operation(
        "tripo", "animate_retarget", "Animate", "model", needs_parent=True,
        description="Preset animations for a rigged model (source: an animate_rig task)",
        params=(_SOURCE,
                Param("animations", "str_list", "Animations", "1 to 5 of: "
                      + ", ".join(ANIMATIONS), required=True, min_items=1, max_items=5),
                Param("out_format", "enum", "Format", default="glb", choices=("glb", "fbx")),
                Param("bake_animation", "bool", "Bake Animation", default=True, advanced=True),
                Param("export_with_geometry", "bool", "With Geometry", default=False,
                      advanced=True),
                Param("animate_in_place", "bool", "In Place", default=False, advanced=True)),
        rules=(Rule("animations", _animation_rule),),
    ),
)
BY_NAME = {op.name: op for op in OPERATIONS}

#: Operations of the service Conjure does not offer, and why (for the support table).
UNSUPPORTED = {
    "stylize_model": "retired: the v3 SDK refuses it",
    "generate_multiview_image": "gives four pictures, not a model; use multiview_to_model "
                                "with your own views",
    "edit_multiview_image": "gives pictures, not a model",
    "import_model": "needs the S3 (STS) upload route, which Conjure does not implement",
    "mesh_segmentation": "not yet offered by Conjure",
    "mesh_completion": "not yet offered by Conjure (needs mesh_segmentation)",
    "highpoly_to_lowpoly": "not yet offered; use smart_low_poly when generating",
    "image_to_splat": "v3 only, gives a splat, not a mesh Blender imports",
    "image_to_depth": "v3 only, gives a depth picture",
    "animate_model": "retired by Tripo (error 2016); use animate_rig then animate_retarget",
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

# -- errors ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Code:
    error: type[errors.ServiceError]
    text: str


#: Every documented code (seed and docs §2.7), with what the user can do about it.
CODES: dict[int, _Code] = {
    1000: _Code(errors.TransientServiceError, "Tripo3D had an unknown server error; try again "
                "in a minute"),
    1001: _Code(errors.TransientServiceError, "Tripo3D had a fatal server error; try again, "
                "and contact Tripo support if it keeps happening"),
    1002: _Code(errors.AuthenticationError, "Tripo3D refused the API key: paste a valid key "
                f"(starts with tsk_, from {KEYS_PAGE}) in Preferences; keys work only in their "
                "own region"),
    1003: _Code(errors.InvalidRequestError, "Tripo3D could not read the request (malformed "
                "body); please report this Conjure bug"),
    1004: _Code(errors.InvalidRequestError, "Tripo3D refused a parameter (or an uploaded "
                "image's token expired; generate again to upload it anew)"),
    1005: _Code(errors.AuthenticationError, "Tripo3D does not allow this key to do that; check "
                "the key's permissions on the Tripo platform"),
    1007: _Code(errors.RateLimitedError, "Tripo3D's per-minute limit of new tasks is reached; "
                "Conjure sends it again shortly"),
    2000: _Code(errors.RateLimitedError, "too many Tripo3D tasks at once for this account; "
                "Conjure sends it when one finishes"),
    2001: _Code(errors.NotFoundError, "Tripo3D has no such task for this key (it may belong "
                "to another key or region); check the source task id"),
    2002: _Code(errors.InvalidRequestError, "Tripo3D does not support this task type on this "
                "API version; try the other API version in Preferences"),
    2003: _Code(errors.InvalidRequestError, "the input file is empty (or was blocked by "
                "Tripo3D's firewall); pick the image again"),
    2004: _Code(errors.InvalidRequestError, "Tripo3D does not accept this file type; use PNG, "
                "JPEG or WebP"),
    2006: _Code(errors.InvalidRequestError, "the task to refine is not a draft (refine works "
                "once, on models made before model v2.0)"),
    2007: _Code(errors.InvalidRequestError, "the draft task did not succeed, so it cannot be "
                "refined; pick a successful one"),
    2008: _Code(errors.ContentRejectedError, "rejected by Tripo3D's content policy; change the "
                "prompt or image (contact Tripo if you believe it is valid)"),
    2010: _Code(errors.InsufficientCreditsError, "not enough Tripo3D credits — top up at "
                f"{TOP_UP}"),
    2013: _Code(errors.AuthenticationError, "your Tripo3D plan does not allow this priority "
                "tier; upgrade the plan or use the default priority"),
    2014: _Code(errors.TransientServiceError, "Tripo3D's moderation service failed; try again "
                "later"),
    2015: _Code(errors.InvalidRequestError, "this model version is deprecated; choose a newer "
                "model_version"),
    2016: _Code(errors.InvalidRequestError, "animate_model is retired; use Rig then Animate"),
    2017: _Code(errors.InvalidRequestError, "Tripo3D does not know this model_version; choose "
                "one from the list"),
    2018: _Code(errors.InvalidRequestError, "the model is too complex to remesh (or the task "
                "timed out in Tripo3D's queue); try another model or fewer options"),
    2019: _Code(errors.NotFoundError, "Tripo3D cannot find the referenced file; generate again "
                "so the image is uploaded anew"),
    2021: _Code(errors.InvalidRequestError, "the file is too large for Tripo3D; use a smaller "
                "one (images at most 20 MB)"),
    2022: _Code(errors.InvalidRequestError, "the model is too large for Tripo3D"),
}


def _trace(response: requests.Response) -> str:
    trace = response.headers.get("X-Tripo-Trace-ID") or response.headers.get("X-Request-ID")
    return f" [trace {trace}]" if trace else ""


def _envelope(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_for(code: int | None, status: int | None, service_message: str = "",
              suggestion: str = "", trace: str = "", retry_after: float | None = None
              ) -> errors.ServiceError | None:
    """The taxonomy error for a Tripo code, or None when the code is not a documented one."""
    known = CODES.get(code) if code is not None else None
    if known is None:
        return None
    said = errors.said("; ".join(s for s in (service_message, suggestion) if s))
    message = f"{known.text} (code {code}" + (f": {said}" if said else "") + f"){trace}"
    kwargs: dict[str, Any] = {"provider": PROVIDER, "status": status, "service_code": code,
                              "retry_after": retry_after}
    return known.error(message, **kwargs)


def map_error(response: requests.Response) -> errors.ServiceError | None:
    """Tripo's envelope ``{code, message, suggestion}`` into the taxonomy."""
    body = _envelope(response)
    status = response.status_code
    code = body.get("code") if isinstance(body.get("code"), int) else None
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    trace = _trace(response)
    message = errors.said(body.get("message") or "")
    suggestion = str(body.get("suggestion") or "")
    if status == 401:  # v3 sends body code 2 for authentication; the status is what counts
        code = 1002
    mapped = error_for(code, status, message, suggestion, trace, retry_after)
    if mapped is not None:
        return mapped
    if status in (405, 415):
        return errors.InvalidRequestError(
            f"Tripo3D refused the request format (HTTP {status}: {message}); please report "
            f"this Conjure bug{trace}", provider=PROVIDER, status=status, service_code=code)
    return None


def map_download_error(response: requests.Response) -> errors.ServiceError | None:
    """Signed result URLs answer 401/403 (S3: ``AccessDenied``/``Request has expired``) once
    they expire; re-reading the task signs fresh ones."""
    if response.status_code in (401, 403, 410):
        return errors.ResultExpiredError(
            f"the result link expired (HTTP {response.status_code}); asking Tripo3D for a "
            "fresh one", provider=PROVIDER, status=response.status_code)
    return None


# -- the client ------------------------------------------------------------------------------


def _url_kind(url: str) -> str:
    ext = posixpath.splitext(urlsplit(url).path)[1].lower().lstrip(".")
    return {"jpeg": "jpg", "jpg": "jpg", "png": "png", "webp": "webp"}.get(ext, "jpg")


class TripoProvider(Provider):
    name = "tripo"
    #: The documented concurrency is 10 generations per account; stay below it so tasks from
    #: other tools on the same account leave room.
    max_active = 5

    def __init__(self, config: ClientConfig, api: str = DEFAULT_API) -> None:
        if api not in API_VERSIONS:
            raise ValueError(f"Tripo3D API must be one of {API_VERSIONS}; got {api!r}")
        self.api = api
        self.base = _origin_for(config.base_url, api)
        key = config.key

        def auth() -> dict[str, str]:
            return {"Authorization": f"Bearer {key}"} if key else {}

        self.http = HttpClient(PROVIDER, config.network, guard=config.guard,
                               error_mapper=map_error, auth_headers=auth)
        # Result files come from a CDN with signed URLs: no key, and its own error meanings.
        self.cdn = HttpClient(PROVIDER, config.network, guard=config.guard,
                              error_mapper=map_download_error)

    # -- routes -------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        prefix = "/v2/openapi" if self.api == "v2" else "/v3"
        return f"{self.base}{prefix}/{path}"

    def _data(self, response: requests.Response) -> dict[str, Any]:
        body = _envelope(response)
        code = body.get("code")
        if code not in (0, None):  # an error in a 200 answer
            mapped = error_for(code if isinstance(code, int) else None, response.status_code,
                               str(body.get("message") or ""), str(body.get("suggestion") or ""),
                               _trace(response))
            raise mapped or errors.UnexpectedResponseError(
                f"Tripo3D answered code {code}: {body_excerpt(response)}", provider=PROVIDER,
                status=response.status_code)
        data = body.get("data")
        if not isinstance(data, dict):
            raise errors.UnexpectedResponseError(
                f"Tripo3D answered without data: {body_excerpt(response)}", provider=PROVIDER)
        return data

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
                provider=PROVIDER, retry_after=exc.retry_after) from None
        data = self._data(response)
        token = data.get("image_token") or data.get("file_token")
        if not isinstance(token, str) or not token:
            raise errors.ConnectionFailedError(
                f"the image upload gave no file token ({data}); the paid task was not sent",
                provider=PROVIDER)
        return token

    def _file(self, value: str, field: str) -> dict[str, Any]:
        """A Tripo file object for a parameter value: URLs as they are, local pictures
        checked (size, pixels) and uploaded."""
        if imagefiles.is_url(value):
            return {"type": _url_kind(value), "url": value}
        image = imagefiles.load(value, field=field, provider=PROVIDER, min_px=IMAGE_MIN_PX,
                                max_px=IMAGE_MAX_PX, max_bytes=IMAGE_MAX_BYTES)
        return {"type": image.kind, "file_token": self._upload(image)}

    # -- requests -----------------------------------------------------------------------------

    def request_body(self, operation: str, params: Mapping[str, Any]) -> tuple[str, dict]:
        """The route (v3) or ``task`` (v2) and the JSON body for a job; uploads local images.

        Only the options the user set are sent, so the service's own defaults apply.
        """
        if operation not in BY_NAME:
            raise errors.InvalidRequestError(
                f"Tripo3D has no operation {operation!r} in Conjure; it offers "
                + ", ".join(BY_NAME), field="operation", provider=PROVIDER)
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
        data = self._data(response)
        task_id = data.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            raise errors.UnexpectedResponseError(f"no task_id in Tripo3D's answer: {data}",
                                                 provider=PROVIDER)
        return Submitted(task_id, RemoteStatus(Phase.QUEUED, message="Queued at Tripo3D"))

    def poll(self, job: Job) -> RemoteStatus:
        path = f"task/{job.remote_id}" if self.api == "v2" else f"tasks/{job.remote_id}"
        data = self._data(self.http.request("GET", self._url(path)))
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
            return self._succeeded(task, operation, params or {})
        if raw == "cancelled":
            return RemoteStatus(Phase.CANCELLED, message="Cancelled at Tripo3D")
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
            return RemoteStatus(Phase.FAILED, message=message, error_code=kind)
        raise errors.UnexpectedResponseError(f"unknown Tripo3D task status {raw!r}",
                                             provider=PROVIDER)

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
                f"{sorted(output)})", provider=PROVIDER)
        stem = posixpath.basename(urlsplit(url).path)
        name = stem if "." in stem else fallback
        return RemoteStatus(Phase.SUCCEEDED, progress=1.0, message="Finished", results=[
            ResultFile(name, lambda: self.cdn.stream(url), kinds)])

    # -- account ------------------------------------------------------------------------------

    def balance(self) -> str | None:
        path = "user/balance" if self.api == "v2" else "account/balance"
        data = self._data(self.http.request("GET", self._url(path)))
        balance, frozen = _number(data.get("balance")), _number(data.get("frozen"))
        if balance is None:
            return None
        line = f"{balance:g} credits"
        if frozen:
            line += f" ({frozen:g} held by running tasks)"
        return line

    def check_key(self) -> str:
        line = self.balance()
        return f"Tripo3D key accepted ({self.api} API)" + (f": {line}" if line else "")


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


def make(config: ClientConfig) -> TripoProvider:
    return TripoProvider(config, api_version(config))
