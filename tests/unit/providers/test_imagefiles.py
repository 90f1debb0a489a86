"""Picture sizes read from file headers, without decoding the picture."""

import struct

import pytest

from conjure.providers import imagefiles
from support.pictures import png


def jpeg(width, height):
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    sof = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xda"


def webp_vp8x(width, height):
    body = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def webp_vp8l(width, height):
    bits = (width - 1) | ((height - 1) << 14)
    return b"RIFF\x00\x00\x00\x00WEBPVP8L" + struct.pack("<I", 5) + b"\x2f" + struct.pack(
        "<I", bits)


def webp_vp8(width, height):
    return (b"RIFF\x00\x00\x00\x00WEBPVP8 " + struct.pack("<I", 10) + b"\x00\x00\x00"
            + b"\x9d\x01\x2a" + struct.pack("<HH", width, height))


@pytest.mark.parametrize(("data", "expected"), [
    (png(300, 200), ("png", 300, 200)),
    (jpeg(640, 480), ("jpg", 640, 480)),
    (webp_vp8x(5000, 7), ("webp", 5000, 7)),
    (webp_vp8l(123, 456), ("webp", 123, 456)),
    (webp_vp8(800, 600), ("webp", 800, 600)),
    (b"\xff\xd8\xff\xe0\x00", None),
])
def test_picture_sizes_are_read_from_png_jpeg_and_webp_headers(data, expected):
    assert imagefiles.dimensions(data) == expected
