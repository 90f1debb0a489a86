"""What Tripo3D offers: its operations, their parameters and the rules checked before sending
(model versions, picture sizes, option combinations). Both API families share them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import errors, imagefiles
from ..params import Operation, Param, Rule, exclusive
from ..prices import Price, Surcharge, Values, flat, when

SERVICE = "Tripo3D"
#: What the service takes as a picture.
IMAGE_MIN_PX, IMAGE_MAX_PX = 20, 6000
IMAGE_MAX_BYTES = 20 * 1024 * 1024

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
#: Tasks an account may run at once, by task group (docs: rate limits; one more is refused
#: with 429, code 2000). P1 generations are a group of their own.
TASK_GROUPS = {"generation": 10, "p1": 5, "refine": 5, "animate": 10, "multiview_image": 1,
               "edit_multiview_image": 1, "other": 10}
#: The account's default concurrency, the most it runs at once in any one group.
ACCOUNT_CONCURRENCY = 10
_GROUP_OF = {
    "text_to_model": "generation", "image_to_model": "generation",
    "multiview_to_model": "generation", "text_to_image": "generation",
    "generate_image": "generation", "refine_model": "refine",
    "animate_prerigcheck": "animate", "animate_rig": "animate", "animate_retarget": "animate",
    "generate_multiview_image": "multiview_image", "edit_multiview_image": "edit_multiview_image",
}
TEXTURE_FORMATS = ("BMP", "DPX", "HDR", "JPEG", "OPEN_EXR", "PNG", "TARGA", "TIFF", "WEBP")
#: Options the seed lists as valid only for model_version >= v2.0-20240919.
V2_ONLY = ("face_limit", "texture", "pbr", "texture_seed", "texture_alignment",
           "texture_quality", "auto_size", "orientation", "quad", "compress", "smart_low_poly",
           "generate_parts", "export_uv")
#: Options P1-20260311 refuses.
NOT_FOR_P1 = ("quad", "smart_low_poly", "generate_parts", "geometry_quality")


#: Prices are in Tripo3D credits ($1 buys 100). The typical figures come from a public Tripo3D
#: capability manifest (third-party; it cites docs.tripo3d.ai pages), reviewed 2026-08-12.
UNIT = "credits"
_PRICES_FROM = "Tripo3D's typical prices (a capability manifest citing docs.tripo3d.ai)"
_PRICES_DATED = "2026-08-12"
#: "detailed texture +10/20": read as +10 for detailed and +20 for extreme.
_TEXTURE_SURCHARGES = (
    Surcharge("detailed texture", 10, when("texture_quality", "detailed")),
    Surcharge("extreme texture", 20, when("texture_quality", "extreme")),
)
_GENERATION_SURCHARGES = (
    Surcharge("quad", 5, when("quad")),
    *_TEXTURE_SURCHARGES,
    Surcharge("detailed geometry", 20, when("geometry_quality", "detailed")),
    Surcharge("smart low poly", 10, when("smart_low_poly")),
    Surcharge("parts", 20, when("generate_parts")),
)


def _price(base: float | None, *surcharges: Surcharge) -> Price:
    return Price(UNIT, _PRICES_FROM, _PRICES_DATED, flat(base), surcharges)


def _generation_price(textured: float, untextured: float) -> Price:
    """A model generation: one figure with a texture (the default), one without."""
    def base(values: Values) -> float:
        return textured if values.get("texture") or values.get("pbr") else untextured
    return Price(UNIT, _PRICES_FROM, _PRICES_DATED, base, _GENERATION_SURCHARGES)


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
                    imagefiles.load(item, field=name, service=SERVICE, min_px=IMAGE_MIN_PX,
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
        price=_generation_price(20, 10),
    ),
    Operation(
        "tripo", "image_to_model", "Image to Model", "image",
        description="A 3D model from one picture",
        params=(Param("image", "image", "Image", _IMAGE_HELP, required=True, role="image"),
                Param("enable_image_autofix", "bool", "Fix Image", "Optimise the picture first "
                      "(slower)", default=False, advanced=True),
                _ALIGNMENT, _ORIENTATION, *_model_params(MODEL_VERSIONS)),
        rules=(_image_rule("image"), *_version_rules(DEFAULT_MODEL_VERSION)),
        price=_generation_price(30, 20),
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
        # No figure of its own is published; priced as image_to_model.
        price=_generation_price(30, 20),
    ),
    Operation(
        "tripo", "refine_model", "Refine Model", "model", needs_parent=True,
        description="A refined version of a draft model (only drafts made before model v2.0)",
        params=(Param("draft_model_task_id", "str", "Draft Task", "A successful text, image or "
                      "multiview task of model_version below v2.0", required=True,
                      role="parent"),),
        price=_price(None),
    ),
    Operation(
        "tripo", "text_to_image", "Text to Image", "text",
        description="A picture from a prompt (e.g. to check an idea before paying for 3D)",
        params=(_PROMPT, _NEGATIVE),
        price=_price(None),
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
        price=_price(None),
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
        price=_price(10, *_TEXTURE_SURCHARGES),
    ),
    Operation(
        "tripo", "convert_model", "Convert Model", "model", needs_parent=True,
        description="The model in another file format (options other than the defaults are "
                    "billed as an advanced conversion)",
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
        price=_price(5, Surcharge("advanced options", 5, lambda v: _advanced_convert(v))),
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
        price=_price(25),
    ),
    Operation(
        "tripo", "animate_retarget", "Animate", "model", needs_parent=True,
        description="Preset animations for a model rigged by a Rig job",
        params=(_SOURCE,
                Param("animations", "str_list", "Animations", "1 to 5 of: "
                      + ", ".join(ANIMATIONS), required=True, min_items=1, max_items=5),
                Param("out_format", "enum", "Format", default="glb", choices=("glb", "fbx")),
                Param("bake_animation", "bool", "Bake Animation", default=True, advanced=True),
                Param("export_with_geometry", "bool", "With Geometry", default=False,
                      advanced=True),
                Param("animate_in_place", "bool", "In Place", default=False, advanced=True)),
        rules=(Rule("animations", _animation_rule),),
        price=Price(UNIT, _PRICES_FROM, _PRICES_DATED,
                    lambda v: 10.0 * max(1, len(v.get("animations") or ()))),
    ),
)
BY_NAME = {op.name: op for op in OPERATIONS}


def _advanced_convert(values: Values) -> bool:
    """A conversion with any option away from its documented default bills as advanced."""
    plain = ("original_model_task_id", "format")
    return any(values.get(p.name) is not None and values.get(p.name) != p.default
               for p in BY_NAME["convert_model"].params if p.name not in plain)

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


def task_group(operation: str, params: Mapping[str, Any]) -> str:
    """The concurrency group (``TASK_GROUPS``) a task of ``operation`` counts against."""
    group = _GROUP_OF.get(operation, "other")
    if group == "generation" and params.get("model_version") == P1:
        return "p1"
    return group
