"""Local pictures for services that take images: where they come from, what they are, how big.

An image parameter holds a local path, an https URL or a ``data:`` URL. Services limit the
pixel size and byte size of what they accept; checking here, from the file's header with the
standard library only, turns a paid request that would be refused into an error before sending.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from dataclasses import dataclass

from .errors import InvalidRequestError

#: File kinds read here, by what the services call them in a file object's ``type``.
KINDS = ("png", "jpg", "webp")
MIME = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class LocalImage:
    """A picture read into memory, with what its header says."""

    name: str
    data: bytes
    kind: str
    width: int
    height: int

    @property
    def mime(self) -> str:
        return MIME[self.kind]

    def data_url(self) -> str:
        return f"data:{self.mime};base64," + base64.b64encode(self.data).decode("ascii")


def is_url(value: str) -> bool:
    return value.lower().startswith(("https://", "http://"))


def is_data_url(value: str) -> bool:
    return value.lower().startswith("data:")


def kind_of(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def dimensions(data: bytes) -> tuple[str, int, int] | None:
    """(kind, width, height) from a PNG, JPEG or WebP header; None when unreadable."""
    kind = kind_of(data[:16])
    try:
        if kind == "png":
            if data[12:16] != b"IHDR":
                return None
            width, height = struct.unpack(">II", data[16:24])
            return kind, width, height
        if kind == "jpg":
            size = _jpeg_size(data)
            return (kind, *size) if size else None
        if kind == "webp":
            size = _webp_size(data)
            return (kind, *size) if size else None
    except struct.error:  # header cut short
        return None
    return None


# JPEG start-of-frame markers (baseline, progressive, lossless, ...); not DHT/JPG/DAC.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        if marker == 0xDA:  # scan data follows without a frame header: not a valid file
            return None
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        # Lossy: the key frame's start code, then 14-bit width and height.
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            return None
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def load(value: str, *, field: str, service: str, min_px: int = 1, max_px: int = 1 << 30,
         max_bytes: int | None = None) -> LocalImage:
    """Read a local path or ``data:`` URL and check it; raises ``InvalidRequestError`` naming
    ``field`` and the limit that was broken."""
    def refuse(why: str) -> InvalidRequestError:
        return InvalidRequestError(f"{field}: {why}", field=field, service=service)

    if is_data_url(value):
        header, sep, payload = value.partition(",")
        if not sep or ";base64" not in header.lower():
            raise refuse("a data URL must be base64-encoded (data:image/png;base64,...)")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise refuse("the data URL's base64 text is damaged") from None
        name = f"{field}.img"
    else:
        path = os.path.expanduser(value)
        name = os.path.basename(path) or field
        if max_bytes is not None:
            try:
                size = os.path.getsize(path)
            except OSError as exc:
                raise refuse(f"cannot read {value!r}: {exc.strerror or exc}") from None
            if size > max_bytes:
                raise refuse(f"{name} is {size / 2**20:.1f} MB; at most "
                             f"{max_bytes / 2**20:.0f} MB is accepted")
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise refuse(f"cannot read {value!r}: {exc.strerror or exc}") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise refuse(f"the image is {len(data) / 2**20:.1f} MB; at most "
                     f"{max_bytes / 2**20:.0f} MB is accepted")
    found = dimensions(data)
    if found is None:
        raise refuse(f"{name} is not a PNG, JPEG or WebP picture (or its header is damaged)")
    kind, width, height = found
    if not (min_px <= width <= max_px and min_px <= height <= max_px):
        raise refuse(f"{name} is {width}×{height} px; each side must be {min_px} to {max_px} px")
    return LocalImage(name, data, kind, width, height)
