"""Pictures the services return: Voxel-AI candidates, Tripo/Thrixel previews and thumbnails."""

from __future__ import annotations

import hashlib
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


def render_points(
    points: list[tuple[float, float, float]], size: int = 256, back: bool = False
) -> bytes:
    """Orthographic front (or back) view of the model's vertices, nearer points brighter."""
    rgba = bytearray(bytes((*BACKGROUND, 255)) * (size * size))
    if points:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        zs = [p[2] for p in points]
        span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
        x0, y0 = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        z_low, z_span = min(zs), max(max(zs) - min(zs), 1e-9)
        margin = size * 0.1
        scale = (size - 2 * margin) / span
        depth = [0.0] * (size * size)
        for x, y, z in points:
            sx = (x0 - x) if back else (x - x0)
            px = int(size / 2 + sx * scale)
            py = int(size / 2 - (y - y0) * scale)
            if 0 <= px < size and 0 <= py < size:
                nearness = (z_low + z_span - z) / z_span if back else (z - z_low) / z_span
                nearness = 0.05 + 0.95 * nearness
                i = py * size + px
                if nearness > depth[i]:
                    depth[i] = nearness
                    level = int(60 + 170 * nearness)
                    rgba[i * 4 : i * 4 + 3] = bytes((level, int(level * 0.9), int(level * 0.75)))
    return encode_png(size, size, bytes(rgba))
