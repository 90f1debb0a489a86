"""Looking for pieces of a key in text, read the ways a person (or a script) could read them."""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse

FRAGMENT = 8
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}=*")


def readings(text: str) -> list[str]:
    """``text`` as it is, percent-decoded, JSON-unescaped, and every base64 run decoded at
    each of the four possible starts."""
    found = [text, urllib.parse.unquote(text)]
    try:
        found.append(json.loads(f'"{text}"'))
    except ValueError:
        found.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text))
    for run in _BASE64_RUN.findall(text):
        for skip in range(4):
            chunk = run.rstrip("=")[skip:]
            chunk = chunk[:len(chunk) - len(chunk) % 4]
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    found.append(decode(chunk).decode("latin-1"))
                except (binascii.Error, ValueError):
                    pass
    return found


def fragments(text: str, key: str) -> set[str]:
    """Every FRAGMENT-long piece of ``key`` that can be read in ``text``."""
    pieces = {key[i:i + FRAGMENT] for i in range(len(key) - FRAGMENT + 1)}
    return {piece for reading in readings(text) for piece in pieces if piece in reading}


def echoes(key: str) -> dict[str, str]:
    """The ways a service may echo a key back: as sent, percent-encoded, inside a Basic
    header's base64, JSON-escaped, and quoted with the request's headers."""
    return {
        "plain": key,
        "percent": "".join(f"%{ord(c):02X}" for c in key),
        "basic": "Basic " + base64.b64encode(f"user:{key}".encode()).decode(),
        "base64": base64.b64encode(f"x{key}".encode()).decode(),
        "json": "".join(f"\\u{ord(c):04x}" for c in key),
        "headers": f"Authorization: Bearer {key}; Ocp-Apim-Subscription-Key: {key}",
    }


def across_cuts(echo: str, cuts: tuple[int, ...] = (200, 300)) -> str:
    """A service's error text with ``echo`` at its start and again across each cut."""
    text = echo + " "
    for cut in cuts:
        text = text.ljust(cut - len(echo) // 2, "x") + echo
    return text + " " + "y" * 100
