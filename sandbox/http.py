"""Request/response objects shared by the services, and small parsing helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from .faults import NO_FAULTS, FaultSet

JSON_TYPE = "application/json"


class Request:
    """One incoming request, with the path already stripped of its service prefix."""

    def __init__(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: dict[str, str],
        read_body: Callable[[int], bytes],
        content_length: int,
        base_url: str,
    ) -> None:
        self.method = method
        self.path = path
        self.query = {k: v[0] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        # Header names are case-insensitive; store them lower-cased.
        self.headers = {k.lower(): v for k, v in headers.items()}
        self._read_body = read_body
        self.content_length = content_length
        self._body: bytes | None = None
        self.base_url = base_url
        self.faults: FaultSet = NO_FAULTS
        self.params: dict[str, str] = {}

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def body(self) -> bytes:
        if self._body is None:
            self._body = self._read_body(self.content_length) if self.content_length else b""
        return self._body

    @property
    def body_consumed(self) -> bool:
        return self._body is not None

    def discard_body(self) -> None:
        """Drain an unread body without keeping it (used for refused large uploads)."""
        if self._body is None:
            remaining = self.content_length
            while remaining > 0:
                chunk = self._read_body(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            self._body = b""

    def bearer(self) -> str | None:
        value = self.header("Authorization")
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    def json(self) -> Any:
        """Parsed JSON body; raises ValueError on a body that is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = JSON_TYPE
    # A result file: download faults may damage it.
    is_file: bool = False
    # Faults recorded on the job the file belongs to (set by the service).
    file_faults: FaultSet = NO_FAULTS
    # Server-sent events or other streamed bodies; the connection closes afterwards.
    stream: Iterator[bytes] | None = None

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Response(status, body, list(headers or []))


def file_response(
    data: bytes, content_type: str, filename: str | None = None, faults: FaultSet = NO_FAULTS
) -> Response:
    headers = []
    if filename:
        headers.append(("Content-Disposition", f'attachment; filename="{filename}"'))
    return Response(200, data, headers, content_type, is_file=True, file_faults=faults)


Handler = Callable[[Request], Response]


class Router:
    """Method + path-pattern table; ``{name}`` segments match one path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "/?$"
        self._routes.append((method, re.compile(regex), handler))

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """Returns (handler, params, path_known). path_known without handler means 405."""
        path_known = False
        for route_method, regex, handler in self._routes:
            found = regex.match(path)
            if found:
                path_known = True
                if route_method == method:
                    return handler, found.groupdict(), True
        return None, {}, path_known


def parse_multipart(body: bytes, content_type_header: str) -> dict[str, tuple[str | None, bytes]]:
    """Parse multipart/form-data into {field: (filename or None, bytes)}.

    Raises ValueError when the body is not well-formed multipart.
    """
    match = re.search(r'boundary="?([^";]+)"?', content_type_header or "")
    if not match:
        raise ValueError("multipart body without a boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    parts = body.split(delimiter)
    if len(parts) < 3:
        raise ValueError("multipart body without parts")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in parts[1:]:
        if part.startswith(b"--"):
            break
        part = part[2:] if part.startswith(b"\r\n") else part
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("multipart part without headers")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        disposition = ""
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition":
                disposition = value
        name_match = re.search(r'\bname="([^"]*)"', disposition)
        if not name_match:
            raise ValueError("multipart part without a name")
        file_match = re.search(r'filename="([^"]*)"', disposition)
        fields[name_match.group(1)] = (file_match.group(1) if file_match else None, content)
    return fields
