"""Small real pictures for tests, written with the standard library only."""

from __future__ import annotations

import struct
import zlib


def png(width: int = 16, height: int = 16, pixel=lambda x, y: (200, 40, 40)) -> bytes:
    """An RGB PNG whose pixel (x, y) is ``pixel(x, y)``."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width))
                    for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))
