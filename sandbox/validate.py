"""Field checks shared by the services; each service turns the collected problems into its own
error shape (Thrixel 422 detail list, Tripo code 1004, Pixazo and Voxel-AI 400)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

_MISSING = object()


class Problem:
    def __init__(self, field: str, message: str, kind: str = "value_error") -> None:
        self.field = field
        self.message = message
        self.kind = kind

    def text(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class Checker:
    """Reads fields from a JSON object, recording every problem instead of stopping at the first."""

    def __init__(self, body: Any) -> None:
        self.problems: list[Problem] = []
        if not isinstance(body, dict):
            self.problems.append(Problem("", "request body must be a JSON object", "type_error"))
            body = {}
        self.body: dict[str, Any] = body

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, field: str, message: str, kind: str = "value_error") -> None:
        self.problems.append(Problem(field, message, kind))

    def has(self, field: str) -> bool:
        return self.body.get(field) is not None

    def _get(self, field: str, required: bool) -> Any:
        value = self.body.get(field, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.fail(field, "field required", "missing")
            return _MISSING
        return value

    def _in_range(self, field: str, value: float, low: float | None, high: float | None) -> bool:
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(field, f"must be between {low} and {high}")
            return False
        return True

    def string(
        self,
        field: str,
        *,
        required: bool = False,
        max_len: int | None = None,
        min_len: int = 0,
        choices: Iterable[str] | None = None,
    ) -> str | None:
        value = self._get(field, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.fail(field, "must be a string", "type_error")
            return None
        if len(value) < min_len:
            self.fail(
                field,
                f"must be at least {min_len} characters" if min_len > 1 else "must not be empty",
            )
            return None
        if max_len is not None and len(value) > max_len:
            self.fail(field, f"must be at most {max_len} characters")
            return None
        if choices is not None:
            allowed = list(choices)
            if value not in allowed:
                self.fail(field, f"must be one of {', '.join(allowed)}")
                return None
        return value

    def boolean(self, field: str, *, required: bool = False) -> bool | None:
        value = self._get(field, required)
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.fail(field, "must be a boolean", "type_error")
            return None
        return value

    def integer(
        self,
        field: str,
        *,
        required: bool = False,
        low: int | None = None,
        high: int | None = None,
        choices: Iterable[int] | None = None,
    ) -> int | None:
        value = self._get(field, required)
        if value is _MISSING:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, "must be an integer", "type_error")
            return None
        if choices is not None:
            allowed = list(choices)
            if value not in allowed:
                self.fail(field, f"must be one of {', '.join(str(c) for c in allowed)}")
                return None
        if not self._in_range(field, value, low, high):
            return None
        return value

    def number(
        self,
        field: str,
        *,
        required: bool = False,
        low: float | None = None,
        high: float | None = None,
    ) -> float | None:
        value = self._get(field, required)
        if value is _MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(field, "must be a number", "type_error")
            return None
        if not self._in_range(field, value, low, high):
            return None
        return float(value)

    def string_list(
        self,
        field: str,
        *,
        required: bool = False,
        max_items: int | None = None,
        min_items: int = 0,
    ) -> list[str] | None:
        value = self._get(field, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(field, "must be a list of strings", "type_error")
            return None
        if max_items is not None and len(value) > max_items:
            self.fail(field, f"at most {max_items} items allowed")
            return None
        if len(value) < min_items:
            self.fail(field, f"at least {min_items} items required")
            return None
        return list(value)

    def unknown(self, allowed: Iterable[str]) -> list[str]:
        known = set(allowed)
        return sorted(k for k in self.body if k not in known)


def decode_data_url(value: str) -> bytes | None:
    """Bytes of a ``data:...;base64,`` URL, or of bare base64; None when it is neither."""
    text = value
    if text.startswith("data:"):
        header, sep, text = text.partition(",")
        if not sep or ";base64" not in header:
            return None
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


IMAGE_MAGIC = {
    b"\x89PNG": "png",
    b"\xff\xd8\xff": "jpeg",
    b"RIFF": "webp",
    b"GIF8": "gif",
}


def image_kind(data: bytes) -> str | None:
    for magic, kind in IMAGE_MAGIC.items():
        if data.startswith(magic):
            if kind == "webp" and data[8:12] != b"WEBP":
                return None
            return kind
    return None
