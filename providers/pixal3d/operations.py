"""What Pixal3D on Pixazo offers: one operation, its parameters and the check that the picture
is one Pixazo can fetch (a public https URL, or a local picture sent inline on request).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .. import errors, imagefiles
from ..params import Operation, Param, Rule, Worded
from ..prices import Price

SERVICE = "Pixazo"
#: Prices are in US dollars from the Pixazo wallet: the pricing table of Pixazo's Pixal3D API
#: page, keyed by texture size (it says "1024p, 2048p, 4096p"; the resolution enum has no 2048).
UNIT = "USD"
_PRICE = Price(UNIT, "Pixazo's Pixal3D API page (pricing table)",
              "undated",
              lambda values: 0.30 if values.get("texture_size") == 1024 else 0.42)


def public_https_problem(url: str) -> str | None:
    """Why Pixazo cannot fetch ``url``, or None when it looks public."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        return "must be a public https:// URL"
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith((".local", ".localhost", ".internal")):
        return f"points at {host}, which Pixazo cannot reach; use a public https URL"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return f"points at the private address {host}; use a public https URL"
    return None


def _image_rule(values: Mapping[str, Any]) -> str | None:
    value = values.get("image_url")
    if not value:
        return None
    if imagefiles.is_url(value):
        problem = public_https_problem(value)
        return Worded(f"image_url {problem}",
                      lambda words: f"{words.get('image_url', 'image_url')} {problem}") \
            if problem else None
    if not values.get("send_local_image"):
        def said(image: str, inline: str) -> str:
            return (f"{image} must be a public https URL: Pixazo fetches the picture itself "
                    f"and has no upload. Paste a public link, or turn on {inline} to try "
                    "sending this picture inline (Pixazo may refuse it)")
        return Worded(said("image_url", "send_local_image"), lambda words: said(
            words.get("image_url", "image_url"), words.get("send_local_image", "")))
    try:
        imagefiles.load(value, field="image_url", service=SERVICE)
    except errors.InvalidRequestError as exc:
        return exc.message
    return None


def _sampler(stage: str, label: str, strength: float, rescale: float | None, steps: int,
             rescale_t: float, what: str) -> tuple[Param, ...]:
    return (
        Param(f"{stage}_guidance_strength", "float", f"{label} Guidance", f"How closely the "
              f"{what} follows the picture", default=strength, minimum=0, advanced=True),
        Param(f"{stage}_guidance_rescale", "float", f"{label} Guidance Rescale", "Dampens "
              "artifacts from high guidance", default=rescale, minimum=0, advanced=True),
        Param(f"{stage}_sampling_steps", "int", f"{label} Steps", "Denoising steps",
              default=steps, minimum=1, advanced=True),
        Param(f"{stage}_rescale_t", "float", f"{label} Schedule Sharpness", "Noise schedule "
              "sharpness; higher stresses early denoising", default=rescale_t, minimum=0,
              advanced=True),
    )


OPERATIONS = (
    Operation(
        "pixal3d", "image_to_3d", "Image to 3D", "image",
        description="A textured GLB from one picture (Pixal3D)",
        params=(
            Param("image_url", "image", "Image", "A public https URL of the picture (or a "
                  "local picture with send_local_image on)", required=True, role="image"),
            Param("send_local_image", "bool", "Send Local Image Inline", "Send a local "
                  "picture as a data: URI; Pixazo documents only public URLs and may refuse "
                  "it", default=False),
            Param("resolution", "enum", "Resolution", "Structure resolution; 1536 is more "
                  "detailed and slower", default=1024, choices=(1024, 1536)),
            Param("texture_size", "enum", "Texture Size", "Baked texture size (1024: $0.30, "
                  "2048/4096: $0.42)", default=2048, choices=(1024, 2048, 4096)),
            Param("decimation_target", "int", "Vertex Target", "Vertices in the final mesh",
                  default=200000, minimum=1),
            Param("remesh", "bool", "Remesh", "Cleaner, more uniform triangles", default=True),
            Param("seed", "int", "Seed", "Unset: random", advanced=True),
            *_sampler("ss", "Structure", 7.5, 0.7, 12, 5.0, "initial structure"),
            *_sampler("shape_slat", "Shape", 7.5, 0.5, 12, 3.0, "detailed geometry"),
            *_sampler("tex_slat", "Texture", 1.0, None, 12, 3.0, "texture"),
            Param("mesh_scale", "float", "Mesh Scale", "Scale of the inferred mesh",
                  default=1.0, minimum=0.001, advanced=True),
            Param("max_num_tokens", "int", "Max Tokens", "High-resolution tokens of the shape "
                  "sampler; more detail, more memory and time", default=49152, minimum=1,
                  advanced=True),
        ),
        rules=(Rule("image_url", _image_rule),),
        price=_PRICE,
    ),
)
BY_NAME = {op.name: op for op in OPERATIONS}
#: Conjure-side switches that are not sent to the service.
LOCAL_ONLY = ("send_local_image",)

UNSUPPORTED = {
    "trellis-2-image-to-3d": "another model on Pixazo's gateway; Conjure offers Pixal3D only",
    "hunyuan-3d": "another model on Pixazo's gateway; Conjure offers Pixal3D only",
    "hyper3d-rodin": "another model on Pixazo's gateway; Conjure offers Pixal3D only",
}

