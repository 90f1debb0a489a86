"""PNG encode/decode with zlib only (8- and 16-bit, every colour type, no interlacing)."""

from __future__ import annotations

import struct
import zlib

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class PngError(ValueError):
    """The bytes are not a PNG this module can decode."""


class Image:
    """RGBA pixels, 4 bytes each, rows top to bottom."""

    def __init__(self, width: int, height: int, rgba: bytes | bytearray) -> None:
        self.width = width
        self.height = height
        self.rgba = bytes(rgba)

    def pixel(self, x: int, y: int) -> tuple[int, int, int, int]:
        i = (y * self.width + x) * 4
        r, g, b, a = self.rgba[i : i + 4]
        return r, g, b, a


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(width: int, height: int, rgba: bytes) -> bytes:
    """8-bit RGBA PNG; rows use filter 0 (none), which zlib still compresses well here."""
    stride = width * 4
    raw = b"".join(b"\0" + rgba[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        PNG_MAGIC
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )


_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def decode_png(data: bytes) -> Image:
    if not data.startswith(PNG_MAGIC):
        raise PngError("not a PNG image")
    offset = 8
    header: tuple[int, ...] | None = None
    palette = b""
    transparency = b""
    compressed = bytearray()
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        chunk = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"PLTE":
            palette = chunk
        elif kind == b"tRNS":
            transparency = chunk
        elif kind == b"IDAT":
            compressed += chunk
        elif kind == b"IEND":
            break
    if header is None:
        raise PngError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if colour not in _CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise PngError(f"unsupported PNG colour type {colour} / depth {depth}")
    if interlace:
        raise PngError("interlaced PNGs are not supported")
    if width == 0 or height == 0 or width * height > 40_000_000:
        raise PngError("PNG size out of range")
    try:
        raw = zlib.decompress(bytes(compressed))
    except zlib.error as exc:
        raise PngError(f"PNG data is damaged: {exc}") from exc
    channels = _CHANNELS[colour]
    bits_per_pixel = channels * depth
    stride = (width * bits_per_pixel + 7) // 8
    step = max(1, bits_per_pixel // 8)
    if len(raw) < height * (stride + 1):
        raise PngError("PNG data is shorter than its size says")
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        _unfilter(kind, line, previous, step)
        rows.append(bytes(line))
        previous = line
    return Image(width, height, _to_rgba(rows, width, depth, colour, palette, transparency))


def _unfilter(kind: int, line: bytearray, previous: bytearray, step: int) -> None:
    n = len(line)
    if kind == 0:
        return
    if kind == 1:
        for i in range(step, n):
            line[i] = (line[i] + line[i - step]) & 0xFF
    elif kind == 2:
        for i in range(n):
            line[i] = (line[i] + previous[i]) & 0xFF
    elif kind == 3:
        for i in range(n):
            left = line[i - step] if i >= step else 0
            line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(n):
            a = line[i - step] if i >= step else 0
            b = previous[i]
            c = previous[i - step] if i >= step else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 0xFF
    else:
        raise PngError(f"unknown PNG filter {kind}")


def _samples(row: bytes, width: int, channels: int, depth: int) -> list[int]:
    count = width * channels
    if depth == 8:
        return list(row[:count])
    if depth == 16:
        return [row[i * 2] for i in range(count)]  # the high byte is enough here
    per_byte = 8 // depth
    mask = (1 << depth) - 1
    out = []
    for i in range(count):
        byte = row[i // per_byte]
        shift = 8 - depth * (i % per_byte + 1)
        out.append((byte >> shift) & mask)
    return out


def _to_rgba(
    rows: list[bytes], width: int, depth: int, colour: int, palette: bytes, transparency: bytes
) -> bytes:
    channels = _CHANNELS[colour]
    scale = 255 // ((1 << depth) - 1) if depth < 8 else 1
    out = bytearray()
    for row in rows:
        samples = _samples(row, width, channels, depth)
        for x in range(width):
            s = samples[x * channels : (x + 1) * channels]
            if colour == 3:
                index = s[0]
                r, g, b = palette[index * 3 : index * 3 + 3] or b"\0\0\0"
                a = transparency[index] if index < len(transparency) else 255
                out += bytes((r, g, b, a))
            elif colour == 0:
                v = s[0] * scale
                out += bytes((v, v, v, 255))
            elif colour == 4:
                out += bytes((s[0], s[0], s[0], s[1]))
            elif colour == 2:
                out += bytes((s[0], s[1], s[2], 255))
            else:
                out += bytes(s)
    return bytes(out)
