"""A small shaded picture of a model's triangles, drawn on the CPU with numpy: the asset
preview of a result that brought no picture of its own, in ``blender -b`` and the bpy module
as well (Blender's own preview renderer needs a GPU context they do not have).

The model is seen from the front right and a little above, in orthographic projection, lit
from the upper left; triangles are filled by sampling points on them (as many as their area
in pixels asks for) and keeping the nearest per pixel, at twice the size and then averaged
down, which smooths the edges.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: The preview's side in pixels (Blender shows asset previews at up to 256).
SIZE = 256
#: Samples per pixel of a triangle's area (at the doubled size).
DENSITY = 1.6
#: The most samples drawn; a larger model's triangles are sampled more thinly.
MAX_SAMPLES = 4_000_000
_CLAY = np.array([0.80, 0.76, 0.70])
_LIGHT = np.array([-0.45, 0.35, 0.82])


def _view(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Points turned so the camera looks down -z: 35° around the vertical, 25° from above."""
    yaw, pitch = np.radians(35.0), np.radians(25.0)
    turn = np.array([[np.cos(yaw), -np.sin(yaw), 0.0], [np.sin(yaw), np.cos(yaw), 0.0],
                     [0.0, 0.0, 1.0]])
    # Blender is z-up: the picture's y is world z, the depth is world -y.
    to_camera = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(pitch), -np.sin(pitch)],
                     [0.0, np.sin(pitch), np.cos(pitch)]])
    return points @ (tilt @ to_camera @ turn).T


def render(vertices: npt.ArrayLike, triangles: npt.ArrayLike, size: int = SIZE,
           seed: int = 0) -> npt.NDArray[np.float32]:
    """RGBA floats, ``size`` × ``size``, rows bottom first (Blender's pixel order), flattened;
    a transparent picture when there are no triangles."""
    verts = _view(np.asarray(vertices, dtype=np.float64).reshape(-1, 3))
    tris = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    big = size * 2
    picture = np.zeros((big, big, 4), dtype=np.float32)
    if len(tris) and len(verts):
        _draw(picture, verts, tris, big, np.random.default_rng(seed))
    small = picture.reshape(size, 2, size, 2, 4).mean(axis=(1, 3))
    alpha = small[..., 3:4]
    # Colours were averaged with transparent black; undo that so edges do not darken.
    small[..., :3] = np.where(alpha > 0, small[..., :3] / np.maximum(alpha, 1e-6), 0.0)
    return np.ascontiguousarray(small, dtype=np.float32).reshape(-1)


def _draw(picture: npt.NDArray[np.float32], verts: npt.NDArray[np.float64],
          tris: npt.NDArray[np.int64], big: int, rng: np.random.Generator) -> None:
    low, high = verts[:, :2].min(axis=0), verts[:, :2].max(axis=0)
    scale = 0.88 * big / max(float((high - low).max()), 1e-9)
    centre = (low + high) / 2
    screen = (verts[:, :2] - centre) * scale + big / 2
    a, b, c = (screen[tris[:, i]] for i in range(3))
    area = 0.5 * np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
                        - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1]))
    wanted = area * DENSITY + 1.0
    wanted *= min(1.0, MAX_SAMPLES / float(wanted.sum()))
    counts = np.maximum(np.floor(wanted + rng.random(len(tris))).astype(np.int64), 1)
    which = np.repeat(np.arange(len(tris)), counts)
    u, v = rng.random(len(which)), rng.random(len(which))
    flip = u + v > 1.0
    u[flip], v[flip] = 1.0 - u[flip], 1.0 - v[flip]
    w = 1.0 - u - v
    corners = [verts[tris[which, i]] for i in range(3)]
    points = corners[0] * w[:, None] + corners[1] * u[:, None] + corners[2] * v[:, None]
    xy = ((points[:, :2] - centre) * scale + big / 2).astype(np.int64)
    inside = (xy >= 0).all(axis=1) & (xy < big).all(axis=1)
    pixel = xy[inside, 1] * big + xy[inside, 0]
    depth = points[inside, 2]
    # The nearest sample of each pixel: sort by pixel, then by depth (nearest first).
    order = np.lexsort((-depth, pixel))
    first = np.unique(pixel[order], return_index=True)[1]
    chosen = order[first]
    picture.reshape(-1, 4)[pixel[chosen]] = _shade(verts, tris, which[inside][chosen])


def _shade(verts: npt.NDArray[np.float64], tris: npt.NDArray[np.int64],
           faces: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    a, b, c = (verts[tris[faces, i]] for i in range(3))
    normal = np.cross(b - a, c - a)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    light = _LIGHT / np.linalg.norm(_LIGHT)
    # Two-sided: services' meshes do not always face outwards.
    lit = 0.32 + 0.68 * np.abs(normal @ light)
    rgba = np.ones((len(faces), 4), dtype=np.float32)
    rgba[:, :3] = (lit[:, None] * _CLAY[None, :]).astype(np.float32)
    return rgba
