"""What Voxel-AI offers: candidate pictures from a prompt (free, one request per 15 s) and a
voxel model from a picture, with their parameters."""

from __future__ import annotations

from ..params import Operation, Param, Rule
from ..prices import Price, flat
from ..sources import image_rule

SERVICE = "Voxel-AI"
PROMPT_LIMIT = 500
#: The service allows one candidate-image request per this many seconds per user.
IMAGES_INTERVAL_S = 15.0
#: Prices are in Voxel-AI tokens: voxelize costs one, deducted when it is sent and refunded once
#: when it fails; candidate pictures are free.
UNIT = "tokens"
VOXELIZE_TOKENS = 1

OPERATIONS = (
    Operation(
        "voxelai", "candidates", "Candidate images", "text", paid=False,
        description="Three candidate pictures from a prompt (free; one request per 15 s); "
                    "voxelize the one you like",
        params=(
            Param("prompt", "str", "Prompt", "What to make", required=True,
                  max_length=PROMPT_LIMIT, role="prompt"),
            Param("seed", "int", "Seed", "Same seed and prompt give the same pictures; empty: "
                  "random", minimum=0, advanced=True),
        ),
        rules=(Rule("prompt", lambda v: "prompt must not be only spaces"
                    if isinstance(v.get("prompt"), str) and not v["prompt"].strip() else None),),
    ),
    Operation(
        "voxelai", "voxelize", "Voxelize", "image",
        description="A MagicaVoxel .vox model from a picture: a chosen candidate or your own "
                    "(1 token; refunded if it fails)",
        params=(
            Param("image", "image", "Picture", "A picture file or data URL (a candidate "
                  "picture from the results folder, or any PNG/JPEG/WebP)", required=True,
                  role="image"),
            Param("voxel_size", "int", "Resolution", "Voxels along the longest axis",
                  default=32, minimum=8, maximum=128),
            Param("texturing", "enum", "Texturing", "textured: full colour; gray: faster, "
                  "monochrome", default="textured", choices=("textured", "gray")),
            Param("fill", "bool", "Fill", "Fill the inside of the model", default=False,
                  advanced=True),
            Param("color", "enum", "Colour mapping", default="surface",
                  choices=("surface", "vertex"), advanced=True),
            Param("palette_size", "int", "Palette size", "Most distinct colours",
                  default=32, minimum=2, maximum=256, advanced=True),
        ),
        rules=(image_rule("image", max_bytes=None, allow_links=False, service=SERVICE),),
        price=Price(UNIT, "Voxel-AI's API docs (endpoints page)", "undated",
                    flat(VOXELIZE_TOKENS), note="refunded if it fails"),
    ),
)
#: Nothing the service documents is left out; cancelling and reading the balance have no
#: routes (the balance comes with voxelize answers).
UNSUPPORTED: dict[str, str] = {}

