"""``/cdn/...``: result files, optionally behind short-lived signed URLs, and presigned uploads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .faults import NO_FAULTS, FaultSet
from .http import Request, Response, file_response, json_response
from .service import Host, Service


@dataclass
class CdnFile:
    producer: Callable[[], bytes]
    content_type: str
    faults: FaultSet = NO_FAULTS
    signed: bool = False
    _data: bytes | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def data(self) -> bytes:
        # Files are built on first download (GLB edits, FBX conversion), then kept.
        with self._lock:
            if self._data is None:
                self._data = self.producer()
            return self._data


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    return Response(status, body, content_type="application/xml")


class Cdn(Service):
    name = "cdn"

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self._files: dict[str, CdnFile] = {}
        self._uploads: dict[str, Callable[[bytes], None]] = {}
        self._lock = threading.Lock()

    def credential(self, req: Request) -> str | None:
        # Result URLs are fetched without any key (signed or public URLs).
        return None

    def publish(
        self,
        path: str,
        producer: Callable[[], bytes],
        content_type: str,
        faults: FaultSet = NO_FAULTS,
        signed: bool = False,
    ) -> None:
        with self._lock:
            if path not in self._files:
                self._files[path] = CdnFile(producer, content_type, faults, signed)

    def url(self, path: str, expires_in: float = 0.0, expired: bool = False) -> str:
        """Public URL of a published file; signed files get a fresh signature each call."""
        with self._lock:
            item = self._files[path]
        full = f"{self.host.url}/cdn{path}"
        if not item.signed:
            return full
        wall = self.state.wall()
        expires = int(wall - 60) if expired else int(wall + expires_in)
        signature = self.state.sign(path, expires)
        return f"{full}?Expires={expires}&Signature={signature}"

    def accept_upload(self, path: str, receiver: Callable[[bytes], None]) -> str:
        with self._lock:
            self._uploads[path] = receiver
        return f"{self.host.url}/cdn{path}"

    def handle(self, req: Request) -> Response:
        if req.method == "PUT":
            with self._lock:
                receiver = self._uploads.pop(req.path, None)
            if receiver is None:
                return _s3_error(403, "AccessDenied", "Upload URL unknown or already used")
            receiver(req.body)
            return Response(200, b"", content_type="application/xml")
        if req.method != "GET":
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed")
        with self._lock:
            item = self._files.get(req.path)
        if item is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        if item.signed:
            try:
                expires = int(req.query.get("Expires", ""))
            except ValueError:
                return _s3_error(403, "AccessDenied", "Query-string authentication required")
            signature = req.query.get("Signature", "")
            if not self.state.check_signature(req.path, expires, signature):
                return _s3_error(403, "SignatureDoesNotMatch", "Signature does not match")
            if self.state.wall() > expires:
                return _s3_error(403, "AccessDenied", "Request has expired")
        return file_response(item.data(), item.content_type, faults=item.faults)

    def not_found(self) -> Response:
        return json_response(404, {"error": "not found"})
