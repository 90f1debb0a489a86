"""A small shaded picture of a model's triangles, drawn on the CPU with numpy: the asset
preview of a result that brought no picture of its own, in ``blender -b`` and the bpy module
as well (Blender's own preview renderer needs a GPU context they do not have).

The model is seen from the front right and a little above, in orthographic projection, lit
from the upper left; triangles are filled with points on a grid of their own, fine enough to
leave no pixel out, keeping the nearest point per pixel, at twice the size and then averaged
down, which smooths the edges.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: The preview's side in pixels (Blender shows asset previews at up to 256).
SIZE = 256
#: The largest gap between a triangle's samples, in pixels (at the doubled size).
SPACING = 0.7
#: The most samples drawn; a larger model's triangles are sampled more coarsely.
MAX_SAMPLES = 2_500_000
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


def render(vertices: npt.ArrayLike, triangles: npt.ArrayLike,
           size: int = SIZE) -> npt.NDArray[np.float32]:
    """RGBA floats, ``size`` × ``size``, rows bottom first (Blender's pixel order), flattened;
    a transparent picture when there are no triangles."""
    verts = _view(np.asarray(vertices, dtype=np.float64).reshape(-1, 3))
    tris = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    big = size * 2
    picture = np.zeros((big, big, 4), dtype=np.float32)
    if len(tris) and len(verts):
        _draw(picture, verts, tris, big)
    small = picture.reshape(size, 2, size, 2, 4).mean(axis=(1, 3))
    alpha = small[..., 3:4]
    # Colours were averaged with transparent black; undo that so edges do not darken.
    small[..., :3] = np.where(alpha > 0, small[..., :3] / np.maximum(alpha, 1e-6), 0.0)
    return np.ascontiguousarray(small, dtype=np.float32).reshape(-1)


def _draw(picture: npt.NDArray[np.float32], verts: npt.NDArray[np.float64],
          tris: npt.NDArray[np.int64], big: int) -> None:
    low, high = verts[:, :2].min(axis=0), verts[:, :2].max(axis=0)
    scale = 0.88 * big / max(float((high - low).max()), 1e-9)
    centre = (low + high) / 2
    screen = (verts[:, :2] - centre) * scale + big / 2
    faces, points = _samples(verts, screen, tris)
    xy = ((points[:, :2] - centre) * scale + big / 2).astype(np.int64)
    inside = (xy >= 0).all(axis=1) & (xy < big).all(axis=1)
    # Nearest first; then the first point of each pixel (``unique`` reports first
    # occurrences) is the one seen.
    order = np.flatnonzero(inside)[np.argsort(-points[inside, 2], kind="stable")]
    pixel = xy[order, 1] * big + xy[order, 0]
    seen, first = np.unique(pixel, return_index=True)
    picture.reshape(-1, 4)[seen] = _shade(verts, tris)[faces[order[first]]]


def _samples(verts: npt.NDArray[np.float64], screen: npt.NDArray[np.float64],
             tris: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64],
                                                   npt.NDArray[np.float64]]:
    """Points on every triangle, on a grid of its own fine enough to leave no pixel of it
    without one (``SPACING``): (the triangle of each point, the points in view space)."""
    corners = [screen[tris[:, i]] for i in range(3)]
    longest = np.max([np.linalg.norm(corners[i] - corners[i - 1], axis=1) for i in range(3)],
                     axis=0)
    steps = np.ceil(longest / SPACING).astype(np.int64)
    total = ((steps + 1) * (steps + 2) // 2).sum()
    if total > MAX_SAMPLES:  # a very large model: coarser grids, a few holes
        steps = np.ceil(steps * np.sqrt(MAX_SAMPLES / total)).astype(np.int64)
    faces, points = [], []
    for n in np.unique(steps):
        group = np.flatnonzero(steps == n)
        if n <= 1:  # smaller than a pixel: its centre will do
            weights = np.full((1, 3), 1.0 / 3.0)
        else:
            i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
            keep = (i + j) <= n
            weights = np.stack([n - i[keep] - j[keep], i[keep], j[keep]], axis=1) / n
        a, b, c = (verts[tris[group, k]] for k in range(3))
        points.append((a[:, None] * weights[None, :, 0, None] + b[:, None] * weights[
            None, :, 1, None] + c[:, None] * weights[None, :, 2, None]).reshape(-1, 3))
        faces.append(np.repeat(group, len(weights)))
    return np.concatenate(faces), np.concatenate(points)


def _shade(verts: npt.NDArray[np.float64],
           tris: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """Each triangle's colour."""
    a, b, c = (verts[tris[:, i]] for i in range(3))
    normal = np.cross(b - a, c - a)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    light = _LIGHT / np.linalg.norm(_LIGHT)
    # Two-sided: services' meshes do not always face outwards.
    lit = 0.32 + 0.68 * np.abs(normal @ light)
    rgba = np.ones((len(tris), 4), dtype=np.float32)
    rgba[:, :3] = (lit[:, None] * _CLAY[None, :]).astype(np.float32)
    return rgba
