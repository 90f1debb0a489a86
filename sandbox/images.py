"""Pictures the services return: Voxel-AI candidates, Tripo/Thrixel previews and thumbnails."""

from __future__ import annotations

import hashlib
import math
import random

from .png import encode_png

BACKGROUND = (236, 234, 228)


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def candidate_image(prompt: str, seed: int, index: int, size: int = 160) -> bytes:
    """A subject on a flat background: a few shaded ellipses and blocks, shaped by the prompt."""
    rng = _rng(prompt, seed, index)
    shapes = []
    for _ in range(rng.randint(2, 4)):
        cx = rng.uniform(0.3, 0.7) * size
        cy = rng.uniform(0.3, 0.7) * size
        rx = rng.uniform(0.12, 0.3) * size
        ry = rng.uniform(0.12, 0.3) * size
        colour = (rng.randint(30, 220), rng.randint(30, 220), rng.randint(30, 220))
        shapes.append((rng.random() < 0.6, cx, cy, rx, ry, colour))
    rgba = bytearray()
    for y in range(size):
        for x in range(size):
            pixel = BACKGROUND
            for is_ellipse, cx, cy, rx, ry, colour in shapes:
                dx, dy = (x - cx) / rx, (y - cy) / ry
                inside = dx * dx + dy * dy <= 1.0 if is_ellipse else abs(dx) <= 1 and abs(dy) <= 1
                if inside:
                    # Light from the top left, so the palette has shades to quantise.
                    shade = 1.15 - 0.35 * (dx + dy + 2) / 4
                    pixel = tuple(max(0, min(255, int(c * shade))) for c in colour)  # type: ignore[assignment]
            rgba += bytes((*pixel, 255))
    return encode_png(size, size, bytes(rgba))


Triangle = tuple[int, int, int]
Point = tuple[float, float, float]
#: Light for the shaded render (view space): from above, to the left, towards the model.
_LIGHT = (-0.5, 0.7, 0.5)
#: The shaded render looks from a little to the right and above (radians about the vertical
#: axis, then the horizontal one), so the model's sides read.
_YAW, _PITCH = 0.6, 0.35


def _turned(points: list[Point], back: bool) -> list[Point]:
    """``points`` (glTF axes: y up, z towards the front) as seen from the render's view."""
    yaw = _YAW + (math.pi if back else 0.0)
    cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(_PITCH), math.sin(_PITCH)
    out = []
    for x, y, z in points:
        x, z = x * cy - z * sy, x * sy + z * cy
        y, z = y * cp - z * sp, y * sp + z * cp
        out.append((x, y, z))
    return out


def render_triangles(points: list[Point], triangles: list[Triangle], size: int = 256,
                     back: bool = False, scale: int = 2) -> bytes:
    """Orthographic view of the model's surface from its front (or back), a little to the
    right and above, flat shaded, at ``size``
    pixels: drawn at ``size // scale`` and each pixel repeated, which keeps it quick in plain
    Python and still reads as the model at a thumbnail's size."""
    small = size // scale
    shade = _raster(points, triangles, small, back)
    background = bytes((*BACKGROUND, 255))
    rgba = bytearray()
    for y in range(small):
        row = b"".join(background * scale if value is None else bytes(
            (int(60 + 180 * value), int((60 + 180 * value) * 0.88),
             int((60 + 180 * value) * 0.7), 255)) * scale
            for value in shade[y * small:(y + 1) * small])
        rgba += row * scale
    return encode_png(size, size, bytes(rgba))


def _raster(points: list[Point], triangles: list[Triangle], size: int,
            back: bool) -> list[float | None]:
    """Per pixel (row by row from the top), the brightness 0-1 of the nearest triangle, or
    None where the background shows."""
    shade: list[float | None] = [None] * (size * size)
    if not points or not triangles:
        return shade
    points = _turned(points, back)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    x0, y0 = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    k = size * 0.8 / span
    screen = [(size / 2 + (x - x0) * k, size / 2 - (y - y0) * k, z) for x, y, z in points]
    depth = [-float("inf")] * (size * size)
    lx, ly, lz = _LIGHT
    norm = (lx * lx + ly * ly + lz * lz) ** 0.5
    for a, b, c in triangles:
        (ax, ay, az), (bx, by, bz), (cx, cy, cz) = screen[a], screen[b], screen[c]
        area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        if abs(area) < 1e-12:
            continue
        # Brightness from the face's normal (in view space: x right, y up, z towards us).
        ux, uy, uz = bx - ax, ay - by, bz - az
        vx, vy, vz = cx - ax, ay - cy, cz - az
        nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
        length = (nx * nx + ny * ny + nz * nz) ** 0.5 or 1.0
        light = abs(nx * lx + ny * ly + nz * lz) / (length * norm)
        value = 0.25 + 0.75 * light
        for py in range(max(0, int(min(ay, by, cy))), min(size, int(max(ay, by, cy)) + 1)):
            for px in range(max(0, int(min(ax, bx, cx))), min(size, int(max(ax, bx, cx)) + 1)):
                qx, qy = px + 0.5, py + 0.5
                w1 = ((cx - bx) * (qy - by) - (cy - by) * (qx - bx)) / area
                w2 = ((ax - cx) * (qy - cy) - (ay - cy) * (qx - cx)) / area
                w3 = 1.0 - w1 - w2
                if w1 < 0 or w2 < 0 or w3 < 0:
                    continue
                z = w1 * az + w2 * bz + w3 * cz
                i = py * size + px
                if z > depth[i]:
                    depth[i] = z
                    shade[i] = value
    return shade
