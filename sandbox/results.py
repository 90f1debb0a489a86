"""The result files the services publish, and the presigned uploads they await; ``cdn.py``
serves both under ``/cdn``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .faults import NO_FAULTS, FaultSet
from .state import SandboxState


@dataclass
class ResultFile:
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


class ResultFiles:
    """Files by path below ``/cdn``, optionally behind short-lived signed URLs."""

    def __init__(self, base_url: str, state: SandboxState) -> None:
        self.base_url = base_url + "/cdn"
        self.state = state
        self._files: dict[str, ResultFile] = {}
        self._uploads: dict[str, Callable[[bytes], None]] = {}
        self._lock = threading.Lock()

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
                self._files[path] = ResultFile(producer, content_type, faults, signed)

    def url(self, path: str, expires_in: float = 0.0, expired: bool = False) -> str:
        """Public URL of a published file; signed files get a fresh signature each call."""
        with self._lock:
            item = self._files[path]
        full = self.base_url + path
        if not item.signed:
            return full
        wall = self.state.wall()
        expires = int(wall - 60) if expired else int(wall + expires_in)
        signature = self.state.sign(path, expires)
        return f"{full}?Expires={expires}&Signature={signature}"

    def file(self, path: str) -> ResultFile | None:
        with self._lock:
            return self._files.get(path)

    def accept_upload(self, path: str, receiver: Callable[[bytes], None]) -> str:
        """A one-time PUT URL; ``receiver`` gets the uploaded bytes."""
        with self._lock:
            self._uploads[path] = receiver
        return self.base_url + path

    def take_upload(self, path: str) -> Callable[[bytes], None] | None:
        with self._lock:
            return self._uploads.pop(path, None)
