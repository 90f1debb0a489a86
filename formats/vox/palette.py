"""Palette colours, palette-image UVs and MATL-to-shader settings. bpy-free."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .format import Material, VoxFile
from .mesher import MeshArrays

PALETTE_WIDTH = 256


def palette_uvs(mesh: MeshArrays) -> np.ndarray:
    """(loops, 2) float32 UVs at the centre of each face's pixel in a 256x1 palette image."""
    uvs = np.full((mesh.loop_count, 2), 0.5, dtype=np.float32)
    uvs[:, 0] = (mesh.loop_face_colors().astype(np.float32) + 0.5) / PALETTE_WIDTH
    return uvs


def palette_pixels(palette: np.ndarray) -> np.ndarray:
    """Flat float32 RGBA values of a 256x1 sRGB image whose pixel i is palette index i."""
    return (np.asarray(palette, dtype=np.float32) / 255.0).reshape(-1)


def srgb_to_linear(rgba: np.ndarray) -> np.ndarray:
    """sRGB bytes (..., 4) to linear floats; alpha stays linear."""
    values = np.asarray(rgba, dtype=np.float64) / 255.0
    rgb = values[..., :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return np.concatenate([linear, values[..., 3:]], axis=-1)


@dataclass(frozen=True)
class ShaderSettings:
    """Principled BSDF inputs for one palette entry."""

    metallic: float = 0.0
    roughness: float = 1.0
    specular: float = 0.5
    ior: float = 1.5
    transmission: float = 0.0
    emission_strength: float = 0.0
    alpha: float = 1.0


def _unit(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def shader_settings(material: Material | None, palette_alpha: int = 255) -> ShaderSettings:
    """Translate a MATL (or converted MATT) entry to Principled BSDF inputs.

    MagicaVoxel's diffuse type is a matte surface whatever its stored roughness, so roughness
    counts only for metal, glass and blend. IOR is stored as the amount above 1 in ``_ior``;
    newer files also give the index itself in ``_ri``. Emission strength follows MagicaVoxel's
    "power" stops (``_flux``), doubling the ``_emit`` weight per stop.
    """
    alpha = palette_alpha / 255.0
    if material is None:
        return ShaderSettings(alpha=alpha)
    kind = material.kind
    weight = _unit(material.number("_weight", 1.0))
    rough = _unit(material.number("_rough", 0.1))
    specular = _unit(material.number("_sp", material.number("_spec", 0.5)))
    ior = material.number("_ri", 1.0 + material.number("_ior", 0.5))
    ior = float(min(4.0, max(1.0, ior)))
    if kind == "_metal":
        metallic = _unit(material.number("_metal", weight))
        return ShaderSettings(metallic, rough, specular, ior, alpha=alpha)
    if kind in ("_glass", "_media"):
        transmission = _unit(material.number("_trans", weight))
        return ShaderSettings(0.0, rough, specular, ior, transmission, alpha=alpha)
    if kind == "_blend":
        alpha *= 1.0 - _unit(material.number("_trans", 0.0))
        return ShaderSettings(0.0, rough, specular, ior, alpha=alpha)
    if kind == "_emit":
        emit = max(0.0, material.number("_emit", weight))
        flux = min(8.0, max(0.0, material.number("_flux", 0.0)))
        return ShaderSettings(emission_strength=emit * 2.0**flux, alpha=alpha)
    return ShaderSettings(specular=specular, alpha=alpha)


def palette_shader_settings(vox: VoxFile) -> list[ShaderSettings]:
    """Settings of all 256 palette indices (index 0 unused).

    Palette alpha is ignored, as MagicaVoxel does: transparency comes from materials only.
    """
    return [shader_settings(vox.materials.get(index)) for index in range(256)]


def transparent_indices(settings: list[ShaderSettings]) -> np.ndarray:
    """(256,) bool: palette indices through which faces behind stay visible."""
    return np.array([s.transmission > 0.0 or s.alpha < 1.0 for s in settings], dtype=bool)
