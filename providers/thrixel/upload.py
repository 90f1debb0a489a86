"""The multipart/form-data body of a Phase 5 upload, streamed from disk with progress."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Mapping


class MultipartFile:
    """A multipart/form-data body streamed from disk: ``requests`` reads it in pieces and,
    because it has a length, sends a Content-Length instead of chunked encoding.

    Iterating again starts over, so a send that never connected can be repeated.
    """

    CHUNK = 1 << 20

    def __init__(self, fields: Mapping[str, str], file_field: str, path: str,
                 content_type: str = "application/octet-stream",
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.boundary = uuid.uuid4().hex
        self.path = path
        self.progress = progress
        parts = []
        for name, value in fields.items():
            parts.append(f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{value}\r\n".encode())
        filename = os.path.basename(path).replace('"', "_")
        parts.append(f'--{self.boundary}\r\nContent-Disposition: form-data; name="{file_field}";'
                     f' filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode())
        self.head = b"".join(parts)
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.file_size = os.path.getsize(path)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.head) + self.file_size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        total = len(self)
        sent = len(self.head)
        yield self.head
        with open(self.path, "rb") as f:
            while chunk := f.read(self.CHUNK):
                sent += len(chunk)
                if self.progress:
                    self.progress(sent, total)
                yield chunk
        yield self.tail
        if self.progress:
            self.progress(total, total)
