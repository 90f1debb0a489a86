"""MagicaVoxel .vox writing, and voxelising a picture the way Voxel-AI's /voxelize is asked to.

The picture's subject (opaque or non-background pixels) becomes a relief: its silhouette spans
X (width) and Z (up), and its thickness along Y grows with the distance from the outline, so
the result is a rounded solid, not a flat slab.
"""

from __future__ import annotations

import struct

from .png import Image


class VoxelizeError(ValueError):
    """The picture cannot be voxelised (no subject found, or not decodable)."""


def write_vox(
    size: tuple[int, int, int], voxels: bytes, palette: list[tuple[int, int, int]]
) -> bytes:
    """Version-150 file: SIZE, XYZI, RGBA. ``voxels`` is packed (x, y, z, colour index) bytes;
    colour index k (1..255) shows palette[k - 1]."""

    def chunk(kind: bytes, content: bytes) -> bytes:
        return kind + struct.pack("<II", len(content), 0) + content

    sx, sy, sz = size
    if not all(1 <= s <= 256 for s in size):
        raise ValueError(f"model size {size} is outside 1..256")
    if len(palette) > 255:
        raise ValueError("a .vox palette holds at most 255 colours")
    rgba = bytearray()
    for i in range(256):
        # File entry i is palette index i + 1; entries past the palette stay black/opaque.
        r, g, b = palette[i] if i < len(palette) else (0, 0, 0)
        rgba += bytes((r, g, b, 255))
    children = (
        chunk(b"SIZE", struct.pack("<3i", sx, sy, sz))
        + chunk(b"XYZI", struct.pack("<I", len(voxels) // 4) + voxels)
        + chunk(b"RGBA", bytes(rgba))
    )
    return (
        b"VOX " + struct.pack("<i", 150) + b"MAIN" + struct.pack("<II", 0, len(children)) + children
    )


def _subject_mask(image: Image) -> list[bool]:
    pixels = image.width * image.height
    alpha = image.rgba[3::4]
    if min(alpha) < 250:
        return [a >= 128 for a in alpha]
    # Opaque picture: the background is the most common corner colour.
    w, h = image.width, image.height
    corners = [
        image.pixel(0, 0),
        image.pixel(w - 1, 0),
        image.pixel(0, h - 1),
        image.pixel(w - 1, h - 1),
    ]
    background = max(corners, key=corners.count)
    data = image.rgba
    mask = []
    for i in range(pixels):
        r, g, b = data[i * 4], data[i * 4 + 1], data[i * 4 + 2]
        distance = abs(r - background[0]) + abs(g - background[1]) + abs(b - background[2])
        mask.append(distance > 48)
    return mask


def _median_cut(
    colours: dict[tuple[int, int, int], int], limit: int
) -> dict[tuple[int, int, int], int]:
    """Map each colour to a palette slot, at most ``limit`` slots; returns colour -> slot."""
    boxes = [list(colours)]
    while len(boxes) < limit:
        best = None
        best_range = 0
        for index, box in enumerate(boxes):
            if len(box) < 2:
                continue
            for channel in range(3):
                values = [c[channel] for c in box]
                spread = max(values) - min(values)
                if spread > best_range:
                    best, best_range = (index, channel), spread
        if best is None:
            break
        index, channel = best
        box = sorted(boxes.pop(index), key=lambda c: c[channel])
        # Split at the weighted median so heavy colours get their own slots.
        total = sum(colours[c] for c in box)
        running = 0
        cut = 1
        for position, colour in enumerate(box[:-1], start=1):
            running += colours[colour]
            cut = position
            if running * 2 >= total:
                break
        boxes.append(box[:cut])
        boxes.append(box[cut:])
    return {colour: slot for slot, box in enumerate(boxes) for colour in box}


Cell = tuple[int, int]  # (x, z) on the picture plane
RGB = tuple[int, int, int]


def voxelize(
    image: Image,
    voxel_size: int = 32,
    texturing: str = "textured",
    fill: bool = False,
    color: str = "surface",
    palette_size: int = 32,
) -> bytes:
    cells, gx, gz = _sample_subject(image, voxel_size)
    max_half = max(1, (voxel_size - 1) // 4)
    half = _half_thickness(cells, gx + gz, max_half)
    colours = {cell: _column_colour(cells, cell, color, texturing) for cell in cells}
    slot_of, palette = _palette(colours, palette_size)
    centre = max_half
    out = bytearray()
    for (x, z), h_col in half.items():
        index = slot_of[colours[(x, z)]]
        neighbours = [half.get(k, -1) for k in ((x - 1, z), (x + 1, z), (x, z - 1), (x, z + 1))]
        covered = min(neighbours)
        for t in range(h_col + 1):
            # A voxel is on the surface when it ends its column or a neighbour column is thinner.
            if not fill and t < h_col and t <= covered:
                continue
            out += bytes((x, centre + t, z, index))
            if t:
                out += bytes((x, centre - t, z, index))
    return write_vox((gx, 2 * max_half + 1, gz), bytes(out), palette)


def _sample_subject(image: Image, voxel_size: int) -> tuple[dict[Cell, RGB], int, int]:
    """The subject's colours on an X/Z grid at most ``voxel_size`` wide and high (z = 0 is the
    picture's bottom row); returns the cells and the grid's width and height."""
    mask = _subject_mask(image)
    w = image.width
    xs = [i % w for i, m in enumerate(mask) if m]
    ys = [i // w for i, m in enumerate(mask) if m]
    if not xs:
        raise VoxelizeError("no subject found in the image")
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    box_w, box_h = right - left + 1, bottom - top + 1
    scale = voxel_size / max(box_w, box_h)
    gx = max(1, min(voxel_size, round(box_w * scale)))
    gz = max(1, min(voxel_size, round(box_h * scale)))
    cells: dict[Cell, RGB] = {}
    for z in range(gz):
        row = top + min(box_h - 1, int((gz - 1 - z + 0.5) / scale))
        for x in range(gx):
            col = left + min(box_w - 1, int((x + 0.5) / scale))
            if mask[row * w + col]:
                r, g, b, _ = image.pixel(col, row)
                cells[(x, z)] = (r, g, b)
    return cells, gx, gz


def _half_thickness(cells: dict[Cell, RGB], far: int, max_half: int) -> dict[Cell, int]:
    """Distance to the outline (city-block, two passes) sets the half-thickness of each column."""
    dist = {key: far for key in cells}
    for x, z in sorted(cells):
        dist[(x, z)] = min(dist[(x, z)], dist.get((x - 1, z), 0) + 1, dist.get((x, z - 1), 0) + 1)
    for x, z in sorted(cells, reverse=True):
        dist[(x, z)] = min(dist[(x, z)], dist.get((x + 1, z), 0) + 1, dist.get((x, z + 1), 0) + 1)
    return {key: min(max_half, d - 1) for key, d in dist.items()}


def _column_colour(cells: dict[Cell, RGB], cell: Cell, color: str, texturing: str) -> RGB:
    rgb = cells[cell]
    if color == "vertex":
        # Vertex colouring blends each column with its neighbours, as interpolated
        # per-vertex colours would.
        x, z = cell
        around = [
            cells[k]
            for k in ((x + dx, z + dz) for dx in (-1, 0, 1) for dz in (-1, 0, 1))
            if k in cells
        ]
        rgb = tuple(sum(c[i] for c in around) // len(around) for i in range(3))  # type: ignore[assignment]
    if texturing == "gray":
        luminance = (rgb[0] * 299 + rgb[1] * 587 + rgb[2] * 114) // 1000
        rgb = (luminance, luminance, luminance)
    return rgb


def _palette(colours: dict[Cell, RGB], palette_size: int) -> tuple[dict[RGB, int], list[RGB]]:
    """At most ``palette_size`` (and 255) colours, each the weighted mean of the colours it
    stands for; returns colour -> .vox colour index (from 1), and the palette."""
    counts: dict[RGB, int] = {}
    for rgb in colours.values():
        counts[rgb] = counts.get(rgb, 0) + 1
    slots = _median_cut(counts, min(palette_size, 255))
    members: dict[int, list[tuple[RGB, int]]] = {}
    for rgb, slot in slots.items():
        members.setdefault(slot, []).append((rgb, counts[rgb]))
    palette: list[RGB] = []
    slot_index: dict[int, int] = {}
    for slot in sorted(members):
        total = sum(n for _, n in members[slot])
        mean = tuple(round(sum(c[i] * n for c, n in members[slot]) / total) for i in range(3))
        slot_index[slot] = len(palette) + 1
        palette.append(mean)  # type: ignore[arg-type]
    return {rgb: slot_index[slot] for rgb, slot in slots.items()}, palette
